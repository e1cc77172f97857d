# The limits policy: trapezoid derating, latched zeros with hysteresis, recovery
# ramps, cold block, heat, stale data, stop rules, never CVL = 0.

from bms import config
from bms import limits as L
from bms.charge import ChargeControl
from bms.limits import Limits
from bms.pack import PackSummary
from drivers.allow_outputs import AllowOutputs
from drivers.gpio import MemoryPin
from tests.fw.fake_pack import FakePack
from tests.fw.support import raises

CELLS = 12


def summary_of(cells, temps, age=0):
    # (not tests.fw.victron_support's: that loads the whole reporter into a 192K heap)
    s = PackSummary()
    s.update(FakePack(cells, temps, age), 0, 750)
    return s


def _lim(overrides=None, ramp=False):
    o = {} if ramp else {"limit_ramp_s": 0}
    o.update(overrides or {})
    return Limits(config.make(o), CELLS)


def _run(lim, mv=3700, dc=250, charge=True, discharge=True, vmax=None, vmin=None,
         tmin=None, tmax=None, age=0, ctl=None):
    cells = [mv] * CELLS
    if vmax is not None:
        cells[3] = vmax
    if vmin is not None:
        cells[7] = vmin
    temps = [dc] * 4
    if tmin is not None:
        temps[0] = tmin
    if tmax is not None:
        temps[1] = tmax
    s = summary_of(cells, temps, age)
    if ctl is None:
        lim.update(s, charge, discharge)
    else:
        lim.update(s, charge, discharge, None, None, ctl.update(lim._t or 0, s))
    return s


def test_normal_limits_from_config():
    lim = _lim()
    _run(lim)
    assert lim.cvl_dv == 492        # 4.10 V x 12 = 49.2 V
    assert lim.dvl_dv == 390        # 3.25 V x 12 = 39.0 V
    assert lim.ccl_da == 500 and lim.dcl_da == 1000
    assert lim.charge_allowed and lim.discharge_allowed and lim.reasons == 0


def test_charge_current_tapers_to_its_floor_at_the_target_and_keeps_charging():
    lim = _lim()
    seen = []
    for vmax in (3990, 4000, 4025, 4050, 4075, 4099, 4100, 4105):
        _run(lim, vmax=vmax)
        seen.append(lim.ccl_da)
    assert seen[0] == 500 and seen[1] == 500
    for a, b in zip(seen, seen[1:]):
        assert b <= a, seen
    assert seen[3] == 275, seen                   # halfway: 55 % of 50 A
    assert seen[-2] == seen[-1] == 50, seen  # floor 10 %, held to the stop
    assert lim.reasons & L.TAPER and lim.charge_allowed
    # at the target the CVL controller, not CCL = 0, holds the highest cell there
    ctl = ChargeControl(config.make(), CELLS)
    s = _run(lim, vmax=4100, ctl=ctl)
    assert lim.cvl_dv * 100 <= s.v_pack + 99 and lim.ccl_da == 50


def test_ccl_stops_only_past_charge_stop_cell_v_and_resumes_with_hysteresis():
    lim = _lim()
    s = _run(lim, vmax=4110)
    assert lim.ccl_da == 0 and lim.reasons & L.FULL and not lim.charge_allowed
    assert lim.cvl_dv * 100 <= s.v_pack + 99, "CVL at or below the pack while stopped"
    assert lim.dcl_da == 1000  # full does not stop discharging
    _run(lim, vmax=4100)
    _run(lim, vmax=4061)
    assert lim.ccl_da == 0, "resumes only limit_hysteresis_v below the stop"
    _run(lim, vmax=4059)
    assert lim.ccl_da > 0
    assert lim.ccl_toggles == 1  # stopped from the start, then on once


def test_recovery_ramps_and_reductions_are_immediate():
    lim = _lim(ramp=True)            # 60 s from 0 to 50 A, updates every 250 ms
    _run(lim, tmin=-10)
    assert lim.ccl_da == 0
    seen = []
    for _ in range(260):
        _run(lim)
        seen.append(lim.ccl_da)
    assert 0 < seen[0] <= 3, seen[:4]
    for a, b in zip(seen, seen[1:]):
        assert 0 <= b - a <= 3, (a, b)
    assert seen[-1] == 500 and seen[230] < 500
    _run(lim, tmax=450)
    assert lim.ccl_da == 250, "a reduction applies at once"
    assert lim.ccl_toggles == 1


def test_soc_tapers_the_ends_only_when_known():
    lim = _lim()
    s = summary_of([3900] * CELLS, [250] * 4)
    lim.update(s, True, True, soc_x100=9750)
    assert lim.ccl_da == 275 and lim.reasons & L.TAPER
    lim.update(s, True, True, soc_x100=500)
    assert lim.dcl_da == 550 and lim.reasons & L.LOW_TAPER
    lim.update(s, True, True, soc_x100=10000)
    assert lim.ccl_da == 50, "SoC alone never stops charging: the voltage rows do"
    lim.update(s, True, True)
    assert lim.ccl_da == 500 and lim.dcl_da == 1000


def test_stop_charging_holds_cvl_at_pack_voltage_never_below_never_zero():
    for mv in (3001, 3333, 3700, 3999):
        lim = _lim()
        s = _run(lim, mv=mv, charge=False)
        assert lim.ccl_da == 0 and lim.cvl_dv > 0
        assert lim.cvl_dv * 100 >= s.v_pack, (mv, lim.cvl_dv, s.v_pack)
        assert lim.cvl_dv * 100 - s.v_pack < 100, "not noticeably above either"
        assert lim.reasons & L.NO_CHARGE


def test_cold_blocks_charge_and_derates_up_to_ten_degrees():
    lim = _lim()
    _run(lim, tmin=-1)
    assert lim.ccl_da == 0 and lim.reasons & L.COLD_CHARGE
    assert lim.dcl_da == 1000, "cold stops charging, not discharging"
    _run(lim, tmin=0)
    assert lim.ccl_da == 0
    _run(lim, tmin=20)
    assert lim.ccl_da == 0, "resumes only temp_hysteresis_c above charge_temp_min"
    _run(lim, tmin=50)
    assert lim.ccl_da == 250 and lim.reasons & L.COLD_CHARGE
    _run(lim, tmin=100)
    assert lim.ccl_da == 500 and not lim.reasons & L.COLD_CHARGE


def test_heat_derates_charge_and_discharge():
    lim = _lim()
    _run(lim, tmax=450)
    assert lim.ccl_da == 250 and lim.reasons & L.HOT_CHARGE and lim.dcl_da == 1000
    _run(lim, tmax=500)
    assert lim.ccl_da == 0
    _run(lim, tmax=481)
    assert lim.ccl_da == 0, "latched until 2 degC back"
    _run(lim, tmax=550)
    assert lim.dcl_da == 500 and lim.reasons & L.HOT_DISCHARGE
    _run(lim, tmax=600)
    assert lim.dcl_da == 0 and lim.dvl_dv == 390
    assert lim.cvl_dv > 0


def test_discharge_stops_at_cut_off_with_dvl_kept():
    lim = _lim()
    _run(lim, vmin=3325)
    assert 500 < lim.dcl_da < 1000 and lim.reasons & L.LOW_TAPER
    _run(lim, vmin=3250)
    assert lim.dcl_da == 0 and lim.dvl_dv == 390 and lim.reasons & L.EMPTY
    assert not lim.discharge_allowed and lim.charge_allowed
    _run(lim, vmin=3290)
    assert lim.dcl_da == 0
    _run(lim, vmin=3310)
    assert lim.dcl_da > 0


def test_stale_data_zeroes_currents_and_holds_last_valid_voltage():
    lim = _lim()
    s = _run(lim, mv=3800)
    v_valid = s.v_pack
    _run(lim, mv=4200, age=5000)
    assert lim.ccl_da == 0 and lim.dcl_da == 0
    assert lim.reasons & L.STALE
    assert lim.cvl_dv == (v_valid + 99) // 100, "CVL stays at the last valid pack voltage"
    assert not lim.charge_allowed and not lim.discharge_allowed


def test_never_measured_sends_cut_off_voltage_not_zero():
    lim = _lim()
    assert lim.cvl_dv == lim.dvl_dv > 0 and lim.ccl_da == 0
    _run(lim, age=0x3FFFFFFF)
    assert lim.cvl_dv == lim.dvl_dv and lim.reasons & L.STALE


def test_fault_permissions_zero_both_currents():
    lim = _lim()
    s = _run(lim, charge=False, discharge=False)
    assert lim.ccl_da == 0 and lim.dcl_da == 0
    assert lim.cvl_dv * 100 >= s.v_pack > 0 and lim.dvl_dv == 390
    assert lim.reasons & L.NO_CHARGE and lim.reasons & L.NO_DISCHARGE


def test_no_sensor_stops_both_directions():
    lim = _lim()
    s = summary_of([3700] * CELLS, [-32768] * 4)
    lim.update(s, True, True)
    assert lim.ccl_da == 0 and lim.dcl_da == 0


def test_cvl_is_never_zero_over_a_sweep():
    lim = _lim()
    for mv in range(2500, 4300, 37):
        for dc in (-200, -5, 55, 250, 480, 700):
            for perm in ((True, True), (False, True), (True, False), (False, False)):
                for age in (0, 2000):
                    _run(lim, mv=mv, dc=dc, charge=perm[0], discharge=perm[1], age=age)
                    assert lim.cvl_dv > 0 and lim.dvl_dv > 0
                    assert 0 <= lim.ccl_da <= 500 and 0 <= lim.dcl_da <= 1000
                    assert lim.charge_allowed == (lim.ccl_da > 0)


def test_soc_estimate_is_coarse_and_bounded():
    lim = _lim()
    assert lim.soc_estimate_x100(summary_of([3250] * CELLS, [250])) == 0
    assert lim.soc_estimate_x100(summary_of([4100] * CELLS, [250])) == 10000
    mid = lim.soc_estimate_x100(summary_of([3675] * CELLS, [250]))
    assert 4900 <= mid <= 5100
    assert lim.soc_estimate_x100(summary_of([3700] * CELLS, [250], age=9999)) is None


def test_bad_series_count_is_refused():
    raises(ValueError, Limits, config.make(), 0)


def test_config_orders_the_thresholds():
    raises(config.ConfigError, config.make, {"charge_cell_v": 4.18})  # above high warning
    raises(config.ConfigError, config.make, {"charge_taper_cell_v": 4.12})
    raises(config.ConfigError, config.make, {"discharge_cell_v": 3.1})  # below low warning
    raises(config.ConfigError, config.make, {"charge_temp_max": 66.0})
    raises(config.ConfigError, config.make, {"charge_temp_min": 12.0})
    config.make({"max_charge_a": 0})  # a charge-less setup is allowed


def test_allow_outputs_follow_the_same_decision():
    history = []
    out = AllowOutputs(MemoryPin("charge", record=history), MemoryPin("discharge", record=history))
    lim = _lim()
    assert out.charge_pin.value() == 0 and out.discharge_pin.value() == 0
    _run(lim)
    out.update(lim)
    assert out.charge_pin.value() == 1 and out.discharge_pin.value() == 1
    _run(lim, tmin=-20)
    out.update(lim)
    assert out.charge_pin.value() == 0 and out.discharge_pin.value() == 1
    _run(lim, age=5000)
    out.update(lim)
    assert (out.charge_pin.value(), out.discharge_pin.value()) == (0, 0)
    out.block_all()
    assert out.changes == 3
    only = AllowOutputs(None, MemoryPin("d"))
    only.update(lim)


def test_stopped_cvl_never_ratchets_up_behind_a_charger_that_follows_it():
    # DC-coupled PV in ESS ignores CCL and regulates to CVL; if the BMS reads the
    # pack a little higher than the charger does, a naive "CVL = ceil(pack)" would
    # climb 0.1 V per cycle. The held target may only fall while stopped.
    lim = _lim()
    ctl = ChargeControl(config.make(), CELLS)
    s = _run(lim, mv=4050, vmax=4110, ctl=ctl)  # past the stop
    held = lim.cvl_dv
    assert lim.ccl_da == 0 and held * 100 <= s.v_pack + 99
    for _ in range(50):
        mv = (lim.cvl_dv * 100 + 60) // CELLS  # charger holds CVL; BMS reads +60 mV
        _run(lim, mv=mv, vmax=4110, ctl=ctl)
        assert lim.cvl_dv <= held, (lim.cvl_dv, held)
    _run(lim, mv=3990, vmax=4040, ctl=ctl)      # resumes: the controller raises CVL again
    assert lim.ccl_da > 0
    for _ in range(400):
        s = _run(lim, mv=3990, vmax=4040, ctl=ctl)
    assert lim.cvl_dv == 492, "far below the target: series x charge_cell_v"
    for _ in range(4):
        s = _run(lim, mv=4060, vmax=4100, ctl=ctl)
    assert lim.cvl_dv * 100 <= s.v_pack, "at the target: CVL holds the pack where it is"


def test_first_measurement_after_boot_is_not_held_at_the_cut_off():
    lim = _lim()
    assert lim.cvl_dv == lim.dvl_dv
    s = _run(lim, charge=False)
    assert lim.cvl_dv == (s.v_pack + 99) // 100
