# The Victron side: a GX reading the BMS frames and applying them with DVCC to a
# Multi/Quattro (inverter + charger) and MPPT solar chargers on the DC bus.
#   - charge current <= CCL; a charger regulating to CVL never pushes the battery
#     terminals past it; discharge <= DCL; the inverter is off at DCL = 0 and below DVL;
#   - no 0x351 for longer than bms_timeout_s: "BMS lost": chargers and inverter stop,
#     the MPPTs latch error #67 until reset_mppt() (a manual reset on real systems);
#   - options: DC-coupled MPPTs keep covering the loads at CCL = 0 (the GX default),
#     MPPTs that ignore CCL but obey CVL (ESS "feed-in excess DC-coupled PV"), a
#     disobedient charger ignoring CCL and CVL, a GX-side SoC counted from the
#     current for display beside the BMS's own.
# Frames are decoded with protocols.victron's frame table. Host only.

import protocols.victron as V

OPTIONS = {
    "bms_timeout_s": 3.0,            # 0x351 silence the GX tolerates (see docs)
    "inverter_max_w": 5000.0,
    "mppt_max_a": 100.0,             # what the MPPTs can push into the battery
    "mppt_feeds_loads_at_ccl0": True,
    "mppt_ignores_ccl": False,       # still regulates to CVL
    "disobedient_charger_a": 0.0,    # > 0: a charger that ignores CCL and CVL
    "inverter_runs_without_bms": False,
    "second_soc": True,
}


class Gx:
    """What the GX knows from the CAN-bus BMS frames."""

    def __init__(self, timeout_s):
        self.timeout_s = timeout_s
        self.cvl = self.ccl = self.dcl = self.dvl = None
        self.soc = None
        self.capacity_ah = None
        self.alarms = {}
        self.last_351_s = None
        self.frames = 0
        self.bad_frames = 0
        self.bms_lost = False          # now: no 0x351 for too long
        self.lost_events = 0

    def receive(self, can_id, data, t_s):
        try:
            if can_id == 0x351:
                f = V.unpack(0x351, data)
                self.cvl, self.ccl, self.dcl, self.dvl = f["cvl"], f["ccl"], f["dcl"], f["dvl"]
                self.last_351_s = t_s
            elif can_id == 0x355:
                self.soc = V.unpack(0x355, data)["soc_hires"]
            elif can_id == 0x379:
                self.capacity_ah = V.unpack(0x379, data)["capacity_installed"]
            elif can_id == 0x35A:
                self.alarms = V.unpack(0x35A, data)
            self.frames += 1
        except V.RangeError:
            self.bad_frames += 1

    def update(self, t_s):
        lost = self.last_351_s is not None and t_s - self.last_351_s > self.timeout_s
        if lost and not self.bms_lost:
            self.lost_events += 1
        self.bms_lost = lost
        return lost

    def controlling(self):
        """The GX has limits to apply: a BMS was seen and is not lost."""
        return self.last_351_s is not None and not self.bms_lost

    def active_alarms(self):
        return sorted(k for k, v in self.alarms.items() if k.startswith("alarm_") and v == 1)


GX_FRAME_EVERY_S = 1.0
# What a GX puts on the BMS-Can bus: 0x307 with "VIC" in bytes 4-6 (and, since
# Venus 3.00, 0x305 with its own readings: not zeros; only 0x307 is modelled).
GX_307 = bytes((0x00, 0x00, 0x00, 0x00, 0x56, 0x49, 0x43, 0x00))


class VictronSystem:
    def __init__(self, profile, options=None):
        opts = dict(OPTIONS)
        for k, v in (options or {}).items():
            if k not in OPTIONS:
                raise ValueError("unknown Victron option %r" % k)
            opts[k] = v
        self.opt = opts
        self.profile = profile
        self.gx = Gx(opts["bms_timeout_s"])
        self.mppt_error_67 = False
        self.inverter_on = False
        self.solar_w = 0.0
        self.load_w = 0.0
        self.load_served_w = 0.0
        self.unserved_wh = 0.0
        self.current_a = 0.0           # into the battery, + = charging
        self.gx_soc = None             # the GX's own SoC reading (second_soc)
        self._next_tx_s = 0.0

    def receive(self, can_id, data, t_s):
        self.gx.receive(can_id, data, t_s)

    def frames_due(self, t_s):
        """Frames the GX sends now: [(can_id, data)], 0x307 once a second."""
        if t_s < self._next_tx_s:
            return ()
        self._next_tx_s = t_s + GX_FRAME_EVERY_S
        return ((0x307, GX_307),)

    def reset_mppt(self):
        """The operator's manual reset of MPPT error #67."""
        if not self.gx.bms_lost:
            self.mppt_error_67 = False

    def step(self, t_s, dt, pack_e, pack_r, connected):
        """Current the Victron gear pushes into the battery (A, + = charging) for the
        next dt seconds, given the pack's Thevenin source and whether the bus is
        connected through the mains."""
        gx = self.gx
        o = self.opt
        if gx.update(t_s):
            self.mppt_error_67 = True
        self.solar_w = solar = self.profile.solar_w(t_s)
        self.load_w = load = self.profile.load_w(t_s)
        if not connected or pack_e <= 0:
            self.inverter_on = False
            self.current_a = 0.0
            self.load_served_w = 0.0
            self.unserved_wh += load * dt / 3600.0
            return 0.0
        v = pack_e
        controlling = gx.controlling()
        if controlling:
            ccl = gx.ccl
            cvl = gx.cvl
            dcl = gx.dcl
            inverter = dcl > 0 and v > gx.dvl
        else:
            ccl = cvl = dcl = 0.0
            inverter = o["inverter_runs_without_bms"] and gx.last_351_s is not None
            if inverter:
                dcl = o["inverter_max_w"] / v
        self.inverter_on = inverter
        served = min(load, o["inverter_max_w"]) if inverter else 0.0
        # Charge allowed: CCL (unless the MPPTs ignore it), never past CVL at the
        # terminals: a charger regulating to CVL gives at most (CVL - E) / R.
        if controlling and not self.mppt_error_67:
            i_cv = max(0.0, (cvl - pack_e) / pack_r)
            cap = i_cv if o["mppt_ignores_ccl"] else min(ccl, i_cv)
            cap = min(cap, o["mppt_max_a"])
            if cap <= 0 and not o["mppt_feeds_loads_at_ccl0"] and not o["mppt_ignores_ccl"]:
                pv_used = 0.0
            else:
                pv_used = min(solar, served + cap * v)
        else:
            pv_used = 0.0
        i = (pv_used - served) / v
        if i < 0 and i < -dcl:
            # The inverter cannot take more than DCL: the rest of the load goes unserved.
            served = pv_used + dcl * v
            i = -dcl
        i += o["disobedient_charger_a"]
        self.load_served_w = served
        self.unserved_wh += (load - served) * dt / 3600.0
        self.current_a = i
        self._count_soc(i, dt)
        return i

    def _count_soc(self, i, dt):
        if not self.opt["second_soc"]:
            return
        gx = self.gx
        if self.gx_soc is None:
            if gx.soc is not None:
                self.gx_soc = gx.soc
            return
        if gx.capacity_ah:
            self.gx_soc += 100.0 * i * dt / 3600.0 / gx.capacity_ah
            self.gx_soc = min(100.0, max(0.0, self.gx_soc))
