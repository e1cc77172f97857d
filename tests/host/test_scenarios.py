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
