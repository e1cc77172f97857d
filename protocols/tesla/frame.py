# Framing and CRC of the Tesla module bus as the bus master uses them: the CRC-8
# table, the CRC of a span and the reply check, on caller-owned buffers
# (bytearray / memoryview) so its hot path allocates nothing. Frames one at a time
# as bytes (requests, reply checks by field, error names) are protocols.tesla.codec,
# which the BMS never imports.

from bms.native import const, micropython, ptr8  # noqa: F401


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
ERROR_COUNT = const(10)   # codec.ERROR_NAMES names them


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
