# The Victron frame table: worked examples, ranges, fast path.

import binascii

import protocols.victron as V
from tests.fw.support import raises
from tools import victron_codec as codec

# From the reference (checked by hand there): (id, hex data, decoded values)
EXAMPLES = (
    (0x351, "2802F401E803E001", {"cvl": 55.2, "ccl": 50.0, "dcl": 100.0, "dvl": 48.0}),
    (0x355, "48006400201C0000", {"soc": 72, "soh": 100, "soc_hires": 72.0}),
    (0x356, "6F1483FFEA000000", {"voltage": 52.31, "current": -12.5, "temperature": 23.4}),
)


def _close(a, b, step):
    return abs(a - b) <= step / 2 + 1e-9


def test_worked_examples_round_trip_exactly():
    for fid, hexdata, values in EXAMPLES:
        data = binascii.unhexlify(hexdata)
        got = codec.unpack(fid, data)
        for k in values:
            assert _close(got[k], values[k], 1e-6), (fid, k, got[k])
        assert codec.pack(fid, values) == data, (fid, codec.pack(fid, values))
        assert codec.pack(fid, got) == data


def test_worked_alarm_example():
    data = binascii.unhexlify("A6AAAA02AA9AAA02")
    got = codec.unpack(0x35A, data)
    active = sorted(k for k in got if got[k] == V.FLAG_ACTIVE)
    assert active == ["alarm_high_voltage", "warning_low_temp_charge"], active
    assert codec.pack(0x35A, got) == data
    healthy = {}
    for flag in V.FLAGS:
        healthy["alarm_" + flag] = V.FLAG_OK
        healthy["warning_" + flag] = V.FLAG_OK
    assert codec.pack(0x35A, healthy) == binascii.unhexlify("AAAAAA02AAAAAA02")


def test_table_is_consistent():
    seen = []
    for f in codec.FIELDS:
        assert f[V.F_NAME] not in seen, f
        seen.append(f[V.F_NAME])
        assert f[V.F_ID] in V.PERIODIC, f
        assert f[V.F_START] + f[V.F_BITS] <= 64, f
        assert f[V.F_KIND] in (V.U, V.S, V.A), f
    for fid in V.PERIODIC:
        used = [0] * 64
        for f in codec.fields_of(fid):
            for b in range(f[V.F_START], f[V.F_START] + f[V.F_BITS]):
                assert not used[b], ("overlap", fid, f)
                used[b] = 1
    assert tuple(r[0] for r in codec.FRAME_NAMES) == V.PERIODIC


def test_every_field_round_trips_at_its_limits():
    for f in codec.FIELDS:
        if f[V.F_KIND] == V.A:
            continue
        fid = f[V.F_ID]
        step = 1.0 / f[V.F_DIV]
        for value in (f[V.F_LOW], f[V.F_HIGH], (f[V.F_LOW] + f[V.F_HIGH]) / 2):
            values = _defaults(fid)
            values[f[V.F_NAME]] = value
            data = codec.pack(fid, values)
            assert len(data) == 8
            back = codec.unpack(fid, data)[f[V.F_NAME]]
            assert _close(back, value, step), (f[V.F_NAME], value, back)
            assert codec.pack(fid, codec.unpack(fid, data)) == data


def _defaults(fid):
    values = {}
    for f in codec.fields_of(fid):
        if f[V.F_KIND] == V.A:
            values[f[V.F_NAME]] = ""
        elif f[V.F_LOW] <= 0 <= f[V.F_HIGH]:
            values[f[V.F_NAME]] = 0
        else:
            values[f[V.F_NAME]] = f[V.F_LOW]
    return values


def test_out_of_range_is_an_error_never_wrapped():
    for f in codec.FIELDS:
        if f[V.F_KIND] == V.A:
            continue
        fid = f[V.F_ID]
        step = 1.0 / f[V.F_DIV]
        for bad in (f[V.F_HIGH] + step, f[V.F_LOW] - step):
            values = _defaults(fid)
            values[f[V.F_NAME]] = bad
            raises(V.RangeError, codec.pack, fid, values)
    limits = {"cvl": 6553.7, "ccl": 0, "dcl": 0, "dvl": 40}
    raises(V.RangeError, codec.pack, 0x351, limits)
    limits["cvl"] = float("nan")
    raises(V.RangeError, codec.pack, 0x351, limits)
    limits["cvl"] = None
    raises(V.RangeError, codec.pack, 0x351, limits)
    raises(V.RangeError, codec.pack, 0x351, {"ccl": 0, "dcl": 0, "dvl": 40})  # CVL missing
    raises(V.RangeError, codec.pack, 0x351, {"cvl": 50, "ccl": 0, "dcl": 0, "dvl": 40, "x": 1})
    raises(V.RangeError, codec.pack, 0x35A, {"alarm_general": 3})  # reserved value
    raises(V.RangeError, codec.pack, 0x123, {})
    raises(V.RangeError, codec.unpack, 0x351, b"\x00\x00")


def test_negative_values_are_twos_complement_little_endian():
    data = codec.pack(0x356, {"voltage": -0.01, "current": -3276.8, "temperature": -10.0})
    assert data[0:2] == b"\xff\xff" and data[2:4] == b"\x00\x80" and data[4:6] == b"\x9c\xff"
    back = codec.unpack(0x356, data)
    assert _close(back["current"], -3276.8, 0.1) and _close(back["temperature"], -10.0, 0.1)


def test_text_fields():
    assert codec.pack(0x35E, {"manufacturer": "pyBMS"}) == b"pyBMS\x00\x00\x00"
    assert codec.unpack(0x35E, b"pyBMS   ")["manufacturer"] == "pyBMS"
    raises(V.RangeError, codec.pack, 0x35E, {"manufacturer": "123456789"})
    raises(V.RangeError, codec.pack, 0x35E, {"manufacturer": "caf\xe9"})
    raises(V.RangeError, codec.pack, 0x35E, {"manufacturer": 5})


def test_identity_is_generic():
    assert V.MANUFACTURER == b"pyBMS"
    for fid in (0x359, 0x35C, 0x370, 0x371):  # Pylon-only and optional name frames
        assert fid not in V.PERIODIC


def test_fast_path_matches_pack_and_refuses_out_of_range():
    fs = V.FrameSet()
    assert fs.put(V.field("cvl"), 552) and fs.put(V.field("ccl"), 500)
    assert fs.put(V.field("dcl"), 1000) and fs.put(V.field("dvl"), 480)
    assert bytes(fs.buf(0x351)) == binascii.unhexlify("2802F401E803E001")
    assert fs.put(V.field("current"), -125)
    assert fs.buf(0x356)[2:4] == b"\x83\xff"
    before = bytes(fs.buf(0x351))
    assert not fs.put(V.field("cvl"), 65536)
    assert not fs.put(V.field("ccl"), -1)
    assert not fs.put(V.field("soc"), 101)
    assert fs.range_errors == 3 and bytes(fs.buf(0x351)) == before
    fs.put_text(V.field("manufacturer"), b"pyBMS")
    assert codec.unpack(0x35E, fs.buf(0x35E))["manufacturer"] == "pyBMS"


def test_alarm_rows_follow_flags():
    # The board's table leaves the 0x35A rows out (the alarm map writes them by
    # rule); the host codec adds them: flag k at bits 2k in the alarm half and
    # 32 + 2k in the warning half, each 0..2, where the table had them.
    assert not [f for f in V.FIELDS if f[V.F_ID] == 0x35A]
    rows = [f for f in codec.FIELDS if f[V.F_ID] == 0x35A]
    assert len(rows) == 2 * len(V.FLAGS)
    for k in range(len(V.FLAGS)):
        for prefix, base in (("alarm_", 0), ("warning_", 32)):
            f = codec.FIELDS[codec.field(prefix + V.FLAGS[k])]
            assert (f[V.F_START], f[V.F_BITS], f[V.F_KIND], f[V.F_LOW], f[V.F_HIGH]) == \
                (base + 2 * k, 2, V.U, 0, 2), f
    ids = [f[V.F_ID] for f in codec.FIELDS]
    assert ids == sorted(ids)   # the order the table had with its 0x35A rows
    assert [f for f in codec.FIELDS if f[V.F_ID] != 0x35A] == list(V.FIELDS)
    raises(KeyError, V.field, "no_such_field")
    raises(KeyError, V.field, "alarm_general")
    raises(KeyError, codec.field, "no_such_field")
