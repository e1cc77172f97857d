# Cost of one SlcanBus.recv() call on the streams of issue 18 (a host flooding S6,
# blank lines, V queries, malformed frames), to show the per-call bound. Runs on the
# emulated Cortex-M0 (board-true counts; timing on this shared machine is noise):
#   qemu-m0.sh build build/m0 manifest.py
#   PYTHON=.venv/bin/python qemu-m0.sh run build/m0/firmware.elf tools/mpy/slcan_recv_cost.py
# also under the unix port or CPython (then the figures are wall-clock microseconds).
# There, 1 us of ticks_us = 1000 instructions; RP2040 ms ~= instructions x 1.8 / 125e3.
# The in-memory port copies in Python (~0.9 ms per 64-byte read on an RP2040), more
# than a UART's C readinto costs, so the figures are an upper bound. alloc_bytes
# covers the whole run with gc off: a few harness objects, the same whatever the
# stream's length (the driver's own paths allocate nothing: tests/fw/test_victron_slcan.py).

import gc
import sys
import time

from drivers.can_slcan import SlcanBus

try:
    ticks_us, ticks_diff = time.ticks_us, time.ticks_diff
except AttributeError:
    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b


class StreamPort:
    """`n` copies of `unit`, served 64 bytes at a time, allocating nothing."""

    def __init__(self, unit, n):
        self.unit = unit
        self.left = n * len(unit)
        self.i = 0

    def readinto(self, buf):
        if self.left <= 0:
            return None
        n = min(len(buf), self.left)
        u = self.unit
        i = self.i
        for k in range(n):
            buf[k] = u[i]
            i += 1
            if i == len(u):
                i = 0
        self.i = i
        self.left -= n
        return n

    def write(self, data):
        return len(data)


def run(bus, port):
    pending = getattr(bus, "rx_pending", None)   # absent before the bound existed
    worst = total = calls = 0
    while True:
        t0 = ticks_us()
        got = bus.recv()
        dt = ticks_diff(ticks_us(), t0)
        calls += 1
        total += dt
        worst = max(worst, dt)
        if not got and port.left <= 0 and not (pending and pending()):
            return worst, total, calls


DATA = bytearray(b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")


def send_cost(bus, n):
    data = DATA
    worst = total = 0
    for _ in range(n):
        t0 = ticks_us()
        bus.send(0x351, data)
        dt = ticks_diff(ticks_us(), t0)
        total += dt
        worst = max(worst, dt)
    return worst, total, n


def main():
    for name, unit, n in (("S6", b"S6\r", 3000), ("blank", b"\r", 9000), ("V", b"V\r", 3000),
                          ("malformed", b"tZZZ8\r", 1500), ("frames", b"t30780000000056494300\r", 400),
                          ("send", None, 400)):
        port = StreamPort(unit or b"", n if unit else 0)
        bus = SlcanBus(port, opened=True)
        gc.collect()
        if hasattr(gc, "mem_alloc"):
            gc.disable()   # a collection mid-run would be counted as one call's cost
            before = gc.mem_alloc()
        worst, total, calls = send_cost(bus, n) if unit is None else run(bus, port)
        alloc = gc.mem_alloc() - before if hasattr(gc, "mem_alloc") else -1
        gc.enable()
        line = "%s bytes=%d calls=%d worst_call_us=%d total_us=%d alloc_bytes=%d" % (
            name, n * len(unit or b""), calls, worst, total, alloc)
        if sys.platform != "linux":   # the emulated M0: us x 1000 instructions x CPI 1.8 / 125 MHz
            line += " worst_call_rp2040_ms=%.2f" % (worst * 0.0144)
        print(line)


main()
