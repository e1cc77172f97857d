# State of charge from the pack current, kept honest by small documented rules
# (docs/soc.md explains each and what the benchmark measures).
#
# Scale: the SoC reported is the usable charge between the two anchors the limits
# policy already defines: 0 % where discharge stops (lowest cell at discharge_cell_v),
# 100 % where charge stops (highest cell at charge_cell_v, current tapered). Inside,
# SoC is held in units of 1e-5 of the usable capacity (U_FULL = 100 %) and counted in
# integer mA*ms with a remainder, so a single-precision board loses nothing: one unit
# is capacity_As x 10 mA*ms exactly. Positive current = charging (Victron's sign).
#
# Rules, each with its own test (tests/fw/test_soc.py):
# 1 coulomb counting, charge efficiency applied to charging current;
# 2 rested-OCV: after soc_rest_s below soc_rest_a, pull the SoC towards the value the
#   lowest and highest cell give on the OCV table (pack_usable_u: the lowest cell says
#   what is left above the cut-off, the highest what fits below the charge target) by
#   a weight from the curve's steepness there (bms/ocv.py), again every soc_rest_s
#   while the rest lasts; the first rested reading after a start from OCV replaces
#   the start-up value (that may have been read under load);
# 2b loaded voltage (bms/soc_loaded.py; docs/soc.md rule 3b): until the capacity is
#   learned, V - I x R (R learned from current changes) bounds the SoC, and a start
#   from OCV or a narrow bound against the last anchor gives an early capacity;
# 3 full anchor: highest cell within _FULL_MARGIN_MV of charge_cell_v and the current
#   between -soc_rest_a and soc_full_taper_a for soc_anchor_s -> what the cells then
#   read (pack_usable_u) less the current's I x R: 98.5-100 %, not 100 % by decree;
# 4 empty anchor: the first reading with the lowest cell at or below discharge_cell_v,
#   not charging, is the cut-off (the limits latch DCL = 0 on that same reading). Under
#   load that voltage includes the I x R drop, so the anchor waits until the current
#   has rested EMPTY_SETTLE_MS (a charger's trickle below soc_full_taper_a counts as
#   rested) and takes the pack's OCV-table value then (a little
#   above 0 % after a heavy load); a settled value above EMPTY_MAX_U means a load surge
#   pulled a cell down, not empty: no anchor. If no rest comes within EMPTY_WAIT_MS, or
#   charging starts, it sets 0 % and that anchor does not count for capacity learning;
# 5 current offset: learned where the pack is known idle (resting after the empty
#   anchor, until the lowest cell has risen limit_hysteresis_v: the limits hold DCL at
#   0; resting after the full anchor, until the highest cell has fallen as much), not
#   mid-SoC, where a home pack below soc_rest_a mostly carries real current;
#   5b: and from two same-kind anchors >= _DRIFT_MIN_S apart (the drift between them);
# 6 capacity: the charge counted from one anchor to the other (no sensor gap between),
#   divided by the SoC span between the two anchors' values; SOH = learned / nominal.
# 7 zero at open contactors: while every contactor is open (the application says so,
#   open_sample()), no current can flow through the sensor, so the mean reading is its
#   offset: no rest or anchor needed (every boot, every Fault); weighed against an
#   offset known before by the number of readings. The learning (5-7): bms/soc_learn.py.
# The SoC reported (`shown`) follows the estimate: coulomb counting moves both; a
# correction moves `shown` at most soc_blend_pct_per_min and never against the sign
# of the current (no jump down while charging, no jump up while discharging); one
# held back that way is caught up by the count (`shown` stands still until the
# estimate reaches it). From a full anchor until the pack next discharges, `shown`
# goes to 100 % (blended), whatever the cells then read: full is what the GX is told
# when the charge ends, as a battery monitor synchronises; the estimate keeps the
# reading for the anchors and capacity learning, and `shown` rejoins it as the pack
# discharges.
# update() allocates nothing on MicroPython for packs up to ~2900 Ah usable.
# Saving and restoring this state: bms/soc_record.py.

from bms import ocv as O
from bms import soc_learn as L
from bms import soc_loaded as LV
from bms import units
from bms.ticks import ticks_add, ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

U_FULL = 100000
U_MIN = -10000          # the estimate may run past the anchors by 10 % before clipping
U_MAX = 110000
_STEP_MS = const(250)           # counting chunk: i x dt stays a small int on a 32-bit board
_I_CLAMP_MA = const(2000000)
MAX_DT_MS = 60000       # a longer gap between updates (a stalled loop, a clock jump)
                        # is counted as this, noted, and spoils capacity learning
_FULL_MARGIN_MV = const(10)
EMPTY_SETTLE_MS = 300000  # rest after the cut-off before the cells are read: NCA
                         # relaxes with a time constant of minutes, and 30 s after a
                         # 40 A load near empty the cells still read ~1 % low
EMPTY_WAIT_MS = 900000   # give up waiting for that rest: anchor at 0 % (not measured)
EMPTY_MAX_U = 10000      # a settled empty anchor reads at most 10 %
_OFFSET_SETTLE_MS = const(60000)
_DRIFT_MIN_S = const(20 * 3600)  # two same-kind anchors at least this far apart measure drift

# Where the SoC came from (SocEstimator.origin)
ORIGIN_NONE = 0         # no valid cell voltages yet: nothing to report
ORIGIN_RECORD = 1       # restored from the saved record
ORIGIN_OCV = 2          # no valid record at start: estimated from the cell voltage
ORIGIN_ANCHOR = 3       # set by a full or empty anchor since

A_NONE = 0
A_FULL = 1
A_EMPTY = 2

# The corrections as switches (SocEstimator(..., rules=)): the firmware runs with
# R_ALL; `pybms bench soc` switches each off in turn to show what it is worth, and
# rules=0 is a plain coulomb counter (start from OCV, count, nothing else).
R_OCV = 0x01        # rule 2: rested-OCV correction
R_FULL = 0x02       # rule 3: full anchor
R_EMPTY = 0x04      # rule 4: empty anchor
R_OFFSET = 0x08     # rule 5: offset learning at rest
R_LEARN = 0x10      # rule 6: capacity learning between anchors
R_BLEND = 0x20      # corrections reach the reported SoC blended (off: in one step)
R_DRIFT = 0x40      # rule 5b: offset from two anchors of the same kind
R_ZERO = 0x80       # rule 7: offset read while every contactor is open
R_LOADED = 0x100    # rule 2b: loaded voltage (OCV = V - I x R learned) bounds the SoC
R_EARLY_CAP = 0x200  # rule 2b: capacity from that bound before the first learn
R_ALL = 0x3FF


def _clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


class SocEstimator:
    def __init__(self, cfg, series_cells, curve=O.NCA, rules=R_ALL):
        if series_cells < 1:
            raise ValueError("series_cells must be at least 1")
        self.rules = rules
        self.series = series_cells
        self.curve = curve
        self.charge_mv = units.mv(cfg["charge_cell_v"])
        self.discharge_mv = units.mv(cfg["discharge_cell_v"])
        self.full_mv = self.charge_mv - _FULL_MARGIN_MV
        self.hyst_mv = units.mv(cfg["limit_hysteresis_v"])
        self.loss_pm = 1000 - int(cfg["soc_charge_efficiency_pct"] * 10 + 0.5)
        self.rest_ma = units.ma(cfg["soc_rest_a"])
        self.rest_ms = cfg["soc_rest_s"] * 1000
        self.taper_ma = units.ma(cfg["soc_full_taper_a"])
        self.anchor_ms = cfg["soc_anchor_s"] * 1000
        self.blend_u_per_min = int(cfg["soc_blend_pct_per_min"] * 1000 + 0.5)
        self.offset_max_ma = units.ma(cfg["soc_offset_max_a"])
        self.loaded_max_ma = units.ma(cfg["soc_loaded_max_a"])
        self.loaded_tol_mv = units.mv(cfg["soc_loaded_tol_v"])
        # The usable window of the OCV table: physical SoC at the two cut-offs.
        self.e_x100 = O.soc_x100(curve, self.discharge_mv)
        self.f_x100 = O.soc_x100(curve, self.charge_mv)
        if self.f_x100 - self.e_x100 < 1000:
            raise ValueError("charge_cell_v and discharge_cell_v leave under 10 % of the OCV table")
        nominal_as = cfg["module_capacity_ah"] * cfg["parallel_strings"] * 3600
        self.nominal_as = nominal_as * (self.f_x100 - self.e_x100) // 10000  # usable
        self.learned_as = 0
        self.set_capacity(self.nominal_as * cfg["soh_pct"] // 100)
        self.origin = ORIGIN_NONE
        self.from_ocv = False    # started from OCV (no record) and not anchored since
        self.soc_u = 0           # best estimate
        self.shown = 0           # what is reported: follows soc_u, blended
        self.full_shown = False  # 100 % shown since the full anchor, until a discharge
        self.offset_ma = 0       # learned sensor offset
        self.i_ma = 0            # newest corrected current
        self.anchor = A_NONE
        self.q_since_u = 0       # coulomb-only count since the last anchor
        self.learn_ok = False
        self.out_u = 0           # discharged since the last whole cycle
        self.cycles = 0          # equivalent full discharge cycles
        self.full_anchors = 0
        self.empty_anchors = 0
        self.learns = 0
        self.ocv_corrections = 0
        self.gaps = 0
        self.loaded_corrections = 0
        self.early_capacity = 0
        LV.reset(self)
        self._t = 0
        self._t_valid = False
        self._rem = 0
        self._loss_carry = 0
        self._blend_carry = 0
        self._resting = False
        self._rest_since = 0
        self._ocv_next = 0
        self._off_sum = 0
        self._off_n = -1              # -1: no rest window open, none just before
        self._off_start = 0
        self._off_half_n = 0
        self._off_half_sum = 0
        self._off_last = None         # the window just before: its second half's mean
        self.offset_unsteady = 0      # rest windows refused: the current was changing
        self._zero_sum = 0
        self._zero_n = 0
        self._zero_base = 0
        self.zero_learns = 0          # offsets taken with every contactor open
        self.zero_refused = 0         # readings too large to be an offset while open
        self._full_timing = False
        self._full_since = 0
        self._full_done = False
        self._empty_done = False
        self._empty_pending = False   # cut-off seen, waiting for the rest
        self._empty_cut = 0
        self._settle_timing = False
        self._settle_since = 0
        self.anchor_u = 0             # the SoC the last anchor set
        self.empty_rejected = 0       # cut-offs whose settled reading was not empty
        self._ocv_replace = False     # the next rested reading replaces the SoC
        self.drift_learns = 0
        self._since_s = 0             # seconds counted since the last anchor ...
        self._since_ms = 0
        self._since_known = False     # ... and whether that count is whole (no reboot)

    def set_capacity(self, cap_as):
        self.cap_as = cap_as
        self.unit_mams = cap_as * 10   # 1e-5 of the capacity in mA*ms
        self._rem = 0

    # --- what the firmware reads -----------------------------------------------------
    def soc_x100(self):
        """Reported SoC in 0.01 % (0..10000), or None before the first estimate."""
        if self.origin == ORIGIN_NONE:
            return None
        return (_clip(self.shown, 0, U_FULL) + 5) // 10

    def soh_pct(self):
        """Learned usable capacity / nominal usable capacity, or None until learned."""
        if not self.learned_as:
            return None
        return _clip(self.learned_as * 100 // self.nominal_as, 1, 100)

    def pack_usable_u(self, v_min, v_max):
        """Usable SoC (units of 1e-5, 0..U_FULL) of a rested pack from its lowest and
        highest cell: the lowest cell says how much can still be taken out before the
        cut-off, the highest how much can still go in before the charge target, so an
        imbalanced pack reads on the same scale the anchors define."""
        remaining = O.soc_x100(self.curve, v_min) - self.e_x100
        room = self.f_x100 - O.soc_x100(self.curve, v_max)
        if remaining <= 0:
            return 0
        if room <= 0:
            return U_FULL
        return remaining * U_FULL // (remaining + room)

    # --- one step -----------------------------------------------------------------------
    def update(self, t_ms, current_ma, current_ok, summary):
        """Advance to t_ms. current_ma: pack current (positive = charging) from the
        sensor, current_ok: the sensor's reading is valid; summary: PackSummary."""
        if self.origin == ORIGIN_NONE:
            self._t = t_ms
            self._t_valid = True
            if summary.valid:
                self.start_from_ocv(summary)
            return
        if not self._t_valid:  # first update after restore(): time starts now
            self._t = t_ms
            self._t_valid = True
        dt = ticks_diff(t_ms, self._t)
        self._t = t_ms
        if dt < 0:
            dt = 0
        elif dt > MAX_DT_MS:
            dt = MAX_DT_MS
            self.gaps += 1
            self.learn_ok = self.start_ok = False
        ms = self._since_ms + dt
        if ms >= 1000:
            self._since_s += ms // 1000
            ms %= 1000
        self._since_ms = ms
        if current_ok:
            i = _clip(current_ma - self.offset_ma, -_I_CLAMP_MA, _I_CLAMP_MA)
            i_prev = self.i_ma
            self.i_ma = i
            self._count(i, dt)
            self._rest(t_ms, current_ma, i, summary)
        else:
            # Unknown current: nothing to count (a sensor fault opens the contactors),
            # and the next capacity measurement would have a hole in it.
            i = 0
            self.i_ma = 0
            self.learn_ok = self.start_ok = False
            self._resting = False
            self._off_n = -1
        if summary.valid:
            self._anchors(t_ms, i, summary)
            if (self._resting and current_ok and self.rules & R_OCV
                    and ticks_diff(t_ms, self._ocv_next) >= 0):
                self._ocv_next = ticks_add(t_ms, self.rest_ms)
                self._correct_ocv(summary)
            if current_ok and self.rules & R_LOADED:
                LV.step(self, t_ms, i, i_prev, summary, self.rules & R_EARLY_CAP)
        self._blend(dt, i)

    def open_sample(self, raw_ma):
        """Rule 7: one valid reading (mA, before the learned offset) taken while every
        contactor has been open for a moment (the caller decides: the application
        after CONTACTORS_SETTLE_MS with all open). open_end() when one closes."""
        if self.offset_max_ma and self.rules & R_ZERO:
            L.zero_sample(self, raw_ma)

    def open_end(self):
        self._zero_n = 0
        self._zero_sum = 0

    def _count(self, i, dt):
        if i > 0 and self.loss_pm:
            x = i * self.loss_pm + self._loss_carry
            lost = x // 1000
            self._loss_carry = x - lost * 1000
            i -= lost
        unit = self.unit_mams
        while dt > 0:
            step = _STEP_MS if dt > _STEP_MS else dt
            dt -= step
            self._rem += i * step
            k = self._rem // unit
            if k:
                self._rem -= k * unit
                u = self.soc_u = _clip(self.soc_u + k, U_MIN, U_MAX)
                sh = self.shown + k
                # A correction that rule 8 kept from the shown SoC (it would have
                # moved against the current) is caught up by the count itself: while
                # the shown SoC is ahead of the estimate in the current's direction
                # it stands still until the estimate reaches it, never going back.
                if k > 0 and sh > u:
                    sh = u if u > self.shown else self.shown
                elif k < 0 and sh < u:
                    sh = u if u < self.shown else self.shown
                self.shown = _clip(sh, U_MIN, U_MAX)
                self.q_since_u += k
                if k < 0:
                    self.out_u -= k
                    if self.out_u >= U_FULL:
                        self.out_u -= U_FULL
                        self.cycles += 1

    def _rest(self, t_ms, raw_ma, i, s):
        if -self.rest_ma < i < self.rest_ma:
            if not self._resting:
                self._resting = True
                self._rest_since = t_ms
                self._ocv_next = ticks_add(t_ms, self.rest_ms)
                self._off_n = -1
            # Only where the pack is known to be idle: after the empty anchor, until
            # the lowest cell has risen limit_hysteresis_v, the limits hold DCL at 0,
            # so no load draws; after the full anchor, until the highest cell has
            # fallen limit_hysteresis_v, the charge control holds it at its target
            # and the sun carries the loads (a charge tail or a cloud's load changes:
            # the windows' steadiness test). Elsewhere "below soc_rest_a" in a home system is
            # mostly a load the sun half covers or a charger's constant-voltage tail:
            # real current (`pybms bench soc` measured such windows learning 0.3-1.2 A
            # of real current as offset). Offsets elsewhere: rule 5b (soc_learn.drift).
            if (self.offset_max_ma and self.rules & R_OFFSET and s.valid
                    and ticks_diff(t_ms, self._rest_since) >= _OFFSET_SETTLE_MS
                    and (self.anchor == A_EMPTY and self._empty_done
                         and s.v_min <= self.discharge_mv + self.hyst_mv
                         or self.anchor == A_FULL and self._full_done
                         and s.v_max >= self.full_mv - self.hyst_mv)):
                L.offset_sample(self, t_ms, raw_ma)
        else:
            self._resting = False
            self._off_n = -1

    def _correct_ocv(self, summary):
        if self._ocv_replace:
            # The start-up estimate may have been read under load: the first rested
            # reading replaces it.
            self._ocv_replace = False
            w = 1000
        else:
            # the steeper of the two cells' curve points: the cell near its end of
            # the curve is the one that decides the reading
            w = O.weight_pm(self.curve, summary.v_min)
            w2 = O.weight_pm(self.curve, summary.v_max)
            if w2 > w:
                w = w2
        u = self.pack_usable_u(summary.v_min, summary.v_max)
        self.soc_u += (u - self.soc_u) * w // 1000
        self.ocv_corrections += 1
        if self.anchor == A_NONE:
            # before the first anchor a rested reading is as good a point as the
            # start's: it measures the early capacity (rule 3b (a)) and is the point
            # the next measurement counts from
            if self.rules & R_EARLY_CAP:
                LV.from_start(self, u)
            LV.start(self, summary, u)

    def _anchors(self, t_ms, i, s):
        rules = self.rules
        # full: the charge target reached and the current tapered (or the charger idle)
        if not rules & R_FULL:
            pass
        elif s.v_max >= self.full_mv and -self.rest_ma < i < self.taper_ma:
            if not self._full_timing:
                self._full_timing = True
                self._full_since = t_ms
            elif not self._full_done and ticks_diff(t_ms, self._full_since) >= self.anchor_ms:
                self._full_done = True
                # The cells read, not 100 % by decree: with the highest cell up to
                # _FULL_MARGIN_MV under the target and the current's I x R (rule 3b's
                # R) in its voltage, a pack called full holds 98.5-100 % of what a
                # rest at the target would give; the capacity learned between anchors
                # (rules 3b, 7) would be low by that much.
                drop = i * self.r_uohm // 1000000 if self.r_n >= LV.R_MIN_N else 0
                self._anchor(A_FULL, self.pack_usable_u(s.v_min - drop, s.v_max - drop), True)
        else:
            self._full_timing = False
            if s.v_max < self.full_mv - self.hyst_mv:
                self._full_done = False
        # empty: the discharge cut-off reached while not charging ...
        if not rules & R_EMPTY:
            return
        if s.v_min <= self.discharge_mv and i < self.rest_ma:
            # The first reading at the cut-off, as the limits latch DCL = 0 on it.
            if not self._empty_done and not self._empty_pending:
                self._empty_pending = True
                self._empty_cut = t_ms
                self._settle_timing = False
        elif s.v_min > self.discharge_mv + self.hyst_mv and not self._empty_pending:
            self._empty_done = False
        # ... then read once the load is gone (the I x R drop is not charge)
        if self._empty_pending:
            # Settled: the load is gone. A charger's trickle below soc_full_taper_a
            # (the tail the full anchor also calls tapered) does not spoil the reading
            # (I x R under 5 A is a few mV), and one noisy sample above soc_rest_a is
            # not a charger starting: only a current above the taper ends the wait.
            if -self.rest_ma < i < self.taper_ma:
                if not self._settle_timing:
                    self._settle_timing = True
                    self._settle_since = t_ms
                elif ticks_diff(t_ms, self._settle_since) >= EMPTY_SETTLE_MS:
                    u = self.pack_usable_u(s.v_min, s.v_max)
                    if u <= EMPTY_MAX_U:
                        self._empty(u, True)
                    else:
                        # The rested pack is not near empty: a load surge pulled a
                        # cell down, not the end of the charge. No anchor.
                        self._empty_pending = False
                        self._empty_done = True
                        self.empty_rejected += 1
            else:
                self._settle_timing = False
                if i >= self.taper_ma or ticks_diff(t_ms, self._empty_cut) >= EMPTY_WAIT_MS:
                    self._empty(0, False)

    def _empty(self, u, measured):
        self._empty_pending = False
        self._empty_done = True
        self._anchor(A_EMPTY, u, measured)

    def _anchor(self, kind, u=U_FULL, measured=True):
        if measured and self.rules & R_EARLY_CAP and not self.learned_as:
            LV.from_start(self, u)
        if (measured and self.learn_ok and self.rules & R_LEARN and self.anchor != A_NONE
                and self.anchor != kind):
            span = abs(u - self.anchor_u)
            if span >= U_FULL // 2:
                L.capacity(self, abs(self.q_since_u) * self.cap_as // span)
        if (measured and self.learn_ok and self.rules & R_DRIFT and self.anchor == kind
                and self._since_known and self._since_s >= _DRIFT_MIN_S):
            L.drift(self, u)
        self._since_s = 0
        self._since_ms = 0
        self._since_known = True
        self.soc_u = u
        self.anchor_u = u
        if kind == A_FULL:
            self.full_anchors += 1
        else:
            self.empty_anchors += 1
        self.anchor = kind
        self.full_shown = kind == A_FULL
        self.q_since_u = 0
        self.learn_ok = measured
        # the capacity known now: what bound readings (rule 3b (b)) are weighed against
        self._cap0 = self.cap_as
        self._sig0 = self._b_sig = self.cap_sig_pm
        self.origin = ORIGIN_ANCHOR
        self.from_ocv = False

    def _blend(self, dt, i):
        if self.full_shown and i <= -self.rest_ma:
            self.full_shown = False     # discharging: the GX follows the estimate again
        diff = (U_FULL if self.full_shown else self.soc_u) - self.shown
        if diff == 0:
            self._blend_carry = 0
            return
        x = self.blend_u_per_min * dt + self._blend_carry
        most = x // 60000
        self._blend_carry = x - most * 60000
        step = _clip(diff, -most, most) if self.rules & R_BLEND else diff
        if (step < 0 and i >= self.rest_ma) or (step > 0 and i <= -self.rest_ma):
            return  # never against the current's sign
        self.shown += step

    # --- start --------------------------------------------------------------------------
    def start_from_ocv(self, summary):
        """No valid record: the SoC the lowest and highest cell give (rule 9), flagged."""
        self.soc_u = self.pack_usable_u(summary.v_min, summary.v_max)
        self.shown = self.soc_u
        self._ocv_replace = True
        if self.rules & R_EARLY_CAP:
            LV.start_span(self, summary)    # an imbalanced pack uses less (rule 9)
        LV.start(self, summary, self.soc_u)
        self.origin = ORIGIN_OCV
        self.from_ocv = True
        self.learn_ok = False

    def resume(self):
        """State restored from a record (bms.soc_record): time starts at the next update."""
        self.origin = ORIGIN_RECORD
        self._t_valid = False
        self._since_known = False   # the time since the anchor is not in the record
