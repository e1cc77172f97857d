# CAN adapters against fakes with the APIs they wrap: the micropython-mcp2515
# library (jxltom) and machine.CAN (SLCAN: test_victron_slcan.py).

from drivers import can as C
from drivers.can_machine import MachineCanBus
from drivers.can_mcp2515 import CanInitError, Mcp2515Bus, rp2040_spi
from tests.fw.support import raises


class FakeLib:
    """The slice of the micropython-mcp2515 API the adapter uses."""

    class ERROR:
        ERROR_OK = 0
        ERROR_FAIL = 1
        ERROR_ALLTXBUSY = 2
        ERROR_FAILINIT = 3
        ERROR_FAILTX = 4
        ERROR_NOMSG = 5

    class CAN_SPEED:
        CAN_250KBPS = 14
        CAN_500KBPS = 15

    class CAN_CLOCK:
        MCP_20MHZ = 1
        MCP_16MHZ = 2
        MCP_8MHZ = 3

    class CANFrame:
        def __init__(self, can_id, data=b""):
            self.can_id = can_id
            self.data = data

    class CAN:
        def __init__(self, spi):
            self.spi = spi
            self.calls = []
            self.sent = []
            self.rx = []
            self.results = []
            self.eflg = 0
            self.regs = {0x1C: 7, 0x1D: 3, 0x0F: 0}
            self.fail_reset = False

        def reset(self):
            self.calls.append("reset")
            return 3 if self.fail_reset else 0

        def setBitrate(self, speed, clock):
            self.calls.append(("bitrate", speed, clock))
            return 0

        def setNormalMode(self):
            self.calls.append("normal")
            return 0

        def setLoopbackMode(self):
            raise AssertionError("loopback must never be used")

        def sendMessage(self, frame):
            r = self.results.pop(0) if self.results else 0
            if r == 0:
                self.sent.append((frame.can_id, bytes(frame.data)))
            return r

        def readMessage(self):
            if not self.rx:
                return 5, None
            item = self.rx.pop(0)
            if item is None:
                return 1, None
            return 0, FakeLib.CANFrame(item[0], item[1])

        def getErrorFlags(self):
            return self.eflg

        def clearRXnOVR(self):
            self.eflg &= ~0xC0

        def readRegister(self, reg):
            return self.regs.get(reg, 0)

        def modifyRegister(self, reg, mask, data):
            self.calls.append(("modify", reg, mask, data))
            self.regs[reg] = (self.regs.get(reg, 0) & ~mask) | (data & mask)


def test_mcp2515_adapter_configures_normal_mode_500k_with_board_crystal():
    bus = Mcp2515Bus("spi", 16000000, lib=FakeLib)
    assert bus.chip.calls == ["reset", ("bitrate", 15, 2), "normal"]
    assert bus.chip.spi == "spi"
    bus8 = Mcp2515Bus("spi", 8000000, lib=FakeLib)
    assert bus8.chip.calls[1] == ("bitrate", 15, 3)
    raises(CanInitError, Mcp2515Bus, "spi", 12000000, lib=FakeLib)


def test_mcp2515_init_failure_is_loud():
    class Failing(FakeLib):
        class CAN(FakeLib.CAN):
            def setNormalMode(self):
                return 1
    e = raises(CanInitError, Mcp2515Bus, "spi", 8000000, lib=Failing)
    assert "setNormalMode" in str(e)


def test_mcp2515_send_receive_and_error_counting():
    bus = Mcp2515Bus("spi", 8000000, lib=FakeLib)
    chip = bus.chip
    data = bytearray(b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")
    assert bus.send(0x351, data)
    assert chip.sent == [(0x351, bytes(data))]
    chip.results = [2, 4]
    assert not bus.send(0x351, data) and bus.tx_busy == 1
    assert not bus.send(0x351, data) and bus.tx_errors == 1
    chip.rx = [(0x305, b"\x01\x02"), None, (0x307, b"\x00\x00\x00\x00VIC\x00")]
    assert bus.recv() and bus.rx_id == 0x305 and bus.rx_len == 2
    assert not bus.recv() and bus.rx_errors == 1
    assert bus.recv() and bus.rx_id == 0x307
    assert not bus.recv()
    assert bus.error_counters() == (7, 3)


def test_mcp2515_states_and_bus_off_recovery_aborts_old_frames():
    bus = Mcp2515Bus("spi", 8000000, lib=FakeLib)
    chip = bus.chip
    assert bus.state() == C.ACTIVE
    chip.eflg = 0x01
    assert bus.state() == C.WARNING
    chip.eflg = 0x10
    assert bus.state() == C.PASSIVE
    chip.eflg = 0x40
    bus.state()
    assert bus.rx_overflows == 1 and chip.eflg == 0
    chip.eflg = 0x20
    bus.service(0)
    bus.service(500)
    assert bus.bus_off_count == 1 and bus.recoveries == 0
    bus.service(1000)
    assert bus.recoveries == 1 and bus.aborts == 1
    assert ("modify", 0x0F, 0x10, 0x10) in chip.calls and chip.regs[0x0F] == 0
    chip.eflg = 0
    bus.service(1100)
    chip.eflg = 0x20
    bus.service(1200)
    assert bus.bus_off_count == 2


def test_mcp2515_spi_faults_do_not_escape():
    bus = Mcp2515Bus("spi", 8000000, lib=FakeLib)

    def boom(*a):
        raise OSError(5)
    bus.chip.sendMessage = boom
    bus.chip.readMessage = boom
    bus.chip.getErrorFlags = boom
    assert not bus.send(0x351, b"\x00") and bus.tx_errors == 1
    assert not bus.recv() and bus.rx_errors == 1
    assert bus.state() == C.STOPPED and bus.rx_errors == 2


def test_rp2040_spi_subclass_builds_machine_spi_from_board_pins():
    made = []

    class FakeMachine:
        class Pin:
            def __init__(self, n):
                self.n = n

        class SPI:
            MSB = 0

            def __init__(self, spi_id, **kw):
                made.append((spi_id, kw["baudrate"], kw["sck"].n, kw["mosi"].n, kw["miso"].n,
                             kw["polarity"], kw["phase"]))

    class Base:  # the library's SPI base: __init__(cs, baudrate) calls init(baudrate)
        def __init__(self, cs, baudrate=10000000):
            self.cs = cs
            self.bus = self.init(baudrate=baudrate)

        def init(self, baudrate):
            raise NotImplementedError

    spi = rp2040_spi(1, sck=14, mosi=15, miso=8, cs=19, base=Base, machine=FakeMachine)
    assert spi.cs == 19
    assert made == [(1, 10000000, 14, 15, 8, 0, 0)]


class FakeMachineCAN:
    STATE_STOPPED = 0
    STATE_ACTIVE = 1
    STATE_WARNING = 2
    STATE_PASSIVE = 3
    STATE_BUS_OFF = 4

    def __init__(self):
        self.filters = "unset"
        self.sent = []
        self.queue_full = False
        self.rx = []
        self.st = 1
        self.restarted = 0
        self.raise_on_send = False

    def set_filters(self, f):
        self.filters = f

    def send(self, can_id, data, flags=0):
        if self.raise_on_send:
            raise OSError(5)
        if self.queue_full:
            return None
        self.sent.append((can_id, bytes(data)))
        return len(self.sent) % 3

    def recv(self, arg=None):
        if not self.rx:
            return None
        can_id, data = self.rx.pop(0)
        arg[0] = can_id
        arg[1] = memoryview(data)
        arg[2] = 0
        arg[3] = 0
        return arg

    def state(self):
        return self.st

    def restart(self):
        self.restarted += 1
        self.st = 1

    def get_counters(self):
        return [1, 2, 3, 4, 5, 6, 7, 8]


def test_machine_can_adapter():
    hw = FakeMachineCAN()
    bus = MachineCanBus(hw)
    assert hw.filters is None, "must receive everything"
    assert bus.send(0x351, b"\x01\x02") and hw.sent == [(0x351, b"\x01\x02")]
    hw.queue_full = True
    assert not bus.send(0x351, b"") and bus.tx_busy == 1
    hw.raise_on_send = True
    assert not bus.send(0x351, b"") and bus.tx_errors == 1
    hw.rx.append((0x307, b"\x00\x00\x00\x00VIC\x00"))
    assert bus.recv() and bus.rx_id == 0x307 and bus.rx_len == 8
    assert not bus.recv()
    for st, ours in ((1, C.ACTIVE), (2, C.WARNING), (3, C.PASSIVE), (4, C.BUS_OFF), (0, C.STOPPED)):
        hw.st = st
        assert bus.state() == ours
    hw.st = 4
    bus.service(0)
    bus.service(1000)
    assert hw.restarted == 1 and bus.recoveries == 1 and bus.bus_off_count == 1
    assert bus.error_counters()[0] == 1


def test_interface_is_loud_until_implemented_and_counters_named():
    b = C.CanBus()
    raises(NotImplementedError, b.send, 1, b"")
    raises(NotImplementedError, b.recv)
    assert b.state() == C.ACTIVE and not b._restart()
    b.abort_pending()
    assert len(b.counters()) == len(C.COUNTERS) and b.aborts == 1
