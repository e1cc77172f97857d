# `pybms bench e2e`: the firmware's reaction to every fault scenario, end to end.
# Per fault scenario (tools/e2e.FAULTS), in process on the real application with
# 10 ms steps: time from the fault visible in the plant to every contactor open,
# to the 0x35A alarm, and the largest CAN gap. For `normal`: wall seconds per
# simulated hour in process, and over pseudo-terminals under MicroPython (the
# default `pybms demo` run, timed: paced at its speed, so the figure says whether
# the plant keeps up; demo_wall_s is that whole demo with start-up). Over ptys
# also `precharge-fail`, to the latch: the firmware under MicroPython reading the
# plant's bus voltage over the plant link. Writes
# docs/e2e-figures.json (the safety report reads it) and the table in
# docs/performance.md. Last line: fault_reaction_ms_max=... alarm_ms_max=...
# can_gap_ms_max=... demo_wall_s=...

import json
import os
import time

from tools import e2e

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIGURES = os.path.join(ROOT, "docs", "e2e-figures.json")
PERFORMANCE = os.path.join(ROOT, "docs", "performance.md")
STEP_S = 0.01           # 10 ms resolution for reaction times
NORMAL_SIM_S = 600      # simulated seconds of `normal` timed in process
BEGIN = "<!-- bench e2e: begin -->"
END = "<!-- bench e2e: end -->"


def fault_figures(quick=False):
    out = {}
    for row in e2e.FAULTS:
        name = row[e2e.F_SCENARIO]
        r = e2e.run(name, step_s=None if quick else STEP_S)
        x = e2e.reaction(r, row)
        x["can_gap_ms"] = e2e.can_gaps(r)
        out[name] = x
    return out


def normal_inprocess_s_per_hour(sim_s):
    t0 = time.perf_counter()
    e2e.run("normal", duration_s=sim_s)
    wall = time.perf_counter() - t0
    return wall * 3600.0 / sim_s


def normal_pty():
    """The default `pybms demo` (normal, its length and speed) timed: (wall s per
    simulated hour while attached, whole demo wall s incl. start-up), or Nones."""
    from tools import demo, demo_interp, demo_run
    # The interpreter first: a firmware change rebuilds the frozen 32-bit image
    # (minutes, once), which is not the demo's start-up.
    interp = demo_interp.choose()
    t0 = time.monotonic()
    result = demo_run.run_quiet("normal", demo.DEFAULT_SECONDS, demo.DEFAULT_SPEED, interp=interp)
    wall = time.monotonic() - t0
    frames = result.run.frames
    if not result.ok or len(frames) < 2:
        print("over ptys: %s" % result.message)
        return None, None, None
    per_hour = (frames[-1].wall - frames[0].wall) * 3600.0 / (frames[-1].t_s - frames[0].t_s)
    return per_hour, wall, result.run.interp.label


def pty_precharge_fail():
    """`precharge-fail` over ptys (the unix board reads the bus over the plant
    link), run to the latch: the same figures as in process, in the firmware's
    milliseconds (plant seconds / speed), from the truth rows (every 0.1 s of plant
    time: 50 ms of the firmware's at 2x) and the frames. The timeout starts when
    the firmware drives the precharge coil (coil_pre), its own start. None when the
    run failed."""
    from bms import config
    from tools import demo, demo_run
    speed = demo.DEFAULT_SPEED
    seen = []

    def stop(run):
        if not seen and run.state == "Fault":
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] > 2.0
    result = demo_run.run_quiet("precharge-fail", 100, speed, stop=stop)
    run = result.run
    if not result.ok or not run.truth_rows or not run.frames:
        print("precharge-fail over ptys: %s" % result.message)
        return None
    cfg = config.make(demo_run.firmware_overrides(run.scenario))
    rows = run.truth_rows
    last_on = None
    for a, b in zip(rows, rows[1:]):
        if b["coil_pre"] and not a["coil_pre"]:
            last_on = b["t_s"]
    x = {"raised": None, "debounce_ms": 0, "open_ms": None, "alarm_ms": None,
         "closed_onto_short": any(r["pos"] or r["coil_pos"] for r in rows),
         "can_gap_ms": int(round(1000 * max(b.wall - a.wall for a, b in
                                            zip(run.frames, run.frames[1:]))))}
    if last_on is None:
        return x
    visible = last_on + cfg["precharge_timeout_ms"] / 1000.0 * speed
    for r in rows:
        if r["t_s"] >= visible and not any(r[k] for k in ("coil_neg", "coil_pre", "coil_pos",
                                                          "neg", "pre", "pos")):
            x["open_ms"] = int(round((r["t_s"] - visible) / speed * 1000))
            break
    byte, shift, _flag = e2e.alarm_place("precharge_failed")
    for f in run.frames:
        if f.can_id == 0x35A and f.t_s >= visible and (f.data[byte] >> shift) & 3 == 1:
            x["alarm_ms"] = int(round((f.t_s - visible) / speed * 1000))
            x["raised"] = "precharge_failed"
            break
    if x["open_ms"] is not None:
        x["beyond_ms"] = x["open_ms"]
    return x


def _ms(v):
    return "-" if v is None else "%d" % v


def table_lines(figs):
    lines = ["| scenario | row raised | debounce+detect ms | contactors open ms | beyond ms | "
             "0x35A alarm ms | largest CAN gap ms |", "|---|---|---|---|---|---|---|"]
    for name, x in figs["scenarios"].items():
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            name, x.get("raised"), _ms(x["debounce_ms"]), _ms(x["open_ms"]),
            _ms(x.get("beyond_ms")), _ms(x["alarm_ms"]), _ms(x["can_gap_ms"])))
    for name, x in figs.get("pty", {}).items():
        if x is None:
            lines.append("| %s over ptys | did not run | | | | | |" % name)
            continue
        lines.append("| %s over ptys (MicroPython; main positive %s) | %s | %s | %s | %s | %s | %s |" % (
            name, "CLOSED onto the short" if x["closed_onto_short"] else "never closed",
            x.get("raised"), _ms(x["debounce_ms"]), _ms(x["open_ms"]), _ms(x.get("beyond_ms")),
            _ms(x["alarm_ms"]), _ms(x["can_gap_ms"])))
    n = figs["normal"]
    lines.append("")
    lines.append("| normal | wall s per simulated hour |")
    lines.append("|---|---|")
    lines.append("| in process (CPython, accelerated) | %s |" % _f(n["inprocess_s_per_hour"]))
    lines.append("| over ptys (%s; plant paced at %gx) | %s |" % (
        n.get("pty_firmware") or "MicroPython", n["pty_speed"], _f(n["pty_s_per_hour"])))
    lines.append("| the default `pybms demo`, start-up included (wall s) | %s |" % _f(n["demo_wall_s"]))
    return lines


def _f(v):
    return "-" if v is None else "%.1f" % v


def summary(figs):
    s = list(figs["scenarios"].values()) + [x for x in figs.get("pty", {}).values() if x]
    react = max((x["beyond_ms"] for x in s if x.get("beyond_ms") is not None), default=None)
    alarm = max((x["alarm_ms"] for x in s if x["alarm_ms"] is not None), default=None)
    gap = max(x["can_gap_ms"] for x in s)
    return "fault_reaction_ms_max=%s alarm_ms_max=%s can_gap_ms_max=%s demo_wall_s=%s" % (
        _ms(react), _ms(alarm), _ms(gap), _f(figs["normal"]["demo_wall_s"]))


def write_performance(lines):
    block = "\n".join([BEGIN] + lines + [END])
    try:
        with open(PERFORMANCE) as f:
            text = f.read()
    except OSError:
        text = ("# Performance\n\nFigures measured by the benchmarks (`pybms bench NAME`).\n\n"
                "## End to end (`pybms bench e2e`)\n\nFault reaction per scenario: "
                "\"beyond\" is the time past the debounce and detection time (goal <= 100 ms); "
                "in process on the real application, 10 ms steps.\n\n%s\n%s\n" % (BEGIN, END))
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text += "\n" + block + "\n"
    with open(PERFORMANCE, "w") as f:
        f.write(text)


def run(args):
    quick = getattr(args, "quick", False)
    figs = {"source": "pybms bench e2e, in process, %d ms steps" % int(STEP_S * 1000),
            "scenarios": fault_figures(quick)}
    from tools import demo
    pty_h, demo_wall, label = (None, None, None) if quick else normal_pty()
    if not quick:
        figs["pty"] = {"precharge-fail": pty_precharge_fail()}
    figs["normal"] = {
        "inprocess_s_per_hour": normal_inprocess_s_per_hour(60 if quick else NORMAL_SIM_S),
        "pty_s_per_hour": pty_h, "pty_speed": demo.DEFAULT_SPEED, "demo_wall_s": demo_wall,
        "pty_firmware": label}
    lines = table_lines(figs)
    print("\n".join(lines))
    if not quick:
        with open(FIGURES, "w") as f:
            json.dump(figs, f, indent=1, sort_keys=True)
            f.write("\n")
        write_performance(lines)
        print("wrote %s and the table in %s" % (os.path.relpath(FIGURES, ROOT),
                                                 os.path.relpath(PERFORMANCE, ROOT)))
    print(summary(figs))
    return 0
