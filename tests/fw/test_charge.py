# Charge phases as data and the cell-level CVL controller (both runtimes).
# A tiny pack model stands in for a charger regulating to CVL: the cells follow the
# pack terminal voltage with a fixed imbalance, so the tests see what the GX would.

from bms import charge as C
from bms import config
from bms.charge import ChargeControl
from tests.fw.victron_support import summary_of

CELLS = 12
CFG = config.make()


def _ctl(overrides=None):
    return ChargeControl(config.make(overrides), CELLS)


def _summary(cells):
    return summary_of(cells, [250] * 4)


def test_phases_are_data_and_every_transition_names_known_phases():
    assert [p[0] for p in C.PHASES] == ["bulk", "absorption", "float"]
    for frm, cond, to in C.TRANSITIONS:
        assert 0 <= frm < len(C.PHASES) and 0 <= to < len(C.PHASES) and frm != to
        assert 0 <= cond < len(C.CONDITION_NAMES)
        assert C.PHASES[to][1] in CFG
    assert C.phase_name(C.FLOAT) == "float"


def test_bulk_sends_series_times_charge_cell_v_far_from_the_target():
    ctl = _ctl()
    ctl.update(0, _summary([3700] * CELLS))
    assert ctl.phase == C.BULK and ctl.cvl_dv == 492 and ctl.phase_changes == 0


def _charge(ctl, cells, t, seconds, step_ms=250, gain_mv=None, current_ma=None, follow=True,
            imbalance=None):
    """A charger regulating to CVL: each cell moves towards its share of CVL, at most
    gain_mv per step (how fast the pack can follow). Returns (t, highest seen)."""
    highest = 0
    for _ in range(seconds * 1000 // step_ms):
        s = _summary(cells)
        ctl.update(t, s, current_ma)
        if s.v_max > highest:
            highest = s.v_max
        if follow:
            avg_target = ctl.cvl_mv // CELLS
            avg = sum(cells) // CELLS
            d = avg_target - avg
            if gain_mv is not None:
                d = max(-gain_mv, min(gain_mv, d))
            for i in range(CELLS):
                cells[i] += d
        t += step_ms
    return t, highest


def test_highest_cell_settles_at_the_target_without_overshoot_when_imbalanced():
    ctl = _ctl()
    cells = [3990] * CELLS
    cells[4] = 4060          # 70 mV above the rest
    t, highest = _charge(ctl, cells, 0, 900, gain_mv=2)
    s = _summary(cells)
    assert highest <= 4100, highest
    assert 4090 <= s.v_max <= 4100, s.v_max
    assert ctl.cvl_mv <= s.v_pack + 12 * (4100 - s.v_max) + 100
    assert ctl.cvl_dv < 492, "an imbalanced pack is held below series x target"
    assert ctl.phase == C.ABSORPTION


def test_cvl_is_rate_limited_up_and_falls_as_fast_as_the_cell_needs():
    ctl = _ctl()
    cells = [4050] * CELLS
    ctl.update(0, _summary(cells))
    first = ctl.cvl_mv
    cells[0] = 4120                     # a cell jumps over its target
    ctl.update(250, _summary(cells))
    assert ctl.cvl_mv < _summary(cells).v_pack, "below the pack at once"
    assert ctl.cvl_mv < first
    low = ctl.cvl_mv
    cells[0] = 4050
    ctl.update(500, _summary(cells))
    assert ctl.cvl_mv - low <= C.CVL_RISE_MV_S * CELLS // 4 + 1, "rise limited"


def test_cvl_never_zero_never_above_the_bound_never_far_below_the_pack():
    ctl = _ctl()
    t = 0
    for mv in (2600, 3000, 3500, 3900, 4100, 4150, 4250, 3700):
        for k in range(40):
            cells = [mv] * CELLS
            cells[k % CELLS] = mv + 30
            s = _summary(cells)
            ctl.update(t, s)
            t += 250
            assert 0 < ctl.cvl_dv <= 492
            assert ctl.cvl_mv >= min(s.v_pack - CELLS * C.BELOW_PACK_MAX_MV, 49200) \
                or ctl.cvl_mv == ctl.floor_mv


def test_cvl_does_not_ratchet_behind_a_charger_that_regulates_to_it():
    # The charger holds the pack at CVL and the BMS reads 5 mV/cell high: CVL must
    # settle, not climb 0.1 V per cycle.
    ctl = _ctl()
    cells = [4095] * CELLS
    t = 0
    peak = 0
    for _ in range(2000):
        ctl.update(t, _summary(cells))
        peak = max(peak, ctl.cvl_mv)
        cells = [ctl.cvl_mv // CELLS + 5] * CELLS
        t += 250
    assert max(cells) <= 4100 + 5
    assert peak <= 49200


def test_absorption_ends_in_float_on_tail_current_and_spread():
    ctl = _ctl({"absorption_hold_s": 60})
    cells = [4100] * CELLS
    t = 0
    ctl.update(t, _summary(cells), 20000)
    assert ctl.phase == C.ABSORPTION and ctl.phase_changes == 1
    t, _ = _charge(ctl, cells, t + 250, 30, current_ma=20000, follow=False)
    assert ctl.phase == C.ABSORPTION, "current still above the tail"
    t, _ = _charge(ctl, cells, t, 59, current_ma=3000, follow=False)
    assert ctl.phase == C.ABSORPTION
    t, _ = _charge(ctl, cells, t, 2, current_ma=3000, follow=False)
    assert ctl.phase == C.FLOAT and ctl.full_charges == 1 and ctl.phase_changes == 2
    assert ctl.cvl_mv <= 12 * 4100 and ctl.target_mv[ctl.phase] == 4000
    # float pulls CVL down, but never far below the pack (an ESS Multi would discharge)
    assert ctl.cvl_mv >= 12 * 4100 - 12 * C.BELOW_PACK_MAX_MV


def test_without_current_absorption_ends_after_its_time():
    ctl = _ctl({"absorption_hold_s": 60, "absorption_max_s": 600})
    cells = [4100] * CELLS
    t, _ = _charge(ctl, cells, 0, 300 + 59, follow=False)
    assert ctl.phase == C.ABSORPTION, "tail assumed only after half of absorption_max_s"
    t, _ = _charge(ctl, cells, t, 2, follow=False)
    assert ctl.phase == C.FLOAT and ctl.full_charges == 1


def test_spread_keeps_absorbing_until_the_cap():
    ctl = _ctl({"absorption_hold_s": 60, "absorption_max_s": 600, "full_charge_days": 0})
    cells = [4040] * CELLS
    cells[0] = 4100              # 60 mV spread: not balanced
    t, _ = _charge(ctl, cells, 0, 599, current_ma=1000, follow=False)
    assert ctl.phase == C.ABSORPTION
    t, _ = _charge(ctl, cells, t, 2, current_ma=1000, follow=False)
    assert ctl.phase == C.FLOAT and ctl.full_charges == 0, "absorbed, not full"


def test_rebulk_by_voltage_or_soc_after_a_hold():
    ctl = _ctl({"absorption_hold_s": 10})
    cells = [4100] * CELLS
    t, _ = _charge(ctl, cells, 0, 12, current_ma=0, follow=False)
    assert ctl.phase == C.FLOAT
    cells = [3940] * CELLS
    t, _ = _charge(ctl, cells, t, 29, follow=False)
    assert ctl.phase == C.FLOAT, "a load step is not a re-bulk"
    t, _ = _charge(ctl, cells, t, 2, follow=False)
    assert ctl.phase == C.BULK
    ctl = _ctl({"absorption_hold_s": 10})
    cells = [4100] * CELLS
    t, _ = _charge(ctl, cells, 0, 12, current_ma=0, follow=False)
    assert ctl.phase == C.FLOAT
    for _ in range(130):
        ctl.update(t, _summary([3990] * CELLS), None, 8500)
        t += 250
    assert ctl.phase == C.BULK


def test_periodic_full_charge_leaves_float_and_absorbs_longer():
    ctl = _ctl({"absorption_hold_s": 10, "full_charge_days": 1, "absorption_max_s": 300})
    cells = [4100] * CELLS
    t, _ = _charge(ctl, cells, 0, 12, current_ma=0, follow=False)
    assert ctl.phase == C.FLOAT and not ctl.full_charge_pending
    float_cells = [4000] * CELLS
    for _ in range(86400 // 5 + 3):   # a day in float (5 s updates)
        ctl.update(t, _summary(float_cells), 0)
        t += 5000
    assert ctl.full_charge_pending and ctl.phase == C.BULK
    cells = [4040] * CELLS
    cells[3] = 4100              # unbalanced: a due full charge keeps absorbing
    t, _ = _charge(ctl, cells, t, 600, current_ma=0, follow=False)
    assert ctl.phase == C.ABSORPTION, "the cap is 3 x absorption_max_s for a full charge"
    cells = [4095] * CELLS
    cells[3] = 4100
    t, _ = _charge(ctl, cells, t, 12, current_ma=0, follow=False)
    assert ctl.phase == C.FLOAT and not ctl.full_charge_pending and ctl.full_charges == 2


def test_a_full_charge_that_cannot_balance_ends_at_three_times_the_cap():
    ctl = _ctl({"absorption_hold_s": 10, "full_charge_days": 1, "absorption_max_s": 300})
    ctl.full_charge_pending = True
    cells = [4040] * CELLS
    cells[3] = 4100
    t, _ = _charge(ctl, cells, 0, 899, current_ma=0, follow=False)
    assert ctl.phase == C.ABSORPTION
    t, _ = _charge(ctl, cells, t, 3, current_ma=0, follow=False)
    assert ctl.phase == C.FLOAT and not ctl.full_charge_pending and ctl.full_charges == 0
    assert ctl.since_full_s < 10, "the next attempt is a full period away"


def test_stale_data_holds_everything():
    ctl = _ctl()
    ctl.update(0, _summary([4000] * CELLS))
    before = (ctl.cvl_dv, ctl.phase)
    ctl.update(250, summary_of([4150] * CELLS, [250] * 4, age=5000))
    assert (ctl.cvl_dv, ctl.phase) == before


def test_bad_series_count_is_refused():
    from tests.fw.support import raises
    raises(ValueError, ChargeControl, CFG, 0)


def test_config_orders_the_charge_thresholds():
    from tests.fw.support import raises
    raises(config.ConfigError, config.make, {"float_cell_v": 4.10})     # not below charge
    raises(config.ConfigError, config.make, {"rebulk_cell_v": 4.00})    # float would re-bulk
    raises(config.ConfigError, config.make, {"charge_stop_cell_v": 4.10})
    raises(config.ConfigError, config.make, {"charge_stop_cell_v": 4.21})  # past the fault
    raises(config.ConfigError, config.make, {"heater_hysteresis_c": 1.0})  # below the release
    raises(config.ConfigError, config.make, {"balance_band_v": 0.01})
    config.make({"full_charge_days": 0, "heater_enabled": True})
