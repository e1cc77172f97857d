# Link layer of the Tesla module bus: one request, one checked reply, on a UART
# handed in by the caller (machine.UART, drivers.posix_serial.PosixSerial, a test
# fake). Everything is preallocated: the request buffer, the reply buffer and one
# memoryview per reply offset, so exchanging a frame allocates nothing.
# drivers.tesla_bus.TeslaBus builds the poll cycle on top of it.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from drivers.clock import ticks_diff, ticks_ms
from protocols.tesla import frame as F
from protocols.tesla import registers as R

QUIET_MS = const(2)        # after a bad frame, the line must be silent this long
E_GARBAGE = const(10)      # stats index: bytes that arrived between frames
STATS = const(11)          # protocols.tesla ERROR_COUNT + garbage
RX_SIZE = const(48)
FLUSH_MAX = const(256)     # bytes one flush may discard
# Counters wrap at 2**30: past that a 32-bit port would make every increment a big
# int (an allocation); at 440 bytes a cycle, 4 cycles a second, tx+rx reach it in a week.
WRAP = const(0x3FFFFFFF)


class TeslaLink:
    def __init__(self, uart, timeout_ms, retries, read_crc):
        self.uart = uart
        self.timeout_ms = timeout_ms
        self.retries = retries
        self.read_crc = bool(read_crc)
        self._tx = bytearray(4)
        txv = memoryview(self._tx)
        self._txv = (None, None, None, txv[:3], txv[:4])
        self._rx = bytearray(RX_SIZE)
        rxv = memoryview(self._rx)
        self._rxv = tuple(rxv[i:] for i in range(RX_SIZE))
        self._junk = bytearray(32)
        self._nonblocking = hasattr(uart, "wait")   # PosixSerial: reads never wait
        self._wait = getattr(uart, "wait", None)
        self._budget = 0          # retries left in this cycle (set by the bus)
        self._last_got = 0
        self._last_nout = 0
        self.stats = [0] * STATS  # failed frames by cause, garbage bytes
        self.tx_bytes = 0
        self.rx_bytes = 0
        self.frames = 0
        self.retries_used = 0
        self.cycle_errors = 0

    # --- frames --------------------------------------------------------------
    def _bwrite(self, reg, value):
        """Broadcast write, retried (within the cycle's budget) until the echo is clean:
        a clean echo means every board in the ring saw an intact frame."""
        code = F.E_TIMEOUT
        for attempt in range(1 + self.retries):
            if attempt:
                if self._budget <= 0:
                    break
                self._budget -= 1
                self.retries_used = (self.retries_used + 1) & WRAP
            code = self._write(R.BROADCAST, reg, value)
            if code == F.OK:
                return code
            self.cycle_errors += 1
            if 0 <= code < STATS:
                self.stats[code] = (self.stats[code] + 1) & WRAP
        return code

    def _write_retry(self, addr, reg, value):
        """Addressed write with up to `retries` further attempts; True once echoed.
        (Outside the poll cycle: balancing commands.)"""
        for attempt in range(1 + self.retries):
            if self._write(addr, reg, value) == F.OK:
                return True
            self.cycle_errors += 1
        return False

    def _write(self, addr, reg, value):
        F.pack_write(self._tx, addr, reg, value)
        return self._exchange(4, 4, addr, reg, 0, True, value)

    def _read(self, addr, reg, count):
        n = F.pack_read(self._tx, addr, reg, count, self.read_crc)
        return self._exchange(n, count + 4, addr, reg, count, False, 0)

    def _exchange(self, nout, need, addr, reg, count, write, value):
        self._flush()
        self.uart.write(self._txv[nout])
        self.tx_bytes = (self.tx_bytes + nout) & WRAP
        self.frames = (self.frames + 1) & WRAP
        got = self._receive(need)
        self._last_got = got
        self._last_nout = nout
        self.rx_bytes = (self.rx_bytes + got) & WRAP
        code = F.check_reply(self._rx, got, addr, reg, count, write, value)
        if code != F.OK:
            self._resync()
        return code

    def _read_some(self, got):
        room = RX_SIZE - got
        if room <= 0:
            return 0
        avail = self.uart.any()
        if not avail:
            return 0
        if self._nonblocking:
            n = self.uart.readinto(self._rxv[got])
        else:  # machine.UART: never ask for more than is waiting, so it cannot block
            n = self.uart.readinto(self._rxv[got], avail if avail < room else room)
        return n if n else 0

    def _receive(self, need):
        # Timeout plus the wire time of the reply at 612500 baud (16.3 us a byte).
        limit = self.timeout_ms + (need * 163) // 10000 + 1
        start = ticks_ms()
        got = 0
        while True:
            n = self._read_some(got)
            if n:
                got += n
                if got >= need:
                    got += self._read_some(got)  # bytes riding behind the frame
                    return got
                continue
            left = limit - ticks_diff(ticks_ms(), start)
            if left <= 0:
                return got
            if self._wait is not None:
                self._wait(left)

    def _flush(self):
        """Discard whatever arrived between frames (counted as garbage); at most
        FLUSH_MAX bytes, so a babbling line cannot hold the cycle."""
        dropped = 0
        while dropped < FLUSH_MAX:
            avail = self.uart.any()
            if not avail:
                break
            if self._nonblocking:
                n = self.uart.readinto(self._junk)
            else:  # never ask machine.UART for more than is waiting
                n = self.uart.readinto(self._junk, avail if avail < 32 else 32)
            if not n:
                break
            self.stats[E_GARBAGE] = (self.stats[E_GARBAGE] + n) & WRAP
            self.rx_bytes = (self.rx_bytes + n) & WRAP
            dropped += n

    def _resync(self):
        """After a bad frame, wait until the line has been quiet for QUIET_MS (at most
        timeout_ms in all), so a late reply cannot pass for the next one."""
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
