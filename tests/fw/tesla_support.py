# Helpers for the Tesla bus tests (both runtimes): a master-side UART wired straight
# to the module emulator (no pty, no threads), a replay UART that allocates nothing,
# and a bus factory.

from drivers.tesla_bus import TeslaBus  # first: the biggest module to compile

from bms import config
from bms import diagnosis
from bms.diagnosis import Diagnosis
from protocols.tesla import codec
from protocols.tesla import encode
from protocols.tesla import registers as R
from simulator.tesla_direct import ChainLink

FAST = {"bus_timeout_ms": 3, "bus_reset_wait_ms": 0}


LOSS = diagnosis.COMM_LOSS
COUNT = diagnosis.MODULE_COUNT
ERRORS = diagnosis.COMM_ERRORS
FAULT = diagnosis.BOARD_FAULT
ALERT = diagnosis.BOARD_ALERT


def distinct_cells(link):
    for b in range(len(link.chain.boards)):
        link.chain.set_cells(b, [3000 + 100 * b + 10 * c for c in range(6)])
        link.chain.set_temps(b, [200 + 10 * b, 300 - 10 * b])


def run_cycles(bus, cycles, t0=0, dt=250):
    t = t0
    for _ in range(cycles):
        t += dt
        bus.poll(t)
    return t


def poll_checking(bus, boards, truth, cycles, t0=0, dt=250):
    """Poll `cycles` times; every board the bus calls fresh must hold exactly
    truth(board, cell) in all six cells. Returns (t, fresh board readings)."""
    t = t0
    fresh = 0
    for _ in range(cycles):
        t += dt
        bus.poll(t)
        for b in range(boards):
            if bus.board_age_ms(b, t) == 0:
                fresh += 1
                got = [bus.cell_mv(b * 6 + c) for c in range(6)]
                assert got == [truth(b, c) for c in range(6)], (b, got)
    return t, fresh


def bus_skip_discovery(bus):
    """Tell a bus its boards are addressed and configured (tests that feed it canned
    or garbage replies and no discovery)."""
    bus.discovered = True
    bus._discovered_once = True
    bus.found = bus.expected


def make_bus(count=4, overrides=None, link_count=None, **chain_kwargs):
    """A TeslaBus on a ChainLink; returns (bus, link, diag, changes)."""
    o = {"module_count": count}
    o.update(FAST)
    if overrides:
        o.update(overrides)
    cfg = config.make(o)
    changes = []
    diag = Diagnosis(on_change=lambda i, active, t: changes.append((i, active, t)))
    link = ChainLink(count if link_count is None else link_count, **chain_kwargs)
    return TeslaBus(link, cfg, diag), link, diag, changes


class ReplayLink:
    """Answers every request from frames computed in advance, without allocating:
    for the allocation test of the bus master's steady-state cycle."""

    def __init__(self, count, cells_mv=3700):
        self.replies = {}
        for reg, value in ((R.ADC_CONTROL, R.ADC_ALL), (R.IO_CONTROL, R.IO_THERMISTORS),
                           (R.ADC_CONVERT, 1)):
            self.replies[((R.BROADCAST << 1 | 1) << 8) | reg] = codec.write_frame(R.BROADCAST, reg, value)
        for a in range(1, count + 1):
            r = bytearray(4 + 19)
            r[0] = a << 1
            r[1] = R.DEVICE_STATUS
            r[2] = 19
            r[3] = R.DS_DRDY | R.DS_ADDR_RQST
            words = [encode.module_raw(6 * cells_mv)] + [encode.cell_raw(cells_mv)] * 6 + \
                [encode.temp_raw(250), encode.temp_raw(250, 1)]
            for k in range(9):
                r[4 + 2 * k] = words[k] >> 8
                r[5 + 2 * k] = words[k] & 0xFF
            r[22] = codec.crc8(r, 0, 22)
            self.replies[((a << 1) << 8) | R.DEVICE_STATUS] = bytes(r)
        self.cur = b""
        self.pos = 0

    def write(self, data):
        self.cur = self.replies.get((data[0] << 8) | data[1], b"")
        self.pos = 0
        return len(data)

    def any(self):
        return len(self.cur) - self.pos

    def readinto(self, buf, nbytes=-1):
        n = len(self.cur) - self.pos
        if n <= 0:
            return None
        if nbytes >= 0 and nbytes < n:
            n = nbytes
        if len(buf) < n:
            n = len(buf)
        cur = self.cur
        p = self.pos
        for i in range(n):
            buf[i] = cur[p + i]
        self.pos = p + n
        return n
