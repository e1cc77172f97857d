# Scenario files are validated as a whole: a bad one is an error naming the file,
# the key and the problem. The truth file round-trips through CSV.

import json

import pytest

from simulator import scenario, truth
from simulator.scenario import ScenarioError


def _write(tmp_path, data, name="bad"):
    p = tmp_path / (name + ".json")
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


def _base(name="bad"):
    return {"name": name, "description": "x", "duration_s": 10,
            "expect": [{"at_end": ["bms_state", "==", "Run"]}]}


@pytest.mark.parametrize("change, key, problem", [
    ({"duration_s": -1}, "duration_s", "> 0"),
    ({"topology": {"series": 17}}, "topology.series", "outside"),
    ({"topology": {"serie": 2}}, "topology.serie", "unknown key"),
    ({"pack": {"soc": "full"}}, "pack.soc", "number"),
    ({"victron": {"mppt_ignores_ccl": 1}}, "victron.mppt_ignores_ccl", "true or false"),
    ({"firmware": {"cell_v_max": 9}}, "firmware", "cell_v_max"),
    ({"events": [{"at_s": 1, "kind": "meteor"}]}, "events[0].kind", "one of"),
    ({"events": [{"at_s": 1, "kind": "weld", "contactor": "middle"}]}, "events[0].contactor", "one of"),
    ({"events": [{"at_s": 1, "kind": "ring_break", "module": 5}]}, "events[0].module", "does not exist"),
    ({"events": [{"kind": "ring_break", "module": 0}]}, "events[0].at_s", "seconds"),
    ({"expect": [{"at_end": ["volts", "==", 1]}]}, "expect[0].at_end", "unknown truth column"),
    ({"expect": [{"at_end": ["bms_faults", "contains", "cel_ov"]}]}, "expect[0].at_end", "not a diagnosis id"),
    ({"expect": [{"when": ["t_s", ">", 1], "then": ["pos", "==", 0]}]}, "expect[0].within_s", "missing"),
    ({"colour": "red"}, "colour", "unknown key"),
])
def test_bad_scenario_names_file_key_and_problem(tmp_path, change, key, problem):
    data = _base()
    data.update(change)
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError) as e:
        scenario.load(path)
    text = str(e.value)
    assert text.startswith(path + ": " + key + ": "), text
    assert problem in text, text


def test_broken_json_and_wrong_name_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid JSON"):
        scenario.load(_write(tmp_path, "{\"name\": "))
    with pytest.raises(ScenarioError, match="name: 'other' differs"):
        scenario.load(_write(tmp_path, _base("other")))
    with pytest.raises(ScenarioError, match="no such scenario"):
        scenario.load("no-such-thing")


def test_every_shipped_scenario_loads_with_defaults_filled():
    for name in scenario.names():
        s = scenario.load(name)
        assert s.name == name and s.description
        assert s.topology["series"] >= 1 and s.run["step_s"] > 0
        s.firmware_config()


def test_truth_csv_round_trip(tmp_path):
    path = str(tmp_path / "t.csv")
    w = truth.TruthWriter(path)
    w.write({"t_s": 1.5, "bms_state": "Run", "cell_v_max": 4.1234567, "pos": True, "events": "weld"})
    w.write({"t_s": 2.0, "gx_ccl_a": None})
    w.close()
    rows = truth.read(path)
    assert open(path).readline().strip().split(",") == list(truth.NAMES)
    assert rows[0]["t_s"] == 1.5 and rows[0]["bms_state"] == "Run" and rows[0]["pos"] == 1.0
    assert rows[0]["cell_v_max"] == 4.1235 and rows[0]["events"] == "weld"
    assert rows[1]["gx_ccl_a"] is None
    with pytest.raises(KeyError):
        truth.TruthWriter().write({"volts": 1})
