# The master's end of an emulated module ring without a pseudo-terminal: a
# UART-like object (any, readinto, write, wait) that drives a ModuleChain in the
# same interpreter. For tests and benchmarks on either runtime; no threads.

try:
    from time import sleep_ms
except ImportError:  # CPython
    import time as _time

    def sleep_ms(ms):
        _time.sleep(ms / 1000)

from drivers.clock import ticks_diff, ticks_ms
from simulator.tesla_modules import ModuleChain


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
        """Block until a byte is waiting or timeout_ms has passed, like
        PosixSerial.wait: True when something is waiting."""
        start = ticks_ms()
        while not self.any():
            if ticks_diff(ticks_ms(), start) >= timeout_ms:
                return False
            sleep_ms(1)
        return True
