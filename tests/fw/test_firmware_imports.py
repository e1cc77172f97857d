# Every firmware module imports on this runtime, each in a clean module table:
# compiled from source, the whole firmware does not fit a 192 KB heap at once
# (boards load it precompiled or frozen), but every module with its dependencies must.

import gc
import os
import sys

FIRMWARE = ("bms", "fsm", "states", "drivers", "protocols", "protocols/tesla", "protocols/victron",
            "boards")


def _modules():
    for folder in FIRMWARE:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in sorted(names):
            if name.endswith(".py"):
                mod = folder.replace("/", ".") + "." + name[:-3]
                if name == "__init__.py":
                    mod = folder.replace("/", ".")
                yield mod


def test_every_firmware_module_imports():
    count = 0
    for mod in _modules():
        before = set(sys.modules)
        __import__(mod)
        assert mod in sys.modules, mod
        count += 1
        for name in list(sys.modules):
            if name not in before:
                del sys.modules[name]
        gc.collect()
    assert count >= 15, count
