# Balancing, generic over any bms.pack.Pack: which cells bleed, for how long, when.
#
# The rule (numbers in docs/charging.md):
# - only at the top, where cell voltage differences are SoC differences: the
#   highest cell at or above balance_v, AND the pack in absorption/float (`top`,
#   from bms.charge) or resting (|current| <= balance_rest_a for balance_rest_s;
#   without a current sensor only absorption and float count);
# - only when the caller's permission says so (machine.allows(P_BALANCE));
# - windows: SETTLE (every resistor off for SETTLE_MS, then one fresh reading
#   taken after that: voltages read while bleeding are wrong), then BLEED with each
#   chosen cell on for a time proportional to its excess; the window lasts as long
#   as the longest of them (WINDOW_MIN_MS..WINDOW_MAX_MS), so a large imbalance
#   bleeds 99 % of the time and the last millivolts are re-measured every minute;
# - target: the lowest cell + balance_band_v. A cell starts bleeding when it is more
#   than balance_start_v above the lowest, keeps going (hysteresis) while above the
#   target, and bleeds MS_PER_MV per mV of excess, at most WINDOW_MAX_MS;
# - never a cell at or below balance_floor_v; nothing in a module warmer than
#   balance_temp_max or with a failed thermistor.
# Plain inputs (the Pack, its summary, booleans, t_ms); 0 bytes per update.

from array import array

from bms import units
from bms.pack import TEMP_INVALID
from bms.ticks import ticks_diff

WINDOW_MIN_MS = 60000    # shortest bleed window
WINDOW_MAX_MS = 600000   # longest: a fresh measurement at least every 10 min
SETTLE_MS = 3000    # all resistors off this long before the planning reading
MS_PER_MV = 20000   # bleed time per mV of excess (capped by the window)
REST_MA = 2000      # the pack rests below this current ...
REST_MS = 600000    # ... held this long

IDLE = 0
SETTLE = 1
BLEED = 2
STATE_NAMES = ("idle", "settle", "bleed")

MAX_STEP_MS = 5000


class Balancer:
    """masks[m]: the bleed mask of module m (bit c = cell c of that module);
    state, wanted (balancing would help now: the caller may ask the state machine
    for its Balance state), bleeding (cells on now), windows (bleed windows run)."""

    def __init__(self, cfg, cell_count, cells_per_module, temps_per_module):
        if cells_per_module < 1 or cell_count % cells_per_module:
            raise ValueError("cell_count must be a multiple of cells_per_module")
        self.cells = cell_count
        self.cpm = cells_per_module
        self.tpm = temps_per_module
        self.modules = cell_count // cells_per_module
        self.gate_mv = units.mv(cfg["balance_v"])
        self.start_mv = units.mv(cfg["balance_start_v"])
        self.band_mv = units.mv(cfg["balance_band_v"])
        self.floor_mv = units.mv(cfg["balance_floor_v"])
        self.window_ms = WINDOW_MIN_MS   # this window's length (set by each plan)
        self.settle_ms = SETTLE_MS
        self.ms_per_mv = MS_PER_MV
        self.temp_max = units.dc(cfg["balance_temp_max"])
        self.rest_ma = REST_MA
        self.rest_ms = REST_MS
        self.renew_ms = cfg["balance_time_s"] * 500  # boards stop on their own timer
        self.masks = [0] * self.modules
        # Planned on-time of each cell this window, in 10 ms (at most WINDOW_MAX_MS
        # fits 16 bits): 2 bytes a cell where a list took 4, and it is the largest
        # single block the application makes (62 modules: 744 B instead of 1488 B),
        # the one that decides whether a fragmented 64 KB heap has room.
        self.bleed_10ms = array("H", bytes(2 * cell_count))
        self._chosen = bytearray(cell_count)  # bled in the last window (hysteresis)
        self.state = IDLE
        self.wanted = False
        self.bleeding = 0
        self.windows = 0
        self._since = 0
        self._sent = 0
        self._last_t = None
        self._rest = 0
        self._pack = None

    def update(self, t_ms, pack, summary, permitted, top, current_ma=None):
        """One decision after the summary was refreshed from `pack`. permitted: the
        state machine allows balancing; top: charge phase is absorption or float.
        Returns True when the caller should send masks now (pack.set_balance(masks),
        or pack.stop_balance() when bleeding == 0): a change or a renewal."""
        dt = 0 if self._last_t is None else ticks_diff(t_ms, self._last_t)
        if dt < 0:
            dt = 0
        elif dt > MAX_STEP_MS:
            dt = MAX_STEP_MS
        self._last_t = t_ms
        self._pack = pack
        if current_ma is not None and -self.rest_ma <= current_ma <= self.rest_ma:
            self._rest += dt
            if self._rest > self.rest_ms:
                self._rest = self.rest_ms
        else:
            self._rest = 0
        resting = current_ma is not None and self._rest >= self.rest_ms
        gate = summary.valid and summary.v_max >= self.gate_mv and (top or resting)
        self.wanted = gate and summary.spread > self.start_mv
        if not (gate and permitted):
            if self.state != IDLE:
                self.state = IDLE
                for i in range(self.cells):
                    self._chosen[i] = 0
            return self._set_masks(t_ms, -1)
        if self.state == IDLE:
            self.state = SETTLE
            self._since = t_ms
        elapsed = ticks_diff(t_ms, self._since)
        if self.state == BLEED and elapsed >= self.window_ms:
            self.state = SETTLE
            self._since = t_ms
            elapsed = 0
        if self.state == SETTLE:
            # Plan only on a reading taken after the resistors were off settle_ms.
            if elapsed >= self.settle_ms and pack.age_ms(t_ms) <= elapsed - self.settle_ms:
                if self._plan(pack, summary):
                    self.state = BLEED
                    self.windows += 1
                self._since = t_ms
                elapsed = 0
            else:
                return self._set_masks(t_ms, -1)
        if self.state != BLEED:
            return self._set_masks(t_ms, -1)
        return self._set_masks(t_ms, elapsed)

    def _plan(self, pack, s):
        lo = s.v_min
        target = lo + self.band_mv
        any_cell = False
        longest = WINDOW_MIN_MS
        for i in range(self.cells):
            v = pack.cell_mv(i)
            excess = v - target
            chosen = excess > 0 and v > self.floor_mv and \
                (v - lo > self.start_mv or self._chosen[i])
            if chosen:
                on = excess * self.ms_per_mv if excess < 1000 else WINDOW_MAX_MS
                if on > WINDOW_MAX_MS:
                    on = WINDOW_MAX_MS
                if on > longest:
                    longest = on
                self.bleed_10ms[i] = on // 10
                any_cell = True
            else:
                self.bleed_10ms[i] = 0
            self._chosen[i] = 1 if chosen else 0
        self.window_ms = longest
        return any_cell

    def _module_ok(self, pack, m):
        for j in range(m * self.tpm, (m + 1) * self.tpm):
            t = pack.temp_dc(j) if j < pack.temp_count() else TEMP_INVALID
            if t == TEMP_INVALID or t > self.temp_max:
                return False
        return True

    def _set_masks(self, t_ms, elapsed):
        """elapsed < 0: everything off. Else each chosen cell on while elapsed is
        within its planned time (and its module is cool enough)."""
        changed = False
        n = 0
        cpm = self.cpm
        for m in range(self.modules):
            mask = 0
            if elapsed >= 0 and self._module_ok(self._pack, m):
                base = m * cpm
                for c in range(cpm):
                    if elapsed < 10 * self.bleed_10ms[base + c]:
                        mask |= 1 << c
                        n += 1
            if mask != self.masks[m]:
                self.masks[m] = mask
                changed = True
        self.bleeding = n
        if changed or (n and ticks_diff(t_ms, self._sent) >= self.renew_ms):
            self._sent = t_ms
            return True
        return False
