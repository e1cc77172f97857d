# The table-driven state machine. It interprets fsm.table; behaviour changes by
# editing the table, not this file. Dispatching an event allocates nothing when no
# log is attached (checked on MicroPython by tests/fw/test_machine_alloc.py).

from bms import diagnosis
from fsm import table
from fsm.actions import ACTIONS
from fsm.guards import GUARDS
from states import balance, fault, init, precharge, run, shutdown

# Same order as table.STATES.
STATE_MODULES = (init, precharge, run, balance, fault, shutdown)
FAULT = table.state_index("Fault")


def _nothing(ctx, t_ms):
    pass


class Machine:
    def __init__(self, ctx, log=None):
        self.ctx = ctx
        self.log = log
        self.state = table.state_index(table.INITIAL)
        self.rejected = 0  # events with no row in the current state
        self.denied = 0    # events whose rows' guards all failed
        self.errors = 0    # guards or actions that raised
        self._known = table.EVENTS
        self._enter = tuple(m.enter for m in STATE_MODULES)
        self._exit = tuple(getattr(m, "exit", _nothing) for m in STATE_MODULES)
        perms = [None] * len(table.STATES)
        for row in table.PERMISSIONS:
            perms[table.state_index(row[0])] = row[1:]
        self._perms = tuple(perms)
        self._rows = tuple(self._index(s) for s in range(len(table.STATES)))
        ctx.contactors.interlock = self._contactors_permitted

    def _index(self, s):
        """event -> ((guard, action, dest), ...) for state s, in table order."""
        name = table.STATES[s]
        by_event = {}
        for source, event, guard, action, dest in table.TRANSITIONS:
            if source != name:
                continue
            if action == "on_tick":
                fn = self._tick_action(STATE_MODULES[s])
            else:
                fn = ACTIONS[action] if action is not None else None
            entry = (GUARDS[guard] if guard is not None else None, fn,
                     table.state_index(dest) if dest is not None else None)
            by_event[event] = by_event.get(event, ()) + (entry,)
        return by_event

    @staticmethod
    def _tick_action(module):
        tick = getattr(module, "tick", _nothing)

        def on_tick(ctx, t_ms, fields):
            tick(ctx, t_ms)
        return on_tick

    def start(self, t_ms):
        """Run the initial state's entry (contactors open, clocks started)."""
        self._enter[self.state](self.ctx, t_ms)

    @property
    def state_name(self):
        return table.STATES[self.state]

    @property
    def faults(self):
        """Fault diagnoses the machine holds (bytearray by diagnosis row): the faults
        it raised itself and the latch that waits for a reset. 0x35A shows them."""
        return self.ctx.faults

    def allows(self, permission):
        """Ask the permission table (fsm.table.P_*) for the current state."""
        return self._perms[self.state][permission]

    def _contactors_permitted(self):
        return self._perms[self.state][table.P_CONTACTORS]

    def dispatch(self, event, t_ms, fields=None):
        """Feed one event. Returns True when a row fired, False when rejected."""
        log = self.log
        if log is not None:
            log.event(t_ms, event, fields)
        rows = self._rows[self.state].get(event)
        if rows is None:
            self.rejected += 1
            if log is not None:
                log.rejected(t_ms, event, table.STATES[self.state],
                             "no_row" if event in self._known else "unknown_event")
            return False
        for guard, action, dest in rows:
            if guard is not None:
                try:
                    if not guard(self.ctx, t_ms, fields):
                        continue
                except Exception as e:  # a malformed event must not stop the BMS
                    self.errors += 1
                    if log is not None:
                        log.error(t_ms, event, "guard: %r" % (e,))
                    continue
            self._fire(event, t_ms, fields, action, dest)
            return True
        self.denied += 1
        if log is not None:
            log.rejected(t_ms, event, table.STATES[self.state], "guard")
        return False

    def _fire(self, event, t_ms, fields, action, dest):
        ctx = self.ctx
        source = self.state
        try:
            if dest is not None:
                self._exit[source](ctx, t_ms)
            if action is not None:
                action(ctx, t_ms, fields)
            if dest is not None:
                self.state = dest
                self._enter[dest](ctx, t_ms)
        except Exception as e:
            self._fail_safe(t_ms, event, source, e)
            return
        if dest is not None and self.log is not None:
            self.log.transition(t_ms, event, table.STATES[source], table.STATES[dest])

    def _fail_safe(self, t_ms, event, source, error):
        """An action raised: open everything, latch an internal fault, go to Fault."""
        ctx = self.ctx
        self.errors += 1
        self.state = FAULT
        try:
            ctx.contactors.open_all()
        except Exception:  # nothing more software can do; every other pin is open
            self.errors += 1
        ctx.hold_fault(diagnosis.INTERNAL)
        ctx.faults[diagnosis.FAULT_LATCHED] = 1
        ctx.entered_ms = t_ms
        if self.log is not None:
            self.log.error(t_ms, event, "action: %r" % (error,))
            if source != FAULT:
                self.log.transition(t_ms, event, table.STATES[source], "Fault")
