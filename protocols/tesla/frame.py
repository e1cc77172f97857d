# Framing and CRC of the Tesla module bus. Everything here works on caller-owned
# buffers (bytearray / memoryview) so the bus master's hot path allocates nothing;
# write_frame/read_frame return new bytes objects for tests, tools and one-off use.

from bms.native import const, micropython, ptr8  # noqa: F401
from protocols.tesla.registers import BROADCAST


def _make_table():
    t = bytearray(256)
    for i in range(256):
        c = i
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        t[i] = c
    return bytes(t)


CRC_TABLE = _make_table()  # CRC-8/SMBUS: poly 0x07, init 0, no reflection, no xor
del _make_table            # import-time only: its code would stay in a board's heap


@micropython.viper
def crc_span(data, start: int, end: int, crc: int) -> int:
    """CRC-8 of data[start:end] continuing from crc: the per-frame path (native code
    on a board: about 10 instructions a byte instead of ~700 as bytecode)."""
    t = ptr8(CRC_TABLE)
    b = ptr8(data)
    i = start
    while i < end:
        crc = t[crc ^ b[i]]
        i += 1
    return crc


def crc8(data, start=0, end=-1, crc=0):
    """CRC-8 (poly 0x07) of data[start:end] without slicing; end=-1 means len(data)."""
    if end < 0:
        end = len(data)
    return crc_span(data, start, end, crc)


def pack_write(buf, addr, reg, value):
    """Fill buf[0:4] with a write frame; returns 4. Raises ValueError on a bad field
    (a wrapped address or value would talk to the wrong board or register)."""
    if addr > BROADCAST or (addr | reg | value) >> 8:   # a negative one too (>> keeps -1)
        raise ValueError("write field out of range")
    buf[0] = (addr << 1) | 1
    buf[1] = reg
    buf[2] = value
    buf[3] = crc_span(buf, 0, 3, 0)
    return 4


def pack_read(buf, addr, reg, count, with_crc=False):
    """Fill buf with a read request; returns its length (3, or 4 with a CRC byte)."""
    if addr > BROADCAST or (addr | reg) >> 8 or count < 1 or count > 0x7F:
        raise ValueError("read field out of range")
    buf[0] = addr << 1
    buf[1] = reg
    buf[2] = count
    if with_crc:
        buf[3] = crc_span(buf, 0, 3, 0)
        return 4
    return 3


def write_frame(addr, reg, value):
    """The 4 bytes of a register write: [addr<<1|1, reg, value, crc]."""
    b = bytearray(4)
    pack_write(b, addr, reg, value)
    return bytes(b)


def read_frame(addr, reg, count, with_crc=False):
    """The 3 bytes of a read request, or 4 with with_crc=True (bjpirt-style masters)."""
    b = bytearray(4)
    n = pack_read(b, addr, reg, count, with_crc)
    return bytes(b[:n])


# Reply check results. OK is 0 so `if code:` reads as "failed".
OK = const(0)
E_TIMEOUT = const(1)   # nothing came back
E_SHORT = const(2)     # fewer bytes than the frame needs
E_LONG = const(3)      # more bytes than the frame needs (inserted / trailing garbage)
E_ADDRESS = const(4)   # address byte is not the one asked
E_REGISTER = const(5)  # register byte differs
E_LENGTH = const(6)    # count byte differs (read) / value differs (write echo)
E_CRC = const(7)       # CRC byte wrong
E_DATA = const(8)      # frame intact but a value is impossible (bits a 14-bit ADC cannot set)
E_NOT_READY = const(9) # DEVICE_STATUS says the conversion was not finished
ERROR_NAMES = ("ok", "timeout", "short", "long", "address", "register", "length",
               "crc", "data", "not_ready")
ERROR_COUNT = const(10)


@micropython.viper
def check_frame(rx, tx, n: int, need: int) -> int:
    """Check the n bytes in rx against the request in tx, whose reply is `need` bytes:
    a read's reply repeats the request's 3 header bytes, a write's echo all 4. Returns
    OK or the first failed check, in wire order: length, address byte, register,
    count (or echoed value), CRC. A board still at address 0 answers with bit 7 set;
    its CRC is accepted computed with or without that bit, because peers differ on
    it. Native code, never raises, never allocates."""
    if n <= 0:
        return 1   # E_TIMEOUT
    if n < need:
        return 2   # E_SHORT
    if n > need:
        return 3   # E_LONG
    r = ptr8(rx)
    q = ptr8(tx)
    t = ptr8(CRC_TABLE)
    b0 = r[0]
    a = q[0]
    if a < 2:
        # Only a board that took the frame sets bit 7; our own request coming back
        # unchanged (no board at address 0) must not pass as an answer.
        if b0 != (a | 0x80):
            return 4   # E_ADDRESS
    elif b0 != a:
        return 4
    if r[1] != q[1]:
        return 5       # E_REGISTER
    if r[2] != q[2]:
        return 6       # E_LENGTH
    last = need - 1
    crc = t[b0]
    i = 1
    while i < last:
        crc = t[crc ^ r[i]]
        i += 1
    if crc == r[last]:
        return 0
    if b0 & 0x80:
        crc = t[b0 & 0x7F]
        i = 1
        while i < last:
            crc = t[crc ^ r[i]]
            i += 1
        if crc == r[last]:
            return 0
    return 7           # E_CRC


_REQUEST = bytearray(4)  # check_reply's request header (one-off use, not reentrant)


def check_reply(buf, n, addr, reg, count, write=False, value=0):
    """check_frame() for a request given by its fields (tools, tests, one-off use):
    OK or the first failed check. Never raises for any n or buffer."""
    h = _REQUEST
    h[0] = ((addr << 1) | (1 if write else 0)) & 0xFF
    h[1] = reg & 0xFF
    h[2] = (value if write else count) & 0xFF
    need = 4 if write else count + 4
    if n > len(buf):
        n = len(buf)
    return check_frame(buf, h, n, need)


def parse_reply(frame, addr, reg, count, write=False, value=0):
    """check_reply() on a whole bytes-like frame; returns OK or an E_* code."""
    return check_reply(frame, len(frame), addr, reg, count, write, value)


def error_name(code):
    return ERROR_NAMES[code] if 0 <= code < ERROR_COUNT else "unknown"
