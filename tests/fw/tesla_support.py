# Helpers for the Tesla bus tests (both runtimes): a master-side UART wired straight
# to the module emulator (no pty, no threads), a replay UART that allocates nothing,
# and a bus factory.

from drivers.tesla_bus import TeslaBus  # first: the biggest module to compile

try:
    from time import sleep_ms
except ImportError:  # CPython
    import time as _time

    def sleep_ms(ms):
        _time.sleep(ms / 1000)

from bms import config
from bms.diagnosis import Diagnosis
from protocols.tesla import frame as F
from protocols.tesla import registers as R
from simulator.tesla_modules import ModuleChain

FAST = {"bus_timeout_ms": 3, "bus_reset_wait_ms": 0}


class _ChainSide:
    """The emulator's end of the link: what it writes lands in the master's rx."""

    def __init__(self, link):
        self.link = link

    def any(self):
        return 0

    def read(self, n=256):
        return None

    def write(self, data):
        self.link.rx += bytes(data)
        return len(data)


class ChainLink:
    """Master-side UART (any/readinto/write/wait) driving a ModuleChain directly."""

    def __init__(self, count=4, **kwargs):
        self.rx = b""
        self.chain = ModuleChain(_ChainSide(self), count, **kwargs)
        self.written = 0

    def write(self, data):
        self.written += len(data)
        self.chain.feed(bytes(data))
        return len(data)

    def any(self):
        if not self.rx:
            self.chain.step()
        return len(self.rx)

    def readinto(self, buf, nbytes=-1):
        if not self.any():
            return None
        n = min(len(buf), len(self.rx))
        if nbytes >= 0:
            n = min(n, nbytes)
        for i in range(n):
            buf[i] = self.rx[i]
        self.rx = self.rx[n:]
        return n

    def wait(self, timeout_ms):
        if self.any():
            return True
        sleep_ms(1 if timeout_ms > 0 else 0)
        return bool(self.any())


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
        from protocols.tesla import convert as C
        self.replies = {}
        for reg, value in ((R.ADC_CONTROL, R.ADC_ALL), (R.IO_CONTROL, R.IO_THERMISTORS),
                           (R.ADC_CONVERT, 1)):
            self.replies[((R.BROADCAST << 1 | 1) << 8) | reg] = F.write_frame(R.BROADCAST, reg, value)
        for a in range(1, count + 1):
            r = bytearray(4 + 19)
            r[0] = a << 1
            r[1] = R.DEVICE_STATUS
            r[2] = 19
            r[3] = R.DS_DRDY | R.DS_ADDR_RQST
            words = [C.module_raw(6 * cells_mv)] + [C.cell_raw(cells_mv)] * 6 + \
                [C.temp_raw(250), C.temp_raw(250, 1)]
            for k in range(9):
                r[4 + 2 * k] = words[k] >> 8
                r[5 + 2 * k] = words[k] & 0xFF
            r[22] = F.crc8(r, 0, 22)
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
