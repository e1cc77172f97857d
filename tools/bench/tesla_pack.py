# End-to-end error figures of the module bus: the bus master against the in-process
# emulator (8 boards, default configuration), addressed on a clean line, then with
# errors on what comes back (random bit errors on every returning frame, or bursts in
# every reply), counting readings that reach the pack marked fresh while any cell is
# > 5 mV or any temperature > 1 degC from the board's own registers.

import math
import random

import drivers.tesla_bus as tesla_bus
import drivers.tesla_link as tesla_link
import simulator.tesla_direct as tesla_direct
from bms import config
from bms.diagnosis import Diagnosis
from drivers.tesla_bus import TeslaBus
from protocols.tesla import convert as C
from protocols.tesla import registers as R
from simulator.tesla_direct import ChainLink


def _flip(b, bit):
    b[bit >> 3] ^= 0x80 >> (bit & 7)


def ber(rate):
    def corrupt(rng, data):
        b = bytearray(data)
        n = len(b) * 8
        bit = int(math.log(1.0 - rng.random()) / math.log(1.0 - rate))
        while bit < n:
            _flip(b, bit)
            bit += 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - rate))
        return bytes(b)
    return corrupt


def _burst(rng, b, lo, hi):
    n = len(b) * 8
    length = min(rng.randint(lo, hi), n)
    start = rng.randrange(n - length + 1)
    _flip(b, start)
    _flip(b, start + length - 1)
    for k in range(start + 1, start + length - 1):
        if rng.random() < 0.5:
            _flip(b, k)


def bursts(lo, hi, count):
    """count bursts of lo..hi bits (first and last bit flipped, the rest at random) in
    every reply; write echoes (4 bytes) pass intact, so the cycle itself runs."""
    def corrupt(rng, data):
        if len(data) <= 4:
            return data
        b = bytearray(data)
        for _ in range(count):
            _burst(rng, b, lo, hi)
        return bytes(b)
    return corrupt


CASES = (("BER 1e-3", "ber1e3", ber(1e-3)), ("BER 1e-2", "ber1e2", ber(1e-2)),
         ("bursts of 9-16 bits", "burst", bursts(9, 16, 1)),
         ("two 2-8-bit bursts per reply", "burst2", bursts(2, 8, 2)),
         ("clean line", "clean", None))


class VirtualTime:
    """Milliseconds that pass only when someone waits: timeouts and resyncs cost no
    wall time, so 10^6 frames take minutes, not hours. Installed into the link, the
    bus master and the in-process ring for the duration of a `with` block."""

    PATCHED = ((tesla_link, "ticks_ms"), (tesla_bus, "sleep_ms"), (tesla_direct, "ticks_ms"),
               (tesla_direct, "sleep_ms"))

    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    def sleep_ms(self, ms):
        self.now += max(ms, 0)

    def __enter__(self):
        self.saved = [getattr(m, name) for m, name in self.PATCHED]
        for m, name in self.PATCHED:
            setattr(m, name, self.ticks_ms if name == "ticks_ms" else self.sleep_ms)
        return self

    def __exit__(self, *exc):
        for (m, name), old in zip(self.PATCHED, self.saved):
            setattr(m, name, old)


class _NoisyLink(ChainLink):
    def __init__(self, count, corrupt, seed, clock):
        ChainLink.__init__(self, count, clock=clock)
        self.rng = random.Random(seed)
        self.corrupt = None          # switched on once the boards are addressed
        self.model = corrupt
        side = self.chain.uart

        def write(data, link=self):
            if link.corrupt is not None and data:
                data = link.corrupt(link.rng, data)
            link.rx += bytes(data)
            return len(data)
        side.write = write


def _truth(board):
    regs = board.regs
    cells = [C.cell_mv((regs[R.VCELL1 + 2 * c] << 8) | regs[R.VCELL1 + 2 * c + 1])
             for c in range(6)]
    temps = [C.temp_dc((regs[R.TEMPERATURE1 + 2 * t] << 8) | regs[R.TEMPERATURE1 + 2 * t + 1], t)
             for t in range(2)]
    return cells, temps


def run_case(corrupt, frames, boards=8, seed=1):
    with VirtualTime() as clock:
        return _run_case(corrupt, frames, boards, seed, clock)


def _run_case(corrupt, frames, boards, seed, clock):
    link = _NoisyLink(boards, corrupt, seed, clock.ticks_ms)
    for b in range(boards):
        link.chain.set_cells(b, [3400 + 37 * b + 11 * c for c in range(6)])
        link.chain.set_temps(b, [200 + 7 * b, 230 + 5 * b])
    diag = Diagnosis()
    cfg = config.make({"module_count": boards, "bus_reset_wait_ms": 0})   # defaults otherwise
    bus = TeslaBus(link, cfg, diag)
    t = 0
    for _ in range(2):              # discovery and a first reading on a clean line
        t += 250
        bus.poll(t)
    link.corrupt = link.model
    start = bus.link.frames
    rereads0 = bus.rereads + bus.link.retries_used
    bad = fresh = 0
    worst_mv = worst_dc = 0
    diagnosed = set()
    while bus.link.frames - start < frames:
        t += 250
        bus.poll(t)
        diagnosed.update(diag.active_ids())
        for b in range(boards):
            if bus.board_age_ms(b, t) != 0:
                continue
            fresh += 1
            cells, temps = _truth(link.chain.boards[b])
            e_mv = max(abs(bus.cell_mv(6 * b + c) - cells[c]) for c in range(6))
            e_dc = max(abs(bus.temp_dc(2 * b + k) - temps[k]) for k in range(2))
            if e_mv > 5 or e_dc > 10:
                bad += 1
                worst_mv = max(worst_mv, e_mv)
                worst_dc = max(worst_dc, e_dc)
    return {"frames": bus.link.frames - start, "fresh": fresh, "bad": bad, "worst_mv": worst_mv,
            "worst_dc": worst_dc, "rereads": bus.rereads + bus.link.retries_used - rereads0,
            "diag": sorted(diagnosed)}


def run_all(frames):
    return [(name, key, run_case(fn, frames)) for name, key, fn in CASES]
