# fsm.machine's transition index (flat tables built once from a transition table):
# rows of one state and event are tried in table order wherever they sit in the
# table, a denial without a log is counted, and a table the index cannot hold is
# refused. The machine's behaviour on fsm.table itself: test_machine.py.

from bms import config
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm.context import Context
from fsm.machine import Machine


def _rows_machine(rows, guards):
    pins = (MemoryPin("n"), MemoryPin("p"), MemoryPin("m"))
    return Machine(Context(config.make(), Contactors(pins[0], pins[1], pins[2])),
                   transitions=rows, guards=guards)


def test_rows_of_one_state_and_event_are_tried_in_table_order_even_apart():
    # The index buckets rows by (state, event); rows far apart in the table keep
    # their order: the first whose guard passes fires.
    tried = []

    def no(ctx, t_ms, fields):
        tried.append("no")
        return False

    def yes(ctx, t_ms, fields):
        tried.append("yes")
        return True
    rows = (("Init", "connect", "no", None, None),
            ("Init", "tick", None, None, None),
            ("Run", "connect", "yes", None, None),
            ("Init", "connect", "yes", None, "Shutdown"),
            ("Init", "connect", "no", None, "Fault"))
    m = _rows_machine(rows, {"no": no, "yes": yes})
    m.start(0)
    assert m.dispatch("connect", 10) is True
    assert tried == ["no", "yes"] and m.state_name == "Shutdown"
    assert m.dispatch("connect", 20) is False and m.rejected == 1   # no Shutdown row


def test_unlogged_denial_is_counted_not_acted_on():
    m = _rows_machine((("Init", "connect", "no", None, "Run"),),
                      {"no": lambda ctx, t_ms, fields: False})
    m.start(0)
    assert m.dispatch("connect", 10) is False
    assert m.denied == 1 and m.rejected == 0 and m.state_name == "Init"


def test_a_table_too_large_for_the_index_is_refused():
    rows = (("Init", "tick", None, None, None),) * 255
    try:
        _rows_machine(rows, {})
    except ValueError as e:
        assert "255 transition rows" in str(e)
    else:
        raise AssertionError("a 255-row table must be refused")
