# MCP2515 / MCP25625 over SPI behind drivers.can.CanBus, using the
# `micropython-mcp2515` library (github jxltom/micropython-mcp2515). That library
# is not on PyPI and has no license file: it is NOT part of this repository; the
# deploy step installs its `src` package on the board under the name `mcp2515`.
# This adapter only calls its public API:
#   CAN(spi); reset(); setBitrate(CAN_SPEED.CAN_500KBPS, CAN_CLOCK.MCP_8MHZ|16MHZ);
#   setNormalMode(); sendMessage(CANFrame(can_id=, data=)); readMessage() ->
#   (error, frame); getErrorFlags(); readRegister(); modifyRegister();
#   clearRXnOVR(); results compared with ERROR.ERROR_OK.
# Normal mode (never loopback), 500 kbit/s, crystal frequency from the board file.
# Notes: the library allocates a little per frame (its own buffers), which this
# adapter cannot avoid without rewriting the chip driver; the MCP2515 leaves
# bus-off by itself after 128 x 11 recessive bits, so recovery here means noticing,
# counting and aborting frames queued before it.

from drivers.can import ACTIVE, BUS_OFF, PASSIVE, STOPPED, WARNING, CanBus

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# MCP2515 registers and bits (datasheet DS20001801), read through the library.
_CANCTRL = const(0x0F)
_TEC = const(0x1C)
_REC = const(0x1D)
_ABAT = const(0x10)
_EFLG_TXBO = const(0x20)
_EFLG_TXEP = const(0x10)
_EFLG_RXEP = const(0x08)
_EFLG_EWARN = const(0x01)
_EFLG_RXOVR = const(0xC0)

CRYSTALS = (8000000, 16000000, 20000000)


class CanInitError(Exception):
    pass


def _lib():
    import mcp2515  # the library's `src` package, installed under this name
    return mcp2515


class Mcp2515Bus(CanBus):
    def __init__(self, spi, crystal_hz, lib=None):
        """spi: the library's SPI object (e.g. rp2040_spi(...)); crystal_hz from the
        board file (8 or 16 MHz modules; 16 MHz on the Feather RP2040 CAN)."""
        CanBus.__init__(self)
        lib = lib if lib is not None else _lib()
        self.lib = lib
        self.ok = lib.ERROR.ERROR_OK
        self.busy = lib.ERROR.ERROR_ALLTXBUSY
        self.nomsg = lib.ERROR.ERROR_NOMSG
        clock = {8000000: "MCP_8MHZ", 16000000: "MCP_16MHZ", 20000000: "MCP_20MHZ"}.get(crystal_hz)
        if clock is None:
            raise CanInitError("MCP2515 crystal must be one of %s Hz, not %r" % (CRYSTALS, crystal_hz))
        self.chip = lib.CAN(spi)
        self._check(self.chip.reset(), "reset")
        self._check(self.chip.setBitrate(lib.CAN_SPEED.CAN_500KBPS, getattr(lib.CAN_CLOCK, clock)),
                    "setBitrate 500 kbit/s")
        self._check(self.chip.setNormalMode(), "setNormalMode")
        self._frame = lib.CANFrame(can_id=0, data=b"")
        self.rx_overflows = 0

    def _check(self, result, what):
        if result != self.ok:
            raise CanInitError("MCP2515 %s failed (error %r)" % (what, result))

    def send(self, can_id, data):
        f = self._frame
        f.can_id = can_id
        f.data = data
        try:
            r = self.chip.sendMessage(f)
        except Exception:  # an SPI fault must not stop the BMS loop
            self.tx_errors += 1
            return False
        if r == self.ok:
            self.tx_ok += 1
            return True
        if r == self.busy:
            self.tx_busy += 1
        else:
            self.tx_errors += 1
        return False

    def recv(self):
        try:
            err, frame = self.chip.readMessage()
        except Exception:
            self.rx_errors += 1
            return False
        if err == self.nomsg:
            return False
        if err != self.ok or frame is None:
            self.rx_errors += 1
            return False
        return self._received(frame.can_id, frame.data)

    def state(self):
        try:
            eflg = self.chip.getErrorFlags()
        except Exception:
            # A controller that cannot be read is not known to be on the bus: say
            # so (and count it) rather than report a healthy ACTIVE.
            self.rx_errors += 1
            return STOPPED
        if eflg & _EFLG_RXOVR:
            self.rx_overflows += 1
            self.chip.clearRXnOVR()
        if eflg & _EFLG_TXBO:
            return BUS_OFF
        if eflg & (_EFLG_TXEP | _EFLG_RXEP):
            return PASSIVE
        if eflg & _EFLG_EWARN:
            return WARNING
        return ACTIVE

    def error_counters(self):
        """(transmit, receive) error counters of the chip."""
        return self.chip.readRegister(_TEC), self.chip.readRegister(_REC)

    def _restart(self):
        # The chip recovers from bus-off by itself; drop what was queued before.
        self.abort_pending()
        return True

    def abort_pending(self):
        self.aborts += 1
        try:
            self.chip.modifyRegister(_CANCTRL, _ABAT, _ABAT)
            self.chip.modifyRegister(_CANCTRL, _ABAT, 0)
        except Exception:
            self.tx_errors += 1


def rp2040_spi(spi_id, sck, mosi, miso, cs, baudrate=10000000, base=None, machine=None):
    """The library's SPI class for an RP2040 (it ships only ESP32/ESP8266 ones):
    a subclass whose init(baudrate) returns a machine.SPI on the board file's pins.
    `base`/`machine` are injectable for tests; on the board they are imported."""
    if base is None:
        from mcp2515.spi.spi import SPI as base
    if machine is None:
        import machine

    class RP2040SPI(base):
        def init(self, baudrate):
            return machine.SPI(spi_id, baudrate=baudrate, polarity=0, phase=0, bits=8,
                               firstbit=machine.SPI.MSB, sck=machine.Pin(sck),
                               mosi=machine.Pin(mosi), miso=machine.Pin(miso))

    return RP2040SPI(cs=cs, baudrate=baudrate)
