# Turns a board file's BOARD dict into driver objects. The only place that knows
# how a pin number becomes a machine.Pin, a UART or a CAN controller. `machine`
# (and the MCP2515 library) can be handed in, so tests build every board here.

from drivers.allow_outputs import AllowOutputs
from drivers.contactors import Contactors
from drivers.gpio import Inverted, MemoryPin

CONTACTOR_ORDER = ("negative", "precharge", "positive")


class BoardError(ValueError):
    pass


def _machine(machine):
    if machine is None:
        import machine
    return machine


def plant_link(path, timeout_ms=50):
    """The unix port's pins and I2C carried to the plant simulator over a pty
    (`pybms sim --scenario` prints its path); pass it as link= below."""
    from drivers.plant_link import PlantLink
    from drivers.posix_serial import PosixSerial
    return PlantLink(PosixSerial(path), timeout_ms)


def output(board, pin, machine=None, record=None, link=None):
    """An output that starts inactive. On active-low relay boards the pin is
    created high, so no relay clicks on between power-up and the first command.
    On the unix port: a pin of the plant link when one is given, else a MemoryPin."""
    if pin is None:
        return None
    if board["port"] == "unix":
        if link is not None:
            return link.pin(pin, True)
        return MemoryPin(pin, record=record)
    m = _machine(machine)
    if board["relay_active_low"]:
        return Inverted(m.Pin(pin, m.Pin.OUT, value=1))
    return m.Pin(pin, m.Pin.OUT, value=0)


def _input(board, pin, machine=None, link=None):
    if pin is None:
        return None
    if board["port"] == "unix":
        # Without the plant nothing drives an input: not wired.
        return link.pin(pin) if link is not None else None
    m = _machine(machine)
    return m.Pin(pin, m.Pin.IN, m.Pin.PULL_UP)


def contactors(board, machine=None, record=None, link=None):
    pins = [output(board, board["contactors"][n], machine, record, link) for n in CONTACTOR_ORDER]
    fb = board["contactor_feedback"]
    feedback = None
    if fb is not None and any(fb[n] is not None for n in CONTACTOR_ORDER):
        feedback = tuple(_input(board, fb[n], machine, link) for n in CONTACTOR_ORDER)
        if all(f is None for f in feedback):
            feedback = None
    return Contactors(pins[0], pins[1], pins[2], feedback)


def allow_outputs(board, machine=None, link=None):
    return AllowOutputs(output(board, board["allow_charge"], machine, link=link),
                        output(board, board["allow_discharge"], machine, link=link))


def i2c(board, machine=None, link=None):
    """The current-sensor I2C bus: machine.I2C on boards, the plant link's on unix."""
    if board["port"] == "unix":
        if link is None:
            raise BoardError("the unix board's I2C is the plant link (see `pybms sim --scenario`)")
        return link.i2c()
    c = board["i2c"]
    m = _machine(machine)
    return m.I2C(c["id"], sda=m.Pin(c["sda"]), scl=m.Pin(c["scl"]))


def tesla_uart(board, baudrate, path=None, machine=None):
    """The module-bus UART: machine.UART on boards, a pty on the unix port."""
    u = board["tesla_uart"]
    if board["port"] == "unix":
        path = path or u.get("path")
        if not path:
            raise BoardError("the unix board needs the module bus pty path (see `pybms sim modules`)")
        from drivers.posix_serial import PosixSerial
        return PosixSerial(path)
    m = _machine(machine)
    # timeout=0: reads never block; the bus master keeps its own deadlines.
    return m.UART(u["id"], baudrate=baudrate, bits=8, parity=None, stop=1,
                  tx=m.Pin(u["tx"]), rx=m.Pin(u["rx"]), timeout=0)


def _can_mcp2515(board, c, path, machine, lib, spi_base):
    # The SPI subclass takes the board's pins, so it serves any port whose
    # machine.SPI accepts sck/mosi/miso (rp2, esp32); the library's own ESP32
    # class has its pins fixed.
    from drivers.can_mcp2515 import Mcp2515Bus, rp2040_spi
    spi = rp2040_spi(c["spi"], c["sck"], c["mosi"], c["miso"], c["cs"], base=spi_base,
                     machine=machine)
    return Mcp2515Bus(spi, c["crystal_hz"], lib=lib)


def _can_machine(board, c, path, machine, lib, spi_base):
    from drivers.can_machine import MachineCanBus
    m = _machine(machine)
    return MachineCanBus(m.CAN(c["id"], 500000, tx=c["tx"], rx=c["rx"]))


def _can_slcan(board, c, path, machine, lib, spi_base):
    from drivers.can_slcan import SlcanBus
    from drivers.posix_serial import PosixSerial
    path = path or c.get("path")
    if not path:
        raise BoardError("the unix board needs the CAN pty path (see `pybms monitor`)")
    return SlcanBus(PosixSerial(path))


CAN_KINDS = (("mcp2515", _can_mcp2515), ("machine", _can_machine), ("slcan", _can_slcan))


def can_bus(board, path=None, machine=None, lib=None, spi_base=None):
    """The Victron CAN bus as a drivers.can.CanBus, 500 kbit/s, normal mode.
    machine, lib (the MCP2515 library) and spi_base (its SPI class) are imported
    on the board; tests hand in fakes."""
    c = board["can"]
    for kind, build in CAN_KINDS:
        if kind == c["kind"]:
            return build(board, c, path, machine, lib, spi_base)
    raise BoardError("unknown CAN kind %r" % c["kind"])


# --- what the application (app/boot.py) builds from the rest of a board file ---

def _tesla_pack(uart, cfg, diag):
    from drivers.tesla_bus import TeslaBus
    return TeslaBus(uart, cfg, diag)


# Module families by the board's "pack" key: the only place a family is named.
PACK_KINDS = (("tesla", _tesla_pack),)


def pack(board, cfg, diag, uart):
    """The battery as a bms.pack.Pack, by the board's "pack" kind."""
    for kind, build in PACK_KINDS:
        if kind == board.get("pack", "tesla"):
            return build(uart, cfg, diag)
    raise BoardError("unknown pack kind %r" % board.get("pack"))


def _bus_adc_divider(b, machine, link):
    from drivers.bus_voltage import AdcDivider, BusVoltage, divider_full_scale_mv
    m = _machine(machine)
    if b.get("atten"):
        adc = m.ADC(m.Pin(b["pin"]), atten=getattr(m.ADC, b["atten"]))
    else:
        adc = m.ADC(m.Pin(b["pin"]))
    full = divider_full_scale_mv(b["adc_full_scale_mv"], b["ohm_top"], b["ohm_bottom"])
    return BusVoltage(AdcDivider(adc, full), full)


def _bus_plant_link(b, machine, link):
    if link is None:
        return None                  # without the plant nothing measures the bus
    from drivers.bus_voltage import BusVoltage
    return BusVoltage(link.analog(b["input"]), b["max_mv"])


# How a board senses the DC-bus voltage, by its "bus_voltage" kind.
BUS_VOLTAGE_KINDS = (("adc_divider", _bus_adc_divider), ("plant_link", _bus_plant_link))


def bus_voltage(board, machine=None, link=None, required=False):
    """The DC-bus voltage sense (drivers.bus_voltage.BusVoltage: volts() -> V or
    None), or None where the board has none. required (the configuration
    precharges in voltage mode): a board without it is a BoardError, because a
    voltage-mode precharge without a reading could only ever time out."""
    b = board.get("bus_voltage")
    sense = None
    if b is not None:
        for kind, build in BUS_VOLTAGE_KINDS:
            if kind == b["kind"]:
                sense = build(b, machine, link)
                break
        else:
            raise BoardError("unknown bus voltage kind %r" % b["kind"])
    if sense is None and required:
        raise BoardError("board %r has no DC-bus voltage sense here: wire one (its \"bus_voltage\" "
                         "entry) or set precharge_mode \"time\", which cannot detect a shorted "
                         "bus" % board["name"])
    return sense


def input_pin(board, pin, machine=None, link=None):
    """An input (pull-up on a board: switch to ground), or None where not wired."""
    return _input(board, pin, machine, link)


def heater(board, machine=None, link=None):
    return output(board, board.get("heater"), machine, link=link)


def watchdog(board, machine=None, link=None):
    """machine.WDT with the board's timeout (RP2040: at most 8388 ms), or the plant
    link's pet on the unix port; None where the board has neither."""
    ms = board.get("watchdog_ms")
    if not ms:
        return None
    if board["port"] == "unix":
        return link   # its feed() pets the plant, which restarts a firmware that stops
    m = _machine(machine)
    return m.WDT(timeout=ms)
