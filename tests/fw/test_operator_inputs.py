# Operator switch and reset button: debounced, a reset needs a deliberate long
# press, and a button stuck pressed from start-up never resets anything.

from drivers.clock import ticks_diff
from drivers.gpio import MemoryPin
from drivers.operator_inputs import NONE, OFF, ON, LongPress, Switch


def _levels(inp, pin, script, step_ms=10):
    """script: list of (level, ms). Returns [(t, result)] for non-empty results."""
    out = []
    t = 0
    for level, ms in script:
        pin.value(level)
        for _ in range(ms // step_ms):
            r = inp.update(t, ticks_diff)
            if r:
                out.append((t, r))
            t += step_ms
    return out


def test_switch_changes_only_after_its_level_holds():
    pin = MemoryPin("connect", 1)  # pull-up: released
    sw = Switch(pin, debounce_ms=50)
    assert not sw.on
    # Contact bounce (20 ms closed, 10 ms open) never holds 50 ms: nothing.
    got = _levels(sw, pin, [(0, 20), (1, 10), (0, 20), (1, 10)])
    assert got == [] and not sw.on
    got = _levels(sw, pin, [(0, 100), (1, 100)])
    assert [r for t, r in got] == [ON, OFF]
    assert got[0][0] >= 50, "ON before the level held 50 ms"


def test_active_high_switch():
    pin = MemoryPin("connect", 0)
    sw = Switch(pin, debounce_ms=30, active_low=False)
    assert [r for t, r in _levels(sw, pin, [(1, 60)])] == [ON] and sw.on
    assert sw.update(1000, ticks_diff) == NONE


def test_reset_needs_a_long_press_and_fires_once_per_press():
    pin = MemoryPin("reset", 1)
    button = LongPress(pin, hold_ms=3000, debounce_ms=50)
    assert _levels(button, pin, [(0, 2000), (1, 500)]) == [], "a short press is not a reset"
    got = _levels(button, pin, [(0, 10000), (1, 500)])
    assert len(got) == 1, "held 10 s: one reset, not one per cycle"
    got = _levels(button, pin, [(0, 3500), (1, 200), (0, 3500)])
    assert len(got) == 2


def test_a_button_pressed_at_start_up_never_resets_until_released():
    pin = MemoryPin("reset", 0)  # shorted to ground from power-up
    button = LongPress(pin, hold_ms=3000)
    assert _levels(button, pin, [(0, 60000)]) == []
    assert len(_levels(button, pin, [(1, 200), (0, 3200)])) == 1
