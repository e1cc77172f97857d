# Closed loop for charge control (issue 16): the plant driven by the firmware's
# bms.charge, bms.limits (bms.derate), bms.heater and bms.balancer. Host only.
#
# The application runs these pieces in the plant's Harness (simulator/harness.py);
# this file is the fast loop beside it, for days and weeks:
# - FastLoop: the plant's cells, thermal model, power path and Victron/DVCC model
#   stepped at the BMS's 1-5 s decision rate with no module bus and no state machine:
#   the BMS reads the cells exactly (1 mV) and the GX gets 0x351 (CVL, CCL, DCL,
#   DVL) once a simulated second, packed by protocols.victron. A simulated week
#   runs in about a minute, for the closed-loop tests and `pybms bench charge`.
#   Its `policy` chooses the new pieces or the pre-issue-16 policy (LegacyLimits,
#   the TeslaBMS/SimpBMS threshold balancing rule) for comparison in the same run.
#
# Stand-ins: the pack current is the true current; "charge power
# is available" for the heater is the solar power being above zero (a board would
# read a charger-present input); SoC is the plant's true mean SoC when asked for.

import tools.victron_codec as V
from bms import units
from bms.balancer import Balancer
from bms.charge import ABSORPTION, FLOAT, ChargeControl
from bms.heater import Heater
from bms.limits import Limits
from bms.pack import Pack, PackSummary
from drivers.clock import ticks_diff
from simulator.clock import SimClock
from simulator.plant import Plant

CELLS_PER_MODULE = 6
TEMPS_PER_MODULE = 2


class ChargedLimits(Limits):
    """bms.limits.Limits whose CVL comes from a ChargeControl, for a caller that
    passes only the permissions; the fast loop sets t_ms and soc_x100 each poll."""

    def __init__(self, cfg, series, charge):
        Limits.__init__(self, cfg, series)
        self.charge = charge
        self.t_ms = None
        self.soc_x100 = None

    def update(self, summary, charge_permitted, discharge_permitted, t_ms=None,
               soc_x100=None, cvl_dv=None):
        return Limits.update(self, summary, charge_permitted, discharge_permitted,
                             self.t_ms, self.soc_x100, self.charge.cvl_dv)


class ChargePieces:
    """The four objects the application holds (app/application.py), in its per-poll
    call order: charge control, then heater, then balancer; limits every pass."""

    def __init__(self, cfg, series, cells):
        self.cfg = cfg
        self.charge = ChargeControl(cfg, series)
        self.limits = ChargedLimits(cfg, series, self.charge)
        self.heater = Heater(cfg)
        self.balancer = Balancer(cfg, cells, CELLS_PER_MODULE, TEMPS_PER_MODULE)
        self.phase_log = []      # (t_s, phase) at every phase change

    def poll(self, t_ms, t_s, pack, summary, current_ma, soc_x100, balance_permitted,
             heater_allowed, heater_blocked, charge_power):
        ctl = self.charge
        changes = ctl.phase_changes
        ctl.update(t_ms, summary, current_ma, soc_x100)
        if ctl.phase_changes != changes:
            self.phase_log.append((t_s, ctl.phase))
        self.limits.t_ms = t_ms
        self.limits.soc_x100 = soc_x100
        if summary.valid:
            self.heater.update(t_ms, summary.t_min, summary.t_max, charge_power,
                               heater_allowed, heater_blocked)
        else:
            self.heater.update(t_ms, 0, 0, False, False, True)
        top = ctl.phase == ABSORPTION or ctl.phase == FLOAT
        return self.balancer.update(t_ms, pack, summary, balance_permitted, top, current_ma)


# --- the fast loop ----------------------------------------------------------------

class PlantPack(Pack):
    """The plant's cells as the boards would report them (1 mV, 0.1 degC), read at
    refresh(); set_balance() switches the plant's bleed resistors directly."""

    def __init__(self, pack_model):
        self.model = pack_model
        n = pack_model.module_count
        self.cells = [0] * (n * CELLS_PER_MODULE)
        self.temps = [0] * (n * TEMPS_PER_MODULE)
        self.t_read = None
        self.balancing = [0] * n

    def refresh(self, t_ms):
        k = 0
        j = 0
        for m in self.model.modules:
            for g in m.groups:
                self.cells[k] = int(round(g.v_term * 1000))
                k += 1
            t = int(round(m.temp_c * 10))
            self.temps[j] = t
            self.temps[j + 1] = t
            j += 2
        self.t_read = t_ms

    def cell_count(self):
        return len(self.cells)

    def temp_count(self):
        return len(self.temps)

    def cell_mv(self, i):
        return self.cells[i]

    def temp_dc(self, i):
        return self.temps[i]

    def age_ms(self, t_ms):
        return 0x3FFFFFFF if self.t_read is None else ticks_diff(t_ms, self.t_read)

    def set_balance(self, masks):
        for k, m in enumerate(self.model.modules):
            m.bleed_mask = masks[k] & 0x3F
            self.balancing[k] = m.bleed_mask

    def stop_balance(self):
        self.set_balance([0] * len(self.model.modules))


class LegacyLimits(Limits):
    """The limits policy before issue 16, for comparison in the same run: CVL fixed at
    series x charge_cell_v while charging, CCL = 0 once the highest cell reaches
    charge_cell_v and back after limit_hysteresis_v; the same cold/heat/taper table
    otherwise (taper from charge_taper_cell_v down to charge_cell_v)."""

    def __init__(self, cfg, series):
        Limits.__init__(self, cfg, series)
        self._full = False
        self.hyst_mv = units.mv(cfg["limit_hysteresis_v"])

    def update(self, summary, charge_permitted, discharge_permitted, t_ms=None,
               soc_x100=None, cvl_dv=None):
        if summary.valid:
            v = summary.v_max
            if v >= self.charge_mv:
                self._full = True
            elif v < self.charge_mv - self.hyst_mv:
                self._full = False
        r = Limits.update(self, summary, charge_permitted and not self._full,
                          discharge_permitted, t_ms, None, None)
        return r


def legacy_balance_masks(pack, summary, balance_mv=3900, delta_mv=40):
    """TeslaBMS/SimpBMS: bleed every cell above balance_v that is more than
    balance_delta_v above the lowest, measured while bleeding, no window."""
    masks = [0] * (pack.cell_count() // CELLS_PER_MODULE)
    if not summary.valid:
        return masks
    lo = summary.v_min
    for i in range(pack.cell_count()):
        v = pack.cell_mv(i)
        if v > balance_mv and v - lo > delta_mv:
            masks[i // CELLS_PER_MODULE] |= 1 << (i % CELLS_PER_MODULE)
    return masks


class Stats:
    """What the closed-loop checks and the bench read."""

    def __init__(self):
        self.max_cell_mv = 0
        self.ccl_toggles = 0
        self.float_s = 0.0
        self.days = {}          # day -> dict(full, float_s, toggles, max_mv)
        self.first_charge_s = None
        self.heater_s = 0.0
        self.bled_ah = 0.0


class FastLoop:
    """policy "new": ChargePieces; "legacy": LegacyLimits and the threshold rule.
    dt_s: the BMS decision period (and the plant step)."""

    def __init__(self, scenario, config=None, policy="new", dt_s=1.0, use_current=True,
                 use_soc=False, balance=True):
        self.scenario = scenario
        self.clock = SimClock()
        cfg = scenario.firmware_config(config)
        self.cfg = cfg
        self.plant = Plant(scenario, self.clock, chain=None)
        self.pack = PlantPack(self.plant.pack)
        strings = cfg["parallel_strings"]
        cells = self.pack.cell_count()
        self.series = cells // strings
        self.summary = PackSummary(strings)
        self.policy = policy
        self.dt_s = dt_s
        self.use_current = use_current
        self.use_soc = use_soc
        self.balance = balance
        if policy == "new":
            self.pieces = ChargePieces(cfg, self.series, cells)
            self.limits = self.pieces.limits
        else:
            self.pieces = None
            self.limits = LegacyLimits(cfg, self.series)
        self.stats = Stats()
        self.charge_mv = units.mv(cfg["charge_cell_v"])
        self.plant.set_coils(1, 0, 1)   # connected (the state machine is not in this loop)
        self._last_ccl = None    # the first decision is not a toggle
        self._next_frame = 0.0

    def day(self):
        return int(self.clock.t_s // 86400)

    def step(self):
        plant = self.plant
        clock = self.clock
        t_s = clock.t_s
        t = clock.ticks()
        pack = self.pack
        pack.refresh(t)
        s = self.summary
        s.update(pack, t, self.cfg["stale_ms"])
        cur_ma = units.ma(plant.path.pack_current) if self.use_current else None
        soc = int(plant.pack.soc_stats()[2] * 10000) if self.use_soc else None
        st = self.stats
        if self.pieces is not None:
            p = self.pieces
            send = p.poll(t, t_s, pack, s, cur_ma, soc, self.balance, True, False,
                          plant.victron.solar_w > 0.0)
            if send:
                pack.set_balance(p.balancer.masks)
            plant.set_heater(p.heater.on)
            in_float = p.charge.phase == FLOAT
        else:
            if self.balance:
                masks = legacy_balance_masks(pack, s)
                pack.set_balance(masks)
            in_float = False
        lim = self.limits
        lim.update(s, True, True, t)
        if t_s >= self._next_frame:   # 0x351 once a simulated second, as the reporter
            self._next_frame = t_s + 1.0
            plant.can_receive(0x351, V.pack(0x351, {
                "cvl": lim.cvl_dv / 10.0, "ccl": lim.ccl_da / 10.0,
                "dcl": lim.dcl_da / 10.0, "dvl": lim.dvl_dv / 10.0}))
        # statistics
        d = st.days.setdefault(self.day(), {"full": False, "float_s": 0.0, "toggles": 0,
                                            "max_mv": 0, "charged": False, "at_cv_s": 0.0})
        if s.v_max > st.max_cell_mv:
            st.max_cell_mv = s.v_max
        if s.v_max > d["max_mv"]:
            d["max_mv"] = s.v_max
        if s.v_max >= self.charge_mv - 15:
            d["at_cv_s"] += self.dt_s
            if d["at_cv_s"] >= self.cfg["absorption_max_s"]:
                d["full"] = True   # at the charge voltage as long as absorption may last
        if self._last_ccl is not None and (lim.ccl_da > 0) != (self._last_ccl > 0):
            st.ccl_toggles += 1
            d["toggles"] += 1
        self._last_ccl = lim.ccl_da
        if in_float:
            st.float_s += self.dt_s
            d["float_s"] += self.dt_s
        if plant.heater:
            st.heater_s += self.dt_s
        plant.step(self.dt_s)
        if plant.path.pack_current > 0.5:
            d["charged"] = True
            if st.first_charge_s is None:
                st.first_charge_s = t_s

    def run(self, duration_s, stop=None):
        end = self.clock.t_s + duration_s
        while self.clock.t_s < end - 1e-9:
            self.step()
            if stop is not None and stop(self):
                break
        self.stats.bled_ah = sum(m.bleed_ah for m in self.plant.pack.modules)
        return self.stats
