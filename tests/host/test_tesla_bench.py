# `pybms bench tesla --quick` runs end to end and ends with the figures line.

import re

from tools.cli import main


def test_bench_tesla_quick(capsys):
    assert main(["bench", "tesla", "--quick"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    m = re.fullmatch(r"wire_ratio_16=([\d.]+) cycle_ms_16_mpy=([\d.]+) fuzz_frames=(\d+) "
                     r"fuzz_bad_accepted=(\d+)", out[-1])
    assert m, out[-1]
    assert 1.0 <= float(m.group(1)) < 1.1
    assert float(m.group(2)) > 0
    assert int(m.group(3)) > 1000
    assert m.group(4) == "0"
    assert "VALUES WRONG" not in "\n".join(out)
