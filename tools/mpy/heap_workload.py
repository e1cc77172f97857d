# Heap of the firmware core on MicroPython: bytes held after importing the core
# modules, then after building their objects for a 16-module pack (config,
# diagnosis, checks, limits, machine, Tesla bus master, Victron reporter). Prints
# one line: HEAP import_bytes=... objects_bytes=... total_bytes=... base_bytes=...
# Run it on the 32-bit build (tools/mpy/i686.py) with the firmware precompiled
# (MICROPYPATH=build/mpy-i686) or frozen in (MICROPYPATH=.frozen, the interpreter
# build-i686.sh makes from manifest.py): `pybms bench heap` does both.

import gc

CORE = ("bms.config", "bms.diagnosis", "bms.pack", "bms.checks", "bms.limits",
        "fsm.machine", "fsm.eventlog", "drivers.contactors", "drivers.can",
        "drivers.tesla_bus", "protocols.victron.reporter", "boards.hal")
MODULES = 16


def used():
    gc.collect()
    return gc.mem_alloc()


class NullUart:
    """A UART with nothing attached: the bus master is built, never polled."""

    def write(self, data):
        return len(data)

    def any(self):
        return 0

    def readinto(self, buf, n=-1):
        return None


def build():
    from bms import config
    from bms import diagnosis as D
    from bms.checks import LimitChecks
    from bms.limits import Limits
    from bms.pack import PackSummary
    from drivers.can import MemoryBus
    from drivers.contactors import Contactors
    from drivers.gpio import MemoryPin
    from drivers.tesla_bus import TeslaBus
    from fsm.context import Context
    from fsm.machine import Machine
    from protocols.victron.reporter import Reporter
    cfg = config.make({"module_count": MODULES})
    diag = D.Diagnosis()
    pins = [MemoryPin(n) for n in ("negative", "precharge", "positive")]
    machine = Machine(Context(cfg, Contactors(*pins)))
    machine.start(0)
    summary = PackSummary(1)
    limits = Limits(cfg, MODULES * 6)
    checks = LimitChecks(cfg, diag)
    bus = TeslaBus(NullUart(), cfg, diag)
    rep = Reporter(MemoryBus(record=False), cfg, summary, limits, diag.active, machine.faults,
                   6, 2)
    return cfg, diag, machine, summary, limits, checks, bus, rep


def main():
    base = used()
    for name in CORE:
        __import__(name)
    imported = used()
    objects = build()
    built = used()
    print("HEAP import_bytes=%d objects_bytes=%d total_bytes=%d base_bytes=%d"
          % (imported - base, built - imported, built - base, base))
    return objects


main()
