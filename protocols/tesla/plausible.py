# Plausibility of a module board's measurement reply beyond its CRC-8: what a frame
# that passed the CRC by chance (two bit errors 127 bits apart, some bursts of 9+
# bits) must still get through before its values may reach the pack. Native code on
# a board (one call per reply); plain Python on CPython. Never allocates.
#
# The reply to a read of DEVICE_STATUS..TEMPERATURE2 is
#   [addr, reg, count, STATUS, GPAI hi, lo, VCELL1 hi, lo .. VCELL6 hi, lo, TS1 hi, lo, TS2 hi, lo, crc]
# so the payload (the 19 bytes the bus master keeps per board) starts at offset 3.

try:
    import micropython
    from micropython import const
except ImportError:  # CPython: the decorators are no-ops, ptr8 is plain indexing
    class micropython:  # noqa: N801 - stands in for the MicroPython module
        @staticmethod
        def viper(f):
            return f

    def const(x):
        return x

    def ptr8(x):
        return x

    def ptr16(x):
        return x

PAYLOAD = const(19)     # DEVICE_STATUS .. TEMPERATURE2
CLEAN = const(0)        # every check passed
SUSPECT = const(1)      # possible but unusual: take it only if a second read repeats it
BAD = const(2)          # impossible: never take it

# A Model S cell outside 2.0 .. 4.5 V is a damaged cell or a corrupted frame: worth a
# second read either way (raw counts, 6.25 V full scale over 16383).
CELL_LOW_RAW = const(5243)    # 2000 mV
CELL_HIGH_RAW = const(11796)  # 4500 mV
# A cell that moved more than this since the board's last accepted reading: a load
# step or a corrupted frame. 12 counts = 4.6 mV, below the 5 mV a reading may be off.
CELL_STEP_RAW = const(12)


def tolerance(module_mv_tolerance):
    """The module-voltage tolerance in the unit screen() compares: mV x 16383."""
    return module_mv_tolerance * 16383


@micropython.viper
def screen(rx, prev, known: int, tol: int) -> int:
    """Judge the measurement reply in rx (offset 0 = address byte) against itself and
    against prev, the board's last accepted payload (19 bytes). BAD: a 14-bit ADC word
    with a top bit set, or the module voltage (GPAI) differs from the sum of the six
    cells by more than tol (see tolerance()). SUSPECT: no accepted reading yet
    (known == 0), DEVICE_STATUS changed, a cell outside 2.0..4.5 V, or a cell moved
    more than CELL_STEP_RAW. Temperatures are judged by the bus master after
    conversion (their scale is not linear)."""
    r = ptr8(rx)
    p = ptr8(prev)
    k = 4
    while k < 22:
        if r[k] & 0xC0:
            return BAD
        k += 2
    total = 0
    k = 6
    while k < 18:
        total += (r[k] << 8) | r[k + 1]
        k += 2
    d = ((r[4] << 8) | r[5]) * 33333 - total * 6250   # both in mV x 16383
    if d > tol or d < 0 - tol:
        return BAD
    if known == 0 or r[3] != p[0]:
        return SUSPECT
    k = 6
    while k < 18:
        v = (r[k] << 8) | r[k + 1]
        if v < CELL_LOW_RAW or v > CELL_HIGH_RAW:
            return SUSPECT
        d = v - ((p[k - 3] << 8) | p[k - 2])
        if d > CELL_STEP_RAW or d < 0 - CELL_STEP_RAW:
            return SUSPECT
        k += 2
    return CLEAN


@micropython.viper
def same_payload(rx, held) -> bool:
    """The payload in rx (offset 3) equals held byte for byte: a second read repeated it."""
    r = ptr8(rx)
    h = ptr8(held)
    k = 0
    while k < PAYLOAD:
        if r[k + 3] != h[k]:
            return False
        k += 1
    return True


@micropython.viper
def keep_payload(rx, dest):
    """Copy the payload in rx (offset 3) into dest (19 bytes)."""
    r = ptr8(rx)
    d = ptr8(dest)
    k = 0
    while k < PAYLOAD:
        d[k] = r[k + 3]
        k += 1


# Temperatures (0.1 degC) that make a reading suspect: a jump since the board's last
# accepted reading (modules change far slower than 0.5 degC in one cycle), the two
# sensors of one board far apart, or a board far from the one before it.
TEMP_STEP_DC = const(5)
TEMP_PAIR_DC = const(100)
TEMP_NEIGHBOUR_DC = const(200)
_NONE = const(-32768)  # protocols.tesla.convert.TEMP_INVALID


@micropython.viper
def _signed(v: int) -> int:
    return v - 65536 if v > 32767 else v


@micropython.viper
def odd_temps(new, temps, board: int) -> bool:
    """new[0], new[1]: board's two temperatures just read; temps: every board's last
    accepted ones (array('h')). True when the pair needs a second read: a sensor reads
    open or shorted, a jump, the pair far apart, or far from the previous board."""
    n = ptr16(new)
    p = ptr16(temps)
    t1 = int(_signed(n[0]))
    t2 = int(_signed(n[1]))
    if t1 == _NONE or t2 == _NONE:
        return True
    k = board * 2
    d = t1 - int(_signed(p[k]))
    if d > TEMP_STEP_DC or d < 0 - TEMP_STEP_DC:
        return True
    d = t2 - int(_signed(p[k + 1]))
    if d > TEMP_STEP_DC or d < 0 - TEMP_STEP_DC:
        return True
    d = t1 - t2
    if d > TEMP_PAIR_DC or d < 0 - TEMP_PAIR_DC:
        return True
    if board > 0:
        d = int(_signed(p[k - 2]))
        if d != _NONE:
            d = t1 - d
            if d > TEMP_NEIGHBOUR_DC or d < 0 - TEMP_NEIGHBOUR_DC:
                return True
    return False


@micropython.viper
def first_at_least(buf, n: int, level: int) -> int:
    """1 + the index of the first of buf[0:n] >= level, or 0 (a board number)."""
    b = ptr8(buf)
    i = 0
    while i < n:
        if int(b[i]) >= level:
            return i + 1
        i += 1
    return 0


@micropython.viper
def first_with(buf, n: int, mask: int) -> int:
    """1 + the index of the first of buf[0:n] with a bit of mask set, or 0."""
    b = ptr8(buf)
    i = 0
    while i < n:
        if int(b[i]) & mask:
            return i + 1
        i += 1
    return 0
