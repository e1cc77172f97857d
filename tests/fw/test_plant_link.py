# The firmware end of the plant link (drivers/plant_link.py) on both runtimes:
# pins and I2C over checked lines, garbage counted and survived, waits bounded.

from drivers.clock import ticks_diff, ticks_ms
from drivers.plant_link import ENODEV, ETIMEDOUT, PlantLink, checked_body
from tests.fw.support import raises

_HEX = "0123456789ABCDEF"


def _sealed(body):
    x = 0
    for c in body:
        x ^= c
    return body + b"*" + bytes([ord(_HEX[x >> 4]), ord(_HEX[x & 15])]) + b"\n"


class FakePlantPort:
    """Bytes the firmware writes are kept as lines; `answer` (if set) is called with
    each complete line and returns bytes to deliver back."""

    def __init__(self):
        self.rx = b""
        self.written = []
        self.answer = None
        self._partial = b""

    def readinto(self, buf):
        if not self.rx:
            return None
        n = min(len(buf), len(self.rx))
        for i in range(n):
            buf[i] = self.rx[i]
        self.rx = self.rx[n:]
        return n

    def write(self, data):
        data = bytes(data)
        self._partial += data
        while b"\n" in self._partial:
            i = self._partial.index(b"\n")
            line = self._partial[:i]
            self._partial = self._partial[i + 1:]
            self.written.append(line)
            if self.answer is not None:
                self.rx += self.answer(line)
        return len(data)


def _body(line):
    n = checked_body(line, len(line))
    assert n > 0, line
    return line[:n]


def test_outputs_send_checked_lines_on_change_only():
    port = FakePlantPort()
    link = PlantLink(port)
    pin = link.pin("positive", True)
    link.poll()                       # the first poll re-sends every output once
    port.written = []
    pin.value(0)
    assert port.written == []         # unchanged: nothing sent
    pin.value(1)
    pin.value(1)
    assert [_body(x) for x in port.written] == [b"o positive 1"]
    assert pin.value() == 1


def test_inputs_follow_pushed_lines_and_garbage_is_counted():
    port = FakePlantPort()
    link = PlantLink(port)
    fb = link.pin("positive_fb")
    reset = link.pin("reset")
    port.rx = _sealed(b"p positive_fb 1") + b"\x00\xff garbage\n" + _sealed(b"p reset 1")[:-4] \
        + b"*00\n" + b"x" * 200 + b"\n" + _sealed(b"p nosuch 1") + _sealed(b"p reset 2")
    assert fb.value() == 1
    assert reset.value() == 0          # the bad checksum, the bad level: not applied
    assert link.errors == 4            # garbage, checksum, overlong, level 2
    port.rx = _sealed(b"p reset 1")
    assert reset.value() == 1


def _i2c_responder(memory):
    """A plant with one chip at 0x40: register pointer write, then reads."""
    state = {"ptr": 0}

    def answer(line):
        body = _body(line)
        parts = body.split(b" ")
        if parts[0] != b"i":
            return b""
        seq = parts[1]
        addr = int(parts[2], 16)
        if addr != 0x40:
            return _sealed(b"r " + str(int(seq)).encode() + b" !")
        if parts[3] != b"-":
            data = bytes(int(parts[3][k:k + 2], 16) for k in range(0, len(parts[3]), 2))
            state["ptr"] = data[0]
            for k in range(1, len(data)):
                memory[data[0] + k - 1] = data[k]
        n = int(parts[4])
        if not n:
            return _sealed(b"r " + str(int(seq)).encode() + b" -")
        out = b"".join(bytes([ord(_HEX[memory[state["ptr"] + k] >> 4]),
                              ord(_HEX[memory[state["ptr"] + k] & 15])]) for k in range(n))
        return b"junk\n" + _sealed(b"r " + str(int(seq)).encode() + b" " + out)
    return answer


def test_i2c_methods_as_machine_i2c():
    memory = bytearray(range(16))
    port = FakePlantPort()
    port.answer = _i2c_responder(memory)
    link = PlantLink(port)
    i2c = link.i2c()
    buf = bytearray(3)
    i2c.readfrom_mem_into(0x40, 5, buf)
    assert buf == bytearray(b"\x05\x06\x07")
    i2c.writeto_mem(0x40, 2, b"\xAA\xBB")
    assert memory[2] == 0xAA and memory[3] == 0xBB
    assert i2c.readfrom_mem(0x40, 2, 2) == b"\xAA\xBB"
    assert i2c.writeto(0x40, b"\x04") == 1
    assert i2c.readfrom(0x40, 1) == b"\x04"
    e = raises(OSError, i2c.readfrom_mem_into, 0x41, 0, buf)
    assert e.args[0] == ENODEV
    assert link.errors == 3            # the junk line before each data reply, survived


def test_i2c_without_an_answer_times_out_within_its_bound():
    port = FakePlantPort()
    link = PlantLink(port, timeout_ms=30)
    t0 = ticks_ms()
    e = raises(OSError, link.i2c().readfrom_mem_into, 0x40, 0, bytearray(2))
    took = ticks_diff(ticks_ms(), t0)
    assert e.args[0] == ETIMEDOUT and link.timeouts == 1
    assert 25 <= took < 500, took


def test_a_stale_reply_is_not_taken_for_the_next_transaction():
    port = FakePlantPort()
    link = PlantLink(port, timeout_ms=20)
    port.rx = _sealed(b"r 9999 0102")   # an answer to an older request
    raises(OSError, link.i2c().readfrom_mem_into, 0x40, 0, bytearray(2))
    assert link.timeouts == 1


def test_unix_board_wires_pins_and_i2c_through_the_link():
    from boards import hal, load
    board = load("unix")
    port = FakePlantPort()
    link = PlantLink(port)
    c = hal.contactors(board, link=link)
    assert [p.name for p in c.pins] == ["negative", "precharge", "positive"]
    assert [f.name for f in c.feedback] == ["negative_fb", "precharge_fb", "positive_fb"]
    c.interlock = lambda: True
    c.close(0)
    assert _body(port.written[-1]) == b"o negative 1"
    assert c.mismatch() == 0             # the plant has not reported it closed yet
    port.rx = _sealed(b"p negative_fb 1")
    assert c.mismatch() == -1
    allow = hal.allow_outputs(board, link=link)
    assert allow.charge_pin.name == "allow_charge"
    assert hal.i2c(board, link=link).link is link
    raises(hal.BoardError, hal.i2c, board)
    assert hal.contactors(board).feedback is None   # without the plant: not wired


def test_boards_build_machine_i2c_from_their_pins():
    from boards import hal, load
    made = []

    class FakeMachine:
        class Pin:
            def __init__(self, number, *args, **kwargs):
                self.number = number

        class I2C:
            def __init__(self, bus_id, sda=None, scl=None):
                made.append((bus_id, sda.number, scl.number))

    hal.i2c(load("rp2_pico"), machine=FakeMachine)
    hal.i2c(load("esp32_devkit"), machine=FakeMachine)
    assert made == [(0, 20, 21), (0, 21, 22)]
