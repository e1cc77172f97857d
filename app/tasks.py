# The main loop's task table: one place for every task's name, period and budget.
# The application (app/application.py) binds each row to its method `task_<name>`
# and hands them to app/scheduler.py in this order, which is also their priority
# when several are due in the same pass. A period that is a string names a
# configuration setting (bms/config.py), so the module poll follows `poll_ms`.
#
# Budgets are what one run may cost on an RP2040-class board before it counts as an
# overrun (the watchdog is fed only after a pass in which no task overran). The
# module poll is split into bounded steps (one board per step when the bus master
# offers step(); the whole cycle otherwise, see app/application.py), so no task
# holds the loop long enough to delay the Victron frames past the GX's tolerance.

# (name, period_ms or config key, budget_ms)
TASKS = (
    ("inputs", 50, 5),          # operator switch and reset button, contactor feedback
    ("module_poll", 10, 40),    # one bounded step of the module bus cycle
    ("current", 100, 5),        # current sensor sample, state of charge
    ("checks", "poll_ms", 40),  # pack summary -> threshold checks -> diagnosis -> events
    ("machine", 100, 10),       # queued events, precharge bus voltage, state-machine tick
    ("limits", 250, 10),        # CVL/CCL/DCL/DVL and the allow outputs
    ("balancing", 1000, 40),    # bleed masks while the machine permits balancing
    ("heater", 1000, 5),        # battery heater output
    ("can", 100, 20),           # CAN housekeeping (service) and the Victron reporter
    ("clock", 1000, 5),         # wall clock: re-reads its source (hourly), NTP steps (~2 ms)
    ("recovery", 1000, 5),      # automatic reset of recoverable faults (bms/diagnosis RECOVERY)
    ("persistence", 1000, 60),  # fault latch, fault history, SoC, counters (rate limited)
    ("watchdog", 500, 2),       # fed only while every pass stays within its budgets
)

NAME = 0
PERIOD = 1
BUDGET = 2

STARTUP_GRACE_MS = 5000  # no stale-data fault before the first discovery had a chance
OPEN_SETTLE_MS = 500     # every contactor open this long: the sensor reads its zero
# A boot with a current sensor and no SoC record (nothing stored says the sensor's
# zero): the pack is not "ready", so no contactor closes, before the sensor has read
# its zero this long with every contactor open: ~80 conversions at 15/s instead of
# the ~8 a prompt start gives, whose mean was 155-285 mA off in `pybms bench soc`
# and carried the first day's count (docs/soc.md rule 6c; bms/soc.py R_ZERO).
# Later boots restore it.
ZERO_FIRST_MS = 6000


def period_ms(row, cfg):
    p = row[PERIOD]
    return cfg[p] if isinstance(p, str) else p
