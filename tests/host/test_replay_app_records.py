# Logs with the application's own records (the charge phase and heater, issue 16)
# and the wall-time field (utc_s, issue 19) replay with `pybms replay --check`:
# replay checks their shape and skips them, and never takes utc_s for an event
# field. One log is captured from the whole application under MicroPython.

import json
import subprocess

from tests.fw.app_support import FixedSource, Rig
from tests.host.firmware_files import ROOT
from drivers.wall_clock import WallClock
from fsm.eventlog import ListStream
from tools import mpy_unix
from tools.cli import main

HEADER = '{"t_ms": 0, "utc_s": 1795860159, "log": "pybms-events", "version": 1, "config": {}}'


def _write(tmp_path, lines, name="log.jsonl"):
    p = tmp_path / name
    p.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return str(p)


def _captured(rig):
    out = ListStream()
    rig.ring.dump(out, rig.cfg, rig.clock.ms(), rig.wall)
    return out.lines


def test_a_log_captured_from_the_app_with_phase_heater_and_wall_time_replays(tmp_path, capsys):
    rig = Rig({"heater_enabled": True}, wall=WallClock(FixedSource()))
    rig.pack.set_all(dc=-50)
    rig.run(4000)
    rig.pack.set_all(mv=4095, dc=150)
    rig.run(2000)
    rig.pack.cells[0] = 4300      # over-voltage (balancing meanwhile): -> Fault
    rig.run(2000)
    assert rig.state == "Fault"
    lines = _captured(rig)
    kinds = set(k for line in lines for k in json.loads(line) if k in ("phase", "heater"))
    assert kinds == {"phase", "heater"} and all('"utc_s": ' in x for x in lines)
    assert main(["replay", _write(tmp_path, lines), "--check"]) == 0
    out = capsys.readouterr()
    assert " -> Fault on fault" in out.out and "check: 4 transitions match" in out.err


SCRIPT = """
from drivers.wall_clock import WallClock
from tests.fw.app_support import FixedSource, Rig
rig = Rig(wall=WallClock(FixedSource()))
rig.run(3000)
rig.pack.set_all(mv=4095)
rig.run(1000)
rig.pack.cells[0] = 2500
rig.run(1500)
with open(%r, "w") as f:
    rig.ring.dump(f, rig.cfg, rig.clock.ms(), rig.wall)
print(rig.state)
"""


def test_a_log_written_under_micropython_replays_on_cpython(tmp_path, capsys):
    path = str(tmp_path / "mpy.jsonl")
    r = subprocess.run(mpy_unix.command("-c", SCRIPT % path, heap="384K"), cwd=ROOT,
                       env=mpy_unix.environment(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "Fault", r.stdout + r.stderr
    text = open(path).read()
    assert '"phase": "absorption", "from": "bulk", "on": "at_target"' in text
    assert all(json.loads(x)["utc_s"] >= 1795860159 for x in text.splitlines())
    assert main(["replay", path, "--check"]) == 0, capsys.readouterr().err


def test_utc_s_is_never_an_event_field(tmp_path, capsys):
    lines = [HEADER,
             '{"t_ms": 10, "utc_s": 1795860159, "event": "pack_ready"}',
             '{"t_ms": 20, "utc_s": 1795860159, "event": "tick"}',
             '{"t_ms": 20, "utc_s": 1795860159, "transition": "Init->Precharge", "on": "tick"}']
    assert main(["replay", _write(tmp_path, lines), "--check"]) == 0
    assert "1 transitions match" in capsys.readouterr().err


def test_bad_app_records_and_wall_times_name_their_line(tmp_path, capsys):
    bad = ('{"t_ms": 5, "phase": "trickle", "on": "boot"}',
           '{"t_ms": 5, "phase": "float", "from": "bulk", "on": "because"}',
           '{"t_ms": 5, "heater": "on", "from": "off"}',
           '{"t_ms": 5, "phase": "float", "on": "full"}',
           '{"t_ms": 5, "utc_s": "10:02", "event": "tick"}',
           '{"t_ms": 5, "utc_s": -1, "event": "tick"}')
    for line in bad:
        assert main(["replay", _write(tmp_path, [HEADER, line]), "--check"]) == 2, line
        err = capsys.readouterr().err
        assert "line 2" in err and "Traceback" not in err, err


def test_app_records_must_follow_on_from_the_previous_one_of_their_kind(tmp_path, capsys):
    lines = [HEADER,
             '{"t_ms": 1, "phase": "bulk", "on": "boot"}',
             '{"t_ms": 2, "heater": "heating", "from": "off"}',
             '{"t_ms": 3, "phase": "absorption", "from": "bulk", "on": "at_target"}',
             '{"t_ms": 4, "phase": "bulk", "from": "float", "on": "rebulk"}']
    assert main(["replay", _write(tmp_path, lines[:4]), "--check"]) == 0
    capsys.readouterr()
    assert main(["replay", _write(tmp_path, lines), "--check"]) == 2
    err = capsys.readouterr().err
    assert "line 5" in err and "from float, but the record before says absorption" in err
    # A new header is a new boot: the chain starts again.
    reboot = lines[:4] + [HEADER, '{"t_ms": 1, "phase": "bulk", "on": "boot"}',
                          '{"t_ms": 9, "heater": "heating", "from": "off"}']
    assert main(["replay", _write(tmp_path, reboot), "--check"]) == 0
