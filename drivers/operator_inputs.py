# Operator inputs on board pins until the console and web page exist: a
# connect/disconnect switch and a fault-reset button (in simulation the same pins
# come over the plant link). Inputs are wired to ground with pull-ups, so "active"
# is a low level unless the board file says otherwise.
#
# A switch counts once its new level has held for debounce_ms. The reset button
# counts only as a deliberate long press: held for hold_ms, once per press. A
# button that reads pressed when the BMS starts (a shorted wire, a stuck key, a
# brick on it) must first be seen released: a fault never resets itself because a
# wire is bad.

NONE = 0
ON = 1
OFF = 2


class Switch:
    """Debounced two-position switch. update() returns ON or OFF when the debounced
    level changes, NONE otherwise; `on` is the debounced level."""

    def __init__(self, pin, debounce_ms=50, active_low=True, t_ms=0):
        self.pin = pin
        self.debounce_ms = debounce_ms
        self.active_low = active_low
        self.on = self._raw()
        self._candidate = self.on
        self._since = t_ms

    def _raw(self):
        v = self.pin.value()
        return (not v) if self.active_low else bool(v)

    def update(self, t_ms, ticks_diff):
        raw = self._raw()
        if raw == self.on:
            self._candidate = raw
            return NONE
        if raw != self._candidate:
            self._candidate = raw
            self._since = t_ms
            return NONE
        if ticks_diff(t_ms, self._since) < self.debounce_ms:
            return NONE
        self.on = raw
        return ON if raw else OFF


class LongPress:
    """update() returns True once per press that has been held for hold_ms."""

    def __init__(self, pin, hold_ms=3000, debounce_ms=50, active_low=True, t_ms=0):
        self.switch = Switch(pin, debounce_ms, active_low, t_ms)
        self.hold_ms = hold_ms
        # Pressed at start-up: wait for a release before any press counts.
        self._armed = not self.switch.on
        self._fired = False
        self._pressed_at = t_ms

    def update(self, t_ms, ticks_diff):
        change = self.switch.update(t_ms, ticks_diff)
        if change == OFF:
            self._armed = True
            self._fired = False
            return False
        if change == ON:
            self._pressed_at = t_ms
            return False
        if not self.switch.on or not self._armed or self._fired:
            return False
        if ticks_diff(t_ms, self._pressed_at) >= self.hold_ms:
            self._fired = True
            return True
        return False
