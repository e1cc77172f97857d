# What each setting of bms.config.SCHEMA means, keyed by its name: the help text of
# the generated docs (docs/victron-can.md) and later of the console and web page.
# Host-side so it costs the board no RAM; tests/host/test_texts.py fails when a
# setting has no text here or a text names a setting that is gone.

HELP = {
    "auto_connect":
        "close the contactors on their own once the pack is ready (after boot or a fault "
        "reset)",
    "precharge_mode":
        "voltage: close main when the bus is within tolerance of the pack; time: after "
        "precharge_ms (boards without a bus sensor: it cannot see a shorted bus and closes "
        "main onto it)",
    "precharge_ms":
        "precharge duration in time mode",
    "precharge_timeout_ms":
        "give up a precharge attempt after this long",
    "precharge_tolerance_v":
        "bus counts as charged when |V_pack - V_bus| is at most this",
    "precharge_retries":
        "further attempts after a failed precharge before latching a fault",
    "precharge_retry_delay_ms":
        "pause between precharge attempts so the resistor cools",
    "precharge_overlap_ms":
        "how long precharge stays closed after main positive closes, so the bus stays fed "
        "while the main contactor makes contact; 0 opens it at once",
    "module_count":
        "module boards expected on the bus; fewer or more is a fault",
    "parallel_strings":
        "strings of series modules wired in parallel; module_count must divide evenly",
    "uart_baud":
        "module bus baud rate; some boards need up to ~631000",
    "poll_ms":
        "period of one measurement cycle over all boards",
    "stale_ms":
        "data older than this counts as missing (must exceed poll_ms)",
    "comm_fail_limit":
        "consecutive failed cycles of one board before a communication fault",
    "bus_timeout_ms":
        "wait this long for a module board's reply before counting a timeout",
    "bus_retries":
        "further attempts for a failed frame within one cycle",
    "bus_retry_budget":
        "retries one whole poll cycle may spend; bounds the cycle's worst-case time",
    "bus_check_drdy":
        "reject a reading whose DEVICE_STATUS.DRDY (datasheet bit 0) says the conversion "
        "is unfinished; the masters proven on real modules never checked it, so turn it "
        "off only if every reading fails as not-ready on your boards",
    "bus_module_tolerance_v":
        "max module V minus cell sum of a valid reply",
    "bus_read_crc":
        "append a CRC byte to read requests (boards or emulators that expect it)",
    "bus_reset_wait_ms":
        "pause after the broadcast reset before boards are addressed",
    "hw_cov_v":
        "module boards' own over-voltage trip (50 mV steps); a backstop above cell_v_max",
    "hw_cuv_v":
        "module boards' own under-voltage trip (100 mV steps); a backstop below "
        "cell_v_min",
    "hw_ot_c":
        "module boards' own over-temperature trip (5 C steps); a backstop above temp_max",
    "hw_delay_ms":
        "how long a hardware COV/CUV/OT condition must last before the board trips",
    "balance_v":
        "bleed only cells above this voltage",
    "balance_delta_v":
        "bleed a cell when it is this far above the lowest cell",
    "balance_time_s":
        "boards stop bleeding on their own after this unless told again (a dead BMS stops"
        " balancing)",
    "cell_v_max":
        "cell over-voltage fault",
    "cell_v_high_warn":
        "cell over-voltage warning",
    "cell_v_low_warn":
        "cell under-voltage warning",
    "cell_v_min":
        "cell under-voltage fault",
    "cell_spread_warn":
        "cell imbalance warning (highest - lowest)",
    "temp_max":
        "over-temperature fault",
    "temp_high_warn":
        "over-temperature warning",
    "temp_low_warn":
        "under-temperature warning",
    "temp_min":
        "under-temperature fault",
    "charge_cell_v":
        "charge target per cell: the highest cell is held here (CVL at most this x "
        "series cells)",
    "charge_taper_cell_v":
        "charge current tapers once the highest cell is above this",
    "discharge_taper_cell_v":
        "discharge current tapers once the lowest cell is below this",
    "discharge_cell_v":
        "discharge cut-off per cell: DVL = this x series cells; discharging stops when "
        "the lowest cell reaches it",
    "limit_hysteresis_v":
        "a stopped charge (discharge) resumes once the highest (lowest) cell is this far "
        "back",
    "taper_floor_pct":
        "current at the end of a taper, in percent of the maximum",
    "max_charge_a":
        "charge current limit (CCL) when nothing reduces it",
    "max_discharge_a":
        "discharge current limit (DCL) when nothing reduces it",
    "charge_temp_min":
        "no charging below this temperature",
    "charge_temp_full":
        "full charge current from this temperature; derated linearly from charge_temp_min",
    "charge_temp_derate":
        "charge current derated linearly above this",
    "charge_temp_max":
        "no charging above this temperature",
    "discharge_temp_derate":
        "discharge current derated linearly above this",
    "discharge_temp_max":
        "no discharging above this temperature",
    "module_capacity_ah":
        "capacity of one string of modules; installed capacity = this x parallel_strings",
    "soh_pct":
        "state of health reported to the GX (second-life modules: measure it)",
    "can_period_ms":
        "period of the Victron frame set (the GX gives up after ~3 s of silence)",
    "current_sensor":
        "none (SoC from voltage), MCP3421 + hall transducer, or INA228 + shunt",
    "current_i2c_address":
        "sensor chip I2C address; 0 = chip default",
    "current_direction":
        "+1: sensor reads positive while charging; -1: reversed",
    "current_sample_ms":
        "sensor read period (10 Hz or faster)",
    "current_stale_ms":
        "no new conversion this long: sensor fault",
    "current_max_a":
        "largest current the sensor must measure",
    "current_offset_ma":
        "zero offset; set by the zero calibration (contactors open)",
    "current_hall_divider":
        "hall: sensor volts / ADC volts",
    "current_hall_zero_v":
        "hall: output at zero current",
    "current_hall_mv_per_a":
        "hall: sensitivity",
    "current_hall_bits":
        "MCP3421 resolution: 12, 14 or 16 (18 is too slow)",
    "current_hall_gain":
        "MCP3421 gain: 1, 2, 4 or 8",
    "current_shunt_uohm":
        "INA228 shunt (500 A / 50 mV = 100)",
    "current_shunt_avg":
        "INA228 averaging, 1..1024 (powers of 4, 128, 512)",
    "current_oc_charge_a":
        "over-current fault, charging",
    "current_oc_discharge_a":
        "over-current fault, discharging",
    "soc_charge_efficiency_pct":
        "coulombic efficiency of charging",
    "soc_rest_a":
        "below this the pack rests",
    "soc_rest_s":
        "rest this long before trusting OCV",
    "soc_full_taper_a":
        "full: charge target reached, current below this",
    "soc_anchor_s":
        "the full condition must hold this long",
    "soc_blend_pct_per_min":
        "max speed of a correction",
    "soc_offset_max_a":
        "bound of the learned offset; 0 = no learning",
    "soc_loaded_max_a":
        "loaded-voltage bound used up to this current; 0 = off",
    "soc_loaded_tol_v":
        "loaded-voltage bound: OCV uncertainty per cell",
    "soc_save_s":
        "save SoC to flash at most this often",
    "float_cell_v":
        "float target per cell (full and balanced)",
    "charge_stop_cell_v":
        "CCL = 0 if the highest cell still reaches this (a charger ignores CVL)",
    "absorption_tail_a":
        "absorption done below this current",
    "absorption_spread_v":
        "... and at most this cell spread",
    "absorption_hold_s":
        "... held this long: float",
    "absorption_max_s":
        "absorption ends after this in any case",
    "rebulk_cell_v":
        "back to bulk below this (highest cell)",
    "rebulk_soc_pct":
        "... or below this SoC (if known)",
    "full_charge_days":
        "full charge until balanced this often; 0 off",
    "temp_hysteresis_c":
        "a limit stopped by temperature resumes this far back",
    "limit_ramp_s":
        "a recovering CCL/DCL ramps 0 to max in this time",
    "heater_enabled":
        "a heater is wired to the heater output",
    "heater_hysteresis_c":
        "heat until this far above charge_temp_min",
    "heater_max_on_s":
        "longest heater run, then a rest of a quarter of it",
    "heater_warn_s":
        "no 1 C rise within this: heater ineffective",
    "balance_start_v":
        "bleed a cell this far above the lowest",
    "balance_band_v":
        "... down to this above the lowest",
    "balance_floor_v":
        "never bleed a cell at or below this",
    "balance_temp_max":
        "no bleeding in a module warmer than this",
    "auto_reset_after_ms":
        "a recoverable fault (RECOVERY auto in the diagnosis table: comm loss, stale "
        "data, a board's transient fault) is reset by the application once every fault "
        "condition has been gone this long",
    "auto_resets_per_day":
        "at most this many automatic resets in 24 h; past it the fault latches until "
        "an operator reset (0: never reset automatically)",
}
