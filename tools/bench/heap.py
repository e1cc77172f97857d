# `pybms bench heap`: heap the firmware core holds on a 32-bit MicroPython (as on
# an RP2040 or ESP32), imported from precompiled .mpy files (as deploy copies them)
# and frozen into the interpreter (bytecode in flash, as a board image built from
# manifest.py), then after building its objects for 16 modules. The workload is
# tools/mpy/heap_workload.py; the interpreter is the one tools/mpy/i686.py builds
# from MICROPYTHON_SRC. The frozen build takes about two minutes (--quick skips it).
# Last line: heap_import_mpy=... heap_objects_mpy=... [heap_import_frozen=...
# heap_objects_frozen=...]

import os
import re
import subprocess
import sys

from tools.cli import UsageError
from tools.mpy import i686

ROOT = i686.ROOT
WORKLOAD = os.path.join(ROOT, "tools", "mpy", "heap_workload.py")
_LINE = re.compile(r"HEAP import_bytes=(\d+) objects_bytes=(\d+) total_bytes=(\d+)")


def _measure(exe, micropypath):
    r = subprocess.run([exe, "-X", "heapsize=1M", WORKLOAD], cwd="/",
                       env=dict(os.environ, MICROPYPATH=micropypath),
                       capture_output=True, text=True, timeout=120)
    m = _LINE.search(r.stdout)
    if r.returncode != 0 or not m:
        raise UsageError("the heap workload failed: %s" % (r.stderr or r.stdout).strip())
    return tuple(int(m.group(i)) for i in (1, 2, 3))


def _frozen(src):
    print("freezing manifest.py into a 32-bit interpreter (about two minutes) ...")
    sys.stdout.flush()
    ok, output = i686.build_frozen(src)
    if not ok:
        raise UsageError("the frozen build failed: %s" % output[-2000:])
    return i686.FROZEN


def run(args):
    src = i686.source_dir()
    why = i686.why_unavailable(src)
    if why:
        raise UsageError("needs the 32-bit MicroPython: %s" % why)
    if not i686.build(src):
        raise UsageError("building the 32-bit MicroPython failed")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy", "build.py"),
                        i686.MPY_OUT, os.path.join(i686.OUT, "mpy-cross")],
                       cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, PYBMS_MPY_MARCH="x86"))  # viper code for i686
    if r.returncode != 0:
        raise UsageError("mpy-cross failed: %s" % r.stderr.strip())
    rows = [("precompiled .mpy", _measure(os.path.join(i686.OUT, "micropython"), i686.MPY_OUT))]
    if not args.quick:
        rows.append(("frozen (manifest.py)", _measure(_frozen(src), ".frozen")))
    print("%-24s %12s %12s %12s" % ("32-bit MicroPython", "import B", "objects B", "total B"))
    for name, (imp, obj, tot) in rows:
        print("%-24s %12d %12d %12d" % (name, imp, obj, tot))
    print("(core: config, diagnosis, pack, checks, limits, machine, event log, contactors, CAN,")
    print(" Tesla bus master, Victron reporter, board HAL; objects for 16 modules; gc.mem_alloc)")
    figures = "heap_import_mpy=%d heap_objects_mpy=%d" % rows[0][1][:2]
    if len(rows) > 1:
        figures += " heap_import_frozen=%d heap_objects_frozen=%d" % rows[1][1][:2]
    print(figures)
    return 0
