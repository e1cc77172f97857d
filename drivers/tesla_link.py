# Link layer of the Tesla module bus: one request, one checked reply, on a UART
# handed in by the caller (machine.UART, drivers.posix_serial.PosixSerial, a test
# fake). Its public frame API is all the bus master and discovery use:
#   stage_read / stage_write   put a request into `tx` (validated)
#   exchange()                 one attempt of the staged request -> OK or an E_* code
#   transact(tries)            THE retry helper: up to `tries` attempts, every attempt
#                              after the first paid from the budget
#   set_budget(n) / may_retry  THE budget rule: one unit per extra attempt, none left
#                              means no more retries until the owner sets a new budget
#   rx[0:need]                 the reply of the last successful exchange (read only)
# Everything is preallocated (request and reply buffers, one memoryview per reply
# offset below VIEWS), so an exchange allocates nothing.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from drivers.clock import ticks_diff, ticks_ms
from protocols.tesla import frame as F
from protocols.tesla.registers import BROADCAST

QUIET_MS = const(2)        # after a bad frame, the line must be silent this long
_E_GARBAGE = const(10)     # stats index: bytes that arrived between frames
_STATS = const(11)         # protocols.tesla ERROR_COUNT + garbage
_RX_SIZE = const(64)       # room for a late foreign reply followed by ours
VIEWS = const(24)          # reads start below this in every reply the bus master asks
                           # for (at most 20 registers: 24 bytes); a view per offset
                           # up to _RX_SIZE would hold ~0.7 KB more of a board's heap
_FLUSH_MAX = const(256)    # bytes one flush may discard
_SKIP_MAX = const(3)       # foreign frames one exchange may skip
# Counters wrap at 2**30: past that a 32-bit port would make every increment a big
# int (an allocation); at 440 bytes a cycle, 4 cycles a second, tx+rx reach it in a week.
WRAP = const(0x3FFFFFFF)


class TeslaLink:
    def __init__(self, uart, timeout_ms, read_crc):
        self.uart = uart
        self.timeout_ms = timeout_ms
        self.read_crc = bool(read_crc)
        self.tx = bytearray(4)
        txv = memoryview(self.tx)
        self._txv = (None, None, None, txv[:3], txv[:4])
        self.rx = bytearray(_RX_SIZE)
        rxv = memoryview(self.rx)
        self._rxv = tuple(rxv[i:] for i in range(VIEWS))
        self._junk = bytearray(32)
        self._nonblocking = hasattr(uart, "wait")   # PosixSerial: reads never wait
        self._wait = getattr(uart, "wait", None)
        self._nout = 3
        self.need = 4             # reply length of the staged request
        self._limit = 0           # ms to wait for it (timeout + wire time)
        self.got = 0              # bytes the last exchange received
        self.budget = 0           # retries left (set_budget; read only for others)
        self._start = 0
        self.stats = [0] * _STATS  # failed frames by cause, garbage bytes
        self.tx_bytes = 0
        self.rx_bytes = 0
        self.frames = 0
        self.failed = 0           # failed exchanges, all causes
        self.retries_used = 0
        self.late = 0             # replies taken in the grace window after the timeout
        self.duplicates = 0       # replies that arrived twice back to back (copy dropped)
        self.skipped = 0          # complete foreign frames (late replies to earlier requests) dropped

    # --- requests --------------------------------------------------------------
    # stage_read/stage_write fill tx as protocols.tesla.codec.pack_read/pack_write do
    # (same checks, same bytes; a test holds them equal), without a second call per
    # frame on the poll path.
    def stage_read(self, addr, reg, count):
        if addr > BROADCAST or (addr | reg) >> 8 or count < 1 or count > 0x7F:
            raise ValueError("read field out of range")
        tx = self.tx
        tx[0] = addr << 1
        tx[1] = reg
        tx[2] = count
        self._nout = 3
        if self.read_crc:
            tx[3] = F.crc_span(tx, 0, 3, 0)
            self._nout = 4
        self.need = count + 4
        # Timeout plus the wire time of the reply at 612500 baud (16.3 us a byte).
        self._limit = self.timeout_ms + 1 + (count + 4) // 61

    def stage_write(self, addr, reg, value):
        if addr > BROADCAST or (addr | reg | value) >> 8:
            raise ValueError("write field out of range")
        tx = self.tx
        tx[0] = (addr << 1) | 1
        tx[1] = reg
        tx[2] = value
        tx[3] = F.crc_span(tx, 0, 3, 0)
        self._nout = 4
        self.need = 4
        self._limit = self.timeout_ms + 1

    def read(self, addr, reg, count):
        """One attempt at reading count registers; the reply is in rx."""
        self.stage_read(addr, reg, count)
        return self.exchange()

    def write(self, addr, reg, value):
        """One attempt at a write; OK once its echo came back intact."""
        self.stage_write(addr, reg, value)
        return self.exchange()

    # --- the budget rule and the retry helper -----------------------------------------
    def set_budget(self, n):
        self.budget = n

    def may_retry(self):
        """The one budget rule: an attempt after the first costs one unit."""
        if self.budget <= 0:
            return False
        self.budget -= 1
        self.retries_used = (self.retries_used + 1) & WRAP
        return True

    def transact(self, tries):
        """The staged request, attempted until OK, at most `tries` times, each attempt
        after the first paid from the budget."""
        code = self.exchange()
        while code and tries > 1 and self.may_retry():
            tries -= 1
            code = self.exchange()
        return code

    def count(self, code):
        """Count a failure found above the frame (implausible data, not ready)."""
        self.failed = (self.failed + 1) & WRAP
        self.stats[code] = (self.stats[code] + 1) & WRAP

    def returned_untouched(self):
        """The last read request came back untouched: no board took it. A reply that
        lost bytes cannot look like this under a single fault: a reply is at least 5
        bytes, the request 3 (or 4 with its CRC, which the ring may pass on)."""
        got = self.got
        if got != 3 and got != self._nout:
            return False
        for k in range(got):
            if self.rx[k] != self.tx[k]:
                return False
        return True

    # --- one exchange ----------------------------------------------------------
    def exchange(self):
        """Send the staged request and check its reply: OK or an E_* code (counted).
        A reply that comes after the timeout but within one more timeout is taken
        (`late`); a complete, intact frame that answers an earlier request (a late
        reply that overtook nothing) is dropped and the wait goes on (`skipped`); an
        exact second copy of the reply behind it is dropped (`duplicates`)."""
        if self.uart.any():
            self._flush()
        nout = self._nout
        self.uart.write(self._txv[nout])
        self.tx_bytes = (self.tx_bytes + nout) & WRAP
        self.frames = (self.frames + 1) & WRAP
        self._start = -1          # taken when the reply is not there at once (_fill)
        got = self._fill(0, self._limit)
        if got < self.need:
            got = self._fill(got, self._limit + self.timeout_ms)
            if got >= self.need:
                self.late = (self.late + 1) & WRAP
        code = F.check_frame(self.rx, self.tx, got, self.need)
        # `if code:` (OK is 0): F.OK would be a lookup in another module per test.
        if code and got >= self.need and code != F.E_CRC:
            code = self._sort_out(got, self._limit + self.timeout_ms)
        self.rx_bytes = (self.rx_bytes + self.got) & WRAP
        if code:
            self.count(code)
            self._resync()
        return code

    def _sort_out(self, got, limit):
        """More bytes than the reply, or a header that is not ours: drop complete
        foreign frames from the front, then accept our reply followed only by exact
        copies of itself. Anything else fails as it would have."""
        for _ in range(_SKIP_MAX):
            if F.check_frame(self.rx, self.tx, self.need, self.need) == F.OK:
                if not self._copies_only(got):
                    break
                if got > self.need:
                    self.duplicates = (self.duplicates + 1) & WRAP
                return F.OK
            got = self._drop_foreign(got, limit)
            if got < 0:
                break
        return F.check_frame(self.rx, self.tx, self.got, self.need)

    def _drop_foreign(self, got, limit):
        """Remove a complete foreign frame from the front of rx and receive on; the
        bytes now held, or -1 when the front is no such frame."""
        n = self._foreign_length(got)
        if n <= 0:
            return -1
        rx = self.rx
        for k in range(got - n):
            rx[k] = rx[n + k]
        got -= n
        self.skipped = (self.skipped + 1) & WRAP
        if got < self.need:
            return self._fill(got, limit)
        self.got = got
        return got

    def _copies_only(self, got):
        need = self.need
        rx = self.rx
        for k in range(need, got):
            if rx[k] != rx[k % need]:
                return False
        return True

    def _foreign_length(self, got):
        """Length of a complete, CRC-intact frame at the front of rx that is not the
        reply to the staged request (0 if there is none)."""
        rx = self.rx
        if rx[0] & 0x80:
            return 0
        n = 4 if rx[0] & 1 else rx[2] + 4
        if n > got or F.crc_span(rx, 0, n - 1, 0) != rx[n - 1]:
            return 0
        return n

    def _fill(self, got, limit):
        """Receive until the staged reply is complete or `limit` ms have passed since
        the request; returns the bytes received (also in self.got). Bytes already
        behind the frame are read with it; later ones are flushed before the next
        request. Never asks a machine.UART for more than is waiting, so never blocks."""
        while got < self.need:
            n = self.uart.any()
            if n and got < _RX_SIZE:
                if got >= VIEWS:
                    n = self._read_beyond(got, n)
                elif self._nonblocking:
                    n = self.uart.readinto(self._rxv[got])
                else:
                    n = self.uart.readinto(self._rxv[got], n if n < _RX_SIZE - got else _RX_SIZE - got)
                if n:
                    got += n
                    continue
            if self._start < 0:
                self._start = ticks_ms()
            if ticks_diff(ticks_ms(), self._start) >= limit:
                break
            if self._wait is not None:
                self._wait(limit - ticks_diff(ticks_ms(), self._start))
        self.got = got
        return got

    def _read_beyond(self, got, n):
        """Receive at rx[got] for got >= VIEWS (foreign frames ahead of the reply,
        or a request for more registers than the bus master asks): through _junk,
        at most what fits rx, and never more than is waiting on a machine.UART."""
        room = _RX_SIZE - got
        if room > 32:
            room = 32
        if self._nonblocking or n > room:
            n = room
        n = self.uart.readinto(self._junk, n)
        if n:
            rx = self.rx
            junk = self._junk
            for k in range(n):
                rx[got + k] = junk[k]
        return n

    def _flush(self):
        """Discard whatever arrived between frames (counted as garbage); at most
        _FLUSH_MAX bytes, so a babbling line cannot hold the cycle."""
        dropped = 0
        while dropped < _FLUSH_MAX:
            avail = self.uart.any()
            if not avail:
                break
            if self._nonblocking:
                n = self.uart.readinto(self._junk)
            else:  # never ask machine.UART for more than is waiting
                n = self.uart.readinto(self._junk, avail if avail < 32 else 32)
            if not n:
                break
            self.stats[_E_GARBAGE] = (self.stats[_E_GARBAGE] + n) & WRAP
            self.rx_bytes = (self.rx_bytes + n) & WRAP
            dropped += n

    def _resync(self):
        """After a bad frame, wait until the line has been quiet for QUIET_MS (at most
        timeout_ms in all), so the rest of a bad reply cannot pass for the next one."""
        start = ticks_ms()
        while ticks_diff(ticks_ms(), start) < self.timeout_ms:
            if self._wait is not None:
                if not self._wait(QUIET_MS):
                    return
            else:
                t0 = ticks_ms()
                while not self.uart.any() and ticks_diff(ticks_ms(), t0) < QUIET_MS:
                    pass
                if not self.uart.any():
                    return
            self._flush()
