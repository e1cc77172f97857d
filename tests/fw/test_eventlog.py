import json

from fsm.eventlog import EventLog, ListStream


def test_every_record_is_one_json_object_per_line():
    s = ListStream()
    log = EventLog(s)
    log.header(0, {"auto_connect": True, "precharge_mode": "voltage"})
    log.event(5, "tick", None)
    log.event(6, "bus_voltage", {"v_bus": 49.5, "v_pack": 50.0})
    log.transition(7, "bus_voltage", "Precharge", "Run")
    log.rejected(8, "connect", "Run", "no_row")
    log.error(9, "bus_voltage", 'guard: KeyError("v_bus")')
    out = [json.loads(line) for line in s.lines]
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in s.lines)
    assert out[0]["log"] == "pybms-events" and out[0]["version"] == 1
    assert out[0]["config"]["precharge_mode"] == "voltage"
    assert out[1] == {"t_ms": 5, "event": "tick"}
    assert out[2] == {"t_ms": 6, "event": "bus_voltage", "v_bus": 49.5, "v_pack": 50.0}
    assert out[3] == {"t_ms": 7, "transition": "Precharge->Run", "on": "bus_voltage"}
    assert out[4] == {"t_ms": 8, "rejected": "connect", "state": "Run", "reason": "no_row"}
    assert out[5]["error"] == 'guard: KeyError("v_bus")' and out[5]["on"] == "bus_voltage"


def test_awkward_strings_are_escaped():
    s = ListStream()
    EventLog(s).event(1, 'odd"name\n', {"note": "a\"b"})
    assert json.loads(s.lines[0]) == {"t_ms": 1, "event": 'odd"name\n', "note": 'a"b'}


def test_non_finite_numbers_are_logged_as_null():
    s = ListStream()
    EventLog(s).event(1, "bus_voltage", {"v_bus": float("nan"), "v_pack": float("inf")})
    assert json.loads(s.lines[0]) == {"t_ms": 1, "event": "bus_voltage", "v_bus": None, "v_pack": None}
