# The firmware state-machine table handed to the `transitions` library: for the
# diagram (GraphMachine) and as an independent interpreter of the same table (the
# oracle in tests, the comparison in `pybms bench fsm`).

import math
import types

from bms import diagnosis
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm import table
from fsm.actions import ACTIONS
from fsm.context import Context
from fsm.guards import GUARDS
from fsm.machine import STATE_MODULES


def transition_specs(include_internal=True, rows=None):
    """The table (or `rows`, a variant of it) as transitions' list of dicts, in order."""
    specs = []
    for source, event, guard, action, dest in (table.TRANSITIONS if rows is None else rows):
        if dest is None and not include_internal:
            continue
        spec = {"trigger": event, "source": source, "dest": dest}
        if guard is not None:
            spec["conditions"] = [guard]
        if action is not None:
            spec["before"] = [action]
        specs.append(spec)
    return specs


def graph_machine(engine):
    """A GraphMachine of the state-changing rows, labelled `event [guard]`."""
    from transitions.extensions import GraphMachine

    class Drawing:
        pass

    model = Drawing()
    GraphMachine(model=model, states=list(table.STATES), initial=table.INITIAL,
                 transitions=transition_specs(include_internal=False),
                 auto_transitions=False, show_conditions=True, title="pyBMS",
                 graph_engine=engine)
    return model


class OracleModel:
    """A model for transitions.Machine whose guards and actions are the firmware's,
    bound to a context of its own; transitions decides which row fires."""

    def __init__(self, cfg):
        self.pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
        self.ctx = Context(cfg, Contactors(*self.pins))
        perms = dict((row[0], row[1 + table.P_CONTACTORS]) for row in table.PERMISSIONS)
        self.ctx.contactors.interlock = lambda: perms[self.state]
        self.exceptions = 0  # guards or actions that raised (each ran the fail-safe)
        self.malformed = 0   # events rejected because their fields were wrong
        self.machine = None


class _GuardRaised(Exception):
    """Carries a guard's exception out of transitions, which would otherwise go on
    to try the next row; oracle_dispatch runs the fail-safe instead."""


def _guard_method(fn):
    def method(self, event):
        try:
            return bool(fn(self.ctx, event.kwargs["t_ms"], event.kwargs.get("fields")))
        except Exception as e:
            raise _GuardRaised(e)
    return method


def _action_method(fn):
    def method(self, event):
        fn(self.ctx, event.kwargs["t_ms"], event.kwargs.get("fields"))
    return method


def _on_tick(self, event):
    module = STATE_MODULES[table.state_index(self.state)]
    tick = getattr(module, "tick", None)
    if tick is not None:
        tick(self.ctx, event.kwargs["t_ms"])


for _name, _fn in GUARDS.items():
    setattr(OracleModel, _name, _guard_method(_fn))
for _name, _fn in ACTIONS.items():
    setattr(OracleModel, _name, _action_method(_fn))
OracleModel.on_tick = _on_tick
for _state, _module in zip(table.STATES, STATE_MODULES):
    setattr(OracleModel, "on_enter_" + _state,
            (lambda m: lambda self, event: m.enter(self.ctx, event.kwargs["t_ms"]))(_module))


def oracle(cfg, t_ms=0, specs=None, guards=None):
    """A model driven by a transitions.Machine interpreting fsm.table (or `specs`,
    a variant of it, for mutation tests; `guards`: extra guard functions by name)."""
    import logging
    from transitions import Machine
    # Rejected events are expected traffic here, as on the board; keep them quiet.
    logging.getLogger("transitions").setLevel(logging.ERROR)
    model = OracleModel(cfg)
    for name, fn in (guards or {}).items():
        setattr(model, name, types.MethodType(_guard_method(fn), model))
    model.machine = Machine(model=model, states=list(table.STATES), initial=table.INITIAL,
            transitions=specs if specs is not None else transition_specs(),
            auto_transitions=False, send_event=True,
            ignore_invalid_triggers=True)
    STATE_MODULES[table.state_index(table.INITIAL)].enter(model.ctx, t_ms)
    return model


def well_formed(event, fields):
    """The table's field rule, written out independently of fsm.machine: exactly the
    fields fsm.table.EVENT_FIELDS names, numbers finite and not bool, text str."""
    spec = dict(table.EVENT_FIELDS)[event]
    given = {} if fields is None else fields
    if not isinstance(given, dict) or set(given) != set(name for name, _ in spec):
        return False
    for name, kind in spec:
        v = given[name]
        if kind == table.NUMBER:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return False
        elif not isinstance(v, str):
            return False
    return True


def _fail_safe(model, source, t_ms):
    """The table's rule for a guard or action that raised: every contactor open,
    `internal` and the latch held, the source state's FAIL_SAFE state."""
    model.exceptions += 1
    model.machine.set_state(dict(table.FAIL_SAFE)[source], model)
    model.ctx.contactors.open_all()
    model.ctx.hold_fault(diagnosis.INTERNAL)
    model.ctx.faults[diagnosis.FAULT_LATCHED] = 1
    model.ctx.entered_ms = t_ms


def oracle_dispatch(model, event, t_ms, fields=None):
    """Feed one event; unknown names and malformed fields are rejected as the
    firmware's rules say, and a raising guard or action runs the fail-safe."""
    if event not in table.EVENTS:
        return False
    if not well_formed(event, fields):
        model.malformed += 1
        return False
    source = model.state
    try:
        return model.trigger(event, t_ms=t_ms, fields=fields)
    except Exception:
        _fail_safe(model, source, t_ms)
        return True
