# Monotonic millisecond ticks with MicroPython's wrap-around semantics on every
# runtime (period 2**30 on CPython, as on the boards), so timeouts computed with ticks_diff behave the same in CPython tests,
# in replay and on the board.

try:
    from time import sleep_ms, ticks_ms, ticks_diff, ticks_add  # MicroPython
    # The wrap period is the port's: 2**30 on boards, 2**62 on the 64-bit unix port.
    TICKS_PERIOD = ticks_add(0, -1) + 1
except ImportError:
    import time as _time

    TICKS_PERIOD = 1 << 30
    _HALF = TICKS_PERIOD >> 1
    _start = _time.monotonic()

    def ticks_ms():
        return int((_time.monotonic() - _start) * 1000) & (TICKS_PERIOD - 1)

    def ticks_add(ticks, delta):
        return (ticks + delta) & (TICKS_PERIOD - 1)

    def ticks_diff(a, b):
        return ((a - b + _HALF) & (TICKS_PERIOD - 1)) - _HALF

    def sleep_ms(ms):
        _time.sleep(ms / 1000)
