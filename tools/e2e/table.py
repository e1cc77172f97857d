# What each end-to-end scenario must prove: the fault scenarios with the
# diagnosis row they must raise and when the fault is visible in the plant, the
# scenarios that keep the battery in service, and the limits every run is held
# to (the GX's CAN tolerance, the reaction goal). The safety report's "tested by"
# column reads FAULTS. Host only.

from bms import config as bms_config
from protocols.victron import alarms as A

GX_GAP_MS = 1200        # the longest CAN silence the GX tolerates from a running BMS
REACTION_GOAL_MS = 100  # contactors open at most this long after the debounce ended

# What each fault scenario proves: (scenario, diagnosis row it must raise, when the
# fault is visible in the plant, detection: config keys whose product in ms is the
# configured wait before the row can be judged, beyond the row's own set_ms).
# visible: ("above"|"below", truth quantity, config key, resolution) a plant
#          quantity crosses the configured threshold by more than half the
#          measurement's step (the boards report whole mV and 0.1 degC: a cell at
#          4.2004 V reads 4.200 V, which is not above 4.200);
#          ("event", kind) the scenario's injection at its time;
#          ("after_last", contactor, config key) the last time that contactor
#          closed plus the configured time (precharge timeout on the last attempt).
# Welded contactors cannot open: for contactor-weld "open" means every coil off
# and every contact that is not welded open.
FAULTS = (
    ("cell-overvoltage", "cell_ov", ("above", "cell_v_max", "cell_v_max", 0.0005), ("poll_ms",)),
    ("disobedient-charger", "cell_ov", ("above", "cell_v_max", "cell_v_max", 0.0005), ("poll_ms",)),
    ("cell-undervoltage", "cell_uv", ("below", "cell_v_min", "cell_v_min", 0.0005), ("poll_ms",)),
    ("over-temperature", "temp_high", ("above", "t_max_c", "temp_max", 0.05), ("poll_ms",)),
    ("thermistor-open", "temp_sensor", ("event", "thermistor_open"), ("poll_ms",)),
    ("comm-loss", "comm_loss", ("event", "ring_break"), ("comm_fail_limit", "poll_ms")),
    ("board-reset", "comm_loss", ("event", "board_reset"), ("comm_fail_limit", "poll_ms")),
    ("precharge-fail", "precharge_failed", ("after_last", "pre", "precharge_timeout_ms"), ()),
    ("contactor-weld", "contactor_feedback", ("event", "operator_disconnect"), ()),
    ("overcurrent", "over_current_discharge", ("event", "dc_load"), ("current_sample_ms",)),
    ("current-sensor-fail", "current_sensor", ("event", "sensor_fault"),
     ("current_sample_ms",)),
)
# A diagnosis cell may name several rows (a tuple): any of them proves the reaction.
# A disconnected transducer reads outside its output span: current_sensor, never an
# over-current (drivers/current_sensor.py).
F_SCENARIO, F_DIAG, F_VISIBLE, F_DETECT = range(4)

# Scenarios that keep the battery in service (no fault expected): the invariants
# still apply, and the cells must stay inside the configured limits.
SERVICE = ("normal", "cold-charge", "imbalanced-pack", "parallel-strings", "week",
           "mppt-ignores-ccl", "can-unplugged")

CELL_LIMIT_MARGIN_V = 0.005   # the plant's 0.1 mV truth against the boards' 1 mV steps


def fault_row(name):
    for row in FAULTS:
        if row[F_SCENARIO] == name:
            return row
    return None


def diag_ids(row):
    d = row[F_DIAG]
    return d if isinstance(d, tuple) else (d,)


def scenarios_testing(diag_id):
    return [r[F_SCENARIO] for r in FAULTS if diag_id in diag_ids(r)]


def alarm_place(diag_id):
    """(byte, shift, flag) of the 0x35A alarm a FAULT row sets, or None."""
    for source, flag in A.MAP:
        if source == diag_id:
            kind, _ref, half = A.resolve(source)
            byte, shift = A.place(flag, half)
            return byte, shift, flag
    return None


def config_defaults():
    return bms_config.make(None)
