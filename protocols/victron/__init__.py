# Victron "CAN-bus BMS" frames (500 kbit/s, 11-bit ids, little endian) as ONE table.
# pack()/unpack() (engineering units, for tools and tests) and FrameSet (the
# preallocated fast path the transmit scheduler uses: raw integers straight into
# 8-byte buffers, nothing allocated per cycle) both read FIELDS.
# Facts: docs/victron-can.md and the Victron "CAN-bus BMS protocol" description.

MANUFACTURER = b"pyBMS"  # generic identity: never a branded battery name
FIRMWARE = (0, 1)        # 0x35F firmware major, minor (pyproject version 0.1)
MODEL = 0                # 0x35F battery model: pyBMS has no model number

U = "u"  # unsigned little-endian integer
S = "s"  # signed (two's complement) little-endian integer
A = "a"  # ASCII text, zero padded to the field length

# 0x35A: each flag is a 2-bit pair. Bytes 0-3 alarms, bytes 4-7 the same flags as
# warnings. Values: 1 active, 2 OK, 0 not supported; 3 is reserved, never sent.
FLAGS = ("general", "high_voltage", "low_voltage", "high_temp",
         "low_temp", "high_temp_charge", "low_temp_charge", "high_discharge_current",
         "high_charge_current", "contactor", "short_circuit", "bms_internal",
         "cell_imbalance")
FLAG_UNSUPPORTED = 0
FLAG_ACTIVE = 1
FLAG_OK = 2

_K = -273.15  # 0x373 temperatures travel in kelvin; engineering value is degC

# (frame_id, name, start_bit, bits, kind, div, offset, unit, low, high)
#   engineering value = raw / div + offset; raw = round((value - offset) * div)
#   low..high is the valid engineering range; pack() refuses anything outside it.
FIELDS = (
    (0x351, "cvl", 0, 16, U, 10, 0, "V", 0, 6553.5),
    (0x351, "ccl", 16, 16, S, 10, 0, "A", 0, 3276.7),
    (0x351, "dcl", 32, 16, S, 10, 0, "A", 0, 3276.7),
    (0x351, "dvl", 48, 16, U, 10, 0, "V", 0, 6553.5),
    (0x355, "soc", 0, 16, U, 1, 0, "%", 0, 100),
    (0x355, "soh", 16, 16, U, 1, 0, "%", 0, 100),
    (0x355, "soc_hires", 32, 16, U, 100, 0, "%", 0, 100),
    (0x356, "voltage", 0, 16, S, 100, 0, "V", -327.68, 327.67),
    (0x356, "current", 16, 16, S, 10, 0, "A", -3276.8, 3276.7),
    (0x356, "temperature", 32, 16, S, 10, 0, "degC", -273.1, 3276.7),
) + tuple(
    (0x35A, "alarm_" + FLAGS[k], 2 * k, 2, U, 1, 0, "", 0, 2) for k in range(len(FLAGS))
) + tuple(
    (0x35A, "warning_" + FLAGS[k], 32 + 2 * k, 2, U, 1, 0, "", 0, 2) for k in range(len(FLAGS))
) + (
    (0x35E, "manufacturer", 0, 64, A, 1, 0, "", 0, 0),
    (0x35F, "model", 0, 16, U, 1, 0, "", 0, 65535),
    (0x35F, "firmware_major", 16, 8, U, 1, 0, "", 0, 255),
    (0x35F, "firmware_minor", 24, 8, U, 1, 0, "", 0, 255),
    (0x35F, "capacity_available", 32, 16, U, 1, 0, "Ah", 0, 65535),
    (0x372, "modules_ok", 0, 16, U, 1, 0, "", 0, 65535),
    (0x372, "modules_blocking_charge", 16, 16, U, 1, 0, "", 0, 65535),
    (0x372, "modules_blocking_discharge", 32, 16, U, 1, 0, "", 0, 65535),
    (0x372, "modules_offline", 48, 16, U, 1, 0, "", 0, 65535),
    (0x373, "cell_v_min", 0, 16, U, 1000, 0, "V", 0, 65.535),
    (0x373, "cell_v_max", 16, 16, U, 1000, 0, "V", 0, 65.535),
    (0x373, "cell_t_min", 32, 16, U, 1, _K, "degC", -273.15, 1000),
    (0x373, "cell_t_max", 48, 16, U, 1, _K, "degC", -273.15, 1000),
    (0x374, "cell_v_min_name", 0, 64, A, 1, 0, "", 0, 0),
    (0x375, "cell_v_max_name", 0, 64, A, 1, 0, "", 0, 0),
    (0x376, "cell_t_min_name", 0, 64, A, 1, 0, "", 0, 0),
    (0x377, "cell_t_max_name", 0, 64, A, 1, 0, "", 0, 0),
    (0x379, "capacity_installed", 0, 16, U, 1, 0, "Ah", 0, 65535),
)

# Column positions.
F_ID = 0
F_NAME = 1
F_START = 2
F_BITS = 3
F_KIND = 4
F_DIV = 5
F_OFFSET = 6
F_UNIT = 7
F_LOW = 8
F_HIGH = 9

# What pyBMS sends every cycle, in this order (0x351 first: it is the one the GX
# times out on). 0x35A follows the limits so a stop and its reason arrive together.
PERIODIC = (0x351, 0x35A, 0x355, 0x356, 0x35E, 0x35F, 0x372, 0x373,
            0x374, 0x375, 0x376, 0x377, 0x379)
FRAME_IDS = PERIODIC
DLC = 8

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


class RangeError(ValueError):
    """A value outside its field's range (never wrapped into the frame)."""


def _raw_limits(kind, bits):
    if kind == S:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


_INDEX = {}
for _i in range(len(FIELDS)):
    _INDEX[FIELDS[_i][F_NAME]] = _i


def field(name):
    """Index of a field in FIELDS (for the fast path); KeyError if unknown."""
    return _INDEX[name]


def fields_of(frame_id):
    return tuple(f for f in FIELDS if f[F_ID] == frame_id)


def _floor(x):
    i = int(x)
    return i - 1 if i > x else i


def to_raw(f, value):
    """Engineering value -> raw integer of field row f, range-checked."""
    if f[F_KIND] == A:
        raise RangeError("%s is text" % f[F_NAME])
    if value is None or value is True or value is False:
        raise RangeError("%s: %r is not a number" % (f[F_NAME], value))
    if value != value or value < f[F_LOW] or value > f[F_HIGH]:  # value != value: NaN
        raise RangeError("%s = %r is outside %s..%s %s"
                         % (f[F_NAME], value, f[F_LOW], f[F_HIGH], f[F_UNIT]))
    raw = _floor((value - f[F_OFFSET]) * f[F_DIV] + 0.5)  # round half up
    lo, hi = _raw_limits(f[F_KIND], f[F_BITS])
    if raw < lo or raw > hi:
        raise RangeError("%s = %r does not fit %d bits" % (f[F_NAME], value, f[F_BITS]))
    return raw


def from_raw(f, raw):
    if f[F_DIV] == 1 and f[F_OFFSET] == 0:
        return raw
    return raw / f[F_DIV] + f[F_OFFSET]


def _put(buf, start, bits, raw):
    """Write raw (two's complement for negatives) at start_bit, little endian."""
    if raw < 0:
        raw += 1 << bits
    if start & 7 == 0 and bits & 7 == 0:
        i = start >> 3
        for k in range(bits >> 3):
            buf[i + k] = raw & 0xFF
            raw >>= 8
    else:  # a field inside one byte (0x35A pairs)
        i = start >> 3
        shift = start & 7
        mask = ((1 << bits) - 1) << shift
        buf[i] = (buf[i] & ~mask & 0xFF) | ((raw << shift) & mask)


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


def _text(name, value, n):
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, (bytes, bytearray)):
        raise RangeError("%s: %r is not text" % (name, value))
    if len(value) > n:
        raise RangeError("%s: %r is longer than %d bytes" % (name, value, n))
    for b in value:
        if b < 0x20 or b > 0x7E:
            raise RangeError("%s: %r is not printable ASCII" % (name, value))
    return value


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
        if _INDEX.get(name) is None or FIELDS[_INDEX[name]][F_ID] != frame_id:
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
            text = _text(f[F_NAME], value, f[F_BITS] >> 3)
            for k in range(len(text)):
                buf[(f[F_START] >> 3) + k] = text[k]
        else:
            _put(buf, f[F_START], f[F_BITS], to_raw(f, value))
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


# --- fast path -------------------------------------------------------------------
# Per field, precomputed once: (buffer index, start bit, bits, raw low, raw high).
def _fast_rows():
    rows = []
    for f in FIELDS:
        b = PERIODIC.index(f[F_ID])
        if f[F_KIND] == A:
            rows.append((b, f[F_START], f[F_BITS], 0, 0))
        else:
            rows.append((b, f[F_START], f[F_BITS], to_raw(f, f[F_LOW]), to_raw(f, f[F_HIGH])))
    return tuple(rows)


_FAST = _fast_rows()
_POW10 = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000)


class FrameSet:
    """The periodic frames as preallocated buffers, filled with raw integers.

    `put(field_index, raw)` range-checks against the field's valid range and
    returns False (counting `range_errors`, leaving the old bytes) instead of
    raising: a transmit cycle must neither stop nor allocate.
    """

    def __init__(self):
        self.ids = PERIODIC
        self.bufs = tuple(bytearray(DLC) for _ in PERIODIC)
        self.range_errors = 0

    def buf(self, frame_id):
        return self.bufs[PERIODIC.index(frame_id)]

    def put(self, fi, raw):
        b, start, bits, lo, hi = _FAST[fi]
        if raw < lo or raw > hi:
            self.range_errors += 1
            return False
        _put(self.bufs[b], start, bits, raw)
        return True

    def put_text(self, fi, text):
        """Copy ASCII bytes into a text field, zero padded (setup, may be slow)."""
        b, start, bits, _lo, _hi = _FAST[fi]
        buf = self.bufs[b]
        i = start >> 3
        text = _text(FIELDS[fi][F_NAME], text, bits >> 3)
        for k in range(bits >> 3):
            buf[i + k] = text[k] if k < len(text) else 0

    def put_name(self, fi, prefix, number, width):
        """Write prefix (bytes) and `number` as `width` decimal digits, zero padded
        to the field; returns False when it does not fit. Allocates nothing."""
        b, start, bits, _lo, _hi = _FAST[fi]
        buf = self.bufs[b]
        i = start >> 3
        n = bits >> 3
        lp = len(prefix)
        if lp + width > n or number < 0 or number >= _POW10[width]:
            self.range_errors += 1
            return False
        for k in range(lp):
            buf[i + k] = prefix[k]
        for k in range(width - 1, -1, -1):
            buf[i + lp + k] = 0x30 + number % 10
            number //= 10
        for k in range(lp + width, n):
            buf[i + k] = 0
        return True
