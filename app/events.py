# Events into the state machine and the record of what it did, on the board.
#
# EventQueue: diagnosis flips, operator commands and balancer decisions wait here
# (a fixed ring of small ints, no allocation) until the main loop dispatches them
# in order. A fault event's fields are one dict, refilled for each dispatch.
#
# RingStream + TickFilter: the board's event log is a RAM ring of the most recent
# JSON Lines records (fsm/eventlog.py's format, docs/event-log.md). A record is
# written only when something happens; the tick the loop sends every pass is kept
# back and written only when it made the machine move (a transition or an error),
# so a quiet loop writes (and allocates) nothing, and the ring still replays with
# `pybms replay --check`: every timeout fires on a recorded tick.
#
# Records that are not the state machine's pass through TickFilter too: the charge
# phase (bms/charge.py) and the heater's state (bms/heater.py), one record per
# change (docs/event-log.md); replay skips them. Every record carries utc_s when
# the EventLog has a known wall clock (drivers/wall_clock.py).

from bms import diagnosis as D
from fsm.table import EVENTS

EV_TICK = EVENTS.index("tick")
EV_PACK_READY = EVENTS.index("pack_ready")
EV_CONNECT = EVENTS.index("connect")
EV_DISCONNECT = EVENTS.index("disconnect")
EV_BALANCE_NEEDED = EVENTS.index("balance_needed")
EV_BALANCE_DONE = EVENTS.index("balance_done")
EV_FAULT = EVENTS.index("fault")
EV_FAULT_CLEARED = EVENTS.index("fault_cleared")
EV_RESET = EVENTS.index("reset")
EV_SHUTDOWN = EVENTS.index("shutdown")

# A fault event's fields: one dict, refilled for each dispatch. The machine, its
# guards, actions and log read it during the dispatch and keep nothing of it (the
# machine never dispatches from inside a dispatch), so a fault allocates nothing and
# the heap holds one dict instead of one per diagnosis row (~1 KB on a board).
_FAULT_FIELDS = {"diag": ""}


def fault_fields(row):
    """The fields of a fault / fault_cleared event for diagnosis row `row`."""
    _FAULT_FIELDS["diag"] = D.ROWS[row][D.ID]
    return _FAULT_FIELDS


class EventQueue:
    """Fixed-size FIFO of (event index, diagnosis row). A full queue drops the
    newest event and counts it: the diagnosis row stays active and is re-sent."""

    def __init__(self, size=32):
        self.events = bytearray(size)
        self.rows = bytearray(size)
        self.size = size
        self.head = 0
        self.count = 0
        self.dropped = 0

    def put(self, event, row=0):
        if self.count >= self.size:
            self.dropped += 1
            return False
        k = (self.head + self.count) % self.size
        self.events[k] = event
        self.rows[k] = row
        self.count += 1
        return True

    def dispatch_all(self, machine, t_ms):
        names = EVENTS
        while self.count:
            k = self.head
            event = self.events[k]
            row = self.rows[k]
            self.head = (k + 1) % self.size
            self.count -= 1
            if event == EV_FAULT or event == EV_FAULT_CLEARED:
                machine.dispatch(names[event], t_ms, fault_fields(row))
            else:
                machine.dispatch(names[event], t_ms)


class RingStream:
    """The most recent records (whole JSON lines) in one fixed bytearray of `size`
    bytes, made at boot; write(text) as a stream. However many events come, the
    ring neither grows nor leaves small strings scattered over the heap (a list of
    64 record strings grew by ~8 KB as a board ran). Oldest records are dropped
    whole to make room; one longer than the ring is counted in `too_long`."""

    def __init__(self, size=2048):
        self.buf = bytearray(size)
        self.size = size
        self.head = 0          # where the next byte goes
        self.used = 0          # bytes held, oldest at (head - used) % size
        self.written = 0       # records written
        self.dropped = 0       # records pushed out by newer ones
        self.too_long = 0

    def write(self, text):
        data = text.encode() if isinstance(text, str) else text
        n = len(data)
        if n > self.size:
            self.too_long += 1
            return
        while self.used + n > self.size:
            self._drop_oldest()
        buf, size, h = self.buf, self.size, self.head
        first = n if h + n <= size else size - h
        buf[h:h + first] = data[:first]
        if first < n:
            buf[0:n - first] = data[first:]
        self.head = (h + n) % size
        self.used += n
        self.written += 1

    def _drop_oldest(self):
        buf, size = self.buf, self.size
        k = (self.head - self.used) % size
        n = 0
        while n < self.used:
            n += 1
            if buf[k] == 10:       # the record's closing newline
                break
            k = (k + 1) % size
        self.used -= n
        self.dropped += 1

    def records(self):
        """Oldest first, each a str ending in a newline (allocates: for the
        console, the web page, tests)."""
        start = (self.head - self.used) % self.size
        if start + self.used <= self.size:
            data = bytes(self.buf[start:start + self.used])
        else:
            data = bytes(self.buf[start:]) + bytes(self.buf[:self.head])
        return [line + "\n" for line in data.decode().split("\n")[:-1]]

    def dump(self, out, cfg, t_ms=0, wall=None):
        """Write a replayable log to out.write(): the header with the configuration
        (made now, not held in RAM), then the ring, oldest first."""
        from fsm.eventlog import EventLog
        EventLog(out, wall).header(t_ms, cfg)
        for line in self.records():
            out.write(line)


class TickFilter:
    """Between the machine and an EventLog: every record passes except a tick,
    which is written only when it moved the machine (logged before the move)."""

    def __init__(self, log):
        self.log = log
        self._tick_t = -1

    def header(self, t_ms, cfg):
        pass  # the ring's dump() writes it, so the RAM never holds the config as text

    def event(self, t_ms, name, fields):
        if name == "tick":
            self._tick_t = t_ms
            return
        self._tick_t = -1
        self.log.event(t_ms, name, fields)

    def _flush(self, event):
        if event == "tick" and self._tick_t >= 0:
            self.log.event(self._tick_t, "tick", None)
        self._tick_t = -1

    def transition(self, t_ms, event, source, dest):
        self._flush(event)
        self.log.transition(t_ms, event, source, dest)

    def rejected(self, t_ms, event, state, reason, detail=None):
        self._flush(event)
        self.log.rejected(t_ms, event, state, reason, detail)

    def error(self, t_ms, event, message):
        self._flush(event)
        self.log.error(t_ms, event, message)

    # Not the machine's: no tick to flush. Written on a change only (rare), from
    # constant names (the tables of bms/charge.py and bms/heater.py).
    def change(self, t_ms, kind, value, source, cause=None):
        """An application record: `kind` ("phase", "heater") is now `value`, left
        `source` (None: at boot) on `cause` (None: not said)."""
        log = self.log
        w = log.wall_at(t_ms)
        if w is None:
            line = '{"t_ms": %d, "%s": "%s"' % (t_ms, kind, value)
        else:
            line = '{"t_ms": %d, "utc_s": %d%05d, "%s": "%s"' % (t_ms, w.hi, w.lo, kind, value)
        if source is not None:
            line += ', "from": "%s"' % source
        if cause is not None:
            line += ', "on": "%s"' % cause
        log.stream.write(line + "}\n")


class Tee:
    """Writes every record to the ring and to a file (the unix port's --events),
    flushed per record so a host tool reading the file sees it at once."""

    def __init__(self, ring, f):
        self.ring = ring
        self.f = f

    def write(self, text):
        self.ring.write(text)
        self.f.write(text)
        self.f.flush()
