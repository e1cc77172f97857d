# The wall clock (issue 19, drivers/wall_clock.py): UTC from the board's source on
# the tick counter, absent while unset, two small ints and no allocation per record.

from drivers import clock
from drivers import wall_clock as C
from tests.fw.support import MICROPYTHON, raises, skip

DAY_2026_11_28 = 20785          # 2026-11-28 10:02:39 UTC = 1795860159 Unix seconds
SOD = 36159


def test_days_from_civil_matches_known_dates():
    assert C.days_from_civil(1970, 1, 1) == 0
    assert C.days_from_civil(1969, 12, 31) == -1
    assert C.days_from_civil(2000, 1, 1) == 10957      # 946684800 / 86400
    assert C.days_from_civil(2000, 3, 1) == 11017      # after a leap day
    assert C.days_from_civil(2026, 11, 28) == DAY_2026_11_28
    assert C.days_from_civil(2100, 3, 1) == 47541      # 2100 is not a leap year


def _clock(reading):
    box = [reading]

    def read():
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]
    return C.WallClock(read), box


def test_a_set_clock_gives_unix_seconds_as_two_small_ints_on_the_tick_counter():
    w, _box = _clock((DAY_2026_11_28, SOD, 250))
    assert w.sync(10000) and w.known
    # the reading was 250 ms into its second: the second turns at t = 10750
    assert w.at(10749) and (w.hi, w.lo) == (17958, 60159)
    assert w.unix_s(10750) == 1795860160
    assert w.unix_s(clock.ticks_add(10749, -86400000)) == 1795860159 - 86400  # across midnight
    assert w.unix_s(clock.ticks_add(10750, -86400001)) == 1795860159 - 86400
    assert w.unix_s(10750 + 2 * 86400000) == 1795860160 + 2 * 86400
    assert w.hi < (1 << 29) and w.lo < 100000


def test_the_time_follows_the_ticks_across_their_wrap():
    near_end = clock.TICKS_PERIOD - 500
    w, _box = _clock((DAY_2026_11_28, SOD, 0))
    w.sync(near_end)
    assert w.unix_s(clock.ticks_add(near_end, 1500)) == 1795860160


def test_a_clock_before_the_firmware_year_is_unset_and_retried_every_minute():
    w, box = _clock((C.days_from_civil(2021, 1, 1), 5, 0))   # an RP2040 RTC after power-up
    assert not w.sync(0) and not w.known
    assert not w.at(100) and w.unix_s(100) is None
    box[0] = (DAY_2026_11_28, SOD, 0)                          # set from the host meanwhile
    w.poll(C.RETRY_MS - 1)
    assert not w.known
    w.poll(C.RETRY_MS)
    assert w.known and w.unix_s(C.RETRY_MS) == 1795860159


def test_a_known_clock_is_re_read_hourly_and_a_failing_source_is_no_clock():
    w, box = _clock((DAY_2026_11_28, SOD, 0))
    w.sync(0)
    box[0] = (DAY_2026_11_28, SOD + 3605, 0)   # the RTC (NTP-trimmed) is 5 s ahead of ticks
    w.poll(C.RESYNC_MS - 1)
    assert w.unix_s(C.RESYNC_MS - 1) == 1795860159 + 3599
    w.poll(C.RESYNC_MS)
    assert w.unix_s(C.RESYNC_MS) == 1795860159 + 3605
    box[0] = OSError("rtc gone")
    w.poll(2 * C.RESYNC_MS)
    assert not w.known and w.errors == 1


def test_board_sources_are_data():
    assert clock.wall_clock(None) is None
    assert C.WALL_SOURCES == ("host", "rtc", "ntp")
    assert raises(ValueError, clock.wall_clock, "gps")

    class Machine:
        class RTC:
            def datetime(self):
                return (2026, 11, 28, 5, 10, 2, 39, 123456)
    w = clock.wall_clock("rtc", Machine())
    assert w.sync(0) and w.unix_s(0) == 1795860159
    host = clock.wall_clock("host")
    assert host.sync(0) and host.unix_s(0) >= 1767225600   # this machine's clock is set


def test_reading_the_time_for_a_record_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    from tests.fw.alloc import allocated_by
    w, _box = _clock((DAY_2026_11_28, SOD, 0))
    w.sync(0)
    w.at(1)
    assert allocated_by(lambda: w.at(123456789)) == 0
    assert allocated_by(lambda: w.poll(1000)) == 0


def test_set_is_the_hook_for_ntp_and_refuses_a_time_that_is_no_wall_clock():
    w, _box = _clock((0, 0, 0))               # never read as valid
    w.sync(0)
    assert w.set(5000, DAY_2026_11_28, SOD) and w.unix_s(5000) == 1795860159
    assert not w.set(5000, 3, 100) and not w.known   # 1970: would print as "0..." too
    assert not w.set(5000, DAY_2026_11_28, 86400) and not w.known


def test_the_ntp_source_is_the_rtc_trimmed_by_an_sntp_client_that_needs_a_server():
    class Machine:
        class RTC:
            def datetime(self, dt=None):
                return (2026, 11, 28, 5, 10, 2, 39, 0)
    for bad in (None, "", 123):
        e = raises(ValueError, clock.wall_clock, "ntp", Machine(), bad)
        assert "ntp_server" in str(e), e
    # An IP literal is resolved without DNS, even before any network is up.
    w = clock.wall_clock("ntp", Machine(), "192.0.2.1")
    assert w.trim.server == "192.0.2.1" and w.trim.addr is not None
    assert w.sync(0) and w.unix_s(0) == 1795860159      # the RTC, until NTP answers
    # No network on this runtime (no `network` module): a name is not looked up
    # (DNS would block) and the client says so instead of sending.
    w = clock.wall_clock("ntp", Machine(), "pool.ntp.org")
    assert w.trim.addr is None
    w.poll(0)
    from drivers.ntp import REASONS
    assert w.known and w.trim.outcome() == "offline"
    assert w.trim.counts[REASONS.index("unresolved")] == 1


def test_the_rtc_source_never_loads_the_ntp_client():
    # Boards without a network never spend RAM on drivers/ntp.py.
    import sys
    loaded = sys.modules.pop("drivers.ntp", None)   # another test's import
    try:
        class Machine:
            class RTC:
                def datetime(self):
                    return (2026, 11, 28, 5, 10, 2, 39, 0)
        assert clock.wall_clock("rtc", Machine()).trim is None
        assert clock.wall_clock("host").trim is None
        assert "drivers.ntp" not in sys.modules
    finally:
        if loaded is not None:
            sys.modules["drivers.ntp"] = loaded
