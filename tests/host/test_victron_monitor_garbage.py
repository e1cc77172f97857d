# `pybms monitor` against garbage: every class of malformed input is counted and
# shown as MALFORMED, never decoded and never fatal, and the valid frame after it
# still decodes; then a long random stream through a real pty, end to end, where
# the summary must come out and count exactly the frames an independent oracle
# finds; and a link that disappears under the monitor.

import os
import random
import re
import subprocess
import sys
import time

import cantools
import pytest
from hypothesis import given, settings, strategies as st

import tools.victron_codec as V
from tests.host.test_victron_slcan_fuzz import frame_like, oracle, valid_line
from tools.monitor import Monitor, decode_frame
from tools.monitor_slcan import (ADAPTER_ERROR, LINE_MAX, REASONS, Frame, LineSplitter, PythonCanLink,
                                  SlcanLink, parse_line)
from tools.ptylink import PtyLink
from tools.victron_dbc import PATH

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = cantools.database.load_file(PATH)
GOOD = b"t35182802F401E803E001\r"
GOOD_TEXT = "0x351 limits cvl=55.2 ccl=50 dcl=100 dvl=48"

# (class, line as it comes off the wire, reason the monitor must give)
GARBAGE = (
    ("non-ASCII bytes", b"t351\xff\xfe\r", "non_ascii"),
    ("control bytes", b"\x00\x01\x02\r", "non_ascii"),
    ("bad hex in the id", b"t35ZZ2AABB\r", "bad_hex"),
    ("bad hex in the data", b"t3512XYZW\r", "bad_hex"),
    ("t3", b"t3\r", "too_short"),
    ("odd hex count", b"t3512AAB\r", "odd_hex"),
    ("fewer data bytes than the DLC", b"t35182802\r", "data_short"),
    ("more data bytes than the DLC", b"t35182802F401E803E001FF\r", "data_long"),
    ("over-long line", b"t35182802F401E803E001" + b"A" * 100 + b"\r", "too_long"),
    ("DLC 9", b"t3519" + b"00" * 9 + b"\r", "bad_dlc"),
    ("11-bit id above 0x7FF", b"t8000\r", "id_range"),
    ("29-bit id above 0x1FFFFFFF", b"T2000000000\r", "id_range"),
    ("not a frame line", b"hello\r", "not_a_frame"),
    ("0x351 too short for its fields", b"t3512AABB\r", "short_for_id"),
)


def _feed(stream, chunk=7):
    mon = Monitor(DB)
    split = LineSplitter()
    out = []
    for i in range(0, len(stream), chunk):
        for item in split.feed(stream[i:i + chunk]):
            out += mon.item(1.0, item)
    return mon, out


@pytest.mark.parametrize("name,line,reason", GARBAGE, ids=[g[0] for g in GARBAGE])
def test_each_garbage_class_is_shown_malformed_and_the_next_frame_decodes(name, line, reason):
    mon, out = _feed(line + GOOD)
    assert out[0].startswith("!! 1.000 MALFORMED %s" % reason), out
    assert out[1:] == ["1.000 " + GOOD_TEXT], out     # nothing of the garbage decoded
    assert mon.flags["malformed"] == 1 and mon.malformed_by == {reason: 1}
    assert mon.frames == 1 and mon.flags["cvl_zero"] == 0
    assert "malformed=1" in mon.summary() and ("malformed: %s=1" % reason) in mon.summary()


def test_every_reason_is_exercised():
    assert {g[2] for g in GARBAGE} >= set(REASONS) - {"bad_length"} | {"short_for_id"}


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(frame_like, valid_line, st.binary(max_size=80)))
def test_parse_line_takes_exactly_the_well_formed_frames(line):
    item = parse_line(line)
    want = oracle(line)
    if want is None:
        assert item is None if not line else item.reason in REASONS, (line, item)
    else:
        assert isinstance(item, Frame), (line, item)
        assert (item.can_id | (0x80000000 if item.extended else 0), item.data) == want


def test_over_long_line_without_end_is_reported_once_and_memory_stays_bounded():
    split = LineSplitter()
    items = split.feed(b"t351" + b"8" * 100000)
    assert [i.reason for i in items] == ["too_long"] and len(items[0].raw) == LINE_MAX
    assert len(split._buf) == 0
    assert split.feed(b"\r" + GOOD) == [(0x351, False, False, bytes.fromhex("2802F401E803E001"))]


def test_adapter_error_answers_are_counted_not_malformed():
    mon, out = _feed(b"\x07\x07" + GOOD)
    assert out == ["1.000 " + GOOD_TEXT] and mon.adapter_errors == 2
    assert mon.flags["malformed"] == 0 and "adapter_errors=2" in mon.summary()
    assert LineSplitter().feed(b"\x07") == [ADAPTER_ERROR]


def test_decode_frame_is_the_gx_reading():
    d = decode_frame(DB, 0x351, bytes.fromhex("2802F401E803E001"))
    assert d.name == "limits" and d.values["cvl"] == 55.2 and d.text == GOOD_TEXT and not d.malformed
    # a 29-bit 0x351 is not the limits frame for a GX
    d = decode_frame(DB, 0x351, bytes.fromhex("2802F401E803E001"), extended=True)
    assert d.name is None and d.values is None and d.text.startswith("0x00000351 28 02")
    assert decode_frame(DB, 0x351, b"\x28\x02").malformed.endswith("2 data bytes, its fields need 8")
    assert decode_frame(DB, 0x351, bytes(9)).malformed and decode_frame(DB, 0x800, b"").malformed
    assert decode_frame(DB, 0x351, b"", remote=True).text == "0x351 remote request"
    # a short ASCII name is padded, as the GX shows it
    assert decode_frame(DB, 0x35E, b"pyBMS").text == "0x35E manufacturer manufacturer=pyBMS"
    assert decode_frame(DB, 0x305, b"\x01").text == "0x305 01"


def test_slcan_link_opens_like_python_can_with_timestamps_off_and_closes():
    class FakeSerial:
        def __init__(self):
            self.written = b""
            self.incoming = bytearray(b"\r\r\x07\r" + GOOD + b"t35")
            self.closed = False

        @property
        def in_waiting(self):
            return len(self.incoming)

        def read(self, n):
            data, self.incoming = bytes(self.incoming[:n]), self.incoming[n:]
            return data

        def write(self, data):
            self.written += data

        def flush(self):
            pass

        def close(self):
            self.closed = True

    class Module:
        @staticmethod
        def serial_for_url(channel, **kw):
            assert channel == "/dev/x" and kw["timeout"] == 0.1
            return port

    port = FakeSerial()
    link = SlcanLink("/dev/x", 250000, serial_module=Module)
    assert port.written == b"C\rS5\rZ0\rO\r"
    assert link.poll() == [ADAPTER_ERROR, Frame(0x351, False, False, bytes.fromhex("2802F401E803E001"))]
    assert link.poll() == []   # "t35" waits for its line end
    link.close()
    assert port.written.endswith(b"O\rC\r") and port.closed
    with pytest.raises(ValueError):
        SlcanLink("/dev/x", 300000, serial_module=Module)


def test_python_can_messages_are_checked_the_same_way():
    import can

    class Bus:
        def __init__(self, msgs):
            self.msgs = list(msgs)

        def recv(self, timeout):
            return self.msgs.pop(0) if self.msgs else None

    good = can.Message(arbitration_id=0x351, data=bytes.fromhex("2802F401E803E001"), is_extended_id=False)
    bad_id = can.Message(arbitration_id=0x900, data=b"", is_extended_id=False, check=False)
    bad_dlc = can.Message(arbitration_id=0x351, data=b"\x01", dlc=4, is_extended_id=False, check=False)
    link = PythonCanLink(Bus([good, bad_id, bad_dlc]))
    assert link.poll()[0].data == good.data
    assert link.poll()[0].reason == "id_range" and link.poll()[0].reason == "bad_length"
    assert link.poll() == []


def _expected_frames(stream):
    lines = re.split(rb"[\r\n\x07]", stream)
    lines.pop()
    return [f for f in (oracle(line) for line in lines if line and len(line) <= LINE_MAX) if f]


def _monitor(channel, *extra):
    argv = [sys.executable, "-m", "tools.cli", "monitor", "--channel", channel] + list(extra)
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_long_random_garbage_stream_through_a_pty_end_to_end():
    rng = random.Random(18)
    limits = [V.pack(0x351, {"cvl": 49.2 + i / 10, "ccl": 50, "dcl": 100, "dvl": 39}) for i in range(40)]
    stream = bytearray()
    for data in limits:
        stream += bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 3000)))
        stream += b"\r" + b"t3518" + data.hex().upper().encode() + b"\r"
    expected = _expected_frames(bytes(stream))
    assert len(expected) >= len(limits)
    with PtyLink() as link:
        fd = os.open(link.a, os.O_RDWR | os.O_NOCTTY)
        mon = _monitor(link.b, "--frames", str(len(expected)), "--duration", "30")
        try:
            assert mon.stdout.readline().startswith("monitoring ")
            time.sleep(0.2)  # the monitor has opened the channel
            os.write(fd, bytes(stream))
            out, err = mon.communicate(timeout=40)
        finally:
            if mon.poll() is None:
                mon.kill()
            os.close(fd)
    assert mon.returncode == 0 and "Traceback" not in err, err
    lines = out.splitlines()
    decoded = [line for line in lines if re.match(r"^\d+\.\d{3} 0x", line)]
    want = ["0x%03X" % f[0] for f in expected]
    assert [line.split()[1] for line in decoded] == want
    cvls = [float(line.split()[3][4:]) for line in decoded if " 0x351 limits " in line]
    assert cvls[-len(limits):] == [round(49.2 + i / 10, 1) for i in range(len(limits))]
    summary = lines[-1]
    assert summary.startswith("summary: frames=%d " % len(expected)), summary
    malformed = int(re.search(r"malformed=(\d+)", summary).group(1))
    assert malformed == sum(1 for line in lines if " MALFORMED " in line) and malformed > 100
    for line in lines[1:-1]:  # nothing but frames, flags and malformed reports
        assert re.match(r"^(\d+\.\d{3} 0x|!! \d+\.\d{3} (MALFORMED|CVL|GAP|ALARM|WARNING)|   \d)", line), line


def test_frames_limit_is_exact_even_when_frames_arrive_together():
    with PtyLink() as link:
        fd = os.open(link.a, os.O_RDWR | os.O_NOCTTY)
        mon = _monitor(link.b, "--frames", "3", "--duration", "20")
        try:
            assert mon.stdout.readline().startswith("monitoring ")
            time.sleep(0.2)
            os.write(fd, b"t3\r" + GOOD * 10)   # one read delivers them all
            out, err = mon.communicate(timeout=30)
        finally:
            if mon.poll() is None:
                mon.kill()
            os.close(fd)
    assert out.count(GOOD_TEXT) == 3 and "summary: frames=3 " in out, out + err


def test_summary_prints_when_the_link_disappears():
    link = PtyLink()
    mon = _monitor(link.b, "--duration", "30")
    try:
        assert mon.stdout.readline().startswith("monitoring ")
        fd = os.open(link.a, os.O_RDWR | os.O_NOCTTY)
        os.write(fd, GOOD + b"t3\r")
        time.sleep(0.5)
        os.close(fd)
        link.close()   # the adapter is unplugged
        out, err = mon.communicate(timeout=15)
    finally:
        if mon.poll() is None:
            mon.kill()
        link.close()
    assert mon.returncode == 1 and "!! link lost" in out and GOOD_TEXT in out
    assert out.splitlines()[-1].startswith("summary: frames=1 ") and "malformed=1" in out, out + err
    assert "Traceback" not in err, err


def test_summary_prints_when_the_monitor_is_stopped():
    import signal
    with PtyLink() as link:
        for sig in (signal.SIGINT, signal.SIGTERM):   # Ctrl-C, `timeout`, a service stop
            mon = _monitor(link.b, "--duration", "30")
            try:
                assert mon.stdout.readline().startswith("monitoring ")
                fd = os.open(link.a, os.O_RDWR | os.O_NOCTTY)
                os.write(fd, b"t35\xff\r" + GOOD)
                time.sleep(0.5)
                mon.send_signal(sig)
                out, err = mon.communicate(timeout=15)
                os.close(fd)
            finally:
                if mon.poll() is None:
                    mon.kill()
            assert mon.returncode == 0 and "Traceback" not in err, err
            assert out.splitlines()[-1].startswith("summary: frames=1 "), out
            assert "malformed: non_ascii=1" in out
