# SLCAN on a real pty: when the host stops reading and the pty fills up, send()
# reports busy and answers to commands are dropped and counted, instead of
# blocking the BMS loop; on CPython and on MicroPython alike.

import os
import re
import subprocess
import sys
import threading
import time

from drivers.can_slcan import SlcanBus
from drivers.posix_serial import PosixSerial
from tools import mpy_unix

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_full_pty_makes_send_busy_never_blocks():
    master, slave = os.openpty()
    port = PosixSerial(os.ttyname(slave))
    bus = SlcanBus(port, opened=True)
    result = {}

    def flood():
        frame = bytes(8)
        for i in range(20000):  # ~440 KB: far beyond any pty buffer
            bus.send(0x351, frame)
        result["done"] = True

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    t.join(20)
    try:
        assert result.get("done"), "SlcanBus.send blocked on a full pty"
        assert bus.tx_busy > 0 and bus.tx_ok > 0
        # the host reads again: frames flow again
        ok = bus.tx_ok
        os.set_blocking(master, False)
        try:
            while os.read(master, 65536):
                pass
        except BlockingIOError:
            pass
        assert bus.send(0x351, bytes(8)) and bus.tx_ok == ok + 1
    finally:
        port.close()
        os.close(master)
        os.close(slave)


def _deaf_host(cmd, env):
    """Run the firmware side on a pty whose host writes commands and GX frames
    as fast as it can and never reads; return the firmware's counters."""
    master, slave = os.openpty()
    os.set_blocking(master, False)
    burst = (b"V\rS6\rF\rN\rO\r" + b"t30780000000056494300\r") * 100
    proc = subprocess.Popen(cmd + ["tests/host/slcan_deaf_host_target.py", os.ttyname(slave), "1500"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        deadline = time.monotonic() + 30
        at = 0
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                at = (at + os.write(master, burst[at:])) % len(burst)
            except BlockingIOError:   # the firmware is behind: give it a moment
                time.sleep(0.001)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError("the firmware side blocked: recv() or send() never returned")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, "the firmware side blocked or failed: " + err
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", out)}


def _check(c):
    # it kept taking commands and frames while nobody read its answers ...
    assert c["commands"] > 1000 and c["rx_frames"] > 100, c
    assert c["rx_errors"] == 0, c
    # ... dropped (and counted) the answers and frames the full pty could not take
    assert c["answers_dropped"] > 0 and c["tx_busy"] > 0, c
    # everything it wrote fits in the pty; everything else was counted
    assert c["commands"] - c["answers_dropped"] < 20000, c


def test_host_that_never_reads_cannot_block_recv_or_send_cpython():
    _check(_deaf_host([sys.executable], dict(os.environ, PYTHONPATH=ROOT)))


def test_host_that_never_reads_cannot_block_recv_or_send_micropython():
    _check(_deaf_host(mpy_unix.command(), mpy_unix.environment()))
