# The BMS state machine as data. The runtime (fsm.machine), the diagram, the replay
# tool, the docs and the transitions-library oracle all read these tables; nothing
# decides behaviour by testing a state's name. What each state means and why it
# talks to the GX or not is documentation, kept off the board: tools/texts/fsm.py.

STATES = ("Init", "Precharge", "Run", "Balance", "Fault", "Shutdown")
INITIAL = "Init"

# Kinds of event fields, checked by fsm.machine before any guard runs.
NUMBER = "number"  # a finite int or float (not a bool, NaN or infinity)
TEXT = "text"      # a str

# Every event the machine understands, with exactly the fields it carries
# (docs/event-log.md lists the same; a test compares them). An event whose fields
# differ (one missing, one extra, one of the wrong kind, NaN) is malformed: the
# machine rejects it with reason "malformed" and nothing else happens.
EVENT_FIELDS = (
    ("tick", ()),                  # timer; drives timeouts and per-state periodic work
    ("pack_ready", ()),            # the pack answered completely and freshly for the first time
    ("connect", ()),               # operator (or boot) asks for the battery to be connected
    ("disconnect", ()),            # operator asks for the battery to be disconnected
    ("bus_voltage", (("v_bus", NUMBER), ("v_pack", NUMBER))),  # V, during precharge
    ("balance_needed", ()),        # balancer: cells spread enough to bleed
    ("balance_done", ()),          # balancer: spread back within limits
    ("fault", (("diag", TEXT),)),  # a fault-severity diagnosis turned active (its id)
    ("fault_cleared", (("diag", TEXT),)),  # that diagnosis's condition went away
    ("reset", ()),                 # operator asks to leave Fault
    ("shutdown", ()),              # operator or host asks for a permanent stop
)
EVENTS = tuple(row[0] for row in EVENT_FIELDS)

# (source, event, guard, action, dest)
# Rows for one (source, event) are tried in order; the first whose guard passes (or
# that has none) fires. dest None is an internal transition: no exit/entry actions.
# Order of a firing row: guard, exit(source), action, entry(dest).
# The action "on_tick" runs the source state's periodic tick (states/<state>.py).
TRANSITIONS = (
    ("Init", "tick", "start_due", None, "Precharge"),
    ("Init", "tick", None, "on_tick", None),
    ("Init", "pack_ready", None, "mark_pack_ready", None),
    ("Init", "connect", None, "request_connect", None),
    ("Init", "disconnect", None, "cancel_connect", None),
    ("Init", "fault", None, "record_fault", "Fault"),
    ("Init", "fault_cleared", None, "clear_fault", None),
    ("Init", "shutdown", None, None, "Shutdown"),

    ("Precharge", "bus_voltage", "bus_matches_pack", "close_main", "Run"),
    ("Precharge", "bus_voltage", None, None, None),
    ("Precharge", "tick", "precharge_time_done", "close_main", "Run"),
    ("Precharge", "tick", "precharge_expired_may_retry", "end_precharge_attempt", "Init"),
    ("Precharge", "tick", "precharge_expired", "precharge_failed", "Fault"),
    ("Precharge", "tick", None, "on_tick", None),
    ("Precharge", "pack_ready", None, "mark_pack_ready", None),
    ("Precharge", "disconnect", None, "cancel_connect", "Init"),
    ("Precharge", "fault", None, "record_fault", "Fault"),
    ("Precharge", "fault_cleared", None, "clear_fault", None),
    ("Precharge", "shutdown", None, None, "Shutdown"),

    ("Run", "tick", None, "on_tick", None),
    ("Run", "balance_needed", None, None, "Balance"),
    ("Run", "pack_ready", None, "mark_pack_ready", None),
    ("Run", "disconnect", None, "cancel_connect", "Init"),
    ("Run", "fault", None, "record_fault", "Fault"),
    ("Run", "fault_cleared", None, "clear_fault", None),
    ("Run", "shutdown", None, None, "Shutdown"),

    ("Balance", "tick", None, "on_tick", None),
    ("Balance", "balance_done", None, None, "Run"),
    ("Balance", "pack_ready", None, "mark_pack_ready", None),
    ("Balance", "disconnect", None, "cancel_connect", "Init"),
    ("Balance", "fault", None, "record_fault", "Fault"),
    ("Balance", "fault_cleared", None, "clear_fault", None),
    ("Balance", "shutdown", None, None, "Shutdown"),

    ("Fault", "tick", None, "on_tick", None),
    ("Fault", "fault", None, "record_fault", None),
    ("Fault", "fault_cleared", None, "clear_fault", None),
    ("Fault", "reset", "fault_resolved", "acknowledge_faults", "Init"),
    ("Fault", "pack_ready", None, "mark_pack_ready", None),
    ("Fault", "connect", None, "request_connect", None),
    ("Fault", "disconnect", None, "cancel_connect", None),
    ("Fault", "shutdown", None, None, "Shutdown"),

    ("Shutdown", "tick", None, "on_tick", None),
)

# The rule for an event with no row in the current state (stated here, applied by
# fsm.machine): it is rejected: logged with reason "no_row", counted, no action.
# An event whose rows all have failing guards is logged with reason "guard", counted,
# no action. An event name not in EVENTS is rejected with reason "unknown_event",
# one whose fields do not match EVENT_FIELDS with reason "malformed".
UNLISTED_EVENT_RULE = "reject"

# Where the machine goes when a guard, action, entry or tick raises (a coding error,
# never bad input: that is rejected above). The fail-safe opens every contactor and
# latches the reset-type `internal` diagnosis first. Shutdown stays Shutdown: it is
# already open and final, and a Fault could be reset into a reconnect.
FAIL_SAFE = (
    ("Init", "Fault"),
    ("Precharge", "Fault"),
    ("Run", "Fault"),
    ("Balance", "Fault"),
    ("Fault", "Fault"),
    ("Shutdown", "Shutdown"),
)

# Per-state permissions. Code asks these (fsm.machine.Machine.allows), never the name.
PERMISSION_NAMES = ("contactors", "can_tx", "balance", "charge", "discharge")
P_CONTACTORS = 0  # contactors may be closed
P_CAN_TX = 1      # Victron frames may be sent
P_BALANCE = 2     # balancing resistors may be switched on
P_CHARGE = 3      # charge current may be allowed (limits policy may still say 0)
P_DISCHARGE = 4   # discharge current may be allowed

PERMISSIONS = (
    # state       contactors can_tx balance charge discharge
    ("Init",      False,     True,  False,  False, False),
    ("Precharge", True,      True,  False,  False, False),
    ("Run",       True,      True,  False,  True,  True),
    ("Balance",   True,      True,  True,   True,  True),
    ("Fault",     False,     True,  False,  False, False),
    ("Shutdown",  False,     False, False,  False, False),
)


def state_index(name):
    return STATES.index(name)
