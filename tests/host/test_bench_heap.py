# `pybms bench heap` prints a table and one line of figures on the 32-bit build, or
# says plainly that it needs MICROPYTHON_SRC. It never builds the interpreter here:
# with no cached build (make test-micropython32 makes one) the figures are skipped.

import pytest

from tools.cli import main
from tools.mpy import i686


def test_bench_heap_measures_or_says_what_it_needs(capsys, tmp_path, monkeypatch):
    src = i686.source_dir()
    if i686.why_unavailable(src) is None and i686._fresh(src):
        assert main(["bench", "heap", "--quick"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        figures = dict(kv.split("=") for kv in lines[-1].split())
        assert set(figures) == {"heap_import_mpy", "heap_objects_mpy"}
        # The core must leave most of a 192K board heap to the main loop.
        assert 0 < int(figures["heap_import_mpy"]) + int(figures["heap_objects_mpy"]) < 150000
    monkeypatch.setenv("MICROPYTHON_SRC", str(tmp_path))
    assert main(["bench", "heap"]) == 2
    assert "needs the 32-bit MicroPython" in capsys.readouterr().err
    if i686.why_unavailable(src) is not None:
        pytest.skip("no pinned MicroPython source: %s" % i686.why_unavailable(src))
