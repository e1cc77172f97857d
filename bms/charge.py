# Charge control: the charge phases as data, and the cell-level CVL controller.
#
# Phases (PHASES, TRANSITIONS below; docs/charging.md):
#   bulk        CVL aims at series x charge_cell_v; CCL comes from the limits table
#   absorption  the highest cell is held at charge_cell_v by the CVL controller
#   float       the highest cell is held at float_cell_v once full and balanced
# and back to bulk when the voltage (or SoC) falls below the re-bulk threshold, or
# from float when the periodic full charge is due.
#
# The CVL controller holds the HIGHEST CELL at the phase's cell target, whatever the
# spread: a charger regulating to CVL holds the pack terminal voltage, and raising
# the pack by series x d raises each cell by about d, so the CVL that puts the
# highest cell on target is v_pack + series x (target - v_max). Each update:
#   cvl = min(cvl + rise,                       rate limited up (smooth, damped)
#             v_pack + series x (target - v_max),   the highest cell's need (blended
#                               in from ENGAGE_MV below the target: far below it
#                               bulk sends series x target as a GX user expects)
#             series x (target + margin))       bounded
#   cvl = max(cvl, dvl, v_pack - series x 20 mV) never 0, never far below the pack
#   cvl = min(cvl, series x (charge_cell_v + margin))   the hard bound, in every phase
# Downward it moves as fast as the highest cell needs (that is the safe side). It
# cannot ratchet up behind a charger that regulates to it: it rises only while the
# highest cell is below its target, never above the bound.
#
# Plain inputs only (a PackSummary, numbers, t_ms); integers; 0 bytes per update.

from bms import units
from bms.ticks import ticks_diff

BULK = 0
ABSORPTION = 1
FLOAT = 2

# (name, config key of the per-cell CVL target); what each means is a comment here
# and docs/charging.md, not a column a board would hold in RAM.
PHASES = (
    ("bulk", "charge_cell_v"),         # charging at the current the limits allow
    ("absorption", "charge_cell_v"),   # constant voltage: the highest cell held at charge_cell_v
    ("float", "float_cell_v"),         # full and balanced: the highest cell held at float_cell_v
)

# Conditions, evaluated each update from plain inputs.
AT_TARGET = 0        # highest cell within CV_BAND_MV of charge_cell_v
FULL = 1             # tail current (or its time stand-in) and spread held absorption_hold_s
ABSORBED = 2         # absorption_max_s at the charge voltage (not during a full charge)
REBULK = 3           # highest cell below rebulk_cell_v (or SoC below rebulk_soc_pct)
FULL_CHARGE_DUE = 4  # full_charge_days since the last full charge
CONDITION_NAMES = ("at_target", "full", "absorbed", "rebulk", "full_charge_due")

# (from, condition, to): the first row whose condition holds fires.
TRANSITIONS = (
    (BULK, AT_TARGET, ABSORPTION),
    (ABSORPTION, FULL, FLOAT),
    (ABSORPTION, ABSORBED, FLOAT),
    (ABSORPTION, REBULK, BULK),
    (FLOAT, REBULK, BULK),
    (FLOAT, FULL_CHARGE_DUE, BULK),
)

CVL_MARGIN_MV = 0          # per cell: CVL never above series x (charge_cell_v + this)
CVL_RISE_MV_S = 2          # per cell: CVL rises at most this fast (falls as needed)
CV_BAND_MV = 15            # "at the charge voltage": highest cell within this of target
ENGAGE_MV = 60             # the cell-level bound blends in from this far below target
REBULK_HOLD_MS = 30000     # re-bulk condition must hold this long (a load step is not it)
BELOW_PACK_MAX_MV = 20     # per cell: CVL never more than this below the pack voltage
FULL_CHARGE_MAX_FACTOR = 3  # a due full charge may absorb up to 3 x absorption_max_s
MAX_STEP_MS = 5000         # longer gaps between updates count as this (no wind-up)


def phase_name(phase):
    return PHASES[phase][0]


class ChargeControl:
    """phase, phase_changes (counter the app logs), cause (the condition of the
    last change, CONDITION_NAMES), cvl_mv (internal, mV),
    cvl_dv (0.1 V, rounded down), full_charges (completed, an SoC anchor),
    full_charge_pending, since_full_s."""

    def __init__(self, cfg, series_cells):
        if series_cells < 1:
            raise ValueError("series_cells must be at least 1")
        self.series = series_cells
        self.target_mv = (units.mv(cfg["charge_cell_v"]), units.mv(cfg["charge_cell_v"]),
                          units.mv(cfg["float_cell_v"]))
        self.margin_mv = CVL_MARGIN_MV
        self.rise_mv_s = CVL_RISE_MV_S * series_cells
        self.tail_ma = units.ma(cfg["absorption_tail_a"])
        self.spread_mv = units.mv(cfg["absorption_spread_v"])
        self.hold_ms = cfg["absorption_hold_s"] * 1000
        self.absorb_max_s = cfg["absorption_max_s"]
        self.rebulk_mv = units.mv(cfg["rebulk_cell_v"])
        self.rebulk_soc = cfg["rebulk_soc_pct"] * 100
        self.full_every_s = cfg["full_charge_days"] * 86400
        self.floor_mv = units.mv(cfg["discharge_cell_v"]) * series_cells
        self.hard_cap_mv = series_cells * (self.target_mv[BULK] + self.margin_mv)
        self.phase = BULK
        self.phase_changes = 0
        self.cause = -1           # CONDITION index of the last phase change (-1: none)
        self.full_charges = 0
        self.full_charge_pending = False
        self.since_full_s = 0     # seconds counted in updates (ticks wrap after days)
        self.absorb_s = 0         # seconds in absorption at the charge voltage
        self.cvl_mv = -1          # -1 until the first valid summary
        self.cvl_dv = self.floor_mv // 100
        self._last_t = None
        self._ms = 0              # sub-second remainder of the day counters
        self._rise_rem = 0        # sub-mV remainder of the rate limit
        self._full_ms = 0         # how long the full condition has held
        self._rebulk_ms = 0

    def update(self, t_ms, summary, current_ma=None, soc_x100=None):
        """One decision; returns cvl_dv. current_ma (+ = charging) and soc_x100 are
        None when unknown. Stale data changes nothing (CVL holds)."""
        if self._last_t is None:
            dt = 0
        else:
            dt = ticks_diff(t_ms, self._last_t)
            if dt < 0:
                dt = 0
            elif dt > MAX_STEP_MS:
                dt = MAX_STEP_MS
        self._last_t = t_ms
        self._ms += dt
        secs = self._ms // 1000
        self._ms -= secs * 1000
        self.since_full_s += secs
        if self.since_full_s > 0x3FFFFFFF // 2:  # stay a small int (68 years)
            self.since_full_s = 0x3FFFFFFF // 2
        if self.full_every_s and self.since_full_s >= self.full_every_s:
            self.full_charge_pending = True
        if not summary.valid:
            return self.cvl_dv
        self._phase(dt, secs, summary, current_ma, soc_x100)
        self._cvl(dt, summary)
        return self.cvl_dv

    # --- phases ---------------------------------------------------------------------
    def _condition(self, c, s, current_ma, soc_x100):
        if c == AT_TARGET:
            return s.v_max >= self.target_mv[ABSORPTION] - CV_BAND_MV
        if c == FULL:
            return self._full_ms >= self.hold_ms
        if c == ABSORBED:
            limit = self.absorb_max_s
            if self.full_charge_pending:
                limit *= FULL_CHARGE_MAX_FACTOR
            return self.absorb_s >= limit
        if c == REBULK:
            return self._rebulk_ms >= REBULK_HOLD_MS
        return self.full_charge_pending  # FULL_CHARGE_DUE

    def _phase(self, dt, secs, s, current_ma, soc_x100):
        at_cv = s.v_max >= self.target_mv[ABSORPTION] - CV_BAND_MV
        if self.phase == ABSORPTION and at_cv:
            self.absorb_s += secs
            if current_ma is not None:
                tail = current_ma < self.tail_ma
            else:  # no sensor: assume the tail after half the absorption time
                tail = self.absorb_s * 2 >= self.absorb_max_s
            if tail and s.spread <= self.spread_mv:
                self._full_ms += dt
            else:
                self._full_ms = 0
        else:
            self._full_ms = 0
        low = s.v_max < self.rebulk_mv or (soc_x100 is not None and soc_x100 < self.rebulk_soc)
        self._rebulk_ms = self._rebulk_ms + dt if low else 0
        if self._rebulk_ms > REBULK_HOLD_MS:
            self._rebulk_ms = REBULK_HOLD_MS
        for frm, cond, to in TRANSITIONS:
            if frm == self.phase and self._condition(cond, s, current_ma, soc_x100):
                if frm == ABSORPTION and cond == FULL:
                    self.full_charges += 1
                    self.since_full_s = 0
                    self.full_charge_pending = False
                elif frm == ABSORPTION and cond == ABSORBED and self.full_charge_pending:
                    # One long attempt per period: a pack that cannot balance is not
                    # held at the charge voltage for hours every day.
                    self.since_full_s = 0
                    self.full_charge_pending = False
                if to == BULK and cond == FULL_CHARGE_DUE:
                    self.full_charge_pending = True
                self.phase = to
                self.cause = cond
                self.phase_changes += 1
                self.absorb_s = 0
                self._full_ms = 0
                self._rebulk_ms = 0
                break

    # --- CVL ------------------------------------------------------------------------
    def _cvl(self, dt, s):
        series = self.series
        target = self.target_mv[self.phase]
        cap = series * (target + self.margin_mv)
        err = target - s.v_max
        bound = s.v_pack + series * err
        if err >= ENGAGE_MV:
            bound = cap   # bulk, far from the target: CVL at series x target
        elif err > CV_BAND_MV and bound < cap:
            # blend into the cell-level bound as the highest cell approaches: no step
            bound += (cap - bound) * (err - CV_BAND_MV) // (ENGAGE_MV - CV_BAND_MV)
        cvl = self.cvl_mv
        if cvl < 0:
            cvl = bound  # first valid data: where the highest cell needs it (capped below)
        elif err > 0:
            # Rise only while the highest cell is below its target: at or over it,
            # CVL may only fall (or be pulled up by the not-below-the-pack floor).
            self._rise_rem += self.rise_mv_s * dt
            rise = self._rise_rem // 1000
            self._rise_rem -= rise * 1000
            cvl += rise
        else:
            self._rise_rem = 0
        if cvl > bound:
            cvl = bound
            self._rise_rem = 0
        if cvl > cap:
            cvl = cap
        # Not far below the pack (an ESS Multi discharges to reach a low CVL), never
        # below the cut-off, and in no case above the charge target's bound.
        lo = s.v_pack - series * BELOW_PACK_MAX_MV
        if lo < self.floor_mv:
            lo = self.floor_mv
        if cvl < lo:
            cvl = lo
        if cvl > self.hard_cap_mv:
            cvl = self.hard_cap_mv
        self.cvl_mv = cvl
        self.cvl_dv = cvl // 100
