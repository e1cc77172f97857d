# The diagnosis table: every reason pyBMS warns or faults is one row here.
# The bus master, the state machine and the limit checks raise these ids; the
# Victron 0x35A alarms map from them; the safety report reads them. Add a reason by
# adding a row, never by an if-chain elsewhere.

from drivers.clock import ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

WARN = "warn"
FAULT = "fault"

# How an active diagnosis goes away:
CONDITION = "condition"  # when its condition has been absent for the debounce time
RESET = "reset"          # only by an operator reset (the event itself was the evidence)

# (id, severity, quantity, compare, threshold_key, set_ms, clear_ms, clears, text)
#   quantity/compare: what bms.checks compares against config[threshold_key]
#   (PackSummary attribute, ">" or "<"); None means the row is raised directly by
#   its owner (bus master, state machine) and threshold_key only documents the limit.
#   Units of quantities: mV, 0.1 degC, ms; thresholds come from config in V, degC, ms.
#   set_ms: the condition must hold this long before the row turns active;
#   clear_ms: a CONDITION row turns inactive once the condition has been absent this
#   long (a sporadic condition can be held visible longer than it lasts).
ROWS = (
    ("comm_loss", FAULT, None, None, "comm_fail_limit", 0, 0, CONDITION,
     "a module board stopped answering for comm_fail_limit cycles"),
    ("data_stale", FAULT, "age_ms", ">", "stale_ms", 0, 0, CONDITION,
     "module measurements are older than stale_ms"),
    ("module_count", FAULT, None, None, "module_count", 0, 0, CONDITION,
     "the number of boards on the bus differs from module_count"),
    ("comm_errors", WARN, None, None, None, 0, 10000, CONDITION,
     "corrupt or missing replies on the module bus (recovered by retry)"),
    ("board_fault", FAULT, None, None, None, 0, 0, CONDITION,
     "a module board reports a fault of its own (hardware COV/CUV/OT, self-test)"),
    ("board_alert", WARN, None, None, None, 0, 0, CONDITION,
     "a module board reports an alert"),
    ("temp_sensor", FAULT, "t_invalid", ">", None, 1000, 1000, CONDITION,
     "a thermistor reads open or shorted"),
    ("cell_ov", FAULT, "v_max", ">", "cell_v_max", 500, 500, CONDITION,
     "a cell is above cell_v_max"),
    ("cell_ov_warn", WARN, "v_max", ">", "cell_v_high_warn", 1000, 1000, CONDITION,
     "a cell is above cell_v_high_warn"),
    ("cell_uv", FAULT, "v_min", "<", "cell_v_min", 500, 500, CONDITION,
     "a cell is below cell_v_min"),
    ("cell_uv_warn", WARN, "v_min", "<", "cell_v_low_warn", 1000, 1000, CONDITION,
     "a cell is below cell_v_low_warn"),
    ("cell_imbalance", WARN, "spread", ">", "cell_spread_warn", 5000, 5000, CONDITION,
     "highest minus lowest cell exceeds cell_spread_warn"),
    ("temp_high", FAULT, "t_max", ">", "temp_max", 3000, 3000, CONDITION,
     "a module is above temp_max"),
    ("temp_high_warn", WARN, "t_max", ">", "temp_high_warn", 3000, 3000, CONDITION,
     "a module is above temp_high_warn"),
    ("temp_low", FAULT, "t_min", "<", "temp_min", 3000, 3000, CONDITION,
     "a module is below temp_min"),
    ("temp_low_warn", WARN, "t_min", "<", "temp_low_warn", 3000, 3000, CONDITION,
     "a module is below temp_low_warn"),
    ("contactor_feedback", FAULT, None, None, None, 200, 200, RESET,
     "a contactor's auxiliary contact disagrees with its command (welded, or not pulling in)"),
    ("precharge_failed", FAULT, None, None, "precharge_retries", 0, 0, RESET,
     "the bus did not charge within precharge_timeout_ms after all retries"),
    ("internal", FAULT, None, None, None, 0, 0, RESET,
     "BMS internal error: unexpected exception or an unknown diagnosis id"),
    ("fault_latched", FAULT, None, None, None, 0, 0, RESET,
     "the state machine latched a fault and keeps the battery off until an operator reset, "
     "even after the fault's own condition has cleared"),
    # --- charge control and heater (issue 16) -----------------------------------
    ("charge_overshoot", WARN, "v_max", ">", "charge_stop_cell_v", 2000, 10000, CONDITION,
     "a cell passed charge_stop_cell_v: a charger ignores CVL"),
    ("heater_ineffective", WARN, None, None, "heater_warn_s", 0, 0, CONDITION,
     "the heater did not warm the pack within heater_warn_s"),
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
TEXT = 8

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
INTERNAL = const(18)
FAULT_LATCHED = const(19)
CHARGE_OVERSHOOT = const(20)
HEATER_INEFFECTIVE = const(21)

COUNT = len(ROWS)
_INDEX = {}
for _i in range(COUNT):
    _INDEX[ROWS[_i][ID]] = _i


def _check_ids():
    names = globals()
    for i in range(COUNT):
        if names.get(ROWS[i][ID].upper()) != i:
            raise ImportError("diagnosis row %d (%s) has no constant %s = %d"
                              % (i, ROWS[i][ID], ROWS[i][ID].upper(), i))


_check_ids()


def index(diag_id):
    """Row index of an id named in an event or a log (text from outside); unknown
    ids map to `internal` so they still fault. Code uses the constants above."""
    return _INDEX.get(diag_id, INTERNAL)


def known(diag_id):
    return diag_id in _INDEX


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
        row = ROWS[i]
        if condition:
            self.detail[i] = detail
        if bool(condition) == bool(self.active[i]):
            self._pending[i] = 0
            return
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
        for i in range(COUNT):
            if self.active[i] and ROWS[i][SEVERITY] == severity:
                return True
        return False

    def active_ids(self):
        return [ROWS[i][ID] for i in range(COUNT) if self.active[i]]
