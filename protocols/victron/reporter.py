# The Victron transmit scheduler: once per can_period_ms it fills the preallocated
# frame set from the limits policy, the pack summary and the fault arrays and sends
# it, only while the caller says CAN TX is allowed (the main loop passes
# machine.allows(P_CAN_TX); Fault keeps transmitting: limits are zero there because
# Fault permits neither charge nor discharge, and the alarms say why). It knows no
# state machine: a wire format sits below the machine (docs/architecture.md).
# Non-blocking: when the controller is busy the rest of the set goes out on the
# next poll; a new cycle that finds frames of the old one unsent aborts them, so old
# limits never go out late. Received frames (the GX's 0x305/0x307 or anything else)
# are drained, counted and ignored. The CAN bus's own housekeeping (`service()`,
# bus-off recovery) is the main loop's, once per pass, not this scheduler's.
# A poll allocates nothing on MicroPython (tests/fw/test_victron_reporter.py).

import protocols.victron as V
from bms import diagnosis as D
from bms.ticks import ticks_add, ticks_diff
from protocols.victron import alarms

_T_NONE_HI = 0x3FFFFFFF  # PackSummary's "no valid sensor" extremes

# The fields this scheduler writes, as indices into protocols.victron.FIELDS (found
# once, at import: module globals, not ~20 attributes, keep the reporter's own
# attribute table, allocated as the App is built, under 400 bytes).
_F_CVL = V.field("cvl")
_F_CCL = V.field("ccl")
_F_DCL = V.field("dcl")
_F_DVL = V.field("dvl")
_F_SOC = V.field("soc")
_F_SOH = V.field("soh")
_F_SOC_HI = V.field("soc_hires")
_F_VOLT = V.field("voltage")
_F_CURR = V.field("current")
_F_TEMP = V.field("temperature")
_F_MOK = V.field("modules_ok")
_F_MCH = V.field("modules_blocking_charge")
_F_MDIS = V.field("modules_blocking_discharge")
_F_MOFF = V.field("modules_offline")
_F_VMIN = V.field("cell_v_min")
_F_VMAX = V.field("cell_v_max")
_F_TMIN = V.field("cell_t_min")
_F_TMAX = V.field("cell_t_max")
_F_CAP_AVAIL = V.field("capacity_available")


def _write_name(buf, letter, idx, per):
    """ "M01C03" (module 1, cell 3) when per > 0, else "C0012"; zero padded."""
    pos = 0
    if per > 0:
        m = idx // per + 1
        buf[0] = 0x4D  # M
        buf[1] = 0x30 + (m // 10) % 10
        buf[2] = 0x30 + m % 10
        pos = 3
        n = idx % per + 1
        width = 2
    else:
        n = idx + 1
        width = 4
    buf[pos] = letter
    pos += 1
    for k in range(width - 1, -1, -1):
        buf[pos + k] = 0x30 + n % 10
        n //= 10
    for k in range(pos + width, 8):
        buf[k] = 0


class Reporter:
    def __init__(self, bus, cfg, summary, limits, active, held,
                 cells_per_module=0, temps_per_module=0, rx_per_poll=8):
        """bus: a drivers.can.CanBus (send, recv, abort_pending); summary: a
        bms.pack.PackSummary; limits: a bms.limits.Limits; active: the Diagnosis's
        active rows (Diagnosis.active); held: the faults the state machine holds
        (Machine.faults), both bytearrays by diagnosis row, read on every cycle."""
        self.bus = bus
        self.summary = summary
        self.limits = limits
        self.active = active
        self.held = held
        self.period = cfg["can_period_ms"]
        self.cells_per_module = cells_per_module
        self.temps_per_module = temps_per_module
        self.rx_per_poll = rx_per_poll
        self.module_count = cfg["module_count"]
        # The FAULT rows of the diagnosis table, once (0x372 modules_ok reads them
        # every cycle; walking every row's severity cost ~10 k Cortex-M0 instructions).
        self._fault_rows = bytes(i for i in range(D.COUNT) if D.ROWS[i][D.SEVERITY] == D.FAULT)
        self.frames = fs = V.FrameSet()
        self.ids = fs.ids
        self.bufs = fs.bufs
        self.n = len(fs.ids)
        f = V.field
        self.b_alarms = fs.buf(0x35A)
        self.b_names = (fs.buf(0x374), fs.buf(0x375), fs.buf(0x376), fs.buf(0x377))
        # The cell or sensor each name frame holds (-2: none yet): a name is rewritten
        # only when it changes (each write ~7 k Cortex-M0 instructions). Attributes,
        # not a list: the instance's table has room, a list would be two more heap
        # blocks at boot, when the heap is fullest.
        self._named_v_min = self._named_v_max = -2
        self._named_t_min = self._named_t_max = -2
        # Frames whose content never changes: filled once.
        installed = cfg["module_capacity_ah"] * cfg["parallel_strings"]
        self.installed_ah = installed
        self.soh = cfg["soh_pct"]
        fs.put_text(f("manufacturer"), V.MANUFACTURER)
        fs.put(f("model"), V.MODEL)
        fs.put(f("firmware_major"), V.FIRMWARE[0])
        fs.put(f("firmware_minor"), V.FIRMWARE[1])
        fs.put(_F_CAP_AVAIL, installed * cfg["soh_pct"] // 100)
        fs.put(f("capacity_installed"), installed)
        fs.put(_F_SOH, cfg["soh_pct"])
        # Until the first valid measurement: SoC 0 and zero measurements.
        self.soc_x100 = 0
        alarms.encode(self.b_alarms, active, limits.reasons, held)
        self._due = None          # None: start a cycle at the next allowed poll
        self._cursor = self.n     # next frame of the current cycle to send
        self.cycles = 0           # cycles started
        self.completed = 0        # cycles whose every frame was accepted
        self.overruns = 0         # cycles started before the previous one finished
        self.last_start = 0
        self.rx_gx = 0            # 0x305/0x306/0x307 seen
        self.rx_other = 0

    def poll(self, t_ms, can_tx, soc_x100=None, current_da=None, soh_pct=None):
        """Call every main-loop pass. can_tx: whether the state machine allows
        transmitting now (machine.allows(P_CAN_TX)); soc_x100: state of charge in
        0.01 % or None (unknown: a coarse voltage estimate is sent); current_da: pack
        current in 0.1 A, positive = charging, or None (unknown: 0 is sent); soh_pct:
        a learned state of health (bms.soc) or None (the configured soh_pct is sent). Returns
        the number of frames handed to the controller."""
        self._drain(self.rx_per_poll)
        bus = self.bus
        if not can_tx:
            self._due = None
            self._cursor = self.n
            return 0
        if self._due is None or ticks_diff(t_ms, self._due) >= 0:
            if self._cursor < self.n:
                self.overruns += 1
                bus.abort_pending()
            self.build(soc_x100, current_da, soh_pct)
            self._cursor = 0
            self.cycles += 1
            self.last_start = t_ms
            if self._due is None or ticks_diff(t_ms, self._due) >= self.period:
                self._due = ticks_add(t_ms, self.period)  # (re)start the phase
            else:
                self._due = ticks_add(self._due, self.period)  # keep the phase
        sent = 0
        n = self.n
        while self._cursor < n:
            i = self._cursor
            if not bus.send(self.ids[i], self.bufs[i]):
                break
            self._cursor = i + 1
            sent += 1
            if self._cursor == n:
                self.completed += 1
        return sent

    def _drain(self, limit):
        bus = self.bus
        for _ in range(limit):
            if not bus.recv():
                return
            if 0x305 <= bus.rx_id <= 0x307:
                self.rx_gx += 1
            else:
                self.rx_other += 1

    def build(self, soc_x100=None, current_da=None, soh_pct=None):
        """Fill every periodic frame from the current limits, summary, diagnosis."""
        fs = self.frames
        lim = self.limits
        s = self.summary
        if soh_pct is not None and soh_pct != self.soh and 1 <= soh_pct <= 100:
            self.soh = soh_pct
            fs.put(_F_SOH, soh_pct)
            fs.put(_F_CAP_AVAIL, self.installed_ah * soh_pct // 100)
        fs.put(_F_CVL, lim.cvl_dv)
        fs.put(_F_CCL, lim.ccl_da)
        fs.put(_F_DCL, lim.dcl_da)
        fs.put(_F_DVL, lim.dvl_dv)
        alarms.encode(self.b_alarms, self.active, lim.reasons, self.held)
        if soc_x100 is None:
            soc_x100 = lim.soc_estimate_x100(s)
        if soc_x100 is not None and 0 <= soc_x100 <= 10000:
            self.soc_x100 = soc_x100
        fs.put(_F_SOC, (self.soc_x100 + 50) // 100)
        fs.put(_F_SOC_HI, self.soc_x100)
        fs.put(_F_CURR, current_da if current_da is not None else 0)
        valid = s.valid
        if valid:
            # Stale data keeps the last valid measurements (with the alarm set).
            fs.put(_F_VOLT, (s.v_pack + 5) // 10)
            fs.put(_F_VMIN, s.v_min)
            fs.put(_F_VMAX, s.v_max)
            if self._named_v_min != s.i_min:
                self._named_v_min = s.i_min
                _write_name(self.b_names[0], 0x43, s.i_min, self.cells_per_module)
            if self._named_v_max != s.i_max:
                self._named_v_max = s.i_max
                _write_name(self.b_names[1], 0x43, s.i_max, self.cells_per_module)
            if s.t_max < _T_NONE_HI and s.t_min > -_T_NONE_HI:
                fs.put(_F_TEMP, s.t_max)
                # 0.1 degC -> K, rounded: (t + 2731.5) / 10
                fs.put(_F_TMIN, (2 * s.t_min + 5473) // 20)
                fs.put(_F_TMAX, (2 * s.t_max + 5473) // 20)
                if self._named_t_min != s.j_min:
                    self._named_t_min = s.j_min
                    _write_name(self.b_names[2], 0x54, s.j_min, self.temps_per_module)
                if self._named_t_max != s.j_max:
                    self._named_t_max = s.j_max
                    _write_name(self.b_names[3], 0x54, s.j_max, self.temps_per_module)
        m = self.module_count
        fault = False
        for i in self._fault_rows:
            if self.active[i]:
                fault = True
                break
        fs.put(_F_MOK, m if valid and not fault else 0)
        fs.put(_F_MCH, 0 if lim.ccl_da > 0 else m)
        fs.put(_F_MDIS, 0 if lim.dcl_da > 0 else m)
        fs.put(_F_MOFF, 0 if valid else m)

    def silent_ms(self, t_ms):
        """How long since the last cycle started."""
        return ticks_diff(t_ms, self.last_start)
