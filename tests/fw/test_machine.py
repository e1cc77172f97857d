# Behaviour of the firmware state machine, scenario by scenario.

import json

from bms import diagnosis
from drivers.clock import TICKS_PERIOD
from drivers.gpio import MemoryPin
from fsm import table
from tests.fw.support import Rig

OPEN = (0, 0, 0)      # negative, precharge, positive
PRECHARGING = (1, 1, 0)
CLOSED = (1, 0, 1)


def records(rig, key):
    return [r for r in (json.loads(line) for line in rig.stream.lines) if key in r]


def test_boots_open_in_init():
    rig = Rig()
    assert rig.state == "Init" and rig.outputs() == OPEN
    rig.ticks(5)
    assert rig.state == "Init", "must not precharge before the pack is ready"


def test_normal_start_closes_in_safe_order():
    rig = Rig()
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Precharge" and rig.outputs() == PRECHARGING
    rig.send("bus_voltage", {"v_bus": 30.0, "v_pack": 50.0})
    assert rig.state == "Precharge", "bus still far from pack"
    rig.send("bus_voltage", {"v_bus": 49.2, "v_pack": 50.0})
    # Main positive closes while precharge still feeds the bus; precharge opens
    # once precharge_overlap_ms (200) have passed, at a tick.
    assert rig.state == "Run" and rig.outputs() == (1, 1, 1)
    rig.send("tick")                      # 100 ms after close_main
    assert rig.outputs() == (1, 1, 1)
    rig.send("tick")                      # 200 ms
    assert rig.state == "Run" and rig.outputs() == CLOSED
    assert rig.history == [("negative", 1), ("precharge", 1), ("positive", 1), ("precharge", 0)]
    assert rig.ctx.attempts == 0


def test_no_overlap_opens_precharge_with_the_main_contactor():
    rig = Rig({"precharge_overlap_ms": 0})
    rig.send("pack_ready")
    rig.send("tick")
    rig.send("bus_voltage", {"v_bus": 49.2, "v_pack": 50.0})
    assert rig.state == "Run" and rig.outputs() == CLOSED


def test_precharge_closed_past_its_overlap_is_a_fault():
    rig = Rig()
    rig.to_run()
    rig.contactors.close(1)               # behind the machine's back
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN


def test_disconnect_during_the_overlap_opens_everything():
    rig = Rig()
    rig.send("pack_ready")
    rig.send("tick")
    rig.send("bus_voltage", {"v_bus": 49.2, "v_pack": 50.0})
    assert rig.outputs() == (1, 1, 1)
    rig.send("disconnect")
    assert rig.state == "Init" and rig.outputs() == OPEN


def test_opening_is_reverse_order():
    rig = Rig()
    rig.to_run()
    del rig.history[:]
    rig.send("disconnect")
    assert rig.state == "Init" and rig.outputs() == OPEN
    assert rig.history == [("positive", 0), ("negative", 0)]
    rig.ticks(200)
    assert rig.state == "Init", "a disconnect must stick"


def test_no_auto_connect_waits_for_operator():
    rig = Rig({"auto_connect": False})
    rig.send("pack_ready")
    rig.ticks(3)
    assert rig.state == "Init"
    rig.send("connect")
    rig.send("tick")
    assert rig.state == "Precharge"


def test_connect_before_ready_waits_for_ready():
    rig = Rig({"auto_connect": False})
    rig.send("connect")
    rig.ticks(3)
    assert rig.state == "Init"
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Precharge"


def test_time_mode_precharge():
    rig = Rig({"precharge_mode": "time", "precharge_ms": 1000})
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Precharge"
    rig.ticks(9)
    assert rig.state == "Precharge"
    rig.send("tick")
    assert rig.state == "Run" and rig.outputs() == (1, 1, 1)   # the overlap
    rig.ticks(2)
    assert rig.state == "Run" and rig.outputs() == CLOSED


def test_voltage_mode_ignores_time():
    rig = Rig({"precharge_ms": 100})
    rig.send("pack_ready")
    rig.send("tick")
    rig.ticks(3)
    assert rig.state == "Precharge"


def test_precharge_retries_then_latches_fault():
    rig = Rig({"precharge_retries": 2, "precharge_timeout_ms": 1000,
               "precharge_retry_delay_ms": 3000})
    rig.send("pack_ready")
    starts = 0
    for _ in range(200):
        before = rig.state
        rig.send("tick")
        if before == "Init" and rig.state == "Precharge":
            starts += 1
        if rig.state == "Fault":
            break
    assert starts == 3, starts
    assert rig.state == "Fault" and rig.outputs() == OPEN
    assert rig.ctx.active_faults() == ["precharge_failed", "fault_latched"]
    # Cool-down between attempts was honoured: Init lasted at least the retry delay.
    trans = records(rig, "transition")
    back = [r["t_ms"] for r in trans if r["transition"] == "Precharge->Init"]
    again = [r["t_ms"] for r in trans if r["transition"] == "Init->Precharge"][1:]
    for t_back, t_again in zip(back, again):
        assert t_again - t_back >= 3000
    # precharge_failed needs no condition to clear: a reset is enough.
    rig.send("reset")
    assert rig.state == "Init"
    assert rig.ctx.active_faults() == []


def test_zero_retries_faults_on_first_timeout():
    rig = Rig({"precharge_retries": 0, "precharge_timeout_ms": 500})
    rig.send("pack_ready")
    rig.ticks(7)
    assert rig.state == "Fault"


def test_disconnect_during_precharge_aborts():
    rig = Rig()
    rig.send("pack_ready")
    rig.send("tick")
    rig.send("disconnect")
    assert rig.state == "Init" and rig.outputs() == OPEN


def test_fault_from_every_operating_state_opens_everything():
    for setup in ("Init", "Precharge", "Run", "Balance"):
        rig = Rig()
        rig.reach(setup)
        rig.send("fault", {"diag": "cell_ov"})
        assert rig.state == "Fault" and rig.outputs() == OPEN, setup
        assert rig.ctx.last_fault == "cell_ov"


def test_fault_is_latched_until_condition_gone_and_reset():
    rig = Rig()
    rig.to_run()
    rig.send("fault", {"diag": "temp_high"})
    rig.send("fault", {"diag": "cell_ov"})
    rig.ticks(50)
    assert rig.state == "Fault"
    assert rig.send("reset") is False and rig.state == "Fault"
    rig.send("fault_cleared", {"diag": "cell_ov"})
    assert rig.send("reset") is False, "temp_high still active"
    rig.send("fault_cleared", {"diag": "temp_high"})
    rig.ticks(50)
    assert rig.state == "Fault", "clearing alone must not leave Fault"
    assert rig.machine.faults[diagnosis.FAULT_LATCHED], "the latch stays visible until reset"
    assert rig.ctx.active_faults() == ["fault_latched"]
    assert rig.send("reset") is True
    assert rig.state == "Init" and rig.ctx.active_faults() == []
    rig.send("tick")
    assert rig.state == "Precharge", "auto_connect resumes after a verified reset"


def test_disconnect_in_fault_keeps_battery_off_after_reset():
    rig = Rig()
    rig.to_run()
    rig.send("fault", {"diag": "cell_uv"})
    rig.send("disconnect")
    rig.send("fault_cleared", {"diag": "cell_uv"})
    rig.send("reset")
    rig.ticks(3)
    assert rig.state == "Init"
    rig.send("connect")
    rig.send("tick")
    assert rig.state == "Precharge"


def test_reset_refused_while_a_contactor_reads_closed():
    welded = MemoryPin("fb_pos", value=0)
    rig = Rig(feedback=(None, None, welded))
    rig.to_run()
    rig.send("fault", {"diag": "cell_ov"})
    rig.send("fault_cleared", {"diag": "cell_ov"})
    welded.value(1)
    assert rig.send("reset") is False and rig.state == "Fault"
    welded.value(0)
    assert rig.send("reset") is True


def test_unknown_diagnosis_still_faults_and_needs_reset():
    rig = Rig()
    rig.to_run()
    rig.send("fault", {"diag": "no_such_thing"})
    assert rig.state == "Fault" and rig.ctx.active_faults() == ["internal", "fault_latched"]
    rig.send("fault_cleared", {"diag": "no_such_thing"})
    assert rig.ctx.active_faults() == ["internal", "fault_latched"]
    rig.send("fault")
    rig.send("fault_cleared")
    assert rig.send("reset") is True


def test_reset_faults_ignore_fault_cleared():
    rig = Rig()
    rig.to_run()
    rig.send("fault", {"diag": "precharge_failed"})
    rig.send("fault_cleared", {"diag": "precharge_failed"})
    assert rig.ctx.active_faults() == ["precharge_failed", "fault_latched"]


def test_fault_cleared_outside_fault_clears_record():
    rig = Rig()
    rig.send("fault", {"diag": "cell_ov"})
    rig.send("fault_cleared", {"diag": "cell_ov"})
    rig.send("reset")
    for state_events in (("pack_ready", "tick"),):
        for e in state_events:
            rig.send("fault_cleared", {"diag": "cell_ov"})
            rig.send(e)
    assert rig.state == "Precharge"
    rig.send("fault_cleared", {"diag": "cell_ov"})
    rig.send("bus_voltage", {"v_bus": 50.0, "v_pack": 50.0})
    rig.send("fault_cleared", {"diag": "cell_ov"})
    rig.send("balance_needed")
    rig.send("fault_cleared", {"diag": "cell_ov"})
    assert rig.state == "Balance" and rig.ctx.active_faults() == []


def test_balance_round_trip_and_permissions():
    rig = Rig()
    rig.to_run()
    m = rig.machine
    assert not m.allows(table.P_BALANCE) and m.allows(table.P_CHARGE)
    rig.send("balance_needed")
    assert rig.state == "Balance" and m.allows(table.P_BALANCE)
    rig.ticks(3)
    assert rig.outputs() == CLOSED
    rig.send("pack_ready")
    rig.send("balance_done")
    assert rig.state == "Run" and not m.allows(table.P_BALANCE)
    rig.send("balance_needed")
    rig.send("disconnect")
    assert rig.state == "Init" and rig.outputs() == OPEN


def test_shutdown_from_every_state_stays_forever():
    for setup in ("Init", "Precharge", "Run", "Balance", "Fault"):
        rig = Rig()
        rig.reach(setup)
        rig.send("shutdown")
        assert rig.state == "Shutdown" and rig.outputs() == OPEN, setup
        for event in table.EVENTS:
            rig.send(event, {"diag": "cell_ov", "v_bus": 1.0, "v_pack": 1.0})
        assert rig.state == "Shutdown"
        assert not rig.machine.allows(table.P_CAN_TX)


def test_unlisted_and_unknown_events_are_rejected_and_logged():
    rig = Rig()
    rig.to_run()
    assert rig.send("connect") is False
    assert rig.send("warp_drive") is False
    assert rig.machine.rejected == 2 and rig.state == "Run"
    rej = records(rig, "rejected")
    assert [(r["rejected"], r["state"], r["reason"]) for r in rej] == [
        ("connect", "Run", "no_row"), ("warp_drive", "Run", "unknown_event")]


def test_malformed_bus_voltage_is_rejected_not_a_close():
    # Issue 17: a malformed event is bad input, rejected before any guard runs
    # (before, it reached the guard and was counted and logged as an error).
    rig = Rig()
    rig.send("pack_ready")
    rig.send("tick")
    for bad in ({}, {"v_bus": "50", "v_pack": 50.0}, {"v_bus": True, "v_pack": 50.0},
                {"v_bus": float("nan"), "v_pack": 50.0}, None):
        rig.send("bus_voltage", bad)
        assert rig.state == "Precharge", bad
    assert rig.machine.malformed == 5 and rig.machine.exceptions == 0
    assert [r["reason"] for r in records(rig, "rejected")] == ["malformed"] * 5
    assert records(rig, "error") == []
    rig.send("bus_voltage", {"v_bus": 0.0, "v_pack": 0.0})
    assert rig.state == "Precharge", "a dead pack voltage is not a charged bus"


def test_action_failure_fails_safe_into_fault():
    rig = Rig()
    rig.to_run()
    rig.pins[1].value(1)  # something drove precharge behind the machine's back
    rig.contactors.commanded[1] = 1
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN
    assert rig.ctx.active_faults() == ["internal", "fault_latched"]
    assert records(rig, "transition")[-1]["transition"] == "Run->Fault"
    assert rig.send("reset") is True, "internal is a reset-type fault"


def test_interlock_blocks_closing_outside_permitted_states():
    rig = Rig()
    from drivers.contactors import POSITIVE
    assert rig.contactors.close(POSITIVE) is False
    assert rig.outputs() == OPEN and rig.contactors.refused == 1


def test_refused_interlock_during_precharge_entry_faults():
    rig = Rig()
    rig.machine._perms = tuple((False,) + p[1:] for p in rig.machine._perms)
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN


def test_close_main_refused_faults():
    rig = Rig()
    rig.send("pack_ready")
    rig.send("tick")
    rig.contactors.interlock = lambda: False
    rig.send("bus_voltage", {"v_bus": 50.0, "v_pack": 50.0})
    assert rig.state == "Fault" and rig.outputs() == OPEN
    assert rig.machine.exceptions == 1


def test_fault_error_in_fault_state_stays_in_fault_quietly():
    rig = Rig()
    rig.send("fault", {"diag": "cell_ov"})
    rig.contactors.commanded[2] = 1  # stale commanded flag; fault.tick re-opens
    rig.send("tick")
    assert rig.state == "Fault" and rig.contactors.all_open()


def test_transitions_are_logged_with_event_and_states():
    rig = Rig()
    rig.to_run()
    trans = records(rig, "transition")
    assert [(r["transition"], r["on"]) for r in trans] == [
        ("Init->Precharge", "tick"), ("Precharge->Run", "bus_voltage")]
    events = records(rig, "event")
    assert {"t_ms": rig.t - 200, "event": "bus_voltage", "v_bus": 49.6, "v_pack": 50.0} in events


def test_machine_without_log_works():
    rig = Rig(log=False)
    rig.to_run()
    rig.send("nonsense")
    rig.send("reset")
    rig.send("bus_voltage", {})
    assert rig.state == "Run" and rig.machine.rejected == 3


def test_unlogged_failures_still_fail_safe():
    rig = Rig(log=False)
    rig.to_run()
    rig.contactors.commanded[1] = 1
    rig.send("tick")
    assert rig.state == "Fault" and rig.outputs() == OPEN and rig.machine.exceptions == 1


def test_timeouts_survive_tick_wraparound():
    rig = Rig({"precharge_retries": 0, "precharge_timeout_ms": 1000})
    period = TICKS_PERIOD
    rig.t = period - 300  # the clock wraps while precharging
    rig.send("pack_ready")
    rig.send("tick")
    assert rig.state == "Precharge"
    for _ in range(9):
        rig.t = (rig.t + 100) % period
        rig.machine.dispatch("tick", rig.t)
    assert rig.state == "Precharge"
    rig.t = (rig.t + 100) % period
    rig.machine.dispatch("tick", rig.t)
    assert rig.state == "Fault"


def test_fault_names_come_from_the_diagnosis_table():
    rig = Rig()
    for i in range(diagnosis.COUNT):
        rig.send("fault", {"diag": diagnosis.ROWS[i][diagnosis.ID]})
    assert rig.ctx.active_faults() == [r[0] for r in diagnosis.ROWS]


class BrokenPin(MemoryPin):
    """An output whose driver fails (an I2C expander that stopped answering)."""

    def value(self, v=None):
        if v is not None and self.broken:
            raise OSError(5)
        return MemoryPin.value(self, v)


def test_a_failing_output_pin_still_opens_the_others_and_faults():
    rig = Rig()
    rig.to_run()
    broken = BrokenPin("positive")
    broken.broken = False
    broken.value(1)
    rig.contactors.pins = (rig.pins[0], rig.pins[1], broken)
    broken.broken = True
    rig.send("fault", {"diag": "cell_ov"})
    assert rig.state == "Fault"
    assert rig.pins[0].value() == 0 and rig.pins[1].value() == 0
    assert rig.machine.exceptions == 2  # the entry action, then the fail-safe retry
    assert records(rig, "error")[0]["on"] == "fault"
    rig.send("tick")  # Fault's tick re-opens, fails again, stays in Fault
    assert rig.state == "Fault" and rig.machine.exceptions == 4
    assert [r["transition"] for r in records(rig, "transition")][-1] == "Run->Fault"
