# End-to-end runs of a plant scenario against the real application, in process
# and accelerated, and what they prove. One job per module:
#   table.py   what each scenario must prove (FAULTS, SERVICE) and the limits
#              every run is held to
#   runner.py  runs a scenario on the real application and records it
#   checks.py  what a recorded run says: fault reaction, CAN gaps, invariants
#   files.py   the CAN and event logs a run leaves behind, replay check
# Users (tests/host/test_e2e_*.py, `pybms bench e2e`, `pybms demo`, the safety
# report) import this package and use the names below. Host only.

from tools.e2e.checks import (can_gaps, debounce_ms, frames, invariant_problems, raised,
                              reaction, state_at, visible_ms)
from tools.e2e.files import replay_problem, write_candump, write_events
from tools.e2e.runner import SENSOR_CONFIG, Run, run, with_sensor
from tools.e2e.table import (CELL_LIMIT_MARGIN_V, F_DETECT, F_DIAG, F_SCENARIO, F_VISIBLE, FAULTS,
                             GX_GAP_MS, REACTION_GOAL_MS, SERVICE, alarm_place, config_defaults,
                             diag_ids, fault_row, scenarios_testing)

__all__ = ("can_gaps", "debounce_ms", "frames", "invariant_problems", "raised", "reaction",
           "state_at", "visible_ms", "replay_problem", "write_candump", "write_events",
           "SENSOR_CONFIG", "Run", "run", "with_sensor", "CELL_LIMIT_MARGIN_V",
           "F_DETECT", "F_DIAG", "F_SCENARIO", "F_VISIBLE", "FAULTS", "GX_GAP_MS",
           "REACTION_GOAL_MS", "SERVICE", "alarm_place", "config_defaults", "diag_ids",
           "fault_row", "scenarios_testing")
