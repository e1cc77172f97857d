# Firmware imports only what MicroPython has and other firmware: never host
# libraries (transitions, pyserial, python-can, cantools...) nor host tools.

import ast
import os

from tests.host.firmware_files import FIRMWARE_DIRS, ROOT, firmware_files

# Modules a MicroPython port provides (some only on boards, imported under try).
MICROPYTHON_MODULES = {
    "array", "asyncio", "binascii", "collections", "errno", "gc", "io", "json", "machine",
    "math", "micropython", "network", "os", "random", "re", "select", "socket", "struct",
    "sys", "termios", "time", "uctypes", "rp2", "esp32", "esp", "hashlib", "heapq",
    "framebuf", "bluetooth", "neopixel", "ssl", "deflate", "platform", "ffi",
    "mcp2515",  # the micropython-mcp2515 package as deploy installs it on the board
}
# CPython-only modules firmware may import inside try/except ImportError fallbacks.
CPYTHON_FALLBACKS = {"tty"}
FIRMWARE_PACKAGES = set(FIRMWARE_DIRS) | {"simulator"}
FORBIDDEN = {"typing", "dataclasses", "enum", "abc", "logging", "transitions", "serial",
             "can", "cantools", "hypothesis", "pytest", "tools", "tests", "numpy"}


def _imports(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield "<relative>", node.lineno
            else:
                yield node.module.split(".")[0], node.lineno


def test_firmware_imports_only_micropython_modules_and_firmware():
    files = firmware_files()
    assert len(files) >= 20
    allowed = MICROPYTHON_MODULES | CPYTHON_FALLBACKS | FIRMWARE_PACKAGES
    bad = []
    for path in files:
        rel = os.path.relpath(path, ROOT)
        for name, line in _imports(path):
            if name in FORBIDDEN or name not in allowed:
                bad.append("%s:%d imports %s" % (rel, line, name))
    assert not bad, "\n".join(bad)


# mpy-cross catches grammar; these compile but fail on some MicroPython ports.
MISSING_AT_RUNTIME = ("asyncio.Queue", "signed=True", "__slots__")


def test_firmware_avoids_apis_micropython_lacks():
    bad = []
    for path in firmware_files():
        src = open(path).read()
        for needle in MISSING_AT_RUNTIME:
            if needle in src:
                bad.append("%s uses %s" % (os.path.relpath(path, ROOT), needle))
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import logging\nfrom transitions import Machine\nfrom . import y\n")
    assert [n for n, _ in _imports(str(sample))] == ["logging", "transitions", "<relative>"]
