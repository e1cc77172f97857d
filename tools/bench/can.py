# `pybms bench can`: microseconds to build the full Victron frame set and bytes
# allocated per transmit cycle (summary + limits + build + send), on MicroPython
# (unix port, board-sized heap; gc.mem_alloc) and, for comparison, CPython.
# The workload is tools/mpy/can_workload.py, run by both interpreters.

import os
import re
import subprocess
import sys

from tools import mpy_unix
from tools.cli import UsageError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_LINE = re.compile(r"frames=(\d+) build_us=([\d.]+) cycle_us=([\d.]+) "
                   r"alloc_memory_bus=(-?[\d.]+) alloc_slcan=(-?[\d.]+)")


def _run(argv, env):
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    m = _LINE.search(out.stdout)
    if out.returncode != 0 or not m:
        raise UsageError("the benchmark run failed: %s" % (out.stderr or out.stdout).strip())
    return (int(m.group(1)),) + tuple(float(m.group(i)) for i in range(2, 6))


def run(args):
    n = 300 if args.quick else 5000
    if not mpy_unix.available():
        raise UsageError("no micropython next to %s: run `make setup`" % sys.executable)
    mpy = _run(mpy_unix.command("tools/mpy/can_workload.py", str(n)), mpy_unix.environment())
    cpy = _run([sys.executable, "tools/mpy/can_workload.py", str(n)],
               dict(os.environ, PYTHONPATH=ROOT))
    print("%-30s %10s %10s %14s %14s" % ("runtime", "build us", "cycle us", "alloc B/cycle", "alloc B/cycle"))
    print("%-30s %10s %10s %14s %14s" % ("", "(%d frames)" % mpy[0], "", "(memory bus)", "(SLCAN)"))
    print("%-30s %10.1f %10.1f %14.1f %14.1f" % (("MicroPython unix, 192K heap",) + mpy[1:]))
    print("%-30s %10.1f %10.1f %14s %14s" % ("CPython %d.%d" % sys.version_info[:2], cpy[1], cpy[2],
                                             "n/a", "n/a"))
    print("(%d builds and cycles per run; a cycle = PackSummary.update + Limits.update + "
          "Reporter.poll sending all frames; allocation over 200 cycles with gc disabled;" % n)
    print(" figures are for this machine's unix port: measure on the board for board timing)")
    alloc = max(mpy[3], mpy[4])
    print("can_build_us_mpy=%.1f can_alloc_bytes_per_cycle=%d" % (mpy[1], int(round(alloc))))
    return 0
