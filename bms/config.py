# Configuration schema: one table that validation, docs, the serial console and the
# web page all read. Values live in a plain dict; nothing here allocates per cycle.

BOOL = "bool"
INT = "int"
FLOAT = "float"
CHOICE = "choice"

# (name, kind, default, low, high, unit, help)
# For CHOICE, `low` holds the tuple of allowed values and `high` is None.
SCHEMA = (
    # --- state machine -------------------------------------------------------
    ("auto_connect", BOOL, True, None, None, "",
     "close the contactors on their own once the pack is ready (after boot or a fault reset)"),
    ("precharge_mode", CHOICE, "voltage", ("voltage", "time"), None, "",
     "voltage: close main when the bus is within tolerance of the pack; time: after precharge_ms (boards without a bus sensor)"),
    ("precharge_ms", INT, 2000, 100, 30000, "ms",
     "precharge duration in time mode"),
    ("precharge_timeout_ms", INT, 5000, 500, 60000, "ms",
     "give up a precharge attempt after this long"),
    ("precharge_tolerance_v", FLOAT, 1.0, 0.1, 10.0, "V",
     "bus counts as charged when |V_pack - V_bus| is at most this"),
    ("precharge_retries", INT, 2, 0, 5, "",
     "further attempts after a failed precharge before latching a fault"),
    ("precharge_retry_delay_ms", INT, 10000, 1000, 600000, "ms",
     "pause between precharge attempts so the resistor cools"),
    # --- module bus ----------------------------------------------------------
    ("module_count", INT, 2, 1, 62, "",
     "module boards expected on the bus; fewer or more is a fault"),
    ("parallel_strings", INT, 1, 1, 31, "",
     "strings of series modules wired in parallel; module_count must divide evenly"),
    ("uart_baud", INT, 612500, 600000, 640000, "baud",
     "module bus baud rate; some boards need up to ~631000"),
    ("poll_ms", INT, 250, 50, 2000, "ms",
     "period of one measurement cycle over all boards"),
    ("stale_ms", INT, 750, 100, 5000, "ms",
     "data older than this counts as missing (must exceed poll_ms)"),
    ("comm_fail_limit", INT, 3, 1, 20, "",
     "consecutive failed cycles of one board before a communication fault"),
    # --- cell and temperature limits (diagnosis thresholds) -------------------
    ("cell_v_max", FLOAT, 4.20, 3.60, 4.25, "V", "cell over-voltage fault"),
    ("cell_v_high_warn", FLOAT, 4.15, 3.50, 4.25, "V", "cell over-voltage warning"),
    ("cell_v_low_warn", FLOAT, 3.20, 2.50, 3.80, "V", "cell under-voltage warning"),
    ("cell_v_min", FLOAT, 3.00, 2.50, 3.60, "V", "cell under-voltage fault"),
    ("cell_spread_warn", FLOAT, 0.10, 0.01, 1.00, "V", "cell imbalance warning (highest - lowest)"),
    ("temp_max", FLOAT, 65.0, 30.0, 80.0, "C", "over-temperature fault"),
    ("temp_high_warn", FLOAT, 55.0, 25.0, 80.0, "C", "over-temperature warning"),
    ("temp_low_warn", FLOAT, -5.0, -40.0, 20.0, "C", "under-temperature warning"),
    ("temp_min", FLOAT, -10.0, -40.0, 10.0, "C", "under-temperature fault"),
)

# Rules between two fields: (field_a, relation, field_b, only_if, message).
# "<" means a must be strictly less than b; only_if is None or (field, value) and
# limits the rule to configurations where that field has that value.
CROSS_CHECKS = (
    ("poll_ms", "<", "stale_ms", None, "stale_ms must exceed poll_ms or every cycle reads as stale"),
    ("cell_v_min", "<", "cell_v_low_warn", None, "the under-voltage warning must come before the fault"),
    ("cell_v_low_warn", "<", "cell_v_high_warn", None, "low warning must be below high warning"),
    ("cell_v_high_warn", "<", "cell_v_max", None, "the over-voltage warning must come before the fault"),
    ("temp_min", "<", "temp_low_warn", None, "the cold warning must come before the cold fault"),
    ("temp_low_warn", "<", "temp_high_warn", None, "cold warning must be below hot warning"),
    ("temp_high_warn", "<", "temp_max", None, "the hot warning must come before the hot fault"),
    ("precharge_ms", "<", "precharge_timeout_ms", ("precharge_mode", "time"),
     "time-mode precharge must end before its timeout"),
)


class ConfigError(ValueError):
    pass


def _row(name):
    for row in SCHEMA:
        if row[0] == name:
            return row
    return None


def coerce(name, value):
    """Check one value against its schema row; return it in the row's type.

    Raises ConfigError with a message a user can act on; never clamps.
    """
    row = _row(name)
    if row is None:
        raise ConfigError("unknown setting '%s'" % name)
    kind, low, high, unit = row[1], row[3], row[4], row[5]
    if kind == BOOL:
        if value is True or value is False:
            return value
        if value in ("true", "1", 1):
            return True
        if value in ("false", "0", 0):
            return False
        raise ConfigError("%s must be true or false, not %r" % (name, value))
    if kind == CHOICE:
        if value in low:
            return value
        raise ConfigError("%s must be one of %s, not %r" % (name, ", ".join(low), value))
    try:
        if kind == INT:
            if isinstance(value, float) and value != int(value):
                raise ValueError
            value = int(value)
        else:
            value = float(value)
    except (TypeError, ValueError):
        raise ConfigError("%s must be a%s number, not %r"
                          % (name, "n integer" if kind == INT else "", value))
    if value != value or value < low or value > high:  # value != value: NaN
        raise ConfigError("%s = %s is outside %s..%s %s" % (name, value, low, high, unit))
    return value


def defaults():
    d = {}
    for row in SCHEMA:
        d[row[0]] = row[2]
    return d


def check_cross(values):
    for a, rel, b, only_if, message in CROSS_CHECKS:
        if only_if is not None and values[only_if[0]] != only_if[1]:
            continue
        if rel == "<" and not values[a] < values[b]:
            raise ConfigError("%s (%s) vs %s (%s): %s" % (a, values[a], b, values[b], message))
    if values["module_count"] % values["parallel_strings"]:
        raise ConfigError("module_count (%d) is not a multiple of parallel_strings (%d)"
                          % (values["module_count"], values["parallel_strings"]))


def make(overrides=None):
    """Defaults with `overrides` applied and validated as a whole.

    Either every override is valid and the result is returned, or ConfigError is
    raised and nothing is changed: a bad field never half-applies.
    """
    values = defaults()
    if overrides:
        for name in overrides:
            values[name] = coerce(name, overrides[name])
    check_cross(values)
    return values
