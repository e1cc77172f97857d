# SLCAN (drivers/can_slcan.py) against in-memory ports: the line protocol, what a
# malformed line does (counted, never returned, previous frame untouched), the
# per-call bound on recv(), answers dropped when the host does not read, and no
# allocation on the steady receive/transmit path under MicroPython.

from drivers.can_slcan import LINE_MAX, RECV_MAX_BYTES, RECV_MAX_LINES, SlcanBus
from tests.fw.alloc import allocated_by
from tests.fw.support import MICROPYTHON, skip

GX_307 = b"t30780000000056494300\r"   # 0x307, "VIC" in bytes 4-6


class BytePort:
    """machine.UART-like stream in memory: `incoming` is what the host wrote;
    `room` False plays a host that stopped reading (PosixSerial.writable)."""

    def __init__(self, chunk=64):
        self.incoming = bytearray()
        self.out = bytearray()
        self.chunk = chunk
        self.fail_write = False
        self.short_write = None   # bytes a write takes before "timing out"
        self.room = True
        self.taken = 0   # bytes handed to the driver so far

    def readinto(self, buf):
        n = min(len(buf), len(self.incoming), self.chunk)
        if not n:
            return None
        buf[:n] = self.incoming[:n]
        self.incoming = self.incoming[n:]
        self.taken += n
        return n

    def write(self, data):
        if self.fail_write:
            raise OSError(5)
        n = min(len(data), self.short_write) if self.short_write is not None else len(data)
        self.out.extend(data[:n])
        return n if n else None   # machine.UART: None when nothing went out in time

    def writable(self, timeout_ms=0):
        return self.room


def drain(bus, port, limit=10000):
    """Call recv() until the input is used up; the frames taken, as (id, bytes)."""
    frames = []
    for _ in range(limit):
        if bus.recv():
            frames.append((bus.rx_id, bytes(bus.rx_data[:bus.rx_len])))
        elif not port.incoming and not bus.rx_pending():
            return frames
    raise AssertionError("input not used up after %d calls" % limit)


def test_slcan_waits_for_the_host_to_open_then_writes_frames():
    port = BytePort()
    bus = SlcanBus(port)
    assert not bus.send(0x351, b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")
    assert bus.tx_errors == 1 and port.out == b""
    port.incoming.extend(b"C\rS6\rO\r")
    assert not bus.recv()
    assert bus.is_open and bus.commands == 3 and port.out == b"\r\r\r"
    port.out = bytearray()
    assert bus.send(0x351, b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")
    assert bytes(port.out) == b"t35182802F401E803E001\r"
    port.out = bytearray()
    assert bus.send(0x35E, b"py")
    assert bytes(port.out) == b"t35E27079\r"
    port.out = bytearray()
    assert bus.send(0x7FF, b"")
    assert bytes(port.out) == b"t7FF0\r"
    assert bus.tx_ok == 3
    assert not bus.send(0x800, b"")   # not an 11-bit id
    assert not bus.send(0x351, bytes(9))
    port.fail_write = True
    assert not bus.send(0x351, b"\x00" * 8)
    assert bus.tx_errors == 4
    port.fail_write = False
    for short in (0, 5):   # a UART write that timed out part-way is not a frame sent
        port.short_write = short
        assert not bus.send(0x351, b"\x00" * 8)
    assert bus.tx_errors == 6 and bus.tx_ok == 3


def test_slcan_receives_gx_frames_split_across_reads_and_odd_traffic():
    port = BytePort(chunk=5)
    bus = SlcanBus(port, opened=True)
    port.incoming.extend(b"t30580001020304050607\rt30781234567856494300\r")
    port.incoming.extend(b"T123456782ABCD\rr1230\rtZZZ1\rt12\rV\rF\rX\r")
    assert bus.recv() and bus.rx_id == 0x305 and bus.rx_len == 8
    assert bytes(bus.rx_data) == bytes(range(8))
    assert bus.recv() and bus.rx_id == 0x307 and bytes(bus.rx_data[4:7]) == b"VIC"
    assert bus.recv() and bus.rx_id == 0x80000000 | 0x12345678 and bus.rx_len == 2
    assert bytes(bus.rx_data[:2]) == b"\xab\xcd"
    assert bus.recv() and bus.rx_id == 0x123 and bus.rx_len == 0
    assert not bus.recv()   # five lines, no frame: more than one call's bound
    assert drain(bus, port) == []
    assert bus.rx_errors == 3 and bus.rx_frames == 4 and bus.recv_bounded == 1   # tZZZ1 t12 X
    assert bus.commands == 2
    assert b"V1010\r" in port.out and b"F00\r" in port.out and port.out.endswith(b"\x07")
    port.incoming.extend(b"t" + b"1" * 40 + b"\r")
    assert not bus.recv() and bus.rx_errors == 4
    port.incoming.extend(b"C\r")
    bus.recv()
    assert not bus.is_open


# Each is one line the driver must refuse; the reason is the test's label.
MALFORMED = (
    (b"t8000", "11-bit id above 0x7FF"),
    (b"tFFF0", "11-bit id above 0x7FF"),
    (b"T200000000", "29-bit id above 0x1FFFFFFF"),
    (b"TFFFFFFFF0", "29-bit id above 0x1FFFFFFF"),
    (b"t3512AABBCC", "data longer than the DLC"),
    (b"t35182802F401E803E001A", "data longer than the DLC (odd)"),
    (b"t35182802F401E803E0", "data shorter than the DLC"),
    (b"t3512A", "odd hex count, short"),
    (b"t3519" + b"00" * 9, "DLC 9"),
    (b"t351A" + b"00" * 10, "DLC as a hex digit"),
    (b"t351:", "DLC not a digit"),
    (b"t3G12AABB", "bad hex in the id"),
    (b"t3512AG", "bad hex in the data"),
    (b"t3512\xff\xfe", "non-ASCII data"),
    (b"r1230AA", "remote frame with data"),
    (b"R1234567", "extended remote without DLC"),
    (b"t351", "no DLC"),
    (b"t3", "truncated id"),
    (b"t", "nothing but the command"),
    (b"T1234567G0", "bad hex in the extended id"),
    (b"t" + b"1" * (LINE_MAX + 5), "over-long line"),
)


def test_slcan_refuses_every_malformed_line_and_keeps_the_last_frame():
    port = BytePort(chunk=7)
    bus = SlcanBus(port, opened=True)
    port.incoming.extend(GX_307)
    assert bus.recv() and bus.rx_id == 0x307
    for line, why in MALFORMED:
        errors = bus.rx_errors
        port.incoming.extend(line + b"\r")
        frames = drain(bus, port)
        assert frames == [], "%s accepted: %r -> %r" % (why, line, frames)
        assert bus.rx_errors == errors + 1, why
        # a refused line never touches what the last good frame left
        assert bus.rx_id == 0x307 and bus.rx_len == 8 and bytes(bus.rx_data[4:7]) == b"VIC", why
    assert bus.rx_frames == 1
    # and the next good line is taken as it is
    port.incoming.extend(b"t7FF0\rT1FFFFFFF1AB\rt001118\rr0000\rt12381122334455667788\r")
    assert drain(bus, port) == [(0x7FF, b""), (0x80000000 | 0x1FFFFFFF, b"\xab"), (0x001, b"\x18"),
                                (0x000, b""), (0x123, bytes.fromhex("1122334455667788"))]


def test_commands_count_only_in_their_exact_form():
    port = BytePort()
    bus = SlcanBus(port, opened=True)
    bad = (b"Cxyz", b"C ", b"O1", b"L0", b"S9", b"S", b"S66", b"Z2", b"s12", b"s12G4", b"M0000000G",
           b"m000", b"V1", b"F0", b"Q", b"\x00")
    for line in bad:
        port.incoming.extend(line + b"\r")
    drain(bus, port)
    assert bus.rx_errors == len(bad) and bus.commands == 0, bus.rx_errors
    assert bus.is_open and not bus.listen_only      # nothing closed or changed the channel
    assert bytes(port.out) == b"\x07" * len(bad)
    port.out = bytearray()
    good = (b"S0", b"S8", b"s031C", b"Z0", b"Z1", b"M00000000", b"mFFFFFFFF", b"W2", b"Y5", b"v", b"N")
    for line in good:
        port.incoming.extend(line + b"\r")
    drain(bus, port)
    assert bus.commands == len(good) and bus.rx_errors == len(bad)
    assert bytes(port.out) == b"\r" * 9 + b"V1010\rNPYBM\r"


def test_frames_are_refused_while_closed_or_listening_only():
    port = BytePort()
    bus = SlcanBus(port)
    port.incoming.extend(GX_307 + b"L\r" + GX_307 + b"O\r" + GX_307 + b"C\r" + GX_307)
    assert drain(bus, port) == [(0x307, bytes.fromhex("0000000056494300"))]
    assert bus.rx_refused == 3 and bus.rx_errors == 0 and bus.rx_frames == 1
    assert port.out.count(b"\x07") == 3


def test_recv_bounds_its_work_per_call():
    for unit in (b"S6\r", b"\r", b"\n\r", b"V\r", b"tZZZ8\r", b"X" * 50 + b"\r"):
        port = BytePort(chunk=64)
        bus = SlcanBus(port, opened=True)
        port.incoming.extend(unit * (1000 // len(unit)) + GX_307)   # far past one call's bound
        got = False
        for _ in range(100000):
            taken, lines = port.taken, bus.commands + bus.rx_errors
            got = bus.recv()
            # one call: at most the bound, plus what is left of the read that crossed it
            assert port.taken - taken <= RECV_MAX_BYTES + 64, unit
            assert bus.commands + bus.rx_errors - lines <= RECV_MAX_LINES, unit
            if got:
                break
        assert got, unit
        assert bus.rx_id == 0x307, unit
        assert bus.recv_bounded > 0, unit
        assert not port.incoming and not bus.rx_pending()


def test_answers_are_dropped_and_counted_when_the_host_does_not_read():
    port = BytePort()
    bus = SlcanBus(port, opened=True)
    port.room = False
    port.incoming.extend(b"V\rS6\rN\rF\rX\r" * 10 + GX_307)
    frames = drain(bus, port)
    assert frames == [(0x307, bytes.fromhex("0000000056494300"))]
    assert port.out == b"" and bus.answers_dropped == 50 and bus.commands == 40
    assert bus.rx_errors == 10   # X is no command
    assert not bus.send(0x351, bytes(8)) and bus.tx_busy == 1
    # the host reads again: answers and frames flow again
    port.room = True
    port.incoming.extend(b"V\r")
    drain(bus, port)
    assert bytes(port.out) == b"V1010\r" and bus.answers_dropped == 50
    assert bus.send(0x351, bytes(8)) and bus.tx_ok == 1
    # a write that fails is a dropped answer too
    port.fail_write = True
    port.incoming.extend(b"O\r")
    drain(bus, port)
    assert bus.answers_dropped == 51
    port.fail_write = False
    port.short_write = 2
    port.incoming.extend(b"V\r")
    drain(bus, port)
    assert bus.answers_dropped == 52
    assert bus.slcan_counters() == (bus.commands, 52, bus.recv_bounded, 0)


class LoopPort:
    """Serves the same bytes round and round and takes every write, allocating
    nothing itself, so any allocation measured is the driver's."""

    def __init__(self, script, chunk):
        self.script = script
        self.pos = 0
        self.chunk = chunk
        self.written = 0

    def readinto(self, buf):
        s = self.script
        n = self.chunk
        for i in range(n):
            buf[i] = s[self.pos]
            self.pos += 1
            if self.pos == len(s):
                self.pos = 0
        return n

    def write(self, data):
        self.written += len(data)
        return len(data)

    def writable(self, timeout_ms=0):
        return True


def test_steady_receive_and_transmit_allocate_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    # what a GX sends (0x305 keep-alive, 0x307 identity), a query, a short frame,
    # a malformed line: the receive path in all its steady shapes
    script = b"t30580001020304050607\rt30781234567856494300\rF\rt3512ABCD\rtZZZ1\r"
    bus = SlcanBus(LoopPort(script, 13), opened=True)
    limits = bytearray(b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")
    short = bytearray(b"py")

    def cycle():
        for _ in range(300):
            bus.recv()
            bus.send(0x351, limits)
            bus.send(0x35E, short)
    cycle()  # warm up
    frames, sent = bus.rx_frames, bus.tx_ok
    used = allocated_by(cycle)
    assert bus.rx_frames > frames and bus.tx_ok == sent + 600
    assert used == 0, "SLCAN recv/send allocated %d bytes over 300 passes" % used
