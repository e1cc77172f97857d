# Helpers for the application tests (both runtimes): the whole App on memory pins,
# a memory CAN bus, a pack the test sets, and a clock the test advances.

from app.application import App, Parts
from app.events import RingStream, TickFilter
from app.persist import Persist
from bms import config
from bms.diagnosis import Diagnosis
from drivers.allow_outputs import AllowOutputs
from drivers.can import MemoryBus
from drivers.clock import TICKS_PERIOD
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from drivers.operator_inputs import LongPress, Switch
from fsm.eventlog import EventLog
from tests.fw.fake_pack import FakePack

_MASK = TICKS_PERIOD - 1
FAST = {"precharge_mode": "time", "precharge_ms": 500, "auto_reset_after_ms": 5000}


class Clock:
    def __init__(self, t_ms=1000):
        self.us = t_ms * 1000

    def ms(self):
        return (self.us // 1000) & _MASK

    def now_us(self):
        return self.us & _MASK

    def advance(self, ms):
        self.us += ms * 1000


class LoopPack(FakePack):
    """A FakePack that polls (a poll may be told to raise) and balances nowhere."""

    def __init__(self, cells, temps):
        FakePack.__init__(self, cells, temps)
        self.polls = 0
        self.explode = False

    def poll(self, t_ms):
        self.polls += 1
        if self.explode:
            raise RuntimeError("bug in a driver")

    def set_balance(self, masks):
        pass

    def stop_balance(self):
        return True


class Follower:
    """A contactor's auxiliary contact: follows its coil unless stuck (welded)."""

    def __init__(self, coil):
        self.coil = coil
        self.stuck = None

    def value(self, v=None):
        return self.stuck if self.stuck is not None else self.coil.value()


class MemoryStore:
    """RecordStore's interface in memory: the newest saved copy survives a reboot."""

    def __init__(self):
        self.data = None
        self.saves = 0

    def load(self, buf):
        if self.data is None:
            return False
        buf[:len(self.data)] = self.data
        return True

    def save(self, payload, t_ms, force=False):
        self.data = bytes(payload)
        self.saves += 1
        return True


class FixedSource:
    """A wall-clock source (drivers.wall_clock.WallClock's read) the test sets:
    (days since 1970, second of day, ms); day 0 reads as unset. No allocation."""

    def __init__(self, day=20785, sod=36159):   # 2026-11-28 10:02:39 UTC
        self.now = (day, sod, 0)
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.now


class CountingBus(MemoryBus):
    """Counts frames by id instead of keeping them (long runs stay small)."""

    def __init__(self):
        MemoryBus.__init__(self, record=False)
        self.counts = {}

    def send(self, can_id, data):
        ok = MemoryBus.send(self, can_id, data)
        if ok:
            self.counts[can_id] = self.counts.get(can_id, 0) + 1
        return ok


class Rig:
    """An App with 2 modules (12 cells) on memory parts; run(ms) advances time."""

    def __init__(self, overrides=None, store=None, feedback=True, buttons=True, t_ms=1000,
                 wall=None):
        o = dict(FAST)
        o.update(overrides or {})
        self.cfg = config.make(o)
        self.clock = Clock(t_ms)
        self.pack = LoopPack([3700] * 12, [250] * 4)
        self.pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
        self.feedback = tuple(Follower(p) for p in self.pins) if feedback else None
        self.contactors = Contactors(self.pins[0], self.pins[1], self.pins[2], self.feedback)
        self.can = CountingBus()
        self.allow = AllowOutputs(MemoryPin("allow_charge"), MemoryPin("allow_discharge"))
        self.reset_pin = MemoryPin("reset", value=1)      # pull-up: released reads 1
        self.connect_pin = MemoryPin("connect", value=0)  # switch closed: connect
        t0 = self.clock.ms()
        self.ring = RingStream(8192)   # ~80 records: what the tests read back
        self.store = store
        self.wall = wall
        self.persist = Persist(store, wall) if store is not None else None
        parts = Parts(self.pack, self.can, self.contactors, allow=self.allow,
                      heater=MemoryPin("heater"),
                      connect=Switch(self.connect_pin, t_ms=t0) if buttons else None,
                      reset=LongPress(self.reset_pin, t_ms=t0) if buttons else None,
                      store=self.persist, log=TickFilter(EventLog(self.ring, wall)),
                      diag=Diagnosis(), wall=wall)
        self.app = App(self.cfg, parts, self.clock.ms, self.clock.now_us)
        self.app.start(t0)

    def run(self, ms, step=10):
        for _ in range(ms // step):
            self.app.run_pass()
            self.clock.advance(step)

    @property
    def state(self):
        return self.app.machine.state_name

    def closed(self):
        return tuple(p.value() for p in self.pins)

    def hold_reset(self, ms=3500):
        self.reset_pin.value(0)
        self.run(ms)
        self.reset_pin.value(1)
        self.run(200)

    def sent(self, can_id):
        return self.can.counts.get(can_id, 0)
