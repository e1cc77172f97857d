# TI INA228 (20-bit shunt and bus monitor, I2C) in continuous shunt + bus mode with
# the chip's own averaging. The I2C bus is handed in; every transaction uses buffers
# allocated here once. read() polls DIAG_ALRT.CNVRF (latched, cleared by the read)
# and, only when a new averaged result exists, reads VSHUNT and VBUS; it returns a
# status code instead of raising. Every CHECK_EVERY results it re-reads CONFIG: a
# chip that was reset behind our back (power glitch) would otherwise report in the
# wrong range with no error.
# Datasheet facts (SBOS886): registers MSB first after a one-byte pointer; VSHUNT and
# VBUS are 20 bits in bits 23-4; LSBs 312.5 nV (ADCRANGE 0, +/-163.84 mV) or
# 78.125 nV (ADCRANGE 1, +/-40.96 mV) and 195.3125 uV;
# SHUNT_CAL = 13107.2e6 x CURRENT_LSB x R_shunt (x4 in ADCRANGE 1), CURRENT_LSB =
# max current / 2**19. The driver converts VSHUNT itself (exact integers) and also
# programs SHUNT_CAL so the chip's CURRENT/POWER registers are right for anyone
# reading them.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from drivers.mcp3421 import CONFIG_LOST, I2C_ERROR, NOT_READY, OK, WRONG_CHIP

REG_CONFIG = const(0x00)
REG_ADC_CONFIG = const(0x01)
REG_SHUNT_CAL = const(0x02)
REG_VSHUNT = const(0x04)
REG_VBUS = const(0x05)
REG_CURRENT = const(0x07)
REG_DIAG_ALRT = const(0x0B)
REG_MANUFACTURER_ID = const(0x3E)
REG_DEVICE_ID = const(0x3F)

RST = const(0x8000)
ADCRANGE = const(0x0010)
ALATCH = const(0x8000)
CNVRF = const(0x0002)
MANUFACTURER_TI = const(0x5449)
DIE_ID = const(0x228)
MODE_SHUNT_BUS = const(0xB)      # continuous shunt and bus voltage
CT_1052US = const(5)             # conversion-time code for 1052 us
CHECK_EVERY = const(20)          # results between CONFIG checks

AVERAGES = (1, 4, 16, 64, 128, 256, 512, 1024)
RANGE_UV = (163840, 40960)        # full scale per ADCRANGE, uV
FULL20 = const(0x80000)


def _signed20(b):
    raw = (b[0] << 12) | (b[1] << 4) | (b[2] >> 4)
    if raw & FULL20:
        raw -= 0x100000
    return raw


class Ina228:
    def __init__(self, i2c, address=0x40, shunt_uohm=100, max_a=350.0, averages=16):
        if not 0x40 <= address <= 0x4F:
            raise ValueError("INA228 address must be 0x40..0x4F, not 0x%02X" % address)
        if averages not in AVERAGES:
            raise ValueError("INA228 averaging must be one of %s, not %r" % (AVERAGES, averages))
        if shunt_uohm <= 0:
            raise ValueError("shunt resistance must be positive")
        full_uv = max_a * shunt_uohm  # A x uOhm = uV
        if full_uv > RANGE_UV[0]:
            raise ValueError("%s A through %d uOhm is %.1f mV, beyond the INA228's 163.84 mV"
                             % (max_a, shunt_uohm, full_uv / 1000))
        self.i2c = i2c
        self.address = address
        self.shunt_uohm = shunt_uohm
        self.range = 1 if full_uv <= RANGE_UV[1] else 0   # the finer range when it fits
        # VSHUNT counts -> mA: (312.5 or 78.125 nV) / R uOhm = 625 / (2 R or 8 R) mA
        self.ma_num = 625
        self.ma_den = (8 if self.range else 2) * shunt_uohm
        lsb = max_a / (1 << 19)
        cal = 13107.2e6 * lsb * shunt_uohm * 1e-6 * (4 if self.range else 1)
        self.shunt_cal = min(0x7FFF, max(1, int(cal + 0.5)))
        self.current_lsb_ua = self.shunt_cal * 1e6 / (13107.2e6 * shunt_uohm * 1e-6
                                                      * (4 if self.range else 1))
        self.config = ADCRANGE if self.range else 0
        self.adc_config = ((MODE_SHUNT_BUS << 12) | (CT_1052US << 9) | (CT_1052US << 6)
                           | (CT_1052US << 3) | AVERAGES.index(averages))
        self.result_us = 2 * 1052 * averages
        self.max_code = FULL20 - 1
        self.min_code = -FULL20
        self._ptr = bytearray(1)
        self._w = bytearray(3)
        self._r2 = bytearray(2)
        self._r3 = bytearray(3)
        self.code = 0        # newest VSHUNT (signed 20-bit counts)
        self.vbus = 0        # newest VBUS (counts of 195.3125 uV)
        self.errors = 0
        self._until_check = CHECK_EVERY

    # --- register access (preallocated buffers) ------------------------------------
    def _write16(self, reg, value):
        w = self._w
        w[0] = reg
        w[1] = (value >> 8) & 0xFF
        w[2] = value & 0xFF
        self.i2c.writeto(self.address, w)

    def _read(self, reg, buf):
        self._ptr[0] = reg
        self.i2c.writeto(self.address, self._ptr)
        self.i2c.readfrom_into(self.address, buf)

    def _read16(self, reg):
        self._read(reg, self._r2)
        return (self._r2[0] << 8) | self._r2[1]

    # --- start-up (may allocate; runs once) ------------------------------------------
    def start(self):
        """Check the ids, reset, program range, averaging and SHUNT_CAL. Returns OK,
        I2C_ERROR or WRONG_CHIP."""
        try:
            if (self._read16(REG_MANUFACTURER_ID) != MANUFACTURER_TI
                    or self._read16(REG_DEVICE_ID) >> 4 != DIE_ID):
                return WRONG_CHIP
            self._write16(REG_CONFIG, RST)
            self._write16(REG_CONFIG, self.config)
            self._write16(REG_ADC_CONFIG, self.adc_config)
            self._write16(REG_SHUNT_CAL, self.shunt_cal)
            self._write16(REG_DIAG_ALRT, ALATCH)  # CNVRF stays set until read
        except OSError:
            self.errors += 1
            return I2C_ERROR
        self._until_check = CHECK_EVERY
        return OK

    # --- sampling (allocates nothing) ------------------------------------------------
    def read(self):
        """OK: `code` (VSHUNT) and `vbus` hold a new averaged result; otherwise a status."""
        try:
            if not self._read16(REG_DIAG_ALRT) & CNVRF:
                return NOT_READY
            self._read(REG_VSHUNT, self._r3)
            self.code = _signed20(self._r3)
            self._read(REG_VBUS, self._r3)
            self.vbus = _signed20(self._r3)
            self._until_check -= 1
            if self._until_check <= 0:
                self._until_check = CHECK_EVERY
                if self._read16(REG_CONFIG) & 0xFFF0 != self.config:
                    return CONFIG_LOST
        except OSError:
            self.errors += 1
            return I2C_ERROR
        return OK

    def railed(self):
        return self.code >= self.max_code or self.code <= self.min_code

    def bus_mv(self):
        """Newest bus voltage in mV (integers only)."""
        return self.vbus * 25 // 128  # 195.3125 uV = 25/128 mV
