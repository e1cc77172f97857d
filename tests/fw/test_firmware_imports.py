# Every firmware module imports on this runtime, each in a clean module table:
# compiled from source, the whole firmware does not fit a 192 KB heap at once
# (boards load it precompiled or frozen), but every module with its dependencies must.
# Which modules: manifest.py, read by tools/manifest.py (the one list).

import gc
import sys

from tools import manifest


def test_every_firmware_module_imports():
    count = 0
    for mod in manifest.module_names():
        before = set(sys.modules)
        __import__(mod)
        assert mod in sys.modules, mod
        count += 1
        for name in list(sys.modules):
            if name not in before:
                del sys.modules[name]
        gc.collect()
    assert count >= 15, count
