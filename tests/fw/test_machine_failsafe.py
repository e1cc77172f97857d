# Bad input and coding errors, kept apart (issue 17): a malformed event is rejected
# before any guard runs and changes nothing; anything a guard or action raises sends
# the machine to its fail-safe state with every contactor open and `internal` held.

import json

from bms import diagnosis
from fsm import table
from fsm.guards import GUARDS
from fsm.machine import Machine, field_problem
from tests.fw.support import Rig

OPEN = (0, 0, 0)
STATES = ("Init", "Precharge", "Run", "Balance", "Fault", "Shutdown")

MALFORMED = (
    ("bus_voltage", None), ("bus_voltage", {}), ("bus_voltage", {"v_bus": 50.0}),
    ("bus_voltage", {"v_bus": "50", "v_pack": 50.0}), ("bus_voltage", {"v_bus": True, "v_pack": 50.0}),
    ("bus_voltage", {"v_bus": float("nan"), "v_pack": 50.0}),
    ("bus_voltage", {"v_bus": float("inf"), "v_pack": 50.0}),
    ("bus_voltage", {"v_bus": 50.0, "v_pack": 50.0, "v_extra": 1.0}),
    ("bus_voltage", [50.0, 50.0]),
    ("fault", None), ("fault", {"diag": 7}), ("fault", {"diag": None}), ("fault", {"code": "cell_ov"}),
    ("fault_cleared", {}), ("fault_cleared", {"diag": b"cell_ov"}),
    ("tick", {"diag": "cell_ov"}), ("reset", {"now": True}), ("pack_ready", 1),
)


def _snapshot(rig):
    c = rig.ctx
    return (rig.state, rig.outputs(), c.pack_ready, c.want_connect, c.attempts, c.entered_ms,
            c.attempt_end_ms, bytes(c.faults), c.last_fault, rig.machine.exceptions,
            rig.machine.denied)


def _records(rig, key):
    return [r for r in (json.loads(line) for line in rig.stream.lines) if key in r]


def test_every_event_has_a_field_row_in_event_order():
    assert tuple(r[0] for r in table.EVENT_FIELDS) == table.EVENTS
    for event, spec in table.EVENT_FIELDS:
        for name, kind in spec:
            assert kind in (table.NUMBER, table.TEXT), (event, name)
    assert dict(table.EVENT_FIELDS)["bus_voltage"] == (("v_bus", table.NUMBER), ("v_pack", table.NUMBER))
    assert dict(table.EVENT_FIELDS)["fault"] == (("diag", table.TEXT),)


def test_a_malformed_event_changes_nothing_in_any_state():
    for state in STATES:
        for event, fields in MALFORMED:
            rig = Rig()
            rig.reach(state)
            before = _snapshot(rig)
            rejected = rig.machine.rejected
            assert rig.send(event, fields, dt=0) is False, (state, event, fields)
            assert _snapshot(rig) == before, (state, event, fields)
            assert rig.machine.rejected == rejected + 1
            last = _records(rig, "rejected")[-1]
            assert last["rejected"] == event and last["state"] == state
            assert last["reason"] == "malformed", last
            assert len(last["detail"]) > 8, last


def test_the_reason_names_the_field():
    spec = dict(table.EVENT_FIELDS)
    assert field_problem(spec["bus_voltage"], {"v_bus": 1.0}) == "missing field v_pack"
    assert "v_bus must be a finite number" in field_problem(spec["bus_voltage"], {"v_bus": "1", "v_pack": 1})
    assert field_problem(spec["bus_voltage"], None) == "needs v_bus, v_pack"
    assert field_problem(spec["fault"], {"diag": "x", "more": 1}) == "unexpected field more"
    assert "diag must be text" in field_problem(spec["fault"], {"diag": 3})
    assert "must be an object" in field_problem(spec["tick"], [1])
    assert field_problem(spec["tick"], None) is None and field_problem(spec["tick"], {}) is None
    assert field_problem(spec["bus_voltage"], {"v_bus": 49, "v_pack": 50.0}) is None


def _boom(ctx, t_ms, fields):
    raise ZeroDivisionError("a coding error in a guard")


def _raising_machine_rig():
    """A rig whose machine has, in every state, a first `tick` row guarded by a
    guard that raises once armed (so the rig can be driven there first)."""
    rig = Rig()
    armed = []

    def trap(ctx, t_ms, fields):
        if armed:
            _boom(ctx, t_ms, fields)
        return False
    rows = tuple((s, "tick", "trap", None, None) for s in table.STATES) + table.TRANSITIONS
    guards = dict(GUARDS)
    guards["trap"] = trap
    rig.machine = Machine(rig.ctx, rig.machine.log, transitions=rows, guards=guards)
    rig.machine.start(rig.t)
    return rig, armed


def test_a_raising_guard_in_every_state_fails_safe():
    for state in STATES:
        rig, armed = _raising_machine_rig()
        rig.reach(state)
        armed.append(1)
        assert rig.send("tick") is True, state
        want = dict(table.FAIL_SAFE)[state]
        assert rig.state == want, (state, rig.state)
        assert rig.outputs() == OPEN and rig.contactors.all_open(), state
        assert rig.ctx.faults[diagnosis.INTERNAL] and rig.ctx.faults[diagnosis.FAULT_LATCHED]
        assert rig.ctx.last_fault == "internal"
        assert rig.machine.exceptions == 1
        err = _records(rig, "error")[-1]
        assert err["on"] == "tick" and err["error"].startswith("guard: ZeroDivisionError"), err
        trans = _records(rig, "transition")
        if want != state:
            assert trans[-1]["transition"] == "%s->%s" % (state, want)
        assert not rig.machine.allows(table.P_CONTACTORS)


def test_operating_states_fail_safe_into_fault_and_shutdown_stays_final():
    for source, dest in table.FAIL_SAFE:
        assert dest == ("Shutdown" if source == "Shutdown" else "Fault"), (source, dest)


def test_the_precharge_timeout_cannot_be_switched_off_by_a_raising_guard():
    # The defect of issue 17: precharge_expired raising used to count as False, so
    # the machine stayed in Precharge with contactors closed for ever.
    rig = Rig({"precharge_retries": 0, "precharge_timeout_ms": 500})
    guards = dict(GUARDS)
    guards["precharge_expired_may_retry"] = _boom
    rig.machine = Machine(rig.ctx, rig.machine.log, guards=guards)
    rig.machine.start(rig.t)
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Precharge" and rig.outputs() == (1, 1, 0)
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN
    assert rig.ctx.active_faults() == ["internal", "fault_latched"]


def test_a_raising_action_fails_safe_too():
    rig = Rig()
    rig.to_run()
    rig.contactors.interlock = lambda: False  # close_main's successor would refuse
    rig.send("balance_needed")
    rig.ctx.contactors.pins[1].value(1)       # Balance's tick finds the wrong pattern
    rig.contactors.commanded[1] = 1
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN
    assert _records(rig, "error")[-1]["error"].startswith("action: RuntimeError")
