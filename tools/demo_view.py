# What `pybms demo` shows: a screen of the running system redrawn in place on a
# terminal (plain progress lines otherwise), and the summary at the end. It only
# reads a tools.demo_run.DemoRun: the plant's truth for what really is (contactors,
# balancing, true SoC), the CAN frames decoded as the GX decodes them
# (tools.monitor.decode_frame with the shipped DBC) for what the BMS says, and the
# firmware's event log for its state, charge phase and heater (the phase is the
# firmware's own record, docs/event-log.md, never inferred here). Host only.

import sys
import time

from tools.monitor import decode_frame

REDRAW_S = 0.25
PLAIN_EVERY_S = 5.0
TICKER_SKIP = ("tick",)


def load_db():
    import cantools
    from tools.victron_dbc import PATH
    return cantools.database.load_file(PATH)


def _text(values, name):
    v = values.get(name) if values else None
    if isinstance(v, int):
        return v.to_bytes(8, "little").rstrip(b"\x00").decode("ascii", "replace").strip()
    return "?" if v is None else str(v)


class Decoder:
    """The last value of every frame the firmware sent, as the GX reads it."""

    def __init__(self, db):
        self.db = db
        self._cache = {}

    def values(self, run, can_id):
        f = run.latest.get(can_id)
        if f is None:
            return None
        key = (can_id, f.data)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != can_id}
            self._cache[key] = decode_frame(self.db, can_id, f.data).values
        return self._cache[key]

    def flags(self, run):
        v = self.values(run, 0x35A)
        if not v:
            return None, None
        alarms = [k[6:] for k, x in sorted(v.items()) if k.startswith("alarm_") and x == 1]
        warns = [k[8:] for k, x in sorted(v.items()) if k.startswith("warning_") and x == 1]
        return alarms, warns


def _f(v, fmt):
    return "?" if v is None else fmt % v


# why a phase was entered (bms/charge.py CONDITION_NAMES), as the screen says it
CAUSES = {"rebulk": "re-bulk", "full_charge_due": "periodic full charge",
          "absorbed": "absorption time up", "full": "full and balanced"}


def charge_text(run):
    """What the battery side does: the machine's state, then the logged phase."""
    state = run.state
    if state in ("Fault", "Shutdown", "Init"):
        return "battery off"
    if state == "Precharge":
        return "charging the inverter's DC bus"
    p = run.phase
    if p.value is None:
        return "charge phase ? (not logged yet)"
    text = "charge phase %s" % p.value
    if p.cause in CAUSES:
        text += " (%s)" % CAUSES[p.cause]
    if run.heater.value == "heating":
        text += ", heating: charging waits for the pack to warm"
    elif run.heater.value == "resting":
        text += ", heater resting"
    return text


def utc_text(rec):
    """' 10:02:39 UTC' from a record's wall time, '' when it has none."""
    u = rec.get("utc_s")
    return time.strftime(" %H:%M:%S UTC", time.gmtime(u)) if isinstance(u, int) else ""


def ticker(run):
    """The latest event-log record worth reading, timed from the firmware's boot."""
    boot = 0
    for rec in reversed(run.events):
        if "log" in rec:
            boot = rec["t_ms"]
            break
    for rec in reversed(run.events):
        name = rec.get("event")
        if name in TICKER_SKIP or "log" in rec:
            continue
        t = "%+.1f s%s" % ((rec["t_ms"] - boot) / 1000.0, utc_text(rec))
        if "phase" in rec:
            return "%s  charge phase %s%s" % (t, rec["phase"], " on %s" % rec["on"]
                                              if "from" in rec else " at boot")
        if "heater" in rec:
            return "%s  heater %s" % (t, rec["heater"])
        if "transition" in rec:
            return "%s  %s on %s" % (t, rec["transition"], rec.get("on"))
        if name == "fault" or name == "fault_cleared":
            return "%s  %s %s" % (t, name, rec.get("diag"))
        if "rejected" in rec:
            return "%s  rejected %s in %s (%s)" % (t, rec["rejected"], rec.get("state"),
                                                      rec.get("reason"))
        if name:
            return "%s  %s" % (t, name)
        if "error" in rec:
            return "%s  ERROR %s" % (t, rec["error"])
    return "(no event yet)"


def screen(run, dec, interp_label):
    plant = run.rt.plant
    pack = plant.pack
    path = plant.path
    c = path.contactors
    lim = dec.values(run, 0x351) or {}
    soc = dec.values(run, 0x355) or {}
    vi = dec.values(run, 0x356) or {}
    cells = dec.values(run, 0x373) or {}
    alarms, warns = dec.flags(run)
    lo, hi = pack.cell_extremes()
    t_lo, t_hi = pack.temp_extremes()
    usable = pack.usable_soc(*plant.usable_window)[0]
    bleeding = sum(bin(m.bleed_mask).count("1") for m in pack.modules)
    pos = "  ".join("%s %s" % (n, "CLOSED" if k.closed else "open")
                    for n, k in zip(("neg", "pre", "pos"), c))
    restarts = run.fw.restarts if run.fw is not None else 0
    return [
        "pyBMS demo: scenario %s (%dS%dP), %s, plant at %gx" % (
            run.scenario.name, run.scenario.topology["series"], run.scenario.topology["parallel"],
            interp_label, run.speed),
        "simulated %7.1f s of %g   frames %d   watchdog restarts %d" % (
            run.rt.clock.t_s, run.seconds, len(run.frames), restarts),
        "",
        "state      %-10s  %s" % (run.state, charge_text(run)),
        "contactors %s   DC bus %.1f V" % (pos, path.v_bus),
        "pack       %s V  %s A   (true %.2f V %+.1f A)" % (
            _f(vi.get("voltage"), "%.2f"), _f(vi.get("current"), "%+.1f"), pack.terminal_v(),
            path.pack_current),
        "SoC        %s %%   (true %.1f %% usable)" % (
            _f(soc.get("soc_hires", soc.get("soc")), "%.1f"), usable * 100.0),
        "cells      min %s V %-8s max %s V %-8s (true %.3f..%.3f V)" % (
            _f(cells.get("cell_v_min"), "%.3f"), _text(dec.values(run, 0x374), "cell_v_min_name"),
            _f(cells.get("cell_v_max"), "%.3f"), _text(dec.values(run, 0x375), "cell_v_max_name"),
            lo, hi),
        "temps      min %s C %-8s max %s C %-8s (true %.1f..%.1f C)" % (
            _f(cells.get("cell_t_min"), "%.1f"), _text(dec.values(run, 0x376), "cell_t_min_name"),
            _f(cells.get("cell_t_max"), "%.1f"), _text(dec.values(run, 0x377), "cell_t_max_name"),
            t_lo, t_hi),
        "balancing  %d cell group%s bleeding" % (bleeding, "" if bleeding == 1 else "s"),
        "GX reads   CVL %s V  CCL %s A  DCL %s A  DVL %s V" % (
            _f(lim.get("cvl"), "%.1f"), _f(lim.get("ccl"), "%.1f"), _f(lim.get("dcl"), "%.1f"),
            _f(lim.get("dvl"), "%.1f")),
        "alarms     %s" % (", ".join(alarms) if alarms else ("none" if alarms is not None else "?")),
        "warnings   %s" % (", ".join(warns) if warns else ("none" if warns is not None else "?")),
        "event      %s" % ticker(run),
    ]


def progress_line(run, dec):
    lim = dec.values(run, 0x351) or {}
    vi = dec.values(run, 0x356) or {}
    soc = dec.values(run, 0x355) or {}
    alarms, _w = dec.flags(run)
    c = run.rt.plant.path.contactors
    return ("t=%6.1fs %-9s %-10s [%s] pack %s V %s A SoC %s%% CVL %s CCL %s DCL %s alarms %s"
            " | %s") % (
        run.rt.clock.t_s, run.state, run.phase.value or "?",
        "".join("NPM"[k] if x.closed else "-" for k, x in enumerate(c)),
        _f(vi.get("voltage"), "%.2f"), _f(vi.get("current"), "%+.1f"),
        _f(soc.get("soc"), "%d"), _f(lim.get("cvl"), "%.1f"), _f(lim.get("ccl"), "%.0f"),
        _f(lim.get("dcl"), "%.0f"), ",".join(alarms) if alarms else "none", ticker(run))


class View:
    """Redraws in place on a terminal; prints a line every PLAIN_EVERY_S otherwise."""

    def __init__(self, out=sys.stdout, interp_label="", db=None):
        self.out = out
        self.tty = out.isatty()
        self.dec = Decoder(db or load_db())
        self.label = interp_label
        self._lines = 0
        self._next = 0.0

    def update(self, run, now):
        if now < self._next:
            return
        if self.tty:
            self._next = now + REDRAW_S
            lines = screen(run, self.dec, self.label)
            up = "\x1b[%dF" % self._lines if self._lines else "\x1b[?25l"
            self.out.write(up + "".join("\x1b[2K" + line + "\n" for line in lines))
            self._lines = len(lines)
        else:
            self._next = now + PLAIN_EVERY_S
            self.out.write(progress_line(run, self.dec) + "\n")
        self.out.flush()

    def close(self):
        if self.tty:
            self.out.write("\x1b[?25h")   # cursor back, whatever happened
            self.out.flush()


def can_gap_s(run):
    worst = 0.0
    for a, b in zip(run.frames, run.frames[1:]):
        worst = max(worst, b.wall - a.wall)
    return worst


def tally_text(tally):
    """'bulk 120 s, absorption 40 s' in the order first seen; 'not logged' if none."""
    if not tally.seconds:
        return "not logged"
    return ", ".join("%s %.0f s" % (k, v) for k, v in tally.seconds.items())


def summary(run, wall_s, dec):
    soc = dec.values(run, 0x355) or {}
    rows = run.truth_rows
    # The plant's SoC on the scale the BMS reports (docs/soc.md: between the
    # configured cut-offs, set by the weakest groups), not the groups' mean.
    true_soc = rows[-1]["soc_usable"] * 100.0 if rows and rows[-1].get("soc_usable") is not None \
        else None
    bms_soc = soc.get("soc_hires", soc.get("soc"))
    faults = ["%s at %d ms%s" % (r.get("diag"), r["t_ms"], utc_text(r)) for r in run.events
              if r.get("event") == "fault"]
    path = " -> ".join(["Init"] + [t[3] for t in run.transitions]) if run.transitions else run.state
    lines = [
        "",
        "summary: scenario %s, %.0f s simulated in %.0f s wall (%gx)" % (
            run.scenario.name, rows[-1]["t_s"] if rows else 0.0, wall_s, run.speed),
        "  what happened  %s" % path,
        "  faults         %s" % ("; ".join(faults) if faults else "none"),
        "  energy         in %.1f Wh, out %.1f Wh (at the pack terminals)" % (
            run.energy_in_wh, run.energy_out_wh),
        "  SoC            BMS %s %%, true %s %%, error %s points" % (
            _f(bms_soc, "%.1f"), _f(true_soc, "%.1f"),
            _f(None if bms_soc is None or true_soc is None else bms_soc - true_soc, "%+.1f")),
        "  CAN            %d frames from the firmware, largest gap %.2f s" % (
            len(run.frames), can_gap_s(run)),
        "  charge phases  %s" % tally_text(run.phase),
        "  heater         %s" % tally_text(run.heater),
        "  watchdog       %d restart%s" % (run.restarts_seen, "" if run.restarts_seen == 1 else "s"),
    ]
    return lines
