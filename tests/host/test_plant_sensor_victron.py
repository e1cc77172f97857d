# The current sensor's analog side through the register-level chips, and the
# Victron model's DVCC rules.

import tools.victron_codec as V
from simulator.chips import ManualClock
from simulator.chips.ina228 import Ina228Model
from simulator.chips.mcp3421 import Mcp3421Model
from simulator.current_sensor import HallSensor, SensorError, ShuntSensor
from simulator.profiles import Profile
from simulator.victron import VictronSystem


def _mcp_amps(sensor, adc, clock):
    adc.i2c_write(b"\x1C")            # continuous, 18 bit, gain 1
    clock.advance(300)
    raw = adc.i2c_read(3)
    code = raw[0] << 16 | raw[1] << 8 | raw[2]
    if code & 0x20000:
        code -= 1 << 18
    return sensor.amps_from_adc_v(code * 2.048 / (1 << 17))


def test_hall_sensor_through_the_mcp3421_reads_the_current():
    clock = ManualClock()
    adc = Mcp3421Model(clock=clock)
    sensor = HallSensor(adc=adc)
    for amps in (-150.0, -12.5, 0.0, 37.2, 180.0):
        sensor.update(amps, 0.1)
        assert abs(_mcp_amps(sensor, adc, clock) - amps) < 0.005   # 15.6 uV / 4 mV/A
    assert abs(sensor.reading_a() - 180.0) < 0.005


def test_hall_sensor_errors_clipping_and_failures():
    sensor = HallSensor(error=SensorError(offset_a=1.0, gain_error=0.02))
    sensor.update(100.0, 0.1)
    assert abs(sensor.reading_a() - 103.0) < 0.01
    sensor.update(400.0, 0.1)                  # beyond the transducer's range: saturated
    assert sensor.output_v == 4.75
    sensor.update(-400.0, 0.1)
    assert sensor.output_v == 0.25
    sensor.fault = "disconnected"
    sensor.update(10.0, 0.1)
    assert abs(sensor.reading_a() + 250.0) < 0.01
    sensor.fault = "railed_high"
    sensor.update(10.0, 0.1)
    assert sensor.output_v == 5.0


def test_sensor_bandwidth_lags_a_step_and_noise_has_its_rms():
    err = SensorError(bandwidth_hz=1.0)
    err.apply(0.0, 0.01)
    after_tau = err.apply(100.0, 1.0 / (2 * 3.141592653589793))
    assert abs(after_tau - 100.0 * (1 - 2.718281828 ** -1)) < 0.1
    noisy = SensorError(noise_a=2.0, seed=5)
    xs = [noisy.apply(10.0, 0.01) for _ in range(4000)]
    mean = sum(xs) / len(xs)
    rms = (sum((x - mean) ** 2 for x in xs) / len(xs)) ** 0.5
    assert abs(mean - 10.0) < 0.15 and abs(rms - 2.0) < 0.15


def test_shunt_sensor_feeds_the_ina228():
    clock = ManualClock()
    chip = Ina228Model(clock=clock)
    sensor = ShuntSensor(adc=chip)
    sensor.update(-80.0, 0.1, bus_v=51.2)
    assert abs(sensor.shunt_v + 0.008) < 1e-12
    clock.advance(2000)
    chip.i2c_write(b"\x04")                    # VSHUNT
    raw = chip.i2c_read(3)
    code = (raw[0] << 16 | raw[1] << 8 | raw[2]) >> 4
    if code & 0x80000:
        code -= 1 << 20
    assert abs(code * 312.5e-9 + 0.008) < 1e-6
    assert abs(sensor.reading_a() + 80.0) < 0.01


def _gx(system, t, cvl=55.2, ccl=50.0, dcl=100.0, dvl=46.8):
    system.receive(0x351, V.pack(0x351, {"cvl": cvl, "ccl": ccl, "dcl": dcl, "dvl": dvl}), t)


def test_dvcc_charge_limited_by_ccl_and_cvl_discharge_by_dcl():
    v = VictronSystem(Profile(solar_w=5000.0, load_w=0.0))
    assert v.step(0.0, 1.0, 50.0, 0.005, True) == 0.0      # no BMS seen yet: nothing runs
    _gx(v, 0.0)
    assert abs(v.step(0.5, 1.0, 50.0, 0.005, True) - 50.0) < 1e-9   # CCL caps 100 A of sun
    # Near CVL the charger regulates: at most (CVL - E) / R.
    assert abs(v.step(0.6, 1.0, 55.15, 0.005, True) - 10.0) < 1e-6
    assert v.step(0.7, 1.0, 55.3, 0.005, True) == 0.0
    v = VictronSystem(Profile(solar_w=0.0, load_w=10000.0))
    _gx(v, 0.0, dcl=40.0)
    assert abs(v.step(0.5, 1.0, 50.0, 0.005, True) + 40.0) < 1e-9
    assert v.load_served_w == 2000.0
    _gx(v, 1.0, dcl=0.0)
    assert v.step(1.5, 1.0, 50.0, 0.005, True) == 0.0 and not v.inverter_on
    _gx(v, 2.0)
    assert v.step(2.5, 1.0, 46.0, 0.005, True) == 0.0        # below DVL: inverter off


def test_solar_covers_loads_at_ccl_zero_unless_configured_not_to():
    v = VictronSystem(Profile(solar_w=3000.0, load_w=1000.0))
    _gx(v, 0.0, ccl=0.0)
    assert abs(v.step(0.5, 1.0, 50.0, 0.005, True)) < 1e-9
    assert v.load_served_w == 1000.0
    v = VictronSystem(Profile(solar_w=3000.0, load_w=1000.0), {"mppt_feeds_loads_at_ccl0": False})
    _gx(v, 0.0, ccl=0.0)
    assert abs(v.step(0.5, 1.0, 50.0, 0.005, True) + 20.0) < 1e-9


def test_bms_lost_stops_everything_and_latches_mppt_error_67():
    v = VictronSystem(Profile(solar_w=3000.0, load_w=500.0))
    _gx(v, 0.0)
    assert v.step(1.0, 1.0, 50.0, 0.005, True) > 0
    assert v.step(3.0, 1.0, 50.0, 0.005, True) > 0           # within the tolerance
    assert v.step(3.5, 1.0, 50.0, 0.005, True) == 0.0         # 0x351 silent > 3 s
    assert v.gx.bms_lost and v.mppt_error_67 and not v.inverter_on
    v.reset_mppt()
    assert v.mppt_error_67                                   # no reset while still lost
    _gx(v, 4.0)
    assert v.step(4.1, 1.0, 50.0, 0.005, True) < 0           # inverter back, MPPT still off
    assert v.mppt_error_67
    v.reset_mppt()
    assert v.step(4.2, 1.0, 50.0, 0.005, True) > 0 and v.gx.lost_events == 1


def test_options_ignore_ccl_disobedient_charger_and_second_soc():
    v = VictronSystem(Profile(solar_w=5000.0, load_w=0.0), {"mppt_ignores_ccl": True})
    _gx(v, 0.0, ccl=0.0, cvl=50.1)
    assert abs(v.step(0.5, 1.0, 50.0, 0.005, True) - 20.0) < 1e-6   # CVL only
    v = VictronSystem(Profile(), {"disobedient_charger_a": 60.0})
    _gx(v, 0.0, ccl=0.0, cvl=40.0)
    assert v.step(0.5, 1.0, 50.0, 0.005, True) == 60.0
    v = VictronSystem(Profile(solar_w=0.0, load_w=5000.0))
    _gx(v, 0.0)
    v.receive(0x355, V.pack(0x355, {"soc": 50, "soh": 100, "soc_hires": 50.0}), 0.0)
    v.receive(0x379, V.pack(0x379, {"capacity_installed": 100}), 0.0)
    v.step(0.1, 1.0, 50.0, 0.005, True)               # the GX takes the BMS's 50 %
    for k in range(900):                                # 100 A out for 900 s: 25 Ah
        _gx(v, 1.0 + k)
        v.step(1.0 + k, 1.0, 50.0, 0.005, True)
    assert abs(v.gx_soc - 25.0) < 1e-6
    v.receive(0x351, b"\x01", 0.0)
    assert v.gx.bad_frames == 1


class _FakePort:
    def __init__(self, data=b""):
        self.rx = data
        self.tx = b""

    def any(self):
        return len(self.rx)

    def read(self, n=256):
        out, self.rx = self.rx[:n], self.rx[n:]
        return out or None

    def write(self, data):
        self.tx += bytes(data)
        return len(data)


def test_slcan_host_decodes_frames_and_counts_garbage():
    from simulator.slcan_host import SlcanHost
    got = []
    frame = V.pack(0x351, {"cvl": 55.2, "ccl": 50.0, "dcl": 100.0, "dvl": 48.0})
    port = _FakePort(b"\r\x07V1010\rt35" + b"zz\r" + b"t3518" + frame.hex().upper().encode()
                     + b"\r" + b"t3519" + b"00" * 9 + b"\r" + b"\x00\xffjunk\r" + b"t1230\r")
    host = SlcanHost(port, lambda i, d: got.append((i, d)))
    host.open()
    host.service(0.0)
    assert got == [(0x351, frame), (0x123, b"")]
    assert host.errors == 3 and host.replies == 3
    assert port.tx.startswith(b"C\rS6\rO\r")
    host.send(0x307, b"\x00\x00\x00\x00VIC\x00")
    assert port.tx.endswith(b"t3078000000005649430" + b"0\r")
    host.keep_open(10.0)                      # nothing received for a while: open again
    assert port.tx.endswith(b"O\r")
