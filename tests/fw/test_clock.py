from drivers.clock import TICKS_PERIOD, ticks_add, ticks_diff, ticks_ms


def test_ticks_wrap_like_micropython():
    assert TICKS_PERIOD >= 1 << 30 and TICKS_PERIOD & (TICKS_PERIOD - 1) == 0
    near_end = TICKS_PERIOD - 10
    later = ticks_add(near_end, 25)
    assert later == 15
    assert ticks_diff(later, near_end) == 25
    assert ticks_diff(near_end, later) == -25


def test_ticks_ms_moves_forward():
    a = ticks_ms()
    b = ticks_ms()
    assert 0 <= ticks_diff(b, a) < 1000


def test_tick_arithmetic_is_layer_0_and_the_clock_re_exports_it():
    from bms import ticks
    import drivers.clock as clock
    assert clock.ticks_diff is ticks.ticks_diff and clock.ticks_add is ticks.ticks_add
    assert clock.TICKS_PERIOD == ticks.TICKS_PERIOD
    assert not hasattr(ticks, "ticks_ms") and not hasattr(ticks, "sleep_ms")

