# End to end over real links: `pybms sim --scenario normal` in its own process
# serves the Tesla UART, CAN (SLCAN) and the pin/I2C link on pseudo-terminals; the
# firmware's own drivers (PosixSerial, TeslaBus, SlcanBus, PlantLink through
# boards.hal) attach as the unix port would, run by the mini main loop. Ctrl-C
# stops the simulator cleanly and the truth file shows what really happened.

import os
import signal
import subprocess
import sys
import time

from boards import hal, load
from bms import config
from drivers.can_slcan import SlcanBus
from drivers.clock import ticks_ms
from drivers.posix_serial import PosixSerial
from simulator import truth
from simulator.harness import MiniLoop

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
    ports = []
    try:
        cfg = config.make({"module_count": 2, "precharge_mode": "time", "precharge_ms": 500,
                           "bus_timeout_ms": 30, "bus_reset_wait_ms": 0})
        tesla = PosixSerial(paths["tesla_uart"])
        can_port = PosixSerial(paths["can_slcan"])
        link = hal.plant_link(paths["plant_link"], timeout_ms=100)
        ports = [tesla, can_port, link.port]
        board = load("unix")
        contactors = hal.contactors(board, link=link)
        loop = MiniLoop(cfg, tesla, SlcanBus(can_port), contactors=contactors,
                        heater=hal.output(board, board["heater"], link=link),
                        connect_pin=link.pin("connect"), reset_pin=link.pin("reset"),
                        watchdog_pet=link.pet)
        loop.start(ticks_ms())
        states = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            link.poll()
            loop.run_pass(ticks_ms())
            states.add(loop.fw.machine.state_name)
            if loop.fw.machine.state_name == "Run" and loop.fw.reporter.completed >= 3:
                break
            time.sleep(0.01)
        fw = loop.fw
        assert fw.machine.state_name == "Run", (states, fw.diag.active_ids())
        assert fw.summary.valid and 3000 < fw.summary.v_min <= fw.summary.v_max < 4200
        assert fw.contactors.mismatch() == -1      # the plant's feedback agrees
        assert link.errors == 0
        time.sleep(1.5)                            # let the truth file record it
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        finally:
            for p in ports:
                p.close()
    assert proc.returncode == 0, err
    assert "stopped at" in err
    rows = truth.read(truth_path)
    assert any(r["pos"] == 1 and r["neg"] == 1 for r in rows)
    assert any(r["gx_ccl_a"] is not None for r in rows), ("the GX heard the BMS over SLCAN", err)
