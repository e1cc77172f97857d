# The link's reads past its preallocated views (VIEWS, enough for every reply the
# bus master asks for): a longer reply, delivered in small pieces, is received
# through _read_beyond and taken exactly (both runtimes, blocking and non-blocking
# UARTs), and never overruns rx.

from drivers.tesla_link import VIEWS, TeslaLink
from protocols.tesla import codec
from protocols.tesla import frame as F

COUNT = 40   # registers: a 44-byte reply, more than the views cover


def _reply(addr, count, fill):
    r = bytearray(count + 4)
    r[0] = addr << 1
    r[1] = 0
    r[2] = count
    for k in range(count):
        r[3 + k] = (fill + k) & 0x3F
    r[count + 3] = codec.crc8(r, 0, count + 3)
    return bytes(r)


class PieceUart:
    """Answers a read of board 2 `piece` bytes at a time."""

    def __init__(self, piece, nonblocking):
        self.piece = piece
        self.queue = b""
        self.asked = []
        if nonblocking:
            self.wait = lambda ms: len(self.queue) > 0

    def write(self, data):
        self.queue = _reply(2, COUNT, 30)
        return len(data)

    def any(self):
        return min(len(self.queue), self.piece)

    def readinto(self, buf, nbytes=-1):
        n = min(len(self.queue), len(buf))
        if nbytes >= 0:
            n = min(n, nbytes)
        self.asked.append(n)
        for k in range(n):
            buf[k] = self.queue[k]
        self.queue = self.queue[n:]
        return n or None


def test_a_reply_longer_than_the_views_is_read_through_the_spare_buffer():
    assert COUNT + 4 > VIEWS
    for nonblocking in (False, True):
        uart = PieceUart(5, nonblocking)
        link = TeslaLink(uart, 3, False)
        link.stage_read(2, 0, COUNT)
        assert link.exchange() == F.OK, nonblocking
        assert bytes(link.rx[:COUNT + 4]) == _reply(2, COUNT, 30)
        assert link.failed == 0 and link.got == COUNT + 4
        if not nonblocking:
            assert max(uart.asked) <= 5   # never more than any() said was waiting
