# The integer conversions against the published floating-point formulas (host only:
# double precision and math.log).

import math

from bms.pack import TEMP_INVALID
from protocols.tesla import convert as C


def formula_temp(raw, offset=2, divisor=33046.0):
    """TeslaBMS: r = 1.78 / ((raw + offset) / divisor) - 3.57 kOhm, Steinhart-Hart."""
    r = (1.78 / ((raw + offset) / divisor) - 3.57) * 1000.0
    if r <= 0:
        return None
    ln = math.log(r)
    return 1.0 / (7.610373573e-4 + 2.728524832e-4 * ln + 1.022822735e-7 * ln ** 3) - 273.15


def test_table_is_the_formula_at_every_5_degrees():
    for i, raw in enumerate(C.RAW_AT_T):
        t = (C.T_FIRST_DC + i * C.T_STEP_DC) / 10
        # the tabulated count is the nearest integer: its temperature is within
        # half a count's worth of the grid point
        assert formula_temp(raw - 0.5) <= t + 0.01 and formula_temp(raw + 0.5) >= t - 0.01, t


def test_interpolation_error_is_within_a_quarter_degree():
    worst = 0.0
    for raw in range(C.RAW_MIN, C.RAW_MAX + 1):
        for ch, off, div in ((0, 2, 33046.0), (1, 9, 33068.0)):
            dc = C.temp_dc(raw, ch)
            if dc == TEMP_INVALID:
                assert ch == 1   # only channel 2's remapped edges may fall outside
                continue
            worst = max(worst, abs(dc / 10 - formula_temp(raw, off, div)))
    assert worst <= 0.25, worst


def test_outside_the_table_is_a_sensor_fault():
    for raw in list(range(0, C.RAW_MIN)) + list(range(C.RAW_MAX + 1, 16384)):
        assert C.temp_dc(raw) == TEMP_INVALID
    assert formula_temp(16474) is None or formula_temp(16474) > 1000  # shorted: r <= 0


def test_voltage_scales_match_the_published_factors():
    for raw in range(0, 16384, 7):
        assert abs(C.cell_mv(raw) - raw * 0.000381493 * 1000) <= 0.51
        assert abs(C.module_mv(raw) - raw * 0.002034609 * 1000) <= 0.51
