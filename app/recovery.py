# Automatic recovery from faults the diagnosis table marks RECOVERY = AUTO (comm
# loss, stale data, a board's transient fault): a loose connector at night must not
# leave a house without its battery until someone walks to the garage. A fault
# marked LATCH (cell over/under-voltage, over-temperature, contactor feedback,
# precharge failure, internal, ...) is never reset here: a dangerous fault never
# re-closes unattended.
#
# The rule: in Fault, when every fault seen since the last reset is AUTO, no fault
# row is active any more, and that has lasted auto_reset_after_ms, the application
# sends `reset` itself; at most auto_resets_per_day times in any 24 h (a ring of the
# last resets' ticks). Past that it latches: only an operator reset helps, and it
# also clears the count. Every automatic reset is counted (and persisted, and
# written to the event log as the `reset` event it is).

from bms import diagnosis as D
from bms.ticks import ticks_diff
from fsm.table import STATES

DAY_MS = 86400000
_FAULT = STATES.index("Fault")


class Recovery:
    def __init__(self, cfg):
        self.after_ms = cfg["auto_reset_after_ms"]
        self.per_day = cfg["auto_resets_per_day"]
        self.stamps = [0] * max(1, self.per_day)   # ticks of the last resets, a ring
        self.used = 0            # entries of `stamps` in use (<= per_day)
        self.next = 0
        self.seen = bytearray(D.COUNT)  # fault rows raised since the last reset
        self.count = 0           # automatic resets, all time (persisted)
        self.exhausted = False   # N reached: latched until an operator reset
        self._quiet_since = -1   # -1: a condition is present or not in Fault

    def saw(self, i):
        self.seen[i] = 1

    def latching(self, held):
        """True when a LATCH row was seen since the last reset or is held now."""
        for i in range(D.COUNT):
            if (self.seen[i] or held[i]) and D.ROWS[i][D.RECOVERY] == D.LATCH \
                    and i != D.FAULT_LATCHED:
                return True
        return False

    def _resets_in_last_day(self, t_ms):
        n = 0
        for k in range(self.used):
            if ticks_diff(t_ms, self.stamps[k]) < DAY_MS:
                n += 1
        return n

    def update(self, t_ms, machine, diag):
        """True when the application should reset now (the caller sends `reset`)."""
        if machine.state != _FAULT or self.per_day == 0 or self.exhausted:
            self._quiet_since = -1
            return False
        if self.latching(machine.faults) or diag.any_active(D.FAULT):
            self._quiet_since = -1
            return False
        if self._quiet_since < 0:
            self._quiet_since = t_ms
            return False
        if ticks_diff(t_ms, self._quiet_since) < self.after_ms:
            return False
        if self._resets_in_last_day(t_ms) >= self.per_day:
            self.exhausted = True
            return False
        self.stamps[self.next] = t_ms
        self.next = (self.next + 1) % len(self.stamps)
        if self.used < len(self.stamps):
            self.used += 1
        self.count += 1
        self._quiet_since = -1
        return True

    def reset_done(self):
        """The machine left Fault (by any reset): start a new record of causes."""
        for i in range(D.COUNT):
            self.seen[i] = 0

    def operator_reset(self):
        self.reset_done()
        self.exhausted = False
        self.used = 0
        self.next = 0
