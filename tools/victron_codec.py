# The Victron frame table (protocols/victron) in engineering units, for tools and
# tests: pack() and unpack() allocate dicts and floats, which the board never
# needs, so they live here on the host side with the frames' names and
# descriptions (the DBC and the docs read those). The dual-runtime tests decode
# what the firmware sent with this module, so it stays plain Python that
# MicroPython runs too (tools/mpy/build.py compiles it for them).

from protocols import victron as _board
from protocols.victron import (  # noqa: F401  (re-exported for codec users)
    A, DLC, F_BITS, F_DIV, F_HIGH, F_ID, F_KIND, F_LOW, F_NAME, F_OFFSET, F_START, F_UNIT,
    FLAG_UNSUPPORTED, FLAGS, PERIODIC, S, U, RangeError, check_text, flag_start, put_bits,
    raw_of)


def _flag_rows():
    """The 0x35A rows the board's table leaves out, by its layout rule
    (protocols.victron.flag_start): alarm_<flag> and warning_<flag>, values 0..2."""
    rows = []
    for prefix, warning in (("alarm_", False), ("warning_", True)):
        for k in range(len(FLAGS)):
            rows.append((0x35A, prefix + FLAGS[k], flag_start(k, warning), 2, U, 1, 0, "",
                         0, 2))
    return tuple(rows)


# Every field pyBMS sends, by frame id as the board's table orders them, 0x35A's
# rows between 0x356 and 0x35E: what the DBC, the docs and the decoders read.
FIELDS = tuple(f for f in _board.FIELDS if f[F_ID] < 0x35A) + _flag_rows() + \
    tuple(f for f in _board.FIELDS if f[F_ID] > 0x35A)


def field(name):
    """Index of a field in this module's FIELDS; KeyError if unknown. (Not an index
    into the board's table: protocols.victron.field gives those.)"""
    return _board.field(name, FIELDS)


# (frame_id, short name: the DBC message name, what it carries)
FRAME_NAMES = (
    (0x351, "limits", "charge voltage, charge current, discharge current, discharge voltage limits"),
    (0x35A, "alarms", "alarm and warning flags (2-bit pairs)"),
    (0x355, "soc", "state of charge and health"),
    (0x356, "measurements", "pack voltage, current, temperature"),
    (0x35E, "manufacturer", "manufacturer name"),
    (0x35F, "info", "battery model, firmware version, available capacity"),
    (0x372, "modules", "module counts: ok, blocking charge, blocking discharge, offline"),
    (0x373, "cell_extremes", "lowest/highest cell voltage and temperature"),
    (0x374, "cell_v_min_name", "name of the lowest cell"),
    (0x375, "cell_v_max_name", "name of the highest cell"),
    (0x376, "cell_t_min_name", "name of the coldest sensor"),
    (0x377, "cell_t_max_name", "name of the hottest sensor"),
    (0x379, "capacity", "installed capacity"),
)


def _raw_limits(kind, bits):
    if kind == S:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def fields_of(frame_id):
    return tuple(f for f in FIELDS if f[F_ID] == frame_id)


def to_raw(f, value):
    """Engineering value -> raw integer of field row f, range-checked."""
    if f[F_KIND] == A:
        raise RangeError("%s is text" % f[F_NAME])
    if value is None or value is True or value is False:
        raise RangeError("%s: %r is not a number" % (f[F_NAME], value))
    if value != value or value < f[F_LOW] or value > f[F_HIGH]:  # value != value: NaN
        raise RangeError("%s = %r is outside %s..%s %s"
                         % (f[F_NAME], value, f[F_LOW], f[F_HIGH], f[F_UNIT]))
    raw = raw_of(f, value)  # round half up, the rule the fast path's bounds use
    lo, hi = _raw_limits(f[F_KIND], f[F_BITS])
    if raw < lo or raw > hi:
        raise RangeError("%s = %r does not fit %d bits" % (f[F_NAME], value, f[F_BITS]))
    return raw


def from_raw(f, raw):
    if f[F_DIV] == 1 and f[F_OFFSET] == 0:
        return raw
    return raw / f[F_DIV] + f[F_OFFSET]


def _get(data, start, bits, signed):
    if start & 7 == 0 and bits & 7 == 0:
        raw = 0
        i = start >> 3
        for k in range((bits >> 3) - 1, -1, -1):
            raw = (raw << 8) | data[i + k]
    else:
        raw = (data[start >> 3] >> (start & 7)) & ((1 << bits) - 1)
    if signed and raw & (1 << (bits - 1)):
        raw -= 1 << bits  # no int.from_bytes(signed=) on every port
    return raw


def pack(frame_id, values):
    """Engineering values (dict by field name) -> 8 data bytes.

    Every field of the frame must be given, except 0x35A flags (missing = 0, "not
    supported"). Unknown names, missing fields and out-of-range values raise
    RangeError; nothing is ever wrapped or clamped.
    """
    rows = fields_of(frame_id)
    if not rows:
        raise RangeError("0x%03X is not a frame pyBMS sends" % frame_id)
    for name in values:
        try:
            known = FIELDS[field(name)][F_ID] == frame_id
        except KeyError:
            known = False
        if not known:
            raise RangeError("0x%03X has no field %r" % (frame_id, name))
    buf = bytearray(DLC)
    for f in rows:
        if f[F_NAME] in values:
            value = values[f[F_NAME]]
        elif frame_id == 0x35A:
            value = FLAG_UNSUPPORTED
        else:
            raise RangeError("0x%03X needs %r" % (frame_id, f[F_NAME]))
        if f[F_KIND] == A:
            text = check_text(f[F_NAME], value, f[F_BITS] >> 3)
            for k in range(len(text)):
                buf[(f[F_START] >> 3) + k] = text[k]
        else:
            put_bits(buf, f[F_START], f[F_BITS], to_raw(f, value))
    return bytes(buf)


def unpack(frame_id, data):
    """Data bytes -> dict of engineering values by field name (text as str)."""
    rows = fields_of(frame_id)
    if not rows:
        raise RangeError("0x%03X is not a frame pyBMS sends" % frame_id)
    need = 0
    for f in rows:
        end = (f[F_START] + f[F_BITS] + 7) >> 3
        if f[F_KIND] != A and end > need:
            need = end
    if len(data) < need:
        raise RangeError("0x%03X needs %d data bytes, got %d" % (frame_id, need, len(data)))
    out = {}
    for f in rows:
        if f[F_KIND] == A:
            text = bytes(data[f[F_START] >> 3:(f[F_START] + f[F_BITS]) >> 3])
            end = len(text)
            while end and text[end - 1] in (0, 0x20):
                end -= 1
            out[f[F_NAME]] = text[:end].decode()
        else:
            out[f[F_NAME]] = from_raw(f, _get(data, f[F_START], f[F_BITS], f[F_KIND] == S))
    return out
