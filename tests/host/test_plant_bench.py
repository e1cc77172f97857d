# `pybms bench plant --quick` runs and ends with its one key=value line.

import subprocess
import sys


def test_bench_plant_quick_prints_its_figures():
    out = subprocess.run([sys.executable, "-m", "tools.cli", "bench", "plant", "--quick"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    last = out.strip().splitlines()[-1]
    figures = dict(kv.split("=") for kv in last.split())
    assert set(figures) == {"plant_days_per_s_2s", "plant_days_per_s_16s2p"}
    assert all(float(v) > 0 for v in figures.values())
    assert "no firmware in the loop" in out
