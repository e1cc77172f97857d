# A log recorded by the firmware under MicroPython replays under CPython to the
# same transitions: the event log is a faithful record whatever runtime wrote it.

import os
import subprocess

from tests.host.firmware_files import ROOT
from tools import mpy_unix
from tools.cli import main

SCRIPT = """
from tests.logs.scenarios import SCENARIOS, record
for name, (overrides, steps) in SCENARIOS:
    m = record('%s/' + name + '.jsonl', overrides, steps)
    print(name, m.state_name)
"""


def test_logs_recorded_on_micropython_replay_on_cpython(tmp_path, capsys):
    r = subprocess.run(mpy_unix.command("-c", SCRIPT % tmp_path), cwd=ROOT,
                       env=mpy_unix.environment(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    names = sorted(p for p in os.listdir(tmp_path) if p.endswith(".jsonl"))
    assert len(names) == 3, names
    for name in names:
        assert main(["replay", str(tmp_path / name), "--check"]) == 0, name
        replayed = capsys.readouterr().out
        assert main(["replay", os.path.join(ROOT, "tests", "logs", name)]) == 0
        assert capsys.readouterr().out == replayed, "%s: runtimes disagree" % name
