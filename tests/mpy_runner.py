# Runs tests/fw/test_*.py under MicroPython: every module-level function named
# test_* is one test. Prints failures with tracebacks and a closing line
# "micropython: N passed, N failed, N skipped"; exits 1 on any failure or no test.
# Usage: MICROPYPATH=.frozen:<repo> micropython -X heapsize=192K tests/mpy_runner.py [module ...]

import gc
import os
import sys

from tests.fw.support import Skip


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
        except Skip as e:
            counts[2] += 1
        except Exception as e:
            counts[1] += 1
            print("FAIL", full + "." + test)
            sys.print_exception(e)
        gc.collect()
    del sys.modules[full]
    gc.collect()


def main(argv):
    counts = [0, 0, 0]  # passed, failed, skipped
    for name in (argv or discover()):
        run_module(name, counts)
    print("micropython: %d passed, %d failed, %d skipped" % (counts[0], counts[1], counts[2]))
    return 1 if counts[1] or not counts[0] else 0


sys.exit(main(sys.argv[1:]))
