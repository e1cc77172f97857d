# Physics sanity of the plant models: what a reviewer would check by hand.

import math

from simulator import cells
from simulator.cells import CellGroup, ocv, ocv_energy_wh
from simulator.contactors import NEGATIVE, POSITIVE, PRECHARGE, PowerPath
from simulator.pack_model import BALANCE_OHM, PackModel
from simulator import scenario
from simulator.clock import SimClock
from simulator.plant import Plant


def test_ocv_is_monotonic_and_has_a_flat_middle():
    socs = [k / 1000 for k in range(-50, 1101)]
    vs = [ocv(s) for s in socs]
    assert all(b > a for a, b in zip(vs, vs[1:]))
    assert abs(ocv(0.0) - 3.00) < 1e-9 and abs(ocv(1.0) - 4.17) < 1e-9
    # NCA: the middle is flatter than the ends (mV per % SoC).
    mid = (ocv(0.6) - ocv(0.4)) / 20
    low = (ocv(0.05) - ocv(0.0)) / 5
    assert mid < 10 and low > 2 * mid


def test_energy_balance_over_charge_and_discharge_within_one_percent():
    pack = PackModel(series=2, parallel=1, soc=0.3, self_discharge=False)
    stored0 = sum(ocv_energy_wh(0.0, g.soc, g.capacity_ah) for g in pack.groups)
    for current, seconds in ((80.0, 3 * 3600), (0.0, 3600), (-120.0, 2 * 3600), (0.0, 4 * 3600)):
        for _ in range(int(seconds / 10)):
            pack.step(10.0, current)
    stored1 = sum(ocv_energy_wh(0.0, g.soc, g.capacity_ah) for g in pack.groups)
    # Energy in at the terminals = change of chemical energy + heat.
    delta = stored1 - stored0
    moved = 80.0 * 3 * 50.0   # rough Wh throughput scale
    assert abs(pack.energy_in_wh - (delta + pack.heat_wh)) < 0.01 * moved
    assert pack.heat_wh > 0


def test_relaxation_after_a_load_step():
    g = CellGroup(0.5)
    for _ in range(600):
        g.step(1.0, -100.0, 25.0)
    under_load = g.v_term
    g.step(0.001, 0.0, 25.0)
    just_after = g.v_term
    for _ in range(3 * int(cells.TAU1_S)):
        g.step(1.0, 0.0, 25.0)
    rested = g.v_term
    # Instant jump by I*R0, then a slow recovery towards the OCV.
    assert just_after - under_load > 100.0 * g.r0 * 0.9
    assert rested > just_after + 0.003
    assert abs(rested - ocv(g.soc)) < 0.1 * (ocv(g.soc) - just_after) + 1e-4


def test_resistance_rises_in_the_cold_and_near_empty():
    g = CellGroup(0.5)
    assert g.r_series(0.0) > 2 * g.r_series(25.0)
    g.soc = 0.02
    assert g.r_series(25.0) > 1.5 * g.r0


def test_imbalance_grows_with_self_discharge_spread():
    def spread_after(sd_spread, days):
        p = PackModel(series=1, soc=0.6, self_discharge_spread=sd_spread, seed=3)
        for _ in range(int(days * 24)):
            p.step(3600.0, 0.0)
        lo, hi, _ = p.soc_stats()
        return hi - lo
    assert spread_after(0.0, 30) < 1e-9
    s30 = spread_after(0.5, 30)
    s60 = spread_after(0.5, 60)
    assert s30 > 0.001 and s60 > 1.8 * s30


def test_balancing_resistor_drains_the_right_charge():
    p = PackModel(series=1, soc=0.8, self_discharge=False)
    m = p.modules[0]
    m.bleed_mask = 0b000100
    before = [g.soc * g.capacity_ah for g in m.groups]
    v = m.groups[2].v_term
    for _ in range(3600):
        p.step(1.0, 0.0)
    after = [g.soc * g.capacity_ah for g in m.groups]
    drained = before[2] - after[2]
    expected = v / BALANCE_OHM          # Ah in one hour, at ~constant voltage
    assert abs(drained - expected) < 0.01 * expected
    assert abs(m.bleed_ah - drained) < 1e-6
    assert all(abs(before[k] - after[k]) < 1e-9 for k in (0, 1, 3, 4, 5))
    assert m.temp_c > 25.0              # the resistor's heat warms the module


def test_parallel_strings_share_current_by_impedance():
    p = PackModel(series=2, parallel=2, soc=0.5, self_discharge=False)
    for g in p.string_modules(1)[0].groups:
        g.r0 *= 3.0                      # a worse string takes less current
    currents, _v = p.split(100.0)
    assert abs(sum(currents) - 100.0) < 1e-9
    assert currents[0] > currents[1] > 0
    # Unequal strings at rest: a circulating current, net zero.
    p2 = PackModel(series=1, parallel=2, soc=0.5, self_discharge=False)
    for g in p2.string_modules(0)[0].groups:
        g.set_soc(0.7)
    currents, _v = p2.split(0.0)
    assert abs(currents[0] + currents[1]) < 1e-9 and currents[0] < -1.0


def test_precharge_time_constant_is_r_times_c_within_two_percent():
    path = PowerPath(precharge_ohm=47.0, bus_capacitance_f=0.0047, standby_ohm=None)
    path.set_coils(1, 1, 0)
    dt = 0.0005
    e = 100.0
    t = 0.0
    while not path.precharging():
        path.step(dt, e, 0.0)
        t += dt
    t0 = t
    while path.v_bus < e * (1 - math.exp(-1)):
        path.step(dt, e, 0.0)
        t += dt
    tau = t - t0
    assert abs(tau - 47.0 * 0.0047) < 0.02 * 47.0 * 0.0047
    assert abs(path.tau_s() - 47.0 * 0.0047) < 1e-12


def test_contactor_faults_and_opening_under_load():
    path = PowerPath()
    path.contactors[POSITIVE].coil_dead = True
    path.set_coils(1, 0, 1)
    for _ in range(100):
        path.step(0.01, 100.0, 0.005)
    assert path.positions() == (True, False, False)
    path = PowerPath()
    path.set_coils(1, 1, 0)
    for _ in range(300):
        path.step(0.01, 100.0, 0.005)
    path.set_coils(1, 0, 1)
    for _ in range(10):
        path.step(0.01, 100.0, 0.005)
    for _ in range(10):
        path.step(0.01, 100.0, 0.005, source_a=-50.0)
    assert path.mains_closed() and abs(path.pack_current + 50.0) < 1.0
    path.contactors[POSITIVE].welded = True
    path.set_coils(0, 0, 0)
    for _ in range(10):
        path.step(0.01, 100.0, 0.005, source_a=-50.0)
    assert path.positions() == (False, False, True)
    assert path.contactors[NEGATIVE].opened_under_load == 1
    assert path.contactors[PRECHARGE].opened_under_load == 0


def test_a_shorted_bus_never_precharges():
    path = PowerPath()
    path.short_ohm = 0.5
    path.set_coils(1, 1, 0)
    for _ in range(1000):
        path.step(0.01, 100.0, 0.005)
    assert path.v_bus < 0.05 * 100.0


def test_closing_main_positive_without_precharge_is_recorded():
    path = PowerPath()
    path.set_coils(1, 0, 1)
    for _ in range(10):
        path.step(0.01, 50.0, 0.005)
    assert path.mains_closed() and abs(path.max_close_dv - 50.0) < 1e-9
    path = PowerPath()
    path.set_coils(1, 1, 0)
    for _ in range(200):
        path.step(0.01, 50.0, 0.005)
    path.set_coils(1, 0, 1)
    for _ in range(10):
        path.step(0.01, 50.0, 0.005)
    assert path.mains_closed() and path.max_close_dv < 1.0


def test_soc_at_ocv_inverts_the_ocv_table_and_the_truth_has_the_usable_soc():
    for x in (0.0, 0.07, 0.33, 0.5, 0.91, 1.0):
        assert abs(cells.soc_at_ocv(cells.ocv(x)) - x) < 1e-9, x
    s = scenario.load("normal")
    plant = Plant(s, SimClock())
    e, f = plant.usable_window
    assert 0.0 < e < 0.1 and 0.9 < f < 1.0, (e, f)
    row = plant.truth_row()
    assert 0.0 < row["soc_usable"] < 1.0
    assert row["soc_usable"] == plant.pack.usable_soc(e, f)[0]
