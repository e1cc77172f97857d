# The charge/discharge limits policy: CVL, CCL, DCL, DVL for the Victron GX and the
# allow-to-charge / allow-to-discharge outputs, from configuration, the pack summary
# and the state machine's permissions. Integers only in the cycle (mV, 0.1 degC,
# results in the wire units 0.1 V and 0.1 A) so an update allocates nothing.
#
# Rules (docs/victron-can.md has the numbers):
# - never CVL = 0; to stop charging: CCL = 0 AND CVL = present pack voltage
#   (rounded up to the next 0.1 V) at the moment charging stops; while stopped CVL
#   follows the pack voltage down, never up (no ratchet with a charger that
#   regulates to CVL);
# - to stop discharging: DCL = 0, DVL stays the configured cut-off;
# - stale or missing measurements: CCL = DCL = 0, CVL at the last valid pack
#   voltage, reason STALE (the BMS-internal alarm on the GX);
# - charge current tapers as the highest cell nears charge_cell_v, stops there and
#   resumes once it has dropped by limit_hysteresis_v; no charging below
#   charge_temp_min, derated up to charge_temp_full; derated above
#   charge_temp_derate, zero at charge_temp_max; the same for discharge heat.

from bms import units

# Why a limit is reduced (bit mask in Limits.reasons). The Victron alarm map
# (protocols/victron/alarms.py) turns the ones the GX should show into flags.
STALE = 0x01            # measurements stale or missing
NO_CHARGE = 0x02        # the state machine does not permit charging now
NO_DISCHARGE = 0x04     # ... nor discharging
FULL = 0x08             # highest cell reached charge_cell_v (normal end of charge)
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


def _ceil_div(a, b):
    return -((-a) // b)


def _scale(value, num, den):
    """value * num / den rounded down, integers only (never rounds a limit up)."""
    return value * num // den


class Limits:
    """Recomputed by update() once per cycle; read cvl_dv, ccl_da, dcl_da, dvl_dv
    (wire units: 0.1 V, 0.1 A), charge_allowed, discharge_allowed, reasons."""

    def __init__(self, cfg, series_cells):
        if series_cells < 1:
            raise ValueError("series_cells must be at least 1")
        self.series = series_cells
        mv = units.mv
        dc = units.dc
        self.charge_mv = mv(cfg["charge_cell_v"])
        self.taper_mv = mv(cfg["charge_taper_cell_v"])
        self.discharge_mv = mv(cfg["discharge_cell_v"])
        self.low_taper_mv = mv(cfg["discharge_taper_cell_v"])
        self.hyst_mv = mv(cfg["limit_hysteresis_v"])
        self.taper_floor_pct = cfg["taper_floor_pct"]
        self.ccl_max = _da(cfg["max_charge_a"])
        self.dcl_max = _da(cfg["max_discharge_a"])
        self.t_charge_min = dc(cfg["charge_temp_min"])
        self.t_charge_full = dc(cfg["charge_temp_full"])
        self.t_charge_derate = dc(cfg["charge_temp_derate"])
        self.t_charge_max = dc(cfg["charge_temp_max"])
        self.t_dis_derate = dc(cfg["discharge_temp_derate"])
        self.t_dis_max = dc(cfg["discharge_temp_max"])
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
        self.v_last_mv = -1     # last valid pack voltage, -1 before the first
        self._full = False
        self._empty = False
        self._stop_dv = -1      # CVL held since charging stopped, -1 while not stopped

    def update(self, summary, charge_permitted, discharge_permitted):
        """One decision from a PackSummary and the permissions the caller got from
        machine.allows(P_CHARGE / P_DISCHARGE)."""
        reasons = 0
        valid = summary.valid
        if valid:
            self.v_last_mv = summary.v_pack
        else:
            reasons |= STALE
        ccl = self.ccl_max
        dcl = self.dcl_max
        if not charge_permitted:
            reasons |= NO_CHARGE
            ccl = 0
        if not discharge_permitted:
            reasons |= NO_DISCHARGE
            dcl = 0
        if valid:
            ccl = self._charge(summary, ccl)
            reasons |= self._r
            dcl = self._discharge(summary, dcl)
            reasons |= self._r
        else:
            ccl = 0
            dcl = 0
        self.ccl_da = ccl
        self.dcl_da = dcl
        if ccl > 0:
            self.cvl_dv = self.cvl_full_dv
            self._stop_dv = -1
        elif self.v_last_mv >= 0:
            # Stop: hold the present (or last valid) pack voltage, rounded up so the
            # target is not below the pack (an ESS Multi would discharge to it).
            # While the stop lasts the target may follow the pack down but never up:
            # a charger regulating to CVL (DC-coupled PV ignores CCL) plus a BMS that
            # reads a little high would otherwise ratchet CVL up 0.1 V per cycle.
            cvl = _ceil_div(self.v_last_mv, 100)
            if 0 <= self._stop_dv < cvl:
                cvl = self._stop_dv
            self._stop_dv = cvl
            self.cvl_dv = cvl
        else:
            self.cvl_dv = self.dvl_dv  # never measured: lowest real voltage, never 0
        self.charge_allowed = ccl > 0
        self.discharge_allowed = dcl > 0
        self.reasons = reasons
        return reasons

    def _charge(self, s, ccl):
        r = 0
        v = s.v_max
        if v >= self.charge_mv:
            self._full = True
        elif v < self.charge_mv - self.hyst_mv:
            self._full = False
        if self._full:
            r |= FULL
            ccl = 0
        elif v > self.taper_mv and ccl > 0:
            # Linear from 100 % at taper_mv to taper_floor_pct at charge_mv.
            # (per mille first, so products stay small ints on a 32-bit board)
            f = 1000 - (1000 - 10 * self.taper_floor_pct) * (v - self.taper_mv) \
                // (self.charge_mv - self.taper_mv)
            ccl = _scale(ccl, f, 1000)
            r |= TAPER
        t = s.t_min
        if t < self.t_charge_min:
            ccl = 0
            r |= COLD_CHARGE
        elif t < self.t_charge_full:
            ccl = _scale(ccl, t - self.t_charge_min, self.t_charge_full - self.t_charge_min)
            r |= COLD_CHARGE
        t = s.t_max
        if t >= self.t_charge_max:
            ccl = 0
            r |= HOT_CHARGE
        elif t > self.t_charge_derate:
            ccl = _scale(ccl, self.t_charge_max - t, self.t_charge_max - self.t_charge_derate)
            r |= HOT_CHARGE
        self._r = r
        return ccl

    def _discharge(self, s, dcl):
        r = 0
        v = s.v_min
        if v <= self.discharge_mv:
            self._empty = True
        elif v > self.discharge_mv + self.hyst_mv:
            self._empty = False
        if self._empty:
            r |= EMPTY
            dcl = 0
        elif v < self.low_taper_mv and dcl > 0:
            f = 1000 - (1000 - 10 * self.taper_floor_pct) * (self.low_taper_mv - v) \
                // (self.low_taper_mv - self.discharge_mv)
            dcl = _scale(dcl, f, 1000)
            r |= LOW_TAPER
        t = s.t_max
        if t >= self.t_dis_max:
            dcl = 0
            r |= HOT_DISCHARGE
        elif t > self.t_dis_derate:
            dcl = _scale(dcl, self.t_dis_max - t, self.t_dis_max - self.t_dis_derate)
            r |= HOT_DISCHARGE
        self._r = r
        return dcl

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
