# The application with a current sensor that answers late at boot: the contactors stay
# open and the limits zero until its first reading, no fault is latched within the
# start-up grace (drivers/current_sensor.py START_GRACE_MS), and a sensor that stays
# silent past it faults as before.

from app.application import App, Parts
from bms import config
from bms import diagnosis as D
from bms.diagnosis import Diagnosis
from drivers import current_sensor as CS
from drivers.allow_outputs import AllowOutputs
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from simulator.chips import I2CBus
from simulator.chips.mcp3421 import Mcp3421Model
from tests.fw.app_support import FAST, Clock, CountingBus, Follower, LoopPack


class SensorRig:
    def __init__(self):
        o = dict(FAST)
        o["current_sensor"] = "mcp3421_hall"
        self.cfg = config.make(o)
        self.clock = Clock(1000)
        self.chip = Mcp3421Model(clock=self.clock.ms)
        self.chip.fail("nack")             # its supply rail comes up after the MCU's
        self.chip.set_input_v(2.5 / 2.5)   # 0 A on the default hall wiring
        diag = Diagnosis()
        self.pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
        feedback = tuple(Follower(p) for p in self.pins)
        self.allow = AllowOutputs(MemoryPin("allow_charge"), MemoryPin("allow_discharge"))
        self.sensor = CS.CurrentSensor(self.cfg, I2CBus(self.chip), diag)
        parts = Parts(LoopPack([3700] * 12, [250] * 4), CountingBus(),
                      Contactors(self.pins[0], self.pins[1], self.pins[2], feedback),
                      allow=self.allow, heater=MemoryPin("heater"), current=self.sensor,
                      diag=diag)
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
    rig.chip.fail(None)                    # it answers now
    rig.run(3000)
    assert rig.sensor.valid() and rig.app.machine.state_name == "Run"
    assert rig.closed() == (1, 0, 1) and not rig.app.diag.active[D.CURRENT_SENSOR]


def test_silent_current_sensor_past_the_grace_faults():
    rig = SensorRig()
    rig.run(CS.START_GRACE_MS + 500)
    assert rig.app.diag.active[D.CURRENT_SENSOR]
    assert rig.app.machine.state_name == "Fault" and rig.closed() == (0, 0, 0)
