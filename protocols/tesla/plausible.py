# Plausibility of a module board's measurement reply beyond its CRC-8: what a frame
# that passed the CRC by chance (two bit errors 127 bits apart, some bursts of 9+
# bits) must still get through before its values may reach the pack. judge() is
# native code on a board (one call per reply, ~3000 instructions on a Cortex-M0);
# plain Python on CPython. Nothing here allocates.
#
# The reply to a read of DEVICE_STATUS..TEMPERATURE2 is
#   [addr, reg, count, STATUS, GPAI hi, lo, VCELL1 hi, lo .. VCELL6 hi, lo, TS1 hi, lo, TS2 hi, lo, crc]
# so the payload (the 19 bytes the bus master keeps per board) starts at offset 3.

from bms.native import const, micropython, ptr8, ptr16, ptr32  # noqa: F401
from protocols.tesla.convert import RAW_TABLE

PAYLOAD = const(19)     # DEVICE_STATUS .. TEMPERATURE2

# judge() verdicts
CLEAN = const(0)        # every check passed
SUSPECT = const(1)      # possible but unusual: take it only if a second read repeats it
BAD = const(2)          # impossible: never take it
NOT_READY = const(3)    # DEVICE_STATUS.DRDY clear (when checked)

# The context array (array('i'), one per bus) judge() and convert.store_reading() share:
CTX_TOL = const(0)      # module voltage tolerance, mV x 16383 (tolerance())
CTX_DRDY = const(1)     # 1: check DEVICE_STATUS.DRDY
CTX_BOARD = const(2)    # the board being read (0-based)
# (index 3 is free)
CTX_T1 = const(4)       # out: TEMPERATURE1 in 0.1 degC (TEMP_INVALID if open/short)
CTX_T2 = const(5)       # out: TEMPERATURE2
CTX_MODULES = const(6)  # where module voltages start in the volts array (6 x boards)
CTX_TEMPS = const(7)    # where temperatures start in it (7 x boards; two's complement)
CTX_SIZE = const(8)

# A Model S cell outside 2.0 .. 4.5 V is a damaged cell or a corrupted frame: worth a
# second read either way (raw counts, 6.25 V full scale over 16383).
CELL_LOW_RAW = const(5243)    # 2000 mV
CELL_HIGH_RAW = const(11796)  # 4500 mV
# A cell that moved more than this since the board's last accepted reading: a load
# step or a corrupted frame. 12 counts = 4.6 mV, below the 5 mV a reading may be off.
CELL_STEP_RAW = const(12)
# Temperatures (0.1 degC): a jump since the board's last accepted reading (modules
# change far slower than 0.5 degC in one cycle), the two sensors of one board far
# apart, or a board far from the one before it.
TEMP_STEP_DC = const(5)
TEMP_PAIR_DC = const(100)
TEMP_NEIGHBOUR_DC = const(200)
_NONE = const(-32768)   # protocols.tesla.convert.TEMP_INVALID


def tolerance(module_mv_tolerance):
    """The module-voltage tolerance in the unit judge() compares: mV x 16383."""
    return module_mv_tolerance * 16383


@micropython.viper
def judge(rx, payload, volts, ctx) -> int:
    """Judge the measurement reply in rx (offset 0 = address byte) of board b = ctx[2]
    against itself, against its last accepted payload (payload[19 b ..]) and against the
    accepted temperatures (volts[ctx[CTX_TEMPS] ..], two per board, 16-bit two's
    complement in the bus master's array('H')). Writes the reply's
    temperatures to ctx[CTX_T1], ctx[CTX_T2] (convert.temp_dc(), natively).
    BAD: a 14-bit ADC word with a top bit set, or the module voltage (GPAI) differs
    from the sum of the six cells by more than ctx[CTX_TOL].
    NOT_READY: DRDY clear while ctx[CTX_DRDY].
    SUSPECT: DEVICE_STATUS changed (or no accepted reading yet), a cell outside 2.0..4.5 V
    or moved more than CELL_STEP_RAW, a sensor open or shorted, a temperature jump, the
    pair far apart, or far from the previous board.
    CLEAN otherwise."""
    r = ptr8(rx)
    c = ptr32(ctx)
    k = 4
    while k < 22:
        if r[k] & 0xC0:
            return BAD
        k += 2
    total = 0
    k = 6
    while k < 18:
        total += int((r[k] << 8) | r[k + 1])
        k += 2
    d = int((r[4] << 8) | r[5]) * 33333 - total * 6250   # both in mV x 16383
    tol = int(c[CTX_TOL])
    if d > tol or d < 0 - tol:
        return BAD
    if int(c[CTX_DRDY]) and not r[3] & 1:
        return NOT_READY
    # temperatures, as convert.temp_dc(raw, channel)
    t = ptr16(RAW_TABLE)
    ch = 0
    while ch < 2:
        raw = int((r[18 + 2 * ch] << 8) | r[19 + 2 * ch])
        if ch:
            raw = ((raw + 9) * 33046 + 16534) // 33068 - 2      # ts2_as_ts1
        dc = _NONE
        if raw >= 277 and raw <= 14455:                         # RAW_MIN .. RAW_MAX
            lo = 0
            hi = 34
            while hi - lo > 1:
                mid = (lo + hi) >> 1
                if int(t[mid]) <= raw:
                    lo = mid
                else:
                    hi = mid
            r0 = int(t[lo])
            span = int(t[hi]) - r0
            dc = -400 + lo * 50 + ((raw - r0) * 100 + span) // (2 * span)
        c[CTX_T1 + ch] = dc
        ch += 1
    b = int(c[CTX_BOARD])
    p = ptr8(payload)
    base = b * 19
    # A board with no accepted reading yet has an all-zero payload and TEMP_INVALID
    # temperatures here: every plausible reply differs from that, so it is SUSPECT.
    if r[3] != p[base]:
        return SUSPECT
    k = 6
    while k < 18:
        v = int((r[k] << 8) | r[k + 1])
        if v < CELL_LOW_RAW or v > CELL_HIGH_RAW:
            return SUSPECT
        d = v - int((p[base + k - 3] << 8) | p[base + k - 2])
        if d > CELL_STEP_RAW or d < 0 - CELL_STEP_RAW:
            return SUSPECT
        k += 2
    t1 = int(c[CTX_T1])
    t2 = int(c[CTX_T2])
    if t1 == _NONE or t2 == _NONE:
        return SUSPECT                 # a real open sensor is repeated, and taken
    s = ptr16(volts)
    k = int(c[CTX_TEMPS]) + b * 2
    d = int(s[k])
    d = t1 - (d - 65536 if d > 32767 else d)
    if d > TEMP_STEP_DC or d < 0 - TEMP_STEP_DC:
        return SUSPECT
    d = int(s[k + 1])
    d = t2 - (d - 65536 if d > 32767 else d)
    if d > TEMP_STEP_DC or d < 0 - TEMP_STEP_DC:
        return SUSPECT
    d = t1 - t2
    if d > TEMP_PAIR_DC or d < 0 - TEMP_PAIR_DC:
        return SUSPECT
    if b > 0:
        d = int(s[k - 2])
        d = d - 65536 if d > 32767 else d
        if d != _NONE:
            d = t1 - d
            if d > TEMP_NEIGHBOUR_DC or d < 0 - TEMP_NEIGHBOUR_DC:
                return SUSPECT
    return CLEAN


# Once per cycle over every board: bytecode that first looks at C speed (max()
# and any() over a bytearray allocate nothing) and walks the boards only when
# something is set, which a healthy bus never has. As native code these three
# would hold ~0.8 KB of a .mpy board's heap (an RP2040 loads native code into its
# GC heap; docs/architecture.md) for no time saved.
def first_at_least(buf, n, level):
    """1 + the index of the first of buf[0:n] >= level, or 0 (a board number)."""
    if n <= 0 or max(buf) < level:
        return 0
    i = 0
    while i < n:
        if buf[i] >= level:
            return i + 1
        i += 1
    return 0


def first_with(buf, n, mask):
    """1 + the index of the first of buf[0:n] with a bit of mask set, or 0."""
    if n <= 0 or not any(buf):
        return 0
    i = 0
    while i < n:
        if buf[i] & mask:
            return i + 1
        i += 1
    return 0


def next_sequence(seq, marks, n, hold):
    """The bus master's per-board sequence state, one step per cycle. seq[i] bit 0
    says which of two register counts board i is asked for; the bits above count the
    clean cycles it keeps the extra one. A board marked (it failed an exchange, so a
    reply may still be in flight) switches to the other count and holds it `hold`
    cycles; a board on the extra count returns to the normal one after that. Clears
    the marks."""
    if n <= 0 or (not any(marks) and max(seq) <= 1):
        return                  # nothing marked, nothing counting down
    i = 0
    while i < n:
        v = seq[i]
        if marks[i]:
            v = ((v & 1) ^ 1) | (hold << 1)
            marks[i] = 0
        elif v > 1:
            v -= 2
            if v == 1:
                v = 0
        seq[i] = v
        i += 1
