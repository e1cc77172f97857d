# Runs tests/fw/test_*.py under MicroPython: every module-level function named
# test_* is one test. Each test module runs in its own interpreter with the full
# board-sized heap (as a board would hold one program, not the whole suite), so a
# module that cannot fit fails here rather than passing thanks to a big machine.
# Prints failures with tracebacks and a closing line
# "micropython: N passed, N failed, N skipped"; exits 1 on any failure or no test.
#
# Usage (from the repository root; `make test-micropython` does both steps):
#   python tools/mpy/build.py build/mpy      # precompile, as deploy will
#   MICROPYPATH=.frozen:build/mpy micropython -X heapsize=192K tools/mpy/run_tests.py [module ...]
# (MICROPYPATH=.frozen:<repo> runs the sources instead, handy while editing.)
# PYBMS_MPY_HEAP sets the child interpreters' heap (default 192K).

import gc
import os
import sys

RESULT_FILE = "/tmp/pybms-mpy-result-%s.txt"  # unique per run: runs may overlap


def discover():
    names = [n[:-3] for n in os.listdir("tests/fw") if n.startswith("test_") and n.endswith(".py")]
    names.sort()
    return names


def run_module(name, counts):
    full = "tests.fw." + name
    try:
        __import__(full)
        module = sys.modules[full]
    except Exception as e:
        counts[1] += 1
        print("FAIL", full, "(import)")
        sys.print_exception(e)
        return
    tests = [n for n in dir(module) if n.startswith("test_")]
    tests.sort()
    for test in tests:
        fn = getattr(module, test)
        try:
            fn()
            counts[0] += 1
        except Exception as e:
            # tests.fw.support.Skip, matched by name: importing support here would
            # load half the firmware before the test module and skew its heap.
            if type(e).__name__ == "Skip":
                counts[2] += 1
                continue
            counts[1] += 1
            print("FAIL", full + "." + test)
            sys.print_exception(e)
        gc.collect()


def child(result_path, name):
    counts = [0, 0, 0]
    run_module(name, counts)
    with open(result_path, "w") as f:
        f.write("%d %d %d" % (counts[0], counts[1], counts[2]))


# Test modules that build the whole application (app/) get PYBMS_MPY_APP_HEAP: as
# .mpy files the application needs ~195 KB on a 32-bit board (pybms bench app; a
# board runs it frozen, ~63 KB), ~1.6x that on the 64-bit unix port. The import test
# is one of them: app.boot's dependencies are the whole application (the 32-bit run
# still imports it at 192K).
APP_MODULES = ("test_app", "test_app_alloc", "test_app_boot", "test_app_log",
               "test_app_current_sensor", "test_firmware_imports", "test_app_entry")


def parent(names):
    heap = os.getenv("PYBMS_MPY_HEAP") or "192K"
    app_heap = os.getenv("PYBMS_MPY_APP_HEAP") or heap
    import binascii
    result_path = RESULT_FILE % binascii.hexlify(os.urandom(6)).decode()
    totals = [0, 0, 0]
    for name in names:
        try:
            os.remove(result_path)
        except OSError:
            pass
        os.system("%s -X heapsize=%s %s --child %s %s"
                  % (sys.executable, app_heap if name in APP_MODULES else heap, sys.argv[0],
                     result_path, name))
        try:
            with open(result_path) as f:
                counts = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            print("FAIL tests.fw.%s (the interpreter died before reporting)" % name)
            counts = [0, 1, 0]
        for i in range(3):
            totals[i] += counts[i]
    try:
        os.remove(result_path)
    except OSError:
        pass
    print("micropython: %d passed, %d failed, %d skipped" % (totals[0], totals[1], totals[2]))
    return 1 if totals[1] or not totals[0] else 0


def main(argv):
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    return parent(argv or discover())


sys.exit(main(sys.argv[1:]))
