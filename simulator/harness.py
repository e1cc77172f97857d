# In-process, accelerated run of a scenario against the firmware. Harness runs the
# REAL APPLICATION (app/, through simulator/app_loop.py: scheduler, every task,
# recovery, persistence, event log) on the plant's clock. MiniLoop below is the
# temporary mini main loop the plant issue started with; it stays only for the
# tests and tools that still build it directly. build_firmware() is the mini loop's
# one place that constructs firmware objects. Host only.
#
# What the harness still stands in for (docs/simulator.md): the plant's bus voltage
# as a bus-voltage sensor for the precharge `bus_voltage` event, and the operator's
# commands handed straight to the application.

from bms import balancing
from bms import diagnosis as D
from bms.checks import LimitChecks
from bms.diagnosis import Diagnosis
from bms.limits import Limits
from bms.pack import PackSummary
from drivers.clock import ticks_add, ticks_diff
from drivers.can import CanBus
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from drivers.tesla_bus import TeslaBus
from fsm.context import Context
from fsm.machine import Machine
from fsm.table import P_BALANCE, P_CAN_TX, P_CHARGE, P_DISCHARGE
from protocols.victron.reporter import Reporter
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
STARTUP_GRACE_MS = 5000   # no stale-data fault before the first discovery had a chance
BALANCE_RENEW_MS = 5000   # re-send balance masks well inside balance_time_s
PET_MS = 500              # watchdog pets, when the loop is given a pet function


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
        self.rx_id = can_id
        self.rx_len = len(data)
        for i in range(len(data)):
            self.rx_data[i] = data[i]
        self.rx_frames += 1
        return True


class Firmware:
    """The firmware objects of one BMS, as the main loop would hold them."""


def build_firmware(cfg, tesla_uart, can_bus, on_diag_change=None, contactors=None, heater=None,
                   i2c=None):
    """Every firmware object, built as the application will. Adapt here when a
    constructor changes (e.g. the Tesla bus master's). Without contactors/heater
    given, memory pins stand in (with feedback inputs the caller drives). i2c is
    the current sensor's bus (a machine.I2C look-alike) for the current-sensor
    driver once it exists; nothing reads it yet."""
    fw = Firmware()
    fw.cfg = cfg
    fw.i2c = i2c
    fw.diag = Diagnosis(on_change=on_diag_change)
    if contactors is None:
        pins = tuple(MemoryPin(n) for n in ("negative", "precharge", "positive"))
        feedback = tuple(MemoryPin(n + "_fb") for n in ("negative", "precharge", "positive"))
        contactors = Contactors(pins[0], pins[1], pins[2], feedback)
    fw.contactors = contactors
    fw.pins = contactors.pins
    fw.feedback = contactors.feedback
    fw.heater = heater if heater is not None else MemoryPin("heater")
    fw.machine = Machine(Context(cfg, fw.contactors))
    fw.pack = TeslaBus(tesla_uart, cfg, fw.diag)
    strings = cfg["parallel_strings"]
    fw.summary = PackSummary(strings)
    fw.checks = LimitChecks(cfg, fw.diag)
    fw.limits = Limits(cfg, fw.pack.cell_count() // strings)
    fw.can = can_bus
    fw.reporter = Reporter(can_bus, cfg, fw.summary, fw.limits, fw.diag.active,
                           fw.machine.faults, cells_per_module=6, temps_per_module=2)
    return fw


class MiniLoop:
    """The temporary main loop: one pass = poll (when due), checks, diagnosis flips
    as events, precharge bus voltage, balancing decisions, tick, limits, CAN.
    bus_voltage(): the DC-bus voltage in V as a sensor would read it, or None on a
    board without one (then set precharge_mode "time")."""

    def __init__(self, cfg, tesla_uart, can_bus, bus_voltage=None, contactors=None, heater=None,
                 connect_pin=None, reset_pin=None, i2c=None, watchdog_pet=None):
        self.cfg = cfg
        self.watchdog_pet = watchdog_pet   # e.g. PlantLink.pet, called every PET_MS
        self._next_pet = None
        # Operator inputs (the plant link's `connect` and `reset`): a rising edge of
        # reset is a reset; connect high asks to connect, falling asks to disconnect.
        self.connect_pin = connect_pin
        self.reset_pin = reset_pin
        self._connect_level = 0
        self._reset_level = 0
        self._queue = []
        self.fw = build_firmware(cfg, tesla_uart, can_bus, self._on_diag, contactors, heater, i2c)
        self.bus_voltage = bus_voltage
        self._masks = [0] * cfg["module_count"]
        self._balance_limits = balancing.limits(cfg)
        self._next_poll = None
        self._last_balance = None
        self._sent_ready = False
        self._started = None

    def start(self, t):
        self._started = t
        self._next_poll = t
        self.fw.machine.start(t)

    # --- events into the machine ------------------------------------------------
    def _on_diag(self, i, active, t_ms):
        if D.ROWS[i][D.SEVERITY] == D.FAULT:
            self._queue.append(("fault" if active else "fault_cleared", {"diag": D.ROWS[i][D.ID]}))

    def operator(self, kind):
        """operator_reset / operator_connect / operator_disconnect."""
        if kind == "operator_reset":
            self._queue.append(("ack", None))
            self._queue.append(("reset", None))
        elif kind == "operator_connect":
            self._queue.append(("connect", None))
        else:
            self._queue.append(("disconnect", None))

    def _dispatch_queue(self, t):
        fw = self.fw
        while self._queue:
            event, fields = self._queue.pop(0)
            if event == "ack":
                fw.diag.acknowledge(t)
            else:
                fw.machine.dispatch(event, t, fields)

    def _operator_inputs(self):
        if self.reset_pin is not None:
            level = self.reset_pin.value()
            if level and not self._reset_level:
                self.operator("operator_reset")
            self._reset_level = level
        if self.connect_pin is not None:
            level = self.connect_pin.value()
            if level != self._connect_level:
                self.operator("operator_connect" if level else "operator_disconnect")
            self._connect_level = level

    def run_pass(self, t):
        """One pass at tick t (ms ticks, wrap-safe)."""
        fw = self.fw
        self._operator_inputs()
        if self.watchdog_pet is not None and (self._next_pet is None or
                                              ticks_diff(t, self._next_pet) >= 0):
            self._next_pet = ticks_add(t, PET_MS)
            self.watchdog_pet()
        cfg = self.cfg
        machine = fw.machine
        if ticks_diff(t, self._next_poll) >= 0:
            self._next_poll = ticks_add(t, cfg["poll_ms"])
            fw.pack.poll(t)
            fw.summary.update(fw.pack, t, cfg["stale_ms"])
            if self._sent_ready or ticks_diff(t, self._started) >= STARTUP_GRACE_MS:
                fw.checks.evaluate(fw.summary, t)
            if not self._sent_ready and fw.pack.discovered and fw.summary.valid:
                self._sent_ready = True
                self._queue.append(("pack_ready", None))
            self._balance(t)
        if fw.feedback is not None:
            fw.diag.report(D.CONTACTOR_FEEDBACK, fw.contactors.mismatch() >= 0, t)
        self._dispatch_queue(t)
        if machine.state_name == "Precharge" and fw.summary.valid and self.bus_voltage:
            v_bus = self.bus_voltage()
            if v_bus is not None:
                machine.dispatch("bus_voltage", t, {"v_bus": v_bus,
                                                    "v_pack": fw.summary.v_pack / 1000.0})
        machine.dispatch("tick", t)
        fw.limits.update(fw.summary, machine.allows(P_CHARGE), machine.allows(P_DISCHARGE))
        fw.reporter.poll(t, machine.allows(P_CAN_TX))
        fw.can.service(t)

    def _balance(self, t):
        fw = self.fw
        pack = fw.pack
        balance_mv, delta_mv = self._balance_limits
        wanted = balancing.plan_balance(pack, balance_mv, delta_mv, t, self.cfg["stale_ms"],
                                        self._masks) and any(self._masks)
        if fw.machine.allows(P_BALANCE):
            if not wanted:
                pack.stop_balance()
                self._last_balance = None
                self._queue.append(("balance_done", None))
            elif self._last_balance is None or \
                    ticks_diff(t, self._last_balance) >= BALANCE_RENEW_MS:
                pack.set_balance(self._masks)
                self._last_balance = t
        else:
            if any(pack.balancing):
                pack.stop_balance()
            self._last_balance = None
            if wanted and fw.machine.state_name == "Run":
                self._queue.append(("balance_needed", None))

    # --- what the BMS believed, for the truth file ----------------------------------
    def belief(self):
        fw = self.fw
        s = fw.summary
        lim = fw.limits
        ids = set(fw.diag.active_ids()) | set(fw.machine.ctx.active_faults())
        return {
            "bms_state": fw.machine.state_name, "bms_faults": ";".join(sorted(ids)),
            "bms_cvl_v": lim.cvl_dv / 10.0, "bms_ccl_a": lim.ccl_da / 10.0,
            "bms_dcl_a": lim.dcl_da / 10.0,
            "bms_v_max_mv": s.v_max if s.valid else None,
            "bms_v_min_mv": s.v_min if s.valid else None,
        }


class Harness:
    """A scenario's plant and today's firmware in one process, on one clock."""

    def __init__(self, scenario, truth_path=None, config=None, mini=False):
        """mini: run the temporary mini loop instead of the application (for
        simulator/charge_loop.py's ChargeHarness, which extends it)."""
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
        if mini:
            self.loop = MiniLoop(cfg, self.link, can, bus_voltage=self._bus_voltage,
                                 i2c=I2CBus(self.adc))
        else:
            # The real application (app/), scheduler and all, on the simulated clock.
            from simulator.app_loop import AppLoop
            self.loop = AppLoop(cfg, self.link, can, bus_voltage=self._bus_voltage,
                                i2c=I2CBus(self.adc), clock=self.clock)
        self.fw = self.loop.fw
        self.truth = TruthWriter(truth_path)
        self.plant = Plant(scenario, self.clock, chain=self.link.chain, truth=self.truth,
                           adc=self.adc, on_operator=self.loop.operator)
        can.plant = self.plant
        self.plant.belief = self.loop.belief
        self.step_s = scenario.run["step_s"]
        self._sleep = VirtualSleep(self.clock)
        self.loop.start(self.clock.ticks())

    def _bus_voltage(self):
        # Stand-in for a bus-voltage sensor (no driver exists yet): the plant's value.
        return self.plant.path.v_bus

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
