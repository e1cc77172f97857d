# The application with a current sensor that answers late at boot: the contactors stay
# open and the limits zero until its first reading, no fault is latched within the
# start-up grace (drivers/current_sensor.py START_GRACE_MS), and a sensor that stays
# silent past it faults as before. With every contactor open the application gives
# the SoC estimator the sensor's zero (bms/soc.py rule 7); with no SoC record (nothing
# stored says that zero) no contactor closes before it has been read for
# app.tasks.ZERO_FIRST_MS.

from app import tasks as T
from app.application import App, Parts
from bms import config
from bms import diagnosis as D
from bms import soc as S
from bms import soc_record as R
from bms.diagnosis import Diagnosis
from drivers import current_sensor as CS
from drivers.allow_outputs import AllowOutputs
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from tests.fw.app_support import FAST, Clock, CountingBus, Follower, LoopPack, MemoryStore

ZERO_AMPS = bytes((0x3E, 0x80, 0x18, 0x18))   # code 16000 (1.000 V: 0 A), 16 bit, ready
# +0.5 A: 5 mV at the transducer, 2 mV at the ADC = 32 codes of 62.5 uV
HALF_AMP = bytes((0x3E, 0xA0, 0x18, 0x18))


class LateHall:
    """An MCP3421 on the default hall wiring, small enough for the application's
    test heap (the register-level model is tested in test_current_sensor.py): it
    does not answer until `up`, then converts continuously and reads 0 A."""

    def __init__(self):
        self.up = False
        self.reading = ZERO_AMPS

    def writeto(self, addr, buf):
        if not self.up:
            raise OSError(19)

    def readfrom_into(self, addr, buf):
        if not self.up:
            raise OSError(19)
        buf[:] = self.reading


def _config():
    o = dict(FAST)
    o["current_sensor"] = "mcp3421_hall"
    return config.make(o)


def _saved_soc(offset_ma):
    """A SoC store holding a record (as a board has after its first minute)."""
    store = MemoryStore()
    est = S.SocEstimator(_config(), 12)
    est.soc_u = est.shown = 50000
    est.offset_ma = offset_ma
    store.save(R.pack(est, bytearray(R.SIZE)), 0)
    return store


class SensorRig:
    def __init__(self, soc_store=None):
        self.cfg = _config()
        self.clock = Clock(1000)
        self.chip = LateHall()             # its supply rail comes up after the MCU's
        diag = Diagnosis()
        self.pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
        feedback = tuple(Follower(p) for p in self.pins)
        self.allow = AllowOutputs(MemoryPin("allow_charge"), MemoryPin("allow_discharge"))
        self.sensor = CS.CurrentSensor(self.cfg, self.chip, diag)
        parts = Parts(LoopPack([3700] * 12, [250] * 4), CountingBus(),
                      Contactors(self.pins[0], self.pins[1], self.pins[2], feedback),
                      allow=self.allow, heater=MemoryPin("heater"), current=self.sensor,
                      diag=diag, soc_store=soc_store)
        self.app = App(self.cfg, parts, self.clock.ms, self.clock.now_us)
        self.app.start(self.clock.ms())

    def run(self, ms, step=10):
        for _ in range(ms // step):
            self.app.run_pass()
            self.clock.advance(step)

    def closed(self):
        return tuple(p.value() for p in self.pins)


def test_late_current_sensor_keeps_everything_open_without_a_fault():
    rig = SensorRig()
    rig.run(CS.START_GRACE_MS - 1000)
    assert rig.closed() == (0, 0, 0) and rig.app.machine.state_name == "Init"
    assert not rig.app.diag.active[D.CURRENT_SENSOR]
    assert rig.app.limits.ccl_da == 0 and rig.app.limits.dcl_da == 0
    assert not rig.allow.charge and not rig.allow.discharge
    rig.chip.up = True                     # it answers now
    rig.run(3000)
    assert rig.sensor.valid() and rig.app.machine.state_name == "Run"
    assert rig.closed() == (1, 0, 1) and not rig.app.diag.active[D.CURRENT_SENSOR]


def test_silent_current_sensor_past_the_grace_faults():
    rig = SensorRig()
    rig.run(CS.START_GRACE_MS + 500)
    assert rig.app.diag.active[D.CURRENT_SENSOR]
    assert rig.app.machine.state_name == "Fault" and rig.closed() == (0, 0, 0)


def test_without_a_record_no_contactor_closes_before_the_sensor_read_its_zero():
    rig = SensorRig()
    rig.chip.up = True
    rig.chip.reading = HALF_AMP            # a sensor 0.5 A off zero
    rig.run(T.ZERO_FIRST_MS - 500)
    assert rig.app.machine.state_name == "Init" and rig.closed() == (0, 0, 0)
    rig.run(1500)
    soc = rig.app.soc
    assert rig.app.machine.state_name == "Run" and rig.closed() == (1, 0, 1)
    # read over the whole wait: ~5 s of readings, not the first few
    assert abs(soc.offset_ma - 500) <= 20 and soc.zero_learns >= 1, soc.offset_ma


def test_with_a_record_the_first_connect_does_not_wait_for_the_zero():
    rig = SensorRig(_saved_soc(480))
    rig.chip.up = True
    rig.chip.reading = HALF_AMP
    rig.run(2000)
    soc = rig.app.soc
    assert soc.origin == S.ORIGIN_RECORD
    assert rig.app.machine.state_name == "Run" and rig.closed() == (1, 0, 1)
    assert abs(soc.offset_ma - 490) <= 30, soc.offset_ma   # the record's, then the zero's


def test_with_every_contactor_open_the_sensor_reading_is_its_offset():
    rig = SensorRig()
    rig.chip.up = True
    rig.chip.reading = HALF_AMP            # a sensor 0.5 A off zero
    rig.run(T.ZERO_FIRST_MS + 1000)
    soc = rig.app.soc
    assert rig.app.machine.state_name == "Run"
    assert abs(soc.offset_ma - 500) <= 20, soc.offset_ma   # read while it waited
    rig.app.operator_connect(rig.clock.ms(), False)    # open: nothing can flow now
    rig.run(3000)
    assert rig.closed() == (0, 0, 0)
    assert abs(soc.offset_ma - 500) <= 20 and soc.zero_learns >= 2, soc.offset_ma
    rig.app.operator_connect(rig.clock.ms(), True)     # closed again: a load or a charger
    rig.chip.reading = ZERO_AMPS           # ... reads as a current, never as an offset
    rig.run(3000)
    assert rig.closed() == (1, 0, 1) and abs(soc.offset_ma - 500) <= 20, soc.offset_ma
