# The machinery of `pybms demo`: the plant in real time (X times faster) with its
# links on pseudo-terminals (simulator/realtime.py), the firmware under MicroPython
# as a separate process attached to them (tools/demo_interp.py chooses the
# interpreter; it runs main.py, what a board boots, with the unix board's link,
# state, config and --events options), every CAN frame the firmware sends tapped
# as the GX receives it, and the firmware's event log read from its --events file
# (one per boot: a watchdog restart starts a new one). Everything started here is stopped by close(), always: the
# firmware process (its own session, so a terminal's Ctrl-C reaches only us),
# the ptys, the temporary folder. The view (tools/demo_view.py) only reads.
# Host only.

import collections
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from simulator import scenario as S
from tools import e2e

ATTACH_S = 30.0          # wall seconds for the firmware to send its first CAN frame
LAST_LINES = 15          # firmware output kept for a crash message
# Nothing beyond the scenario's own settings: the unix board reads the plant's
# DC-bus voltage over the plant link (boards/unix.py), so it precharges in voltage
# mode as a board with a bus-voltage sense does; the current sensor is the plant's.
PTY_FIRMWARE = {}


class DemoError(Exception):
    """The firmware crashed or never attached: the message carries its last output."""


class Frame:
    __slots__ = ("wall", "t_s", "can_id", "data")

    def __init__(self, wall, t_s, can_id, data):
        self.wall = wall
        self.t_s = t_s
        self.can_id = can_id
        self.data = data


def firmware_overrides(scn):
    """The configuration the firmware runs with over ptys for scenario `scn`."""
    scn = e2e.with_sensor(scn)
    out = dict(scn.firmware)
    out.update(PTY_FIRMWARE)
    return out


class _FirmwareProcess:
    """simulator/firmware_process.FirmwareProcess started in its own session (Ctrl-C
    in the terminal reaches the demo, which stops it), with stdin closed; an exit
    is a crash to report, not something to hide by restarting."""

    def __init__(self, argv, env, cwd, paths, pins, out_path, events_path):
        from simulator.firmware_process import FirmwareProcess
        self.inner = FirmwareProcess("true", paths, pins)
        self.inner.argv = list(argv) + self.inner.argv[1:]
        self.events_path = events_path   # events_path(boot) -> the boot's --events file
        self.boots = 0
        self.env = env
        self.cwd = cwd
        self.out_path = out_path
        self.inner.start = self._start
        self.inner.stop = self.stop      # its watchdog restart stops through ours

    def _start(self):
        inner = self.inner
        self.boots += 1
        argv = inner.argv + ["--events", self.events_path(self.boots)]
        with open(self.out_path, "ab") as out:
            inner.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.cwd, env=self.env,
                                          start_new_session=True)
        inner._started = inner._last_pet = time.monotonic()
        inner._pets = inner.pins.pets

    def start(self):
        self._start()

    def exited(self):
        p = self.inner.proc
        return p is not None and p.poll() is not None

    def returncode(self):
        p = self.inner.proc
        return None if p is None else p.poll()

    def poll(self):
        self.inner.poll()   # restarts it when it stops petting (the board's watchdog)

    @property
    def restarts(self):
        return self.inner.restarts

    @property
    def pid(self):
        p = self.inner.proc
        return None if p is None else p.pid

    def hang(self):
        """Stop the firmware dead (SIGSTOP), as a locked-up board: the plant's
        watchdog must restart it."""
        p = self.inner.proc
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGSTOP)

    def stop(self):
        p = self.inner.proc
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                os.killpg(p.pid, signal.SIGCONT)   # a stopped (hung) process must see it too
            except OSError:
                pass
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        self.inner.proc = None


class Tally:
    """Simulated seconds spent in each value of a logged quantity (the charge phase,
    the heater state), from the records as they arrive, timed on the plant's clock."""

    def __init__(self):
        self.value = None
        self.cause = None
        self.seconds = {}           # value -> simulated s
        self._since = None

    def change(self, value, cause, t_s):
        self.close(t_s)
        self.value = value
        self.cause = cause
        self._since = t_s

    def close(self, t_s):
        if self.value is not None and self._since is not None and t_s is not None:
            self.seconds[self.value] = self.seconds.get(self.value, 0.0) + t_s - self._since
            self._since = t_s


class DemoRun:
    """One demo: start(), step() until done(), close(). Read-only state for the view:
    frames, events (event-log records), transitions, last_output, samples, phase and
    heater (Tally: the firmware's logged charge phase and heater state)."""

    def __init__(self, scenario_name, seconds=None, speed=2.0, interp=None, workdir=None,
                 truth_out=None):
        self.scenario = S.load(scenario_name)
        self.truth_out = truth_out
        self.truth_rows = []
        self.seconds = seconds if seconds is not None else self.scenario.duration_s
        self.speed = speed
        self.interp = interp
        self.workdir = workdir
        self._own_dir = None
        self.rt = None
        self.fw = None
        self.frames = []
        self.events = []            # event-log records (dicts), header first
        self.event_lines = []
        self.transitions = []       # (t_ms, event, from, to)
        self.state = "?"
        self.phase = Tally()        # from the firmware's phase records (docs/event-log.md)
        self.heater = Tally()
        self.last_output = collections.deque(maxlen=LAST_LINES)
        self._files = {}            # tail positions: key -> (offset, partial line)
        self._boots_read = 0
        self.energy_in_wh = 0.0
        self.energy_out_wh = 0.0
        self.started_wall = None
        self.attached_wall = None
        self.stop_reason = None
        self.latest = {}            # can_id -> Frame, the last of each
        self.restarts_seen = 0

    # --- lifecycle ------------------------------------------------------------------
    def start(self):
        from simulator.realtime import RealTime
        from tools import demo_interp
        if self.interp is None:
            self.interp = demo_interp.choose()
            if self.interp is None:
                raise DemoError("no MicroPython found: run `make setup` (it installs the "
                                "unix port into .venv)")
        if self.workdir is None:
            self._own_dir = self.workdir = tempfile.mkdtemp(prefix="pybms-demo-")
        cfg_path = os.path.join(self.workdir, "pybms_config.json")
        with open(cfg_path, "w") as f:
            json.dump(firmware_overrides(self.scenario), f)
        self.out_path = os.path.join(self.workdir, "firmware.out")
        self.truth_path = os.path.join(self.workdir, "truth.csv")
        self.rt = RealTime(self.scenario, self.speed, self.truth_path)
        tap = self.rt.can.on_frame
        self.rt.can.on_frame = lambda can_id, data: self._frame(tap, can_id, data)
        script = self.interp.script
        if script == demo_interp.MAIN:
            script = os.path.join(self.workdir, "main.py")
            shutil.copyfile(demo_interp.MAIN, script)
        argv = list(self.interp.argv) + [script, "--config", cfg_path,
                                         "--state", os.path.join(self.workdir, "pybms_state")]
        self.fw = _FirmwareProcess(argv, self.interp.env, self.workdir, dict(self.rt.paths()),
                                   self.rt.pins, self.out_path, self._events_path)
        self.fw.start()
        self.started_wall = time.monotonic()
        self.paths = self.rt.paths()

    def _events_path(self, boot):
        return os.path.join(self.workdir, "events.boot%d.jsonl" % boot)

    def _frame(self, deliver, can_id, data):
        f = Frame(time.time(), self.rt.clock.t_s, can_id, bytes(data))
        self.frames.append(f)
        self.latest[can_id] = f
        if self.attached_wall is None:
            self.attached_wall = time.monotonic()
        return deliver(can_id, data)

    def step(self):
        """One plant step at the pace of the wall clock; raises DemoError when the
        firmware crashed or never attached."""
        rt = self.rt
        dt = min(0.05, 0.001 * self.speed)
        v = rt.plant.pack.terminal_v()
        i = rt.plant.path.pack_current
        rt.step(dt)
        wh = v * i * dt / 3600.0
        if wh > 0:
            self.energy_in_wh += wh
        else:
            self.energy_out_wh -= wh
        rt.behind_s = rt.clock.pace()
        self._read_output()
        if self.fw.exited():
            raise DemoError("the firmware exited (status %s) at t=%.1f s; its last output:\n%s"
                            % (self.fw.returncode(), rt.clock.t_s, self.last_output_text()))
        self.fw.poll()
        if self.attached_wall is None and time.monotonic() - self.started_wall > ATTACH_S:
            raise DemoError("the firmware never attached: no CAN frame in %.0f s; its last "
                            "output:\n%s" % (ATTACH_S, self.last_output_text()))

    def done(self):
        return self.rt.clock.t_s >= self.seconds

    def last_output_text(self):
        self._read_output(final=True)
        return "\n".join("  | " + line for line in self.last_output) or "  (nothing)"

    def _read_output(self, final=False):
        for line in self._tail("out", self.out_path, final):
            self.last_output.append(line)
        boots = self.fw.boots if self.fw is not None else self._boots_read
        for boot in range(max(1, self._boots_read), boots + 1):
            for line in self._tail(boot, self._events_path(boot), final):
                self._event(line, boot)
            self._boots_read = boot

    def _tail(self, key, path, final):
        """New whole lines of a file another process appends to."""
        pos, partial = self._files.get(key, (0, b""))
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except OSError:
            return []
        data = partial + chunk
        lines = data.split(b"\n")
        rest = b"" if final else lines.pop()
        self._files[key] = (pos + len(chunk), rest)
        return [x.decode("utf-8", "replace").rstrip("\r") for x in lines if x.strip()]

    def _event(self, line, boot):
        try:
            rec = json.loads(line)
        except ValueError:
            self.last_output.append("event log: not JSON: %s" % line[:120])
            return
        if not isinstance(rec, dict) or "t_ms" not in rec:
            return
        rec["_boot"] = boot
        self.events.append(rec)
        self.event_lines.append((boot, line))
        if "transition" in rec:
            src, dst = rec["transition"].split("->")
            self.transitions.append((rec["t_ms"], rec.get("on"), src, dst))
            self.state = dst
        elif "log" in rec:
            self.state = "Init"
            self.heater.change("off", None, self._t_s())   # a boot starts with it off
        elif "phase" in rec:
            self.phase.change(rec["phase"], rec.get("on"), self._t_s())
        elif "heater" in rec:
            self.heater.change(rec["heater"], None, self._t_s())

    def _t_s(self):
        return self.rt.clock.t_s if self.rt is not None else None

    def close(self):
        """Stop everything this run started; safe to call more than once."""
        if self.fw is not None:
            self.restarts_seen = self.fw.restarts
            self.fw.stop()
            self._read_output(final=True)
            self.fw = None
        if self.rt is not None:
            self.phase.close(self.rt.clock.t_s)
            self.heater.close(self.rt.clock.t_s)
            self.rt.close()          # writes the last truth row and closes the file
            self.rt = None
            if os.path.exists(self.truth_path):
                from simulator import truth
                self.truth_rows = truth.read(self.truth_path)
                if self.truth_out:
                    shutil.copyfile(self.truth_path, self.truth_out)
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    # --- what the run leaves behind --------------------------------------------------
    def boot_logs(self):
        """The event log of each boot (a watchdog restart starts a new file)."""
        boots = []
        for boot, line in self.event_lines:
            while len(boots) < boot:
                boots.append([])
            boots[boot - 1].append(line)
        return [b for b in boots if b]

    def write_events(self, path):
        """The first boot's log to `path`; each later boot (after a watchdog restart)
        to PATH.bootN.jsonl, so every file replays on its own. Returns the paths."""
        base, ext = os.path.splitext(path)
        written = []
        for k, lines in enumerate(self.boot_logs() or [[]]):
            p = path if k == 0 else "%s.boot%d%s" % (base, k + 1, ext or ".jsonl")
            with open(p, "w") as f:
                for line in lines:
                    f.write(line + "\n")
            written.append(p)
        return written

    def write_candump(self, path):
        from tools.monitor import candump_line
        with open(path, "w") as f:
            for fr in self.frames:
                f.write(candump_line(fr.wall, fr.can_id, fr.data) + "\n")


class Result:
    def __init__(self, ok, message, run):
        self.ok = ok
        self.message = message
        self.run = run


def run_quiet(scenario_name, seconds, speed, interp=None, events_out=None, can_out=None,
              truth_out=None, stop=None):
    """A demo without a view (benchmarks, tests): Result with the finished run."""
    r = DemoRun(scenario_name, seconds, speed, interp, truth_out=truth_out)
    try:
        r.start()
        while not r.done() and not (stop and stop(r)):
            r.step()
        ok, message = True, "finished"
    except DemoError as e:
        ok, message = False, str(e)
    finally:
        r.close()
    if events_out:
        r.write_events(events_out)
    if can_out:
        r.write_candump(can_out)
    return Result(ok, message, r)
