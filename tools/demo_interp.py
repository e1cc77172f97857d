# Which MicroPython runs the demo's firmware: the 32-bit unix port with the
# firmware frozen in (bytecode in the binary, as a board image; heap as on an
# RP2040) when the pinned MicroPython source is available (tools/mpy/i686.py finds
# it: MICROPYTHON_SRC, else ../shared/micropython), built once into build/i686 and
# rebuilt when the firmware changes (a failed build is not retried until then);
# else the unix port from PyPI
# (.venv/bin/micropython, 64-bit: objects ~1.6x a board's, so a larger heap) with
# the firmware precompiled to .mpy as deploy copies it. Host only.

import hashlib
import os
import subprocess
import sys

from tools import manifest, mpy_unix
from tools.mpy import i686

ROOT = mpy_unix.ROOT
FROZEN = i686.FROZEN
FROZEN_STAMP = os.path.join(i686.OUT, ".frozen-firmware")
MPY_DIR = os.path.join(ROOT, "build", "mpy-demo")   # its own: make test-micropython rebuilds build/mpy
MAIN = os.path.join(ROOT, "main.py")   # what a board boots, copied next to its state
HEAP_32 = "160K"   # an RP2040's free heap with room to spare
HEAP_64 = "512K"   # the 64-bit port: the same objects are ~1.6x bigger, plus headroom


class Interpreter:
    """argv: the interpreter and its options; script: what it runs (main.py, copied
    into the run's folder so that the firmware is imported from `env`'s
    MICROPYPATH, the frozen modules or the .mpy files, not from the checkout)."""

    def __init__(self, argv, env, label, script=MAIN):
        self.argv = argv
        self.env = env
        self.label = label
        self.script = script


def _firmware_fingerprint():
    h = hashlib.sha256(i686.FROZEN_MPY_CROSS_FLAGS.encode())
    for path in sorted(manifest.firmware_files()):
        with open(os.path.join(ROOT, path), "rb") as f:
            h.update(path.encode() + b"\0" + f.read())
    return h.hexdigest()


def _stamp():
    try:
        with open(FROZEN_STAMP) as f:
            return f.read().split()
    except OSError:
        return []


def frozen(say=print):
    """The frozen 32-bit interpreter, built if needed; None with the reason said. A
    build that failed for this firmware is not retried until the firmware changes."""
    src = i686.source_dir()
    why = i686.why_unavailable(src)
    if why:
        say("32-bit build unavailable (%s)" % why)
        return None
    want = _firmware_fingerprint()
    stamp = _stamp()
    if stamp == ["failed", want]:
        say("the frozen build failed for this firmware before (%s); not retried"
            % os.path.relpath(FROZEN_STAMP, ROOT))
        return None
    if stamp != [want] or not os.path.exists(FROZEN):
        say("freezing the firmware (manifest.py) into a 32-bit MicroPython "
            "(once per firmware change, about two minutes) ...")
        ok, output = i686.build_frozen(src)
        os.makedirs(i686.OUT, exist_ok=True)
        with open(FROZEN_STAMP, "w") as f:
            f.write(("%s\n" if ok else "failed %s\n") % want)
        if not ok:
            tail = [x for x in output.splitlines() if "warning" not in x.lower()][-6:]
            say("the frozen build failed:\n  " + "\n  ".join(tail))
            return None
    # Frozen modules are found through ".frozen" on the path; nothing else.
    env = dict(os.environ, MICROPYPATH=".frozen")
    return Interpreter([FROZEN, "-X", "heapsize=" + HEAP_32], env,
                       "32-bit MicroPython, firmware frozen, heap %s" % HEAP_32)


def pypi(say=print):
    if not mpy_unix.available():
        return None
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy", "build.py"), MPY_DIR],
                       cwd=ROOT, capture_output=True, text=True)
    path = ".frozen:" + (MPY_DIR if r.returncode == 0 else ROOT)
    if r.returncode != 0:
        say("mpy-cross failed, running the firmware from source: %s" % r.stderr.strip()[-300:])
    env = dict(os.environ, MICROPYPATH=path)
    return Interpreter([mpy_unix.EXE, "-X", "heapsize=" + HEAP_64], env,
                       "MicroPython unix port (PyPI, 64-bit), firmware as .mpy, heap %s" % HEAP_64)


def choose(say=print):
    """Frozen 32-bit, else the PyPI unix port."""
    interp = frozen(say)
    if interp is None:
        say("using the PyPI unix port")
    return interp or pypi(say)
