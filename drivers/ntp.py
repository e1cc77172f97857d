# SNTP client (RFC 4330, client mode) behind the "ntp" wall-clock source (issue 19):
# sets the board's RTC and the WallClock from an NTP server while the network
# interface is up. drivers/wall_clock.py loads it only for a board whose
# "wall_clock" is "ntp", so boards without a network never spend RAM on it.
#
# It never blocks the loop: one non-blocking UDP socket per exchange; step() sends
# the query in one call and reads the reply in later calls (the `clock` task runs
# it once a second), and gives up after TIMEOUT_MS until the next attempt (hourly
# after a good reply, every minute otherwise). No DNS lookup in the loop:
# socket.getaddrinfo blocks on MicroPython (seconds when the resolver does not
# answer: past every task budget, towards the watchdog), so resolve() runs once
# while the application is built, before the watchdog starts. An IP literal needs
# no DNS; a name the board could not resolve then (Wi-Fi not up yet) waits for
# whatever connects the network to call resolve() (the console/web issue).
#
# A reply counts only when it answers our query (its originate timestamp is the
# random transmit timestamp we sent: a stale or forged reply is refused), comes
# from a synchronised server (mode 4, leap indicator not 3, stratum 1..15) and
# carries a time in or after the firmware's year. Anything else is a counted
# outcome (counts[], REASONS), never an exception out of step(), never a time.
# Timestamps are read as 16-bit halves: NTP seconds reach 2**32 and a 32-bit
# MicroPython keeps only ints below 2**30 off the heap.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from bms.ticks import ticks_add, ticks_diff
from drivers.wall_clock import FIRST_VALID_DAY, RESYNC_MS, RETRY_MS

PORT = const(123)
TIMEOUT_MS = const(3000)   # a reply later than this is lost (and its delay untrustworthy)
_UNIX_DAYS = const(25567)  # 1900-01-01 to 1970-01-01: 2208988800 s, whole days
_ERA_DAYS = const(49710)   # 2**32 s = 49710 days + 23296 s: era 1 begins 2036-02-07
_ERA_SOD = const(23296)
_WRAP = const(0x3FFFFFFF)
# The next query after a good reply comes this much before the wall clock's hourly
# re-read of the RTC, whose reply resets it: while NTP answers, the wall clock keeps
# NTP's time (to the millisecond), not the RTC's (read to the second).
_AHEAD_MS = const(10000)

# Outcomes, the index into counts[] and the value of `last`.
_OK = const(0)
_SHORT = const(1)       # fewer than 48 bytes
_MODE = const(2)        # not a server reply (mode 4)
_ORIGIN = const(3)      # does not answer our query: stale, or forged
_LEAP = const(4)        # leap indicator 3: the server's clock is unsynchronised
_KOD = const(5)         # stratum 0, kiss-o'-death: back off for an hour (RFC 4330 s. 8)
_STRATUM = const(6)     # stratum above 15
_ZERO = const(7)        # no transmit timestamp
_EARLY = const(8)       # a time before the firmware's year: no wall clock
_TIMEOUT = const(9)     # no valid reply within TIMEOUT_MS
_ERROR = const(10)      # the socket or the interface raised
_OFFLINE = const(11)    # interface not connected: no query sent
_UNRESOLVED = const(12)  # server name not resolved: no query sent
REASONS = ("ok", "short", "mode", "origin", "leap", "kod", "stratum", "zero", "early",
           "timeout", "error", "offline", "unresolved")


def civil_from_days(z):
    """(year, month, day) of `z` days since 1970-01-01 (days_from_civil's inverse)."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, doy - (153 * mp + 2) // 5 + 1


def _station():
    """isconnected of the Wi-Fi station, or None on a port without `network`."""
    try:
        import network
        return network.WLAN(network.STA_IF).isconnected
    except (ImportError, AttributeError):
        return None


def _udp(addr):
    import socket
    s = socket.socket(addr[0], socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect(addr[1])   # the stack then drops datagrams from anyone else
    return s


def _nonce(out):
    """Our transmit timestamp: random bytes, not our clock (it may be unset, and
    need not be told), so only the server's reply can echo it back."""
    try:
        from os import urandom
        out[:] = urandom(8)
    except ImportError:  # a port without os.urandom: the microsecond ticks, unique
        from drivers.clock import ticks_us
        t = ticks_us()
        for i in range(8):
            out[i] = ((t >> (4 * i)) ^ (i * 37)) & 0xFF


def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


class Ntp:
    """step(t_ms, wall) from the wall clock's poll. connected() -> bool (default: the
    Wi-Fi station); open_socket(addr) -> a non-blocking UDP socket (tests fake both)."""

    def __init__(self, server, rtc=None, connected=None, open_socket=None):
        self.server = server
        self.rtc = rtc
        self.addr = None          # (family, sockaddr) once resolved
        self._connected = connected if connected is not None else _station()
        self._open = open_socket or _udp
        self._buf = bytearray(48)  # the query, then the reply: the one packet buffer
        self._sent = bytearray(8)  # our transmit timestamp (a nonce)
        self._sock = None
        self._sent_ms = 0
        self._next = None          # ticks of the next query (None: the first step)
        self.counts = [0] * len(REASONS)
        self.last = _OFFLINE        # REASONS[last]: what the last attempt came to

    def _count(self, why):
        self.counts[why] = (self.counts[why] + 1) & _WRAP
        self.last = why

    def outcome(self):
        """What the last attempt came to: a name of REASONS ("ok", "offline", ...)."""
        return REASONS[self.last]

    def _online(self):
        return self._connected is not None and self._connected()

    def resolve(self, getaddrinfo=None):
        """Looks the server up (blocks on DNS for a name: at build time only, or
        from whatever brings the network up, never from the loop)."""
        literal = True
        for c in self.server:
            literal = literal and c in "0123456789."
        try:
            if not literal and not self._online():
                raise OSError("offline")
            if getaddrinfo is None:
                from socket import getaddrinfo
            ai = getaddrinfo(self.server, PORT)[0]
            self.addr = (ai[0], ai[-1])
            return True
        except Exception:  # OSError, or lwip's bare error code: just not resolved
            self._count(_UNRESOLVED)
            return False

    def step(self, t_ms, wall):
        try:
            if self._sock is not None:
                self._receive(t_ms, wall)
            elif self._next is None or ticks_diff(t_ms, self._next) >= 0:
                self._query(t_ms)
        except Exception:  # a misbehaving socket or interface is no time, and no crash
            self._close()
            self._count(_ERROR)

    def _close(self):
        s, self._sock = self._sock, None
        if s is not None:
            try:
                s.close()
            except Exception:  # already gone with the interface
                pass

    def _query(self, t_ms):
        self._next = ticks_add(t_ms, RETRY_MS)   # unless a good reply says an hour
        if not self._online():
            return self._count(_OFFLINE)
        if self.addr is None:
            return self._count(_UNRESOLVED)
        b = self._buf
        for i in range(1, 40):       # 40..47: the nonce
            b[i] = 0
        b[0] = 0x23                  # leap indicator 0, version 4, mode 3 (client)
        _nonce(self._sent)
        b[40:48] = self._sent
        self._sock = self._open(self.addr)
        self._sent_ms = t_ms
        self._sock.send(b)

    def _receive(self, t_ms, wall):
        # None: nothing yet (non-blocking). MicroPython's readinto fills the buffer
        # across datagrams: a short one and the next read together are one packet,
        # which the originate check refuses (tests/fw/test_ntp.py).
        n = self._sock.readinto(self._buf)
        if n is not None:
            why = self._check(n)
            if why == _OK:
                why = self._apply(t_ms, wall)
                if why == _OK:
                    return
            self._count(why)
            if why == _KOD or why == _EARLY:   # an answer, but no time: ask again later
                self._close()
                if why == _KOD:
                    self._next = ticks_add(t_ms, RESYNC_MS)
                return
        if ticks_diff(t_ms, self._sent_ms) >= TIMEOUT_MS:   # a flood cannot extend it
            self._close()
            self._count(_TIMEOUT)

    def _check(self, n):
        b = self._buf
        if n < 48:
            return _SHORT
        if b[0] & 7 != 4:
            return _MODE
        for i in range(8):
            if b[24 + i] != self._sent[i]:
                return _ORIGIN
        if b[0] >> 6 == 3:
            return _LEAP
        if b[1] == 0:
            return _KOD
        if b[1] > 15:
            return _STRATUM
        if not (b[40] | b[41] | b[42] | b[43] | b[44] | b[45] | b[46] | b[47]):
            return _ZERO
        return _OK

    def _apply(self, t_ms, wall):
        """The reply's time at t_ms (when we saw it): its transmit time plus half the
        round trip less the server's hold time. Seen up to a task period late, so
        within half that (the log's resolution is a second)."""
        b = self._buf
        hold = ((_u16(b, 42) - _u16(b, 34)) & 0xFFFF) * 1000 + \
            ((_u16(b, 44) * 1000) >> 16) - ((_u16(b, 36) * 1000) >> 16)
        delay = ticks_diff(t_ms, self._sent_ms) - hold
        ms = ((_u16(b, 44) * 1000) >> 16) + (delay // 2 if delay > 0 else 0)
        hi = _u16(b, 40) << 9   # seconds = hi * 128 + lo: days by 86400 = 675 * 128
        day = hi // 675
        sod = (hi % 675) * 128 + _u16(b, 42) + ms // 1000
        ms %= 1000
        if b[40] < 0x80:         # RFC 4330 s. 3: era 1, from 2036-02-07 06:28:16
            day += _ERA_DAYS
            sod += _ERA_SOD
        day += sod // 86400 - _UNIX_DAYS
        sod %= 86400
        if day < FIRST_VALID_DAY:
            return _EARLY
        self._close()
        if self.rtc is not None:
            # Set to the second: the wall clock reads the RTC to the second, as
            # subseconds differ by port. Weekday 0 = Monday; 1970-01-01 was a Thursday.
            y, mo, d = civil_from_days(day)
            self.rtc.datetime((y, mo, d, (day + 3) % 7, sod // 3600, sod // 60 % 60,
                               sod % 60, 0))
        wall.set(ticks_add(t_ms, -ms), day, sod)
        self._next = ticks_add(t_ms, RESYNC_MS - _AHEAD_MS)
        self._count(_OK)
        return _OK
