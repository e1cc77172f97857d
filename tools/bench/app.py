# `pybms bench app`: the whole application (app/) on the 32-bit MicroPython build
# (as an RP2040 or ESP32 holds it) and on an emulated Cortex-M0:
# - the smallest heap that runs it with 16 and 62 modules, firmware precompiled
#   (.mpy, as deploy copies files) and frozen (bytecode in flash, manifest.py);
# - heap held after start and its high-water (both above the bench's own share:
#   the workload's bytecode and canned boards), bytes allocated per steady pass
#   (goal 0), and the per-task table (period, mean, worst, overruns);
# - the heap each module's import holds, frozen and .mpy (tools/mpy/import_cost.py,
#   dependency order), with the interned names;
# - one full loop pass (every task due) in Cortex-M0 instructions (qemu-m0.sh), 16
#   and 62 modules, after the heap has been used;
# - real time with 62 modules whose boards all stop answering: the longest task and
#   the largest gap between Victron cycles (the GX gives up past ~1.2 s here).
# Workload: tools/mpy/app_workload.py (+ app_m0.py on the M0). --quick: .mpy only, no
# frozen build, no M0.
# The figures in the last line are what the application needs on a board: the
# smallest heap that runs the workload, less the workload's own share (its code,
# canned boards and I2C), plus, for .mpy files, the native code an RP2040 loads into
# its heap (tools/mpy/native_size.py; the unix port keeps it outside its heap).
# Last line: app_min_heap_kb_frozen_62=... app_min_heap_kb_mpy_62=...
# app_alloc_bytes_per_pass=... loop_pass_minstr_m0_62=... loop_pass_minstr_m0_16=...
# max_task_block_ms_62=... can_gap_ms_max=...

import ast
import os
import re
import shutil
import subprocess
import sys

from tools.cli import UsageError
from tools.mpy import i686

ROOT = i686.ROOT
WORKLOAD = os.path.join(ROOT, "tools", "mpy", "app_workload.py")
WORKLOAD_DIR = os.path.join(ROOT, "build", "bench-app")
DEPLOY_MPY = os.path.join(ROOT, "build", "mpy-i686-deploy")
SHARED = os.environ.get("PYBMS_MICROPYTHON_DIR", "/work/shared/micropython")
M0_OUT = os.path.join(ROOT, "build", "m0-app")
CPI = 1.8            # qemu-m0.sh: RP2040 cycles per instruction (1.3..2.0)
CLOCK_KHZ = 125000   # RP2040 at 125 MHz
_APP = re.compile(r"APP modules=(\d+) state=(\w+) held=(\d+) peak=(\d+) alloc_per_pass=(-?\d+) "
                  r"base=(\d+)")
_TASK = re.compile(r"TASK (\w+) period=(\d+) runs=(\d+) mean_us=(\d+) worst_us=(\d+) "
                   r"overruns=(\d+)")


IMPORT_COST = os.path.join(ROOT, "tools", "mpy", "import_cost.py")
# What app.entry loads: the loop's code (app.application), the boot stages (their
# imports are inside them: listed here), plus what the board's data makes
# boards.hal import for the bench's parts (the Tesla bus master, memory CAN,
# record store, event log).
IMPORT_ROOTS = ("app.entry", "app.application", "app.boot", "bms.config", "boards.hal",
                "app.parts", "app.persist", "drivers.operator_inputs", "fsm.eventlog",
                "drivers.tesla_bus", "drivers.can", "drivers.storage")


def _top_imports(module):
    """pyBMS modules `module` imports at its top level, its packages first (a
    package that imports its submodules is charged with them); lazy imports inside
    functions are left out: they load only when a board's data asks for them."""
    path = _module_file(module)
    parts = module.split(".")
    out = [".".join(parts[:k]) for k in range(1, len(parts))]   # its packages first
    for node in ast.parse(open(path).read()).body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [node.module + "." + a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            for k in range(1, len(parts) + 1):
                if _module_file(".".join(parts[:k])):
                    out.append(".".join(parts[:k]))
    return out


def _module_file(module):
    base = os.path.join(ROOT, *module.split("."))
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.exists(path):
            return path
    return None


def import_order(roots=IMPORT_ROOTS):
    """The modules the roots load, each after everything it imports."""
    order, seen = [], set()

    def visit(m):
        if m in seen:
            return
        seen.add(m)
        for d in _top_imports(m):
            visit(d)
        order.append(m)
    for r in roots:
        visit(r)
    # Importing a submodule runs its package first: list the package there, so a
    # package that imports its submodules (protocols.tesla) is charged with them.
    out = []
    for m in order:
        parts = m.split(".")
        for k in range(1, len(parts) + 1):
            name = ".".join(parts[:k])
            if name not in out:
                out.append(name)
    return out


_QSTR = re.compile(r"n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)")


def import_costs(exe, path):
    """({module: bytes held}, total, (qstrs, qstr bytes) added by the imports)."""
    # -m, not a script path: a script's folder would take sys.path's '' entry.
    cwd, micropypath = _where(path, (os.path.dirname(IMPORT_COST),))
    r = subprocess.run([exe, "-X", "heapsize=1024K", "-m", "import_cost"] + import_order(),
                       cwd=cwd, env=dict(os.environ, MICROPYPATH=micropypath),
                       capture_output=True, text=True, timeout=120)
    costs = dict((m, int(b)) for m, b in re.findall(r"IMPORT (\S+) (-?\d+)", r.stdout))
    total = re.search(r"IMPORTS (\d+)", r.stdout)
    q = _QSTR.findall(r.stdout)
    if not total or len(q) != 2:
        raise UsageError("the import cost run failed: %s" % (r.stderr or r.stdout)[-2000:])
    return costs, int(total.group(1)), (int(q[1][0]) - int(q[0][0]), int(q[1][2]) - int(q[0][2]))


def _workload_mpy():
    """The workload precompiled (build/bench-app/app_workload.mpy), as a board's
    firmware is: run from source, its compiled code (~10 KB) would sit in the
    heap the bench measures, where a board has a two-line main.py."""
    os.makedirs(WORKLOAD_DIR, exist_ok=True)
    r = subprocess.run([os.path.join(i686.OUT, "mpy-cross"), "-march=x86", "-X",
                        "no-source-lines", "-o", os.path.join(WORKLOAD_DIR, "app_workload.mpy"),
                        WORKLOAD],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise UsageError("mpy-cross failed on the workload: %s" % r.stderr.strip())


def _where(path, extra=()):
    """(cwd, MICROPYPATH) that find the firmware in `path` as a board finds it.
    Deployed .mpy files sit at the root of a board's filesystem and load through
    sys.path's '' entry: each module's __file__ ("bms/soc.mpy"), an interned name
    held for good, is as long as on the board, not this machine's build folder
    (~2 KB more over ~70 modules). Frozen firmware is found through ".frozen" from
    a neutral folder, where no .mpy can shadow it."""
    if path == ".frozen":
        return "/", ":".join((path,) + tuple(extra))
    return path, ":".join(("",) + tuple(extra))


def _run(exe, path, heap_kb, args, timeout=300):
    """The workload at a heap of heap_kb KB (a float: the search refines below 1 KB)."""
    cwd, micropypath = _where(path, (WORKLOAD_DIR,))
    return subprocess.run([exe, "-X", "heapsize=%d" % int(heap_kb * 1024), "-m", "app_workload"]
                          + [str(a) for a in args],
                          cwd=cwd, env=dict(os.environ, MICROPYPATH=micropypath),
                          capture_output=True, text=True, timeout=timeout)


def _runs(exe, path, heap_kb, modules, passes=300):
    """It runs: the workload finished and the machine is in Run. A MemoryError inside
    a task is caught by the scheduler and sends the machine to Fault (fail-safe), so
    finishing alone is not enough."""
    r = _run(exe, path, heap_kb, (modules, passes))
    m = _APP.search(r.stdout)
    return r.returncode == 0 and m is not None and m.group(2) == "Run"


STEP_KB = 0.25   # the finest step of the smallest-heap search


def min_heap_kb(exe, path, modules, lo=16, hi=1024):
    """Smallest heap (KB, to STEP_KB) that runs the application: start, precharge,
    Run and steady passes. A binary search to 1 KB, then down in STEP_KB steps for
    as long as every step runs: a heap a little smaller than one that fails can
    run again (the layout moves with it), and a lucky one below a failure is not
    the application's need."""
    if not _runs(exe, path, hi, modules):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _runs(exe, path, mid, modules):
            hi = mid
        else:
            lo = mid
    h = float(hi)
    while h - STEP_KB > lo and _runs(exe, path, h - STEP_KB, modules):
        h -= STEP_KB
    return h


def details(exe, path, modules):
    r = _run(exe, path, 1024, (modules, 3000, "loaded"))
    m = _APP.search(r.stdout)
    if not m:
        raise UsageError("the app workload failed: %s" % (r.stderr or r.stdout)[-2000:])
    tasks = [t.groups() for t in _TASK.finditer(r.stdout)]
    loaded = re.findall(r"LOADED (\S+)", r.stdout)
    return {"state": m.group(2), "held": int(m.group(3)), "peak": int(m.group(4)),
            "alloc": int(m.group(5)), "base": int(m.group(6)), "tasks": tasks,
            "loaded": sorted(loaded)}


def realtime(exe, path, modules, ms=6000):
    r = _run(exe, path, 1024, (modules, ms, "realtime"), timeout=120)
    gap = re.search(r"CAN_GAP ms=(\d+)", r.stdout)
    block = re.search(r"BLOCK ms=(\d+)", r.stdout)
    if not gap or not block:
        raise UsageError("the real-time run failed: %s" % (r.stderr or r.stdout)[-2000:])
    return int(block.group(1)), int(gap.group(1)), [t.groups() for t in _TASK.finditer(r.stdout)]


def m0_counts(sizes=(16, 62)):
    """{modules: instructions of one full pass (the median of the guest's measured
    passes, machine in Run)} on the emulated Cortex-M0, firmware frozen from
    manifest.py, with (modules, "spread"): (min, max, passes) and (modules, "tasks"):
    each task's median; None when the tools are missing."""
    script = os.path.join(SHARED, "qemu-m0.sh")
    if not (os.path.exists(script) and shutil.which("qemu-system-arm")
            and shutil.which("arm-none-eabi-gcc")):
        return None
    # The firmware as the module bus bench builds it (native emitter and armv6m code
    # for the bus master's viper functions, as ports/rp2 has them); rebuilt here
    # every run, since that builder does not watch app/.
    from tools.bench import tesla_m0
    stale = os.path.join(tesla_m0.OUT, "firmware.elf")
    if os.path.exists(stale):
        os.remove(stale)
    elf = tesla_m0.build()
    os.makedirs(M0_OUT, exist_ok=True)
    out = {}
    with open(WORKLOAD) as f:
        body = f.read()
    # The guest's main() is called at the end of the workload: the M0 part goes in
    # before that call.
    call = body.rindex("try:\n    ARGS")
    with open(os.path.join(ROOT, "tools", "mpy", "app_m0.py")) as f:
        body = body[:call] + f.read() + "\n\n" + body[call:]
    for n in sizes:
        guest = os.path.join(M0_OUT, "guest_%d.py" % n)
        with open(guest, "w") as g:
            g.write("ARGS = (%d, 200, 'm0')\n" % n + body)
        r = subprocess.run([script, "run", elf, guest, "900"], capture_output=True, text=True,
                           env=dict(os.environ, PYTHON=sys.executable), timeout=1200)
        m = re.search(r"M0 modules=(\d+) state=(\w+) pass_us=(\d+) min_us=(\d+) max_us=(\d+) "
                      r"tries=(\d+)", r.stdout)
        if not m:
            raise UsageError("the M0 run failed: %s %s" % (r.stdout[-1500:], r.stderr[-1500:]))
        if m.group(2) != "Run":
            # A faulted machine skips work and adds other work: not the pass counted.
            raise UsageError("the M0 pass ran in %s, not Run: %s" % (m.group(2), r.stdout[-1500:]))
        out[n] = int(m.group(3)) * 1000
        out[(n, "spread")] = (int(m.group(4)) * 1000, int(m.group(5)) * 1000, int(m.group(6)))
        out[(n, "tasks")] = [(t.group(1), int(t.group(2)) * 1000)
                             for t in re.finditer(r"M0TASK (\w+) us=(\d+)", r.stdout)]
    return out


def _frozen(src):
    print("freezing manifest.py into a 32-bit interpreter (about two minutes) ...")
    sys.stdout.flush()
    ok, output = i686.build_frozen(src)
    if not ok:
        raise UsageError("the frozen build failed: %s" % output[-2000:])
    return i686.FROZEN


def _mpy(src):
    """The 32-bit interpreter as an RP2040 keeps interned names (i686.build_rp2)
    and the firmware as deploy copies it (build.py --deploy: firmware only, no
    line numbers), in its own folder: the tests' .mpy build keeps its line
    numbers."""
    if not (i686.build(src) and i686.build_rp2(src)):
        raise UsageError("building the 32-bit MicroPython failed")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy", "build.py"),
                        DEPLOY_MPY, os.path.join(i686.OUT, "mpy-cross"), "--deploy"],
                       cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, PYBMS_MPY_MARCH="x86"))
    if r.returncode != 0:
        raise UsageError("mpy-cross failed: %s" % r.stderr.strip())
    _workload_mpy()
    return os.path.join(i686.RP2_OUT, "micropython"), DEPLOY_MPY


def run(args):
    src = i686.source_dir()
    why = i686.why_unavailable(src)
    if why:
        raise UsageError("needs the 32-bit MicroPython: %s" % why)
    exe, path = _mpy(src)
    runtimes = [(".mpy", exe, path)]
    if not args.quick:
        # The workload lives outside the manifest; the firmware comes from flash.
        runtimes.append(("frozen", _frozen(src), ".frozen"))
    heaps = {}
    det = {}
    imports = {}
    for name, e, p in runtimes:
        for n in (16, 62):
            heaps[(name, n)] = min_heap_kb(e, p, n)
            det[(name, n)] = details(e, p, n)
        imports[name] = import_costs(e, p)
    d62 = det[(".mpy", 62)]
    d16 = det[(".mpy", 16)]
    block, gap, rt_tasks = realtime(exe, path, 62)
    m0 = None if args.quick else m0_counts()

    from tools.mpy.native_size import native_bytes
    native = {}
    for n in (16, 62):
        sizes = native_bytes(det[(".mpy", n)]["loaded"])
        native[n] = sum(sizes.values()) if sizes is not None else None
    extra = {}   # what a board holds beyond the bench's run: the native code, .mpy only
    need = {}
    for name, _e, _p in runtimes:
        for n in (16, 62):
            h = heaps[(name, n)]
            x = extra[(name, n)] = native[n] if name == ".mpy" else 0
            # KB to 0.1, rounded up
            need[(name, n)] = None if h is None or x is None else \
                -(-(int(h * 1024) - det[(name, n)]["base"] + x) * 10 // 1024) / 10

    print("32-bit MicroPython, whole application (16 / 62 modules); held and peak are")
    print("bytes above the workload's own (its bytecode and the canned boards: 'bench')")
    print("%-10s %8s %10s %10s %10s %10s %12s" % ("firmware", "modules", "min heap", "held B",
                                                   "peak B", "bench B", "alloc/pass"))
    for name, _e, _p in runtimes:
        for n in (16, 62):
            h = heaps[(name, n)]
            d = det[(name, n)]
            print("%-10s %8d %9sK %10d %10d %10d %12d" % (
                name, n, h if h is not None else ">1024", d["held"], d["peak"], d["base"],
                d["alloc"]))
    print("\nthe heap the application needs on a board: the smallest heap that runs the")
    print("bench, less the bench's own share (its code, canned boards and I2C: a board has")
    print("a two-line main.py), plus for .mpy files the native code (@micropython.viper)")
    print("an RP2040 loads into its heap (armv6m; the unix port maps it outside the heap;")
    print("frozen, it stays in flash)")
    print("%-10s %8s %10s %10s %12s %10s" % ("firmware", "modules", "min heap", "bench B",
                                            "native B", "needs"))
    for name, _e, _p in runtimes:
        for n in (16, 62):
            x = extra[(name, n)]
            print("%-10s %8d %9sK %10d %12s %9sK" % (
                name, n, heaps[(name, n)], det[(name, n)]["base"],
                x if x is not None else "unknown", need[(name, n)]))
    print("\nheap held by each module's import (dependency order; 'protocols.tesla' includes")
    print("the submodules its __init__ imports; a module whose names open a new pool of")
    print("interned names carries that pool, ~9 KB as .mpy: MicroPython doubles the pools):")
    print("the largest of either form")
    print("%-28s %10s %10s" % ("module", "frozen B", ".mpy B"))
    mpy_costs = imports[".mpy"][0]
    frozen_costs = imports["frozen"][0] if "frozen" in imports else {}
    shown = set(sorted(mpy_costs, key=lambda k: -mpy_costs[k])[:12])
    shown.update(sorted(frozen_costs, key=lambda k: -frozen_costs[k])[:12])
    for m in sorted(shown, key=lambda k: (-frozen_costs.get(k, 0), -mpy_costs.get(k, 0))):
        print("%-28s %10s %10s" % (m, frozen_costs.get(m, "-"), mpy_costs.get(m, "-")))
    for name in imports:
        total, (nq, qb) = imports[name][1], imports[name][2]
        print("%-6s imports hold %d B in all, of which %d interned names take %d B"
              % (name, total, nq, qb))
    print("\nper task, 62 modules, simulated 10 ms passes (.mpy, i686 host: us are host time)")
    print("%-12s %8s %8s %10s %10s %9s" % ("task", "period", "runs", "mean us", "worst us",
                                            "overruns"))
    for t in d62["tasks"]:
        print("%-12s %8s %8s %10s %10s %9s" % t)
    print("\nreal time, 62 modules, every board silent after start (module bus worst case)")
    print("%-12s %8s %8s %10s %10s %9s" % ("task", "period", "runs", "mean us", "worst us",
                                            "overruns"))
    for t in rt_tasks:
        print("%-12s %8s %8s %10s %10s %9s" % t)
    print("longest task %d ms, largest gap between Victron cycles %d ms" % (block, gap))
    if m0:
        print("\none full loop pass (every task due) on the emulated Cortex-M0, frozen firmware,")
        print("machine in Run: the median of the passes measured after warm-up ones")
        for n in (16, 62):
            lo, hi, tries = m0[(n, "spread")]
            print("%3d modules: %.3f M instructions (~%.0f ms on an RP2040 at 125 MHz); "
                  "%d passes %.3f-%.3f M" % (n, m0[n] / 1e6, m0[n] * CPI / CLOCK_KHZ, tries,
                                             lo / 1e6, hi / 1e6))
            print("    " + ", ".join("%s %.2f M" % (name, ins / 1e6)
                                     for name, ins in m0[(n, "tasks")]))
    fz = need.get(("frozen", 62))
    print("app_min_heap_kb_frozen_62=%s app_min_heap_kb_mpy_62=%s app_alloc_bytes_per_pass=%d "
          "loop_pass_minstr_m0_62=%s loop_pass_minstr_m0_16=%s max_task_block_ms_62=%d "
          "can_gap_ms_max=%d" % (
              fz if fz is not None else "na", need[(".mpy", 62)], max(d16["alloc"], d62["alloc"]),
              "%.2f" % (m0[62] / 1e6) if m0 else "na", "%.2f" % (m0[16] / 1e6) if m0 else "na",
              block, gap))
    return 0
