# `pybms bench fsm`: events per second through the firmware state machine on
# MicroPython (unix port, board-sized heap) and CPython, and through the
# transitions library interpreting the same table on CPython.
# The MicroPython side runs tools/mpy/fsm_workload.py as a script.

import os
import re
import subprocess
import sys
import time

from bms import config
from tools.mpy.fsm_workload import drive, make_machine
from tools import mpy_unix
from tools.cli import UsageError
from tools.fsm_model import oracle, oracle_dispatch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rate(dispatch, n):
    drive(dispatch, 200)
    start = time.perf_counter()
    drive(dispatch, n)
    return n / (time.perf_counter() - start)


def micropython_rate(n):
    if not mpy_unix.available():
        raise UsageError("no micropython next to %s: run `make setup`" % sys.executable)
    out = subprocess.run(mpy_unix.command("tools/mpy/fsm_workload.py", str(n)),
                         cwd=ROOT, env=mpy_unix.environment(), capture_output=True, text=True,
                         timeout=300)
    m = re.search(r"events=(\d+) us=(\d+)", out.stdout)
    if out.returncode != 0 or not m:
        raise UsageError("the MicroPython run failed: %s" % (out.stderr or out.stdout).strip())
    return int(m.group(1)) / (int(m.group(2)) / 1e6)


def run(args):
    n = 2000 if args.quick else 200000
    firmware = make_machine()
    cpython = _rate(firmware.dispatch, n)
    model = oracle(config.make())
    trans = _rate(lambda e, t, f: oracle_dispatch(model, e, t, f), max(n // 10, 1000))
    mpy = micropython_rate(n)
    rows = (("firmware machine", "MicroPython unix, 192K heap", mpy),
            ("firmware machine", "CPython %d.%d" % sys.version_info[:2], cpython),
            ("transitions.Machine", "CPython %d.%d" % sys.version_info[:2], trans))
    print("%-20s %-28s %14s %12s" % ("interpreter", "runtime", "events/s", "us/event"))
    for name, runtime, rate in rows:
        print("%-20s %-28s %14.0f %12.2f" % (name, runtime, rate, 1e6 / rate))
    print("(%d events per run; cycle of start, precharge, run, balance, fault, reset)" % n)
    print("fsm_events_per_s_mpy=%.0f fsm_events_per_s_cpython=%.0f transitions_events_per_s=%.0f"
          % (mpy, cpython, trans))
    return 0
