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
    ("bus_timeout_ms", INT, 4, 1, 200, "ms",
     "wait this long for a module board's reply before counting a timeout"),
    ("bus_retries", INT, 2, 0, 5, "",
     "further attempts for a failed frame within one cycle"),
    ("bus_retry_budget", INT, 8, 0, 64, "",
     "retries one whole poll cycle may spend; bounds the cycle's worst-case time"),
    ("bus_check_drdy", BOOL, True, None, None, "",
     "reject a reading whose DEVICE_STATUS.DRDY (datasheet bit 0) says the conversion is "
     "unfinished; the masters proven on real modules never checked it, so turn it off only "
     "if every reading fails as not-ready on your boards"),
    ("bus_module_tolerance_v", FLOAT, 0.25, 0.02, 1.00, "V",
     "max module V minus cell sum of a valid reply"),
    ("bus_read_crc", BOOL, False, None, None, "",
     "append a CRC byte to read requests (boards or emulators that expect it)"),
    ("bus_reset_wait_ms", INT, 100, 0, 1000, "ms",
     "pause after the broadcast reset before boards are addressed"),
    ("hw_cov_v", FLOAT, 4.25, 3.60, 4.50, "V",
     "module boards' own over-voltage trip (50 mV steps); a backstop above cell_v_max"),
    ("hw_cuv_v", FLOAT, 2.80, 1.50, 3.30, "V",
     "module boards' own under-voltage trip (100 mV steps); a backstop below cell_v_min"),
    ("hw_ot_c", FLOAT, 70.0, 40.0, 90.0, "C",
     "module boards' own over-temperature trip (5 C steps); a backstop above temp_max"),
    ("hw_delay_ms", INT, 1000, 100, 2500, "ms",
     "how long a hardware COV/CUV/OT condition must last before the board trips"),
    ("balance_v", FLOAT, 3.90, 3.40, 4.20, "V",
     "bleed only cells above this voltage"),
    ("balance_delta_v", FLOAT, 0.04, 0.005, 0.50, "V",
     "bleed a cell when it is this far above the lowest cell"),
    ("balance_time_s", INT, 10, 1, 600, "s",
     "boards stop bleeding on their own after this unless told again (a dead BMS stops balancing)"),
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
    # --- limits and Victron (bms/limits.py, protocols/victron) -----------------
    ("charge_cell_v", FLOAT, 4.10, 3.80, 4.20, "V",
     "charge target per cell: CVL = this x series cells; charging stops when the highest cell reaches it"),
    ("charge_taper_cell_v", FLOAT, 4.00, 3.70, 4.15, "V",
     "charge current tapers once the highest cell is above this"),
    ("discharge_taper_cell_v", FLOAT, 3.40, 3.10, 3.80, "V",
     "discharge current tapers once the lowest cell is below this"),
    ("discharge_cell_v", FLOAT, 3.25, 2.80, 3.60, "V",
     "discharge cut-off per cell: DVL = this x series cells; discharging stops when the lowest cell reaches it"),
    ("limit_hysteresis_v", FLOAT, 0.05, 0.01, 0.30, "V",
     "a stopped charge (discharge) resumes once the highest (lowest) cell is this far back"),
    ("taper_floor_pct", INT, 10, 1, 100, "%",
     "current at the end of a taper, in percent of the maximum"),
    ("max_charge_a", FLOAT, 50.0, 0.0, 1000.0, "A", "charge current limit (CCL) when nothing reduces it"),
    ("max_discharge_a", FLOAT, 100.0, 0.0, 1000.0, "A", "discharge current limit (DCL) when nothing reduces it"),
    ("charge_temp_min", FLOAT, 0.0, -20.0, 15.0, "C", "no charging below this temperature"),
    ("charge_temp_full", FLOAT, 10.0, -10.0, 25.0, "C",
     "full charge current from this temperature; derated linearly from charge_temp_min"),
    ("charge_temp_derate", FLOAT, 40.0, 20.0, 60.0, "C", "charge current derated linearly above this"),
    ("charge_temp_max", FLOAT, 50.0, 25.0, 70.0, "C", "no charging above this temperature"),
    ("discharge_temp_derate", FLOAT, 50.0, 20.0, 70.0, "C", "discharge current derated linearly above this"),
    ("discharge_temp_max", FLOAT, 60.0, 25.0, 75.0, "C", "no discharging above this temperature"),
    ("module_capacity_ah", INT, 232, 1, 2000, "Ah",
     "capacity of one string of modules; installed capacity = this x parallel_strings"),
    ("soh_pct", INT, 100, 1, 100, "%", "state of health reported to the GX (second-life modules: measure it)"),
    ("can_period_ms", INT, 1000, 200, 1500, "ms",
     "period of the Victron frame set (the GX gives up after ~3 s of silence)"),
)

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
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
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
