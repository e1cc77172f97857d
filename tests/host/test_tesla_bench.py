# `pybms bench tesla --quick` runs end to end and ends with the figures line.

import re

from tools.cli import main


def test_bench_tesla_quick(capsys):
    assert main(["bench", "tesla", "--quick"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    m = re.fullmatch(r"wire_ratio_16=([\d.]+) cycle_ms_16_mpy=([\d.]+) fuzz_frames=(\d+) "
                     r"poll_minstr_m0_16=([\d.]+|na) poll_minstr_m0_62=([\d.]+|na) "
                     r"pack_bad_readings_ber1e3=(\d+) pack_bad_readings_burst=(\d+) "
                     r"pack_bad_readings_ber1e2=(\d+) clean_rereads_pct=([\d.]+)", out[-1])
    assert m, out[-1]
    assert 1.0 <= float(m.group(1)) < 1.1
    assert float(m.group(2)) > 0
    assert int(m.group(3)) > 1000
    assert m.group(6) == "0" and m.group(7) == "0"
    assert float(m.group(9)) < 1.0   # a tiny run: the 0.2 % goal is for the full bench
    assert "VALUES WRONG" not in "\n".join(out)
