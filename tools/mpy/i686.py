# The dual-runtime tests on a 32-bit MicroPython: 4-byte words and 16-byte GC
# blocks as on an RP2040 or ESP32, at a board-like heap, so a test module that would
# not fit a board's RAM fails here (the 64-bit unix port from PyPI needs ~1.6x the
# heap for the same objects). The interpreter is built once from the pinned source
# by MICROPYTHON_SRC/build-i686.sh into build/i686 and reused until that source or
# script changes. When the source or the cross compiler is missing, says so plainly
# and exits 0: the other runs still test everything, only not at 32 bits.
#
# Usage (`make test-micropython32`, part of `make test`):
#   python tools/mpy/i686.py [--src DIR] [--heap 192K] [--build-only] [module ...]
# MICROPYTHON_SRC (or --src): the folder with build-i686.sh and the pinned
# micropython-*-src.tar.gz; default ../shared/micropython beside this repository.

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "build", "i686")
MPY_OUT = os.path.join(ROOT, "build", "mpy-i686")
DEFAULT_SRC = os.path.join(os.path.dirname(ROOT), "shared", "micropython")
HEAP = "192K"  # an RP2040's MicroPython heap is about this big


def source_dir(given=None):
    return os.path.abspath(given or os.environ.get("MICROPYTHON_SRC") or DEFAULT_SRC)


def why_unavailable(src):
    """None when the 32-bit interpreter can be built (or is built), else why not."""
    if not os.path.exists(os.path.join(src, "build-i686.sh")):
        return "no build-i686.sh in MICROPYTHON_SRC=%s (point MICROPYTHON_SRC at the " \
               "folder with the pinned MicroPython source)" % src
    if not glob.glob(os.path.join(src, "micropython-*-src.tar.gz")):
        return "no pinned micropython-*-src.tar.gz in %s" % src
    if not _fresh(src) and shutil.which("i686-linux-gnu-gcc") is None:
        return "i686-linux-gnu-gcc is missing (Debian: apt-get install gcc-i686-linux-gnu; " \
               "`make setup` installs it when run as root)"
    return None


def _fingerprint(src, cflags=""):
    h = hashlib.sha256(cflags.encode())
    for path in sorted(glob.glob(os.path.join(src, "micropython-*-src.tar.gz"))) + \
            [os.path.join(src, "build-i686.sh")]:
        st = os.stat(path)
        h.update(("%s %d %d\n" % (os.path.basename(path), st.st_size, int(st.st_mtime))).encode())
    return h.hexdigest()


def _fresh(src, out=OUT, cflags=""):
    try:
        with open(os.path.join(out, ".source")) as f:
            same = f.read().strip() == _fingerprint(src, cflags)
    except OSError:
        return False
    return same and all(os.path.exists(os.path.join(out, n)) for n in ("micropython", "mpy-cross"))


def build(src, out=OUT, cflags=""):
    """Build (or reuse) OUT/micropython and mpy-cross (default build/i686), with
    `cflags` added to the unix port's (make reads CFLAGS_EXTRA from the
    environment); returns True on success."""
    if _fresh(src, out, cflags):
        return True
    print("building the 32-bit MicroPython from %s (once; cached in %s) ..."
          % (src, os.path.relpath(out, ROOT)))
    sys.stdout.flush()
    r = subprocess.run(["bash", os.path.join(src, "build-i686.sh"), out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, CFLAGS_EXTRA=cflags))
    if r.returncode != 0:
        print(r.stdout[-3000:])
        print("FAIL: build-i686.sh exited with %d" % r.returncode)
        return False
    with open(os.path.join(out, ".source"), "w") as f:
        f.write(_fingerprint(src, cflags) + "\n")
    return True


# The same interpreter as an RP2040's port keeps its interned names: a 1-byte hash
# each (ports/rp2/mpconfigport.h sets MICROPY_QSTR_BYTES_IN_HASH to 1; the unix
# port's feature level gives 2), ~2.5 KB less over the application's ~2500 name
# slots. `pybms bench app` measures the RP2040's .mpy figure on it; the tests and
# the frozen (ESP32) figure use build/i686.
RP2_OUT = os.path.join(ROOT, "build", "i686-rp2")
RP2_CFLAGS = "-DMICROPY_QSTR_BYTES_IN_HASH=1"


def build_rp2(src):
    """Build (or reuse) build/i686-rp2; returns True on success."""
    return build(src, RP2_OUT, RP2_CFLAGS)


FROZEN = os.path.join(OUT, "micropython-frozen")
# The firmware's @micropython.viper code (protocols/tesla) freezes as native code for
# the interpreter's CPU, as a board image build emits armv6m for an RP2040: x86 here
# (make reads MPY_CROSS_FLAGS from the environment; the default is the x64 host's).
FROZEN_MPY_CROSS_FLAGS = "-march=x86"


def build_frozen(src):
    """build-i686.sh with manifest.py frozen in. Returns (ok, build output): the
    interpreter is FROZEN when ok."""
    r = subprocess.run(["bash", os.path.join(src, "build-i686.sh"), OUT,
                        os.path.join(ROOT, "manifest.py")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, MPY_CROSS_FLAGS=FROZEN_MPY_CROSS_FLAGS))
    return r.returncode == 0 and os.path.exists(FROZEN), r.stdout


def run_tests(heap, modules):
    exe = os.path.join(OUT, "micropython")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mpy", "build.py"), MPY_OUT,
                        os.path.join(OUT, "mpy-cross")], cwd=ROOT,
                       env=dict(os.environ, PYBMS_MPY_MARCH="x86"))
    if r.returncode != 0:
        return 1
    # The whole application's test modules as .mpy need more than a board's heap
    # (a board runs it frozen): tools/mpy/run_tests.py APP_MODULES.
    env = dict(os.environ, MICROPYPATH=MPY_OUT, PYBMS_MPY_HEAP=heap, PYBMS_MPY_APP_HEAP="256K")
    print("32-bit MicroPython (i686 build of the pinned source), %s heap:" % heap)
    sys.stdout.flush()
    r = subprocess.run([exe, "-X", "heapsize=" + heap, "tools/mpy/run_tests.py"] + modules,
                       cwd=ROOT, env=env)
    return r.returncode


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--src", help="folder with build-i686.sh and the pinned source "
                                 "(default: $MICROPYTHON_SRC or ../shared/micropython)")
    p.add_argument("--heap", default=HEAP)
    p.add_argument("--build-only", action="store_true")
    p.add_argument("modules", nargs="*", help="test modules (default: all of tests/fw)")
    args = p.parse_args(argv)
    src = source_dir(args.src)
    why = why_unavailable(src)
    if why:
        print("SKIPPED the 32-bit MicroPython test run: %s" % why)
        return 0
    if not build(src):
        return 1
    if args.build_only:
        print("32-bit MicroPython ready: %s" % os.path.join(OUT, "micropython"))
        return 0
    return run_tests(args.heap, args.modules)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
