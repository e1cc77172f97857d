# The 0x35A mapping table: complete, severity-correct, honest about what pyBMS
# cannot sense.

import protocols.victron as V
from bms import diagnosis as D
from bms import limits as L
from protocols.victron import alarms
from tools import victron_codec as codec


def _flag(data, name):
    return codec.unpack(0x35A, data)[name]


def test_every_diagnosis_row_is_mapped_once():
    sources = [row[0] for row in alarms.MAP]
    for row in D.ROWS:
        assert sources.count(row[D.ID]) == 1, ("diagnosis row not mapped exactly once", row[D.ID])
    for source, flag in alarms.MAP:
        assert flag in V.FLAGS, flag
        alarms.resolve(source)  # raises on an unknown id or reason


def test_every_limits_reason_is_mapped_or_declared_silent():
    sources = [row[0] for row in alarms.MAP]
    for name, bit, severity in L.REASONS:
        mapped = ("limits:" + name) in sources
        assert mapped == (severity is not None), name
        # `why` of each reason: tests/host/test_texts.py (the text is host-side).


def test_fault_sets_alarm_warn_sets_warning():
    buf = bytearray(8)
    for i in range(D.COUNT):
        active = bytearray(D.COUNT)
        active[i] = 1
        alarms.encode(buf, active, 0)
        flag = [f for s, f in alarms.MAP if s == D.ROWS[i][D.ID]][0]
        half = "alarm_" if D.ROWS[i][D.SEVERITY] == D.FAULT else "warning_"
        other = "warning_" if half == "alarm_" else "alarm_"
        assert _flag(buf, half + flag) == V.FLAG_ACTIVE, D.ROWS[i][D.ID]
        assert _flag(buf, other + flag) != V.FLAG_ACTIVE, D.ROWS[i][D.ID]


def test_healthy_frame_reports_unsupported_as_zero_and_never_3():
    buf = bytearray(8)
    alarms.encode(buf, bytearray(D.COUNT), 0)
    got = codec.unpack(0x35A, buf)
    for name in got:
        assert got[name] in (V.FLAG_OK, V.FLAG_UNSUPPORTED), name
    # pyBMS cannot see a short circuit; over-current is an alarm only (fault rows)
    for flag in ("high_charge_current", "high_discharge_current", "short_circuit"):
        assert got["warning_" + flag] == 0
    assert got["alarm_short_circuit"] == 0
    assert got["alarm_high_charge_current"] == V.FLAG_OK
    assert got["alarm_high_discharge_current"] == V.FLAG_OK
    assert got["alarm_high_voltage"] == V.FLAG_OK and got["alarm_bms_internal"] == V.FLAG_OK
    assert bytes(buf) == bytes(alarms.HEALTHY)
    every = bytearray(b"\x01" * D.COUNT)
    alarms.encode(buf, every, 0x3FF)
    for value in codec.unpack(0x35A, buf).values():
        assert value in (0, 1, 2)


def test_stale_limits_raise_bms_internal_alarm_and_cold_the_charge_warning():
    buf = bytearray(8)
    alarms.encode(buf, bytearray(D.COUNT), L.STALE)
    assert _flag(buf, "alarm_bms_internal") == V.FLAG_ACTIVE
    alarms.encode(buf, bytearray(D.COUNT), L.COLD_CHARGE)
    assert _flag(buf, "warning_low_temp_charge") == V.FLAG_ACTIVE
    assert _flag(buf, "alarm_bms_internal") == V.FLAG_OK
    alarms.encode(buf, bytearray(D.COUNT), L.FULL | L.EMPTY | L.NO_CHARGE)
    assert bytes(buf) == bytes(alarms.HEALTHY)
