# Register-level model of the TI INA228 (85 V, 20-bit I2C power monitor, datasheet
# SBOS886): what drivers/ina228.py depends on.
#
# - A transaction writes the register pointer, then for a write the data MSB first;
#   a read returns the register at the pointer, MSB first (2, 3 or 5 bytes).
# - CONFIG (0x00): RST (bit 15, resets every register, self-clearing), RSTACC (14,
#   clears ENERGY/CHARGE), CONVDLY (13-6, 2 ms steps before the first conversion),
#   TEMPCOMP (5), ADCRANGE (4: 0 = +/-163.84 mV, 1 = +/-40.96 mV).
# - ADC_CONFIG (0x01, reset 0xFB68): MODE (15-12; 0x1-0x7 triggered, 0x9-0xF
#   continuous; bit 0 bus, bit 1 shunt, bit 2 temperature), VBUSCT, VSHCT, VTCT
#   (conversion times 50 us .. 4120 us) and AVG (1 .. 1024 samples averaged).
#   One result set takes AVG x (sum of the enabled channels' conversion times).
# - SHUNT_CAL (0x02, reset 0x1000): with the datasheet's
#   SHUNT_CAL = 13107.2e6 x CURRENT_LSB x R_SHUNT (x4 when ADCRANGE = 1) the chip's
#   CURRENT = VSHUNT x 4096 / SHUNT_CAL in register counts; SHUNT_TEMPCO (0x03,
#   ppm/degC) divides it by 1 + TEMPCO x (T - 25 degC) when TEMPCOMP is set.
# - VSHUNT (0x04, 20 bit in bits 23-4, 312.5 nV or 78.125 nV), VBUS (0x05, 20 bit,
#   195.3125 uV), DIETEMP (0x06, 16 bit, 7.8125 m degC), CURRENT (0x07, 20 bit),
#   POWER (0x08, 24 bit, 3.2 x CURRENT_LSB), ENERGY (0x09, 40 bit, 16 x 3.2 x
#   CURRENT_LSB), CHARGE (0x0A, 40 bit two's complement, CURRENT_LSB).
# - DIAG_ALRT (0x0B, reset 0x0001): CNVRF (bit 1) set when a result set completes,
#   cleared by reading DIAG_ALRT; MEMSTAT (bit 0) = 1 (trim memory intact); ALATCH,
#   CNVR, SLOWALERT, APOL (15-12) are stored.
# - MANUFACTURER_ID (0x3E) = 0x5449 ("TI"), DEVICE_ID (0x3F) = 0x2281 (die 0x228, rev 1).
# Not modelled: the alert comparisons against the limit registers (0x0C-0x11 are
# stored and read back), the ALERT pin, per-channel sequencing inside a set (each
# channel is the mean over the whole set time), noise and offset (the plant adds them).

from drivers.clock import ticks_diff, ticks_ms
from simulator.chips import (ENODEV, NACK, RAILED, STUCK, Integrator,
                             check_fault_kind, quantize)

CONFIG = 0x00
ADC_CONFIG = 0x01
SHUNT_CAL = 0x02
SHUNT_TEMPCO = 0x03
VSHUNT = 0x04
VBUS = 0x05
DIETEMP = 0x06
CURRENT = 0x07
POWER = 0x08
ENERGY = 0x09
CHARGE = 0x0A
DIAG_ALRT = 0x0B
SOVL = 0x0C
SUVL = 0x0D
BOVL = 0x0E
BUVL = 0x0F
TEMP_LIMIT = 0x10
PWR_LIMIT = 0x11
MANUFACTURER_ID = 0x3E
DEVICE_ID = 0x3F

# register: (size in bytes, reset value, writable bits)
REGISTERS = {
    CONFIG: (2, 0x0000, 0xFFF0),
    ADC_CONFIG: (2, 0xFB68, 0xFFFF),
    SHUNT_CAL: (2, 0x1000, 0x7FFF),
    SHUNT_TEMPCO: (2, 0x0000, 0x3FFF),
    VSHUNT: (3, 0, 0),
    VBUS: (3, 0, 0),
    DIETEMP: (2, 0, 0),
    CURRENT: (3, 0, 0),
    POWER: (3, 0, 0),
    ENERGY: (5, 0, 0),
    CHARGE: (5, 0, 0),
    DIAG_ALRT: (2, 0x0001, 0xF000),
    SOVL: (2, 0x7FFF, 0xFFFF),
    SUVL: (2, 0x8000, 0xFFFF),
    BOVL: (2, 0x7FFF, 0x7FFF),
    BUVL: (2, 0x0000, 0x7FFF),
    TEMP_LIMIT: (2, 0x7FFF, 0xFFFF),
    PWR_LIMIT: (2, 0xFFFF, 0xFFFF),
    MANUFACTURER_ID: (2, 0x5449, 0),
    DEVICE_ID: (2, 0x2281, 0),
}

RST = 0x8000
RSTACC = 0x4000
TEMPCOMP = 0x0020
ADCRANGE = 0x0010
CNVRF = 0x0002
MEMSTAT = 0x0001

CT_US = (50, 84, 150, 280, 540, 1052, 2074, 4120)
AVG_N = (1, 4, 16, 64, 128, 256, 512, 1024)
VSHUNT_LSB = (312.5e-9, 78.125e-9)   # by ADCRANGE
VBUS_LSB = 195.3125e-6
DIETEMP_LSB = 7.8125e-3
FULL20 = 1 << 19


def _floor(x):
    i = int(x)
    return i - 1 if i > x else i


def _clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def set_time_us(adc_config):
    """Time of one averaged result set for an ADC_CONFIG value (0: nothing enabled)."""
    mode = adc_config >> 12
    ct = 0
    if mode & 1:
        ct += CT_US[(adc_config >> 9) & 7]
    if mode & 2:
        ct += CT_US[(adc_config >> 6) & 7]
    if mode & 4:
        ct += CT_US[(adc_config >> 3) & 7]
    return ct * AVG_N[adc_config & 7]


class Ina228Model:
    def __init__(self, address=0x40, clock=None):
        if not 0x40 <= address <= 0x4F:
            raise ValueError("INA228 addresses are 0x40..0x4F (set by A1/A0)")
        self.address = address
        self.clock = clock or ticks_ms
        self.fault = None
        self.conversions = 0      # completed result sets (tests read it)
        self._shunt = Integrator(1)
        self._bus = Integrator(1)
        self._temp = Integrator(1)
        self._temp.set(25.0)
        self._t = self.clock()
        self._reset()

    # --- the analog side ---------------------------------------------------------
    def set_shunt_v(self, volts):
        """Voltage across the shunt (IN+ - IN-), volts."""
        self._advance()
        self._shunt.set(volts)

    def set_bus_v(self, volts):
        """Bus voltage at VBUS, volts."""
        self._advance()
        self._bus.set(volts)

    def set_die_temp_c(self, c):
        self._advance()
        self._temp.set(c)

    def fail(self, kind):
        """Inject a fault (see simulator.chips.FAULT_KINDS) or heal with None."""
        self._advance()
        self.fault = check_fault_kind(kind)
        if kind is None:
            self._t = self.clock()

    # --- the I2C side ------------------------------------------------------------
    def i2c_write(self, data):
        self._ack()
        self._advance()
        if not data:
            return
        self.pointer = data[0]
        if len(data) < 2:
            return
        reg = REGISTERS.get(self.pointer)
        if reg is None or reg[2] == 0:
            return  # read-only or unknown register: the chip ignores the data
        value = 0
        for b in data[1:1 + reg[0]]:
            value = (value << 8) | b
        self._write(self.pointer, value & reg[2])

    def i2c_read(self, n):
        self._ack()
        self._advance()
        reg = REGISTERS.get(self.pointer)
        size = reg[0] if reg else 2
        value = self._value(self.pointer) & ((1 << (8 * size)) - 1)
        out = bytearray(n)
        for i in range(min(n, size)):
            out[i] = (value >> (8 * (size - 1 - i))) & 0xFF
        if self.pointer == DIAG_ALRT:
            self.regs[DIAG_ALRT] &= ~CNVRF  # reading DIAG_ALRT clears the flag
        return bytes(out)

    # --- register file -----------------------------------------------------------
    def _reset(self):
        self.regs = {}
        for r in REGISTERS:
            self.regs[r] = REGISTERS[r][1]
        self.pointer = 0
        self.vshunt = 0
        self.vbus = 0
        self.dietemp = 0
        self.current = 0
        self.power = 0
        self.energy = 0.0
        self.charge = 0.0
        self._restart()

    def _write(self, r, value):
        if r == CONFIG:
            if value & RST:
                self._reset()
                return
            if value & RSTACC:
                self.energy = 0.0
                self.charge = 0.0
            self.regs[CONFIG] = value & ~(RST | RSTACC)
            self._restart()
        elif r == DIAG_ALRT:
            self.regs[DIAG_ALRT] = (self.regs[DIAG_ALRT] & 0x0FFF) | value
        else:
            self.regs[r] = value
            if r == ADC_CONFIG:
                self._restart()

    def _value(self, r):
        if r == VSHUNT:
            return self.vshunt << 4
        if r == VBUS:
            return self.vbus << 4
        if r == DIETEMP:
            return self.dietemp
        if r == CURRENT:
            return self.current << 4
        if r == POWER:
            return self.power
        if r == ENERGY:
            return int(self.energy)
        if r == CHARGE:
            return _floor(self.charge)
        return self.regs.get(r, 0)

    # --- conversions -------------------------------------------------------------
    def _restart(self):
        adc = self.regs[ADC_CONFIG]
        window = set_time_us(adc)
        self._running = (adc >> 12) & 7 != 0
        self._one_shot = adc >> 12 < 8
        self._delay_us = ((self.regs[CONFIG] >> 6) & 0xFF) * 2000
        for ch in (self._shunt, self._bus, self._temp):
            ch.restart(window if window else 1)

    def _ack(self):
        if self.fault == NACK:
            raise OSError(ENODEV)

    def _advance(self):
        now = self.clock()
        dt_us = ticks_diff(now, self._t) * 1000
        self._t = now
        if dt_us <= 0 or self.fault == STUCK or not self._running:
            return
        if self._delay_us:
            used = min(self._delay_us, dt_us)
            self._delay_us -= used
            dt_us -= used
        limit = 1 if self._one_shot else -1
        done = self._shunt.advance(dt_us, limit)
        self._bus.advance(dt_us, limit)
        self._temp.advance(dt_us, limit)
        if done:
            self._complete(done)
            if self._one_shot:
                self._running = False

    def _complete(self, sets):
        mode = self.regs[ADC_CONFIG] >> 12
        config = self.regs[CONFIG]
        if mode & 4:
            self.dietemp = _clip(quantize(self._temp.last / DIETEMP_LSB), -32768, 32767) & 0xFFFF
        if mode & 2:
            if self.fault == RAILED:
                vsh = FULL20 - 1
            else:
                lsb = VSHUNT_LSB[1 if config & ADCRANGE else 0]
                vsh = _clip(quantize(self._shunt.last / lsb), -FULL20, FULL20 - 1)
            self.vshunt = vsh & 0xFFFFF
            self.current = self._current(vsh, config) & 0xFFFFF
        if mode & 1:
            self.vbus = _clip(quantize(self._bus.last / VBUS_LSB), -FULL20, FULL20 - 1) & 0xFFFFF
        cur = self._signed20(self.current)
        vbus = self._signed20(self.vbus)
        self.power = _clip(abs(cur) * abs(vbus) // 16384, 0, 0xFFFFFF)
        seconds = sets * set_time_us(self.regs[ADC_CONFIG]) / 1e6
        self.energy += self.power * seconds / 16
        self.charge += cur * seconds
        self.conversions += sets
        self.regs[DIAG_ALRT] |= CNVRF

    def _current(self, vsh, config):
        cal = self.regs[SHUNT_CAL]
        if cal == 0:
            return 0
        cur = vsh * 4096 / cal
        if config & TEMPCOMP:
            t = self._signed16(self.dietemp) * DIETEMP_LSB
            cur = cur / (1 + self.regs[SHUNT_TEMPCO] * 1e-6 * (t - 25))
        return _clip(quantize(cur), -FULL20, FULL20 - 1)

    @staticmethod
    def _signed20(x):
        return x - (1 << 20) if x & (1 << 19) else x

    @staticmethod
    def _signed16(x):
        return x - (1 << 16) if x & (1 << 15) else x
