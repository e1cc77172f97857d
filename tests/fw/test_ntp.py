# The SNTP client behind the "ntp" wall-clock source (drivers/ntp.py, issue 19):
# RFC 4330 packets against vectors derived by hand, every way a reply is refused,
# and the non-blocking exchange on a fake socket and a fake clock. A real UDP
# exchange on 127.0.0.1 is tests/host/test_ntp_udp.py.

from drivers import ntp as N
from drivers import wall_clock as C
from tests.fw.support import MICROPYTHON, skip

# 2026-11-28 10:02:39 UTC = 1795860159 Unix seconds = 1795860159 + 2208988800 NTP
# seconds (era 0 begins 1900-01-01: 70 years with 17 leap days = 25567 days) =
# 4004848959 = 0xEEB5253F; fraction 0x40000000 = 0.25 s.
NTP_S = (0xEEB5, 0x253F)
UNIX_S = 1795860159
QUARTER = (0x4000, 0x0000)
HALF = (0x8000, 0x0000)


class FakeSocket:
    """A non-blocking UDP socket: send() keeps the datagram, readinto() hands out
    queued datagrams (None while there is none) as MicroPython's stream read does:
    it fills the buffer across datagrams, truncating the one that does not fit."""

    def __init__(self, log):
        self.sent = []
        self.inbox = []
        self.closed = False
        self.fail = None
        log.append(self)

    def send(self, b):
        self.sent.append(bytes(b))
        return len(b)

    def readinto(self, buf):
        if self.fail is not None:
            raise self.fail
        if not self.inbox:
            return None
        n = 0
        while self.inbox and n < len(buf):
            d = self.inbox.pop(0)
            k = min(len(d), len(buf) - n)
            buf[n:n + k] = d[:k]
            n += k
        return n

    def close(self):
        self.closed = True


class FakeRtc:
    def __init__(self):
        self.set_to = None

    def datetime(self, dt=None):
        self.set_to = dt


def reply(query, secs=NTP_S, frac=QUARTER, recv=None, li=0, mode=4, stratum=2,
          origin=None):
    """A server's reply to `query`: transmit timestamp secs.frac (16-bit halves),
    receive timestamp `recv` (default: the same instant: no hold time)."""
    b = bytearray(48)
    b[0] = (li << 6) | (4 << 3) | mode
    b[1] = stratum
    b[24:32] = query[40:48] if origin is None else origin
    r = recv or (secs, frac)
    for at, (s, f) in ((32, r), (40, (secs, frac))):
        for i, half in enumerate((s[0], s[1], f[0], f[1])):
            b[at + 2 * i] = half >> 8
            b[at + 2 * i + 1] = half & 0xFF
    return b


class Rig:
    """A client on a connected interface and a resolved server, a wall clock whose
    own source (the RTC) reads unset, and the sockets the client opened."""

    def __init__(self, connected=True):
        self.sockets = []
        self.online = [connected]
        self.rtc = FakeRtc()
        self.ntp = N.Ntp("192.0.2.1", self.rtc, connected=lambda: self.online[0],
                         open_socket=self.open)
        self.ntp.addr = (2, ("192.0.2.1", 123))
        self.reads = [0]
        self.wall = C.WallClock(self.read_rtc, self.ntp)
        self.wall.sync(0)

    def read_rtc(self):
        self.reads[0] += 1
        return (0, 0, 0)    # unset: only NTP sets this wall clock

    def open(self, addr):
        assert addr == (2, ("192.0.2.1", 123))
        return FakeSocket(self.sockets)

    def query(self, t=1000):
        """Step at t: the query goes out; returns it."""
        n = len(self.sockets)
        self.ntp.step(t, self.wall)
        assert len(self.sockets) == n + 1
        return self.sockets[-1].sent[-1]

    def count(self, name):
        return self.ntp.counts[N.REASONS.index(name)]


def test_civil_from_days_inverts_days_from_civil():
    for y, m, d in ((1970, 1, 1), (2000, 2, 29), (2000, 3, 1), (2026, 11, 28), (2036, 2, 7),
                    (2100, 2, 28), (2100, 3, 1), (1969, 12, 31)):
        assert N.civil_from_days(C.days_from_civil(y, m, d)) == (y, m, d)
    day = C.days_from_civil(2024, 1, 1)
    for k in range(800):   # two years day by day, a leap year among them
        y, m, d = N.civil_from_days(day + k)
        assert C.days_from_civil(y, m, d) == day + k


def test_the_query_is_a_48_byte_client_packet_with_a_random_transmit_timestamp():
    r = Rig()
    q = r.query(1000)
    assert len(q) == 48 and q[0] == 0x23   # LI 0, version 4, mode 3
    assert q[1:40] == bytes(39)            # nothing about us but the nonce
    assert q[40:48] != bytes(8)
    r2 = Rig()
    assert r2.query(1000)[40:48] != q[40:48]   # not guessable from the last one


def test_a_reply_sets_the_wall_clock_and_the_rtc_with_half_the_round_trip():
    r = Rig()
    q = r.query(1000)
    r.ntp.step(1500, r.wall)                 # nothing yet: still waiting, no time
    assert not r.wall.known and not r.sockets[0].closed
    r.sockets[0].inbox.append(reply(q))      # T3 = ...159.250 s, no hold time
    r.ntp.step(2000, r.wall)
    # seen 1000 ms after sending: 500 ms on the way back, so 159.750 at t = 2000
    assert r.wall.known and r.ntp.outcome() == "ok" and r.count("ok") == 1
    assert r.wall.unix_s(2249) == UNIX_S and r.wall.unix_s(2250) == UNIX_S + 1
    assert r.rtc.set_to == (2026, 11, 28, 5, 10, 2, 39, 0)   # a Saturday (Monday = 0)
    assert r.sockets[0].closed


def test_the_servers_hold_time_is_not_part_of_the_round_trip():
    r = Rig()
    q = r.query(1000)
    # received at ...158.750, sent at ...159.250: held 500 ms, so 250 ms each way
    r.sockets[0].inbox.append(reply(q, recv=((0xEEB5, 0x253E), (0xC000, 0))))
    r.ntp.step(2000, r.wall)
    assert r.wall.unix_s(2499) == UNIX_S and r.wall.unix_s(2500) == UNIX_S + 1


def test_era_1_from_2036_02_07_and_the_last_second_of_era_0():
    r = Rig()
    q = r.query(1000)
    # NTP 0 s in era 1 (plus 2**-32 s: an all-zero transmit timestamp means none)
    r.sockets[0].inbox.append(reply(q, secs=(0, 0), frac=(0, 1)))
    r.ntp.step(1000, r.wall)
    assert r.wall.unix_s(1000) == 2085978496          # 2036-02-07 06:28:16 UTC
    assert r.rtc.set_to[:7] == (2036, 2, 7, 3, 6, 28, 16)   # a Thursday
    r = Rig()
    q = r.query(1000)
    r.sockets[0].inbox.append(reply(q, secs=(0xFFFF, 0xFFFF), frac=(0, 0)))
    r.ntp.step(1000, r.wall)
    assert r.wall.unix_s(1000) == 2085978495


def _refused(name, packet_of, known_after=False):
    r = Rig()
    q = r.query(1000)
    r.sockets[0].inbox.append(packet_of(q))
    r.ntp.step(1200, r.wall)          # never raises
    assert r.count(name) == 1 and r.ntp.outcome() == name, (name, r.ntp.counts)
    assert r.count("ok") == 0 and r.wall.known is known_after and r.rtc.set_to is None
    return r, q


def test_every_bad_reply_is_a_counted_rejection_and_no_time():
    _refused("short", lambda q: reply(q)[:47])
    _refused("short", lambda q: b"")
    _refused("mode", lambda q: reply(q, mode=3))           # our own query echoed back
    _refused("mode", lambda q: reply(q, mode=5))           # broadcast
    _refused("origin", lambda q: reply(q, origin=bytes(8)))
    _refused("origin", lambda q: reply(q, origin=bytes(q[40:47]) + bytes([q[47] ^ 1])))
    _refused("leap", lambda q: reply(q, li=3))             # server unsynchronised
    _refused("stratum", lambda q: reply(q, stratum=16))
    _refused("zero", lambda q: reply(q, secs=(0, 0), frac=(0, 0))[:40] + bytes(8))
    # 1995-01-25 05:20:00 = NTP 3000000000 = 0xB2D05E00: a server with a wrong clock
    _refused("early", lambda q: reply(q, secs=(0xB2D0, 0x5E00)))
    garbage = bytearray(48)
    for i in range(48):
        garbage[i] = (i * 37 + 11) & 0xFF
    _refused("mode", lambda q: garbage)


def test_a_refused_packet_does_not_end_the_exchange_but_the_timeout_does():
    r, q = _refused("origin", lambda q: reply(q, origin=bytes(8)))   # forged or stale
    assert not r.sockets[0].closed
    r.sockets[0].inbox.append(reply(q))       # the real reply, later
    r.ntp.step(2000, r.wall)
    assert r.wall.known and r.count("ok") == 1
    # garbage on every step cannot keep the socket open past the timeout
    r = Rig()
    q = r.query(1000)
    for t in (2000, 3000, 4000):
        r.sockets[0].inbox.append(b"\x00" * 12)
        r.ntp.step(t, r.wall)
    assert r.count("short") == 3 and r.count("timeout") == 1 and r.sockets[0].closed


def test_a_short_datagram_merged_with_the_reply_in_one_read_is_refused_not_misread():
    # readinto on a MicroPython socket reads datagrams until the buffer is full:
    # 12 bytes of junk and the real reply queued together read as one packet whose
    # originate field is not ours, so it is refused and the exchange times out.
    r = Rig()
    q = r.query(1000)
    r.sockets[0].inbox.extend((b"\x24" * 12, reply(q)))
    r.ntp.step(2000, r.wall)
    assert r.count("origin") == 1 and not r.wall.known and r.sockets[0].inbox == []
    r.ntp.step(1000 + N.TIMEOUT_MS, r.wall)
    assert r.count("timeout") == 1 and r.count("ok") == 0 and r.rtc.set_to is None


def test_no_reply_times_out_and_the_next_query_is_a_minute_later():
    r = Rig()
    r.query(1000)
    r.ntp.step(1000 + N.TIMEOUT_MS - 1, r.wall)
    assert r.count("timeout") == 0 and not r.sockets[0].closed
    r.ntp.step(1000 + N.TIMEOUT_MS, r.wall)
    assert r.count("timeout") == 1 and r.sockets[0].closed and not r.wall.known
    r.ntp.step(1000 + C.RETRY_MS - 1, r.wall)
    assert len(r.sockets) == 1
    r.query(1000 + C.RETRY_MS)


def test_a_late_reply_to_the_last_query_is_refused_as_stale():
    r = Rig()
    q1 = r.query(1000)
    r.ntp.step(1000 + N.TIMEOUT_MS, r.wall)            # gave up on it
    q2 = r.query(1000 + C.RETRY_MS)
    assert q2[40:48] != q1[40:48]
    r.sockets[1].inbox.append(reply(q1))                # the first one, a minute late
    r.ntp.step(2000 + C.RETRY_MS, r.wall)
    assert r.count("origin") == 1 and not r.wall.known and r.rtc.set_to is None


def test_after_a_good_reply_the_next_query_is_an_hour_later_and_keeps_the_rtc_unread():
    r = Rig()
    q = r.query(1000)
    r.sockets[0].inbox.append(reply(q))
    r.ntp.step(2000, r.wall)
    reads = r.reads[0]
    # The wall clock's poll steps the client; its query comes 10 s before the wall
    # clock would re-read the RTC (to the second), and the reply puts that off.
    t = 2000 + C.RESYNC_MS - 10000
    r.wall.poll(t - 1)
    assert len(r.sockets) == 1
    r.wall.poll(t)
    assert len(r.sockets) == 2
    r.sockets[1].inbox.append(reply(r.sockets[1].sent[0], secs=(0xEEB5, 0x253F + 3590)))
    r.wall.poll(t + 1000)
    assert r.count("ok") == 2 and r.wall.unix_s(t + 1250) == UNIX_S + 3591
    r.wall.poll(2000 + C.RESYNC_MS)
    assert r.reads[0] == reads, "NTP keeps the time: the RTC is not read"
    # Without an answer the RTC (set by the last reply) is read at the hour.
    t2 = t + 1000 + C.RESYNC_MS          # the wall clock's next RTC read
    r.wall.poll(t2 - 10000)
    assert len(r.sockets) == 3
    r.wall.poll(t2 - 10000 + N.TIMEOUT_MS)
    assert r.count("timeout") == 1 and r.reads[0] == reads
    r.wall.poll(t2)
    assert r.reads[0] == reads + 1


def test_kiss_of_death_backs_off_for_an_hour():
    r, q = _refused("kod", lambda q: reply(q, stratum=0))
    assert r.sockets[0].closed
    r.ntp.step(1200 + C.RETRY_MS, r.wall)
    assert len(r.sockets) == 1
    r.ntp.step(1200 + C.RESYNC_MS, r.wall)
    assert len(r.sockets) == 2


def test_offline_or_unresolved_sends_nothing_and_says_so():
    r = Rig(connected=False)
    r.ntp.step(0, r.wall)
    assert r.sockets == [] and r.ntp.outcome() == "offline" and not r.wall.known
    r.online[0] = True                         # Wi-Fi came up: within a minute
    r.ntp.step(C.RETRY_MS - 1, r.wall)
    assert r.sockets == []
    r.query(C.RETRY_MS)
    r = Rig()
    r.ntp.addr = None
    r.ntp.step(0, r.wall)
    assert r.sockets == [] and r.ntp.outcome() == "unresolved"


def test_socket_errors_are_counted_never_raised():
    r = Rig()

    def refuse(addr):
        raise OSError(113)   # EHOSTUNREACH
    r.ntp._open = refuse
    r.ntp.step(0, r.wall)
    assert r.count("error") == 1
    r = Rig()
    r.query(1000)
    r.sockets[0].fail = OSError(111)   # ECONNREFUSED: ICMP port unreachable
    r.ntp.step(2000, r.wall)
    assert r.count("error") == 1 and r.sockets[0].closed
    r.query(1000 + C.RETRY_MS)


def test_resolve_looks_a_name_up_only_while_online_and_a_literal_always():
    calls = []

    def getaddrinfo(host, port):
        calls.append((host, port))
        return [(2, 2, 17, "", (host, port))]
    online = [False]
    n = N.Ntp("pool.ntp.org", connected=lambda: online[0], open_socket=None)
    assert not n.resolve(getaddrinfo) and calls == [] and n.outcome() == "unresolved"
    online[0] = True
    assert n.resolve(getaddrinfo) and n.addr == (2, ("pool.ntp.org", 123))
    lit = N.Ntp("192.168.1.1", connected=lambda: False)
    assert lit.resolve(getaddrinfo) and lit.addr == (2, ("192.168.1.1", 123))

    def no_dns(host, port):
        raise OSError(-2)
    assert not N.Ntp("pool.ntp.org", connected=lambda: True).resolve(no_dns)


def test_idle_and_waiting_steps_allocate_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    from tests.fw.alloc import allocated_by
    r = Rig()
    q = r.query(1000)
    r.sockets[0].inbox.append(reply(q))
    r.ntp.step(2000, r.wall)
    assert allocated_by(lambda: r.wall.poll(3000)) == 0      # idle: an hour to go
    assert allocated_by(lambda: r.ntp.step(3000, r.wall)) == 0
    r = Rig()
    r.query(1000)
    assert allocated_by(lambda: r.ntp.step(1500, r.wall)) == 0   # waiting, no reply
