# The millisecond clock (hardware: layer 3). Tick arithmetic lives in bms/ticks.py
# (layer 0) and is re-exported here, so on every runtime ticks_ms wraps with the
# same period ticks_diff assumes (2**30 on CPython, as on the boards), and timeouts
# behave the same in CPython tests, in replay and on the board.

from bms.ticks import TICKS_PERIOD, ticks_add, ticks_diff  # noqa: F401 (re-exported)

try:
    from time import sleep_ms, ticks_ms, ticks_us  # noqa: F401  (MicroPython; this module's API)
except ImportError:
    import time as _time

    _start = _time.monotonic()

    def ticks_ms():
        return int((_time.monotonic() - _start) * 1000) & (TICKS_PERIOD - 1)

    def ticks_us():
        return int((_time.monotonic() - _start) * 1000000) & (TICKS_PERIOD - 1)

    def sleep_ms(ms):
        _time.sleep(ms / 1000)


# --- wall clock ---------------------------------------------------------------------
# UTC for log timestamps where the board has a valid one: drivers/wall_clock.py,
# loaded only for a board whose file names a "wall_clock" source (RAM on .mpy).

def wall_clock(source, machine=None, ntp_server=None):
    """A WallClock for a board's "wall_clock" entry ("ntp": with its "ntp_server");
    None when the board has none."""
    if source is None:
        return None
    from drivers.wall_clock import make
    return make(source, machine, ntp_server)
