# The demo shows the charge phase and heater the firmware logged (issue 16), never
# an inference, counts simulated time per phase, and shows a record's wall time
# (issue 19) when it has one. Records fed by hand: no processes, no ptys.

import json

from tools import demo_run, demo_view


class _Clock:
    t_s = 0.0


class _Rt:
    def __init__(self):
        self.clock = _Clock()

    def close(self):
        pass


def _run():
    run = demo_run.DemoRun("normal", seconds=60)
    run.rt = _Rt()
    run.truth_path = "/nonexistent/truth.csv"
    return run


def _feed(run, t_s, rec):
    run.rt.clock.t_s = t_s
    run._event(json.dumps(rec), 1)


def test_phase_and_heater_come_from_the_log_and_time_is_counted_per_phase():
    run = _run()
    _feed(run, 0.0, {"t_ms": 1000, "log": "pybms-events", "version": 1, "config": {}})
    assert demo_view.charge_text(run) == "battery off"          # Init
    _feed(run, 0.0, {"t_ms": 1000, "phase": "bulk", "on": "boot"})
    _feed(run, 2.0, {"t_ms": 3000, "transition": "Init->Precharge", "on": "tick"})
    _feed(run, 3.0, {"t_ms": 4000, "transition": "Precharge->Run", "on": "tick"})
    assert demo_view.charge_text(run) == "charge phase bulk"
    _feed(run, 5.0, {"t_ms": 6000, "heater": "heating", "from": "off"})
    assert demo_view.charge_text(run) == (
        "charge phase bulk, heating: charging waits for the pack to warm")
    _feed(run, 20.0, {"t_ms": 21000, "heater": "off", "from": "heating"})
    _feed(run, 40.0, {"t_ms": 41000, "phase": "absorption", "from": "bulk", "on": "at_target"})
    _feed(run, 50.0, {"t_ms": 51000, "phase": "float", "from": "absorption", "on": "full"})
    assert demo_view.charge_text(run) == "charge phase float (full and balanced)"
    _feed(run, 55.0, {"t_ms": 56000, "phase": "bulk", "from": "float", "on": "rebulk"})
    assert demo_view.charge_text(run) == "charge phase bulk (re-bulk)"
    run.rt.clock.t_s = 60.0
    run.close()
    assert run.phase.seconds == {"bulk": 45.0, "absorption": 10.0, "float": 5.0}
    assert run.heater.seconds == {"off": 45.0, "heating": 15.0}
    assert demo_view.tally_text(run.phase) == "bulk 45 s, absorption 10 s, float 5 s"


def test_the_ticker_names_phase_and_heater_records_and_their_wall_time():
    run = _run()
    _feed(run, 0.0, {"t_ms": 1000, "utc_s": 1795860159, "log": "pybms-events", "version": 1,
                     "config": {}})
    _feed(run, 1.0, {"t_ms": 3500, "utc_s": 1795860161, "phase": "absorption", "from": "bulk",
                     "on": "at_target"})
    assert demo_view.ticker(run) == "+2.5 s 10:02:41 UTC  charge phase absorption on at_target"
    _feed(run, 2.0, {"t_ms": 4000, "heater": "heating", "from": "off"})
    assert demo_view.ticker(run) == "+3.0 s  heater heating"


def test_without_phase_records_the_view_says_so_instead_of_guessing():
    run = _run()
    _feed(run, 0.0, {"t_ms": 0, "log": "pybms-events", "version": 1, "config": {}})
    _feed(run, 1.0, {"t_ms": 10, "transition": "Precharge->Run", "on": "bus_voltage"})
    assert demo_view.charge_text(run) == "charge phase ? (not logged yet)"
    assert demo_view.tally_text(run.phase) == "not logged"
