# `pybms monitor`: the checks on their own, then the whole link: the firmware's
# SLCAN side (CPython, and MicroPython in a subprocess) -> pty pair -> python-can
# slcan -> monitor, with a candump-format log decoded back.

import os
import re
import subprocess
import sys
import tempfile

import cantools

import protocols.victron as V
from tools import mpy_unix
from tools import victron_codec as codec
from tools.monitor import Monitor, candump_line
from tools.ptylink import PtyLink
from tools.victron_dbc import PATH

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = cantools.database.load_file(PATH)
LIMITS = codec.pack(0x351, {"cvl": 55.2, "ccl": 50, "dcl": 100, "dvl": 48})
CANDUMP = re.compile(r"^\((\d+\.\d{6})\) can0 ([0-9A-F]{3})#([0-9A-F]*)$")


def test_candump_format():
    assert candump_line(1700000000.5, 0x351, LIMITS) == "(1700000000.500000) can0 351#2802F401E803E001"
    assert candump_line(1.0, 0x12345678, b"") == "(1.000000) can0 12345678#"


def test_monitor_flags_gaps_cvl_zero_and_alarms():
    m = Monitor(DB, gap_s=2.0)
    out = m.frame(0.0, 0x351, LIMITS)
    assert out == ["0.000 0x351 limits cvl=55.2 ccl=50 dcl=100 dvl=48"], out
    assert m.tick(1.9) == [] and m.tick(2.0) == []
    gap = m.tick(2.1)
    assert len(gap) == 1 and gap[0].startswith("!! 2.100 GAP") and m.tick(2.5) == []
    out = m.frame(2.6, 0x351, codec.pack(0x351, {"cvl": 0, "ccl": 0, "dcl": 0, "dvl": 48}))
    assert any("back after 2.6 s" in line for line in out)
    assert any(line.startswith("!! 2.600 CVL = 0 V") for line in out)
    out = m.frame(2.7, 0x35A, bytes.fromhex("A6AAAA02AA9AAA02"))
    assert "active=alarm_high_voltage,warning_low_temp_charge" in out[0]
    assert "!! 2.700 ALARM high_voltage" in out and "!! 2.700 WARNING low_temp_charge" in out
    out = m.frame(3.7, 0x35A, bytes.fromhex("AAAAAA02AAAAAA02"))
    assert "active=none" in out[0] and any("cleared alarm_high_voltage" in x for x in out)
    out = m.frame(3.8, 0x305, b"\x01\x02")
    assert out == ["3.800 0x305 01 02"]
    out = m.frame(3.9, 0x35E, b"pyBMS\x00\x00\x00")
    assert out == ["3.900 0x35E manufacturer manufacturer=pyBMS"]
    assert m.summary().startswith("frames=6 gap=1 cvl_zero=1 alarm=1 warning=1")


def _link_run(sender_cmd, env, frames, sender_args):
    with PtyLink() as link:
        fd, log = tempfile.mkstemp(suffix=".log")
        os.close(fd)
        sender = subprocess.Popen(sender_cmd + ["tests/host/victron_slcan_sender.py", link.a] + sender_args,
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        try:
            mon = subprocess.run([sys.executable, "-m", "tools.cli", "monitor", "--channel", link.b,
                                  "--frames", str(frames), "--duration", "20", "--log", log],
                                 cwd=ROOT, capture_output=True, text=True, timeout=40)
            out, err = sender.communicate(timeout=30)
        finally:
            if sender.poll() is None:
                sender.kill()
        try:
            with open(log) as f:
                lines = f.read().splitlines()
        finally:
            os.remove(log)
    assert sender.returncode == 0, err
    assert mon.returncode == 0, mon.stderr
    return mon.stdout, out, lines


def _check_log(lines, frames):
    assert len(lines) == frames, len(lines)
    ids = []
    for line in lines:
        m = CANDUMP.match(line)
        assert m, line
        ids.append(int(m.group(2), 16))
        data = bytes.fromhex(m.group(3))
        fid = ids[-1]
        codec.unpack(fid, data)  # every logged frame decodes
        if fid == 0x351:
            lim = codec.unpack(0x351, data)
            assert (lim["cvl"], lim["ccl"], lim["dcl"], lim["dvl"]) == (49.2, 50.0, 100.0, 39.0)
    assert tuple(ids[:len(V.PERIODIC)]) == V.PERIODIC


def test_firmware_on_cpython_to_monitor_over_a_pty():
    frames = 3 * len(V.PERIODIC)
    env = dict(os.environ, PYTHONPATH=ROOT)
    stdout, sender_out, lines = _link_run([sys.executable], env, frames, ["3"])
    assert "sent=%d errors=0" % frames in sender_out, sender_out
    assert "0x351 limits cvl=49.2 ccl=50 dcl=100 dvl=39" in stdout, stdout
    assert "0x35E manufacturer manufacturer=pyBMS" in stdout
    assert "!! " in stdout and "WARNING cell_imbalance" in stdout
    assert "GAP" not in stdout and "CVL = 0" not in stdout
    assert "summary: frames=%d gap=0 cvl_zero=0 alarm=0 warning=1" % frames in stdout
    _check_log(lines, frames)


def test_firmware_on_micropython_to_monitor_with_a_silence():
    frames = 4 * len(V.PERIODIC)
    stdout, sender_out, lines = _link_run(mpy_unix.command(), mpy_unix.environment(), frames,
                                          ["2", "2600", "2"])
    assert "sent=%d errors=0" % frames in sender_out, sender_out
    assert stdout.count("GAP: no 0x351") == 1, stdout
    assert "summary: frames=%d gap=1 cvl_zero=0" % frames in stdout
    _check_log(lines, frames)
