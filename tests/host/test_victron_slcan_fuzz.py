# Garbage on the SLCAN line (a host tool gone wrong, a noisy USB adapter): the
# firmware side never raises, never hands on a malformed frame, and recovers the
# valid frames that follow the next line end.

from hypothesis import given, settings, strategies as st

from drivers.can_slcan import SlcanBus
from tests.fw.test_victron_can_drivers import BytePort

GX_LINE = b"t3078000000005649430000\r"   # 0x307, "VIC" in bytes 4-6


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_random_bytes_never_raise_or_yield_a_malformed_frame(noise, chunk):
    port = BytePort(chunk)
    port.incoming.extend(b"O\r" + noise + b"\r" + GX_LINE)
    bus = SlcanBus(port)
    frames = []
    for _ in range(400):
        if not bus.recv():
            if not port.incoming:
                break
            continue
        frames.append((bus.rx_id, bytes(bus.rx_data[:bus.rx_len])))
        assert bus.rx_len <= 8
        assert bus.rx_id <= 0x7FF or bus.rx_id & 0x80000000
    assert frames and frames[-1] == (0x307, bytes.fromhex("0000000056494300")), frames[-3:]
