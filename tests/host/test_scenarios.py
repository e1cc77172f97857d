# Every shipped scenario, in accelerated time, in process, against the firmware's
# bus master, checks, diagnosis, state machine, limits and Victron reporter as they
# are today. The expected safe outcome is data in the scenario file; outcomes that
# need firmware not written yet are listed in its "pending" and not asserted.

import pytest

from simulator import harness, outcome, scenario

REQUIRED = ("normal", "cell-overvoltage", "cell-undervoltage", "over-temperature", "cold-charge",
            "thermistor-open", "comm-loss", "board-reset", "precharge-fail", "contactor-weld",
            "overcurrent", "current-sensor-fail", "disobedient-charger", "can-unplugged",
            "imbalanced-pack", "week", "mppt-ignores-ccl")


def test_every_required_scenario_ships():
    assert set(REQUIRED) <= set(scenario.names())


@pytest.mark.parametrize("name", scenario.names())
def test_scenario_reaches_its_safe_outcome(name):
    s = scenario.load(name)
    _h, rows = harness.run_scenario(s, duration_s=s.test_duration_s)
    results = outcome.evaluate(s.expect, rows)
    failed = [msg for _check, ok, msg in results if not ok]
    assert not failed, "%s: %s" % (name, "; ".join(failed))


def test_the_harness_puts_the_firmware_sleeps_back():
    import drivers.tesla_bus
    from drivers import clock
    before = drivers.tesla_bus.sleep_ms
    h, rows = harness.run_scenario(scenario.load("normal"), duration_s=2)
    assert drivers.tesla_bus.sleep_ms is before is clock.sleep_ms
    assert rows[-1]["t_s"] >= 2 and h.fw.pack.cycles > 0


def test_sixteen_modules_in_series_run_with_the_firmware():
    s = scenario.validate({"name": "s16", "description": "16S", "duration_s": 8,
                           "topology": {"series": 16}, "profile": {"load_w": 3000},
                           "expect": [{"at_end": ["bms_state", "==", "Run"]}]})
    h, rows = harness.run_scenario(s)
    assert rows[-1]["bms_state"] == "Run" and rows[-1]["i_pack_a"] < -3.0
    assert h.fw.pack.found == 16 and h.fw.limits.series == 96


def test_the_current_sensor_chip_answers_on_the_firmware_i2c_bus():
    s = scenario.validate({"name": "i2c", "description": "load", "duration_s": 5,
                           "profile": {"load_w": 2300},
                           "expect": [{"at_end": ["bms_state", "==", "Run"]}]})
    h = harness.Harness(s)
    try:
        h.run()
        bus = h.fw.i2c
        bus.writeto(0x68, b"\x1C")             # 18 bit continuous
        h.run(6.0)                              # a conversion completes in sim time
        raw = bus.readfrom(0x68, 3)
        code = raw[0] << 16 | raw[1] << 8 | raw[2]
        code -= (1 << 18) if code & 0x20000 else 0
        amps = h.plant.sensor.amps_from_adc_v(code * 2.048 / (1 << 17))
        assert abs(amps - h.plant.path.pack_current) < 0.5, (amps, h.plant.path.pack_current)
        assert amps < -40
    finally:
        h.close()


def test_the_bms_hears_the_gx_and_ignores_it():
    h, rows = harness.run_scenario(scenario.load("normal"), duration_s=5)
    assert h.fw.reporter.rx_gx >= 4 and h.fw.machine.state_name == "Run"
