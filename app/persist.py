# What the application keeps across a reset or power cut, in one fixed-size record
# written through an atomic A/B record store (drivers/storage.py's RecordStore:
# new copy into the older slot, checksummed, then the higher sequence is the
# switch; a torn write falls back to the last good copy):
#
#   the fault latch (in Fault, and the fault rows seen since the last reset), the
#   automatic-reset count and how many fell in the last day, boots, task errors,
#   faults, and the last HISTORY faults/resets with uptime (of the boot that saw
#   them), wall time (Unix seconds, UTC, when the board's clock was known then; 0
#   otherwise: drivers/wall_clock.py), detail (board, cell) and the value that tripped
#   them. The wall time is what makes an old fault's time readable after a reboot.
#
# A change of the latch is written at once (force); everything else at the store's
# own rate limit, to spare the flash. A watchdog reset or a power cut never clears
# a latched fault: on boot, restore() sends the machine back to Fault before
# anything can close. SoC and learned capacity keep their own record (bms/soc.py's).
#
# The store only needs load(buf) -> bool and save(payload, t_ms, force) -> bool.

from bms import diagnosis as D
from fsm.table import STATES

VERSION = 1
HISTORY = 4
H_FAULT = 0      # kinds of a history entry
H_AUTO_RESET = 1
H_OPERATOR_RESET = 2
_ENTRY = 16
_MASK_BYTES = 8  # up to 64 diagnosis rows
_HIST0 = 32
SIZE = _HIST0 + HISTORY * _ENTRY

_FAULT = STATES.index("Fault")


def _put32(buf, pos, v):
    v &= 0xFFFFFFFF
    buf[pos] = v >> 24
    buf[pos + 1] = (v >> 16) & 0xFF
    buf[pos + 2] = (v >> 8) & 0xFF
    buf[pos + 3] = v & 0xFF


def _get32(buf, pos):
    return (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]


def _signed32(v):
    return v - 0x100000000 if v & 0x80000000 else v


class Persist:
    def __init__(self, store, wall=None):
        if D.COUNT > 8 * _MASK_BYTES:
            raise ValueError("the persisted fault mask holds %d rows" % (8 * _MASK_BYTES))
        self.store = store
        self.wall = wall           # a drivers.wall_clock.WallClock or None (0 is stored)
        self.rec = bytearray(SIZE)
        self.latched = False       # as last written
        self.dirty = False
        self.boots = 0
        self.faults = 0
        self.restored = False
        self.next_entry = 0
        self.writes = 0

    # --- boot -----------------------------------------------------------------
    def restore(self, t_ms, app):
        """Read the record; honour a latch; count the boot (written at once)."""
        rec = self.rec
        if self.store.load(rec) and rec[0] == VERSION:
            self.restored = True
            self.boots = _get32(rec, 20)
            self.faults = _get32(rec, 28)
            app.task_errors_before = _get32(rec, 24)
            r = app.recovery
            r.count = _get32(rec, 10)
            n = min(rec[14], len(r.stamps))
            for k in range(n):       # resets of the last day: counted from this boot
                r.stamps[k] = t_ms
            r.used = n
            r.next = n % len(r.stamps)
            r.exhausted = rec[19] == 1
            self.next_entry = rec[15] % HISTORY
            if rec[1]:
                self._relatch(t_ms, app, rec)
        else:
            for k in range(SIZE):
                rec[k] = 0
            rec[0] = VERSION
        self.boots += 1
        self._fill(app)
        self._save(t_ms, True)

    def _relatch(self, t_ms, app, rec):
        m = app.machine
        for i in range(D.COUNT):
            if rec[2 + i // 8] & (1 << (i % 8)):
                app.recovery.saw(i)
                # Faults only an operator clears are held again as they were.
                if D.ROWS[i][D.CLEARS] == D.RESET and i != D.FAULT_LATCHED:
                    m.dispatch("fault", t_ms, {"diag": D.ROWS[i][D.ID]})
        m.dispatch("fault", t_ms, {"diag": D.ROWS[D.FAULT_LATCHED][D.ID]})
        self.latched = True

    # --- the loop ---------------------------------------------------------------
    def note_fault(self, i, t_ms, detail, summary):
        """A fault row turned active (from the diagnosis callback: no I/O here)."""
        q = D.ROWS[i][D.QUANTITY]
        value = getattr(summary, q) if q is not None and summary.valid else 0
        self._history(H_FAULT, i, t_ms, detail, value)
        self.faults += 1

    def note_reset(self, automatic, t_ms):
        self._history(H_AUTO_RESET if automatic else H_OPERATOR_RESET, 0xFF, t_ms, 0, 0)

    def _history(self, kind, row, t_ms, detail, value):
        rec = self.rec
        pos = _HIST0 + self.next_entry * _ENTRY
        rec[pos] = row
        rec[pos + 1] = kind
        rec[pos + 2] = (detail >> 8) & 0xFF
        rec[pos + 3] = detail & 0xFF
        _put32(rec, pos + 4, t_ms)
        # A fault is an event, not a pass: Unix seconds may be a big int here.
        wall = self.wall.unix_s(t_ms) if self.wall is not None else None
        _put32(rec, pos + 8, wall if wall is not None else 0)
        _put32(rec, pos + 12, value)
        self.next_entry = (self.next_entry + 1) % HISTORY
        self.dirty = True

    def latch_changed(self, t_ms, app):
        self.poll(t_ms, app)

    def poll(self, t_ms, app):
        """Write at once when the latch changed; otherwise at the store's rate."""
        latched = app.machine.state == _FAULT
        if latched != self.latched:
            self._fill(app)
            self._save(t_ms, True)
        elif self.dirty:
            self._fill(app)
            self._save(t_ms, False)

    def _fill(self, app):
        rec = self.rec
        r = app.recovery
        latched = app.machine.state == _FAULT
        rec[0] = VERSION
        rec[1] = 1 if latched else 0
        held = app.machine.faults
        for k in range(_MASK_BYTES):
            rec[2 + k] = 0
        if latched:
            for i in range(D.COUNT):
                if r.seen[i] or held[i]:
                    rec[2 + i // 8] |= 1 << (i % 8)
        _put32(rec, 10, r.count)
        rec[14] = min(255, r.used)
        rec[15] = self.next_entry
        rec[19] = 1 if r.exhausted else 0
        _put32(rec, 20, self.boots)
        _put32(rec, 24, app.task_errors + app.task_errors_before)
        _put32(rec, 28, self.faults)

    def _save(self, t_ms, force):
        latched = self.rec[1] == 1
        if self.store.save(self.rec, t_ms, force):
            self.latched = latched
            self.dirty = False
            self.writes += 1

    # --- reading it back (console, web, tests; allocates) -----------------------
    def history(self):
        """[(kind, diagnosis id or None, t_ms, utc_s, detail, value)], oldest first;
        t_ms is the uptime of the boot that wrote it, utc_s None when unknown."""
        out = []
        rec = self.rec
        for k in range(HISTORY):
            pos = _HIST0 + ((self.next_entry + k) % HISTORY) * _ENTRY
            if _get32(rec, pos + 4) == 0 and rec[pos] == 0 and rec[pos + 1] == 0:
                continue
            row = rec[pos]
            out.append((rec[pos + 1], D.ROWS[row][D.ID] if row < D.COUNT else None,
                        _get32(rec, pos + 4), _get32(rec, pos + 8) or None,
                        (rec[pos + 2] << 8) | rec[pos + 3], _signed32(_get32(rec, pos + 12))))
        return out
