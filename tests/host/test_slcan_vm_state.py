# On a board, a call whose VM state (locals + value stack + exception handlers)
# exceeds 11 words gets its frame from the GC heap and frees it at return: every
# call runs the allocator, yet gc.mem_alloc() shows nothing (py/objfun.c,
# VM_MAX_STATE_ON_STACK). The SLCAN receive/transmit calls run every loop pass,
# so each must stay within 11 words. Read with mpy-tool from the pinned
# MicroPython source (shared/micropython), on bytecode compiled for the RP2040.

import glob
import os
import re
import subprocess
import sys
import tarfile

import pytest

from tests.host.firmware_files import ROOT
from tests.host.test_mpy_cross import _mpy_cross

HOT = ("recv", "_fill", "_finish_line", "_frame", "_parse_id", "_all_hex", "_decode_data",
       "_arguments_ok", "send", "_encode", "_encode_data", "_writable", "_write", "_answer")
HOT_HEX = ("nibble",)    # drivers/ascii_hex.py: SLCAN decodes every digit through it
WORDS_ON_STACK = 11      # VM_MAX_STATE_ON_STACK / sizeof(mp_uint_t)
EXC_STACK_WORDS = 3      # sizeof(mp_exc_stack_t) / sizeof(mp_uint_t)


def _source_tarball():
    for base in (os.path.join(ROOT, "..", "shared"), "/work/shared"):
        found = sorted(glob.glob(os.path.join(base, "micropython", "micropython-*-src.tar.gz")))
        if found:
            return found[-1]
    return None


def _vm_state_words(tmp_path, source):
    tarball = _source_tarball()
    if tarball is None:
        pytest.skip("the pinned MicroPython source (shared/micropython) is not here")
    with tarfile.open(tarball) as tar:
        for name in ("micropython/tools/mpy-tool.py", "micropython/py/makeqstrdata.py"):
            tar.extract(name, tmp_path, filter="data")
    mpy = tmp_path / "module.mpy"
    subprocess.run([_mpy_cross(), "-march=armv6m", "-o", str(mpy), source], check=True)
    dump = subprocess.run([sys.executable, str(tmp_path / "micropython" / "tools" / "mpy-tool.py"), "-d",
                           str(mpy)], capture_output=True, text=True, check=True).stdout
    words = {}
    prelude = r"simple_name: (\S+)\n(?:[^\n]*\n)*?\s*prelude: \((\d+), (\d+),"   # (n_state, n_exc_stack, ...)
    for name, n_state, n_exc in re.findall(prelude, dump):
        words[name] = max(words.get(name, 0), int(n_state) + EXC_STACK_WORDS * int(n_exc))
    return words


def test_slcan_hot_calls_keep_their_frame_off_the_heap(tmp_path):
    for module, hot in (("can_slcan.py", HOT), ("ascii_hex.py", HOT_HEX)):
        words = _vm_state_words(tmp_path, os.path.join(ROOT, "drivers", module))
        missing = [name for name in hot if name not in words]
        assert not missing, "renamed? %s" % missing
        heavy = dict((name, words[name]) for name in hot if words[name] > WORDS_ON_STACK)
        assert not heavy, "VM state over %d words (a heap frame per call): %s" % (WORDS_ON_STACK,
                                                                               heavy)


def test_the_check_sees_a_heavy_function(tmp_path):
    src = tmp_path / "heavy.py"
    src.write_text("def heavy(a, b, c, d):\n    e = f = g = h = i = j = k = l = 0\n"
                   "    try:\n        return a + b + c + d + e + f + g + h + i + j + k + l\n"
                   "    except OSError:\n        return 0\n")
    assert _vm_state_words(tmp_path, str(src))["heavy"] > WORDS_ON_STACK
