# The "ntp" wall clock wired into the application: esp32_devkit built by app/boot.py
# (its board file names "ntp" and "ntp_server"), its RTC unset as after power-up,
# the client's network faked. The scheduler's `clock` task sends the query and reads
# the reply in a later pass; from then on records carry utc_s and the RTC is set.
# CPython only: a second whole application does not fit the MicroPython test heap
# (the client itself runs on MicroPython in tests/fw/test_ntp.py, test_ntp_udp.py).

from app import boot
from boards import load
from bms import config
from tests.fw.app_support import Clock
from tests.fw.test_app_boot import BootMachine
from tests.fw.test_ntp import NTP_S, QUARTER, FakeSocket, reply

UNIX_S = 1795860159   # NTP_S: 2026-11-28 10:02:39 UTC


class NtpMachine(BootMachine):
    def __init__(self):
        BootMachine.__init__(self)
        machine = self
        self.rtc_set = []

        class RTC:   # an ESP32's after power-up until NTP sets it
            def datetime(self, dt=None):
                if dt is None:
                    return machine.rtc_set[-1] if machine.rtc_set else (2000, 1, 1, 5, 0, 0, 12, 0)
                machine.rtc_set.append(dt)

        self.RTC = RTC


def test_the_clock_task_sets_the_wall_clock_from_ntp_and_records_carry_utc_s(tmp_path):
    m = NtpMachine()
    clock = Clock(1000)
    cfg = config.make({"module_count": 2})
    app = boot.build(load("esp32_devkit"), cfg, {"--state": str(tmp_path / "state")},
                     machine=m, now_ms=clock.ms, now_us=clock.now_us)
    wall = app.parts.wall
    ntp = wall.trim
    assert ntp.server == "pool.ntp.org" and ntp.addr is None   # no network here: no DNS
    assert not wall.known
    # The network comes up and the name resolves (the console/web issue's job).
    sockets = []
    ntp._connected = lambda: True
    ntp._open = lambda addr: FakeSocket(sockets)
    assert ntp.resolve(lambda host, port: [(2, 2, 17, "", ("203.0.113.7", port))])
    app.start(clock.ms())
    assert len(sockets) == 1 and len(sockets[0].sent) == 1   # the query, from start()
    t_sent = clock.ms()
    clock.advance(10)
    app.run_pass()                  # the clock task's first run: nothing yet
    assert ntp.outcome() != "ok" and not wall.known
    sockets[0].inbox.append(reply(sockets[0].sent[0], NTP_S, QUARTER))
    for _ in range(150):            # 1.5 s of 10 ms passes: the clock task runs once more
        clock.advance(10)
        app.run_pass()
    assert ntp.outcome() == "ok" and wall.known and sockets[0].closed
    # Read by the clock task 1000 ms after sending: 159.250 plus half of that, so
    # 159.750 at t_sent + 1000, and second 160 begins 250 ms later.
    assert wall.unix_s(t_sent + 1249) == UNIX_S and wall.unix_s(t_sent + 1250) == UNIX_S + 1
    assert m.rtc_set == [(2026, 11, 28, 5, 10, 2, 39, 0)]
    names = app.sched.names
    k = names.index("clock")
    assert app.sched.errors[k] == 0 and app.sched.overruns[k] == 0
    # Records from now on say when (comm loss: no module answers on this fake UART).
    for _ in range(800):
        clock.advance(10)
        app.run_pass()
    lines = app.ring.records()
    late = [x for x in lines if '"utc_s": ' in x]
    assert late, lines
    # The next query is an hour away: no new socket in these seconds.
    assert len(sockets) == 1
