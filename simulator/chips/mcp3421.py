# Register-level model of the Microchip MCP3421 (18-bit delta-sigma I2C ADC,
# datasheet DS22003): what drivers/mcp3421.py depends on, nothing more.
#
# - One 8-bit configuration register, written by a one-byte write:
#     bit 7 RDY   read: 0 = a result not read yet, 1 = no new result;
#                 write in one-shot mode: 1 starts a conversion (no effect in continuous)
#     bits 6-5    channel select, unused on the MCP3421 (stored and read back)
#     bit 4 O/C   1 = continuous conversion, 0 = one-shot (then standby)
#     bits 3-2    sample rate: 00 240 SPS / 12 bit, 01 60 SPS / 14 bit,
#                 10 15 SPS / 16 bit, 11 3.75 SPS / 18 bit
#     bits 1-0    PGA gain 1, 2, 4, 8
#   Power-on value 0x90 (continuous, 12 bit, gain 1, RDY set).
# - A read returns the output code, MSB first, then the configuration byte, which
#   repeats for as long as the master keeps reading. 18 bit: three data bytes (the
#   upper byte holds D17-D16, sign-extended), 12-16 bit: two data bytes (sign-extended
#   above the MSB). Two's complement.
# - Code = floor(2**(N-1) * gain * Vin / 2.048 V), clipped to -2**(N-1) .. 2**(N-1)-1:
#   LSB 1 mV, 250 uV, 62.5 uV, 15.625 uV at gain 1.
# - The result is the mean of the input over the conversion time (delta-sigma), so
#   conversions complete every 1/SPS from the injected clock.
# Not modelled: general-call reset/latch/conversion, the internal reference's drift,
# noise (the plant adds its own before set_input_v).

from drivers.clock import ticks_diff, ticks_ms
from simulator.chips import (ENODEV, NACK, RAILED, STUCK, Integrator,
                             check_fault_kind, quantize)

RDY = 0x80
CONTINUOUS = 0x10
POWER_ON_CONFIG = 0x90
VREF = 2.048
# By rate bits (S1-S0): resolution in bits, conversion time in us (1 / SPS).
RESOLUTION = (12, 14, 16, 18)
CONVERSION_US = (4167, 16667, 66667, 266667)
SPS_X100 = (24000, 6000, 1500, 375)
GAIN = (1, 2, 4, 8)


def rate_bits(config):
    return (config >> 2) & 3


def code_for(volts, config):
    """Output code the chip gives for a steady differential input (datasheet eq.)."""
    bits = RESOLUTION[rate_bits(config)]
    full = 1 << (bits - 1)
    x = volts * GAIN[config & 3] * full / VREF
    code = quantize(x)
    if code > full - 1:
        return full - 1
    if code < -full:
        return -full
    return code


class Mcp3421Model:
    def __init__(self, address=0x68, clock=None):
        if not 0x68 <= address <= 0x6F:
            raise ValueError("MCP3421 addresses are 0x68..0x6F (device code 1101 + A2-A0)")
        self.address = address
        self.clock = clock or ticks_ms
        self.fault = None
        self.config = POWER_ON_CONFIG & ~RDY
        self.code = 0
        self.conversions = 0       # completed conversions (tests read it)
        self.reads = 0
        self.writes = 0
        self._fresh = False        # a result the master has not read yet
        self._converting = True    # continuous mode converts from power-on
        self._adc = Integrator(CONVERSION_US[rate_bits(self.config)])
        self._t = self.clock()

    # --- the analog side ---------------------------------------------------------
    def set_input_v(self, volts):
        """Differential input voltage (VIN+ - VIN-) at the ADC pins, in volts."""
        self._advance()
        self._adc.set(volts)

    def fail(self, kind):
        """Inject a fault (see simulator.chips.FAULT_KINDS) or heal with None."""
        self._advance()
        self.fault = check_fault_kind(kind)
        if kind is None:
            self._t = self.clock()  # a healed chip does not catch up on lost time

    # --- the I2C side ------------------------------------------------------------
    def i2c_write(self, data):
        self._ack()
        self._advance()
        self.writes += 1
        if not data:
            return  # address-only write (bus scan): acknowledged, nothing changes
        value = data[-1]  # one register: each byte overwrites it, the last one stays
        self.config = value & ~RDY
        continuous = bool(value & CONTINUOUS)
        if continuous or value & RDY:
            # A write restarts the conversion in continuous mode; in one-shot mode
            # RDY = 1 starts one.
            self._adc.restart(CONVERSION_US[rate_bits(value)])
            self._converting = True
        elif not continuous:
            self._converting = False

    def i2c_read(self, n):
        self._ack()
        self._advance()
        self.reads += 1
        bits = RESOLUTION[rate_bits(self.config)]
        nbytes = 3 if bits == 18 else 2
        raw = self.code & ((1 << (8 * nbytes)) - 1)  # two's complement, sign-extended
        config = self.config | (0 if self._fresh else RDY)
        out = bytearray(n)
        for i in range(n):
            if i < nbytes:
                out[i] = (raw >> (8 * (nbytes - 1 - i))) & 0xFF
            else:
                out[i] = config
        if n >= nbytes:
            self._fresh = False  # the result has been read: RDY reads 1 until the next
        return bytes(out)

    # --- internals ---------------------------------------------------------------
    def _ack(self):
        if self.fault == NACK:
            raise OSError(ENODEV)

    def _advance(self):
        now = self.clock()
        dt_ms = ticks_diff(now, self._t)
        self._t = now
        if dt_ms <= 0 or self.fault == STUCK or not self._converting:
            return
        one_shot = not (self.config & CONTINUOUS)
        done = self._adc.advance(dt_ms * 1000, 1 if one_shot else -1)
        if done:
            self.conversions += done
            if self.fault == RAILED:
                bits = RESOLUTION[rate_bits(self.config)]
                self.code = (1 << (bits - 1)) - 1
            else:
                self.code = code_for(self._adc.last, self.config)
            self._fresh = True
            if one_shot:
                self._converting = False  # standby until the next start
