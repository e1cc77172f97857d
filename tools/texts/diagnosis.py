# What each row of the diagnosis table (bms/diagnosis.py) means, keyed by its id:
# for the generated docs (docs/victron-can.md), the safety report and later the
# console and web page. Host-side so it costs the board no RAM;
# tests/host/test_texts.py fails when a row has no text here.

TEXT = {
    "comm_loss":
        "a module board stopped answering for comm_fail_limit cycles",
    "data_stale":
        "module measurements are older than stale_ms",
    "module_count":
        "the number of boards on the bus differs from module_count",
    "comm_errors":
        "corrupt or missing replies on the module bus (recovered by retry)",
    "board_fault":
        "a module board reports a fault of its own (hardware COV/CUV/OT, self-test)",
    "board_alert":
        "a module board reports an alert",
    "temp_sensor":
        "a thermistor reads open or shorted",
    "cell_ov":
        "a cell is above cell_v_max",
    "cell_ov_warn":
        "a cell is above cell_v_high_warn",
    "cell_uv":
        "a cell is below cell_v_min",
    "cell_uv_warn":
        "a cell is below cell_v_low_warn",
    "cell_imbalance":
        "highest minus lowest cell exceeds cell_spread_warn",
    "temp_high":
        "a module is above temp_max",
    "temp_high_warn":
        "a module is above temp_high_warn",
    "temp_low":
        "a module is below temp_min",
    "temp_low_warn":
        "a module is below temp_low_warn",
    "contactor_feedback":
        "a contactor's auxiliary contact disagrees with its command (welded, or not "
        "pulling in)",
    "precharge_failed":
        "the bus did not charge within precharge_timeout_ms after all retries",
    "over_current_charge":
        "pack current above current_oc_charge_a while charging",
    "over_current_discharge":
        "pack current above current_oc_discharge_a while discharging",
    "current_sensor":
        "the current sensor does not answer, reads at full scale or outside the "
        "transducer's output span (unplugged), or has no new conversion for current_stale_ms",
    "charge_overshoot":
        "a cell passed charge_stop_cell_v: a charger ignores CVL",
    "heater_ineffective":
        "the heater did not warm the pack within heater_warn_s",
    "config_invalid":
        "the configuration file was refused at boot (unreadable, not JSON, a value out of "
        "range or a cross-check failed): the BMS reports why and never connects until it "
        "boots with a valid file",
    "internal":
        "BMS internal error: unexpected exception or an unknown diagnosis id",
    "fault_latched":
        "the state machine latched a fault and keeps the battery off until an operator "
        "reset, even after the fault's own condition has cleared",
}


# The RECOVERY column's values (bms/diagnosis.py), for the safety report and docs.
RECOVERY = {
    "latch": "stays in Fault until an operator reset (long press, console): the cause "
             "may be dangerous or a defect someone must look at",
    "auto": "the application resets it by itself once every fault condition has been "
            "gone for auto_reset_after_ms, at most auto_resets_per_day times a day; "
            "past that it latches",
}
