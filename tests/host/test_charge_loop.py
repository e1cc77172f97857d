# Closed loop (issue 16): the plant driven by the charge pieces (bms.charge,
# bms.limits/bms.derate, bms.heater, bms.balancer), in process. The fast loop
# covers hours and days; the harness (the real application: state machine, Tesla
# bus, CAN) covers the disobedient charger, where the contactors must open.

from simulator import scenario
from simulator.charge_loop import FastLoop
from simulator.harness import Harness, run_scenario
from tools.e2e import with_sensor

CFG_MARGIN_MV = 10          # no cell ever above charge_cell_v + 10 mV
CELL_OV_MV = 4200           # the over-voltage fault (cell_v_max)


def _fast(name, seconds, dt_s=2.0, config=None, edit=None, **kw):
    s = scenario.load(name)
    if edit:
        edit(s)
    loop = FastLoop(s, config=config, dt_s=dt_s, **kw)
    return loop, loop.run(seconds)


def _common(loop, st):
    charge_mv = round(loop.cfg["charge_cell_v"] * 1000)
    assert st.max_cell_mv <= charge_mv + CFG_MARGIN_MV, st.max_cell_mv
    assert st.max_cell_mv < CELL_OV_MV
    for day, d in st.days.items():
        if d["full"]:
            assert d["float_s"] > 0, "day %d reached full but never float: %r" % (day, d)
        assert d["toggles"] <= 2, "CCL chatter on day %d: %r" % (day, d)  # one stop, one resume


def test_normal_day_holds_the_top_cell_and_floats():
    loop, st = _fast("normal", 86400)
    _common(loop, st)
    assert st.days[0]["full"] and st.float_s > 3 * 3600
    assert st.ccl_toggles == 0, "the top is held by CVL; CCL never needs to stop"
    assert [p for _t, p in loop.pieces.phase_log][:2] == [1, 2]  # absorption, float


def test_imbalanced_pack_charged_by_the_sun_never_overshoots():
    def sunny(s):
        s.profile["solar_w"] = 3000.0
    loop, st = _fast("imbalanced-pack", 4 * 3600, edit=sunny)
    _common(loop, st)
    s = loop.summary
    assert s.spread > 60, "the high cell is held at the target, the rest below it"
    assert loop.limits.cvl_dv < 492, "CVL below series x charge_cell_v for an imbalanced pack"
    assert loop.pieces.balancer.windows > 0 and st.bled_ah > 0, "top balancing at the top"


def test_without_current_sensor_the_top_is_held_too():
    loop, st = _fast("normal", 86400, use_current=False)
    _common(loop, st)
    assert st.float_s > 0


def test_mppt_ignoring_ccl_is_stopped_by_cvl():
    loop, st = _fast("mppt-ignores-ccl", 3 * 3600)
    _common(loop, st)
    assert st.days[0]["float_s"] > 3600


def test_cold_morning_heats_before_charging():
    loop, st = _fast("cold-charge", 3 * 3600, config={"heater_enabled": True})
    _common(loop, st)
    assert st.heater_s > 0 and st.first_charge_s is not None
    heat_on = loop.pieces.heater.runs
    assert heat_on >= 1
    # every charging second came after the pack was warmed past the cold stop
    assert st.first_charge_s > 1800
    assert st.ccl_toggles == 1, "CCL comes on once, when warm, and stays on"


def test_cold_morning_without_heater_never_charges():
    loop, st = _fast("cold-charge", 2 * 3600, config={"heater_enabled": False})
    assert st.first_charge_s is None and st.heater_s == 0
    assert st.ccl_toggles == 0


def test_week_days_reach_float_without_chatter():
    loop, st = _fast("week", 2 * 86400, dt_s=3.0)
    _common(loop, st)
    assert any(d["full"] for d in st.days.values())


def test_disobedient_charger_opens_the_contactors_before_hw_cov():
    s = scenario.load("disobedient-charger")
    h, rows = run_scenario(s, s.test_duration_s)
    opened = [r for r in rows if "cell_ov" in r["bms_faults"].split(";")]
    assert opened, "the over-voltage fault was raised"
    assert max(r["cell_v_max"] for r in rows) < h.cfg["hw_cov_v"]
    assert rows[-1]["pos"] == 0 and rows[-1]["bms_state"] == "Fault"
    assert all(r["bms_cvl_v"] <= 49.2 for r in rows), "CVL never above series x charge_cell_v"
    assert any("charge_overshoot" in r["bms_faults"] for r in rows), "the warning came first"


def test_harness_mppt_ignores_ccl_with_the_state_machine():
    s = scenario.load("mppt-ignores-ccl")
    h, rows = run_scenario(s, s.test_duration_s)
    assert max(r["cell_v_max"] for r in rows) <= 4.110
    assert not any("cell_ov" in r["bms_faults"].split(";") for r in rows)
    assert rows[-1]["bms_state"] == "Run" and rows[-1]["pos"] == 1
    assert h.fw.charge.phase_changes >= 1


def test_harness_heater_pin_drives_the_plant_pad_and_charging_waits():
    s = scenario.load("cold-charge")
    h = Harness(s, config={"heater_enabled": True})
    try:
        rows = h.run(60)
    finally:
        h.close()
    assert rows[-1]["heater"] == 1, "the board's heater output reaches the plant's pads"
    assert all(r["gx_ccl_a"] in (None, 0, 0.0) for r in rows), "no charge while cold"
    assert max(r["i_pack_a"] for r in rows) <= 0.05


def test_harness_balances_through_the_state_machine_and_the_tesla_boards():
    # Balancing at rest needs to know the pack rests: the current sensor as wired.
    s = with_sensor(scenario.load("imbalanced-pack"))
    h = Harness(s)
    h.fw.balancer.rest_ms = 5000       # rest detection shortened for the test
    try:
        rows = h.run(120)
    finally:
        h.close()
    states = [r["bms_state"] for r in rows]
    assert "Balance" in states
    bleeding = [r["bleeding"] for r in rows if r["bms_state"] == "Balance"]
    assert 1 in bleeding, "the high group's resistor is switched on by its board"
    assert h.fw.balancer.windows >= 1
    first_bleed = next(i for i, r in enumerate(rows) if r["bleeding"])
    assert rows[first_bleed]["t_s"] >= 5 + 3, "a settle window before the first bleed"
