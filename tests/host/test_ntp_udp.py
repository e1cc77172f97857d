# The SNTP client (drivers/ntp.py) on the MicroPython unix port over real UDP on
# 127.0.0.1, against a server written here in CPython: a good reply sets the wall
# clock and the RTC to this machine's time; garbage, a forged reply, a silent
# server, a kiss-o'-death and a closed port are each counted and give no time; a
# step waiting on the real non-blocking socket allocates nothing. The packet and
# state-machine details are tests/fw/test_ntp.py (CPython and MicroPython, faked).

import json
import socket
import struct
import subprocess
import threading
import time

from tests.host.firmware_files import ROOT
from tools import mpy_unix

NTP_UNIX = 2208988800

# Runs on MicroPython: one exchange per behaviour the server plays, stepping the
# client every 10 ms of real time (its clock: a counter advanced by the real time
# slept, jumped forward between exchanges to the next attempt).
SCRIPT = """
import gc, json, socket, time
from drivers import ntp as N
from drivers import wall_clock as C

class Rtc:
    set_to = None
    def datetime(self, dt=None):
        Rtc.set_to = dt

port = %d
n = N.Ntp('127.0.0.1', Rtc(), connected=lambda: True)
ai = socket.getaddrinfo('127.0.0.1', port)[0]
n.addr = (ai[0], ai[-1])
wall = C.WallClock(lambda: (0, 0, 0), n)
wall.sync(0)
t = 0
out = {}

def exchange(name, wait_ms=1500):
    global t
    t = (C.RESYNC_MS + 10000) * (len(out) + 1)   # the next attempt is due by then
    before = list(n.counts)
    n.step(t, wall)                       # sends the query
    waiting = []
    while n._sock is not None and wait_ms > 0:
        time.sleep_ms(10)
        t += 10
        wait_ms -= 10
        gc.collect(); gc.disable()
        a = gc.mem_alloc()
        n.step(t, wall)
        waiting.append(gc.mem_alloc() - a)
        gc.enable()
    if n._sock is not None:               # still waiting: let the timeout pass
        t += N.TIMEOUT_MS
        n.step(t, wall)
    delta = [n.counts[i] - before[i] for i in range(len(before))]
    out[name] = {'counts': dict((N.REASONS[i], d) for i, d in enumerate(delta) if d),
                 'last': n.outcome(), 'waiting_steps': len(waiting) - 1,
                 'alloc_waiting': max(waiting[:-1]) if len(waiting) > 1 else None,
                 'utc_s': wall.unix_s(t) if wall.known else None}

exchange('good')
out['good']['rtc'] = list(Rtc.set_to)
exchange('garbage_forged_then_good')
exchange('silent')
exchange('kod')
exchange('slow')
n.addr = (ai[0], socket.getaddrinfo('127.0.0.1', %d)[0][-1])   # nobody listens there
exchange('closed_port')
print(json.dumps(out))
"""


def _reply(query, stratum=2, origin=None, now=None):
    now = time.time() if now is None else now
    secs = int(now)
    frac = int((now - secs) * 2 ** 32)
    ts = ((secs + NTP_UNIX) << 32) | frac
    origin = query[40:48] if origin is None else origin
    return struct.pack("!BBbb4s4s4s", 0x24, stratum, 6, -20, bytes(4), bytes(4), b"GPS\0") \
        + struct.pack("!Q", 0) + origin + struct.pack("!QQ", ts, ts)


class Server(threading.Thread):
    """Plays one behaviour per query, in order."""

    PLAYS = ("good", "garbage_forged_then_good", "silent", "kod", "slow")

    def __init__(self):
        threading.Thread.__init__(self, daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.queries = []

    def run(self):
        for play in self.PLAYS:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            self.queries.append(query)
            send = lambda b: self.sock.sendto(b, peer)   # noqa: E731
            if play == "good":
                send(_reply(query))
            elif play == "garbage_forged_then_good":
                # apart: MicroPython's readinto fills its buffer across datagrams,
                # so a short one and the next read in the same step are one packet
                # (tests/fw/test_ntp.py covers that: refused, never a time)
                send(b"\x1c\x01garbage")
                time.sleep(0.05)
                send(_reply(query, origin=bytes(8)))
                time.sleep(0.05)
                send(_reply(query))
            elif play == "kod":
                send(_reply(query, stratum=0))
            elif play == "slow":
                time.sleep(0.3)
                send(_reply(query))


def _closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_the_client_on_micropython_against_a_real_udp_server():
    if not mpy_unix.available():
        import pytest
        pytest.skip("no MicroPython unix port in this environment")
    server = Server()
    server.start()
    r = subprocess.run(mpy_unix.command("-c", SCRIPT % (server.port, _closed_port())),
                       cwd=ROOT, env=mpy_unix.environment(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    now = time.time()
    good = out["good"]
    assert good["counts"] == {"ok": 1} and good["last"] == "ok"
    assert abs(good["utc_s"] - now) < 5, (good, now)      # seconds of test run, not drift
    y, mo, d, wd, h, mi, s, sub = good["rtc"]
    gm = time.gmtime(good["utc_s"])
    assert (y, mo, d, wd) == (gm.tm_year, gm.tm_mon, gm.tm_mday, gm.tm_wday) and sub == 0
    assert out["garbage_forged_then_good"]["counts"] == {"short": 1, "origin": 1, "ok": 1}
    assert out["silent"]["counts"] == {"timeout": 1}
    assert out["kod"]["counts"] == {"kod": 1}
    slow = out["slow"]
    assert slow["counts"] == {"ok": 1} and slow["waiting_steps"] >= 10
    assert slow["alloc_waiting"] == 0, slow             # a waiting step allocates nothing
    assert out["silent"]["alloc_waiting"] == 0
    assert out["closed_port"]["counts"] == {"error": 1}  # ICMP port unreachable
    # every query was a 48-byte client packet with its own nonce
    assert len(server.queries) == 5 and all(len(q) == 48 and q[0] == 0x23
                                            for q in server.queries)
    assert len(set(q[40:48] for q in server.queries)) == 5
