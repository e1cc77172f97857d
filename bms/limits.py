# The charge/discharge limits policy: CVL, CCL, DCL, DVL for the Victron GX and the
# allow-to-charge / allow-to-discharge outputs, from configuration, the pack summary
# and the state machine's permissions. Integers only in the cycle (mV, 0.1 degC,
# results in the wire units 0.1 V and 0.1 A) so an update allocates nothing.
#
# Its parts (docs/charging.md has the numbers):
# - bms.derate: CCL and DCL as trapezoids of one table (highest/lowest cell, cold,
#   heat, SoC near the ends when known); a limit that reaches 0 stays 0 until its
#   quantity is back by a hysteresis, so it toggles at most once per end of charge;
# - CVL from bms.charge.ChargeControl (the caller passes its cvl_dv): the phases
#   and the cell-level controller that holds the highest cell at charge_cell_v
#   (float_cell_v in float) with CCL still non-zero;
# and applies here:
# - recovery ramps: a rising CCL/DCL climbs from 0 to its maximum in limit_ramp_s;
#   reductions are immediate;
# - never CVL = 0; to stop charging: CCL = 0 AND CVL = present pack voltage
#   (rounded up to the next 0.1 V) at the moment charging stops, or the controller's
#   lower value (a charger ignoring CCL must see CVL at or below the pack); while
#   stopped CVL follows the pack voltage down, never up (no ratchet with a charger
#   that regulates to CVL);
# - to stop discharging: DCL = 0, DVL stays the configured cut-off;
# - stale or missing measurements: CCL = DCL = 0, CVL at the last valid pack
#   voltage, reason STALE (the BMS-internal alarm on the GX).

from bms import units
from bms.derate import CCL, DCL, Derate
from bms.ticks import ticks_diff

# Why a limit is reduced (bit mask in Limits.reasons). The Victron alarm map
# (protocols/victron/alarms.py) turns the ones the GX should show into flags.
STALE = 0x01            # measurements stale or missing
NO_CHARGE = 0x02        # the state machine does not permit charging now
NO_DISCHARGE = 0x04     # ... nor discharging
FULL = 0x08             # highest cell reached charge_stop_cell_v: CCL 0 until it is back
TAPER = 0x10            # charge current tapered near the top
COLD_CHARGE = 0x20      # charging blocked or derated by cold
HOT_CHARGE = 0x40       # charging blocked or derated by heat
EMPTY = 0x80            # lowest cell reached discharge_cell_v (normal end of discharge)
LOW_TAPER = 0x100       # discharge current tapered near the bottom
HOT_DISCHARGE = 0x200   # discharging blocked or derated by heat

# (name, bit, severity for the GX: "alarm", "warning" or None = not signalled).
# Why each reason exists is host-side text: tools/texts/limits.py.
REASONS = (
    ("stale", STALE, "alarm"),
    ("no_charge", NO_CHARGE, None),
    ("no_discharge", NO_DISCHARGE, None),
    ("full", FULL, None),
    ("taper", TAPER, None),
    ("cold_charge", COLD_CHARGE, "warning"),
    ("hot_charge", HOT_CHARGE, "warning"),
    ("empty", EMPTY, None),
    ("low_taper", LOW_TAPER, None),
    ("hot_discharge", HOT_DISCHARGE, "warning"),
)


# Columns of a REASONS row.
R_NAME = 0
R_BIT = 1
R_SEVERITY = 2


def _da(amps):
    """A -> 0.1 A (the wire unit of CCL/DCL) via bms.units' mA, halves up."""
    return (units.ma(amps) + 50) // 100


MAX_STEP_MS = 5000   # a longer gap between updates ramps as if it were this long


def _ceil_div(a, b):
    return -((-a) // b)


class Limits:
    """Recomputed by update() once per cycle; read cvl_dv, ccl_da, dcl_da, dvl_dv
    (wire units: 0.1 V, 0.1 A), charge_allowed, discharge_allowed, reasons; and
    ccl_toggles / dcl_toggles (zero/non-zero changes, for the log and the bench)."""

    def __init__(self, cfg, series_cells, setting_units=None):
        if series_cells < 1:
            raise ValueError("series_cells must be at least 1")
        self.series = series_cells
        self.charge_mv = units.mv(cfg["charge_cell_v"])
        self.discharge_mv = units.mv(cfg["discharge_cell_v"])
        self.ccl_max = _da(cfg["max_charge_a"])
        self.dcl_max = _da(cfg["max_discharge_a"])
        self.ramp_ms = cfg["limit_ramp_s"] * 1000
        self.poll_ms = cfg["poll_ms"]
        self.derate = Derate(cfg, setting_units)  # bms.config.units(): see bms.checks
        # Fixed voltages in 0.1 V: the normal CVL rounds down, the DVL cut-off up.
        self.cvl_full_dv = self.charge_mv * series_cells // 100
        self.dvl_dv = _ceil_div(self.discharge_mv * series_cells, 100)
        # Outputs. Before the first update: nothing allowed, CVL at the cut-off.
        self.cvl_dv = self.dvl_dv
        self.ccl_da = 0
        self.dcl_da = 0
        self.charge_allowed = False
        self.discharge_allowed = False
        self.reasons = STALE
        self.ccl_toggles = 0
        self.dcl_toggles = 0
        self.v_last_mv = -1     # last valid pack voltage, -1 before the first
        self._stop_dv = -1      # CVL held since charging stopped, -1 while not stopped
        self._t = None
        self._rem = [0, 0]      # sub-0.1 A remainders of the two ramps
        self._table = [self.ccl_max, self.dcl_max]  # ramped table limits (0.1 A)

    def update(self, summary, charge_permitted, discharge_permitted, t_ms=None,
               soc_x100=None, cvl_dv=None):
        """One decision from a PackSummary and the permissions the caller got from
        machine.allows(P_CHARGE / P_DISCHARGE). t_ms: the cycle's ticks (None: one
        poll_ms after the last call); soc_x100 (0.01 %) when an SoC exists, else None;
        cvl_dv: bms.charge.ChargeControl's CVL, updated just before (None: the fixed
        series x charge_cell_v, with only the charge_stop_cell_v stop behind it)."""
        if t_ms is None:
            t_ms = 0 if self._t is None else self._t + self.poll_ms
        dt = 0 if self._t is None else ticks_diff(t_ms, self._t)
        if dt < 0:
            dt = 0
        elif dt > MAX_STEP_MS:
            dt = MAX_STEP_MS
        self._t = t_ms
        reasons = 0
        valid = summary.valid
        ccl = 0
        dcl = 0
        if valid:
            self.v_last_mv = summary.v_pack
            reasons |= self.derate.update(summary, soc_x100)
            f = self.derate.factor
            # The table's limits ramp up after a reduction; permission and fresh data
            # gate them as they are (a fault must stop at once, a boot need not wait).
            ccl = self._ramp(0, self.ccl_max * f[CCL] // 1000, self.ccl_max, dt)
            dcl = self._ramp(1, self.dcl_max * f[DCL] // 1000, self.dcl_max, dt)
        else:
            reasons |= STALE
        if not charge_permitted:
            reasons |= NO_CHARGE
            ccl = 0
        if not discharge_permitted:
            reasons |= NO_DISCHARGE
            dcl = 0
        if (ccl > 0) != (self.ccl_da > 0):
            self.ccl_toggles += 1
        if (dcl > 0) != (self.dcl_da > 0):
            self.dcl_toggles += 1
        self.ccl_da = ccl
        self.dcl_da = dcl
        if ccl > 0:
            self.cvl_dv = self.cvl_full_dv if cvl_dv is None else cvl_dv
            self._stop_dv = -1
        elif self.v_last_mv >= 0:
            # Stop: hold the present (or last valid) pack voltage, rounded up so the
            # target is not below the pack (an ESS Multi would discharge to it), or
            # the controller's lower CVL when the highest cell is above its target
            # (DC-coupled PV ignores CCL: CVL is the lever that stops it). While the
            # stop lasts the target may follow the pack down but never up: a charger
            # regulating to CVL plus a BMS that reads a little high would otherwise
            # ratchet CVL up 0.1 V per cycle.
            cvl = _ceil_div(self.v_last_mv, 100)
            if 0 <= self._stop_dv < cvl:
                cvl = self._stop_dv
            self._stop_dv = cvl
            if valid and cvl_dv is not None and cvl_dv < cvl:
                cvl = cvl_dv
            self.cvl_dv = cvl if cvl > 0 else self.dvl_dv
        else:
            self.cvl_dv = self.dvl_dv  # never measured: lowest real voltage, never 0
        self.charge_allowed = ccl > 0
        self.discharge_allowed = dcl > 0
        self.reasons = reasons
        return reasons

    def _ramp(self, k, target, full, dt):
        """The table's limit k after the recovery ramp: reductions at once, increases
        at most full / limit_ramp_s."""
        now = self._table[k]
        if target <= now or self.ramp_ms <= 0:
            self._rem[k] = 0
            now = target
        else:
            self._rem[k] += full * dt
            step = self._rem[k] // self.ramp_ms
            self._rem[k] -= step * self.ramp_ms
            now += step
            if now > target:
                now = target
        self._table[k] = now
        return now

    def soc_estimate_x100(self, summary):
        """Coarse SoC in 0.01 % from the average cell voltage, linear between
        discharge_cell_v (0 %) and charge_cell_v (100 %); None without valid data.
        Used only while no real SoC is known (see docs/victron-can.md)."""
        if not summary.valid:
            return None
        avg = summary.v_pack // self.series
        if avg <= self.discharge_mv:
            return 0
        if avg >= self.charge_mv:
            return 10000
        return (avg - self.discharge_mv) * 10000 // (self.charge_mv - self.discharge_mv)
