# The table-driven state machine. It interprets fsm.table; behaviour changes by
# editing the table, not this file. Dispatching an event allocates nothing when no
# log is attached (checked on MicroPython by tests/fw/test_machine_alloc.py).
#
# Two kinds of trouble, kept apart (as foxBMS separates return codes from traps):
# - bad input, an event whose fields do not match fsm.table.EVENT_FIELDS, is
#   rejected before any guard sees it and changes nothing;
# - a coding error, anything raised inside a guard, action, entry or tick, takes the
#   fail-safe path: contactors open, `internal` latched, fsm.table.FAIL_SAFE state.

from bms import diagnosis
# What the machine reads while it runs, bound here; the rest of fsm.table (the
# transition rows, permissions, fail-safe pairs) only while it is built, through
# an import inside __init__: nothing running keeps fsm.table itself, so a board
# forgets it once the App is made (app.entry.BUILD_ONLY), and its tuples with it.
from fsm.table import EVENT_FIELDS, EVENTS, NUMBER, P_CONTACTORS, STATES
from fsm.actions import ACTIONS
from fsm.guards import GUARDS
from states import balance, fault, init, precharge, run, shutdown

# Same order as table.STATES.
STATE_MODULES = (init, precharge, run, balance, fault, shutdown)
FAULT = STATES.index("Fault")
NO_DEST = 255                      # _dest of a row without destination (internal)
_EVENT_COUNT = len(EVENTS)

_INF = float("inf")
_NINF = -_INF


def _nothing(ctx, t_ms):
    pass


def _is_number(v):
    # Two isinstance calls, not isinstance(v, (int, float)): that tuple would be
    # built on every call, and a valid event must not allocate.
    if v is True or v is False or not (isinstance(v, int) or isinstance(v, float)):
        return False
    return v == v and v != _INF and v != _NINF


def field_problem(spec, fields):
    """None when `fields` carries exactly the fields `spec` (a row of
    fsm.table.EVENT_FIELDS) names, each of its kind; otherwise a sentence naming the
    first problem. Allocates only on the failing path."""
    if fields is None or (isinstance(fields, dict) and not fields):
        if not spec:
            return None
        return "needs " + ", ".join([name for name, _kind in spec])
    if not isinstance(fields, dict):
        return "fields must be an object, not %r" % (fields,)
    for name, kind in spec:
        if name not in fields:
            return "missing field %s" % name
        v = fields[name]
        if kind == NUMBER:
            if not _is_number(v):
                return "%s must be a finite number, not %r" % (name, v)
        elif not isinstance(v, str):
            return "%s must be text, not %r" % (name, v)
    if len(fields) != len(spec):
        return "unexpected field %s" % _extra(spec, fields)
    return None


def _extra(spec, fields):
    # Its own function: a comprehension over `spec` inside field_problem would make
    # a closure cell there, allocated on every call.
    names = [name for name, _kind in spec]
    return ", ".join(sorted([str(k) for k in fields if k not in names]))


class Machine:
    def __init__(self, ctx, log=None, transitions=None, guards=None):
        """`transitions` and `guards` default to fsm.table.TRANSITIONS and
        fsm.guards.GUARDS; tests pass variants (a guard that raises, say)."""
        from fsm import table
        self.ctx = ctx
        self.log = log
        self.state = STATES.index(table.INITIAL)
        self.rejected = 0    # events not acted on: unknown, malformed or no row
        self.malformed = 0   # ... of which fields did not match EVENT_FIELDS
        self.denied = 0      # events whose rows' guards all failed
        self.exceptions = 0  # exceptions caught in guards, actions, entries, ticks
        self._event_index = dict((EVENTS[i], i) for i in range(len(EVENTS)))
        self._enter = tuple(m.enter for m in STATE_MODULES)
        self._exit = tuple(getattr(m, "exit", _nothing) for m in STATE_MODULES)
        perms = [None] * len(STATES)
        for row in table.PERMISSIONS:
            perms[STATES.index(row[0])] = row[1:]
        self._perms = tuple(perms)
        safe = [None] * len(STATES)
        for source, dest in table.FAIL_SAFE:
            safe[STATES.index(source)] = STATES.index(dest)
        self._fail_safe_state = tuple(safe)
        self._index(table.TRANSITIONS if transitions is None else transitions,
                    GUARDS if guards is None else guards)
        ctx.contactors.interlock = self._contactors_permitted

    def _index(self, rows, guards):
        """The transition table resolved once, in flat tables (a tuple per row and a
        dict per state took 2.7 KB of a board's heap; these take ~0.5 KB): the rows
        of state s and event e, in table order, are _order[_start[s * E + e] :
        _start[s * E + e + 1]]; row r's guard and action are _fns[2 r], _fns[2 r + 1]
        (None: none), its destination _dest[r] (NO_DEST: an internal transition)."""
        if len(rows) >= NO_DEST:
            raise ValueError("fsm: %d transition rows, at most %d" % (len(rows), NO_DEST - 1))
        keys = [STATES.index(row[0]) * _EVENT_COUNT + EVENTS.index(row[1])
                for row in rows]
        start = bytearray(len(STATES) * _EVENT_COUNT + 1)
        for key in keys:
            start[key + 1] += 1
        for k in range(1, len(start)):
            start[k] += start[k - 1]
        order = bytearray(len(rows))   # bucket by key, table order kept within one
        free = bytearray(start)
        for r in range(len(rows)):
            order[free[keys[r]]] = r
            free[keys[r]] += 1
        fns = [None] * (2 * len(rows))   # sized once: no growth garbage at boot
        dest = bytearray(len(rows))
        for r in range(len(rows)):
            source, _event, guard, action, to = rows[r]
            if action == "on_tick":
                fns[2 * r + 1] = self._tick_action(STATE_MODULES[STATES.index(source)])
            elif action is not None:
                fns[2 * r + 1] = ACTIONS[action]
            if guard is not None:
                fns[2 * r] = guards[guard]
            dest[r] = STATES.index(to) if to is not None else NO_DEST
        self._order = bytes(order)
        self._start = bytes(start)
        self._fns = tuple(fns)
        self._dest = bytes(dest)

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
        return STATES[self.state]

    @property
    def faults(self):
        """Fault diagnoses the machine holds (bytearray by diagnosis row): the faults
        it raised itself and the latch that waits for a reset. 0x35A shows them."""
        return self.ctx.faults

    def allows(self, permission):
        """Ask the permission table (fsm.table.P_*) for the current state."""
        return self._perms[self.state][permission]

    def _contactors_permitted(self):
        return self._perms[self.state][P_CONTACTORS]

    def dispatch(self, event, t_ms, fields=None):
        """Feed one event. Returns True when the machine acted on it (a row fired,
        or a guard raised and the fail-safe ran), False when it was rejected or
        every guard said no."""
        log = self.log
        if log is not None:
            log.event(t_ms, event, fields)
        ev = self._event_index.get(event)
        if ev is None:
            return self._reject(t_ms, event, "unknown_event", None)
        problem = field_problem(EVENT_FIELDS[ev][1], fields)
        if problem is not None:
            self.malformed += 1
            return self._reject(t_ms, event, "malformed", problem)
        at = self.state * _EVENT_COUNT + ev
        first = self._start[at]
        end = self._start[at + 1]
        if first == end:
            return self._reject(t_ms, event, "no_row", None)
        fns = self._fns
        for k in range(first, end):
            r = self._order[k]
            guard = fns[2 * r]
            if guard is not None:
                try:
                    passed = guard(self.ctx, t_ms, fields)
                except Exception as e:  # a coding error: the fields were checked
                    self._fail_safe(t_ms, event, self.state, "guard", e)
                    return True
                if not passed:
                    continue
            dest = self._dest[r]
            self._fire(event, t_ms, fields, fns[2 * r + 1], dest if dest != NO_DEST else None)
            return True
        self.denied += 1
        if log is not None:
            log.rejected(t_ms, event, STATES[self.state], "guard")
        return False

    def _reject(self, t_ms, event, reason, detail):
        self.rejected += 1
        if self.log is not None:
            self.log.rejected(t_ms, event, STATES[self.state], reason, detail)
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
            self._fail_safe(t_ms, event, source, "action", e)
            return
        if dest is not None and self.log is not None:
            self.log.transition(t_ms, event, STATES[source], STATES[dest])

    def _fail_safe(self, t_ms, event, source, where, error):
        """A guard, action, entry or tick raised: open everything, latch an internal
        fault, go to the source's fail-safe state (fsm.table.FAIL_SAFE)."""
        ctx = self.ctx
        self.exceptions += 1
        dest = self._fail_safe_state[source]
        self.state = dest
        try:
            ctx.contactors.open_all()
        except Exception:  # nothing more software can do; every other pin is open
            self.exceptions += 1
        ctx.hold_fault(diagnosis.INTERNAL)
        ctx.faults[diagnosis.FAULT_LATCHED] = 1
        ctx.entered_ms = t_ms
        if self.log is not None:
            self.log.error(t_ms, event, "%s: %r" % (where, error))
            if source != dest:
                self.log.transition(t_ms, event, STATES[source], STATES[dest])
