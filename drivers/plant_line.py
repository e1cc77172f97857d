# The plant link's line format (protocol: drivers/plant_link.py and
# docs/simulator.md): ASCII lines "<body>*<XX>\n", XX the XOR of the body's
# bytes in hex (as NMEA-0183), at most LINE_MAX bytes; and the errno values its
# objects raise, as machine.I2C does. Shared with the plant's end
# (simulator/pin_link.py).

from drivers.ascii_hex import HEX, nibble

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

LINE_MAX = const(80)
ENODEV = const(19)         # machine.I2C: no device acknowledged
ETIMEDOUT = const(110)     # machine.I2C: the bus timed out
EIO = const(5)             # an answer of the wrong shape


def seal(buf, n):
    """Append *XX\\n to buf[:n]; returns the new length."""
    x = 0
    for i in range(n):
        x ^= buf[i]
    buf[n] = 0x2A
    buf[n + 1] = HEX[x >> 4]
    buf[n + 2] = HEX[x & 15]
    buf[n + 3] = 0x0A
    return n + 4


def checked_body(line, n):
    """Length of the body of a received line (without *XX), or -1 if the checksum
    is missing or wrong. Shared with the plant side."""
    if n < 4 or line[n - 3] != 0x2A:
        return -1
    hi = nibble(line[n - 2])
    lo = nibble(line[n - 1])
    if hi < 0 or lo < 0:
        return -1
    x = 0
    for i in range(n - 3):
        x ^= line[i]
    return n - 3 if x == (hi << 4 | lo) else -1
