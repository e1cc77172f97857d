# Current-sensor drivers against the register-level chip models: conversions against
# datasheet numbers, cadence, every fault path into the diagnosis table, the zero
# calibration that refuses while the contactors are closed, no allocation per sample.

from bms import config
from bms import diagnosis as D
from drivers import current_sensor as CS
from drivers.ina228 import Ina228
from drivers.mcp3421 import I2C_ERROR, NOT_READY, OK, Mcp3421
from simulator.chips import I2CBus, ManualClock
from simulator.chips.ina228 import Ina228Model
from simulator.chips.mcp3421 import Mcp3421Model
from tests.fw.alloc import allocated_by
from tests.fw.support import MICROPYTHON, raises, skip

HALL = {"current_sensor": "mcp3421_hall"}
SHUNT = {"current_sensor": "ina228_shunt"}


def hall_volts(amps, zero=2.5, mv_per_a=10.0, divider=2.5):
    """ADC input for a pack current with the default hall wiring (C2T-style +/-200 A,
    10 mV/A, zero at 2.5 V, a 0.4 divider: sensor volts / ADC volts = 2.5)."""
    return (zero + amps * mv_per_a / 1000) / divider


class Rig:
    def __init__(self, overrides, t0=1000):
        self.clock = ManualClock(t0)
        self.cfg = config.make(overrides)
        self.diag = D.Diagnosis()
        if self.cfg["current_sensor"] == "mcp3421_hall":
            self.chip = Mcp3421Model(0x68, clock=self.clock)
        else:
            self.chip = Ina228Model(0x40, clock=self.clock)
        self.bus = I2CBus(self.chip)
        self.sensor = CS.make(self.cfg, self.bus, self.diag)
        self.new = 0

    def amps(self, a):
        if self.cfg["current_sensor"] == "mcp3421_hall":
            self.chip.set_input_v(hall_volts(a))
        else:
            self.chip.set_shunt_v(a * self.cfg["current_shunt_uohm"] * 1e-6)

    def run(self, ms, step=10):
        for _ in range(ms // step):
            self.clock.advance(step)
            if self.sensor.poll(self.clock()):
                self.new += 1
        return self.sensor


def test_mcp3421_driver_codes_and_microvolts():
    clock = ManualClock()
    chip = Mcp3421Model(clock=clock)
    bus = I2CBus(chip)
    adc = Mcp3421(bus, 0x68, bits=18, gain=2)
    assert adc.start() == OK and chip.config == 0x1D
    chip.set_input_v(0.5)
    assert adc.read() == NOT_READY
    clock.advance(267)
    assert adc.read() == OK
    assert adc.code == 64000                  # 0.5 V x 2 / 15.625 uV
    assert adc.microvolts(adc.code) == 500000
    chip.set_input_v(-0.25)
    clock.advance(534)
    assert adc.read() == OK and adc.code == -32000 and adc.microvolts(adc.code) == -250000
    assert adc.read() == NOT_READY            # RDY: already read
    raises(ValueError, Mcp3421, bus, 0x68, 10)
    raises(ValueError, Mcp3421, bus, 0x68, 16, 3)
    chip.fail("nack")
    assert adc.read() == I2C_ERROR and adc.start() == I2C_ERROR and adc.errors == 2


def test_ina228_driver_programs_range_and_shunt_cal():
    clock = ManualClock()
    chip = Ina228Model(clock=clock)
    ina = Ina228(I2CBus(chip), 0x40, shunt_uohm=100, max_a=350.0, averages=16)
    assert ina.start() == OK
    assert ina.range == 1                     # 35 mV fits the +/-40.96 mV range
    # SHUNT_CAL = 13107.2e6 x (350 A / 2**19) x 100e-6 Ohm x 4 = 3500
    assert chip.regs[0x00] == 0x0010 and chip.regs[0x02] == 3500
    assert chip.regs[0x01] == 0xBB6A and chip.regs[0x0B] & 0x8000  # MODE B, 1052 us, AVG 16
    chip.set_shunt_v(0.010)                   # 100 A
    chip.set_bus_v(51.2)
    assert ina.read() == NOT_READY
    clock.advance(34)                         # 16 x 2 x 1.052 ms = 33.7 ms
    assert ina.read() == OK
    assert ina.code == 128000                 # 10 mV / 78.125 nV
    assert ina.code * ina.ma_num // ina.ma_den == 100000
    assert ina.bus_mv() == 51200
    assert ina.read() == NOT_READY            # CNVRF was cleared by the read
    # The chip's own CURRENT register agrees (SHUNT_CAL-based LSB)
    buf = bytearray(3)
    I2CBus(chip).readfrom_mem_into(0x40, 0x07, buf)
    current = ((buf[0] << 16) | (buf[1] << 8) | buf[2]) >> 4
    assert abs(current * 350.0 / (1 << 19) - 100.0) < 0.001
    big = Ina228(I2CBus(chip), 0x40, shunt_uohm=250, max_a=500.0)
    assert big.range == 0 and big.ma_den == 500   # 125 mV: the wide range, 312.5 nV
    raises(ValueError, Ina228, I2CBus(chip), 0x40, 1000, 500.0)   # 500 mV: beyond the chip
    raises(ValueError, Ina228, I2CBus(chip), 0x40, 100, 350.0, 10)


def test_hall_sensor_reads_ma_both_ways_at_its_cadence():
    rig = Rig(HALL)
    rig.amps(100.0)
    s = rig.run(1000)
    assert s.valid() and abs(s.ma - 100000) <= 16, s.ma  # 62.5 uV x 2.5 / 10 mV/A = 15.6 mA
    assert 14 <= rig.new <= 16, rig.new                   # 15 conversions a second
    rig.amps(-100.0)
    s = rig.run(300)
    assert abs(s.ma + 100000) <= 16, s.ma
    assert s.age_ms(rig.clock()) <= 70
    rig.amps(0.0)
    assert abs(rig.run(300).ma) <= 30


def test_shunt_sensor_reads_ma_at_20_hz_and_direction():
    rig = Rig(SHUNT)
    rig.amps(-42.0)
    s = rig.run(1000)
    assert s.ma == -42000 and rig.new >= 19, (s.ma, rig.new)
    rig2 = Rig({"current_sensor": "ina228_shunt", "current_direction": -1})
    rig2.amps(-42.0)
    assert rig2.run(200).ma == 42000


def test_i2c_error_is_a_sensor_fault_and_recovers():
    rig = Rig(SHUNT)
    rig.amps(10.0)
    rig.run(200)
    rig.chip.fail("nack")
    s = rig.run(100)
    assert s.fault == CS.F_NONE               # two failed reads: not yet
    s = rig.run(100)
    assert s.fault == CS.F_I2C and not s.valid()
    assert rig.diag.active[D.CURRENT_SENSOR] and rig.diag.detail[D.CURRENT_SENSOR] == CS.F_I2C
    rig.chip.fail(None)
    s = rig.run(200)
    assert s.fault == CS.F_NONE and s.valid() and s.ma == 10000
    rig.run(1100)
    assert not rig.diag.active[D.CURRENT_SENSOR]  # clears after clear_ms


def test_no_new_conversion_is_a_fault_after_stale_ms():
    for overrides in (HALL, SHUNT):
        rig = Rig(overrides)
        rig.amps(5.0)
        rig.run(500)
        rig.chip.fail("stuck")
        s = rig.run(400)
        assert s.fault == CS.F_NONE, overrides   # 500 ms allowed
        s = rig.run(300)
        assert s.fault == CS.F_STALE and rig.diag.active[D.CURRENT_SENSOR], overrides


def test_railed_converter_is_a_fault_not_a_reading():
    for overrides in (HALL, SHUNT):
        rig = Rig(overrides)
        rig.amps(5.0)
        s = rig.run(300)
        good = s.ma
        rig.chip.fail("railed")
        s = rig.run(300)
        assert s.fault == CS.F_RAILED and s.ma == good, overrides  # the rail is not used
        assert rig.diag.active[D.CURRENT_SENSOR]
        rig.chip.fail(None)
        assert rig.run(300).fault == CS.F_NONE


def test_disconnected_hall_sensor_is_a_sensor_fault_not_an_over_current():
    rig = Rig(HALL)
    rig.amps(-20.0)
    s = rig.run(300)
    assert s.valid() and abs(s.ma + 20000) <= 16
    rig.chip.set_input_v(0.0)          # cable off: the divider pulls the ADC to 0 V
    s = rig.run(300)
    # (the conversion that straddles the moment reads in between: one sample, which
    # the over-current row's debounce ignores)
    assert s.fault == CS.F_RAILED and not s.valid()
    assert rig.diag.active[D.CURRENT_SENSOR]
    assert not rig.diag.active[D.OVER_CURRENT_DISCHARGE]
    rig.chip.set_input_v(5.0 / 2.5)    # shorted to the 5 V supply: also not a current
    assert rig.run(300).fault == CS.F_RAILED
    # An over-current beyond the range saturates the transducer inside its supply
    # (0.25 V): still a reading, and the over-current row sees it.
    rig.chip.set_input_v(0.25 / 2.5)
    s = rig.run(300)
    assert s.fault == CS.F_NONE and s.ma == -225000 and rig.diag.active[D.OVER_CURRENT_DISCHARGE]
    # The span follows the configuration: zero +/- current_max_a x sensitivity + 0.4 V.
    assert s.code_lo == int((2500 - 2000 - 400) * 1000 / 62.5 / 2.5)


def test_chip_reset_behind_the_drivers_back_is_reprogrammed():
    rig = Rig(SHUNT)
    rig.amps(20.0)
    rig.run(200)
    rig.bus.writeto(0x40, b"\x00\x80\x00")  # a glitch resets the INA228 to +/-163.84 mV
    s = rig.run(1500)
    assert s.restarts == 1 and s.ma == 20000 and rig.chip.regs[0x00] == 0x0010
    rig = Rig(HALL)
    rig.amps(20.0)
    rig.run(300)
    rig.bus.writeto(0x68, b"\x90")          # MCP3421 power-on configuration
    s = rig.run(500)
    assert s.restarts == 1 and abs(s.ma - 20000) <= 30 and rig.chip.config == 0x18


class Mute:
    """Another chip at the INA228's address: it takes every write and reads zeros."""
    address = 0x40

    def i2c_write(self, data):
        pass

    def i2c_read(self, n):
        return bytes(n)


def test_wrong_chip_at_the_address():
    clock = ManualClock()
    cfg = config.make(SHUNT)
    diag = D.Diagnosis()
    s = CS.make(cfg, I2CBus(Mute()), diag)
    for t in range(0, 200, 10):
        s.poll(t)
    assert s.fault == CS.F_WRONG_CHIP and diag.active[D.CURRENT_SENSOR]
    assert CS.make(config.make(), None) is None      # current_sensor = none
    del clock


def test_missing_chip_at_start_is_a_fault_after_the_grace_and_retried():
    clock = ManualClock()
    chip = Ina228Model(clock=clock)
    chip.fail("nack")
    diag = D.Diagnosis()
    s = CS.make(config.make(SHUNT), I2CBus(chip), diag)
    for _ in range(CS.START_GRACE_MS // 50 - 2):
        clock.advance(50)
        s.poll(clock())
    # silent at boot: not valid, but no fault within the start-up grace
    assert s.fault == CS.F_I2C and not s.valid() and not diag.active[D.CURRENT_SENSOR]
    for _ in range(4):
        clock.advance(50)
        s.poll(clock())
    assert s.fault == CS.F_I2C and diag.active[D.CURRENT_SENSOR]
    chip.fail(None)
    chip.set_shunt_v(0.001)
    for _ in range(10):
        clock.advance(50)
        s.poll(clock())
    assert s.fault == CS.F_NONE and s.ma == 10000


def test_a_sensor_that_answers_late_at_boot_latches_nothing():
    for late_ms in (300, CS.START_GRACE_MS - 500):
        clock = ManualClock()
        chip = Mcp3421Model(clock=clock)
        chip.fail("nack")                   # its supply comes up after the MCU's
        diag = D.Diagnosis()
        s = CS.make(config.make(HALL), I2CBus(chip), diag)
        raised = []
        t = 0
        while t < late_ms:
            clock.advance(10)
            t += 10
            s.poll(clock())
            raised.append(diag.active[D.CURRENT_SENSOR])
            assert not s.valid()
        chip.fail(None)
        chip.set_input_v(hall_volts(-12.0))
        for _ in range(50):
            clock.advance(10)
            s.poll(clock())
        assert not any(raised) and s.valid() and abs(s.ma + 12000) <= 16, late_ms
    # the grace is for silence at start only: a sensor that goes silent later faults
    # after current_stale_ms as before (test_no_new_conversion_is_a_fault_after_stale_ms),
    # and a first conversion that never comes faults once the grace is over
    clock = ManualClock()
    chip = Mcp3421Model(clock=clock)
    chip.fail("stuck")
    diag = D.Diagnosis()
    s = CS.make(config.make(HALL), I2CBus(chip), diag)
    for _ in range(CS.START_GRACE_MS // 50 + 2):
        clock.advance(50)
        s.poll(clock())
    assert s.fault == CS.F_STALE and diag.active[D.CURRENT_SENSOR]


def test_over_current_rows_debounce_spikes():
    rig = Rig(SHUNT)               # oc charge 150 A, discharge 250 A
    rig.amps(100.0)
    rig.run(300)
    rig.amps(200.0)
    rig.run(50)                    # one sample above: a spike
    rig.amps(100.0)
    rig.run(200)
    assert not rig.diag.active[D.OVER_CURRENT_CHARGE]
    rig.amps(160.0)
    rig.run(200)
    assert rig.diag.active[D.OVER_CURRENT_CHARGE]
    assert not rig.diag.active[D.OVER_CURRENT_DISCHARGE]
    rig.amps(-260.0)
    rig.run(200)
    assert rig.diag.active[D.OVER_CURRENT_DISCHARGE]
    assert D.ROWS[D.OVER_CURRENT_CHARGE][D.SET_MS] <= 200
    assert D.ROWS[D.CURRENT_SENSOR][D.SEVERITY] == D.FAULT


def test_zero_calibration_only_with_contactors_open():
    rig = Rig(HALL)
    rig.chip.set_input_v(hall_volts(0.0) + 0.0004)   # 0.4 mV high at the ADC: ~100 mA
    s = rig.run(300)
    e = raises(CS.CalibrationError, s.calibrate_zero, True)
    assert "fresh readings" in str(e)
    s = rig.run(1200)
    before = s.ma
    assert 80 < before < 120, before
    e = raises(CS.CalibrationError, s.calibrate_zero, False)
    assert "contactors are closed" in str(e) and rig.cfg["current_offset_ma"] == 0
    offset = s.calibrate_zero(True)
    assert offset == before and rig.cfg["current_offset_ma"] == offset
    assert abs(rig.run(200).ma) <= 30
    rig.chip.fail("stuck")
    rig.run(700)
    assert "faulted" in str(raises(CS.CalibrationError, s.calibrate_zero, True))
    rig2 = Rig(HALL)
    rig2.amps(-60.0)               # 60 A "at zero": beyond the +/-50 A a config allows
    s2 = rig2.run(1500)
    assert "current_offset_ma" in str(raises(CS.CalibrationError, s2.calibrate_zero, True))


def test_config_rules_for_the_sensor():
    raises(config.ConfigError, config.make, {"current_direction": 0})
    def bad(**overrides):
        return raises(config.ConfigError, config.make, overrides)
    bad(current_sensor="mcp3421_hall", current_hall_bits=13)
    bad(current_sensor="mcp3421_hall", current_hall_gain=3)
    assert "divider" in str(bad(current_sensor="mcp3421_hall", current_hall_gain=2))
    bad(current_sensor="ina228_shunt", current_i2c_address=0x68)
    bad(current_sensor="ina228_shunt", current_shunt_avg=64)
    bad(current_sensor="ina228_shunt", current_shunt_avg=5)
    bad(current_sensor="ina228_shunt", current_shunt_uohm=1000)
    raises(config.ConfigError, config.make, {"current_oc_charge_a": 40.0})   # below max_charge_a
    raises(config.ConfigError, config.make, {"current_sample_ms": 100, "current_stale_ms": 100})
    assert config.make({"current_sensor": "ina228_shunt", "current_i2c_address": 0x45})


def test_ratio_keeps_products_small():
    num, den = CS.ratio(30.0, 1 << 14)
    assert (num, den) == (30, 1)
    num, den = CS.ratio(0.3141592653589793, 1 << 12)
    assert num <= 1 << 12 and abs(num / den - 0.3141592653589793) < 1e-6


class ReplayI2C:
    """Serves fixed register bytes from preallocated buffers: allocates nothing."""

    def __init__(self, regs, flat=None):
        self.regs = regs
        self.flat = flat
        self.ptr = 0

    def writeto(self, addr, buf):
        if len(buf) == 1:
            self.ptr = buf[0]

    def readfrom_into(self, addr, buf):
        src = self.flat if self.flat is not None else self.regs[self.ptr]
        for i in range(len(buf)):
            buf[i] = src[i]


def test_sampling_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    regs = {0x3E: bytearray(b"\x54\x49"), 0x3F: bytearray(b"\x22\x81"),
            0x0B: bytearray(b"\x80\x02"), 0x04: bytearray(b"\x1f\x40\x00"),
            0x05: bytearray(b"\x3c\x00\x00"), 0x00: bytearray(b"\x00\x10")}
    hall = bytearray(b"\x41\x1a\x18\x18")     # 16 bit, continuous, RDY clear
    for overrides, bus in ((SHUNT, ReplayI2C(regs)), (HALL, ReplayI2C(None, hall))):
        diag = D.Diagnosis()
        s = CS.make(config.make(overrides), bus, diag)
        t = [0]

        def run():
            for _ in range(500):
                t[0] += 50
                s.poll(t[0])
        run()
        assert s.valid(), overrides
        used = allocated_by(run)
        assert used == 0, "%s: %d bytes over 500 samples" % (overrides["current_sensor"], used)


def test_a_stalled_loop_resynchronises_and_no_diag_is_fine():
    clock = ManualClock()
    chip = Ina228Model(clock=clock)
    s = CS.make(config.make(SHUNT), I2CBus(chip))      # no diagnosis table attached
    chip.set_shunt_v(0.002)
    for _ in range(10):
        clock.advance(50)
        s.poll(clock())
    clock.advance(400)                                 # the loop stalled: 8 periods
    assert s.poll(clock())
    assert s.fault == CS.F_NONE and s.ma == 20000
    assert not s.poll(clock() + 10)                    # next one is a period later
    raises(ValueError, CS.CurrentSensor, config.make(), None)
    raises(ValueError, CS.ratio, 0.0, 100)


def test_the_right_chip_replacing_a_wrong_one_is_accepted():
    clock = ManualClock()
    bus = I2CBus(Mute())
    s = CS.make(config.make(SHUNT), bus)
    for _ in range(5):
        clock.advance(50)
        s.poll(clock())
    assert s.fault == CS.F_WRONG_CHIP
    chip = Ina228Model(clock=clock)
    bus.chips[0x40] = chip
    chip.set_shunt_v(0.001)
    for _ in range(5):
        clock.advance(50)
        s.poll(clock())
    assert s.fault == CS.F_NONE and s.ma == 10000
