# Hypothesis fuzz of the reply parser and of the bus master: random, truncated and
# corrupted byte streams. No exception escapes; no frame that fails a check is ever
# accepted; the bus master never stores a value that differs from the emulator's
# truth, under every single-fault-per-frame error CRC-8 plus the length checks are
# guaranteed to catch.

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms import diagnosis
from protocols.tesla import codec
from protocols.tesla import frame as F
from tests.fw.tesla_support import bus_skip_discovery, make_bus, poll_checking

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _reply(addr, reg, data):
    r = bytearray([addr << 1, reg, len(data)]) + bytearray(data)
    return bytes(r + bytearray([codec.crc8(r)]))


replies = st.builds(_reply, st.integers(1, 62), st.integers(0, 0x4B),
                    st.binary(min_size=1, max_size=24))


def _expect(frame):
    return frame[0] >> 1, frame[1], frame[2]


@SETTINGS
@given(st.binary(max_size=40), st.integers(0, 62), st.integers(0, 255), st.integers(1, 30),
       st.booleans(), st.integers(0, 255))
def test_random_bytes_never_raise_and_ok_means_every_check_passed(data, addr, reg, count,
                                                                   write, value):
    code = codec.parse_reply(data, addr, reg, count, write, value)
    assert 0 <= code < F.ERROR_COUNT
    if code == F.OK:
        need = 4 if write else count + 4
        assert len(data) == need and data[1] == reg
        assert data[0] & 0x7F == (addr << 1) | (1 if write else 0)
        assert data[2] == (value if write else count)
        assert codec.crc8(data[:-1]) == data[-1] or codec.crc8(bytes([data[0] & 0x7F]) + data[1:-1]) == data[-1]


@SETTINGS
@given(replies, st.data())
def test_single_byte_corruption_is_always_caught(frame, data):
    pos = data.draw(st.integers(0, len(frame) - 1))
    x = data.draw(st.integers(1, 255))
    bad = bytearray(frame)
    bad[pos] ^= x
    assert codec.parse_reply(bytes(bad), *_expect(frame)) != F.OK


@SETTINGS
@given(replies, st.data())
def test_dropped_inserted_and_truncated_bytes_are_always_caught(frame, data):
    pos = data.draw(st.integers(0, len(frame) - 1))
    dropped = frame[:pos] + frame[pos + 1:]
    inserted = frame[:pos] + bytes([data.draw(st.integers(0, 255))]) + frame[pos:]
    cut = frame[:data.draw(st.integers(0, len(frame) - 1))]
    for bad in (dropped, inserted, cut):
        assert codec.parse_reply(bad, *_expect(frame)) != F.OK


@SETTINGS
@given(replies, st.data())
def test_odd_bit_errors_and_short_bursts_are_always_caught(frame, data):
    nbits = len(frame) * 8
    flips = data.draw(st.sets(st.integers(0, nbits - 1), min_size=1, max_size=9)
                      .filter(lambda s: len(s) % 2 == 1))
    bad = bytearray(frame)
    for b in flips:          # x^8+x^2+x+1 has the factor x+1: every odd weight is caught
        bad[b // 8] ^= 0x80 >> (b % 8)
    assert codec.parse_reply(bytes(bad), *_expect(frame)) != F.OK
    start = data.draw(st.integers(0, nbits - 8))
    pattern = data.draw(st.integers(1, 255)) | 0x81   # a burst of 2..8 bits
    bad = bytearray(frame)
    for k in range(8):
        if pattern & (0x80 >> k):
            b = start + k
            bad[b // 8] ^= 0x80 >> (b % 8)
    assert codec.parse_reply(bytes(bad), *_expect(frame)) != F.OK


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2 ** 31), st.sampled_from([0.002, 0.01, 0.03]), st.booleans())
def test_bus_master_under_noise_never_stores_a_wrong_value(seed, noise, read_crc):
    bus, link, diag, _ = make_bus(3, {"bus_retry_budget": 16, "bus_read_crc": read_crc},
                                  noise=noise, seed=seed)
    def truth(b, c):
        return 3100 + 200 * b + 13 * c
    for b in range(3):
        link.chain.set_cells(b, [truth(b, c) for c in range(6)])
    poll_checking(bus, 3, truth, 6)
    assert not diag.active[diagnosis.INTERNAL]


class GarbageUart:
    """Answers every request with bytes hypothesis chose."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.rx = b""

    def write(self, data):
        if self.chunks:
            self.rx += self.chunks.pop(0)
        return len(data)

    def any(self):
        return len(self.rx)

    def readinto(self, buf, nbytes=-1):
        n = min(len(buf), len(self.rx))
        if nbytes >= 0:
            n = min(n, nbytes)
        if not n:
            return None
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        return n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=30), max_size=60))
def test_bus_master_on_a_garbage_stream_never_raises_nor_trusts_it(chunks):
    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.tesla_bus import TeslaBus
    diag = Diagnosis()
    cfg = config.make({"module_count": 2, "bus_timeout_ms": 1, "bus_reset_wait_ms": 0,
                       "bus_retries": 1})
    bus = TeslaBus(GarbageUart(chunks), cfg, diag)
    bus_skip_discovery(bus)     # go straight to reading boards
    for k in range(3):
        bus.poll(k * 250)
    assert not diag.active[diagnosis.INTERNAL]
    assert bus.link.frames > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.integers(3 * 8, 22 * 8 - 1), min_size=1, max_size=24), st.booleans())
def test_a_corrupted_reply_with_a_valid_crc_never_reaches_the_pack(flips, every_reply):
    """An adversary flips any bits of the payload and fixes the CRC (more than CRC-8
    ever lets through), in one reply or in every reply with a pattern that differs
    from reply to reply (line noise does not repeat itself; a corruption repeated
    byte for byte with a valid CRC is what the board itself says): the pack may hold
    a value only within the checks' resolution of the truth (4.6 mV, 0.5 degC), never
    further off; it may go stale instead."""
    from protocols.tesla import convert as C
    from protocols.tesla import registers as R
    bus, link, diag, _ = make_bus(2)
    link.chain.set_cells(1, [3600, 3650, 3700, 3750, 3800, 3850])
    link.chain.set_temps(1, [215, 240])
    t = 0
    for _ in range(2):
        t += 250
        bus.poll(t)
    side = link.chain.uart
    write = side.write
    state = {"left": 1, "shift": 0}

    def corrupting(data):
        if (every_reply or state["left"]) and len(data) >= 23 and data[0] == 2 << 1:
            state["left"] = 0
            b = bytearray(data)
            for bit in flips:
                bit = 24 + (bit - 24 + state["shift"]) % (19 * 8)   # within the payload
                b[bit >> 3] ^= 0x80 >> (bit & 7)
            state["shift"] += 1
            b[len(b) - 1] = codec.crc8(b, 0, len(b) - 1)
            data = bytes(b)
        return write(data)
    side.write = corrupting
    board = link.chain.boards[1]
    for _ in range(2):
        t += 250
        bus.poll(t)
        regs = board.regs
        for c in range(6):
            raw = (regs[R.VCELL1 + 2 * c] << 8) | regs[R.VCELL1 + 2 * c + 1]
            assert abs(bus.cell_mv(6 + c) - C.cell_mv(raw)) <= 5, (c, bus.cell_mv(6 + c))
        for k in range(2):
            raw = (regs[R.TEMPERATURE1 + 2 * k] << 8) | regs[R.TEMPERATURE1 + 2 * k + 1]
            assert abs(bus.temp_dc(2 + k) - C.temp_dc(raw, k)) <= 10, (k, bus.temp_dc(2 + k))
    assert not diag.active[diagnosis.INTERNAL]
