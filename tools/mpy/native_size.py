# How much of an RP2040's heap the firmware's native code (@micropython.viper)
# takes when it is deployed as .mpy files. The rp2 port has no executable memory of
# its own (no MP_PLAT_ALLOC_EXEC in ports/rp2/mpconfigport.h), so the loader puts
# each native function's machine code in the GC heap; the 32-bit unix port that
# `pybms bench app` measures on maps it outside its heap instead. Frozen into a
# board image the code stays in flash, so only the .mpy figure carries it.
# Measured from the firmware compiled as an RP2040 gets it (-march=armv6m, no line
# numbers), read with the mpy-tool.py of the pinned MicroPython source.
#
# Usage: python tools/mpy/native_size.py MODULE ...   (bytes, rounded to GC blocks)

import importlib.util
import os
import subprocess
import sys
import tempfile

from tools.mpy import i686

BLOCK = 16   # GC block on a 32-bit port
_TOOL = []   # mpy-tool.py, once loaded


def _mpy_tool():
    if _TOOL:
        return _TOOL[0]
    path = os.path.join(i686.OUT, "src", "micropython", "tools", "mpy-tool.py")
    if not os.path.exists(path):
        return None
    sys.path.insert(0, os.path.join(i686.OUT, "src", "micropython", "py"))
    spec = importlib.util.spec_from_file_location("pybms_mpy_tool", path)
    tool = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, [path]
    try:
        spec.loader.exec_module(tool)
    finally:
        sys.argv = argv
    c = tool.config
    c.native_arch, c.arch_flags = tool.MP_NATIVE_ARCH_NONE, 0
    c.MICROPY_QSTR_BYTES_IN_LEN, c.MICROPY_QSTR_BYTES_IN_HASH = 1, 1
    c.MICROPY_LONGINT_IMPL, c.MPZ_DIG_SIZE = c.MICROPY_LONGINT_IMPL_MPZ, 16
    tool.global_qstrs = tool.GlobalQStrList()
    _TOOL.append(tool)
    return tool


def _native(tool, rc):
    n = 0
    if isinstance(rc, tool.RawCodeNative):
        n += -(-len(rc.fun_data) // BLOCK) * BLOCK
    for child in rc.children:
        n += _native(tool, child)
    return n


def native_bytes(modules, root=i686.ROOT):
    """{module: heap bytes its native functions take on an RP2040} for the firmware
    modules named (dotted), or None when the pinned source's tools are missing."""
    tool = _mpy_tool()
    cross = os.path.join(i686.OUT, "mpy-cross")
    if tool is None or not os.path.exists(cross):
        return None
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for m in modules:
            base = os.path.join(*m.split("."))
            for rel in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.exists(os.path.join(root, rel)):
                    break
            else:
                continue
            target = os.path.join(tmp, m + ".mpy")
            r = subprocess.run([cross, "-march=armv6m", "-X", "no-source-lines", "-s", rel,
                                "-o", target, rel], cwd=root, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("mpy-cross failed on %s: %s" % (rel, r.stderr))
            n = _native(tool, tool.read_mpy(target).raw_code)
            if n:
                out[m] = n
    return out


if __name__ == "__main__":
    sizes = native_bytes(sys.argv[1:])
    if sizes is None:
        sys.exit("no pinned MicroPython source built in build/i686 (make test-micropython32)")
    for m in sorted(sizes, key=lambda k: -sizes[k]):
        print("%-32s %6d" % (m, sizes[m]))
    print("total %d" % sum(sizes.values()))
