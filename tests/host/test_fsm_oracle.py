# The transitions library as an independent interpreter of fsm.table: random event
# sequences must drive it and the firmware machine through the same states, with
# the same contactor outputs, after every single event.

from hypothesis import HealthCheck, given, settings, strategies as st

from bms import config, diagnosis
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm import table
from fsm.context import Context
from fsm.guards import GUARDS
from fsm.machine import Machine
from tools.fsm_model import oracle, oracle_dispatch, transition_specs

DIAG_IDS = [row[0] for row in diagnosis.ROWS] + ["not_a_diagnosis"]

volts = st.one_of(st.floats(min_value=0, max_value=60, allow_nan=False),
                  st.sampled_from([50.0, 49.5, 49.0, 48.9]))
fields_for = {
    "fault": st.one_of(st.fixed_dictionaries({"diag": st.sampled_from(DIAG_IDS)}), st.none()),
    "fault_cleared": st.one_of(st.fixed_dictionaries({"diag": st.sampled_from(DIAG_IDS)}),
                               st.none()),
    "bus_voltage": st.one_of(
        st.fixed_dictionaries({"v_bus": volts, "v_pack": st.just(50.0)}),
        st.fixed_dictionaries({"v_bus": volts, "v_pack": volts}),
        st.just({}), st.just({"v_bus": "49.9", "v_pack": 50.0}), st.none(),
        st.just({"v_bus": float("inf"), "v_pack": 50.0}),
        st.just({"v_bus": 50.0, "v_pack": 50.0, "extra": 1})),
}
# Weighted so that random sequences get deep: precharge timeouts and retries,
# latched faults and resets, not only early shutdowns.
WEIGHTS = {"tick": 30, "pack_ready": 6, "bus_voltage": 12, "fault": 3, "fault_cleared": 9,
           "reset": 9, "connect": 6, "disconnect": 3, "balance_needed": 6,
           "balance_done": 3, "shutdown": 1}
event_names = st.sampled_from(
    [e for e in table.EVENTS for _ in range(WEIGHTS[e])] + ["no_such_event"])


@st.composite
def steps(draw):
    name = draw(event_names)
    fields = draw(fields_for[name]) if name in fields_for else None
    dt = draw(st.sampled_from([0, 1, 100, 250, 999, 1000, 3000, 5000, 12000]))
    return name, fields, dt


configs = st.fixed_dictionaries({
    "auto_connect": st.booleans(),
    "precharge_mode": st.sampled_from(["voltage", "time"]),
    "precharge_retries": st.integers(0, 3),
    "precharge_timeout_ms": st.sampled_from([2500, 5000]),
    "precharge_retry_delay_ms": st.sampled_from([1000, 10000]),
})


def run_both(overrides, sequence, specs=None, rows=None, guards=None):
    cfg = config.make(overrides)
    pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
    firmware = Machine(Context(cfg, Contactors(*pins)), transitions=rows,
                       guards=dict(GUARDS, **guards) if guards else None)
    firmware.start(0)
    model = oracle(cfg, 0, specs if rows is None else transition_specs(rows=rows), guards)
    t = 0
    for i, (name, fields, dt) in enumerate(sequence):
        t += dt
        fired = firmware.dispatch(name, t, dict(fields) if fields else fields)
        oracle_fired = oracle_dispatch(model, name, t, dict(fields) if fields else fields)
        where = "step %d: %s %r at %d" % (i, name, fields, t)
        assert firmware.state_name == model.state, where
        assert fired == oracle_fired, where
        assert tuple(p.value() for p in pins) == tuple(p.value() for p in model.pins), where
        assert firmware.ctx.active_faults() == model.ctx.active_faults(), where
        assert firmware.exceptions == model.exceptions, where  # the same fail-safes run
        assert firmware.malformed == model.malformed, where  # the same malformed events rejected
    return firmware, model


SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(configs, st.lists(steps(), min_size=20, max_size=100))
def test_firmware_machine_matches_transitions_oracle(overrides, sequence):
    run_both(overrides, sequence)


def _boom(ctx, t_ms, fields):
    raise ZeroDivisionError("a coding error in a guard")


# Every state gets a first tick row whose guard raises once the pack is ready.
def _raises_when_ready(ctx, t_ms, fields):
    if ctx.pack_ready:
        _boom(ctx, t_ms, fields)
    return False


RAISING_ROWS = tuple((s, "tick", "raises_when_ready", None, None) for s in table.STATES) + \
    table.TRANSITIONS


# Fewer examples than the main property: the fail-safe is reached within a few
# events of every pack_ready, so 100 sequences exercise it in every state.
@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(configs, st.lists(steps(), min_size=20, max_size=100))
def test_a_raising_guard_runs_the_same_fail_safe_in_both(overrides, sequence):
    run_both(overrides, sequence, rows=RAISING_ROWS,
             guards={"raises_when_ready": _raises_when_ready})


def test_the_raising_guard_really_runs_the_fail_safe_in_both():
    # Not vacuous: the same story through both interpreters reaches the fail-safe.
    story = [("pack_ready", None, 100), ("tick", None, 100), ("tick", None, 100),
             ("bus_voltage", {"v_bus": 50.0}, 100), ("reset", None, 100)]
    firmware, model = run_both({}, story, rows=RAISING_ROWS,
                               guards={"raises_when_ready": _raises_when_ready})
    assert firmware.exceptions == model.exceptions == 2  # Init, then again in Fault
    assert firmware.malformed == model.malformed == 1
    assert firmware.state_name == model.state == "Init"  # internal is reset-type


def _swap_rows(guard_a, guard_b):
    specs = transition_specs()
    i = [k for k, s in enumerate(specs) if s.get("conditions") == [guard_a]][0]
    j = [k for k, s in enumerate(specs) if s.get("conditions") == [guard_b]][0]
    specs[i], specs[j] = specs[j], specs[i]
    return specs


def test_the_property_catches_a_misordered_table():
    # Mutation check: an oracle whose table has two rows swapped must be caught,
    # proving the random sequences reach precharge retries, not just the start.
    mutated = _swap_rows("precharge_expired_may_retry", "precharge_expired")

    @SETTINGS
    @given(configs, st.lists(steps(), min_size=20, max_size=100))
    def prop(overrides, sequence):
        run_both(overrides, sequence, mutated)

    try:
        prop()
    except AssertionError:
        return
    raise AssertionError("the oracle property did not notice swapped rows")


def test_oracle_agrees_on_a_known_story():
    cfg = config.make()
    model = oracle(cfg)
    story = [("pack_ready", None), ("tick", None), ("bus_voltage", {"v_bus": 50.0, "v_pack": 50.0}),
             ("fault", {"diag": "cell_ov"}), ("reset", None)]
    states = []
    for i, (name, fields) in enumerate(story):
        oracle_dispatch(model, name, 100 * (i + 1), fields)
        states.append(model.state)
    assert states == ["Init", "Precharge", "Run", "Fault", "Fault"]
