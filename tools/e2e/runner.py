# Runs a plant scenario in process against the real application (app/, through
# simulator/app_loop.py), accelerated, and records it finely enough to judge: a
# per-pass trace of what the firmware believed and what the plant really did,
# every CAN frame the firmware sent, the event logs of every boot and the truth
# rows. Restarts on the same flash (a watchdog reset, a power cut) on request.
# Host only.

from bms import diagnosis as D
from simulator import harness, scenario as S

# The firmware as the demo ships it measures pack current: the scenario's sensor
# kind picks the driver and the settings that match the plant's transducer
# (docs/simulator.md: hall 2.5 V + 10 mV/A through a 0.4 divider, so +-250 A spans
# the 0..5 V it can swing and the trip must sit below the rail; shunt 100 uOhm),
# unless the scenario's firmware section chooses a sensor itself.
RING_BYTES = 1 << 20   # the whole run's event log stays in the firmware's RAM ring (bytes)
SENSOR_CONFIG = {
    "hall": {"current_sensor": "mcp3421_hall", "current_hall_mv_per_a": 10.0,
             "current_hall_divider": 2.5, "current_hall_zero_v": 2.5, "current_max_a": 250.0,
             "current_oc_discharge_a": 200.0},
    "shunt": {"current_sensor": "ina228_shunt", "current_shunt_uohm": 100},
}


def with_sensor(scn):
    if "current_sensor" not in scn.firmware:
        for k, v in SENSOR_CONFIG[scn.sensor["kind"]].items():
            scn.firmware.setdefault(k, v)
    return scn


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
    h = harness.Harness(scn, truth_path=truth_path, start=False)
    r = Run(scn, h.cfg)
    r.harness = h
    h.can = _RecordingCan(r, h.clock)
    h.can.plant = h.plant
    h.boot(ring=RING_BYTES)
    end = scn.test_duration_s if duration_s is None else duration_s
    restarts = sorted(restart_at_s)
    logs = []
    try:
        while h.clock.t_s < end - 1e-9:
            if restarts and h.clock.t_s >= restarts[0]:
                restarts.pop(0)
                logs.append(h.loop.log_lines())
                h.plant.set_coils(0, 0, 0)  # a reset drops every output until the new boot drives it
                h.boot(files=h.loop.files, ring=RING_BYTES)
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


