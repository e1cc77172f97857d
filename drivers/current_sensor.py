# The pack current as the rest of the firmware sees it: one CurrentSensor built from
# the configuration (current_sensor = mcp3421_hall | ina228_shunt | none), sampled on
# its own cadence (current_sample_ms, at least 10 Hz) by poll(t_ms) from the main
# loop, read as integer mA (positive = charging, as Victron counts) with its age.
#
# It owns three diagnosis rows: over_current_charge / over_current_discharge (the
# table debounces them) and current_sensor: the chip does not answer (I2C_ERROR on
# _FAIL_READS reads in a row), its converter sits at full scale (railed), or no new
# conversion for current_stale_ms. current_sensor is a fault, so the state machine
# opens the contactors: with the current unknown and the pack connected nothing could
# see an over-current, and Fault permits neither charge nor discharge, so the limits
# the GX gets are zero.
#
# Conversion to mA is integer-only and exact enough: mA = code * num // den - zero,
# with num/den a fraction chosen once so code * num stays a small int on a 32-bit
# board (no big-int allocation per sample).

from bms import diagnosis as D
from bms import units
from drivers.clock import ticks_add, ticks_diff
from drivers.mcp3421 import CONFIG_LOST, I2C_ERROR, OK, WRONG_CHIP, Mcp3421

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Why the sensor is faulted (CurrentSensor.fault; also the diagnosis detail).
F_NONE = const(0)
F_I2C = const(1)          # no answer on the bus
F_RAILED = const(2)       # converter at full scale, or a hall output no working
                          # transducer gives (cable off: 0 V): not a measurement
F_STALE = const(3)        # no new conversion for current_stale_ms
F_WRONG_CHIP = const(4)   # something else answers at the address
FAULT_NAMES = ("ok", "i2c_error", "railed", "no_conversion", "wrong_chip")

_FAIL_READS = const(3)    # consecutive failed transactions before an I2C fault
# Start-up grace: a sensor may answer late at boot (its supply rail comes up after the
# MCU's, the first conversion is not ready yet). Until its first good reading, and for
# at most this long after start(), silence (no answer, no conversion) is not reported
# as a fault: valid() stays False, so the application keeps the contactors open and
# the limits at zero (app/application.py waits for a reading before the pack is
# ready). Silent past the grace: the current_sensor fault as ever. An answer that is
# wrong (another chip, a railed output) is reported at once.
START_GRACE_MS = const(5000)
_RING = const(16)         # recent readings kept for the zero calibration
SMALL = 1 << 29           # keep code * num below this (MicroPython small int on 32 bit)
# A hall transducer's output stays within its specified span (zero +/- current_max_a x
# sensitivity: 0.5..4.5 V for the default +/-200 A at 10 mV/A) or saturates a little
# beyond it on an over-current; 0 V (the divider pulling the ADC to ground when the
# cable is off) or the supply rail (a short) is no current. Outside the span by more
# than this margin the reading is a sensor fault, not an over-current.
HALL_MARGIN_MV = 400


class CalibrationError(ValueError):
    """Zero calibration refused: the message says why and what to do."""


def ratio(x, max_num, max_den=1 << 20):
    """Best fraction num/den of x > 0 with num <= max_num, den <= max_den
    (continued fractions; start-up only, floats allowed)."""
    h0, h1, k0, k1 = 0, 1, 1, 0
    y = x
    for _ in range(40):
        a = int(y)
        h2 = a * h1 + h0
        k2 = a * k1 + k0
        if h2 > max_num or k2 > max_den:
            break
        h0, h1, k0, k1 = h1, h2, k1, k2
        frac = y - a
        if frac < 1e-12:
            break
        y = 1 / frac
    if k1 == 0 or h1 == 0:
        raise ValueError("cannot represent %r mA per count" % x)
    return h1, k1


def make(cfg, i2c, diag=None):
    """The configured sensor, or None for current_sensor = none."""
    if cfg["current_sensor"] == "none":
        return None
    return CurrentSensor(cfg, i2c, diag)


class CurrentSensor:
    def __init__(self, cfg, i2c, diag=None):
        kind = cfg["current_sensor"]
        address = cfg["current_i2c_address"]
        if kind == "mcp3421_hall":
            chip = Mcp3421(i2c, address or 0x68, cfg["current_hall_bits"], cfg["current_hall_gain"])
            lsb_uv = 4096000.0 / (1 << chip.bits) / chip.gain
            per_code = lsb_uv * cfg["current_hall_divider"] / cfg["current_hall_mv_per_a"]
            self.num, self.den = ratio(per_code, SMALL >> (chip.bits - 1))
            zero_a = cfg["current_hall_zero_v"] * 1000 / cfg["current_hall_mv_per_a"]
            self.zero_ma = units.ma(zero_a)
            # The codes the transducer's possible output span gives at the ADC.
            swing_mv = cfg["current_max_a"] * cfg["current_hall_mv_per_a"] + HALL_MARGIN_MV
            zero_mv = cfg["current_hall_zero_v"] * 1000
            per_mv = 1000.0 / lsb_uv / cfg["current_hall_divider"]
            self.code_lo = int((zero_mv - swing_mv) * per_mv)
            self.code_hi = int((zero_mv + swing_mv) * per_mv) + 1
        elif kind == "ina228_shunt":
            from drivers.ina228 import Ina228   # only the configured chip's driver in RAM
            chip = Ina228(i2c, address or 0x40, cfg["current_shunt_uohm"], cfg["current_max_a"],
                          cfg["current_shunt_avg"])
            self.num, self.den = chip.ma_num, chip.ma_den
            self.zero_ma = 0
            self.code_lo = chip.min_code     # a shunt has no span of its own: the
            self.code_hi = chip.max_code     # converter's range (railed()) is the test
        else:
            raise ValueError("no current sensor configured (current_sensor = %r)" % kind)
        self.kind = kind
        self.chip = chip
        self.cfg = cfg
        self.diag = diag
        self.direction = -1 if cfg["current_direction"] < 0 else 1
        self.offset_ma = cfg["current_offset_ma"]
        self.sample_ms = cfg["current_sample_ms"]
        self.stale_ms = cfg["current_stale_ms"]
        self.oc_charge_ma = units.ma(cfg["current_oc_charge_a"])
        self.oc_discharge_ma = units.ma(cfg["current_oc_discharge_a"])
        self.ma = 0              # newest reading, mA, positive = charging
        self.raw_ma = 0          # the same before the zero offset
        self.t_sample = 0        # when it was read
        self.samples = 0         # good readings since start
        self.fault = F_NONE
        self.restarts = 0
        self._fails = 0          # consecutive failed transactions
        self._started = False
        self._t_start = 0
        self._due = None
        self._ring = [0] * _RING
        self._ring_i = 0
        self._ring_n = 0

    # --- what the firmware reads -------------------------------------------------------
    def valid(self):
        return self.fault == F_NONE and self.samples > 0

    def in_grace(self, t_ms):
        """Silent since start() without a first reading, within START_GRACE_MS: not a
        fault yet (the reading is still not valid)."""
        return (self.samples == 0 and (self.fault == F_I2C or self.fault == F_STALE)
                and ticks_diff(t_ms, self._t_start) < START_GRACE_MS)

    def age_ms(self, t_ms):
        return ticks_diff(t_ms, self.t_sample)

    def to_ma(self, code):
        """Chip code -> mA in the charge-positive sense, before the zero offset."""
        return self.direction * (code * self.num // self.den - self.zero_ma)

    # --- sampling ----------------------------------------------------------------------
    def start(self, t_ms):
        """Configure the chip; a failure is a sensor fault and start is retried by poll."""
        self.t_sample = t_ms
        self._t_start = t_ms
        self._due = t_ms
        self._start(t_ms)

    def _start(self, t_ms):
        status = self.chip.start()
        self._started = status == OK
        self._ring_n = 0
        if status == WRONG_CHIP:
            self.fault = F_WRONG_CHIP
        elif status != OK:
            self._fails += 1
        elif self.fault == F_WRONG_CHIP:
            self.fault = F_NONE  # the right chip answers now: judged like any other

    def poll(self, t_ms):
        """Call every main-loop pass; reads the chip when a sample is due. Returns True
        when a new reading arrived."""
        if self._due is None:
            self.start(t_ms)
        if ticks_diff(t_ms, self._due) < 0:
            return False
        self._due = ticks_add(self._due, self.sample_ms)
        if ticks_diff(t_ms, self._due) >= 0:
            self._due = ticks_add(t_ms, self.sample_ms)  # fell behind: resynchronise
        new = False
        if not self._started:
            self._start(t_ms)
        else:
            status = self.chip.read()
            if status == OK:
                new = self._sample(t_ms)
            elif status == I2C_ERROR:
                self._fails += 1
            elif status == CONFIG_LOST:
                self.restarts += 1
                self._start(t_ms)
        self._judge(t_ms)
        self._report(t_ms)
        return new

    def _sample(self, t_ms):
        self._fails = 0
        self.t_sample = t_ms
        code = self.chip.code
        if self.chip.railed() or code < self.code_lo or code > self.code_hi:
            self.fault = F_RAILED
            self._ring_n = 0
            return False
        raw = self.to_ma(code)
        self.raw_ma = raw
        self.ma = raw - self.offset_ma
        self.samples += 1
        if self.fault == F_RAILED:
            self.fault = F_NONE
        ring = self._ring
        ring[self._ring_i] = raw
        self._ring_i = (self._ring_i + 1) % _RING
        if self._ring_n < _RING:
            self._ring_n += 1
        return True

    def _judge(self, t_ms):
        if self.fault == F_WRONG_CHIP:
            return
        if self._fails >= _FAIL_READS:
            self.fault = F_I2C
        elif self.fault == F_RAILED:
            pass  # only a reading within range clears it
        elif ticks_diff(t_ms, self.t_sample) > self.stale_ms:
            self.fault = F_STALE
        else:
            self.fault = F_NONE
        if self.fault != F_NONE:
            self._ring_n = 0

    def _report(self, t_ms):
        d = self.diag
        if d is None:
            return
        d.report(D.CURRENT_SENSOR, self.fault != F_NONE and not self.in_grace(t_ms), t_ms,
                 self.fault)
        if self.fault == F_NONE and self.samples:
            # Unknown current neither raises nor clears an over-current.
            d.report(D.OVER_CURRENT_CHARGE, self.ma > self.oc_charge_ma, t_ms)
            d.report(D.OVER_CURRENT_DISCHARGE, self.ma < -self.oc_discharge_ma, t_ms)

    # --- zero-offset calibration -------------------------------------------------------
    def calibrate_zero(self, contactors_open):
        """Take the mean of the last _RING good readings as the zero offset, store it in
        the configuration (current_offset_ma) and return it. Refused unless the caller
        knows the contactors are open: with them closed, real current would be stored
        as offset and every later reading would be off by it."""
        if not contactors_open:
            raise CalibrationError("zero calibration refused: the contactors are closed, so "
                                   "current may flow; open them (no load, no charger) and retry")
        if self.fault != F_NONE:
            raise CalibrationError("zero calibration refused: the current sensor is faulted (%s)"
                                   % FAULT_NAMES[self.fault])
        if self._ring_n < _RING:
            raise CalibrationError("zero calibration refused: %d of %d fresh readings so far; "
                                   "retry in %d ms" % (self._ring_n, _RING,
                                                       (_RING - self._ring_n) * self.sample_ms))
        total = 0
        for v in self._ring:
            total += v
        offset = (2 * total + _RING) // (2 * _RING)  # mean, rounded
        # The schema is loaded for the moment it checks the value: a board drops it
        # after boot (app.boot), and calibration is a rare operator action.
        from bms import config as C
        try:
            offset = C.coerce("current_offset_ma", offset)
        except C.ConfigError as e:
            raise CalibrationError("zero calibration refused: %s (is the sensor wired and "
                                   "configured right?)" % e)
        self.cfg["current_offset_ma"] = offset
        self.offset_ma = offset
        self.ma = self.raw_ma - offset
        return offset
