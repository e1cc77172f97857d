# The wall clock (hardware: layer 3): UTC for log timestamps, only where the board
# has a valid one (issue 19). Built through drivers.clock.wall_clock(source).
#
# The board file names the source (BOARD["wall_clock"], WALL_SOURCES below), or
# None: no wall clock, and records carry uptime only. A source is read once at boot and then once
# an hour (a minute while it reads as unset; a read may allocate: a float on the
# unix port, a tuple from machine.RTC, never per pass); between reads the time
# follows the tick counter, so a record costs small-int arithmetic only: no float,
# no big int, no tuple (a 32-bit MicroPython holds ints below 2**30 without
# allocating, and Unix seconds are above that since 2004, so the time is kept as
# two small ints, hi * 100000 + lo).
#
# Unset: a reading before 1 January of FIRMWARE_YEAR is not a wall clock (an RP2040
# RTC after power-up, an ESP32 that NTP has not set yet, a host without a clock):
# then `known` is False and callers leave the field out. Setting the time after boot
# calls set() (or sync() after setting the RTC): the "ntp" source's SNTP client
# (drivers/ntp.py, stepped from poll()) does, and so will a console or web command.

from bms.ticks import ticks_add, ticks_diff

FIRMWARE_YEAR = 2026       # bump with each release: clocks before this year are unset
RESYNC_MS = 3600000        # re-read a valid source hourly (RTC trimmed by NTP, drift)
RETRY_MS = 60000           # re-read an unset source every minute (set from the host)
_DAY_S = 86400


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (small ints only)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


FIRST_VALID_DAY = days_from_civil(FIRMWARE_YEAR, 1, 1)


def _read_host():
    """The host's clock (the unix port, CPython): time.time(), Unix epoch on both."""
    import time
    s = time.time()
    whole = int(s)
    return whole // _DAY_S, whole % _DAY_S, int((s - whole) * 1000)


def _rtc_reader(rtc):
    def read():
        # (year, month, day, weekday, hours, minutes, seconds, subseconds): the
        # same on rp2 and esp32; subseconds differ by port, so they are dropped.
        dt = rtc.datetime()
        return days_from_civil(dt[0], dt[1], dt[2]), dt[4] * 3600 + dt[5] * 60 + dt[6], 0
    return read


# The board file's "wall_clock" values (docs/event-log.md says what each means).
WALL_SOURCES = ("host", "rtc", "ntp")


def make(source, machine=None, server=None):
    """The WallClock for a board's "wall_clock" source (drivers.clock.wall_clock);
    `server`: the board's "ntp_server" (a name or an IPv4 literal), for "ntp"."""
    if source == "host":
        return WallClock(_read_host)
    if source not in ("rtc", "ntp"):
        raise ValueError("unknown wall_clock source %r (known: host, rtc, ntp, None)"
                         % (source,))
    if source == "ntp" and (not isinstance(server, str) or not server):
        raise ValueError('wall_clock "ntp" needs the board\'s "ntp_server" (a name or an '
                         "IPv4 address), got %r" % (server,))
    if machine is None:
        import machine
    rtc = machine.RTC()
    if source == "rtc":
        return WallClock(_rtc_reader(rtc))
    # The RTC trimmed by NTP while the network is up: the RTC keeps the time
    # between replies and across a lost network, the client sets it (drivers/ntp.py).
    from drivers.ntp import Ntp
    ntp = Ntp(server, rtc)
    ntp.resolve()   # the one DNS lookup: now, before the loop and its watchdog
    return WallClock(_rtc_reader(rtc), ntp)


class WallClock:
    """UTC on the tick counter. read() -> (days since 1970, second of day, ms) of
    the source, or raises. After at(t_ms) is True: Unix seconds at t_ms are
    hi * 100000 + lo (UTC, whole seconds; two small ints on every runtime)."""

    def __init__(self, read, trim=None):
        self.read = read
        self.trim = trim     # stepped from poll(): drivers.ntp.Ntp, which calls set()
        self.known = False
        self.hi = 0
        self.lo = 0
        self.errors = 0
        self._day = 0        # the time at _base_ms: whole days and seconds since 1970
        self._sod = 0
        self._base_ms = 0
        self._next = None    # ticks of the next read of the source (None: now)

    def sync(self, t_ms):
        """Read the source now (boot, and the hook after NTP or the host set it)."""
        try:
            day, sod, ms = self.read()
        except Exception:  # a source that cannot be read is no wall clock
            self.errors += 1
            day, sod, ms = -1, 0, 0
        if self.set(ticks_add(t_ms, -ms), day, sod):
            return True
        self._next = ticks_add(t_ms, RETRY_MS)
        return False

    def set(self, t_ms, day, sod):
        """The time at t_ms is `day` days and `sod` seconds after 1970-01-01 UTC;
        False (and unknown) for a time before FIRMWARE_YEAR or out of range."""
        if day < FIRST_VALID_DAY or not 0 <= sod < _DAY_S:
            self.known = False
            return False
        self._day = day
        self._sod = sod
        self._base_ms = t_ms
        self.known = True
        self._next = ticks_add(t_ms, RESYNC_MS)
        return True

    def poll(self, t_ms):
        """Once a second from the loop: re-reads the source when due (hourly), and
        lets the trimming client (NTP) take its step."""
        if self._next is None or ticks_diff(t_ms, self._next) >= 0:
            self.sync(t_ms)
        if self.trim is not None:
            self.trim.step(t_ms, self)

    def at(self, t_ms):
        """Sets hi, lo to the Unix seconds at t_ms; False (unchanged) when unknown.
        t_ms within days of the last read (poll keeps it so): ticks_diff range."""
        if not self.known:
            return False
        sod = self._sod + ticks_diff(t_ms, self._base_ms) // 1000
        day = self._day
        while sod >= _DAY_S:
            sod -= _DAY_S
            day += 1
        while sod < 0:
            sod += _DAY_S
            day -= 1
        # day * 86400 + sod without a big int: day * 864 fits, then split at 1000
        a = day * 864
        lo = (a % 1000) * 100 + sod
        self.hi = a // 1000 + lo // 100000
        self.lo = lo % 100000
        return True

    def unix_s(self, t_ms):
        """Unix seconds at t_ms, or None (an int above 2**30: allocates on 32-bit;
        for the persisted fault history, not for every record)."""
        if not self.at(t_ms):
            return None
        return self.hi * 100000 + self.lo
