# The three contactor outputs (main negative, precharge, main positive). Only the
# state machine's actions call this; an interlock asks the machine's permission
# table before anything closes, so a bug elsewhere cannot connect the pack.

NEGATIVE = 0
PRECHARGE = 1
POSITIVE = 2
NAMES = ("negative", "precharge", "positive")


def _never(*_args):
    return False


class Contactors:
    def __init__(self, negative, precharge, positive, feedback=None):
        self.pins = (negative, precharge, positive)
        # Optional feedback inputs (auxiliary contacts), same order; None where absent.
        self.feedback = feedback
        self.commanded = bytearray(3)
        self.interlock = _never   # replaced by the machine: may contactors close now?
        self.refused = 0           # close requests the interlock refused
        self.open_all()

    def close(self, which):
        if not self.interlock():
            self.refused += 1
            return False
        self.commanded[which] = 1
        self.pins[which].value(1)
        return True

    def open(self, which):
        self.commanded[which] = 0
        self.pins[which].value(0)

    def open_all(self):
        # Reverse of the closing order: positive first, negative last, so the
        # contactor that breaks the load current is the one rated for it. A pin
        # that fails to write (a broken expander) must not stop the others opening:
        # try all three, then report the first failure.
        failure = None
        for which in (POSITIVE, PRECHARGE, NEGATIVE):
            try:
                self.open(which)
            except Exception as e:
                if failure is None:
                    failure = e
        if failure is not None:
            raise failure

    def is_closed(self, which):
        return self.commanded[which] == 1

    def mismatch(self):
        """First contactor whose feedback disagrees with its command, or -1.
        Report it every loop to the `contactor_feedback` diagnosis, whose debounce
        covers the contactor's own operate time."""
        if self.feedback is None:
            return -1
        for i in range(3):
            fb = self.feedback[i]
            if fb is not None and (1 if fb.value() else 0) != self.commanded[i]:
                return i
        return -1

    def all_open(self):
        """True when nothing is commanded closed and no feedback says closed."""
        for i in range(3):
            if self.commanded[i]:
                return False
            if self.feedback is not None and self.feedback[i] is not None \
                    and self.feedback[i].value():
                return False
        return True
