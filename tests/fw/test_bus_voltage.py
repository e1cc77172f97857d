# The DC-bus voltage sense (drivers/bus_voltage.py) on both runtimes: an ADC behind
# a divider (a fake machine.ADC), the plant link's analog input, and what the
# application gets from either: volts, or None, never a guess.

from boards import hal, load
from drivers.bus_voltage import ERANGE, AdcDivider, BusVoltage, divider_full_scale_mv
from drivers.plant_link import EIO, ENODEV, ETIMEDOUT, PlantLink
from tests.fw.support import raises
from tests.fw.test_boards import FakeMachine
from tests.fw.test_plant_link import FakePlantPort, _body, _sealed


class FakeAdc:
    """machine.ADC: read_u16() gives the next queued count (12 bits scaled to 16,
    as the RP2040 and ESP32 ports do), or raises what is queued."""

    def __init__(self, *counts):
        self.counts = list(counts)

    def read_u16(self):
        c = self.counts.pop(0)
        if isinstance(c, Exception):
            raise c
        return c << 4 | c >> 8


def test_divider_full_scale_is_the_bus_voltage_at_the_adcs_top():
    assert divider_full_scale_mv(3300, 1000000, 56000) == 62228
    assert divider_full_scale_mv(3300, 0, 1000) == 3300


def test_adc_counts_become_bus_millivolts():
    sense = AdcDivider(FakeAdc(0, 2047, 4094), 62228)
    assert sense.read_mv() == 0
    assert sense.read_mv() == 2047 * 62228 // 4095        # ~31.1 V, half scale
    assert sense.read_mv() == 4094 * 62228 // 4095


def test_an_adc_at_full_scale_is_not_a_reading():
    # The bus is somewhere above what the divider can show: saying 62 V would be a
    # guess, and a bus above the pack must not look "equal" to it.
    e = raises(OSError, AdcDivider(FakeAdc(4095), 62228).read_mv)
    assert e.args[0] == ERANGE


def test_a_full_scale_that_would_overflow_a_small_int_is_refused():
    raises(ValueError, AdcDivider, FakeAdc(), 0)
    raises(ValueError, AdcDivider, FakeAdc(), 250001)


def test_bus_voltage_gives_volts_or_none_and_counts_failures():
    bus = BusVoltage(AdcDivider(FakeAdc(1000, 4095, OSError(5), 2000), 62228), 62228)
    assert abs(bus.volts() - 1000 * 62228 // 4095 / 1000.0) < 1e-3
    assert bus.volts() is None          # railed
    assert bus.volts() is None          # the ADC raised
    assert bus.volts() is not None
    assert bus.errors == 2 and bus.reads == 2
    assert bus.last_mv == 2000 * 62228 // 4095


class _Source:
    def __init__(self, mv):
        self.mv = mv

    def read_mv(self):
        return self.mv


def test_implausible_readings_are_none():
    assert BusVoltage(_Source(-1), 60000).volts() is None
    assert BusVoltage(_Source(60001), 60000).volts() is None
    assert BusVoltage(_Source(None), 60000).volts() is None
    assert BusVoltage(_Source(60000), 60000).volts() == 60.0


def _analog_plant(mv_of_name):
    """A plant that answers `a <seq> <name>` with mv_of_name(name) (int mV, None
    for '!', or raw bytes to send instead)."""
    port = FakePlantPort()

    def answer(line):
        parts = _body(line).split(b" ")
        if parts[0] != b"a":
            return b""
        mv = mv_of_name(parts[2])
        if mv is None:
            return _sealed(b"r " + parts[1] + b" !")
        if isinstance(mv, bytes):
            return mv
        return _sealed(b"r " + parts[1] + b" " + ("%08X" % (mv & 0xFFFFFFFF)).encode())
    port.answer = answer
    return port


def test_the_plant_link_carries_the_bus_voltage():
    port = _analog_plant(lambda name: 48123 if name == b"bus_v" else None)
    link = PlantLink(port)
    assert link.analog("bus_v").read_mv() == 48123
    assert _body(port.written[-1]) == b"a 0001 bus_v"
    e = raises(OSError, link.analog("pack_v").read_mv)   # the plant has no such input
    assert e.args[0] == ENODEV


def test_a_negative_reading_survives_the_wire_and_is_refused_above():
    link = PlantLink(_analog_plant(lambda name: -250))
    assert link.analog("bus_v").read_mv() == -250
    assert BusVoltage(link.analog("bus_v"), 450000).volts() is None


def test_no_answer_or_garbage_is_none_never_a_value():
    silent = PlantLink(FakePlantPort(), timeout_ms=20)
    e = raises(OSError, silent.analog("bus_v").read_mv)
    assert e.args[0] == ETIMEDOUT and silent.timeouts == 1
    bus = BusVoltage(silent.analog("bus_v"), 450000)
    assert bus.volts() is None and bus.errors == 1

    short = PlantLink(_analog_plant(lambda name: b"r 0001 BB80*00\n"))   # bad checksum
    short.timeout_ms = 20
    raises(OSError, short.analog("bus_v").read_mv)
    assert short.errors == 1

    def two_bytes(name):
        return _sealed(b"r 0001 BB80")
    wrong = PlantLink(_analog_plant(two_bytes))
    e = raises(OSError, wrong.analog("bus_v").read_mv)
    assert e.args[0] == EIO
    assert BusVoltage(PlantLink(_analog_plant(two_bytes)).analog("bus_v"), 450000).volts() is None


def test_the_unix_board_reads_the_bus_over_the_plant_link():
    board = load("unix")
    link = PlantLink(_analog_plant(lambda name: 47500 if name == b"bus_v" else None))
    bus = hal.bus_voltage(board, link=link, required=True)
    assert bus.volts() == 47.5
    # Without the plant nothing measures the bus: not wired, and voltage mode says so.
    assert hal.bus_voltage(board) is None
    e = raises(hal.BoardError, hal.bus_voltage, board, required=True)
    assert "precharge_mode" in str(e)


class AdcMachine(FakeMachine):
    def __init__(self, count):
        FakeMachine.__init__(self)
        machine = self

        class ADC:
            ATTN_11DB = 3

            def __init__(self, pin, atten=None):
                machine.made.append(("ADC", pin.number, atten))

            def read_u16(self):
                return count << 4

        self.ADC = ADC


def test_boards_build_an_adc_divider_from_their_data():
    m = AdcMachine(2000)
    bus = hal.bus_voltage(load("rp2_pico"), machine=m, required=True)
    assert m.made == [("ADC", 28, None)]
    full = divider_full_scale_mv(3300, 1000000, 56000)
    assert bus.read_mv() == 2000 * full // 4095
    m = AdcMachine(2000)
    bus = hal.bus_voltage(load("esp32_devkit"), machine=m, required=True)
    assert m.made == [("ADC", 34, 3)]     # 11 dB: the ESP32's ADC reads up to ~3.1 V
    assert bus.read_mv() == 2000 * divider_full_scale_mv(3100, 1000000, 39000) // 4095


def test_a_board_without_the_sense_is_valid_in_time_mode_only():
    board = dict(load("rp2_pico"))
    board["bus_voltage"] = None
    assert hal.bus_voltage(board, machine=AdcMachine(0)) is None
    e = raises(hal.BoardError, hal.bus_voltage, board, machine=AdcMachine(0), required=True)
    assert "rp2_pico" in str(e) and "short" in str(e)
    board["bus_voltage"] = {"kind": "hall_probe"}
    assert "unknown bus voltage kind" in str(raises(hal.BoardError, hal.bus_voltage, board))
