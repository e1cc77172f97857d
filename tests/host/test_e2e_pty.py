# A representative subset of scenarios end to end OVER PSEUDO-TERMINALS: the
# firmware under the MicroPython unix port (a separate process running main.py,
# what a board boots) attached to the real-time plant
# as it would be to hardware (tools/demo_run.py, what `pybms demo` runs). Short
# simulated durations at 2x keep the whole file near a minute of wall time; every
# scenario runs in process in test_e2e_scenarios.py. docs/testing.md says why.
#
# Time here is of two kinds: the firmware's own clock (wall time: CAN gaps, taken
# from the candump timestamps) and the plant's (simulated, 2x: the truth rows).

import os
import signal
import subprocess
import sys
import time

import pytest

from bms import diagnosis as D
from tools import demo_interp, demo_run, e2e, mpy_unix
from tools import victron_codec as codec

pytestmark = pytest.mark.skipif(not mpy_unix.available(), reason="no MicroPython unix port")

SPEED = 2.0
GAP_S = e2e.GX_GAP_MS / 1000.0


@pytest.fixture(scope="module")
def interp():
    return demo_interp.pypi(say=lambda text: None)


def _run(interp, name, seconds, stop=None):
    res = demo_run.run_quiet(name, seconds, SPEED, interp=interp, stop=stop)
    assert res.ok, res.message
    assert res.run.frames, "the firmware sent nothing"
    return res.run


def _limits(run):
    return [(f, codec.unpack(0x351, f.data)) for f in run.frames if f.can_id == 0x351]


def _gaps(run, skip=()):
    """Largest silence between frames (wall s), leaving out the windows in skip."""
    worst = 0.0
    for a, b in zip(run.frames, run.frames[1:]):
        if any(lo <= b.wall and a.wall <= hi for lo, hi in skip):
            continue
        worst = max(worst, b.wall - a.wall)
    return worst


def _common(run, skip=()):
    assert all(v["cvl"] > 0 for _f, v in _limits(run)), "CVL = 0 was sent"
    assert _gaps(run, skip) <= GAP_S, "CAN silent %.2f s" % _gaps(run, skip)
    for lines in run.boot_logs():
        assert e2e.replay_problem(lines) is None, e2e.replay_problem(lines)


def _alarm_active(frame, diag_id):
    byte, shift, _flag = e2e.alarm_place(diag_id)
    return (frame.data[byte] >> shift) & 3 == 1


def test_normal_starts_precharges_and_runs_over_ptys(interp):
    run = _run(interp, "normal", 24)
    _common(run)
    assert [t[3] for t in run.transitions] == ["Precharge", "Run"], run.transitions
    last = run.truth_rows[-1]
    assert last["pos"] == 1 and last["neg"] == 1 and last["pre"] == 0
    assert _limits(run)[-1][1]["ccl"] > 0 and last["gx_bms_lost"] == 0


def test_comm_loss_opens_reports_and_keeps_talking_over_ptys(interp):
    run = _run(interp, "comm-loss", 30)
    _common(run)
    faults = [r for r in run.events if r.get("event") == "fault"]
    assert any(r["diag"] == "comm_loss" for r in faults), faults
    assert run.state == "Fault"
    broke = [r for r in run.truth_rows if r["t_s"] >= 20.0]
    opened = [r["t_s"] for r in broke if r["pos"] == 0]
    # 2 s of plant time is 1 s of the firmware's at 2x: the same budget as in process.
    assert opened and opened[0] - 20.0 <= 2.0 * SPEED, opened[:1]
    f, v = _limits(run)[-1]
    assert v["ccl"] == 0 and v["dcl"] == 0
    alarms = [fr for fr in run.frames if fr.can_id == 0x35A]
    assert _alarm_active(alarms[-1], "fault_latched")


def test_cell_fault_latches_and_a_watchdog_reset_keeps_it_over_ptys(interp):
    # cell-overvoltage faults at ~21 s of plant time; then the firmware hangs (SIGSTOP)
    # and the plant's watchdog restarts it (boards/unix.py watchdog_ms): the new
    # process must come up in Fault, with every contactor open, from its flash.
    seen = []
    hung = []
    back = []

    def stop(run):
        # Hang it half a second after the Fault transition shows in its log: the
        # log line is flushed before the latch is written to flash, and no firmware
        # can keep a latch it had no time to write (in process: 100 ms after).
        if not seen and run.state == "Fault":
            seen.append(time.time())
        if seen and not hung and time.time() - seen[0] >= 0.5:
            hung.append(time.time())
            run.fw.hang()
        if hung and not back and run.fw.restarts >= 1:
            back.append(time.time())
        return bool(back) and time.time() - back[0] > 6.0
    run = _run(interp, "cell-overvoltage", 120, stop=stop)
    assert hung, "the cell fault never latched"
    assert run.restarts_seen >= 1, "the watchdog never restarted the hung firmware"
    boots = run.boot_logs()
    assert len(boots) >= 2
    first = [r for r in run.events if r.get("event") == "fault"]
    assert any(r["diag"] == "cell_ov" for r in first), first
    # After the restart: Fault again at boot (the persisted latch), nothing closes.
    assert '"Init->Fault"' in "".join(boots[-1]), boots[-1][:4]
    t_hang = [r["t_s"] for r in run.truth_rows if r["pos"] == 0 and r["t_s"] > 20.0][0]
    assert all(r["pos"] == 0 and r["pre"] == 0 for r in run.truth_rows if r["t_s"] >= t_hang)
    restarted = [f for f in run.frames if f.wall > hung[0] + 1.0]
    assert restarted, "the restarted firmware sent nothing"
    assert _alarm_active([f for f in restarted if f.can_id == 0x35A][-1], "fault_latched")
    assert all(v["ccl"] == 0 and v["dcl"] == 0 for f, v in _limits(run) if f.wall > hung[0])
    resume = restarted[0].wall
    _common(run, skip=((hung[0], resume),))
    assert D.ROWS[D.CELL_OV][D.RECOVERY] == D.LATCH


def test_precharge_fail_never_closes_onto_the_short_over_ptys(interp):
    # The unix board reads the plant's DC-bus voltage over the plant link, so it
    # precharges in voltage mode: the shorted bus never reaches the pack, every
    # attempt times out (1 + precharge_retries, a cooling pause between them) and
    # the last latches precharge_failed. Stopped 2 s after the Fault shows.
    seen = []

    def stop(run):
        if not seen and run.state == "Fault":
            seen.append(time.time())
        return bool(seen) and time.time() - seen[0] > 2.0
    run = _run(interp, "precharge-fail", 100, stop=stop)
    _common(run)
    assert seen, "never reached Fault: %r" % run.transitions
    assert all(r["pos"] == 0 and r["coil_pos"] == 0 for r in run.truth_rows), \
        "main positive closed onto the short"
    assert any(r["pre"] == 1 for r in run.truth_rows), "it never precharged"
    cfg = e2e.config_defaults()
    attempts = [t for t in run.transitions if t[2] == "Precharge"]
    assert [t[3] for t in attempts] == ["Init"] * cfg["precharge_retries"] + ["Fault"], \
        run.transitions
    # The machine held precharge_failed (the Fault entry on the last attempt's
    # timeout): limits 0 and its 0x35A alarm.
    f, v = _limits(run)[-1]
    assert v["ccl"] == 0 and v["dcl"] == 0
    assert _alarm_active([fr for fr in run.frames if fr.can_id == 0x35A][-1], "precharge_failed")


def test_ctrl_c_stops_the_demo_and_everything_it_started(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "tools.cli", "demo", "--pypi", "--seconds", "600"],
                         cwd=mpy_unix.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    fw_pid = None
    deadline = time.time() + 60
    try:
        while time.time() < deadline and fw_pid is None:
            time.sleep(0.5)
            fw_pid = _child_micropython(p.pid)
        assert fw_pid, "the firmware never started"
        time.sleep(2.0)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, out
    assert "stopped by Ctrl-C" in out and "summary:" in out, out
    assert not _alive(fw_pid), "the firmware outlived the demo"
    links = [w for line in out.splitlines() if line.startswith("links: ")
             for w in line.split() if w.startswith("/dev/")]
    assert len(links) == 3, out
    assert not _holders(links), "ptys still open: %r" % _holders(links)


def _child_micropython(parent):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"micropython" in cmd:
            return int(pid)
    return None


def _holders(paths):
    """(pid, path) of processes with one of `paths` open that belong to a demo."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            if b"demo" not in cmd:
                continue
            for fd in os.listdir("/proc/%s/fd" % pid):
                target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                if target in paths:
                    out.append((int(pid), target))
        except OSError:
            continue
    return out


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_firmware_that_crashes_gets_a_clear_message_with_its_output(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("print('booting')\nraise RuntimeError('the firmware broke')\n")
    broken = demo_interp.Interpreter([mpy_unix.EXE], dict(os.environ), "broken", script=str(script))
    res = demo_run.run_quiet("normal", 20, SPEED, interp=broken)
    assert not res.ok
    assert "exited" in res.message and "the firmware broke" in res.message and \
        "booting" in res.message, res.message
