# Tesla module bus frames one at a time, as bytes: build a request, check a reply,
# name a check's result, CRC a slice. For the emulator, the tests and the tools;
# the bus master stages its frames in buffers it owns (drivers.tesla_link) and
# checks them with frame.check_frame, so the BMS never imports this module: on a
# board it costs flash, not the heap (.mpy files cost RAM only once imported).

from protocols.tesla.frame import ERROR_COUNT, check_frame, crc_span
from protocols.tesla.registers import BROADCAST

# frame.OK .. frame.E_NOT_READY by number.
ERROR_NAMES = ("ok", "timeout", "short", "long", "address", "register", "length",
               "crc", "data", "not_ready")


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


_REQUEST = bytearray(4)  # check_reply's request header (one-off use, not reentrant)


def check_reply(buf, n, addr, reg, count, write=False, value=0):
    """frame.check_frame() for a request given by its fields: OK or the first
    failed check. Never raises for any n or buffer."""
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
