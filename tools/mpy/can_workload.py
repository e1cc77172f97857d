# Runs under MicroPython (and CPython): times building the Victron frame set and
# measures bytes allocated per transmit cycle. Prints one line of key=value.
# Usage: MICROPYPATH=.frozen:<repo> micropython -X heapsize=192K tools/mpy/can_workload.py N

import gc
import sys
import time

from bms import config
from bms import diagnosis as D
from bms.limits import Limits
from bms.pack import Pack, PackSummary
from drivers.can import MemoryBus
from drivers.can_slcan import SlcanBus
from protocols.victron.reporter import Reporter

try:
    from time import ticks_us, ticks_diff
except ImportError:
    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b


class BenchPack(Pack):
    def __init__(self):
        self.cells = [3700 + (i * 7) % 40 for i in range(12)]
        self.temps = [215, 250, 233, 241]

    def cell_count(self):
        return 12

    def temp_count(self):
        return 4

    def cell_mv(self, i):
        return self.cells[i]

    def temp_dc(self, i):
        return self.temps[i]

    def age_ms(self, t_ms):
        return 0


class NullPort:
    """An SLCAN port that takes every byte (what a pty with a reader does)."""

    def __init__(self):
        self.n = 0

    def write(self, data):
        self.n += 1
        return len(data)

    def readinto(self, buf):
        return None


def setup(bus):
    cfg = config.make()
    pack = BenchPack()
    summary = PackSummary(1)
    diag = D.Diagnosis()
    limits = Limits(cfg, 12)
    # As in Run: CAN TX allowed (poll's True below), no faults held by the machine.
    rep = Reporter(bus, cfg, summary, limits, diag.active, bytearray(D.COUNT),
                   cells_per_module=6, temps_per_module=2)
    return pack, summary, limits, rep


def cycle_fn(pack, summary, limits, rep):
    def cycle(t):
        summary.update(pack, t, 750)
        limits.update(summary, True, True)
        rep.bus.service(t)
        rep.poll(t, True, 5000, -125)
    return cycle


def measure(n):
    pack, summary, limits, rep = setup(MemoryBus(record=False))
    summary.update(pack, 0, 750)
    limits.update(summary, True, True)
    for _ in range(50):
        rep.build(5000, -125)
    start = ticks_us()
    for _ in range(n):
        rep.build(5000, -125)
    build_us = ticks_diff(ticks_us(), start) / n

    cycle = cycle_fn(pack, summary, limits, rep)
    for k in range(20):
        cycle(k * 1000)
    start = ticks_us()
    t = 20000
    for _ in range(n):
        t += 1000
        cycle(t)
    cycle_us = ticks_diff(ticks_us(), start) / n

    allocs = []
    for bus in (rep.bus, SlcanBus(NullPort(), opened=True)):
        if bus is rep.bus:
            c = cycle
        else:
            p, s, l, r = setup(bus)
            c = cycle_fn(p, s, l, r)
        for k in range(20):
            c(k * 1000)
        cycles = 200
        alloc = -1
        if hasattr(gc, "mem_alloc"):
            gc.collect()
            gc.disable()
            before = gc.mem_alloc()
            t = 100000
            for _ in range(cycles):
                t += 1000
                c(t)
            alloc = (gc.mem_alloc() - before) / cycles
            gc.enable()
        allocs.append(alloc)
    print("frames=%d build_us=%.1f cycle_us=%.1f alloc_memory_bus=%.1f alloc_slcan=%.1f"
          % (rep.n, build_us, cycle_us, allocs[0], allocs[1]))


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
