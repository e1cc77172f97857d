# docs/event-log.md names the application's records' values and the wall-clock
# sources by hand; the firmware's tables are what is written. They must agree, and
# every board names a documented source.

import os
import re

from bms.charge import CONDITION_NAMES, PHASES
from bms.heater import STATE_NAMES
from boards import BOARDS, load
from drivers.wall_clock import WALL_SOURCES
from tests.host.firmware_files import ROOT


def _doc():
    return open(os.path.join(ROOT, "docs", "event-log.md")).read()


def _row(text, key):
    return next(line for line in text.splitlines() if line.startswith("| `%s` |" % key))


def test_phase_and_heater_rows_name_exactly_the_firmware_values():
    text = _doc()
    phase = set(re.findall(r"`(\w+)`", _row(text, "phase")))
    want = set(p[0] for p in PHASES) | set(CONDITION_NAMES) | {"boot"}
    assert want <= phase, want - phase
    heater = set(re.findall(r"`(\w+)`", _row(text, "heater")))
    assert set(STATE_NAMES) <= heater, set(STATE_NAMES) - heater


def test_every_wall_clock_source_is_documented_and_used_by_boards_as_data():
    text = _doc().split("## Wall time", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r'^\| `"(\w+)"` \|', text, re.M)
    assert documented == list(WALL_SOURCES)
    for name in BOARDS:
        assert load(name)["wall_clock"] in WALL_SOURCES + (None,), name


def test_the_firmware_year_is_not_in_the_future():
    # A FIRMWARE_YEAR ahead of the real date would call every valid clock unset.
    import time
    from drivers.wall_clock import FIRMWARE_YEAR
    assert 2026 <= FIRMWARE_YEAR <= time.gmtime().tm_year
