# The Tesla bus master talking to the module emulator over real pseudo-terminals:
# CPython master and emulator in one process, the MicroPython firmware master in a
# `micropython` subprocess against `pybms sim modules`, with and without noise.

import os
import signal
import subprocess
import sys
import threading

from bms import config
from bms.diagnosis import Diagnosis
from drivers.posix_serial import PosixSerial
from drivers.tesla_bus import TeslaBus
from protocols.tesla import codec
from protocols.tesla import frame as F
from simulator.tesla_modules import ModuleChain
from tests.fw.tesla_support import poll_checking
from tests.host.firmware_files import ROOT
from tools import mpy_unix

MASTER = os.path.join(ROOT, "tools", "bench", "tesla_master.py")
PYBMS = os.path.join(os.path.dirname(sys.executable), "pybms")


class EmulatorThread:
    def __init__(self, count, **kwargs):
        self.master_fd, self.slave_fd = os.openpty()
        import tty
        tty.setraw(self.slave_fd)
        self.path = os.ttyname(self.slave_fd)
        self.uart = PosixSerial(self.path, fd=self.master_fd)
        self.chain = ModuleChain(self.uart, count, **kwargs)
        self._stop = False
        self.thread = threading.Thread(target=self.chain.run, args=(lambda: self._stop,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.uart.close()
        os.close(self.slave_fd)
        os.close(self.master_fd)


def _truth(b, c):
    return 3300 + 50 * b + 7 * c


def test_cpython_master_polls_16_boards_over_a_pty_with_and_without_noise():
    emu = EmulatorThread(16)
    try:
        for b in range(16):
            emu.chain.set_cells(b, [_truth(b, c) for c in range(6)])
        cfg = config.make({"module_count": 16, "bus_timeout_ms": 30, "bus_reset_wait_ms": 0,
                           "bus_retry_budget": 32})
        diag = Diagnosis()
        serial = PosixSerial(emu.path)
        bus = TeslaBus(serial, cfg, diag)
        t = 0
        for _ in range(5):
            t += 250
            bus.poll(t)
        assert bus.found == 16 and bus.age_ms(t) == 0, (bus.found, bus.link.stats)
        assert not diag.active_ids()
        for b in range(16):
            assert [bus.cell_mv(b * 6 + c) for c in range(6)] == [_truth(b, c) for c in range(6)]
        emu.chain.set_noise(0.003)
        t, fresh = poll_checking(bus, 16, _truth, 30, t)
        assert sum(emu.chain.injected) > 10
        assert sum(bus.frame_errors) + bus.link.stats[F.E_TIMEOUT] > 0
        assert fresh > 0.8 * 30 * 16, fresh
        assert "internal" not in diag.active_ids()
        serial.close()
    finally:
        emu.close()


def start_sim(*args):
    p = subprocess.Popen([PYBMS, "sim", "modules"] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    path = p.stdout.readline().strip()
    assert path.startswith("/dev/"), (path, p.stderr.read() if p.poll() is not None else "")
    return p, path


def stop_sim(p):
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=5)
    return p.returncode, out, err


def run_mpy_master(path, count, cycles, *opts):
    env = mpy_unix.environment()
    r = subprocess.run(mpy_unix.command(MASTER, path, str(count), str(cycles))
                       + list(opts), capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return dict(kv.split("=") for kv in line.split()[1:])


def test_micropython_master_polls_16_boards_from_pybms_sim():
    p, path = start_sim("--count", "16", "--cells", "3.712")
    try:
        r = run_mpy_master(path, 16, 20, "cells_mv=3712")
    finally:
        rc, _, _ = stop_sim(p)
    assert rc == 0
    assert r["found"] == "16" and r["diag"] == "-", r
    assert int(r["fresh"]) == 16 * 20 and r["wrong"] == "0" and r["errors"] == "0"
    assert r["alloc"] == "0", "the poll cycle allocates on MicroPython with a real pty"
    assert int(r["tx"]) + int(r["rx"]) == 20 * (24 + 26 * 16)   # bytes per cycle as designed


def test_micropython_master_with_noise_never_takes_a_wrong_value():
    p, path = start_sim("--count", "16", "--cells", "3.712", "--noise", "0.003", "--seed", "5")
    try:
        r = run_mpy_master(path, 16, 30, "cells_mv=3712", "timeout=30", "budget=32")
    finally:
        stop_sim(p)
    assert r["found"] == "16", r
    assert r["wrong"] == "0", r
    assert int(r["errors"]) > 0, r
    assert int(r["fresh"]) > 0.8 * 16 * 30, r


def test_sim_command_serves_the_ring_and_stops_on_ctrl_c():
    p, path = start_sim("--count", "3", "--stats")
    try:
        s = PosixSerial(path)
        frame = codec.write_frame(0x3F, 0x3C, 0xA5)    # broadcast reset comes back as its echo
        s.write(frame)
        got = b""
        for _ in range(50):
            s.wait(20)
            got += s.read(16) or b""
            if len(got) >= 4:
                break
        assert got == frame
        s.close()
    finally:
        rc, out, err = stop_sim(p)
    assert rc == 0, err
    assert "frames_in=1 frames_out=1" in out


def test_sim_command_rejects_bad_arguments():
    for args in (["--count", "0"], ["--count", "63"], ["--noise", "2"], ["--cells", "x"],
                 ["--cells", "9.9"]):
        r = subprocess.run([PYBMS, "sim", "modules"] + args,
                           capture_output=True, text=True, cwd=ROOT, timeout=20)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "pybms sim" in r.stderr


EMULATOR_ON_MPY = """
import sys
from drivers.posix_serial import PosixSerial
from drivers.clock import ticks_diff, ticks_ms
from simulator.tesla_modules import ModuleChain
chain = ModuleChain(PosixSerial(sys.argv[1]), 4, cells_mv=[3650] * 6)
print("ready")
start = ticks_ms()
chain.run(lambda: ticks_diff(ticks_ms(), start) > int(sys.argv[2]))
print("frames", chain.frames_in, chain.frames_out)
"""


def test_emulator_itself_runs_on_micropython():
    """Hardware-in-the-loop shape: the emulator under MicroPython behind a tty, the
    CPython bus master on the other end."""
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    import tempfile
    fd, script = tempfile.mkstemp(suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write(EMULATOR_ON_MPY)
    env = mpy_unix.environment()
    p = subprocess.Popen(mpy_unix.command(script, path, "4000"), cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        serial = PosixSerial(path, fd=master)
        cfg = config.make({"module_count": 4, "bus_timeout_ms": 50, "bus_reset_wait_ms": 0})
        diag = Diagnosis()
        bus = TeslaBus(serial, cfg, diag)
        t = 0
        for _ in range(4):
            t += 250
            bus.poll(t)
        assert bus.found == 4 and bus.age_ms(t) == 0, (bus.found, bus.link.stats)
        assert [bus.cell_mv(i) for i in range(24)] == [3650] * 24
        assert not diag.active_ids()
        serial.close()
    finally:
        p.kill()
        p.communicate(timeout=5)
        os.remove(script)
        os.close(slave)
        os.close(master)
