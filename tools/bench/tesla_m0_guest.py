# Runs inside the emulated Cortex-M0 (tools/bench/tesla_m0.py sends it through the raw
# REPL after a first line `SIZES = (...)`): the frozen bus master polls canned replies
# and prints "M0 boards=N poll_us=.. link_us=.." per size. ticks_us is the emulator's
# virtual time, 1 ns per instruction: instructions = 1000 x us.
import gc
import time

import drivers.tesla_bus as tb
from bms import config
from bms.diagnosis import Diagnosis
from protocols.tesla import codec
from protocols.tesla import encode
from protocols.tesla import registers as R

try:
    SIZES
except NameError:
    SIZES = (16, 62)


class Canned:
    """Answers each request with its reply computed in advance (no emulator cost);
    counts its calls so their cost can be taken out of the master's."""

    def __init__(self, count):
        self.replies = {}
        for reg, value in ((R.ADC_CONTROL, R.ADC_ALL), (R.IO_CONTROL, R.IO_THERMISTORS),
                           (R.ADC_CONVERT, 1)):
            self.replies[((R.BROADCAST << 1 | 1) << 8) | reg] = codec.write_frame(R.BROADCAST, reg, value)
        words = [encode.module_raw(6 * 3700)] + [encode.cell_raw(3700)] * 6 + \
            [encode.temp_raw(250), encode.temp_raw(250, 1)]
        for a in range(1, count + 1):
            r = bytearray(23)
            r[0] = a << 1
            r[2] = 19
            r[3] = R.DS_DRDY | R.DS_ADDR_RQST
            for k in range(9):
                r[4 + 2 * k] = words[k] >> 8
                r[5 + 2 * k] = words[k] & 0xFF
            r[22] = codec.crc8(r, 0, 22)
            self.replies[(a << 9)] = bytes(r)
        self.cur = b""
        self.n = 0
        self.calls = [0, 0, 0]   # write, any, readinto

    def write(self, data):
        self.calls[0] += 1
        self.cur = self.replies.get((data[0] << 8) | data[1], b"")
        self.n = len(self.cur)
        return len(data)

    def any(self):
        self.calls[1] += 1
        return self.n

    def readinto(self, buf, nbytes=-1):
        self.calls[2] += 1
        n = self.n
        if not n:
            return None
        _copy(buf, self.cur, n)
        self.n = 0
        return n


try:  # native copy where the firmware has the emitter (exec: a SyntaxError is catchable)
    exec("@micropython.viper\ndef _copy(dst, src, n: int):\n    d = ptr8(dst)\n"
         "    s = ptr8(src)\n    for i in range(n):\n        d[i] = s[i]\n")
except Exception:
    def _copy(dst, src, n):
        dst[:n] = src


def _fragment():
    junk = [bytearray(k % 40 + 1) for k in range(800)]
    for k in range(0, 800, 2):
        junk[k] = None
    return junk


def measure(n):
    tb.sleep_ms = lambda ms: None      # the ADC wait is wire time, not instructions
    link = Canned(n)
    bus = tb.TeslaBus(link, config.make({"module_count": n, "bus_reset_wait_ms": 0}),
                      Diagnosis())
    bus.discovered = True
    bus._discovered_once = True
    bus.found = n
    keep = _fragment()                 # a heap that has been used
    for k in range(3):
        bus.poll(k)
    assert bus.age_ms(2) == 0 and bus.cell_mv(0) == 3700
    best = 1 << 30
    for k in range(3):
        link.calls[0] = link.calls[1] = link.calls[2] = 0
        t0 = time.ticks_us()
        bus.poll(10 + k)
        us = time.ticks_diff(time.ticks_us(), t0)
        best = min(best, us)
    writes, anys, reads = link.calls
    buf = bytearray(48)
    frame = b"\x02\x00\x13"
    t0 = time.ticks_us()
    for k in range(writes):            # the same link calls, without the master
        link.write(frame)
        link.readinto(buf)
    for k in range(anys):
        link.any()
    link_us = time.ticks_diff(time.ticks_us(), t0)
    del keep
    gc.collect()
    print("M0 boards=%d poll_us=%d link_us=%d calls=%d" % (n, best, link_us, writes + anys + reads))


for size in SIZES:
    measure(size)
    gc.collect()
