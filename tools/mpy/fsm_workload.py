# The event workload of `pybms bench fsm`. Imports only firmware so that the
# MicroPython unix port can run it as a script:
#   micropython -X heapsize=192K tools/mpy/fsm_workload.py N
# A cycle visits every state but Shutdown: start, precharge, run, balance, fault,
# refused and accepted reset, with mostly ticks between, as the board would see.

import sys
import time

from bms import config
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm.context import Context
from fsm.machine import Machine

_BUS = {"v_bus": 49.8, "v_pack": 50.0}
_OV = {"diag": "cell_ov"}
CYCLE = (
    (("pack_ready", None), ("tick", None), ("bus_voltage", _BUS))
    + (("tick", None),) * 20
    + (("balance_needed", None),) + (("tick", None),) * 5 + (("balance_done", None),)
    + (("fault", _OV),) + (("tick", None),) * 3 + (("reset", None), ("fault_cleared", _OV))
    + (("reset", None), ("connect", None))
)


def make_machine():
    pins = [MemoryPin(n) for n in ("negative", "precharge", "positive")]
    machine = Machine(Context(config.make(), Contactors(*pins)))
    machine.start(0)
    return machine


def drive(dispatch, n_events):
    """Feed n_events of the cycle to dispatch(event, t_ms, fields)."""
    t = 0
    done = 0
    steps = len(CYCLE)
    while done < n_events:
        event, fields = CYCLE[done % steps]
        t += 100
        dispatch(event, t, fields)
        done += 1
    return done


def _micropython_main(argv):
    n = int(argv[1]) if len(argv) > 1 else 20000
    machine = make_machine()
    drive(machine.dispatch, 200)  # warm up
    start = time.ticks_us()
    drive(machine.dispatch, n)
    us = time.ticks_diff(time.ticks_us(), start)
    print("events=%d us=%d state=%s" % (n, us, machine.state_name))


if __name__ == "__main__" and sys.implementation.name == "micropython":
    _micropython_main(sys.argv)
