# `pybms bench can` runs both interpreters and ends with the figures line; the
# transmit cycle allocates nothing on MicroPython.

import re

from tools.cli import main


def test_bench_can_quick(capsys):
    assert main(["bench", "can", "--quick"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    m = re.fullmatch(r"can_build_us_mpy=([\d.]+) can_alloc_bytes_per_cycle=(-?\d+)", out[-1])
    assert m, out[-1]
    assert float(m.group(1)) > 0
    assert int(m.group(2)) == 0, "a transmit cycle allocates on MicroPython"
    assert "MicroPython unix, 192K heap" in "\n".join(out)
