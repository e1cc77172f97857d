# The BMS application: every firmware part joined by one cooperative loop.
# app/boot.py builds the parts from a board file and the configuration and hands
# them in (so do the in-process plant harness and the tests); this file owns the
# order of work, not the hardware. One pass = scheduler.run_due(): each task of
# app/tasks.py that is due runs once, in table order.
#
# Fail-safe: an exception in any task is caught by the scheduler, counted, and
# turned into the `internal` fault: contactors open at once, allow outputs off,
# the machine in Fault (fsm.table.FAIL_SAFE), never a crashed loop with
# contactors closed. The steady loop allocates nothing (tests/fw/test_app_alloc.py).

from app import tasks as T
from app.parts import Parts  # noqa: F401  (re-exported: callers build Parts from here)
from app.events import (EV_BALANCE_DONE, EV_BALANCE_NEEDED, EV_CONNECT, EV_DISCONNECT,
                        EV_FAULT, EV_FAULT_CLEARED, EV_PACK_READY, EV_RESET, fault_fields,
                        EventQueue)
from app.recovery import Recovery
from app.scheduler import Scheduler
from bms import diagnosis as D
from bms.balancer import Balancer
from bms.charge import ABSORPTION, CONDITION_NAMES, FLOAT, ChargeControl, phase_name
from bms.checks import LimitChecks
from bms.diagnosis import Diagnosis
from bms.heater import STATE_NAMES as HEATER_STATES
from bms.heater import Heater, blocked_by
from bms.limits import Limits
from bms.pack import PackSummary
from bms.soc import SocEstimator
from bms.soc_record import Saver
from bms.ticks import ticks_add, ticks_diff
from drivers.operator_inputs import OFF, ON
from fsm.table import P_BALANCE, P_CAN_TX, P_CHARGE, P_DISCHARGE, STATES
from fsm.context import Context
from fsm.machine import Machine
from protocols.victron.reporter import Reporter

PRECHARGE = STATES.index("Precharge")
RUN = STATES.index("Run")
FAULT_STATE = STATES.index("Fault")


class App:
    def __init__(self, cfg, parts, now_ms, now_us, setting_units=None):
        # setting_units: bms.config.units() (see bms.checks.config_units), so a
        # board's boot can drop the configuration schema before the App is built.
        self.cfg = cfg
        self.parts = p = parts
        self.now_ms = now_ms
        self.queue = EventQueue()
        self.diag = p.diag if p.diag is not None else Diagnosis()
        self.diag.on_change = self._on_diag
        self.pack = p.pack
        self.contactors = p.contactors
        strings = cfg["parallel_strings"]
        cells = p.pack.cell_count()
        modules = cfg["module_count"]
        # The App's largest blocks first, while the heap is least cut up by the
        # boot's drops: the summary's and the balancer's per-cell arrays (744 B each
        # with 62 modules), then the SoC estimator, whose attribute table grows in
        # steps to ~780 B as __init__ sets ~90 fields (each step needs the next,
        # larger table while the last is still held). Made later, they failed first
        # at the smallest heaps (pybms bench app, 62 modules: .mpy 171 -> 169 KB,
        # frozen 64 -> 62 KB).
        self.summary = PackSummary(strings, cells, p.pack.temp_count())
        self.balancer = Balancer(cfg, cells, cells // modules, p.pack.temp_count() // modules)
        self.soc = SocEstimator(cfg, cells // strings)
        self.soc_saver = Saver(self.soc, cfg, p.soc_store) if p.soc_store is not None else None
        self.machine = Machine(Context(cfg, p.contactors), log=p.log)
        self.checks = LimitChecks(cfg, self.diag, setting_units)
        self.limits = Limits(cfg, cells // strings, setting_units)
        self.reporter = Reporter(p.can, cfg, self.summary, self.limits, self.diag.active,
                                 self.machine.faults, cells // modules,
                                 p.pack.temp_count() // modules)
        series = cells // strings
        self.charge = ChargeControl(cfg, series)
        self.heating = Heater(cfg)   # the decision; parts.heater is its pin
        self._phase = self.charge.phase          # as last logged
        self._phase_changes = 0
        self._heater_state = self.heating.state  # as last logged
        self.recovery = Recovery(cfg)
        self.stale_ms = cfg["stale_ms"]
        self._bus_fields = {"v_bus": 0.0, "v_pack": 0.0}
        self._pack_ready_sent = False
        self._zero_until = None       # no pack_ready before (ticks): tasks.ZERO_FIRST_MS
        self._started_ms = 0
        self.last_pass_ok = False
        self.task_errors = 0
        self.task_errors_before = 0   # persisted from earlier boots
        self.watchdog_feeds = 0
        self.current_da = None
        self.soc_x100 = None
        self._open_since = None       # every contactor open since (the sensor's zero)
        self._fb_mismatch = -1        # the contactor whose feedback disagreed last pass
        self.sched = s = Scheduler(now_ms, now_us, ticks_diff, ticks_add, self._on_task_error)
        # The module poll in bounded steps when the bus master offers them; a bus
        # master without step() polls its whole cycle once per poll_ms instead.
        step = getattr(p.pack, "step", None)
        self._poll = step or p.pack.poll
        for row in T.TASKS:
            period = T.period_ms(row, cfg)
            if row[T.NAME] == "module_poll" and step is None:
                period = cfg["poll_ms"]
            s.add(row[T.NAME], period, getattr(self, "task_" + row[T.NAME]), row[T.BUDGET])

    # --- start ----------------------------------------------------------------
    def start(self, t_ms):
        """Contactors open (the machine's initial state), then what was persisted:
        a fault latched before a reset or power cut is honoured (the machine goes
        straight to Fault and waits for the reset it was waiting for)."""
        self._started_ms = t_ms
        wall = self.parts.wall
        if wall is not None:
            wall.poll(t_ms)   # read at boot unless the builder already did
        m = self.machine
        m.start(t_ms)
        if self.parts.log is not None:
            self.parts.log.change(t_ms, "phase", phase_name(self.charge.phase), None, "boot")
        if self.parts.allow is not None:
            self.parts.allow.block_all()
        store = self.parts.store
        if store is not None:
            store.restore(t_ms, self)
        # else the SoC starts from the cells' OCV and the sensor's zero is unknown
        restored = self.soc_saver is not None and self.soc_saver.load()
        if self.parts.current is not None and not restored:
            self._zero_until = ticks_add(t_ms, T.ZERO_FIRST_MS)
        sw = self.parts.connect
        if sw is not None and self.parts.connect_at_boot:
            m.dispatch("connect" if sw.on else "disconnect", t_ms)
        self.sched.start(t_ms)

    def run_pass(self):
        ok = self.sched.run_due()
        self.last_pass_ok = ok
        return ok

    # --- events ---------------------------------------------------------------
    def _on_diag(self, i, active, t_ms):
        if D.ROWS[i][D.SEVERITY] != D.FAULT:
            return
        if active:
            self.queue.put(EV_FAULT, i)
            self.recovery.saw(i)
            store = self.parts.store
            if store is not None:
                store.note_fault(i, t_ms, self.diag.detail[i], self.summary)
        else:
            self.queue.put(EV_FAULT_CLEARED, i)

    def _dispatch(self, t_ms):
        self.queue.dispatch_all(self.machine, t_ms)
        # A latch is persisted the moment it is taken, not at the next persistence
        # tick: a reset in between would boot with the latch lost (tests/host/
        # test_e2e_scenarios.py restarts the firmware 100 ms after a fault).
        store = self.parts.store
        if store is not None and self.machine.state == FAULT_STATE and not store.latched:
            store.latch_changed(t_ms, self)

    def operator_reset(self, t_ms):
        """The fault-reset command (long press, plant link, later console/web)."""
        self.diag.acknowledge(t_ms)
        self.queue.put(EV_RESET)
        self._dispatch(t_ms)
        if self.machine.state != FAULT_STATE:
            self.recovery.operator_reset()
            if self.parts.store is not None:
                self.parts.store.note_reset(False, t_ms)
                self.parts.store.latch_changed(t_ms, self)

    def operator_connect(self, t_ms, on):
        self.queue.put(EV_CONNECT if on else EV_DISCONNECT)
        self._dispatch(t_ms)

    def _on_task_error(self, i, exc, t_ms):
        """A task raised: open everything first, then tell the machine."""
        self.task_errors += 1
        try:
            self.contactors.open_all()
        except Exception:  # every other pin was still tried (Contactors.open_all)
            pass
        try:
            if self.parts.allow is not None:
                self.parts.allow.block_all()
            log = self.machine.log
            if log is not None:
                log.error(t_ms, self.sched.names[i], "task: %r" % (exc,))
            self.diag.latch(D.INTERNAL, t_ms, i)
            self.machine.dispatch("fault", t_ms, fault_fields(D.INTERNAL))
            self._dispatch(t_ms)
        except Exception:  # the machine and contactors are already safe
            self.task_errors += 1

    # --- tasks (app/tasks.py), fn(t_ms) ---------------------------------------
    def task_inputs(self, t):
        p = self.parts
        if p.link is not None:
            p.link.poll()
        if p.reset is not None and p.reset.update(t, ticks_diff):
            self.operator_reset(t)
        if p.connect is not None:
            change = p.connect.update(t, ticks_diff)
            if change == ON or change == OFF:
                self.operator_connect(t, change == ON)
        c = self.contactors
        if c.feedback is not None:
            # A disagreement counts while the same contactor keeps disagreeing: two
            # contactors moving one after the other (main positive closes, precharge
            # is released precharge_overlap_ms later) each disagree for their own
            # operate time, and those windows must not add up into one fault.
            m = c.mismatch()
            self.diag.report(D.CONTACTOR_FEEDBACK, m >= 0 and m == self._fb_mismatch, t)
            self._fb_mismatch = m
            self._dispatch(t)

    def task_module_poll(self, t):
        self._poll(t)

    def task_current(self, t):
        cur = self.parts.current
        ok = False
        ma = 0
        if cur is not None:
            cur.poll(t)
            ok = cur.valid()
            ma = cur.ma
        self.current_da = ma // 100 if ok else None
        self.soc.update(t, ma, ok, self.summary)
        self.soc_x100 = self.soc.soc_x100()
        # No current can flow with every contactor open: what the sensor reads then
        # is its offset (bms/soc.py rule 7).
        if ok and self.contactors.all_open():
            if self._open_since is None:
                self._open_since = t
            elif ticks_diff(t, self._open_since) >= T.OPEN_SETTLE_MS:
                self.soc.open_sample(ma)
        elif self._open_since is not None:
            self._open_since = None
            self.soc.open_end()

    def task_checks(self, t):
        s = self.summary
        s.update(self.pack, t, self.stale_ms)
        if self._pack_ready_sent or ticks_diff(t, self._started_ms) >= T.STARTUP_GRACE_MS:
            self.checks.evaluate(s, t)
        cur = self.parts.current
        # No connecting before the current sensor's first reading (it may answer late
        # at boot: drivers/current_sensor.py START_GRACE_MS), nor, when nothing stored
        # says its zero, before it has read it (tasks.ZERO_FIRST_MS; cleared once
        # passed, so a long wait never wraps the ticks).
        z = self._zero_until
        if z is not None and ticks_diff(t, z) >= 0:
            self._zero_until = z = None
        if not self._pack_ready_sent and s.valid and (cur is None or cur.samples) \
                and z is None:
            self._pack_ready_sent = True
            self.queue.put(EV_PACK_READY)
        self._dispatch(t)

    def task_machine(self, t):
        m = self.machine
        self._dispatch(t)
        bv = self.parts.bus_voltage
        if m.state == PRECHARGE and bv is not None and self.summary.valid:
            v = bv()
            if v is not None:
                f = self._bus_fields
                f["v_bus"] = v
                f["v_pack"] = self.summary.v_pack / 1000.0
                m.dispatch("bus_voltage", t, f)
        m.dispatch("tick", t)

    def task_limits(self, t):
        m = self.machine
        ma = self.current_da * 100 if self.current_da is not None else None
        c = self.charge
        c.update(t, self.summary, ma, self.soc_x100)
        if c.phase_changes != self._phase_changes:
            self._phase_changes = c.phase_changes
            log = self.parts.log
            if log is not None:
                log.change(t, "phase", phase_name(c.phase), phase_name(self._phase),
                           CONDITION_NAMES[c.cause])
            self._phase = c.phase
        self.limits.update(self.summary, m.allows(P_CHARGE), m.allows(P_DISCHARGE),
                           t, self.soc_x100, self.charge.cvl_dv)
        if self.parts.allow is not None:
            self.parts.allow.update(self.limits)

    def task_balancing(self, t):
        """bms.balancer decides (settle windows, dead band); the pack bleeds."""
        m = self.machine
        b = self.balancer
        pack = self.pack
        top = self.charge.phase == ABSORPTION or self.charge.phase == FLOAT
        ma = self.current_da * 100 if self.current_da is not None else None
        send = b.update(t, pack, self.summary, m.allows(P_BALANCE), top, ma)
        if m.allows(P_BALANCE):
            if not b.wanted and b.bleeding == 0:
                pack.stop_balance()
                self.queue.put(EV_BALANCE_DONE)
            elif send:
                if b.bleeding:
                    pack.set_balance(b.masks)
                else:
                    pack.stop_balance()
        else:
            if send and b.bleeding == 0:
                pack.stop_balance()
            if b.wanted and m.state == RUN:
                self.queue.put(EV_BALANCE_NEEDED)
        self._dispatch(t)

    def task_heater(self, t):
        """bms.heater decides; its pin follows. Charge power is taken as available
        while the machine permits charging (a board cannot see the PV; the heater's
        own run and rest limits bound what it draws)."""
        h = self.heating
        s = self.summary
        m = self.machine
        if s.valid:
            h.update(t, s.t_min, s.t_max, m.allows(P_CHARGE), m.state != FAULT_STATE,
                     blocked_by(self.diag.active))
        else:
            h.update(t, 0, 0, False, False, True)
        self.diag.report(D.HEATER_INEFFECTIVE, h.ineffective, t)
        if h.state != self._heater_state:
            log = self.parts.log
            if log is not None:
                log.change(t, "heater", HEATER_STATES[h.state],
                           HEATER_STATES[self._heater_state])
            self._heater_state = h.state
        pin = self.parts.heater
        if pin is not None:
            pin.value(1 if h.on else 0)

    def task_can(self, t):
        self.parts.can.service(t)
        self.reporter.poll(t, self.machine.allows(P_CAN_TX), self.soc_x100,
                           self.current_da, self.soc.soh_pct())

    def task_clock(self, t):
        wall = self.parts.wall
        if wall is not None:
            wall.poll(t)

    def task_recovery(self, t):
        if self.recovery.update(t, self.machine, self.diag):
            self.operator_reset_auto(t)

    def operator_reset_auto(self, t):
        """The application's own reset of a recoverable fault (logged, counted)."""
        self.queue.put(EV_RESET)
        self._dispatch(t)
        if self.machine.state != FAULT_STATE:
            self.recovery.reset_done()
            if self.parts.store is not None:
                self.parts.store.note_reset(True, t)
                self.parts.store.latch_changed(t, self)

    def task_persistence(self, t):
        store = self.parts.store
        if store is not None:
            store.poll(t, self)
        if self.soc_saver is not None:
            self.soc_saver.poll(t)

    def task_watchdog(self, t):
        # Fed only when the previous whole pass stayed within every budget: a loop
        # that hangs, or keeps overrunning, lets the watchdog reset the board.
        wd = self.parts.watchdog
        if wd is not None and self.last_pass_ok:
            wd.feed()
            self.watchdog_feeds += 1

