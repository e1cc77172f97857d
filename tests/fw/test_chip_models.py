# The register-level chip models (simulator/chips) against datasheet numbers: the
# drivers are tested against these models, so the models are tested against the
# datasheets (MCP3421 DS22003, INA228 SBOS886) first.

from simulator.chips import I2CBus, ManualClock
from simulator.chips.ina228 import Ina228Model, set_time_us
from simulator.chips.mcp3421 import Mcp3421Model
from tests.fw.support import raises


def _mcp(config=None):
    clock = ManualClock(1000)
    chip = Mcp3421Model(0x68, clock=clock)
    if config is not None:
        chip.i2c_write(bytes([config]))
    return chip, clock


def _s24(b):
    v = (b[0] << 16) | (b[1] << 8) | b[2]
    return v - (1 << 24) if v & 0x800000 else v


def test_mcp3421_power_on_is_continuous_12_bit():
    chip, clock = _mcp()
    chip.set_input_v(0.5)
    assert chip.i2c_read(3)[2] & 0x80  # nothing converted yet: RDY = 1
    clock.advance(5)                   # 240 SPS: 4.17 ms per conversion
    out = chip.i2c_read(4)
    assert out[2] == 0x10 and out[3] == 0x10, out  # config repeats, RDY = 0
    assert (out[0] << 8 | out[1]) == 500   # 12 bit: 1 mV per count
    assert chip.i2c_read(3)[2] == 0x90     # read once: RDY back to 1


def test_mcp3421_18_bit_coding_and_conversion_time():
    chip, clock = _mcp(0x1C)  # continuous, 18 bit, gain 1
    chip.set_input_v(1.0)
    clock.advance(266)
    assert chip.i2c_read(4)[3] & 0x80      # 3.75 SPS: 266.7 ms not yet over
    clock.advance(1)
    out = chip.i2c_read(4)
    assert out[3] == 0x1C
    assert _s24(out) == 64000              # 1.0 V / 15.625 uV
    chip.set_input_v(-1.0)
    clock.advance(534)  # the running conversion saw 1 V for a moment; the next is clean
    out = chip.i2c_read(4)
    assert bytes(out[:3]) == b"\xff\x06\x00" and _s24(out) == -64000


def test_mcp3421_gain_clipping_and_rates():
    chip, clock = _mcp(0x1F)  # 18 bit, gain 8: +/-256 mV
    chip.set_input_v(0.1)
    clock.advance(300)
    assert _s24(chip.i2c_read(4)) == 51200  # 0.1 V * 8 / 15.625 uV
    chip.set_input_v(3.0)
    clock.advance(300)
    assert _s24(chip.i2c_read(4)) == 131071  # clipped at positive full scale
    chip.set_input_v(-3.0)
    clock.advance(300)
    assert _s24(chip.i2c_read(4)) == -131072
    chip.set_input_v(1.0)
    for config, counts in ((0x14, 4000), (0x18, 16000)):  # 14 and 16 bit, gain 1, 1.0 V
        chip.i2c_write(bytes([config]))  # restarts the conversion
        clock.advance(70)
        out = chip.i2c_read(3)
        assert out[2] == config, (config, out)
        code = out[0] << 8 | out[1]
        assert code == counts, (config, code)


def test_mcp3421_one_shot_converts_once():
    chip, clock = _mcp(0x8C)  # start one-shot, 18 bit
    chip.set_input_v(0.2)
    clock.advance(300)
    out = chip.i2c_read(4)
    assert out[3] == 0x0C and _s24(out) == 12800
    chip.set_input_v(0.4)
    clock.advance(1000)
    out = chip.i2c_read(4)
    assert out[3] & 0x80 and _s24(out) == 12800  # standby: no new conversion
    assert chip.conversions == 1


def test_mcp3421_averages_a_step_inside_a_conversion():
    chip, clock = _mcp(0x1C)
    chip.set_input_v(0.0)
    clock.advance(100)
    chip.i2c_write(bytes([0x1C]))  # restart the conversion
    chip.set_input_v(0.0)
    clock.advance(133)
    chip.set_input_v(1.0)
    clock.advance(134)            # 267 ms in total, half of it at 1 V
    code = _s24(chip.i2c_read(4))
    assert 31000 < code < 33000, code


def test_mcp3421_faults():
    chip, clock = _mcp(0x1C)
    chip.set_input_v(0.5)
    chip.fail("nack")
    e = raises(OSError, chip.i2c_read, 4)
    assert e.args[0] == 19
    raises(OSError, chip.i2c_write, b"\x1c")
    chip.fail(None)
    clock.advance(300)
    assert _s24(chip.i2c_read(4)) == 32000
    chip.fail("stuck")
    chip.set_input_v(1.0)
    clock.advance(3000)
    out = chip.i2c_read(4)
    assert out[3] & 0x80 and _s24(out) == 32000  # frozen, never ready
    chip.fail("railed")
    clock.advance(300)
    assert _s24(chip.i2c_read(4)) == 131071
    raises(ValueError, chip.fail, "melted")
    raises(ValueError, Mcp3421Model, 0x40)


def _ina():
    clock = ManualClock(5)
    chip = Ina228Model(0x40, clock=clock)
    return chip, clock


def _reg(chip, reg, n):
    chip.i2c_write(bytes([reg]))
    v = 0
    for b in chip.i2c_read(n):
        v = v << 8 | b
    return v


def _s20(v):
    v >>= 4
    return v - (1 << 20) if v & 0x80000 else v


def test_ina228_identity_and_reset_values():
    chip, _clock = _ina()
    assert _reg(chip, 0x3E, 2) == 0x5449
    assert _reg(chip, 0x3F, 2) == 0x2281
    assert _reg(chip, 0x01, 2) == 0xFB68
    assert _reg(chip, 0x02, 2) == 0x1000
    assert _reg(chip, 0x0B, 2) == 0x0001
    assert set_time_us(0xFB68) == 3 * 1052
    chip.i2c_write(b"\x02\x04\xe2")      # SHUNT_CAL = 1250
    assert _reg(chip, 0x02, 2) == 1250
    chip.i2c_write(b"\x00\x80\x00")      # RST
    assert _reg(chip, 0x02, 2) == 0x1000 and _reg(chip, 0x00, 2) == 0


def test_ina228_shunt_bus_temp_current_power():
    chip, clock = _ina()
    chip.i2c_write(b"\x02\x04\xe2")  # SHUNT_CAL 1250: 100 uOhm, CURRENT_LSB 500 A / 2**19
    chip.set_shunt_v(0.010)          # 100 A through 100 uOhm
    chip.set_bus_v(48.0)
    chip.set_die_temp_c(30.0)
    clock.advance(3)
    assert not _reg(chip, 0x0B, 2) & 0x0002  # 3.156 ms not over
    clock.advance(1)
    assert _reg(chip, 0x0B, 2) & 0x0002      # CNVRF
    assert not _reg(chip, 0x0B, 2) & 0x0002  # cleared by the read
    assert _s20(_reg(chip, 0x04, 3)) == 32000           # 10 mV / 312.5 nV
    assert _s20(_reg(chip, 0x05, 3)) == 245760          # 48 V / 195.3125 uV
    assert _reg(chip, 0x06, 2) == 3840                  # 30 C / 7.8125 mC
    cur = _s20(_reg(chip, 0x07, 3))
    assert cur == 104857                                # 32000 * 4096 / 1250
    assert abs(cur * 500.0 / (1 << 19) - 100.0) < 0.001
    power = _reg(chip, 0x08, 3) * 3.2 * 500.0 / (1 << 19)
    assert abs(power - 4800.0) < 1.0
    chip.set_shunt_v(-0.005)
    clock.advance(7)  # the set running at the step is mixed; the next one is clean
    assert _s20(_reg(chip, 0x04, 3)) == -16000
    assert _s20(_reg(chip, 0x07, 3)) == -52429
    chip.set_shunt_v(0.5)
    clock.advance(7)
    assert _s20(_reg(chip, 0x04, 3)) == (1 << 19) - 1  # beyond 163.84 mV: clipped


def test_ina228_adcrange_averaging_and_tempco():
    chip, clock = _ina()
    chip.i2c_write(b"\x00\x00\x10")      # ADCRANGE = 1: +/-40.96 mV
    chip.i2c_write(b"\x01\xbb\x6b")      # MODE 0xB (shunt+bus), CT 1052 us, AVG 64 (code 3)
    assert set_time_us(0xBB6B) == 2 * 1052 * 64
    chip.set_shunt_v(0.010)
    clock.advance(134)
    assert not _reg(chip, 0x0B, 2) & 2   # 134.7 ms for a set of 64
    clock.advance(1)
    assert _reg(chip, 0x0B, 2) & 2
    assert _s20(_reg(chip, 0x04, 3)) == 128000  # 10 mV / 78.125 nV
    chip.i2c_write(b"\x02\x13\x88")      # SHUNT_CAL 5000 = 1250 x 4 for ADCRANGE 1
    chip.i2c_write(b"\x03\x00\x64")      # 100 ppm/C
    chip.i2c_write(b"\x00\x00\x30")      # TEMPCOMP + ADCRANGE
    chip.i2c_write(b"\x01\xfb\x68")      # all channels
    chip.set_die_temp_c(125.0)
    clock.advance(8)
    cur = _s20(_reg(chip, 0x07, 3))
    assert abs(cur - 104857 / 1.01) < 2, cur    # 100 C above 25 C at 100 ppm/C


def test_ina228_triggered_mode_converts_once():
    chip, clock = _ina()
    chip.i2c_write(b"\x01\x7b\x68")      # MODE 0x7: one triggered set
    chip.set_shunt_v(0.001)
    clock.advance(10)
    assert _s20(_reg(chip, 0x04, 3)) == 3200
    chip.set_shunt_v(0.002)
    clock.advance(10)
    assert _s20(_reg(chip, 0x04, 3)) == 3200 and chip.conversions == 1


def test_ina228_faults_and_bus_adapter():
    chip, clock = _ina()
    bus = I2CBus(chip)
    assert bus.scan() == [0x40]
    buf = bytearray(2)
    bus.readfrom_mem_into(0x40, 0x3E, buf)
    assert buf == b"TI"
    e = raises(OSError, bus.writeto, 0x41, b"\x00")
    assert e.args[0] == 19
    chip.set_shunt_v(0.001)
    clock.advance(4)
    chip.fail("nack")
    raises(OSError, bus.readfrom_mem_into, 0x40, 0x04, bytearray(3))
    assert bus.scan() == []
    chip.fail(None)
    _reg(chip, 0x0B, 2)
    chip.fail("stuck")
    chip.set_shunt_v(0.002)
    clock.advance(100)
    assert not _reg(chip, 0x0B, 2) & 2 and _s20(_reg(chip, 0x04, 3)) == 3200
    chip.fail("railed")
    clock.advance(4)
    assert _reg(chip, 0x0B, 2) & 2 and _s20(_reg(chip, 0x04, 3)) == (1 << 19) - 1
    raises(ValueError, Ina228Model, 0x68)
