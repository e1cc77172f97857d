# Microchip MCP3421 (18-bit delta-sigma ADC, I2C) in continuous conversion mode.
# The I2C bus is handed in (machine.I2C, machine.SoftI2C or simulator.chips.I2CBus):
# the driver never creates one. One read is one 4-byte transaction into a buffer
# allocated here once: the output code MSB first, then the configuration byte.
# read() returns a status code instead of raising: a sampling loop must neither stop
# nor allocate on a bad transaction (a caught OSError is the only allocation, and
# only on the error path).
# Datasheet facts (DS22003): configuration byte RDY | C1 C0 | O/C | S1 S0 | G1 G0;
# rates 240/60/15/3.75 per second for 12/14/16/18 bits; LSB = 2 x 2.048 V / 2**bits
# at gain 1; codes are two's complement, sign-extended into the upper byte.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

RDY = const(0x80)
CONTINUOUS = const(0x10)
# read() results
OK = const(0)
NOT_READY = const(1)     # no conversion finished since the last read
I2C_ERROR = const(2)     # the chip did not answer (OSError from the bus)
CONFIG_LOST = const(3)   # the chip reports another configuration (it was reset)
WRONG_CHIP = const(4)    # start(), INA228: the ids are not an INA228's (here so the
                         # sensor needs only the chip it is configured for loaded)

BITS = (12, 14, 16, 18)
GAINS = (1, 2, 4, 8)
CONVERSION_MS = (5, 17, 67, 267)   # 1 / rate, rounded up
_UV_X8 = (8000, 2000, 500, 125)    # 8 x LSB in uV at gain 1 (exact integers)


class Mcp3421:
    def __init__(self, i2c, address=0x68, bits=16, gain=1):
        if bits not in BITS:
            raise ValueError("MCP3421 resolution must be 12, 14, 16 or 18 bits, not %r" % bits)
        if gain not in GAINS:
            raise ValueError("MCP3421 gain must be 1, 2, 4 or 8, not %r" % gain)
        if not 0x68 <= address <= 0x6F:
            raise ValueError("MCP3421 address must be 0x68..0x6F, not 0x%02X" % address)
        self.i2c = i2c
        self.address = address
        rate = BITS.index(bits)
        self.bits = bits
        self.gain = gain
        self.config = CONTINUOUS | (rate << 2) | GAINS.index(gain)
        self.conversion_ms = CONVERSION_MS[rate]
        self.max_code = (1 << (bits - 1)) - 1
        self.min_code = -(1 << (bits - 1))
        self._uv_x8 = _UV_X8[rate]
        self._three = bits == 18
        self._cfg = bytearray(1)
        self._cfg[0] = self.config
        self._buf = bytearray(4)
        self.code = 0          # newest output code (signed)
        self.errors = 0        # failed transactions since start

    def start(self):
        """Write the configuration (continuous mode); returns OK or I2C_ERROR."""
        try:
            self.i2c.writeto(self.address, self._cfg)
        except OSError:
            self.errors += 1
            return I2C_ERROR
        return OK

    def read(self):
        """One transaction. OK: `code` holds a new result; otherwise a status code."""
        b = self._buf
        try:
            self.i2c.readfrom_into(self.address, b)
        except OSError:
            self.errors += 1
            return I2C_ERROR
        if self._three:
            config = b[3]
            raw = (b[0] << 16) | (b[1] << 8) | b[2]
            if raw & 0x800000:
                raw -= 0x1000000
        else:
            config = b[2]
            raw = (b[0] << 8) | b[1]
            if raw & 0x8000:
                raw -= 0x10000
        if config & 0x1F != self.config:
            return CONFIG_LOST  # power-on default or another master's setting
        if config & RDY:
            return NOT_READY
        self.code = raw
        return OK

    def railed(self):
        """The newest code sits at either end of the range (input beyond full scale)."""
        return self.code >= self.max_code or self.code <= self.min_code

    def microvolts(self, code):
        """Input voltage in uV for a code (integers only; exact to 1 uV)."""
        return code * self._uv_x8 // (8 * self.gain)
