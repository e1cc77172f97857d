from drivers.contactors import NEGATIVE, POSITIVE, PRECHARGE, Contactors
from drivers.gpio import Inverted, MemoryPin


def _make(feedback=None):
    history = []
    pins = [MemoryPin(n, record=history) for n in ("neg", "pre", "pos")]
    c = Contactors(pins[0], pins[1], pins[2], feedback)
    return c, pins, history


def test_starts_open_and_refuses_without_interlock():
    c, pins, history = _make()
    assert c.all_open() and c.close(NEGATIVE) is False and c.refused == 1
    assert [p.value() for p in pins] == [0, 0, 0]


def test_close_and_open_all_in_reverse():
    c, pins, history = _make()
    c.interlock = lambda: True
    for which in (NEGATIVE, PRECHARGE, POSITIVE):
        assert c.close(which)
    assert c.is_closed(POSITIVE) and not c.all_open()
    c.open_all()
    assert history[-3:] == [("pos", 0), ("pre", 0), ("neg", 0)]
    assert c.all_open()


def test_feedback_closed_means_not_open():
    fb = MemoryPin("fb", value=1)
    c, pins, history = _make(feedback=(fb, None, None))
    assert not c.all_open()
    fb.value(0)
    assert c.all_open()


def test_inverted_pin_for_active_low_relays():
    raw = MemoryPin("raw", value=1)
    pin = Inverted(raw)
    assert pin.value() == 0
    pin.value(1)
    assert raw.value() == 0 and pin.value() == 1


class FailingPin(MemoryPin):
    def value(self, v=None):
        if v is not None:
            raise OSError(5)
        return MemoryPin.value(self, v)


def test_open_all_tries_every_pin_even_when_one_fails():
    c, pins, history = _make()
    c.interlock = lambda: True
    for which in (NEGATIVE, PRECHARGE):
        c.close(which)
    neg, pre = pins[0], pins[1]
    c.pins = (neg, pre, FailingPin("pos"))
    c.commanded[POSITIVE] = 1
    try:
        c.open_all()
        raise AssertionError("the failure must be reported")
    except OSError:
        pass
    assert neg.value() == 0 and pre.value() == 0 and c.all_open()


def test_mismatch_names_the_disagreeing_contactor():
    fb = (MemoryPin("fb_neg"), None, MemoryPin("fb_pos"))
    c, pins, history = _make(feedback=fb)
    assert c.mismatch() == -1
    c.interlock = lambda: True
    c.close(NEGATIVE)
    assert c.mismatch() == NEGATIVE  # commanded closed, aux contact still open
    fb[0].value(1)
    assert c.mismatch() == -1
    c.open_all()
    fb[0].value(0)
    fb[2].value(1)  # positive welded: reads closed while commanded open
    assert c.mismatch() == POSITIVE and not c.all_open()
    c2, _, _ = _make()
    assert c2.mismatch() == -1  # no feedback wired: nothing to compare
