# The one small CAN interface the firmware uses, whatever controller is behind it
# (MCP2515 over SPI, machine.CAN, SLCAN on a pty). Classic CAN, 11-bit ids.
#
#   send(can_id, data) -> True when queued; False when the controller is busy or
#                         failed (counted, never raises, never blocks)
#   recv()             -> True when a frame was taken: rx_id, rx_len, rx_data hold
#                         it (one preallocated buffer); False when nothing waits
#   state()            -> ACTIVE / WARNING / PASSIVE / BUS_OFF / STOPPED
#   service(t_ms)      -> housekeeping once per loop: notices bus-off, counts it,
#                         recovers after recover_ms without blocking. Called in
#                         one place, the main loop (the bus's owner), never by a
#                         user of the bus such as the Victron reporter
#   abort_pending()    -> drop frames still queued from an older cycle, so stale
#                         limits never go out late
# Counters (tx_ok, tx_busy, tx_errors, rx_frames, rx_errors, bus_off_count,
# recoveries, aborts) are plain ints for the status page and tests.

from drivers.clock import ticks_diff

ACTIVE = 0
WARNING = 1
PASSIVE = 2
BUS_OFF = 3
STOPPED = 4
STATE_NAMES = ("active", "warning", "passive", "bus_off", "stopped")

RECOVER_MS = 1000  # wait this long in bus-off before asking the controller to restart

COUNTERS = ("tx_ok", "tx_busy", "tx_errors", "rx_frames", "rx_errors",
            "bus_off_count", "recoveries", "aborts")


class CanBus:
    def __init__(self, recover_ms=RECOVER_MS):
        self.rx_id = 0
        self.rx_len = 0
        self.rx_data = bytearray(8)
        self.recover_ms = recover_ms
        self.tx_ok = 0
        self.tx_busy = 0
        self.tx_errors = 0
        self.rx_frames = 0
        self.rx_errors = 0
        self.bus_off_count = 0
        self.recoveries = 0
        self.aborts = 0
        self._bus_off = False
        self._bus_off_since = 0

    # --- implemented by each controller ------------------------------------------
    def send(self, can_id, data):
        raise NotImplementedError

    def recv(self):
        raise NotImplementedError

    def state(self):
        return ACTIVE

    def _restart(self):
        """Ask the controller to leave bus-off; True if it was asked."""
        return False

    def abort_pending(self):
        self.aborts += 1

    # --- shared ------------------------------------------------------------------
    def _received(self, can_id, data):
        """A controller's recv() hands its frame here: it becomes rx_id / rx_len /
        rx_data (no allocation) and is counted. Returns True, recv()'s answer."""
        n = len(data)
        rx = self.rx_data
        for i in range(n):
            rx[i] = data[i]
        self.rx_id = can_id
        self.rx_len = n
        self.rx_frames += 1
        return True

    def service(self, t_ms):
        """Call once per main-loop pass. Never blocks."""
        if self.state() == BUS_OFF:
            if not self._bus_off:
                self._bus_off = True
                self._bus_off_since = t_ms
                self.bus_off_count += 1
            elif ticks_diff(t_ms, self._bus_off_since) >= self.recover_ms:
                if self._restart():
                    self.recoveries += 1
                self._bus_off_since = t_ms
        else:
            self._bus_off = False

    def counters(self):
        return tuple(getattr(self, name) for name in COUNTERS)


class MemoryBus(CanBus):
    """A bus in memory for tests and benchmarks: records what was sent (or only
    counts it with record=False), serves queued received frames, and can be told
    to refuse (busy), fail or be bus-off."""

    def __init__(self, record=True, capacity=None):
        CanBus.__init__(self)
        self.record = record
        self.sent = []
        self.inbox = []
        self.capacity = capacity   # frames accepted before busy (None: unlimited)
        self.queued = 0
        self.fail = False
        self.bus_state = ACTIVE
        self.restarts = 0

    def send(self, can_id, data):
        if self.bus_state == BUS_OFF or self.fail:
            self.tx_errors += 1
            return False
        if self.capacity is not None and self.queued >= self.capacity:
            self.tx_busy += 1
            return False
        self.queued += 1
        self.tx_ok += 1
        if self.record:
            self.sent.append((can_id, bytes(data)))
        return True

    def drain(self, n=None):
        """The bus took n queued frames (all if None)."""
        self.queued = 0 if n is None else max(0, self.queued - n)

    def recv(self):
        if not self.inbox:
            return False
        can_id, data = self.inbox.pop(0)
        return self._received(can_id, data)

    def state(self):
        return self.bus_state

    def _restart(self):
        self.restarts += 1
        self.bus_state = ACTIVE
        return True

    def abort_pending(self):
        self.aborts += 1
        self.queued = 0
