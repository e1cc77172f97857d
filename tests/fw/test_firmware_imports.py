# Every firmware module imports on this runtime (boards/ files for other ports
# excepted: they need that port's machine module and are compiled by mpy-cross).

import os
import sys

FIRMWARE = ("bms", "fsm", "states", "drivers", "protocols", "protocols/tesla", "protocols/victron")
BOARD_ONLY = ()


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
                if mod not in BOARD_ONLY:
                    yield mod


def test_every_firmware_module_imports():
    count = 0
    for mod in _modules():
        __import__(mod)
        assert mod in sys.modules, mod
        count += 1
    assert count >= 15, count
