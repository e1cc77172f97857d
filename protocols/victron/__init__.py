# Victron "CAN-bus BMS" frames (500 kbit/s, 11-bit ids, little endian) as ONE table
# (FIELDS) and the fast path the transmit scheduler uses (FrameSet: preallocated
# 8-byte buffers filled with raw integers, nothing allocated per cycle). That is
# all the board carries: the codec in engineering units that allocates (pack /
# unpack, for tools and tests) and the frames' descriptions are host code in
# tools/victron_codec.py, reading this same table.
# Facts: docs/victron-can.md and the Victron "CAN-bus BMS protocol" description.

from array import array

MANUFACTURER = b"pyBMS"  # generic identity: never a branded battery name
FIRMWARE = (0, 1)        # 0x35F firmware major, minor (pyproject version 0.1)
MODEL = 0                # 0x35F battery model: pyBMS has no model number

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# const(): the compiler writes these values into the rows, so every row of FIELDS
# and FIELDS itself are constant tuples; frozen into a board image the table stays
# in flash (a name looked up in a row, or a row made by code, is built in RAM).
U = const("u")  # unsigned little-endian integer
S = const("s")  # signed (two's complement) little-endian integer
A = const("a")  # ASCII text, zero padded to the field length

# 0x35A: each flag is a 2-bit pair. Bytes 0-3 alarms, bytes 4-7 the same flags as
# warnings. Values: 1 active, 2 OK, 0 not supported; 3 is reserved, never sent.
FLAGS = ("general", "high_voltage", "low_voltage", "high_temp",
         "low_temp", "high_temp_charge", "low_temp_charge", "high_discharge_current",
         "high_charge_current", "contactor", "short_circuit", "bms_internal",
         "cell_imbalance")
FLAG_UNSUPPORTED = 0
FLAG_ACTIVE = 1
FLAG_OK = 2


def flag_start(k, warning):
    """Start bit of FLAGS[k]'s 2-bit pair in 0x35A: 2k as an alarm, 32 + 2k as a
    warning (the alarm map writes by it, the host codec makes its rows from it)."""
    return 2 * k + (32 if warning else 0)

_K = const(-273.15)  # 0x373 temperatures travel in kelvin; engineering value is degC

# (frame_id, name, start_bit, bits, kind, div, offset, unit, low, high)
# The 0x35A frame's 26 2-bit fields are not rows here: the layout rule says where
# each flag goes (flag_start), protocols.victron.alarms writes them by that rule,
# and the host codec
# (tools/victron_codec.FIELDS) adds their rows from FLAGS for the tools; as rows
# here their names and tuples would hold ~2 KB of a board's heap for nothing it reads.
#   engineering value = raw / div + offset; raw = round((value - offset) * div)
#   low..high is the valid engineering range: FrameSet.put refuses raw values
#   outside it, tools/victron_codec.pack refuses engineering values outside it.
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


class RangeError(ValueError):
    """A value outside its field's range (never wrapped into the frame)."""


def field(name, fields=FIELDS):
    """Index of a field in FIELDS (for the fast path), or in another table of its
    rows (the host codec's); KeyError if unknown. A scan: callers look fields up
    once, at construction, and a dict would cost RAM."""
    for i in range(len(fields)):
        if fields[i][F_NAME] == name:
            return i
    raise KeyError(name)


def _floor(x):
    i = int(x)
    return i - 1 if i > x else i


def raw_of(f, value):
    """Engineering value -> raw integer of field row f, rounded half up; no range
    check (tools/victron_codec.to_raw checks; FrameSet.put checks raw bounds)."""
    return _floor((value - f[F_OFFSET]) * f[F_DIV] + 0.5)


def put_bits(buf, start, bits, raw):
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


def check_text(name, value, n):
    """ASCII bytes of a text field value, or RangeError (setup time only)."""
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


# --- fast path -------------------------------------------------------------------
# Per field, precomputed once into flat arrays (three objects, not a tuple per
# field): where it lives and its valid range as raw integers. _BUF[i]: bits 0-3 the
# periodic buffer; bit 7 set for an aligned 16-bit field (most of them), bits 4-6
# then its byte in the buffer, so put() writes it without reading the FIELDS row
# (~1 k Cortex-M0 instructions a field, ~20 fields a cycle).
_WORD = const(0x80)


def _fast_arrays():
    n = len(FIELDS)
    buf = bytearray(n)
    lo = array("i", bytes(4 * n))
    hi = array("i", bytes(4 * n))
    if len(PERIODIC) > 16 or DLC > 8:
        raise ImportError("victron: _BUF packing needs <= 16 frames of <= 8 bytes")
    for i in range(n):
        f = FIELDS[i]
        buf[i] = PERIODIC.index(f[F_ID])
        if f[F_BITS] == 16 and not f[F_START] & 7:
            buf[i] |= _WORD | (f[F_START] >> 3) << 4
        if f[F_KIND] != A:
            lo[i] = raw_of(f, f[F_LOW])
            hi[i] = raw_of(f, f[F_HIGH])
    return bytes(buf), lo, hi


_BUF, _LO, _HI = _fast_arrays()
del _fast_arrays           # import-time only: its code would stay in a board's heap


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
        if raw < _LO[fi] or raw > _HI[fi]:
            self.range_errors += 1
            return False
        # (One local for where the field lives and then its byte: with one more the
        # VM state would pass 11 words and every call take its frame from the heap.)
        at = _BUF[fi]
        buf = self.bufs[at & 0x0F]
        if at & _WORD:
            # One aligned 16-bit word, written here without put_bits' call and loop.
            at = (at >> 4) & 7
            buf[at] = raw & 0xFF              # two's complement for a negative raw
            buf[at + 1] = (raw >> 8) & 0xFF
        else:
            put_bits(buf, FIELDS[fi][F_START], FIELDS[fi][F_BITS], raw)
        return True

    def put_text(self, fi, text):
        """Copy ASCII bytes into a text field, zero padded (setup, may be slow)."""
        f = FIELDS[fi]
        buf = self.bufs[_BUF[fi] & 0x0F]
        i = f[F_START] >> 3
        n = f[F_BITS] >> 3
        text = check_text(f[F_NAME], text, n)
        for k in range(n):
            buf[i + k] = text[k] if k < len(text) else 0
