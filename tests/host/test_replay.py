import json
import os

from tests.host.firmware_files import ROOT
from tools.cli import main
from tools.replay import first_difference

LOGS = os.path.join(ROOT, "tests", "logs")


def _logs():
    names = sorted(n for n in os.listdir(LOGS) if n.endswith(".jsonl"))
    assert len(names) >= 3
    return [os.path.join(LOGS, n) for n in names]


def test_every_recorded_log_replays_and_checks(capsys):
    for path in _logs():
        assert main(["replay", path, "--check"]) == 0, path
        out = capsys.readouterr().out.splitlines()
        assert out and all(" -> " in line and " on " in line for line in out)


def test_replay_prints_one_line_per_transition(capsys):
    assert main(["replay", os.path.join(LOGS, "normal_startup.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1440 Init -> Precharge on tick"
    assert lines[1] == "1690 Precharge -> Run on bus_voltage"


def test_logs_cover_start_fault_reset_and_precharge_failure():
    seen = set()
    for path in _logs():
        for line in open(path):
            rec = json.loads(line)
            if "transition" in rec:
                seen.add(rec["transition"])
    for t in ("Init->Precharge", "Precharge->Run", "Run->Fault", "Fault->Init",
              "Precharge->Init", "Precharge->Fault", "Run->Balance", "Fault->Shutdown"):
        assert t in seen, t


def _write(tmp_path, lines, name="log.jsonl"):
    p = tmp_path / name
    p.write_text("".join(line + "\n" for line in lines))
    return str(p)


def test_check_names_the_first_difference(tmp_path, capsys):
    lines = open(os.path.join(LOGS, "fault_and_reset.jsonl")).read().splitlines()
    i = next(k for k, l in enumerate(lines) if '"Run->Fault"' in l)
    lines[i] = lines[i].replace("Run->Fault", "Run->Init")
    path = _write(tmp_path, lines)
    assert main(["replay", path, "--check"]) == 1
    err = capsys.readouterr().err
    assert "transition #3 (line %d)" % (i + 1) in err
    assert "Run -> Init on fault" in err and "Run -> Fault on fault" in err


def test_check_notices_missing_and_extra_transitions(tmp_path, capsys):
    lines = open(os.path.join(LOGS, "normal_startup.jsonl")).read().splitlines()
    without_last = [l for l in lines if '"transition"' not in l or "3450" not in l]
    assert main(["replay", _write(tmp_path, without_last), "--check"]) == 1
    assert "the log ends, but replay took" in capsys.readouterr().err
    assert first_difference([], [(1, "A", "B", "e", 7)]) == \
        "transition #1 (line 7): the log says 1 A -> B on e, replay took none"


def test_malformed_lines_name_the_line_and_never_trace(tmp_path, capsys):
    header = '{"t_ms": 0, "log": "pybms-events", "version": 1, "config": {}}'
    cases = [
        ([header, '{"t_ms": 5, "event": "tick"', ], "line 2: not valid JSON"),
        ([header, '[1, 2]'], "line 2: expected a JSON object"),
        ([header, '{"t_ms": -1, "event": "tick"}'], "line 2: t_ms must be"),
        ([header, '{"t_ms": "5", "event": "tick"}'], "line 2: t_ms must be"),
        ([header, '{"t_ms": 5, "event": 7}'], "line 2: event must be a string"),
        ([header, '{"t_ms": 5}'], "line 2: a record needs exactly one of"),
        ([header, '{"t_ms": 5, "transition": "Init", "on": "tick"}'], "line 2: transition must"),
        (['{"t_ms": 0, "log": "other", "version": 1}'], "line 1: not a pybms-events"),
        (['{"t_ms": 0, "log": "pybms-events", "version": 1, "config": {"cell_v_max": 9}}'],
         "line 1: bad config: cell_v_max"),
        (['{"t_ms": 0, "log": "pybms-events", "version": 1, "config": []}'],
         "line 1: config must be an object"),
    ]
    for lines, message in cases:
        assert main(["replay", _write(tmp_path, lines)]) == 2, message
        err = capsys.readouterr().err
        assert message in err, (message, err)
        assert "Traceback" not in err


def test_unreadable_inputs_are_clear_errors(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["replay", str(binary)]) == 2
    assert "not a text file" in capsys.readouterr().err


def test_log_without_header_uses_defaults(tmp_path, capsys):
    path = _write(tmp_path, ['{"t_ms": 10, "event": "pack_ready"}', '{"t_ms": 20, "event": "tick"}',
                             '', '{"t_ms": 30, "event": "bogus"}'])
    assert main(["replay", path, "--check"]) == 1  # a transition happened, none recorded
    captured = capsys.readouterr()
    assert "no header line" in captured.err
    assert captured.out == "20 Init -> Precharge on tick\n"


def test_null_fields_replay_like_the_nan_they_stood_for(tmp_path, capsys):
    path = _write(tmp_path, [
        '{"t_ms": 10, "event": "pack_ready"}', '{"t_ms": 20, "event": "tick"}',
        '{"t_ms": 20, "transition": "Init->Precharge", "on": "tick"}',
        '{"t_ms": 30, "event": "bus_voltage", "v_bus": null, "v_pack": 50.0}'])
    assert main(["replay", path, "--check"]) == 0
