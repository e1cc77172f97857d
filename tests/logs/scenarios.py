# Scripted scenarios recorded through the firmware state machine into the logs
# beside this file. Regenerate after an intended behaviour change with
#   .venv/bin/python -m tests.logs.scenarios
# and review the diff: the logs are the reviewed behaviour.

import os

from bms import config
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm.context import Context
from fsm.eventlog import EventLog
from fsm.machine import Machine


def _ticks(n, dt=100):
    return [("tick", None, dt)] * n


def _precharge_ramp(volts, v_pack=50.4):
    return [("bus_voltage", {"v_bus": v, "v_pack": v_pack}, 50) for v in volts]


NORMAL_STARTUP = (
    {},
    _ticks(3)
    + [("pack_ready", None, 40)]
    + _ticks(1)
    + _precharge_ramp([12.0, 31.5, 44.0, 48.9, 49.7])
    + _ticks(5)
    + [("balance_needed", None, 10)] + _ticks(5) + [("balance_done", None, 10)]
    + _ticks(2)
    + [("disconnect", None, 20)] + _ticks(3)
    + [("connect", None, 20)] + _ticks(1)
    + _precharge_ramp([25.0, 49.9]) + _ticks(3)
)

FAULT_AND_RESET = (
    {},
    [("pack_ready", None, 40)] + _ticks(1)
    + _precharge_ramp([49.8]) + _ticks(3)
    + [("fault", {"diag": "cell_ov"}, 30)] + _ticks(5)
    + [("reset", None, 10)]            # refused: the over-voltage is still there
    + [("connect", None, 10)]
    + [("fault_cleared", {"diag": "cell_ov"}, 600)] + _ticks(2)
    + [("reset", None, 10)] + _ticks(1)
    + _precharge_ramp([49.9]) + _ticks(2)
    + [("fault", {"diag": "comm_loss"}, 30)]
    + [("fault", {"diag": "temp_high"}, 30)]
    + [("fault_cleared", {"diag": "comm_loss"}, 200)]
    + [("reset", None, 10)]            # refused: still too hot
    + [("shutdown", None, 20)] + _ticks(3)
    + [("reset", None, 10)]            # rejected: Shutdown has no way out
)

PRECHARGE_FAILURE = (
    {"precharge_timeout_ms": 3000, "precharge_retries": 2, "precharge_retry_delay_ms": 10000},
    [("pack_ready", None, 40)]
    + [step for _ in range(90) for step in
       (("tick", None, 250), ("bus_voltage", {"v_bus": 18.5, "v_pack": 50.4}, 250))]
    + [("reset", None, 100)] + _ticks(2)
)

SCENARIOS = (
    ("normal_startup", NORMAL_STARTUP),
    ("fault_and_reset", FAULT_AND_RESET),
    ("precharge_failure", PRECHARGE_FAILURE),
)


class _File:
    def __init__(self, f):
        self.f = f

    def write(self, text):
        self.f.write(text)


def record(path, overrides, steps, t0=1000):
    cfg = config.make(overrides)
    with open(path, "w") as f:
        log = EventLog(_File(f))
        log.header(t0, cfg)
        pins = [MemoryPin(n) for n in ("negative", "precharge", "positive")]
        machine = Machine(Context(cfg, Contactors(*pins)), log)
        machine.start(t0)
        t = t0
        for event, fields, dt in steps:
            t += dt
            machine.dispatch(event, t, fields)
    return machine


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, (overrides, steps) in SCENARIOS:
        m = record(os.path.join(here, name + ".jsonl"), overrides, steps)
        print("%s: ends in %s" % (name, m.state_name))


if __name__ == "__main__":
    main()
