# Volts and degrees become integer mV and 0.1 degC in one place with one rounding
# rule (bms/units.py): the threshold checks and the limits policy must hold exactly
# what bms.units makes of a setting, including values a bare int() or round()
# would get wrong (4.1 V is 4099.999... mV as a float; halves of 0.1 degC below 0).

from bms import config, units
from bms import diagnosis as D
from bms.checks import LimitChecks
from bms.derate import CCL, Q_T_MIN, Q_V_MAX
from bms.limits import Limits

AWKWARD = {"cell_v_max": 4.1, "cell_v_high_warn": 4.095, "charge_cell_v": 4.09,
           "charge_stop_cell_v": 4.095,
           "charge_taper_cell_v": 3.995, "temp_min": -10.05, "charge_temp_min": -0.05,
           "temp_low_warn": -4.95}


def _threshold(checks, row):
    return [r[3] for r in checks.rows if r[0] == row][0]


def test_threshold_checks_convert_through_bms_units():
    cfg = config.make(AWKWARD)
    checks = LimitChecks(cfg, D.Diagnosis())
    assert _threshold(checks, D.CELL_OV) == units.mv(4.1) == 4100
    assert _threshold(checks, D.CELL_OV_WARN) == units.mv(4.095) == 4095
    assert _threshold(checks, D.TEMP_LOW) == units.dc(-10.05) == -101
    assert _threshold(checks, D.TEMP_LOW_WARN) == units.dc(-4.95) == -50
    assert _threshold(checks, D.DATA_STALE) == cfg["stale_ms"]


def test_limits_convert_through_bms_units():
    cfg = config.make(AWKWARD)
    lim = Limits(cfg, 12)
    assert lim.charge_mv == units.mv(4.09) == 4090
    # The taper and cold rows live in the derating table (bms.derate): (limit,
    # quantity, full, sign, span, ...), end of the ramp = full + sign * span.
    rows = dict(((r[0], r[1]), r) for r in lim.derate.rows)
    taper = rows[(CCL, Q_V_MAX)]
    assert taper[2] == units.mv(3.995) == 3995
    cold = rows[(CCL, Q_T_MIN)]
    assert cold[2] + cold[3] * cold[4] == units.dc(-0.05) == -1
    assert lim.ccl_max == units.ma(cfg["max_charge_a"]) // 100 == 500
