# Output pins as the state machine needs them. A board file hands in objects with
# machine.Pin's `value(v)`; MemoryPin stands in on the unix port and in tests.


class MemoryPin:
    """A pin that remembers its level; `history` records changes for tests."""

    def __init__(self, name="", value=0, record=None):
        self.name = name
        self._value = value
        self.history = record  # a shared list of (name, level) or None

    def value(self, v=None):
        if v is None:
            return self._value
        v = 1 if v else 0
        if v != self._value and self.history is not None:
            self.history.append((self.name, v))
        self._value = v
        return None


class Inverted:
    """Wraps a pin whose relay is active-low (many relay boards)."""

    def __init__(self, pin):
        self.pin = pin

    def value(self, v=None):
        if v is None:
            return 0 if self.pin.value() else 1
        self.pin.value(0 if v else 1)
        return None
