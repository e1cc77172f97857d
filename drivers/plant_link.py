# The board's pins and I2C bus carried over one serial line to the plant
# simulator (pseudo-terminal on the unix port): output pins (contactor coils,
# heater, allow outputs, LED), input pins (contactor feedback, operator switches)
# and I2C transactions (the current-sensor chip), plus a watchdog pet. Objects
# handed out look like machine.Pin (value()) and machine.I2C (writeto,
# readfrom_into, writeto_mem, readfrom_mem_into, raising OSError as machine.I2C
# does), so the firmware above boards.hal cannot tell the difference.
#
# Line protocol (docs/simulator.md): ASCII lines "<body>*<xor hex>\n", the
# checksum is the XOR of the body's bytes (as NMEA-0183).
#   firmware -> plant   o <name> <0|1>          output level
#                       i <seq> <addr> <hex|-> <n>  I2C: write bytes, then read n
#                       a <seq> <name>          read an analog input (the DC-bus voltage)
#                       w                       watchdog pet
#                       s                       send me every input level
#   plant -> firmware   p <name> <0|1>          input level (on change, every second)
#                       r <seq> <hex|-|!>       I2C result: bytes read, '-' none, '!' NACK;
#                                               analog: 4 bytes, signed big-endian mV,
#                                               '!' no such input
# A line that is too long, fails its checksum or does not parse is counted in
# `errors` and dropped; nothing here raises on garbage or blocks longer than
# timeout_ms. Inputs are the last levels the plant pushed.
#
# Files: the line format and error numbers (plant_line.py), the Pin/I2C/analog
# objects handed out (plant_parts.py), the link itself (here).

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from drivers.clock import ticks_add, ticks_diff, ticks_ms
# EIO, ENODEV, ETIMEDOUT and checked_body are imported from here by users, too.
from drivers.ascii_hex import HEX, nibble
from drivers.plant_line import EIO, ENODEV, ETIMEDOUT, LINE_MAX, checked_body, seal
from drivers.plant_parts import PlantAnalog, PlantI2C, PlantPin

REFRESH_MS = const(1000)   # outputs are re-sent this often (a lost line heals)
ANALOG_BYTES = const(4)    # an analog reading: signed 32-bit millivolts


class PlantLink:
    def __init__(self, port, timeout_ms=50):
        self.port = port               # any/readinto/write (PosixSerial), wait optional
        self.timeout_ms = timeout_ms
        self._wait = getattr(port, "wait", None)
        self._writable = getattr(port, "writable", None)
        self.outputs = []
        self.inputs = []
        self._rx = bytearray(64)
        self._line = bytearray(LINE_MAX)
        self._n = 0
        self._overlong = False
        self._tx = bytearray(LINE_MAX)
        self._reply = bytearray(32)
        self._reply_len = -2           # -2 none, -1 NACK, else bytes in _reply
        self._reply_seq = -1
        self._seq = 0
        self._next_refresh = ticks_ms()
        self.errors = 0                # garbage, bad checksum, unparsable lines
        self.lines = 0                 # good lines received
        self.timeouts = 0
        self.dropped = 0               # lines not sent: the plant stopped reading
        self._pet = bytearray(5)
        self._pet[0] = 0x77            # w
        seal(self._pet, 1)
        self._sync = bytearray(5)
        self._sync[0] = 0x73           # s
        seal(self._sync, 1)

    # --- objects for boards.hal ------------------------------------------------
    def pin(self, name, out=False):
        p = PlantPin(self, name, out)
        (self.outputs if out else self.inputs).append(p)
        return p

    def i2c(self):
        return PlantI2C(self)

    def analog(self, name):
        return PlantAnalog(self, name)

    def pet(self):
        """Watchdog pet: the plant counts it and flags a BMS that stopped petting."""
        self.send(self._pet)

    # The unix port's watchdog is the link itself (boards.hal.watchdog): feeding it
    # is a pet. No object of boards.hal outlives the boot, so a board can drop it.
    feed = pet

    def request_inputs(self):
        self.send(self._sync)

    # --- sending -----------------------------------------------------------------
    def send(self, data):
        if self._writable is not None and not self._writable(0):
            self.dropped += 1
            return False
        try:
            self.port.write(data)
            return True
        except OSError:
            self.dropped += 1
            return False

    def _refresh(self):
        now = ticks_ms()
        if ticks_diff(now, self._next_refresh) < 0:
            return
        self._next_refresh = ticks_add(now, REFRESH_MS)
        for p in self.outputs:
            self.send(p._msg[p._level])

    # --- receiving -----------------------------------------------------------------
    def poll(self):
        """Take whatever the plant sent; never blocks. Also re-sends outputs once a
        REFRESH_MS. Returns the number of good lines."""
        self._refresh()
        got = 0
        while True:
            try:
                n = self.port.readinto(self._rx)
            except OSError:
                n = None
            if not n:
                return got
            for i in range(n):
                c = self._rx[i]
                if c == 0x0A or c == 0x0D:
                    if self._overlong:
                        self._overlong = False
                        self.errors += 1
                    elif self._n:
                        got += self._handle(self._n)
                    self._n = 0
                elif self._n < LINE_MAX:
                    self._line[self._n] = c
                    self._n += 1
                else:
                    self._overlong = True
                    self._n = 0

    def _handle(self, n):
        line = self._line
        body = checked_body(line, n)
        if body < 3 or line[1] != 0x20:
            self.errors += 1
            return 0
        kind = line[0]
        if kind == 0x70:        # p <name> <0|1>
            if body < 5 or line[body - 2] != 0x20 or line[body - 1] not in (0x30, 0x31):
                self.errors += 1
                return 0
            level = line[body - 1] - 0x30
            name_len = body - 4
            for p in self.inputs:
                k = p._key
                if len(k) == name_len and line[2:2 + name_len] == k:
                    p._level = level
                    break
            self.lines += 1
            return 1
        if kind == 0x72:        # r <seq> <hex|-|!>
            return self._handle_reply(body)
        self.errors += 1
        return 0

    def _handle_reply(self, n):
        line = self._line
        i = 2
        seq = 0
        while i < n and line[i] != 0x20:
            d = line[i] - 0x30
            if d < 0 or d > 9:
                self.errors += 1
                return 0
            seq = seq * 10 + d
            i += 1
        i += 1
        if i >= n:
            self.errors += 1
            return 0
        if line[i] == 0x21:      # '!': NACK
            length = -1
        elif line[i] == 0x2D:    # '-': nothing read
            length = 0
        else:
            hexlen = n - i
            if hexlen & 1 or hexlen // 2 > len(self._reply):
                self.errors += 1
                return 0
            for k in range(hexlen // 2):
                hi = nibble(line[i + 2 * k])
                lo = nibble(line[i + 2 * k + 1])
                if hi < 0 or lo < 0:
                    self.errors += 1
                    return 0
                self._reply[k] = hi << 4 | lo
            length = hexlen // 2
        self._reply_seq = seq
        self._reply_len = length
        self.lines += 1
        return 1

    # --- I2C ---------------------------------------------------------------------
    def transact(self, addr, memaddr, wbuf, nread, rbuf):
        """Write memaddr (if not None) and wbuf, then read nread bytes into rbuf, as
        one transaction; OSError(ENODEV) on NACK, OSError(ETIMEDOUT) without an
        answer within timeout_ms."""
        k = self._request(0x69)   # i
        b = self._tx
        b[k] = 0x20
        b[k + 1] = HEX[(addr >> 4) & 15]
        b[k + 2] = HEX[addr & 15]
        b[k + 3] = 0x20
        k += 4
        start = k
        if memaddr is not None:
            b[k] = HEX[(memaddr >> 4) & 15]
            b[k + 1] = HEX[memaddr & 15]
            k += 2
        if wbuf is not None:
            if k + 2 * len(wbuf) + 12 > LINE_MAX:
                raise OSError(ETIMEDOUT)   # more than one line carries: not supported
            for x in wbuf:
                b[k] = HEX[x >> 4]
                b[k + 1] = HEX[x & 15]
                k += 2
        if k == start:
            b[k] = 0x2D         # -
            k += 1
        b[k] = 0x20
        k += 1
        if nread > 99:
            raise OSError(ETIMEDOUT)
        if nread >= 10:
            b[k] = 0x30 + nread // 10
            k += 1
        b[k] = 0x30 + nread % 10
        k += 1
        self._exchange(k)
        if nread:
            if self._reply_len != nread:
                self.errors += 1
                raise OSError(ETIMEDOUT)
            for i in range(nread):
                rbuf[i] = self._reply[i]

    def read_analog(self, key):
        """Integer millivolts of the plant's analog input `key` (bytes), as one
        exchange: OSError(ETIMEDOUT) without an answer, ENODEV when the plant has
        no such input, EIO when the answer is not 4 bytes."""
        k = self._request(0x61)   # a
        b = self._tx
        if k + len(key) + 5 > LINE_MAX:
            raise OSError(EIO)
        b[k] = 0x20
        k += 1
        for c in key:
            b[k] = c
            k += 1
        self._exchange(k)
        if self._reply_len != ANALOG_BYTES:
            self.errors += 1
            raise OSError(EIO)
        r = self._reply
        mv = (r[0] & 0x7F) << 24 | r[1] << 16 | r[2] << 8 | r[3]
        return mv - 0x80000000 if r[0] & 0x80 else mv

    def _request(self, kind):
        """Start a request line in _tx: kind, space, the next sequence number
        (self._seq). Returns the length so far (no tuple: nothing allocated)."""
        self._seq = (self._seq + 1) % 10000
        seq = self._seq
        b = self._tx
        b[0] = kind
        b[1] = 0x20
        k = 2
        for div in (1000, 100, 10, 1):
            b[k] = 0x30 + (seq // div) % 10
            k += 1
        return k

    def _exchange(self, k):
        """Seal and send _tx[:k], then wait for the reply to self._seq: OSError(ETIMEDOUT)
        when none arrives within timeout_ms, OSError(ENODEV) on NACK."""
        b = self._tx
        k = seal(b, k)
        self._reply_len = -2
        if not self.send(memoryview(b)[:k]):
            raise OSError(ETIMEDOUT)
        seq = self._seq
        t0 = ticks_ms()
        while True:
            self.poll()
            if self._reply_len != -2 and self._reply_seq == seq:
                break
            left = self.timeout_ms - ticks_diff(ticks_ms(), t0)
            if left <= 0:
                self.timeouts += 1
                raise OSError(ETIMEDOUT)
            if self._wait is not None:
                self._wait(left if left < 10 else 10)
        if self._reply_len < 0:
            raise OSError(ENODEV)
