# Current limits as trapezoids (foxBMS-style state of function), one table for CCL
# and DCL. Each row derates one limit by one quantity:
#
#   factor 1000 (per mille)          full side of `full`
#   linear down to `end_pct`         between `full` and `end`
#   held at `end_pct`                between `end` and `zero`
#   0, latched                       at or beyond `zero`, until the quantity is back
#                                    by `hyst` on the full side of `zero`
#
# The limit's factor is the lowest of its rows. A zero is latched with hysteresis so
# no limit goes zero/non-zero more than once per end of charge or discharge (the
# recovery ramp is the caller's: bms.limits). Integers only: mV, 0.1 degC, 0.01 %
# SoC; an update allocates nothing.

from bms import units
from bms.checks import config_units

CCL = 0
DCL = 1

# Quantities, by index into Derate.q (filled from the summary and SoC each update).
Q_V_MAX = 0     # highest cell, mV
Q_V_MIN = 1     # lowest cell, mV
Q_T_MIN = 2     # coldest sensor, 0.1 degC
Q_T_MAX = 3     # warmest sensor, 0.1 degC
Q_SOC = 4       # state of charge, 0.01 %; rows on it are skipped while SoC is unknown
QUANTITY_NAMES = ("v_max", "v_min", "t_min", "t_max", "soc")

# Reason bits (the same bits as bms.limits, which owns their names and severities).
R_TAPER = 0x10
R_FULL = 0x08
R_COLD_CHARGE = 0x20
R_HOT_CHARGE = 0x40
R_EMPTY = 0x80
R_LOW_TAPER = 0x100
R_HOT_DISCHARGE = 0x200

# (limit, quantity, full, end, zero, end_pct, hyst, derate reason, zero reason)
# full/end/zero/hyst: a config key, or a number already in the quantity's units
# (the SoC rows: CCL tapers from 95 % to the floor at 100 %, DCL from 10 % to 0 %);
# zero None: the row never reaches 0. end_pct: config key (percent) or a number.
TABLE = (
    (CCL, Q_V_MAX, "charge_taper_cell_v", "charge_cell_v", "charge_stop_cell_v",
     "taper_floor_pct", "limit_hysteresis_v", R_TAPER, R_FULL),
    (CCL, Q_T_MIN, "charge_temp_full", "charge_temp_min", "charge_temp_min",
     0, "temp_hysteresis_c", R_COLD_CHARGE, R_COLD_CHARGE),
    (CCL, Q_T_MAX, "charge_temp_derate", "charge_temp_max", "charge_temp_max",
     0, "temp_hysteresis_c", R_HOT_CHARGE, R_HOT_CHARGE),
    (CCL, Q_SOC, 9500, 10000, None,
     "taper_floor_pct", 0, R_TAPER, 0),
    (DCL, Q_V_MIN, "discharge_taper_cell_v", "discharge_cell_v", "discharge_cell_v",
     "taper_floor_pct", "limit_hysteresis_v", R_LOW_TAPER, R_EMPTY),
    (DCL, Q_T_MAX, "discharge_temp_derate", "discharge_temp_max", "discharge_temp_max",
     0, "temp_hysteresis_c", R_HOT_DISCHARGE, R_HOT_DISCHARGE),
    (DCL, Q_SOC, 1000, 0, None,
     "taper_floor_pct", 0, R_LOW_TAPER, 0),
)

T_CLAMP = 100000  # 0.1 degC: far beyond any threshold

_UNIT = {"V": units.mv, "C": units.dc, "%": lambda p: int(p) * 100}


def _value(cfg, units_by_key, key, quantity):
    if key is None:
        return None
    if not isinstance(key, str):
        return key
    return _UNIT[units_by_key[key]](cfg[key])


class Derate:
    """factor[CCL], factor[DCL] in per mille after update(); reasons as bits;
    zero_events counts each limit's entries into a latched zero."""

    def __init__(self, cfg, setting_units=None):
        u = config_units(setting_units)
        rows = []
        for limit, q, full, end, zero, pct, hyst, r_derate, r_zero in TABLE:
            f = _value(cfg, u, full, q)
            e = _value(cfg, u, end, q)
            z = _value(cfg, u, zero, q)
            h = _value(cfg, u, hyst, q)
            p = cfg[pct] if isinstance(pct, str) else pct
            sign = 1 if e > f else -1
            # Distances measured into the ramp (positive = worse), so one code path
            # serves rising (heat, high voltage) and falling (cold, low voltage) rows.
            span = (e - f) * sign
            zspan = -1 if z is None else (z - f) * sign
            rows.append((limit, q, f, sign, span, zspan, h, 10 * p, r_derate, r_zero))
        self.rows = tuple(rows)
        self.latched = bytearray(len(rows))
        self.q = [0] * len(QUANTITY_NAMES)
        self.factor = [0, 0]
        self.zero_events = [0, 0]
        self.reasons = 0

    def update(self, summary, soc_x100=None):
        """Factors from a valid PackSummary and the SoC (0.01 %, or None)."""
        q = self.q
        q[Q_V_MAX] = summary.v_max
        q[Q_V_MIN] = summary.v_min
        # PackSummary's "no valid sensor" extremes are +-(2**30 - 1): clamp them so the
        # distances below stay small ints (a big int allocates on MicroPython).
        t = summary.t_min
        q[Q_T_MIN] = t if t > -T_CLAMP else -T_CLAMP
        t = summary.t_max
        q[Q_T_MAX] = t if t < T_CLAMP else T_CLAMP
        has_soc = soc_x100 is not None
        if has_soc:
            q[Q_SOC] = soc_x100
        fac = self.factor
        fac[CCL] = 1000
        fac[DCL] = 1000
        reasons = 0
        latched = self.latched
        k = 0
        for limit, qi, full, sign, span, zspan, hyst, end_pml, r_derate, r_zero in self.rows:
            if qi == Q_SOC and not has_soc:
                k += 1
                continue
            d = (q[qi] - full) * sign
            if zspan >= 0:
                if d >= zspan:
                    if not latched[k]:
                        latched[k] = 1
                        self.zero_events[limit] += 1
                elif latched[k] and d < zspan - hyst:
                    latched[k] = 0
            if latched[k]:
                f = 0
                reasons |= r_zero
            elif d <= 0:
                f = 1000
            elif d < span:
                f = 1000 - (1000 - end_pml) * d // span
                reasons |= r_derate
            else:
                f = end_pml
                reasons |= r_derate
            if f < fac[limit]:
                fac[limit] = f
            k += 1
        self.reasons = reasons
        return reasons
