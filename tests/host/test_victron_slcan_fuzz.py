# Garbage on the SLCAN line (a host tool gone wrong, a noisy USB adapter): the
# firmware side never raises, never hands on a malformed frame, and takes exactly
# the well-formed frames sent while the channel is open, including the valid line
# that follows the garbage. Commands count only in their exact form ("Cxyz" closes
# nothing).
# The oracle below is written independently of the driver (str/int parsing).

import string

from hypothesis import given, settings, strategies as st

from drivers.can_slcan import SlcanBus
from tests.fw.test_victron_slcan import BytePort

GX_LINE = b"t30780000000056494300\r"   # 0x307, "VIC" in bytes 4-6
GX_FRAME = (0x307, bytes.fromhex("0000000056494300"))
HEX = set(string.hexdigits)


def oracle(line):
    """(rx_id, data) when `line` (no terminator) is a well-formed SLCAN frame, else None."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text or text[0] not in "tTrR":
        return None
    ext = text[0] in "TR"
    remote = text[0] in "rR"
    id_len = 8 if ext else 3
    ident, dlc, data = text[1:1 + id_len], text[1 + id_len:2 + id_len], text[2 + id_len:]
    if len(ident) != id_len or not set(ident + data) <= HEX or dlc not in tuple("012345678"):
        return None
    if len(data) != (0 if remote else 2 * int(dlc)):
        return None
    can_id = int(ident, 16)
    if can_id > (0x1FFFFFFF if ext else 0x7FF):
        return None
    return (can_id | (0x80000000 if ext else 0), bytes.fromhex(data))


def expected_frames(stream):
    """The frames an adapter would put on the bus: well formed, and only while the
    channel is open for sending (after exactly "O"; not after "C", nor "L")."""
    lines = stream.replace(b"\n", b"\r").split(b"\r")
    lines.pop()   # what follows the last terminator is not a line yet
    state = b"C"
    frames = []
    for line in lines:
        if line in (b"O", b"L", b"C"):
            state = line
        elif oracle(line) is not None and state == b"O":
            frames.append(oracle(line))
    return frames


hex_text = st.text(alphabet="0123456789abcdefABCDEF", max_size=20)
near_hex = st.text(alphabet="0123456789ABCDEFGZ:g \xff", max_size=20)

# Lines that are almost frames: right command letter, ids of every length and size
# (including > 0x7FF and > 0x1FFFFFFF), DLC digits 0-9 and beyond, data shorter,
# longer or odd against the DLC, stray non-hex and non-ASCII bytes.
frame_like = st.builds(
    lambda cmd, ident, dlc, data: (cmd + ident + dlc + data).encode("latin-1"),
    st.sampled_from("tTrR"),
    st.one_of(hex_text.map(lambda s: s[:9]), near_hex.map(lambda s: s[:9]),
              st.integers(0, 0xFFF).map(lambda v: "%03X" % v),
              st.integers(0, 0xFFFFFFFF).map(lambda v: "%08X" % v)),
    st.sampled_from(list("0123456789AF:") + [""]),
    st.one_of(hex_text, near_hex, st.integers(0, 9).map(lambda n: "A5" * n)),
)
valid_line = st.one_of(
    st.builds(lambda i, d: b"t%03X%d%s" % (i, len(d), d.hex().encode()),
              st.integers(0, 0x7FF), st.binary(max_size=8)),
    st.builds(lambda i, d: b"T%08X%d%s" % (i, len(d), d.hex().encode()),
              st.integers(0, 0x1FFFFFFF), st.binary(max_size=8)),
)
command = st.sampled_from([b"", b"O", b"L", b"C", b"S6", b"V", b"F", b"X", b"t" * 40,
                           b"Cxyz", b"O1", b"L ", b"S9", b"Z2", b"s12", b"M0000000G"])
line = st.one_of(frame_like, valid_line, st.binary(max_size=40), command)
terminator = st.sampled_from([b"\r", b"\n", b"\r\n"])


def run(stream, chunk):
    port = BytePort(chunk)
    port.incoming.extend(stream)
    bus = SlcanBus(port)
    frames = []
    for _ in range(20000):
        if bus.recv():
            assert bus.rx_len <= 8
            assert bus.rx_id <= 0x7FF or (bus.rx_id & 0x80000000 and bus.rx_id & 0x7FFFFFFF <= 0x1FFFFFFF)
            frames.append((bus.rx_id, bytes(bus.rx_data[:bus.rx_len])))
        elif not port.incoming and not bus.rx_pending():
            return frames, bus
    raise AssertionError("recv() never used up the input")


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(line, terminator), max_size=25), st.integers(1, 64))
def test_near_frames_are_taken_exactly_when_well_formed(lines, chunk):
    stream = b"O\r" + b"".join(l + t for l, t in lines) + b"\rO\r" + GX_LINE
    frames, bus = run(stream, chunk)
    assert frames == expected_frames(stream), stream
    assert frames[-1] == GX_FRAME


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_random_bytes_never_raise_or_yield_a_malformed_frame(noise, chunk):
    stream = b"O\r" + noise + b"\rO\r" + GX_LINE
    frames, bus = run(stream, chunk)
    assert frames == expected_frames(stream)
    assert frames[-1] == GX_FRAME
