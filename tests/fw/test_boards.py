# Board files are data; boards.hal builds drivers from them. A fake `machine`
# module records what would be created on the real board.

from boards import BOARDS, hal, load
from tests.fw.support import raises

KEYS = ("name", "port", "tesla_uart", "contactors", "contactor_feedback", "relay_active_low",
        "allow_charge", "allow_discharge", "heater", "led", "i2c", "can")


class FakePin:
    OUT = 1
    IN = 0
    PULL_UP = 2

    def __init__(self, number, mode=None, pull=None, value=None):
        self.number = number
        self.mode = mode
        self.level = value

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v


class FakeMachine:
    Pin = FakePin

    def __init__(self):
        self.made = []
        machine = self

        class UART:
            def __init__(self, *args, **kwargs):
                machine.made.append(("UART", args, kwargs))

        class CAN:
            def __init__(self, *args, **kwargs):
                machine.made.append(("CAN", args, kwargs))

            def set_filters(self, f):
                machine.made.append(("set_filters", f))

        class SPI:
            MSB = 0

            def __init__(self, *args, **kwargs):
                machine.made.append(("SPI", args, kwargs))

        class ADC:
            ATTN_11DB = 3

            def __init__(self, pin, atten=None):
                machine.made.append(("ADC", pin.number, atten))

            def read_u16(self):
                return 0

        self.UART = UART
        self.CAN = CAN
        self.SPI = SPI
        self.ADC = ADC


def _pins(board):
    """Every GPIO number a board uses."""
    numbers = list(board["contactors"].values())
    numbers += [v for v in board["contactor_feedback"].values() if v is not None]
    for key in ("allow_charge", "allow_discharge", "heater", "led", "connect_switch",
                "reset_button"):
        if board.get(key) is not None:
            numbers.append(board[key])
    for key in ("tesla_uart", "i2c", "can", "bus_voltage"):
        part = board.get(key) or {}
        for name in ("tx", "rx", "sda", "scl", "sck", "mosi", "miso", "cs", "pin"):
            if name in part:
                numbers.append(part[name])
    return numbers


def test_every_board_has_every_key_and_no_pin_twice():
    for name in BOARDS:
        board = load(name)
        for key in KEYS:
            assert key in board, (name, key)
        assert board["name"] == name
        pins = _pins(board)
        assert len(pins) == len(set(pins)), (name, sorted(pins))


def test_unknown_board_is_a_clear_error():
    assert "unknown board" in str(raises(ValueError, load, "arduino"))


def test_shipped_boards_drive_relays_active_high():
    # A resetting MCU's floating/low pins must read as "open, nothing allowed".
    for name in BOARDS:
        assert load(name)["relay_active_low"] is False, name


def test_active_low_relays_start_released_and_contactors_open():
    for name in ("rp2_pico", "esp32_devkit"):
        board = dict(load(name))
        board["relay_active_low"] = True
        m = FakeMachine()
        c = hal.contactors(board, machine=m)
        raw = [p.pin for p in c.pins]  # Inverted wrappers around machine pins
        assert [p.number for p in raw] == [board["contactors"][n] for n in hal.CONTACTOR_ORDER]
        # High level on an active-low relay input = released = contactor open.
        assert all(p.mode == FakePin.OUT and p.level == 1 for p in raw), name
        assert c.all_open() and c.feedback is None


def test_active_high_board_and_feedback_inputs():
    board = dict(load("rp2_pico"))
    board["relay_active_low"] = False
    board["contactor_feedback"] = {"negative": 10, "precharge": None, "positive": 11}
    c = hal.contactors(board, machine=FakeMachine())
    assert all(p.level == 0 for p in c.pins)
    assert c.feedback[0].number == 10 and c.feedback[1] is None and c.feedback[0].mode == FakePin.IN


def test_tesla_uart_on_boards_never_blocks():
    for name, uid, tx, rx in (("rp2_pico", 0, 0, 1), ("esp32_devkit", 1, 33, 32)):
        m = FakeMachine()
        hal.tesla_uart(load(name), 612500, machine=m)
        kind, args, kw = m.made[0]
        assert kind == "UART" and args == (uid,) and kw["baudrate"] == 612500
        assert kw["tx"].number == tx and kw["rx"].number == rx and kw["timeout"] == 0


def test_unix_board_needs_paths_and_uses_memory_pins():
    board = load("unix")
    assert "pty path" in str(raises(hal.BoardError, hal.tesla_uart, board, 612500))
    assert "pty path" in str(raises(hal.BoardError, hal.can_bus, board))
    history = []
    c = hal.contactors(board, record=history)
    c.interlock = lambda: True
    c.close(0)
    assert history == [("negative", 1)]
    allow = hal.allow_outputs(board)
    assert allow.charge_pin.value() == 0 and allow.discharge_pin.value() == 0


def test_allow_outputs_start_not_allowed_on_boards():
    m = FakeMachine()
    allow = hal.allow_outputs(load("esp32_devkit"), machine=m)
    assert allow.charge_pin.value() == 0 and allow.discharge_pin.value() == 0


def test_machine_can_on_esp32():
    m = FakeMachine()
    bus = hal.can_bus(load("esp32_devkit"), machine=m)
    assert m.made[0] == ("CAN", (0, 500000), {"tx": 5, "rx": 17})
    assert ("set_filters", None) in m.made and bus.send is not None


class FakeLib:
    """The slice of micropython-mcp2515's API the adapter uses."""

    class ERROR:
        ERROR_OK = 0
        ERROR_ALLTXBUSY = 2
        ERROR_NOMSG = 5

    class CAN_SPEED:
        CAN_500KBPS = 500

    class CAN_CLOCK:
        MCP_8MHZ = 8
        MCP_16MHZ = 16
        MCP_20MHZ = 20

    class CANFrame:
        def __init__(self, can_id=0, data=b""):
            self.can_id = can_id
            self.data = data

    class CAN:
        calls = []

        def __init__(self, spi):
            self.spi = spi

        def reset(self):
            FakeLib.CAN.calls.append("reset")
            return 0

        def setBitrate(self, speed, clock):
            FakeLib.CAN.calls.append(("bitrate", speed, clock))
            return 0

        def setNormalMode(self):
            FakeLib.CAN.calls.append("normal")
            return 0


class FakeSpiBase:
    def __init__(self, cs, baudrate):
        self.cs = cs
        self.baudrate = baudrate


def test_mcp2515_on_the_pico_uses_board_pins_and_crystal():
    FakeLib.CAN.calls = []
    m = FakeMachine()
    bus = hal.can_bus(load("rp2_pico"), machine=m, lib=FakeLib, spi_base=FakeSpiBase)
    assert FakeLib.CAN.calls == ["reset", ("bitrate", 500, 8), "normal"]
    spi = bus.chip.spi
    assert spi.cs == 17
    spi.init(10000000)
    kind, args, kw = m.made[-1]
    assert kind == "SPI" and args == (0,)
    assert (kw["sck"].number, kw["mosi"].number, kw["miso"].number) == (18, 19, 16)


def test_unknown_can_kind_is_a_clear_error():
    board = dict(load("unix"))
    board["can"] = {"kind": "carrier_pigeon"}
    assert "unknown CAN kind" in str(raises(hal.BoardError, hal.can_bus, board))
