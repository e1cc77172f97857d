# The real application (app/) against the plant in process: what the board would
# log replays to the same transitions (`pybms replay --check`), a dangerous fault
# never re-closes unattended, a comm loss heals itself, and a restart of the
# firmware (watchdog, power cut) keeps the latch.

from simulator import harness, scenario
from tools import replay


def _replays(h):
    lines = h.loop.log_lines()
    taken, recorded, _has_header = replay.replay(replay.parse(lines))
    assert recorded, "the log recorded no transition"
    assert replay.first_difference(taken, recorded) is None, \
        replay.first_difference(taken, recorded)
    return recorded


def test_a_fault_run_logs_what_replays_to_the_same_transitions():
    s = scenario.load("cell-overvoltage")
    h, rows = harness.run_scenario(s, duration_s=s.test_duration_s)
    recorded = _replays(h)
    assert "Fault" in [r[2] for r in recorded], recorded
    assert rows[-1]["bms_state"] == "Fault"


def test_comm_loss_recovers_by_itself_once_the_cable_is_back():
    s = scenario.validate({
        "name": "comm-blip", "description": "cable out for 10 s", "duration_s": 120,
        "firmware": {"auto_reset_after_ms": 20000},
        "events": [{"at_s": 20, "kind": "ring_break", "module": 1},
                   {"at_s": 30, "kind": "ring_restore", "module": 1}],
        "expect": [{"at_end": ["bms_state", "==", "Run"]}]})
    h = harness.Harness(s)
    try:
        rows = h.run()
    finally:
        h.close()
    states = [r["bms_state"] for r in rows]
    assert "Fault" in states and states[-1] == "Run", states[-5:]
    assert h.fw.recovery.count == 1
    _replays(h)


def test_a_firmware_restart_keeps_the_latch():
    s = scenario.load("cell-overvoltage")
    h = harness.Harness(s)
    try:
        h.run(s.test_duration_s)
        assert h.fw.machine.state_name == "Fault"
        # Restart the firmware on the same flash: a new application, same files.
        h.boot(files=h.loop.files)
        assert h.fw.machine.state_name == "Fault"
        h.run(s.test_duration_s + 20)
        assert h.fw.machine.state_name == "Fault"
        assert h.plant.truth_row()["pos"] == 0
    finally:
        h.close()
