# The real firmware application (app/application.py), in process, on the plant's
# simulated clock: what simulator/harness.py runs a scenario against (start,
# run_pass(t), operator(kind), belief(), fw = the App with its parts), so the
# harness, the scenario tests and `pybms sim --check` run the application the
# board runs, scheduler and all. Host only.
#
# Time: the scheduler reads the plant's ticks (now_ms = the t of the current pass)
# and microseconds of simulated time (the pass's ms plus the firmware's virtual
# sleeps), so task timing is deterministic and a run replays exactly.

from app.application import App, Parts
from app.events import RingStream, TickFilter
from app.persist import SIZE as PERSIST_SIZE
from app.persist import Persist
from bms.diagnosis import Diagnosis
from bms.soc_record import SIZE as SOC_SIZE
from boards import hal
from boards.unix import BOARD
from drivers.allow_outputs import AllowOutputs
from drivers.clock import TICKS_PERIOD
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from drivers.storage import RecordStore
from fsm.eventlog import EventLog

_MASK = TICKS_PERIOD - 1
NAMES = ("negative", "precharge", "positive")


class MemoryFiles:
    """drivers.storage's filesystem in memory: survives an application restart
    within one harness (a watchdog reset or power cut of the firmware)."""

    def __init__(self):
        self.files = {}

    def read(self, path):
        return self.files.get(path)

    def write(self, path, data):
        self.files[path] = bytes(data)


class AppLoop:
    def __init__(self, cfg, tesla_uart, can_bus, bus_voltage=None, i2c=None, clock=None,
                 files=None, ring=32768):
        self.cfg = cfg
        self.clock = clock
        self._t = 0
        diag = Diagnosis()
        pins = tuple(MemoryPin(n) for n in NAMES)
        feedback = tuple(MemoryPin(n + "_fb") for n in NAMES)
        contactors = Contactors(pins[0], pins[1], pins[2], feedback)
        sensor = None
        if cfg["current_sensor"] != "none" and i2c is not None:
            from drivers.current_sensor import CurrentSensor
            sensor = CurrentSensor(cfg, i2c, diag)
        self.files = files if files is not None else MemoryFiles()
        store = Persist(RecordStore("state", PERSIST_SIZE, 60000, self.files))
        soc_store = RecordStore("state_soc", SOC_SIZE, 60000, self.files)
        self.ring = RingStream(ring)
        self.heater = MemoryPin("heater")
        parts = Parts(hal.pack(BOARD, cfg, diag, tesla_uart), can_bus, contactors,
                      allow=AllowOutputs(MemoryPin("allow_charge"), MemoryPin("allow_discharge")),
                      heater=self.heater, store=store, bus_voltage=bus_voltage,
                      current=sensor, log=TickFilter(EventLog(self.ring)), diag=diag,
                      soc_store=soc_store)
        self.app = app = App(cfg, parts, self._now_ms, self._now_us)
        # What the harness and the tests read beside the App's own objects.
        app.pins = pins
        app.feedback = feedback
        app.heater = self.heater
        app.can = can_bus
        app.cfg = cfg
        app.i2c = i2c
        self.fw = app

    def _now_ms(self):
        return self._t

    def _now_us(self):
        slept = self.clock._slept_ms if self.clock is not None else 0
        return ((self._t + slept) * 1000) & _MASK

    def start(self, t):
        self._t = t
        self.app.start(t)

    def run_pass(self, t):
        self._t = t
        self.app.run_pass()

    def operator(self, kind):
        """The plant's operator events: operator_reset / _connect / _disconnect."""
        if kind == "operator_reset":
            self.app.operator_reset(self._t)
        else:
            self.app.operator_connect(self._t, kind == "operator_connect")

    def log_lines(self):
        """The firmware's event log as a replayable JSON Lines text (header first)."""
        out = _Lines()
        self.ring.dump(out, self.cfg)
        return out.lines

    def belief(self):
        app = self.app
        s = app.summary
        lim = app.limits
        ids = set(app.diag.active_ids()) | set(app.machine.ctx.active_faults())
        return {
            "bms_state": app.machine.state_name, "bms_faults": ";".join(sorted(ids)),
            "bms_cvl_v": lim.cvl_dv / 10.0, "bms_ccl_a": lim.ccl_da / 10.0,
            "bms_dcl_a": lim.dcl_da / 10.0,
            "bms_v_max_mv": s.v_max if s.valid else None,
            "bms_v_min_mv": s.v_min if s.valid else None,
        }


class _Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)
