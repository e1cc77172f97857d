# The application end to end on memory parts: boots with everything open, reaches
# Run, keeps sending the Victron frames, and handles every kind of fault safely.

import gc

from bms import diagnosis as D
from fsm.eventlog import ListStream
from tests.fw.app_support import MemoryStore, Rig


def test_boots_open_then_precharges_to_run_and_reports():
    rig = Rig()
    assert rig.closed() == (0, 0, 0)
    rig.run(3000)
    assert rig.state == "Run", rig.state
    assert rig.closed() == (1, 0, 1)
    assert rig.sent(0x351) >= 2
    assert rig.allow.charge and rig.allow.discharge
    assert rig.app.sched.errors == [0] * len(rig.app.sched.errors)


def test_an_exception_in_any_task_opens_everything_and_faults_internal():
    rig = Rig()
    rig.run(3000)
    assert rig.state == "Run"
    rig.pack.explode = True
    rig.run(100)
    assert rig.state == "Fault"
    assert rig.closed() == (0, 0, 0)
    assert rig.app.task_errors >= 1
    assert rig.app.machine.faults[D.INTERNAL]
    assert not rig.allow.charge and not rig.allow.discharge
    n = rig.sent(0x351)
    rig.run(2000)   # the loop goes on: the GX keeps hearing why (limits 0)
    assert rig.sent(0x351) > n
    assert rig.state == "Fault"


def test_cell_overvoltage_latches_until_a_long_press_reset():
    rig = Rig()
    rig.run(3000)
    rig.pack.cells[3] = 4300
    rig.run(1500)
    assert rig.state == "Fault" and rig.closed() == (0, 0, 0)
    rig.pack.cells[3] = 3700
    rig.run(60000)   # long after the condition went: never re-closes unattended
    assert rig.state == "Fault" and rig.app.recovery.count == 0
    rig.reset_pin.value(0)   # a short press does nothing
    rig.run(500)
    rig.reset_pin.value(1)
    rig.run(500)
    assert rig.state == "Fault"
    rig.hold_reset()
    rig.run(3000)
    assert rig.state == "Run", rig.state


def test_comm_loss_resets_itself_at_most_n_times_a_day_then_latches():
    rig = Rig({"auto_resets_per_day": 2})
    rig.run(3000)
    for k in range(3):
        rig.pack.age = 5000          # data stale: the cable is out
        rig.run(1000)
        assert rig.state == "Fault", k
        rig.pack.age = 0             # back
        rig.run(8000)
        if k < 2:
            assert rig.state == "Run", (k, rig.state)
    assert rig.state == "Fault"
    assert rig.app.recovery.count == 2 and rig.app.recovery.exhausted
    rig.hold_reset()                 # the operator clears the count as well
    rig.run(3000)
    assert rig.state == "Run" and not rig.app.recovery.exhausted


def test_contactor_feedback_mismatch_faults():
    rig = Rig()
    rig.run(3000)
    rig.feedback[2].stuck = 0        # main positive did not pull in
    rig.run(1000)
    assert rig.state == "Fault"
    assert rig.app.machine.faults[D.CONTACTOR_FEEDBACK]


def test_connect_switch_disconnects_and_reconnects():
    rig = Rig()
    rig.run(3000)
    rig.connect_pin.value(1)         # switch opened: disconnect
    rig.run(500)
    assert rig.state == "Init" and rig.closed() == (0, 0, 0)
    rig.connect_pin.value(0)
    rig.run(3000)
    assert rig.state == "Run"


def test_a_latch_survives_a_reboot():
    store = MemoryStore()
    rig = Rig(store=store)
    rig.run(3000)
    rig.pack.cells[0] = 2500
    rig.run(1500)
    assert rig.state == "Fault"
    rig.pack.cells[0] = 3700
    rig.run(2000)
    del rig
    gc.collect()   # (a board holds one application, not three)
    # Power cut / watchdog reset: a new application on the same store.
    rig2 = Rig(store=store)
    assert rig2.state == "Fault" and rig2.closed() == (0, 0, 0)
    rig2.run(30000)
    assert rig2.state == "Fault"     # cell_uv latches: no automatic reset either
    kinds = [h[1] for h in rig2.persist.history()]
    assert "cell_uv" in kinds, kinds
    rig2.hold_reset()
    rig2.run(3000)
    assert rig2.state == "Run"
    del rig2
    gc.collect()
    rig3 = Rig(store=store)          # and the reset itself was persisted
    rig3.run(3000)
    assert rig3.state == "Run" and rig3.persist.boots == 3


def test_the_ring_log_holds_events_and_transitions_not_ticks():
    rig = Rig()
    rig.run(3000)
    lines = rig.ring.records()
    out = ListStream()
    rig.ring.dump(out, rig.cfg)
    assert '"log": "pybms-events"' in out.lines[0] and len(out.lines) == len(lines) + 1
    assert any('"transition": "Init->Precharge"' in x for x in lines), lines
    assert any('"transition": "Precharge->Run"' in x for x in lines), lines
    assert sum(1 for x in lines if '"event": "tick"' in x) == 2  # the two that moved it
