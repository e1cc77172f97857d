# Raw register values -> integer engineering units (mV, 0.1 degC), plus the codes
# of the boards' hardware protection thresholds (the inverses, values as a board
# reports them, are protocols.tesla.encode: the BMS never needs them). Integer
# arithmetic only: floats are heap objects on MicroPython and a poll cycle converts
# 9 values per board.
# Every intermediate product stays below 2**30 (small ints on 32-bit ports).

# An open or shorted thermistor has no temperature. The wire format owns this code and
# imports nothing from bms (protocols sit below the domain core they feed); its value
# is the one bms.pack.Pack uses for "no temperature", so the bus master hands it on
# unchanged (drivers.tesla_bus checks the two agree when it loads).
TEMP_INVALID = -32768

ADC_MAX = 16383  # 14-bit converter: the top two bits of every word read 0


def cell_mv(raw):
    """Cell voltage in mV: raw x 6.25 V / 16383, rounded."""
    return (raw * 6250 + 8191) // 16383


def module_mv(raw):
    """Module voltage in mV: raw x 33.333 V / 16383, rounded (2 + 567/16383 mV per count)."""
    return 2 * raw + (raw * 567 + 8191) // 16383


# Thermistor: r = (1.78 / ((raw + 2) / 33046) - 3.57) kOhm, then Steinhart-Hart with
# (7.610373573e-4, 2.728524832e-4, 1.022822735e-7) -- a 10 kOhm NTC. The table holds
# the raw count at -40, -35 .. +130 degC, computed offline from that formula
# (tests/host/test_tesla_convert.py recomputes it); linear interpolation between
# points stays within 0.2 degC of the formula. Counts below the first point (open
# sensor: r -> infinity, raw -> 0) or above the last (shorted: r -> 0) are not
# temperatures: TEMP_INVALID.
T_FIRST_DC = -400
T_STEP_DC = 50
RAW_AT_T = (277, 366, 479, 618, 790, 998, 1247, 1540, 1882, 2274, 2717, 3210, 3751,
            4333, 4950, 5595, 6258, 6930, 7600, 8260, 8901, 9518, 10104, 10657, 11173,
            11651, 12093, 12497, 12866, 13202, 13506, 13781, 14030, 14254, 14455)
RAW_MIN = RAW_AT_T[0]
RAW_MAX = RAW_AT_T[-1]
_LAST = len(RAW_AT_T) - 1


def ts2_as_ts1(raw):
    """TeslaBMS calibrates thermistor 2 as (raw + 9) / 33068 instead of (raw + 2) / 33046;
    this maps a TS2 count onto the TS1 scale so both share one table."""
    return ((raw + 9) * 33046 + 16534) // 33068 - 2


def temp_dc(raw, channel=0):
    """Thermistor count -> 0.1 degC, or TEMP_INVALID for an open or shorted sensor."""
    if channel:
        raw = ts2_as_ts1(raw)
    if raw < RAW_MIN or raw > RAW_MAX:
        return TEMP_INVALID
    lo = 0
    hi = _LAST
    while hi - lo > 1:  # RAW_AT_T[lo] <= raw <= RAW_AT_T[hi]
        mid = (lo + hi) >> 1
        if RAW_AT_T[mid] <= raw:
            lo = mid
        else:
            hi = mid
    r0 = RAW_AT_T[lo]
    span = RAW_AT_T[hi] - r0
    return T_FIRST_DC + lo * T_STEP_DC + ((raw - r0) * T_STEP_DC * 2 + span) // (2 * span)


# --- hardware protection thresholds (group-3 registers) -----------------------
# Each returns the register code, or -1 when the value cannot be represented
# (callers treat -1 as a configuration error; nothing is ever wrapped or clamped).

def cov_code(mv):
    """CONFIG_COV: 2.0 V + 50 mV x code, code 0..60 (2.0..5.0 V); nearest code."""
    code = (mv - 2000 + 25) // 50
    return code if 0 <= code <= 60 else -1


def cuv_code(mv):
    """CONFIG_CUV: 0.7 V + 100 mV x code, code 0..26 (0.7..3.3 V); nearest code."""
    code = (mv - 700 + 50) // 100
    return code if 0 <= code <= 26 else -1


def ot_code(dc):
    """CONFIG_OT nibble: 40 degC + 5 degC x (code - 1), code 1..11 (40..90 degC); 0 = off.
    The register holds the same code for both thermistors (TS2 high nibble)."""
    code = (dc - 400 + 25) // 50 + 1
    return code if 1 <= code <= 11 else -1


def delay_code_100ms(ms):
    """CONFIG_COVT / CONFIG_CUVT: bit 7 selects ms units, code x 100 ms, 0..3100 ms."""
    code = (ms + 50) // 100
    return (0x80 | code) if 0 <= code <= 31 else -1


def delay_code_10ms(ms):
    """CONFIG_OTT: code x 10 ms, 0..2550 ms."""
    code = (ms + 5) // 10
    return code if 0 <= code <= 255 else -1


def cb_time_code(seconds):
    """CB_TIME: up to 63 s in seconds, else whole minutes (bit 7) up to 63 min;
    rounds down so the board never bleeds longer than asked. -1 if 0 or too long."""
    if 1 <= seconds <= 63:
        return seconds
    minutes = seconds // 60
    return (0x80 | minutes) if 1 <= minutes <= 63 else -1


# --- the whole measurement reply at once (the bus master's per-board path) ---------
from array import array

from bms.native import micropython, ptr8, ptr16, ptr32  # noqa: F401

RAW_TABLE = array("H", RAW_AT_T)   # the same table, for native code


@micropython.viper
def store_reading(rx, payload, volts, ctx) -> int:
    """Store the accepted measurement reply in rx (offset 0 = address byte) of board
    b = ctx[2]: cell_mv() of VCELL1..6 into volts[6 b ..] (array('H') of mV),
    module_mv() of GPAI into volts[ctx[6] + b], the temperatures judge() left in
    ctx[4], ctx[5] into volts[ctx[7] + 2 b ..] (two's complement), and the 19-byte
    payload into payload[19 b ..], the reference the next reading is judged against.
    Returns DEVICE_STATUS. One native call instead of nine conversions and a copy
    (the indices are protocols.tesla.plausible's CTX_*)."""
    r = ptr8(rx)
    p = ptr8(payload)
    v = ptr16(volts)
    c = ptr32(ctx)
    b = int(c[2])
    raw = (r[4] << 8) | r[5]
    v[int(c[6]) + b] = 2 * raw + (raw * 567 + 8191) // 16383
    i = b * 6
    k = 6
    while k < 18:
        raw = (r[k] << 8) | r[k + 1]
        v[i] = (raw * 6250 + 8191) // 16383
        i += 1
        k += 2
    i = int(c[7]) + 2 * b
    v[i] = c[4] & 0xFFFF
    v[i + 1] = c[5] & 0xFFFF
    i = b * 19
    k = 3
    while k < 22:
        p[i] = r[k]
        i += 1
        k += 1
    return int(r[3])
