# Wall time in event-log records (issue 19, docs/event-log.md "utc_s"): present
# exactly when the board's clock is known, right after t_ms, UTC Unix seconds; and
# it costs a record only its characters (no float, big int or extra string), with
# gc.mem_alloc() on MicroPython, 64- and 32-bit.

import json

from drivers.wall_clock import WallClock
from fsm.eventlog import EventLog, ListStream
from tests.fw.support import MICROPYTHON, skip

UTC = 1795860159   # 2026-11-28 10:02:39 UTC


class FixedSource:
    """A wall-clock source: (days since 1970, second of day, ms); day 0 is unset."""

    def __init__(self, day=20785, sod=36159):
        self.now = (day, sod, 0)

    def __call__(self):
        return self.now


def _write_all(log):
    log.header(1000, {"auto_connect": True})
    log.event(1000, "tick", None)
    log.event(1000, "fault", {"diag": "cell_ov"})
    log.transition(1000, "fault", "Run", "Fault")
    log.rejected(1000, "reset", "Fault", "guard")
    log.rejected(1000, "connect", "Run", "malformed", "x: unexpected")
    log.error(1000, "tick", "tick: ValueError()")


def test_every_record_carries_utc_s_while_the_clock_is_known():
    wall = WallClock(FixedSource())
    wall.sync(1000)
    s = ListStream()
    _write_all(EventLog(s, wall))
    for line in s.lines:
        assert line.startswith('{"t_ms": 1000, "utc_s": %d, ' % UTC), line
        assert json.loads(line)["utc_s"] == UTC
    plain = ListStream()
    _write_all(EventLog(plain))
    assert [line.replace(', "utc_s": %d' % UTC, "") for line in s.lines] == plain.lines


def test_an_unknown_clock_leaves_the_field_out():
    src = FixedSource(day=0)          # 1970: an unset RTC
    wall = WallClock(src)
    wall.sync(0)
    s = ListStream()
    _write_all(EventLog(s, wall))
    assert not any("utc_s" in line for line in s.lines)


class _Null:
    def write(self, text):
        pass


def test_the_field_costs_only_its_characters_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    from tests.fw.alloc import allocated_by
    wall = WallClock(FixedSource())
    wall.sync(0)
    with_wall = EventLog(_Null(), wall)
    without = EventLog(_Null())
    fields = {"diag": "cell_ov"}
    # (record, strings it builds): each carries the ~23 extra characters once
    cases = (
        (lambda log: log.transition(123456, "tick", "Init", "Precharge"), 1),
        (lambda log: log.error(123456, "tick", "tick: ValueError()"), 1),
        (lambda log: log.event(123456, "tick", None), 2),
        (lambda log: log.rejected(123456, "reset", "Fault", "guard"), 2),
        (lambda log: log.event(123456, "fault", fields), 3),
    )
    for write, strings in cases:
        write(with_wall)   # warm: interned names, first-call caches
        write(without)
        extra = allocated_by(lambda: write(with_wall)) - allocated_by(lambda: write(without))
        # MicroPython allocates in 16-byte blocks: 23 characters are at most 2 more
        # blocks per string; an extra object (a float, a big int, a string) would
        # add its header on top.
        assert 0 <= extra <= 32 * strings, (strings, extra)
