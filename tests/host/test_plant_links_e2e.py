# End to end over real links: `pybms sim --scenario normal` in its own process
# serves the Tesla UART, CAN (SLCAN) and the pin/I2C link on pseudo-terminals; the
# firmware's own drivers (PosixSerial, TeslaBus, SlcanBus, PlantLink through
# boards.hal) attach as the unix port would, built and run by the application's
# own entry point (app.boot) under CPython. Ctrl-C stops the simulator cleanly and
# the truth file shows what really happened.

import os
import signal
import subprocess
import sys
import time

from app import boot
from boards import load
from bms import config
from drivers.clock import sleep_ms
from simulator import truth

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(tmp_path):
    truth_path = str(tmp_path / "truth.csv")
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "sim", "--scenario", "normal",
                             "--truth", truth_path, "--duration", "120"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    paths = {}
    proc.stdout.readline()                    # "scenario normal: ..."
    for _ in range(3):
        name, path = proc.stdout.readline().split()
        paths[name] = path
    return proc, paths, truth_path


def test_firmware_drivers_run_the_plant_over_ptys(tmp_path):
    proc, paths, truth_path = _start(tmp_path)
    app = None
    try:
        cfg = config.make({"module_count": 2, "precharge_mode": "time", "precharge_ms": 500,
                           "bus_timeout_ms": 30, "bus_reset_wait_ms": 0})
        app = boot.build(load("unix"), cfg, {"--tesla": paths["tesla_uart"],
                                             "--can": paths["can_slcan"],
                                             "--plant": paths["plant_link"],
                                             "--state": str(tmp_path / "state")})
        app.start(app.now_ms())
        states = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            app.run_pass()
            states.add(app.machine.state_name)
            if app.machine.state_name == "Run" and app.reporter.completed >= 3:
                break
            sleep_ms(max(1, min(20, app.sched.ms_to_next())))
        assert app.machine.state_name == "Run", (states, app.diag.active_ids())
        assert app.summary.valid and 3000 < app.summary.v_min <= app.summary.v_max < 4200
        assert app.parts.contactors.mismatch() == -1      # the plant's feedback agrees
        assert app.parts.link.errors == 0
        time.sleep(1.5)                                   # let the truth file record it
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        finally:
            if app is not None:
                p = app.parts
                for port in (p.pack.link.uart, p.can.port, p.link.port):
                    port.close()
    assert proc.returncode == 0, err
    assert "stopped at" in err
    rows = truth.read(truth_path)
    assert any(r["pos"] == 1 and r["neg"] == 1 for r in rows)
    assert any(r["gx_ccl_a"] is not None for r in rows), ("the GX heard the BMS over SLCAN", err)
