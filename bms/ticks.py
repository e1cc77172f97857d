# Wrap-safe tick arithmetic (layer 0: imports nothing of pyBMS). MicroPython's
# ticks wrap; compare them with ticks_diff and move them with ticks_add, never with
# - and +. The clock itself (ticks_ms, sleep_ms) is hardware: drivers/clock.py,
# which re-exports these so callers that need both import one module.

try:
    from time import ticks_add, ticks_diff  # noqa: F401  (MicroPython; this module's API)
    # The wrap period is the port's: 2**30 on boards, 2**62 on the 64-bit unix port.
    TICKS_PERIOD = ticks_add(0, -1) + 1
except ImportError:  # CPython: the boards' period, so tests meet the wrap as boards do
    TICKS_PERIOD = 1 << 30
    _HALF = TICKS_PERIOD >> 1

    def ticks_add(ticks, delta):
        return (ticks + delta) & (TICKS_PERIOD - 1)

    def ticks_diff(a, b):
        return ((a - b + _HALF) & (TICKS_PERIOD - 1)) - _HALF
