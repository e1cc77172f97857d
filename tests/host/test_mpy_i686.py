# The 32-bit MicroPython run (tools/mpy/i686.py, `make test-micropython32`) says
# plainly why it skipped, never fails a machine without the pinned source.

from tools.mpy import i686


def test_missing_source_is_a_plain_skip(tmp_path, capsys):
    assert i686.main(["--src", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SKIPPED the 32-bit MicroPython test run: no build-i686.sh")
    assert "MICROPYTHON_SRC" in out


def test_script_without_pinned_tarball_is_a_plain_skip(tmp_path, capsys):
    (tmp_path / "build-i686.sh").write_text("exit 1\n")
    assert i686.main(["--src", str(tmp_path)]) == 0
    assert "no pinned micropython-*-src.tar.gz" in capsys.readouterr().out


def test_source_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROPYTHON_SRC", str(tmp_path))
    assert i686.source_dir() == str(tmp_path)
    monkeypatch.delenv("MICROPYTHON_SRC")
    assert i686.source_dir().endswith("shared/micropython")
