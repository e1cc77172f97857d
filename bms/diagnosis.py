# The diagnosis table: every reason pyBMS warns or faults is one row here.
# The bus master, the state machine and the limit checks raise these ids; the
# Victron 0x35A alarms map from them; the safety report reads them. Add a reason by
# adding a row, never by an if-chain elsewhere.

from bms.ticks import ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# The column values are const() strings so every row, and ROWS, is a constant
# tuple the compiler builds: frozen, the table lives in flash, not in RAM.
WARN = const("warn")
FAULT = const("fault")

# How an active diagnosis goes away:
CONDITION = const("condition")  # when its condition has been absent for the debounce time
RESET = const("reset")   # only by an operator reset (the event itself was the evidence)

# Who may leave the Fault state a FAULT row caused (the RECOVERY column):
LATCH = const("latch")  # only an operator reset (long press, console): the cause may be
                        # dangerous or a defect someone has to look at
AUTO = const("auto")    # the application may reset by itself once every fault condition
                        # has been gone for auto_reset_after_ms, at most
                        # auto_resets_per_day times a day (app/recovery.py); past that
                        # it latches too

# (id, severity, quantity, compare, threshold_key, set_ms, clear_ms, clears, recovery)
#   quantity/compare: what bms.checks compares against config[threshold_key]
#   (PackSummary attribute, ">" or "<"); None means the row is raised directly by
#   its owner (bus master, state machine) and threshold_key only documents the limit.
#   Units of quantities: mV, 0.1 degC, ms; thresholds come from config in V, degC, ms.
#   set_ms: the condition must hold this long before the row turns active;
#   clear_ms: a CONDITION row turns inactive once the condition has been absent this
#   long (a sporadic condition can be held visible longer than it lasts).
#   recovery: LATCH or AUTO, above (WARN rows never stop the battery: AUTO).
#   board_fault is AUTO (a board's brown-out or a glitch); the cell over- and
#   under-voltage a board also flags are seen by cell_ov/cell_uv, which latch.
# What each row means is host-side text (tools/texts/diagnosis.py), so it costs the
# board no RAM; tests/host/test_texts.py fails when a row has none.
ROWS = (
    ("comm_loss", FAULT, None, None, "comm_fail_limit", 0, 0, CONDITION, AUTO),
    ("data_stale", FAULT, "age_ms", ">", "stale_ms", 0, 0, CONDITION, AUTO),
    ("module_count", FAULT, None, None, "module_count", 0, 0, CONDITION, AUTO),
    ("comm_errors", WARN, None, None, None, 0, 10000, CONDITION, AUTO),
    ("board_fault", FAULT, None, None, None, 0, 0, CONDITION, AUTO),
    ("board_alert", WARN, None, None, None, 0, 0, CONDITION, AUTO),
    ("temp_sensor", FAULT, "t_invalid", ">", None, 1000, 1000, CONDITION, LATCH),
    ("cell_ov", FAULT, "v_max", ">", "cell_v_max", 500, 500, CONDITION, LATCH),
    ("cell_ov_warn", WARN, "v_max", ">", "cell_v_high_warn", 1000, 1000, CONDITION, AUTO),
    ("cell_uv", FAULT, "v_min", "<", "cell_v_min", 500, 500, CONDITION, LATCH),
    ("cell_uv_warn", WARN, "v_min", "<", "cell_v_low_warn", 1000, 1000, CONDITION, AUTO),
    ("cell_imbalance", WARN, "spread", ">", "cell_spread_warn", 5000, 5000, CONDITION, AUTO),
    ("temp_high", FAULT, "t_max", ">", "temp_max", 3000, 3000, CONDITION, LATCH),
    ("temp_high_warn", WARN, "t_max", ">", "temp_high_warn", 3000, 3000, CONDITION, AUTO),
    ("temp_low", FAULT, "t_min", "<", "temp_min", 3000, 3000, CONDITION, AUTO),
    ("temp_low_warn", WARN, "t_min", "<", "temp_low_warn", 3000, 3000, CONDITION, AUTO),
    ("contactor_feedback", FAULT, None, None, None, 200, 200, RESET, LATCH),
    ("precharge_failed", FAULT, None, None, "precharge_retries", 0, 0, RESET, LATCH),
    # --- pack current (drivers/current_sensor.py raises these) --------------------
    # A sensor fault opens the contactors like any fault: with the current unknown
    # and the pack connected, nothing could see an over-current, so limits go to zero.
    ("over_current_charge", FAULT, None, None, "current_oc_charge_a", 100, 1000, CONDITION, LATCH),
    ("over_current_discharge", FAULT, None, None, "current_oc_discharge_a", 100, 1000, CONDITION, LATCH),
    ("current_sensor", FAULT, None, None, "current_stale_ms", 0, 1000, CONDITION, LATCH),
    # --- charge control and heater (bms/charge.py, bms/heater.py) -----------------
    ("charge_overshoot", WARN, "v_max", ">", "charge_stop_cell_v", 2000, 10000, CONDITION, AUTO),
    ("heater_ineffective", WARN, None, None, "heater_warn_s", 0, 0, CONDITION, AUTO),
    ("internal", FAULT, None, None, None, 0, 0, RESET, LATCH),
    ("fault_latched", FAULT, None, None, None, 0, 0, RESET, LATCH),
    # The configuration file was refused at boot (app/boot.py): the firmware runs on
    # the defaults only to report why, with this condition active until a reboot
    # with a valid file, so no reset can let it connect a pack it may not describe.
    ("config_invalid", FAULT, None, None, None, 0, 0, CONDITION, LATCH),
)

# Column positions, so code reads names rather than magic numbers.
ID = 0
SEVERITY = 1
QUANTITY = 2
COMPARE = 3
THRESHOLD_KEY = 4
SET_MS = 5
CLEAR_MS = 6
CLEARS = 7
RECOVERY = 8

# Row numbers by name: code says diagnosis.CELL_OV, so a mistyped name is an error
# at import, never a silent `internal`. _check_ids ties every constant to its row
# when this module loads (as foxBMS ties its table to DIAG_ID_MAX): a row added,
# removed or moved without its constant stops the import.
COMM_LOSS = const(0)
DATA_STALE = const(1)
MODULE_COUNT = const(2)
COMM_ERRORS = const(3)
BOARD_FAULT = const(4)
BOARD_ALERT = const(5)
TEMP_SENSOR = const(6)
CELL_OV = const(7)
CELL_OV_WARN = const(8)
CELL_UV = const(9)
CELL_UV_WARN = const(10)
CELL_IMBALANCE = const(11)
TEMP_HIGH = const(12)
TEMP_HIGH_WARN = const(13)
TEMP_LOW = const(14)
TEMP_LOW_WARN = const(15)
CONTACTOR_FEEDBACK = const(16)
PRECHARGE_FAILED = const(17)
OVER_CURRENT_CHARGE = const(18)
OVER_CURRENT_DISCHARGE = const(19)
CURRENT_SENSOR = const(20)
CHARGE_OVERSHOOT = const(21)
HEATER_INEFFECTIVE = const(22)
INTERNAL = const(23)
FAULT_LATCHED = const(24)
CONFIG_INVALID = const(25)

COUNT = len(ROWS)


def _check_ids():
    names = globals()
    for i in range(COUNT):
        if names.get(ROWS[i][ID].upper()) != i:
            raise ImportError("diagnosis row %d (%s) has no constant %s = %d"
                              % (i, ROWS[i][ID], ROWS[i][ID].upper(), i))


_check_ids()
del _check_ids             # import-time only: its code would stay in a board's heap


def index(diag_id):
    """Row index of an id named in an event or a log (text from outside); unknown
    ids map to `internal` so they still fault. Code uses the constants above."""
    i = _find(diag_id)
    return INTERNAL if i < 0 else i


def known(diag_id):
    return _find(diag_id) >= 0


def _find(diag_id):
    # A scan, not a dict built at import: ids come from outside only at setup and
    # replay, and a dict would hold RAM the frozen table does not.
    for i in range(COUNT):
        if ROWS[i][ID] == diag_id:
            return i
    return -1


def any_active(active, severity):
    """True when a row of `severity` is set in `active` (a bytearray by row, such as
    Diagnosis.active or the state machine's held faults)."""
    for i in range(COUNT):
        if active[i] and ROWS[i][SEVERITY] == severity:
            return True
    return False


class Diagnosis:
    """Debounced active/inactive state of every row.

    `report(i, condition, t_ms)` is called every time the owner evaluates the
    condition; the row turns active once the condition has held for its set_ms
    and inactive once it has been absent for its clear_ms. `on_change(i, active,
    t_ms)` hears every flip (the main loop turns FAULT flips into state-machine
    events). RESET rows only leave through `acknowledge()`.
    """

    def __init__(self, on_change=None):
        self.on_change = on_change
        self.active = bytearray(COUNT)
        self.detail = [0] * COUNT        # e.g. which board or cell, for reports
        self._pending = bytearray(COUNT)  # condition differs from `active` since...
        self._since = [0] * COUNT

    def report(self, i, condition, t_ms, detail=0):
        # The steady case first, without bool() calls or the row: checks, the bus
        # master and the tasks report ~20 rows a pass (~1 k Cortex-M0 instructions
        # a call saved).
        if condition:
            self.detail[i] = detail
            if self.active[i]:
                self._pending[i] = 0
                return
        elif not self.active[i]:
            self._pending[i] = 0
            return
        row = ROWS[i]
        if condition == 0 and row[CLEARS] == RESET:
            return
        if not self._pending[i]:
            self._pending[i] = 1
            self._since[i] = t_ms
        if ticks_diff(t_ms, self._since[i]) >= row[SET_MS if condition else CLEAR_MS]:
            self._set(i, 1 if condition else 0, t_ms)

    def latch(self, i, t_ms, detail=0):
        """Set a row at once (no debounce): for evidence that is an event, not a level."""
        self.detail[i] = detail
        if not self.active[i]:
            self._set(i, 1, t_ms)

    def acknowledge(self, t_ms):
        """Operator reset: clear RESET rows (CONDITION rows clear themselves)."""
        for i in range(COUNT):
            if self.active[i] and ROWS[i][CLEARS] == RESET:
                self._set(i, 0, t_ms)

    def _set(self, i, value, t_ms):
        self.active[i] = value
        self._pending[i] = 0
        if self.on_change is not None:
            self.on_change(i, value, t_ms)

    def any_active(self, severity):
        return any_active(self.active, severity)

    def active_ids(self):
        return [ROWS[i][ID] for i in range(COUNT) if self.active[i]]
