# Settings are floats in V, degC and A (what a user types); everything the BMS
# computes at run time is integer mV, 0.1 degC and mA (floats are heap objects on
# MicroPython and single precision on boards). This is the one place the two meet,
# with one rounding rule: to the nearest integer, halves away from zero. Python's
# round() rounds halves to even, and a bare int() truncates 4.1 * 1000 to 4099.


def _nearest(x):
    if x >= 0:
        return int(x + 0.5)
    return -int(-x + 0.5)


def mv(volts):
    """V -> integer mV."""
    return _nearest(volts * 1000)


def dc(celsius):
    """degC -> integer 0.1 degC."""
    return _nearest(celsius * 10)


def ma(amps):
    """A -> integer mA."""
    return _nearest(amps * 1000)
