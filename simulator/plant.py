# The plant: everything outside the BMS board, composed and stepped on one clock.
#   coils in (set_coils / heater)  -> contactors, DC bus -> pack current
#   Victron gear (from the BMS's CAN frames) -> current into the bus
#   pack model -> cell voltages and temperatures -> the emulated module boards
#   boards' balance masks -> the pack's bleed resistors
#   pack current -> current sensor (analog side; chip models when attached)
# Scenario events change the plant at their times; operator events go to whoever
# runs the firmware (the harness or the pin link) through on_operator.
# Host only.

from simulator.cells import soc_at_ocv
from simulator.contactors import NAMES as CONTACTOR_NAMES
from simulator.contactors import PowerPath
from simulator.current_sensor import HallSensor, SensorError, ShuntSensor
from simulator.pack_model import PackModel
from simulator.profiles import Profile
from simulator.victron import VictronSystem

OPERATOR_EVENTS = ("operator_reset", "operator_connect", "operator_disconnect")
PACK_DT_S = 0.25    # the cells change slowly: step them at most this finely


class Plant:
    def __init__(self, scenario, clock, chain=None, truth=None, adc=None, on_operator=None):
        s = scenario
        self.scenario = s
        self.clock = clock
        p = s.pack
        self.pack = PackModel(s.topology["series"], s.topology["parallel"], p["soc"],
                              p["soc_spread"], p["capacity_spread"], p["self_discharge_spread"],
                              p["temp_c"], p["ambient_c"], p["seed"])
        # The SoC a perfect BMS would report, on the usable scale between the cut-offs
        # the firmware is configured with (docs/soc.md; truth column soc_usable).
        fw = s.firmware_config()
        self.usable_window = (soc_at_ocv(fw["discharge_cell_v"]), soc_at_ocv(fw["charge_cell_v"]))
        pp = s.power_path
        # The inverter's standby draw is a power: as a resistance at the pack's voltage.
        v0 = self.pack.thevenin()[0]
        standby_ohm = v0 * v0 / pp["standby_w"] if pp["standby_w"] > 0 else None
        self.path = PowerPath(pp["precharge_ohm"], pp["bus_capacitance_f"], standby_ohm)
        prof = s.profile
        self.profile = Profile(prof["start_hour"], prof["solar_peak_w"], clouds=prof["clouds"],
                               load_base_w=prof["load_base_w"], load_peak_w=prof["load_peak_w"],
                               seed=prof["seed"], solar_w=prof["solar_w"], load_w=prof["load_w"])
        self.victron = VictronSystem(self.profile, s.victron)
        se = s.sensor
        err = SensorError(se["offset_a"], se["gain_error"], se["noise_a"], se["bandwidth_hz"],
                          seed=p["seed"])
        self.sensor = HallSensor(adc=adc, error=err) if se["kind"] == "hall" \
            else ShuntSensor(adc=adc, error=err)
        self.chain = chain
        self.truth = truth
        self.on_operator = on_operator
        self.heater = False
        self.dc_load_a = 0.0
        self.can_plugged = True
        self.frames_lost = 0             # CAN frames sent while unplugged
        self.gx_outbox = []              # frames the GX sent, for the BMS to take
        self._events = list(s.events)
        self._event_text = []
        self._pack_dt = 0.0
        self._pack_q = 0.0
        self._next_truth = 0.0
        self.truth_every_s = s.run["truth_every_s"]
        self.belief = None               # callable -> dict of bms_* columns (harness)
        self.sync_boards()
        self._due_events()               # events at t = 0 shape the initial state

    # --- inputs from the BMS board ------------------------------------------------
    def set_coils(self, negative, precharge, positive):
        self.path.set_coils(negative, precharge, positive)

    def set_heater(self, on):
        self.heater = bool(on)

    def bus_voltage(self):
        """The inverter's DC-bus voltage (V) where the BMS's bus-voltage sense is
        wired: what the precharge decision reads (pin link `bus_v`, in process
        the same value)."""
        return self.path.v_bus

    def feedback(self):
        """Auxiliary contacts (negative, precharge, positive): 1 = really closed."""
        return tuple(c.feedback() for c in self.path.contactors)

    def can_receive(self, can_id, data):
        """A frame the BMS put on the CAN bus."""
        if not self.can_plugged:
            self.frames_lost += 1
            return False
        self.victron.receive(can_id, data, self.clock.t_s)
        return True

    # --- events ---------------------------------------------------------------------
    def _apply(self, ev):
        kind = ev["kind"]
        m = ev.get("module")
        boards = self.chain.boards if self.chain is not None else None
        c = self.path.contactors
        if kind == "weld":
            c[CONTACTOR_NAMES.index(ev["contactor"])].welded = True
        elif kind == "coil_dead":
            c[CONTACTOR_NAMES.index(ev["contactor"])].coil_dead = True
        elif kind == "bus_short":
            self.path.short_ohm = ev["ohm"]
        elif kind == "bus_short_clear":
            self.path.short_ohm = None
        elif kind == "dc_load":
            self.dc_load_a = ev["amps"]
        elif kind == "external_current":
            self.pack.modules[m].external_a = ev["amps"]
        elif kind == "heat":
            self.pack.modules[m].external_heat_w = ev["watts"]
        elif kind == "ambient":
            self.pack.ambient_c = ev["celsius"]
        elif kind == "cell_soc":
            self.pack.modules[m].groups[ev["group"]].set_soc(ev["soc"])
            self.pack.touched()
            self.sync_boards()
        elif kind in ("thermistor_open", "thermistor_short", "ring_break", "ring_restore",
                      "board_reset", "board_silent"):
            if boards is None:
                return
            b = boards[m]
            if kind == "thermistor_open":
                b.open_therm |= 1 << ev["sensor"]
            elif kind == "thermistor_short":
                b.short_therm |= 1 << ev["sensor"]
            elif kind == "ring_break":
                b.break_ring = True
            elif kind == "ring_restore":
                b.break_ring = False
            elif kind == "board_reset":
                b.reset(self.clock.chain_ticks())
            else:
                b.silent = True
        elif kind == "sensor_fault":
            self.sensor.fault = ev["fault"]
        elif kind == "sensor_ok":
            self.sensor.fault = None
        elif kind == "can_unplug":
            self.can_plugged = False
        elif kind == "can_plug":
            self.can_plugged = True
        elif kind == "mppt_reset":
            self.victron.reset_mppt()
        elif kind == "load":
            self.profile.constant_load_w = ev["watts"]
        elif kind == "solar":
            self.profile.constant_solar_w = ev["watts"]
        elif kind in OPERATOR_EVENTS:
            if self.on_operator is not None:
                self.on_operator(kind)
        else:  # the scenario loader rejects unknown kinds; this is a programming error
            raise ValueError("event kind %r has no plant action" % kind)
        self._event_text.append(kind if m is None else "%s:%d" % (kind, m))

    def _due_events(self):
        t = self.clock.t_s
        while self._events and self._events[0]["at_s"] <= t + 1e-9:
            self._apply(self._events.pop(0))

    # --- time -----------------------------------------------------------------------
    def step(self, dt):
        """Advance the plant (and the clock) by dt seconds."""
        clock = self.clock
        pack = self.pack
        e, r = pack.thevenin()
        connected = self.path.mains_closed()
        source = self.victron.step(clock.t_s, dt, e, r, connected) - self.dc_load_a
        i = self.path.step(dt, e, r, source)
        if self.chain is not None:
            for k, b in enumerate(self.chain.boards):
                pack.modules[k].bleed_mask = b.bleeding()
        pack.heater_on = self.heater
        # Cells: integrate the charge of short steps and move them in one.
        self._pack_dt += dt
        self._pack_q += i * dt
        if self._pack_dt >= PACK_DT_S - 1e-9:
            pack.step(self._pack_dt, self._pack_q / self._pack_dt)
            self._pack_dt = 0.0
            self._pack_q = 0.0
            self.sync_boards()
        if isinstance(self.sensor, ShuntSensor):
            self.sensor.update(i, dt, self.path.v_bus)
        else:
            self.sensor.update(i, dt)
        clock.advance(dt)
        if self.can_plugged:
            self.gx_outbox.extend(self.victron.frames_due(clock.t_s))
            if len(self.gx_outbox) > 64:   # nobody takes them: a bus keeps no backlog
                del self.gx_outbox[:-64]
        self._due_events()
        if self.truth is not None and clock.t_s + 1e-9 >= self._next_truth:
            self._next_truth = clock.t_s + self.truth_every_s
            self.truth.write(self.truth_row())

    def sync_boards(self):
        if self.chain is None:
            return
        for k, b in enumerate(self.chain.boards):
            b.cells_mv = self.pack.cells_mv(k)
            b.temps_dc = self.pack.temps_dc(k)

    # --- truth ----------------------------------------------------------------------
    def truth_row(self):
        pack = self.pack
        path = self.path
        v = self.victron
        gx = v.gx
        lo, hi = pack.cell_extremes()
        s_lo, s_hi, s_mean = pack.soc_stats()
        t_lo, t_hi = pack.temp_extremes()
        c = path.contactors
        row = {
            "t_s": self.clock.t_s, "i_pack_a": path.pack_current,
            "i_sensor_a": self.sensor.reading_a(), "v_pack_v": pack.terminal_v(),
            "v_bus_v": path.v_bus,
            "coil_neg": c[0].coil, "coil_pre": c[1].coil, "coil_pos": c[2].coil,
            "neg": c[0].closed, "pre": c[1].closed, "pos": c[2].closed,
            "cell_v_min": lo, "cell_v_max": hi, "soc_min": s_lo, "soc_max": s_hi,
            "soc_mean": s_mean, "soc_usable": pack.usable_soc(*self.usable_window)[0],
            "t_min_c": t_lo, "t_max_c": t_hi,
            "bleeding": sum(bin(m.bleed_mask).count("1") for m in pack.modules),
            "heater": self.heater,
            "gx_cvl_v": gx.cvl, "gx_ccl_a": gx.ccl, "gx_dcl_a": gx.dcl,
            "gx_bms_lost": gx.bms_lost, "mppt_error_67": v.mppt_error_67,
            "inverter_on": v.inverter_on, "solar_w": v.solar_w, "load_w": v.load_w,
            "load_served_w": v.load_served_w, "bms_soc": gx.soc,
            "gx_soc": None if v.gx_soc is None else round(v.gx_soc, 3),
            "opened_under_load": path.opened_under_load(), "precharge_j": path.precharge_j,
            "close_dv_v": path.max_close_dv,
            "events": ";".join(self._event_text),
        }
        self._event_text = []
        if self.belief is not None:
            row.update(self.belief())
        return row

    def status_line(self):
        gx = self.victron.gx
        lo, hi = self.pack.cell_extremes()
        pos = "".join("NPM"[k] if c.closed else "-" for k, c in enumerate(self.path.contactors))
        return ("t=%8.1fs pack %6.2fV %+7.1fA bus %6.2fV [%s] cells %.3f..%.3fV T %.1fC "
                "GX %s" % (self.clock.t_s, self.pack.terminal_v(), self.path.pack_current,
                           self.path.v_bus, pos, lo, hi, self.pack.temp_extremes()[1],
                           "LOST" if gx.bms_lost else ("CCL %.0f DCL %.0f" % (gx.ccl, gx.dcl)
                                                       if gx.ccl is not None else "no BMS")))
