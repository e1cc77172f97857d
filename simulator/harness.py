# In-process, accelerated run of a scenario against the firmware. Harness runs the
# real application (app/, through simulator/app_loop.py: scheduler, every task,
# recovery, persistence, event log) on the plant's clock. Host only.
#
# The firmware sees the plant as a board would, except that the plant's operator
# events are handed straight to the application's operator commands.

from drivers.can import CanBus
from simulator.app_loop import AppLoop
from simulator.chips import I2CBus
from simulator.chips.ina228 import Ina228Model
from simulator.chips.mcp3421 import Mcp3421Model
from simulator.clock import SimClock
from simulator.plant import Plant
from simulator.tesla_direct import ChainLink
from simulator.truth import TruthWriter

# Settings the in-process run changes unless the scenario sets them: the emulated
# boards need no reset pause, and their replies are immediate.
HARNESS_CONFIG = {"bus_reset_wait_ms": 0, "bus_timeout_ms": 3}


# Firmware modules whose sleep_ms (a real wait for the boards' ADC, the reset
# pause) the in-process run turns into simulated time. A module or name that has
# gone is skipped: the run is then only slower, never wrong.
SLEEPING_MODULES = ("drivers.tesla_bus", "drivers.tesla_discovery", "drivers.tesla_link")


class VirtualSleep:
    """Replaces sleep_ms in SLEEPING_MODULES with the simulated clock's while
    installed; restore() puts the originals back."""

    def __init__(self, clock):
        import sys
        self._saved = []
        for name in SLEEPING_MODULES:
            module = sys.modules.get(name)
            if module is not None and hasattr(module, "sleep_ms"):
                self._saved.append((module, module.sleep_ms))
                module.sleep_ms = clock.sleep_ms

    def restore(self):
        for module, original in self._saved:
            module.sleep_ms = original
        self._saved = []


class _PlantBusSense:
    """The plant's DC-bus voltage as the unix board's sense delivers it: whole
    millivolts, what the plant link carries."""

    def __init__(self, plant):
        self.plant = plant

    def read_mv(self):
        return int(round(self.plant.bus_voltage() * 1000.0))


def bus_sense(plant):
    """The plant's bus read through the firmware's drivers.bus_voltage.BusVoltage,
    with the unix board's limits (boards/unix.py)."""
    from boards import load
    from drivers.bus_voltage import BusVoltage
    return BusVoltage(_PlantBusSense(plant), load("unix")["bus_voltage"]["max_mv"])


class PlantCan(CanBus):
    """The firmware's CAN bus, delivering straight to the plant's Victron model. An
    unplugged cable means no acknowledgement: the send fails and is counted."""

    def __init__(self):
        CanBus.__init__(self)
        self.plant = None

    def send(self, can_id, data):
        if self.plant is not None and self.plant.can_receive(can_id, bytes(data)):
            self.tx_ok += 1
            return True
        self.tx_errors += 1
        return False

    def recv(self):
        """The next frame the GX sent (0x307), as a controller receives it."""
        if self.plant is None or not self.plant.gx_outbox:
            return False
        can_id, data = self.plant.gx_outbox.pop(0)
        return self._received(can_id, data)


class Harness:
    """A scenario's plant and today's firmware in one process, on one clock."""

    def __init__(self, scenario, truth_path=None, config=None, start=True):
        """start False: the caller changes what it needs (its own CAN) and calls
        boot() itself, so the application is built once."""
        self.scenario = scenario
        self.clock = SimClock()
        overrides = dict(HARNESS_CONFIG)
        for k in list(overrides):
            if k in scenario.firmware:
                del overrides[k]
        overrides.update(config or {})
        cfg = scenario.firmware_config(overrides)
        self.cfg = cfg
        self.link = ChainLink(cfg["module_count"], clock=self.clock.chain_ticks)
        can = PlantCan()
        # The current sensor's chip, register-level, on an I2C bus the firmware gets.
        self.adc = Mcp3421Model(clock=self.clock.ticks) if scenario.sensor["kind"] == "hall" \
            else Ina228Model(clock=self.clock.ticks)
        self.can = can
        self.i2c = I2CBus(self.adc)
        self.truth = TruthWriter(truth_path)
        self.plant = Plant(scenario, self.clock, chain=self.link.chain, truth=self.truth,
                           adc=self.adc)
        can.plant = self.plant
        self.step_s = scenario.run["step_s"]
        self._sleep = VirtualSleep(self.clock)
        if start:
            self.boot()

    def boot(self, files=None, ring=32768):
        """Start the real application (app/), scheduler and all, on the simulated
        clock: at the first boot, and again for a watchdog reset or power cut with
        the previous run's flash (`files`, simulator.app_loop.MemoryFiles). `ring`:
        bytes of the firmware's RAM event ring (app.events.RingStream)."""
        self.loop = AppLoop(self.cfg, self.link, self.can, bus_voltage=bus_sense(self.plant).volts,
                            i2c=self.i2c, clock=self.clock, files=files, ring=ring)
        self.fw = self.loop.fw
        self.plant.belief = self.loop.belief
        self.plant.on_operator = self.loop.operator
        self.loop.start(self.clock.ticks())

    def run_pass(self):
        fw = self.fw
        self.loop.run_pass(self.clock.ticks())
        # The board's outputs as the plant's coils see them; feedback back in.
        fb = self.plant.feedback()
        for k in range(3):
            fw.feedback[k].value(fb[k])
        self.plant.set_coils(fw.pins[0].value(), fw.pins[1].value(), fw.pins[2].value())
        self.plant.set_heater(fw.heater.value())
        self.plant.step(self.step_s)

    def run(self, duration_s=None, stop=None):
        """Run until duration_s of simulated time (default: the scenario's)."""
        end = self.scenario.duration_s if duration_s is None else duration_s
        while self.clock.t_s < end - 1e-9:
            self.run_pass()
            if stop is not None and stop():
                break
        self.truth.write(self.plant.truth_row())
        return self.truth.rows

    def close(self):
        self._sleep.restore()
        self.truth.close()


def run_scenario(scenario, duration_s=None, truth_path=None):
    """Run a scenario in accelerated time; returns (harness, truth rows)."""
    h = Harness(scenario, truth_path)
    try:
        rows = h.run(duration_s)
    finally:
        h.close()
    return h, rows
