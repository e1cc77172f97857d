# app/boot.py builds the wall clock from the board file's "wall_clock" source and
# hands it to the event log: a board whose RTC was set from the host at deploy
# stamps every record with utc_s (issue 19). CPython only: the firmware-side pieces
# run on MicroPython in tests/fw/test_wall_clock.py and test_app_log.py, and building
# a second whole application does not fit the test heap there.

from app import boot
from boards import load
from bms import config
from tests.fw.test_app_boot import BootMachine


def test_a_set_rtc_puts_utc_s_in_every_record(tmp_path):
    # Set from the host at deploy: 2026-11-28 10:02:39 UTC = 1795860159 s.
    cfg = config.make({"module_count": 2})
    app = boot.build(load("esp32_devkit"), cfg, {"--state": str(tmp_path / "state")},
                     machine=BootMachine((2026, 11, 28, 5, 10, 2, 39, 0)), now_ms=lambda: 1000)
    app.start(1000)
    lines = app.ring.records()
    assert lines and all(line.startswith('{"t_ms": 1000, "utc_s": 1795860159, ')
                         for line in lines), lines
    assert app.parts.wall.unix_s(61000) == 1795860219

