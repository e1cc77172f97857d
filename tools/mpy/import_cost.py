# What each firmware module holds of the heap once imported, for `pybms bench app`:
# imports the modules named on the command line in that order (the host passes a
# dependency order, so each line is that module's own cost, not its imports') and
# prints one IMPORT line per module (bytes held after gc.collect()), the total, and
# micropython.qstr_info() before and after (interned names: in RAM when loaded from
# .mpy files, in flash when frozen). The first .mpy module to outgrow a qstr pool
# pays for the next, larger pool: single lines of the .mpy run jump by that much.
# Usage: micropython -X heapsize=1024K tools/mpy/import_cost.py MODULE ...
import gc
import sys

import micropython


def held():
    gc.collect()
    return gc.mem_alloc()


base = held()
micropython.qstr_info()
for name in sys.argv[1:]:
    before = held()
    __import__(name)
    print("IMPORT %s %d" % (name, held() - before))
print("IMPORTS %d" % (held() - base))
micropython.qstr_info()
