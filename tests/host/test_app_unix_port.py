# The firmware a board boots (main.py -> app/boot.py), unchanged, under the
# MicroPython unix port against `pybms sim --scenario normal` over three ptys
# (Tesla UART, SLCAN, pin/I2C link). Kept short: boot, precharge, Run, the GX
# hearing the BMS; then both processes are stopped.

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from simulator import truth

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
# The 64-bit unix port needs ~1.6x a board's heap for the same objects (the 32-bit
# figures are `pybms bench app`'s).
HEAP = "512K"
CONFIG = {"module_count": 2, "precharge_mode": "time", "precharge_ms": 500,
          "bus_timeout_ms": 30, "bus_reset_wait_ms": 0}


def _build_mpy():
    out = os.path.join(ROOT, "build", "mpy")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy", "build.py"), out],
                   cwd=ROOT, check=True, capture_output=True)
    return out


def test_main_py_runs_the_bms_under_micropython_against_the_plant(tmp_path):
    if not os.path.exists(MICROPYTHON) and not shutil.which("micropython"):
        pytest.skip("no MicroPython unix port in the venv")
    mpy = _build_mpy()
    truth_path = str(tmp_path / "truth.csv")
    sim = subprocess.Popen([sys.executable, "-m", "tools.cli", "sim", "--scenario", "normal",
                            "--truth", truth_path, "--duration", "60"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fw = None
    try:
        sim.stdout.readline()
        paths = dict(sim.stdout.readline().split() for _ in range(3))
        cfg_path = tmp_path / "cfg.json"
        cfg_path.write_text(json.dumps(CONFIG))
        events = tmp_path / "events.jsonl"
        fw = subprocess.Popen(
            [MICROPYTHON, "-X", "heapsize=" + HEAP, os.path.join(ROOT, "main.py"),
             "--tesla", paths["tesla_uart"], "--can", paths["can_slcan"],
             "--plant", paths["plant_link"], "--state", str(tmp_path / "state"),
             "--config", str(cfg_path), "--events", str(events)],
            cwd=ROOT, env=dict(os.environ, MICROPYPATH=".frozen:" + mpy),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        ran = False
        while time.monotonic() < deadline and fw.poll() is None:
            time.sleep(0.5)
            if events.exists() and '"Precharge->Run"' in events.read_text():
                ran = True
                time.sleep(5)          # CAN cycles and truth rows in Run (limits ramp up)
                break
        assert fw.poll() is None, "the firmware stopped: %s" % fw.communicate()[0][-2000:]
        assert ran, events.read_text() if events.exists() else "no event log"
    finally:
        if fw is not None and fw.poll() is None:
            fw.send_signal(signal.SIGTERM)
            fw.wait(timeout=10)
        sim.send_signal(signal.SIGINT)
        _out, err = sim.communicate(timeout=15)
    rows = truth.read(truth_path)
    assert any(r["pos"] == 1 and r["neg"] == 1 for r in rows), err[-1000:]
    assert any(r["gx_ccl_a"] is not None and r["gx_ccl_a"] > 0 and r["gx_dcl_a"] > 0
               for r in rows), ("the GX never got charge and discharge limits", err[-1000:])
