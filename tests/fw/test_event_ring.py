# app.events.RingStream: the RAM ring of recent event-log records, one fixed
# bytearray. Records leave whole, oldest first; the ring never grows.

from app.events import RingStream


def _line(k, width=20):
    body = '{"t_ms": %d' % k
    return body + " " * (width - len(body) - 2) + "}\n"   # `width` bytes with the newline


def test_records_come_back_oldest_first_as_written():
    ring = RingStream(256)
    for k in range(5):
        ring.write(_line(k))
    assert ring.records() == [_line(k) for k in range(5)]
    assert ring.written == 5 and ring.dropped == 0


def test_a_full_ring_drops_whole_oldest_records_and_keeps_its_size():
    ring = RingStream(100)                 # five 20-byte records fit exactly
    size = len(ring.buf)
    for k in range(23):                    # wraps around the buffer several times
        ring.write(_line(k))
        kept = ring.records()
        assert kept == [_line(j) for j in range(max(0, k - 4), k + 1)], (k, kept)
    assert len(ring.buf) == size and ring.dropped == 18 and ring.written == 23


def test_records_of_different_lengths_wrap_and_stay_whole():
    ring = RingStream(64)
    lines = [_line(k, 11 + (k * 7) % 30) for k in range(40)]
    for k, line in enumerate(lines):
        ring.write(line)
        kept = ring.records()
        assert kept == lines[k + 1 - len(kept):k + 1], k   # a suffix of what was written
        assert sum(len(x) for x in kept) <= 64


def test_a_record_longer_than_the_ring_is_counted_not_stored():
    ring = RingStream(32)
    ring.write(_line(1))
    ring.write(_line(2, 40))
    assert ring.records() == [_line(1)] and ring.too_long == 1


class _Out:
    def __init__(self):
        self.text = []

    def write(self, s):
        self.text.append(s)


def test_dump_writes_a_header_then_the_ring():
    ring = RingStream(128)
    ring.write(_line(7))
    out = _Out()
    ring.dump(out, {"module_count": 2})
    assert '"config"' in out.text[0] and out.text[1:] == [_line(7)]
