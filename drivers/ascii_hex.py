# Hex digits in ASCII lines, for the unix port's two line protocols: the plant
# link (drivers/plant_line.py) and SLCAN (drivers/can_slcan.py). Byte values, no
# str, so encoding and decoding allocate nothing.

HEX = b"0123456789ABCDEF"


def nibble(c):
    """The value of hex digit byte c (either case), or -1."""
    if 0x30 <= c <= 0x39:
        return c - 0x30
    c |= 0x20
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    return -1
