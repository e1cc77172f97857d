# The transition and permission tables checked as data, the way a safety reviewer
# would read them.

from bms import diagnosis
from fsm import table
from fsm.actions import ACTIONS
from fsm.guards import GUARDS


def test_rows_name_known_states_events_guards_actions():
    for source, event, guard, action, dest in table.TRANSITIONS:
        assert source in table.STATES, source
        assert dest is None or dest in table.STATES, dest
        assert event in table.EVENTS, event
        assert guard is None or guard in GUARDS, guard
        assert action is None or action == "on_tick" or action in ACTIONS, action


def test_every_guard_and_action_is_used():
    used = set()
    for row in table.TRANSITIONS:
        used.add(row[2])
        used.add(row[3])
    for name in GUARDS:
        assert name in used, name
    for name in ACTIONS:
        assert name in used, name


def test_no_row_is_unreachable():
    # A row without a guard ends the search for its (state, event); anything after
    # it for the same pair would never fire.
    closed = set()
    for source, event, guard, action, dest in table.TRANSITIONS:
        assert (source, event) not in closed, (source, event)
        if guard is None:
            closed.add((source, event))


def test_every_state_has_a_tick_row_and_all_states_reachable():
    reached = set([table.INITIAL])
    for state in table.STATES:
        assert any(r[0] == state and r[1] == "tick" for r in table.TRANSITIONS), state
    for row in table.TRANSITIONS:
        if row[4] is not None:
            reached.add(row[4])
    assert reached == set(table.STATES)


def test_faults_reach_fault_from_every_operating_state():
    for state in ("Init", "Precharge", "Run", "Balance"):
        rows = [r for r in table.TRANSITIONS if r[0] == state and r[1] == "fault"]
        assert len(rows) == 1 and rows[0][2] is None and rows[0][4] == "Fault", state


def test_fault_is_latched():
    # Nothing leaves Fault except a guarded reset (to Init) or a shutdown.
    exits = [r for r in table.TRANSITIONS if r[0] == "Fault" and r[4] not in (None, "Fault")]
    assert sorted((r[1], r[2], r[4]) for r in exits) == [
        ("reset", "fault_resolved", "Init"), ("shutdown", None, "Shutdown")]


def test_shutdown_never_leaves():
    assert [r for r in table.TRANSITIONS if r[0] == "Shutdown" and r[4] is not None] == []


def test_run_is_entered_only_by_closing_the_mains_or_from_balance():
    for source, event, guard, action, dest in table.TRANSITIONS:
        if dest == "Run":
            assert action == "close_main" or source == "Balance", (source, event)


def test_precharge_has_timeout_and_bounded_retry():
    rows = [(r[2], r[4]) for r in table.TRANSITIONS if r[0] == "Precharge" and r[1] == "tick"]
    assert ("precharge_expired_may_retry", "Init") in rows
    assert ("precharge_expired", "Fault") in rows
    assert rows.index(("precharge_expired_may_retry", "Init")) < rows.index(("precharge_expired", "Fault"))


def test_permissions_one_row_per_state_in_order():
    assert tuple(r[0] for r in table.PERMISSIONS) == table.STATES
    for row in table.PERMISSIONS:
        assert len(row) == 1 + len(table.PERMISSION_NAMES)
        for flag in row[1:]:
            assert flag is True or flag is False


def _perm(state, p):
    return table.PERMISSIONS[table.state_index(state)][1 + p]


def test_permissions_are_safe():
    for state in table.STATES:
        # charge, discharge or balance without closed contactors would be meaningless
        if _perm(state, table.P_CHARGE) or _perm(state, table.P_DISCHARGE):
            assert _perm(state, table.P_CONTACTORS), state
    for state in ("Init", "Fault", "Shutdown"):
        assert not _perm(state, table.P_CONTACTORS), state
    for state in ("Init", "Precharge", "Fault", "Shutdown"):
        assert not _perm(state, table.P_CHARGE) and not _perm(state, table.P_DISCHARGE), state
    # The GX declares the battery lost when frames stop: Fault must keep talking.
    assert _perm("Fault", table.P_CAN_TX)
    assert not _perm("Shutdown", table.P_CAN_TX)
    assert [s for s in table.STATES if _perm(s, table.P_BALANCE)] == ["Balance"]


def test_every_state_has_its_fail_safe_state():
    assert tuple(r[0] for r in table.FAIL_SAFE) == table.STATES
    for source, dest in table.FAIL_SAFE:
        assert not table.PERMISSIONS[table.state_index(dest)][1 + table.P_CONTACTORS], source


def test_reset_faults_exist_for_machine_raised_diagnoses():
    assert diagnosis.ROWS[diagnosis.PRECHARGE_FAILED][diagnosis.CLEARS] == diagnosis.RESET
    assert diagnosis.ROWS[diagnosis.INTERNAL][diagnosis.CLEARS] == diagnosis.RESET
