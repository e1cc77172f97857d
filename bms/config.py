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
    # === current sensor and state of charge (drivers/current_sensor.py, bms/soc.py) ===
    # One block for issue 15; rules a "<" row cannot say: _check_current_sensor().
    ("current_sensor", CHOICE, "none", ("none", "mcp3421_hall", "ina228_shunt"), None, "",
     "none (SoC from voltage), MCP3421 + hall transducer, or INA228 + shunt"),
    ("current_i2c_address", INT, 0, 0, 127, "", "sensor chip I2C address; 0 = chip default"),
    ("current_direction", INT, 1, -1, 1, "", "+1: sensor reads positive while charging; -1: reversed"),
    ("current_sample_ms", INT, 50, 20, 100, "ms", "sensor read period (10 Hz or faster)"),
    ("current_stale_ms", INT, 500, 100, 5000, "ms", "no new conversion this long: sensor fault"),
    ("current_max_a", FLOAT, 350.0, 1.0, 5000.0, "A", "largest current the sensor must measure"),
    ("current_offset_ma", INT, 0, -50000, 50000, "mA",
     "zero offset; set by the zero calibration (contactors open)"),
    ("current_hall_divider", FLOAT, 3.0, 1.0, 10.0, "", "hall: sensor volts / ADC volts"),
    ("current_hall_zero_v", FLOAT, 2.5, 0.0, 5.0, "V", "hall: output at zero current"),
    ("current_hall_mv_per_a", FLOAT, 6.25, 0.1, 1000.0, "mV/A", "hall: sensitivity"),
    ("current_hall_bits", INT, 16, 12, 16, "bit", "MCP3421 resolution: 12, 14 or 16 (18 is too slow)"),
    ("current_hall_gain", INT, 1, 1, 8, "", "MCP3421 gain: 1, 2, 4 or 8"),
    ("current_shunt_uohm", INT, 100, 10, 100000, "uOhm", "INA228 shunt (500 A / 50 mV = 100)"),
    ("current_shunt_avg", INT, 16, 1, 1024, "", "INA228 averaging, 1..1024 (powers of 4, 128, 512)"),
    ("current_oc_charge_a", FLOAT, 150.0, 1.0, 5000.0, "A", "over-current fault, charging"),
    ("current_oc_discharge_a", FLOAT, 250.0, 1.0, 5000.0, "A", "over-current fault, discharging"),
    ("soc_charge_efficiency_pct", FLOAT, 99.5, 90.0, 100.0, "%", "coulombic efficiency of charging"),
    ("soc_rest_a", FLOAT, 2.0, 0.1, 50.0, "A", "below this the pack rests"),
    ("soc_rest_s", INT, 1800, 60, 14400, "s", "rest this long before trusting OCV"),
    ("soc_full_taper_a", FLOAT, 5.0, 0.1, 100.0, "A", "full: charge target reached, current below this"),
    ("soc_anchor_s", INT, 60, 5, 3600, "s", "the full condition must hold this long"),
    ("soc_blend_pct_per_min", FLOAT, 1.0, 0.1, 20.0, "%/min", "max speed of a correction"),
    ("soc_offset_max_a", FLOAT, 1.5, 0.0, 20.0, "A", "bound of the learned offset; 0 = no learning"),
    ("soc_save_s", INT, 600, 60, 86400, "s", "save SoC to flash at most this often"),
    # === end of the current sensor and state of charge block ===
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
    # === current sensor and state of charge ===
    ("current_sample_ms", "<", "current_stale_ms", None, "stale sooner than sampled"),
    ("max_charge_a", "<", "current_oc_charge_a", None, "over-current below the charge limit"),
    ("max_discharge_a", "<", "current_oc_discharge_a", None, "over-current below the discharge limit"),
    ("current_oc_charge_a", "<", "current_max_a", None, "sensor range below the over-current"),
    ("current_oc_discharge_a", "<", "current_max_a", None, "sensor range below the over-current"),
    ("soc_offset_max_a", "<", "soc_rest_a", None, "offsets are learned only at rest"),
    # === end of the current sensor and state of charge block ===
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
