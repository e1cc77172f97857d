# Every plant scenario end to end, in process, against the real application
# (app/ through simulator/app_loop.py, accelerated): the safe outcome asserted from
# the plant's truth and the CAN log the firmware sent (tools/e2e/), the scenario's
# own expected outcome, fault reaction within the diagnosis budget, and the
# firmware's event log replaying to the same transitions. docs/testing.md says
# what runs where.

import pytest

from bms import diagnosis as D
from protocols.victron import FLAG_ACTIVE
from simulator import outcome, scenario
from tools import e2e


@pytest.fixture(scope="module")
def runs():
    return {}


def _run(runs, name):
    if name not in runs:
        runs[name] = e2e.run(name)
    return runs[name]


@pytest.mark.parametrize("name", scenario.names())
def test_scenario_end_to_end_keeps_every_invariant(name, runs):
    r = _run(runs, name)
    assert r.trace and r.can, "nothing ran"
    problems = e2e.invariant_problems(r)
    failed = [msg for _c, ok, msg in outcome.evaluate(r.scenario.expect, r.truth) if not ok]
    assert not problems and not failed, "%s: %s" % (name, "; ".join(problems + failed))
    assert e2e.replay_problem(r.log_lines) is None, e2e.replay_problem(r.log_lines)


@pytest.mark.parametrize("row", e2e.FAULTS, ids=[f[0] for f in e2e.FAULTS])
def test_fault_opens_contactors_and_raises_the_alarm_within_budget(row, runs):
    r = _run(runs, row[e2e.F_SCENARIO])
    x = e2e.reaction(r, row)
    step_ms = int(r.scenario.run["step_s"] * 1000)
    assert x["visible_ms"] is not None, "the fault never became visible in the plant"
    assert x["open_ms"] is not None, "contactors never opened: %r" % x
    assert x["open_ms"] <= x["debounce_ms"] + e2e.REACTION_GOAL_MS + step_ms, x
    assert x["alarm_ms"] is not None, "0x35A never showed %s" % (row[e2e.F_DIAG],)
    assert x["alarm_ms"] <= x["debounce_ms"] + r.cfg["can_period_ms"] + 2 * step_ms, x
    assert any(set(e2e.diag_ids(row)) & set(s["held"] + s["active"]) for s in r.trace)


def test_every_fault_scenario_and_service_scenario_is_classified():
    named = set(f[e2e.F_SCENARIO] for f in e2e.FAULTS) | set(e2e.SERVICE)
    assert named == set(scenario.names()), named ^ set(scenario.names())


def test_a_watchdog_reset_never_clears_a_latch():
    # Cell over-voltage latches at ~21 s; the firmware restarts (watchdog) at 40 s
    # and 60 s on the same flash: it boots with everything open, stays in Fault,
    # keeps the alarm on the bus, and no contactor closes again.
    r = e2e.run("cell-overvoltage", duration_s=75, restart_at_s=(40, 60))
    assert len(r.restarts) == 2
    after = [s for s in r.trace if s["t_ms"] > r.restarts[0]]
    assert after and all(s["state"] == "Fault" for s in after), after[0]["state"]
    assert not any(any(s["coils"]) for s in after)
    assert e2e.invariant_problems(r) == []
    place = e2e.alarm_place("cell_ov")
    last = [d for t, i, d, _ok in r.can if i == 0x35A and t > r.restarts[-1]]
    assert last and (last[-1][place[0]] >> place[1]) & 3 == FLAG_ACTIVE
    for lines in r.logs:
        assert e2e.replay_problem(lines) is None


def test_a_watchdog_reset_without_a_fault_comes_back_into_service():
    r = e2e.run("normal", duration_s=40, restart_at_s=(20,))
    states = [s["state"] for s in r.trace if s["t_ms"] > r.restarts[0]]
    assert states[0] != "Run" and states[-1] == "Run", (states[0], states[-1])
    assert e2e.invariant_problems(r) == []


def test_the_recorded_logs_replay_through_the_cli(tmp_path, runs):
    from tools import cli
    r = _run(runs, "comm-loss")
    events, can = tmp_path / "events.jsonl", tmp_path / "can.log"
    e2e.write_events(r.log_lines, str(events))
    e2e.write_candump(r, str(can))
    assert cli.main(["replay", str(events), "--check"]) == 0
    first = can.read_text().splitlines()[0]
    assert first.startswith("(") and " can0 " in first and "#" in first


def test_the_invariant_checks_catch_what_they_claim():
    # A recorded run with its evidence doctored: each check must say so.
    r = e2e.run("cell-overvoltage", duration_s=30)
    assert e2e.invariant_problems(r) == []
    t, i, d, ok = [c for c in r.can if c[1] == 0x351][-1]
    bad = bytearray(d)
    bad[2] = 100                                  # CCL 10 A while in Fault
    bad[0] = bad[1] = 0                           # CVL 0
    r.can.append((t + 1, 0x351, bytes(bad), ok))
    r.trace.append(dict(r.trace[-1], t_ms=t + 2, coils=(1, 0, 1)))
    text = " ".join(e2e.invariant_problems(r))
    assert "CVL = 0" in text and "CCL" in text and "re-closed" in text, text
    assert D.ROWS[D.CELL_OV][D.RECOVERY] == D.LATCH


def test_a_reset_right_after_a_fault_still_finds_the_latch():
    # The latch must be on flash the moment it is taken: a watchdog reset 100 ms
    # after the fault boots straight into Fault, no contactor closes.
    r = e2e.run("cell-overvoltage", duration_s=30)
    t_fault = [s["t_ms"] for s in r.trace if s["state"] == "Fault"][0]
    r = e2e.run("cell-overvoltage", duration_s=t_fault / 1000.0 + 4,
                restart_at_s=(t_fault / 1000.0 + 0.1,))
    after = [s for s in r.trace if s["t_ms"] > r.restarts[0]]
    assert all(s["state"] == "Fault" for s in after), [s["state"] for s in after[:5]]
    assert not any(any(s["coils"]) for s in after)
