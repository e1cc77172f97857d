# End-to-end runs of a plant scenario against the real application (app/, through
# simulator/app_loop.py), in process and accelerated, recorded finely enough to
# judge the safe outcome: a per-pass trace of what the firmware believed and what
# the plant really did, and every CAN frame the firmware sent. The invariants
# every scenario must keep (tests/host/test_e2e_scenarios.py), the fault reaction
# figures (`pybms bench e2e`) and the safety report's "tested by" column all read
# this module and its table FAULTS. Host only.

from bms import config as bms_config
from bms import diagnosis as D
from protocols.victron import FLAG_ACTIVE
from protocols.victron import alarms as A
from simulator import harness, scenario as S
from tools import victron_codec as codec

GX_GAP_MS = 1200        # the longest CAN silence the GX tolerates from a running BMS
REACTION_GOAL_MS = 100  # contactors open at most this long after the debounce ended

# What each fault scenario proves: (scenario, diagnosis row it must raise, when the
# fault is visible in the plant, detection: config keys whose product in ms is the
# configured wait before the row can be judged, beyond the row's own set_ms).
# visible: ("above"|"below", truth quantity, config key, resolution) a plant
#          quantity crosses the configured threshold by more than half the
#          measurement's step (the boards report whole mV and 0.1 degC: a cell at
#          4.2004 V reads 4.200 V, which is not above 4.200);
#          ("event", kind) the scenario's injection at its time;
#          ("after_last", contactor, config key) the last time that contactor
#          closed plus the configured time (precharge timeout on the last attempt).
# Welded contactors cannot open: for contactor-weld "open" means every coil off
# and every contact that is not welded open.
FAULTS = (
    ("cell-overvoltage", "cell_ov", ("above", "cell_v_max", "cell_v_max", 0.0005), ("poll_ms",)),
    ("disobedient-charger", "cell_ov", ("above", "cell_v_max", "cell_v_max", 0.0005), ("poll_ms",)),
    ("cell-undervoltage", "cell_uv", ("below", "cell_v_min", "cell_v_min", 0.0005), ("poll_ms",)),
    ("over-temperature", "temp_high", ("above", "t_max_c", "temp_max", 0.05), ("poll_ms",)),
    ("thermistor-open", "temp_sensor", ("event", "thermistor_open"), ("poll_ms",)),
    ("comm-loss", "comm_loss", ("event", "ring_break"), ("comm_fail_limit", "poll_ms")),
    ("board-reset", "comm_loss", ("event", "board_reset"), ("comm_fail_limit", "poll_ms")),
    ("precharge-fail", "precharge_failed", ("after_last", "pre", "precharge_timeout_ms"), ()),
    ("contactor-weld", "contactor_feedback", ("event", "operator_disconnect"), ()),
    ("overcurrent", "over_current_discharge", ("event", "dc_load"), ("current_sample_ms",)),
    ("current-sensor-fail", ("current_sensor", "over_current_discharge"), ("event", "sensor_fault"),
     ("current_sample_ms",)),
)
# A diagnosis cell may name several rows: any of them proves the reaction. A sensor
# that rails at full scale reads as an over-current before it reads as broken;
# either opens the contactors.
F_SCENARIO, F_DIAG, F_VISIBLE, F_DETECT = range(4)

# Scenarios that keep the battery in service (no fault expected): the invariants
# still apply, and the cells must stay inside the configured limits.
SERVICE = ("normal", "cold-charge", "imbalanced-pack", "parallel-strings", "week",
           "mppt-ignores-ccl", "can-unplugged")

CELL_LIMIT_MARGIN_V = 0.005   # the plant's 0.1 mV truth against the boards' 1 mV steps


def fault_row(name):
    for row in FAULTS:
        if row[F_SCENARIO] == name:
            return row
    return None


# The firmware as the demo ships it measures pack current: the scenario's sensor
# kind picks the driver and the settings that match the plant's transducer
# (docs/simulator.md: hall 2.5 V + 10 mV/A through a 0.4 divider, so +-250 A spans
# the 0..5 V it can swing and the trip must sit below the rail; shunt 100 uOhm),
# unless the scenario's firmware section chooses a sensor itself.
SENSOR_CONFIG = {
    "hall": {"current_sensor": "mcp3421_hall", "current_hall_mv_per_a": 10.0,
             "current_hall_divider": 2.5, "current_hall_zero_v": 2.5, "current_max_a": 250.0,
             "current_oc_discharge_a": 200.0},
    "shunt": {"current_sensor": "ina228_shunt", "current_shunt_uohm": 100},
}


def diag_ids(row):
    d = row[F_DIAG]
    return d if isinstance(d, tuple) else (d,)


def scenarios_testing(diag_id):
    return [r[F_SCENARIO] for r in FAULTS if diag_id in diag_ids(r)]


def with_sensor(scn):
    if "current_sensor" not in scn.firmware:
        for k, v in SENSOR_CONFIG[scn.sensor["kind"]].items():
            scn.firmware.setdefault(k, v)
    return scn


def alarm_place(diag_id):
    """(byte, shift, flag) of the 0x35A alarm a FAULT row sets, or None."""
    for source, flag in A.MAP:
        if source == diag_id:
            kind, _ref, half = A.resolve(source)
            byte, shift = A._place(flag, half)
            return byte, shift, flag
    return None


class Run:
    """One scenario's recorded run. trace: one dict per firmware pass; can: every
    frame the firmware sent, (t_ms, id, bytes, delivered); events: (t_ms, kind)."""

    def __init__(self, scn, cfg):
        self.scenario = scn
        self.cfg = cfg
        self.trace = []
        self.can = []
        self.events = [(int(round(e["at_s"] * 1000)), e["kind"]) for e in scn.events]
        self.log_lines = []
        self.truth = []
        self.restarts = []


class _RecordingCan(harness.PlantCan):
    def __init__(self, run, clock):
        harness.PlantCan.__init__(self)
        self._run = run
        self._clock = clock

    def send(self, can_id, data):
        ok = harness.PlantCan.send(self, can_id, data)
        self._run.can.append((self._clock.ticks(), can_id, bytes(data), ok))
        return ok


def _sample(h):
    fw = h.fw
    plant = h.plant
    c = plant.path.contactors
    lo, hi = plant.pack.cell_extremes()
    _t_lo, t_hi = plant.pack.temp_extremes()
    return {
        "t_ms": h.clock.ticks(), "state": fw.machine.state_name,
        "held": [D.ROWS[i][D.ID] for i in range(D.COUNT) if fw.machine.faults[i]],
        "active": list(fw.diag.active_ids()),
        "closed": (c[0].closed, c[1].closed, c[2].closed),
        "coils": (c[0].coil, c[1].coil, c[2].coil),
        "welded": tuple(getattr(k, "welded", False) for k in c),
        "cell_v_min": lo, "cell_v_max": hi, "t_max_c": t_hi,
        "i_pack_a": plant.path.pack_current,
    }


def run(name, duration_s=None, step_s=None, restart_at_s=(), truth_path=None):
    """Run scenario `name` (or a Scenario) in process on the real application.
    restart_at_s: simulated times at which the firmware restarts on the same flash
    (a watchdog reset or power cut: new application objects, persisted state kept)."""
    scn = with_sensor(S.load(name) if isinstance(name, str) else name)
    if step_s is not None:
        scn.run["step_s"] = step_s
    h = harness.Harness(scn, truth_path=truth_path)
    r = Run(scn, h.cfg)
    r.harness = h
    can = _RecordingCan(r, h.clock)
    can.plant = h.plant
    _swap_firmware(h, can, files=None)
    end = scn.test_duration_s if duration_s is None else duration_s
    restarts = sorted(restart_at_s)
    logs = []
    try:
        while h.clock.t_s < end - 1e-9:
            if restarts and h.clock.t_s >= restarts[0]:
                restarts.pop(0)
                logs.append(h.loop.log_lines())
                _swap_firmware(h, can, files=h.loop.files)
                r.restarts.append(h.clock.ticks())
            h.run_pass()
            r.trace.append(_sample(h))
        h.truth.write(h.plant.truth_row())
    finally:
        h.close()
    logs.append(h.loop.log_lines())
    r.logs = logs
    r.log_lines = logs[-1]
    r.truth = h.truth.rows
    return r


class _PlantBusSense:
    """The plant's DC-bus voltage as the unix board's sense delivers it: whole
    millivolts (what the plant link carries), read through the same
    drivers.bus_voltage.BusVoltage the board builds (boards/unix.py)."""

    def __init__(self, plant):
        self.plant = plant

    def read_mv(self):
        return int(round(self.plant.bus_voltage() * 1000.0))


def bus_sense(plant):
    from boards import load
    from drivers.bus_voltage import BusVoltage
    return BusVoltage(_PlantBusSense(plant), load("unix")["bus_voltage"]["max_mv"])


def _swap_firmware(h, can, files):
    """A new application on the harness (first boot, or a restart on `files`)."""
    from simulator.app_loop import AppLoop
    old = h.loop
    if files is not None:
        h.plant.set_coils(0, 0, 0)   # a reset drops every output until the new boot drives it
    i2c = old.fw.i2c
    h.loop = AppLoop(h.cfg, h.link, can, bus_voltage=bus_sense(h.plant).volts, i2c=i2c,
                     clock=h.clock, files=files, ring=4096)
    h.fw = h.loop.fw
    h.plant.belief = h.loop.belief
    h.plant.on_operator = h.loop.operator
    h.loop.start(h.clock.ticks())


# --- what the recorded run says -----------------------------------------------------

def frames(r, can_id):
    return [(t, codec.unpack(can_id, data)) for t, i, data, _ok in r.can if i == can_id]


def state_at(r, t_ms):
    last = None
    for s in r.trace:
        if s["t_ms"] > t_ms:
            break
        last = s
    return last


def _threshold(r, key):
    return r.cfg[key]


def visible_ms(r, row):
    """When the fault became visible in the plant (ms), or None."""
    kind = row[F_VISIBLE][0]
    if kind == "event":
        for t, k in r.events:
            if k == row[F_VISIBLE][1]:
                return t
        return None
    if kind in ("above", "below"):
        _k, col, key, step = row[F_VISIBLE]
        limit = _threshold(r, key)
        for s in r.trace:
            v = s[col]
            if (kind == "above" and v > limit + step) or (kind == "below" and v < limit - step):
                return s["t_ms"]
        return None
    _k, contactor, key = row[F_VISIBLE]
    k = ("neg", "pre", "pos").index(contactor)
    last_close = None
    prev = 0
    for s in r.trace:
        if s["closed"][k] and not prev:
            last_close = s["t_ms"]
        prev = s["closed"][k]
    return None if last_close is None else last_close + _threshold(r, key)


def _safe(s):
    for k in range(3):
        if s["coils"][k]:
            return False
        if s["closed"][k] and not s["welded"][k]:
            return False
    return True


def raised(r, row):
    """The row of diag_ids(row) the firmware raised first, or the first named."""
    ids = diag_ids(row)
    for s in r.trace:
        for d in ids:
            if d in s["active"] or d in s["held"]:
                return d
    return ids[0]


def debounce_ms(r, row):
    i = D.ROWS[D.index(raised(r, row))][D.SET_MS]
    extra = 1
    for key in row[F_DETECT]:
        extra *= r.cfg[key]
    return i + (extra if row[F_DETECT] else 0)


def reaction(r, row):
    """{visible, open, alarm (ms after visible), debounce, beyond} for a fault run."""
    t0 = visible_ms(r, row)
    out = {"visible_ms": t0, "open_ms": None, "alarm_ms": None, "debounce_ms": debounce_ms(r, row),
           "raised": raised(r, row)}
    if t0 is None:
        return out
    for s in r.trace:
        if s["t_ms"] >= t0 and _safe(s):
            out["open_ms"] = s["t_ms"] - t0
            break
    # The row's own alarm, or the latch's (a fault that cleared before the next
    # 0x35A still shows as the latched fault's flag until the reset).
    places = [alarm_place(d) for d in diag_ids(row) + ("fault_latched",)]
    for t, _i, data, _ok in r.can:
        if _i == 0x35A and t >= t0 and any((data[p[0]] >> p[1]) & 3 == FLAG_ACTIVE
                                           for p in places if p is not None):
            out["alarm_ms"] = t - t0
            break
    if out["open_ms"] is not None:
        out["beyond_ms"] = out["open_ms"] - out["debounce_ms"]
    return out


def can_gaps(r):
    """Largest silence (ms) between frames while the firmware ran outside Shutdown."""
    worst = 0
    prev = None
    states = iter(r.trace)
    s = next(states, None)
    for t, _i, _d, _ok in r.can:
        while s is not None and s["t_ms"] < t:
            s = next(states, None)
        if prev is not None and (s is None or s["state"] != "Shutdown"):
            if not any(prev < x <= t for x in r.restarts):
                worst = max(worst, t - prev)
        prev = t
    if prev is not None and r.trace and r.trace[-1]["state"] != "Shutdown":
        worst = max(worst, r.trace[-1]["t_ms"] - prev)
    return worst


def invariant_problems(r):
    """Every safety invariant the issue names, as readable findings (empty: kept)."""
    problems = []
    cfg = r.cfg
    # CVL is never 0 (a GX treats 0 as "stop everything, forever" on some versions).
    for t, v in frames(r, 0x351):
        if v["cvl"] <= 0:
            problems.append("t=%d ms: 0x351 CVL = 0" % t)
            break
    # CAN is never silent longer than the GX tolerates.
    gap = can_gaps(r)
    if gap > GX_GAP_MS:
        problems.append("CAN silent for %d ms (> %d)" % (gap, GX_GAP_MS))
    # While a fault stands: limits 0 and the matching alarm, one CAN period after entry.
    problems += _fault_frames(r)
    # No re-close after a latched fault until a verified (operator) reset.
    problems += _no_reclose(r)
    # Cells inside the configured limits whenever the charger obeys.
    if r.scenario.name in SERVICE:
        lo = cfg["cell_v_min"] - CELL_LIMIT_MARGIN_V
        hi = cfg["cell_v_max"] + CELL_LIMIT_MARGIN_V
        for s in r.trace:
            if not lo <= s["cell_v_min"] <= s["cell_v_max"] <= hi:
                problems.append("t=%d ms: cells %.4f..%.4f V outside %.3f..%.3f V" % (
                    s["t_ms"], s["cell_v_min"], s["cell_v_max"], cfg["cell_v_min"],
                    cfg["cell_v_max"]))
                break
    return problems


def _fault_frames(r):
    problems = []
    grace = r.cfg["can_period_ms"] + 200
    entered = None
    limits = frames(r, 0x351)
    alarms = [(t, d) for t, i, d, _ok in r.can if i == 0x35A]
    li = ai = 0
    prev_t = None
    for s in r.trace:
        rebooted = prev_t is not None and any(prev_t < x <= s["t_ms"] for x in r.restarts)
        prev_t = s["t_ms"]
        if s["state"] != "Fault" or rebooted:
            entered = None    # a reboot enters Fault anew: its first frames are due
        if s["state"] != "Fault":
            continue
        if entered is None:
            entered = s["t_ms"]
        while li < len(limits) and limits[li][0] <= s["t_ms"]:
            li += 1
        while ai < len(alarms) and alarms[ai][0] <= s["t_ms"]:
            ai += 1
        if s["t_ms"] - entered < grace or li == 0:
            continue
        t, v = limits[li - 1]
        if v["ccl"] != 0 or v["dcl"] != 0:
            problems.append("t=%d ms: in Fault but 0x351 CCL %.1f DCL %.1f" % (t, v["ccl"], v["dcl"]))
            break
        data = alarms[ai - 1][1] if ai else None
        for diag_id in s["held"]:
            place = alarm_place(diag_id)
            if place is None or D.ROWS[D.index(diag_id)][D.SEVERITY] != D.FAULT:
                continue
            if data is None or (data[place[0]] >> place[1]) & 3 != FLAG_ACTIVE:
                problems.append("t=%d ms: fault %s held but 0x35A %s not active" % (
                    s["t_ms"], diag_id, place[2]))
                return problems
    return problems


def _latching(held):
    return any(D.ROWS[D.index(x)][D.RECOVERY] == D.LATCH for x in held)


def _no_reclose(r):
    resets = [t for t, k in r.events if k == "operator_reset"]
    latched_at = None
    for s in r.trace:
        if s["state"] == "Fault" and _latching(s["held"]) and latched_at is None:
            latched_at = s["t_ms"]
        if latched_at is not None and any(latched_at < t <= s["t_ms"] for t in resets):
            latched_at = None
        if latched_at is not None and s["coils"][2]:
            return ["t=%d ms: main positive re-closed after a latched fault at %d ms with no "
                    "operator reset" % (s["t_ms"], latched_at)]
    return []


def config_defaults():
    return bms_config.make(None)


# --- files a run leaves behind ------------------------------------------------------

def write_candump(r, path, epoch_s=0.0):
    """Every frame the firmware sent, candump format, simulated seconds + epoch_s."""
    from tools.monitor import candump_line
    with open(path, "w") as f:
        for t, can_id, data, _ok in r.can:
            f.write(candump_line(epoch_s + t / 1000.0, can_id, data) + "\n")


def write_events(lines, path):
    with open(path, "w") as f:
        for line in lines:
            f.write(line if line.endswith("\n") else line + "\n")


def replay_problem(lines):
    """None when the log replays to the transitions it recorded, else why not."""
    from tools import replay
    taken, recorded, _has_header = replay.replay(replay.parse(lines))
    if not recorded:
        return "the log recorded no transition"
    return replay.first_difference(taken, recorded)
