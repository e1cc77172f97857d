# Configuration schema: one table that validation, docs, the serial console and the
# web page all read. Values live in a plain dict; nothing here allocates per cycle.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# const(): the compiler puts the kind's string in every row itself, so each row
# and the whole SCHEMA are constant tuples: frozen into a board image they stay in
# flash instead of being built in RAM at import (a name lookup in a row would make
# the row, and the table holding it, a tuple built at run time).
BOOL = const("bool")
INT = const("int")
FLOAT = const("float")
CHOICE = const("choice")

# (name, kind, default, low, high, unit); read a row by the column names below.
# For CHOICE, `low` holds the tuple of allowed values and `high` is None.
# What each setting means is host-side text (tools/texts/config.py), so the help
# costs the board no RAM; tests/host/test_texts.py fails when a setting has none.
SCHEMA = (
    # --- state machine -------------------------------------------------------
    ("auto_connect", BOOL, True, None, None, ""),
    ("precharge_mode", CHOICE, "voltage", ("voltage", "time"), None, ""),
    ("precharge_ms", INT, 2000, 100, 30000, "ms"),
    ("precharge_timeout_ms", INT, 5000, 500, 60000, "ms"),
    ("precharge_tolerance_v", FLOAT, 1.0, 0.1, 10.0, "V"),
    ("precharge_retries", INT, 2, 0, 5, ""),
    ("precharge_retry_delay_ms", INT, 10000, 1000, 600000, "ms"),
    ("precharge_overlap_ms", INT, 200, 0, 2000, "ms"),
    # --- module bus ----------------------------------------------------------
    ("module_count", INT, 2, 1, 62, ""),
    ("parallel_strings", INT, 1, 1, 31, ""),
    ("uart_baud", INT, 612500, 600000, 640000, "baud"),
    ("poll_ms", INT, 250, 50, 2000, "ms"),
    ("stale_ms", INT, 750, 100, 5000, "ms"),
    ("comm_fail_limit", INT, 3, 1, 20, ""),
    ("bus_timeout_ms", INT, 4, 1, 200, "ms"),
    ("bus_retries", INT, 2, 0, 5, ""),
    ("bus_retry_budget", INT, 8, 0, 64, ""),
    ("bus_check_drdy", BOOL, True, None, None, ""),
    ("bus_module_tolerance_v", FLOAT, 0.25, 0.02, 1.0, "V"),
    ("bus_read_crc", BOOL, False, None, None, ""),
    ("bus_reset_wait_ms", INT, 100, 0, 1000, "ms"),
    ("hw_cov_v", FLOAT, 4.25, 3.6, 4.5, "V"),
    ("hw_cuv_v", FLOAT, 2.8, 1.5, 3.3, "V"),
    ("hw_ot_c", FLOAT, 70.0, 40.0, 90.0, "C"),
    ("hw_delay_ms", INT, 1000, 100, 2500, "ms"),
    ("balance_v", FLOAT, 3.9, 3.4, 4.2, "V"),
    ("balance_delta_v", FLOAT, 0.04, 0.005, 0.5, "V"),
    ("balance_time_s", INT, 10, 1, 600, "s"),
    # --- cell and temperature limits (diagnosis thresholds) -------------------
    ("cell_v_max", FLOAT, 4.2, 3.6, 4.25, "V"),
    ("cell_v_high_warn", FLOAT, 4.15, 3.5, 4.25, "V"),
    ("cell_v_low_warn", FLOAT, 3.2, 2.5, 3.8, "V"),
    ("cell_v_min", FLOAT, 3.0, 2.5, 3.6, "V"),
    ("cell_spread_warn", FLOAT, 0.1, 0.01, 1.0, "V"),
    ("temp_max", FLOAT, 65.0, 30.0, 80.0, "C"),
    ("temp_high_warn", FLOAT, 55.0, 25.0, 80.0, "C"),
    ("temp_low_warn", FLOAT, -5.0, -40.0, 20.0, "C"),
    ("temp_min", FLOAT, -10.0, -40.0, 10.0, "C"),
    # --- limits and Victron (bms/limits.py, protocols/victron) -----------------
    ("charge_cell_v", FLOAT, 4.1, 3.8, 4.2, "V"),
    ("charge_taper_cell_v", FLOAT, 4.0, 3.7, 4.15, "V"),
    ("discharge_taper_cell_v", FLOAT, 3.4, 3.1, 3.8, "V"),
    ("discharge_cell_v", FLOAT, 3.25, 2.8, 3.6, "V"),
    ("limit_hysteresis_v", FLOAT, 0.05, 0.01, 0.3, "V"),
    ("taper_floor_pct", INT, 10, 1, 100, "%"),
    ("max_charge_a", FLOAT, 50.0, 0.0, 1000.0, "A"),
    ("max_discharge_a", FLOAT, 100.0, 0.0, 1000.0, "A"),
    ("charge_temp_min", FLOAT, 0.0, -20.0, 15.0, "C"),
    ("charge_temp_full", FLOAT, 10.0, -10.0, 25.0, "C"),
    ("charge_temp_derate", FLOAT, 40.0, 20.0, 60.0, "C"),
    ("charge_temp_max", FLOAT, 50.0, 25.0, 70.0, "C"),
    ("discharge_temp_derate", FLOAT, 50.0, 20.0, 70.0, "C"),
    ("discharge_temp_max", FLOAT, 60.0, 25.0, 75.0, "C"),
    ("module_capacity_ah", INT, 232, 1, 2000, "Ah"),
    ("soh_pct", INT, 100, 1, 100, "%"),
    ("can_period_ms", INT, 1000, 200, 1500, "ms"),
    # --- application (app/) ----------------------------------------------------
    ("auto_reset_after_ms", INT, 60000, 5000, 3600000, "ms"),
    ("auto_resets_per_day", INT, 3, 0, 20, ""),
    # --- charge control, derating, heater, balancer (issue 16; docs/charging.md) --
    ("float_cell_v", FLOAT, 4.0, 3.8, 4.15, "V"),
    ("charge_stop_cell_v", FLOAT, 4.11, 3.85, 4.22, "V"),
    ("absorption_tail_a", FLOAT, 5.0, 0.5, 200.0, "A"),
    ("absorption_spread_v", FLOAT, 0.015, 0.003, 0.1, "V"),
    ("absorption_hold_s", INT, 600, 10, 14400, "s"),
    ("absorption_max_s", INT, 7200, 300, 43200, "s"),
    ("rebulk_cell_v", FLOAT, 3.95, 3.6, 4.1, "V"),
    ("rebulk_soc_pct", INT, 90, 10, 99, "%"),
    ("full_charge_days", INT, 7, 0, 60, "days"),
    ("temp_hysteresis_c", FLOAT, 2.0, 0.5, 10.0, "C"),
    ("limit_ramp_s", INT, 60, 0, 600, "s"),
    ("heater_enabled", BOOL, False, None, None, ""),
    ("heater_hysteresis_c", FLOAT, 3.0, 0.5, 15.0, "C"),
    ("heater_max_on_s", INT, 7200, 60, 86400, "s"),
    ("heater_warn_s", INT, 1800, 60, 86400, "s"),
    ("balance_start_v", FLOAT, 0.008, 0.002, 0.1, "V"),
    ("balance_band_v", FLOAT, 0.003, 0.0, 0.05, "V"),
    ("balance_floor_v", FLOAT, 3.6, 3.0, 4.1, "V"),
    ("balance_temp_max", FLOAT, 50.0, 30.0, 80.0, "C"),
    # === current sensor and state of charge (drivers/current_sensor.py, bms/soc.py) ===
    # One block for issue 15; rules a "<" row cannot say: _check_current_sensor().
    ("current_sensor", CHOICE, "none", ("none", "mcp3421_hall", "ina228_shunt"), None, ""),
    ("current_i2c_address", INT, 0, 0, 127, ""),
    ("current_direction", INT, 1, -1, 1, ""),
    ("current_sample_ms", INT, 50, 20, 100, "ms"),
    ("current_stale_ms", INT, 500, 100, 5000, "ms"),
    ("current_max_a", FLOAT, 200.0, 1.0, 5000.0, "A"),
    ("current_offset_ma", INT, 0, -50000, 50000, "mA"),
    ("current_hall_divider", FLOAT, 2.5, 1.0, 10.0, ""),
    ("current_hall_zero_v", FLOAT, 2.5, 0.0, 5.0, "V"),
    ("current_hall_mv_per_a", FLOAT, 10.0, 0.1, 1000.0, "mV/A"),
    ("current_hall_bits", INT, 16, 12, 16, "bit"),
    ("current_hall_gain", INT, 1, 1, 8, ""),
    ("current_shunt_uohm", INT, 100, 10, 100000, "uOhm"),
    ("current_shunt_avg", INT, 16, 1, 1024, ""),
    ("current_oc_charge_a", FLOAT, 150.0, 1.0, 5000.0, "A"),
    ("current_oc_discharge_a", FLOAT, 180.0, 1.0, 5000.0, "A"),
    ("soc_charge_efficiency_pct", FLOAT, 99.5, 90.0, 100.0, "%"),
    ("soc_rest_a", FLOAT, 2.0, 0.1, 50.0, "A"),
    ("soc_rest_s", INT, 1800, 60, 14400, "s"),
    ("soc_full_taper_a", FLOAT, 5.0, 0.1, 100.0, "A"),
    ("soc_anchor_s", INT, 60, 5, 3600, "s"),
    ("soc_blend_pct_per_min", FLOAT, 1.0, 0.1, 20.0, "%/min"),
    ("soc_offset_max_a", FLOAT, 1.5, 0.0, 20.0, "A"),
    ("soc_loaded_max_a", FLOAT, 20.0, 0.0, 500.0, "A"),
    ("soc_loaded_tol_v", FLOAT, 0.005, 0.002, 0.1, "V"),
    ("soc_save_s", INT, 600, 60, 86400, "s"),
    # === end of the current sensor and state of charge block ===
)

# Column positions of a SCHEMA row: code says row[UNIT], never row[5].
NAME = 0
KIND = 1
DEFAULT = 2
LOW = 3
HIGH = 4
UNIT = 5

# Rules between two fields: (field_a, relation, field_b, only_if, message).
# "<" means a must be strictly less than b; only_if is None or (field, value) and
# limits the rule to configurations where that field has that value.
CROSS_CHECKS = (
    ("poll_ms", "<", "stale_ms", None, "stale_ms must exceed poll_ms or every cycle reads as stale"),
    ("cell_v_max", "<", "hw_cov_v", None, "the boards' hardware over-voltage trip must back up cell_v_max, not pre-empt it"),
    ("hw_cuv_v", "<", "cell_v_min", None, "the boards' hardware under-voltage trip must back up cell_v_min, not pre-empt it"),
    ("temp_max", "<", "hw_ot_c", None, "the boards' hardware over-temperature trip must back up temp_max, not pre-empt it"),
    ("cell_v_min", "<", "cell_v_low_warn", None, "the under-voltage warning must come before the fault"),
    ("cell_v_low_warn", "<", "cell_v_high_warn", None, "low warning must be below high warning"),
    ("cell_v_high_warn", "<", "cell_v_max", None, "the over-voltage warning must come before the fault"),
    ("temp_min", "<", "temp_low_warn", None, "the cold warning must come before the cold fault"),
    ("temp_low_warn", "<", "temp_high_warn", None, "cold warning must be below hot warning"),
    ("temp_high_warn", "<", "temp_max", None, "the hot warning must come before the hot fault"),
    ("precharge_ms", "<", "precharge_timeout_ms", ("precharge_mode", "time"),
     "time-mode precharge must end before its timeout"),
    ("cell_v_low_warn", "<", "discharge_cell_v", None, "the discharge cut-off must act before the under-voltage warning"),
    ("discharge_cell_v", "<", "discharge_taper_cell_v", None, "discharge taper must start above the cut-off"),
    ("discharge_taper_cell_v", "<", "charge_taper_cell_v", None, "discharge taper must be below the charge taper"),
    ("charge_taper_cell_v", "<", "charge_cell_v", None, "charge taper must start below the charge target"),
    ("charge_cell_v", "<", "cell_v_high_warn", None, "the charge target must stay below the over-voltage warning"),
    ("temp_min", "<", "charge_temp_min", None, "cold-charge block must act before the cold fault"),
    ("charge_temp_min", "<", "charge_temp_full", None, "cold derating needs charge_temp_min below charge_temp_full"),
    ("charge_temp_full", "<", "charge_temp_derate", None, "cold and hot charge derating must not overlap"),
    ("charge_temp_derate", "<", "charge_temp_max", None, "hot charge derating must start below charge_temp_max"),
    ("charge_temp_max", "<", "temp_max", None, "charging must stop before the over-temperature fault"),
    ("discharge_temp_derate", "<", "discharge_temp_max", None, "hot discharge derating must start below discharge_temp_max"),
    ("discharge_temp_max", "<", "temp_max", None, "discharging must stop before the over-temperature fault"),
    # === current sensor and state of charge ===
    ("current_sample_ms", "<", "current_stale_ms", None, "stale sooner than sampled"),
    ("max_charge_a", "<", "current_oc_charge_a", None, "over-current below the charge limit"),
    ("max_discharge_a", "<", "current_oc_discharge_a", None, "over-current below the discharge limit"),
    ("current_oc_charge_a", "<", "current_max_a", None, "sensor range below the over-current"),
    ("current_oc_discharge_a", "<", "current_max_a", None, "sensor range below the over-current"),
    ("soc_offset_max_a", "<", "soc_rest_a", None, "offsets are learned only at rest"),
    # === end of the current sensor and state of charge block ===
    # --- charge control, derating, heater, balancer (issue 16) ------------------
    ("float_cell_v", "<", "charge_cell_v", None, "float below the charge target"),
    ("rebulk_cell_v", "<", "float_cell_v", None, "float must not trigger re-bulk"),
    ("charge_cell_v", "<", "charge_stop_cell_v", None, "the CCL stop backs up the charge target"),
    ("charge_stop_cell_v", "<", "cell_v_max", None, "the CCL stop acts before the fault"),
    ("temp_hysteresis_c", "<", "heater_hysteresis_c", None, "heat past the cold-stop release"),
    ("balance_band_v", "<", "balance_start_v", None, "bleed target below the start"),
    ("balance_floor_v", "<", "balance_v", None, "floor below the top-balancing gate"),
    ("heater_warn_s", "<", "heater_max_on_s", None, "notice a dead heater within one run"),
)


class ConfigError(ValueError):
    pass


def _row(name):
    for row in SCHEMA:
        if row[NAME] == name:
            return row
    return None


def coerce(name, value):
    """Check one value against its schema row; return it in the row's type.

    Raises ConfigError with a message a user can act on; never clamps.
    """
    row = _row(name)
    if row is None:
        raise ConfigError("unknown setting '%s'" % name)
    kind, low, high, unit = row[KIND], row[LOW], row[HIGH], row[UNIT]
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
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise ConfigError("%s must be a%s number, not %r"
                          % (name, "n integer" if kind == INT else "", value))
    if value != value or value < low or value > high:  # value != value: NaN
        raise ConfigError("%s = %s is outside %s..%s %s" % (name, value, low, high, unit))
    return value


# Units whose settings code converts to integer units at start (bms.units): what
# units() hands to the parts the application builds.
CONVERTED_UNITS = ("V", "C", "A", "%")


def units():
    """{setting: unit} of the settings in CONVERTED_UNITS. The parts that convert
    settings at start (LimitChecks, Derate) take this instead of the schema, so a
    board can drop this module after boot (app.boot: its table is the largest
    thing a .mpy deploy loads, and nothing reads it while the loop runs)."""
    out = {}
    for row in SCHEMA:
        if row[UNIT] in CONVERTED_UNITS:
            out[row[NAME]] = row[UNIT]
    return out


def defaults():
    d = {}
    for row in SCHEMA:
        d[row[NAME]] = row[DEFAULT]
    return d


def check_cross(values):
    for a, rel, b, only_if, message in CROSS_CHECKS:
        if only_if is not None and values[only_if[0]] != only_if[1]:
            continue
        if rel == "<" and not values[a] < values[b]:
            raise ConfigError("%s (%s) vs %s (%s): %s" % (a, values[a], b, values[b], message))
    _check_current_sensor(values)
    if values["module_count"] % values["parallel_strings"]:
        raise ConfigError("module_count (%d) is not a multiple of parallel_strings (%d)"
                          % (values["module_count"], values["parallel_strings"]))


# === current sensor and state of charge: rules a "<" row cannot say ===
INA228_AVG = (1, 4, 16, 64, 128, 256, 512, 1024)


def _check_current_sensor(v):
    kind = v["current_sensor"]
    if v["current_direction"] == 0:
        raise ConfigError("current_direction must be +1 or -1")
    if kind == "none":
        return
    hall = kind == "mcp3421_hall"
    lo = 0x68 if hall else 0x40
    a = v["current_i2c_address"]
    if a and not lo <= a < lo + (8 if hall else 16):
        raise ConfigError("current_i2c_address 0x%02X: not a %s address" % (a, kind))
    max_a = v["current_max_a"]
    if hall:
        gain = v["current_hall_gain"]
        if v["current_hall_bits"] not in (12, 14, 16) or gain not in (1, 2, 4, 8):
            raise ConfigError("current_hall_bits must be 12/14/16, current_hall_gain 1/2/4/8")
        swing = max_a * v["current_hall_mv_per_a"] / 1000
        zero = v["current_hall_zero_v"]
        if zero < swing or (zero + swing) / v["current_hall_divider"] >= 2.048 / gain:
            raise ConfigError("hall sensor: +/-current_max_a gives %.2f..%.2f V; the ADC takes "
                              "0..%.3f V after the divider" % (zero - swing, zero + swing,
                                                              2.048 / gain))
        return
    if v["current_shunt_avg"] not in INA228_AVG:
        raise ConfigError("current_shunt_avg must be one of %s" % (INA228_AVG,))
    if max_a * v["current_shunt_uohm"] > 163840:  # A x uOhm = uV
        raise ConfigError("current_max_a x current_shunt_uohm exceeds the INA228's 163.84 mV")
    if 2104 * v["current_shunt_avg"] > 1000 * v["current_sample_ms"]:  # 2 x 1052 us a sample
        raise ConfigError("current_shunt_avg %d takes longer than current_sample_ms"
                          % v["current_shunt_avg"])


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
