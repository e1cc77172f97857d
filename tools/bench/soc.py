# `pybms bench soc`: the firmware's state of charge (bms/soc.py) against the plant's
# truth over 30 simulated days (issue 15). Not a timed test: about four minutes.
#
# The chain is the one the application runs: the plant's pack current goes through
# the hall transducer's analog model (simulator/current_sensor.py: offset 0.5 A, gain
# error 1 %, noise) into the register-level MCP3421 model (quantisation, conversion
# averaging), read by the firmware driver (drivers/current_sensor.py, configured by
# the firmware defaults); its `ma` and `valid()` and the pack summary feed
# SocEstimator.update(), exactly the call app/application.py makes. Reboots (a power
# cut or watchdog reset every few days, unannounced) throw every estimator away and
# build it again through bms.soc_record.Saver and drivers.storage.RecordStore on an
# in-memory flash, as app/boot.py does: what was not saved yet is lost.
#
# One plant trajectory, many estimators: every variant (the full estimator, each
# correction switched off in turn with bms.soc's R_* switches, a plain coulomb
# counter = no corrections) gets the same sensor readings and the same summaries in
# the same pass, so differences between rows come from the estimator alone. The
# voltage-only estimate is what pyBMS sent before a SoC existed
# (bms.limits.Limits.soc_estimate_x100: linear in the average cell voltage).
#
# The plant is simulator/charge_loop.FastLoop (cells, heat, power path, Victron DVCC
# obeying the firmware's charge control and limits, no module bus) stepped every
# STEP_S; each day draws its own weather and house load from a seeded generator, so
# some days end full, some empty, some neither; the ambient swings daily and over
# the month. The truth is the plant's cell groups mapped onto the usable scale of
# docs/soc.md: remaining = the smallest charge any group holds above its cut-off
# (discharge_cell_v on the plant's OCV curve), room = the smallest charge any group
# can still take below charge_cell_v; SoC = remaining / (remaining + room), usable
# capacity = remaining + room (summed over parallel strings): simulator.pack_model's
# usable_soc(), also the truth file's soc_usable column.

import math
import random
import time

from bms import soc as S
from bms import soc_record
from drivers.current_sensor import CurrentSensor
from drivers.storage import RecordStore
from app import tasks as T
from bms.ticks import ticks_diff
from simulator import cells
from simulator import scenario as scenario_mod
from simulator.app_loop import MemoryFiles
from simulator.charge_loop import FastLoop
from simulator.chips import I2CBus
from simulator.chips.mcp3421 import Mcp3421Model

STEP_S = 5.0             # plant and BMS step (the estimator's anchors need >= 1 s)
SAMPLE_S = 60.0          # error samples
DAYS = 30
LATE_S = 7 * 86400.0     # "after the first week": a second maximum from here on
SEED = 15                # the first seed: the table with every variant
SEEDS = (15, 16, 17, 18, 19)  # the default run: the goal must hold on each
SENSOR = {"kind": "hall", "offset_a": 0.5, "gain_error": 0.01, "noise_a": 0.5,
          "bandwidth_hz": None}
REBOOT_EVERY_DAYS = (2.0, 5.0)    # the gap to the next reboot, drawn uniformly
OUTAGE_S = 30.0          # a rebooting board drops the contactor coils this long
MPPT_RESET_S = 60.0      # the owner resets the MPPTs' error #67 this long after
BOOT_OPEN_S = 1.05       # contactors open at boot until main positive closes (the
                         # in-process `normal` run of the application, 2S pack)
# A boot without a SoC record: the application holds pack_ready until the sensor has
# read its zero (app.tasks.ZERO_FIRST_MS); main closes as long after that as after a
# prompt pack_ready (~0.5 s into a boot: BOOT_OPEN_S less that).
FIRST_BOOT_OPEN_S = T.ZERO_FIRST_MS / 1000.0 + BOOT_OPEN_S - 0.5
STORE_PERIOD_MS = 60000  # as app/boot.py (STATE_PERIOD_MS)
# Day types: (share, solar peak W, clouds); house load scaled by 0.6..1.6.
WEATHER = ((0.45, 5000.0, 0.25), (0.35, 2500.0, 0.6), (0.2, 700.0, 0.8))

VARIANTS = (
    ("full estimator", S.R_ALL),
    ("without rested-OCV correction", S.R_ALL & ~S.R_OCV),
    ("without full anchor", S.R_ALL & ~S.R_FULL),
    ("without empty anchor", S.R_ALL & ~S.R_EMPTY),
    ("without offset learning at rest", S.R_ALL & ~S.R_OFFSET),
    ("without offset from repeated anchors", S.R_ALL & ~S.R_DRIFT),
    ("without zero read at open contactors", S.R_ALL & ~S.R_ZERO),
    ("without capacity learning", S.R_ALL & ~S.R_LEARN),
    ("without blending (corrections in one step)", S.R_ALL & ~S.R_BLEND),
    ("without loaded-voltage bound", S.R_ALL & ~S.R_LOADED),
    ("without early capacity (start or bound to anchor)", S.R_ALL & ~S.R_EARLY_CAP),
    ("without both (the estimator before rule 3b)", S.R_ALL & ~(S.R_LOADED | S.R_EARLY_CAP)),
    ("plain coulomb counter", 0),
)

# bms/ocv.py's NCA table before it became the one documented set of numbers shared
# with the plant: up to 25 mV off the plant's curve. The row "with the previous OCV
# table" runs the full estimator on it: what a curve that does not match the cells
# costs (real cells never match a table exactly).
PREVIOUS_NCA = (
    (0, 3000), (250, 3200), (500, 3310), (1000, 3430), (1500, 3500), (2000, 3550),
    (2500, 3590), (3000, 3620), (3500, 3650), (4000, 3680), (4500, 3710), (5000, 3745),
    (5500, 3780), (6000, 3815), (6500, 3855), (7000, 3895), (7500, 3935), (8000, 3975),
    (8500, 4020), (9000, 4065), (9500, 4115), (10000, 4180),
)
CURVE_VARIANTS = (("full estimator with the previous OCV table", S.R_ALL, PREVIOUS_NCA),)

def truth(pack, e, f):
    """(usable SoC %, usable capacity Ah) of the plant's pack (PackModel.usable_soc)."""
    frac, cap = pack.usable_soc(e, f)
    return 100.0 * frac, cap


class Variant:
    """One estimator with its own flash, rebuilt at every reboot as app/boot.py does."""

    def __init__(self, name, rules, cfg, series, curve=None):
        self.name = name
        self.rules = rules
        self.curve = curve
        self.cfg = cfg
        self.series = series
        self.files = MemoryFiles()
        self.err_sq = 0.0
        self.err_max = 0.0
        self.late_max = 0.0      # after the first week (capacity and offset learnt)
        self.late_sq = 0.0
        self.late_n = 0
        self.n = 0
        self.restored = 0
        self.boot()

    def boot(self):
        if self.curve is None:
            self.est = S.SocEstimator(self.cfg, self.series, rules=self.rules)
        else:
            self.est = S.SocEstimator(self.cfg, self.series, self.curve, rules=self.rules)
        store = RecordStore("soc", soc_record.SIZE, STORE_PERIOD_MS, self.files)
        self.saver = soc_record.Saver(self.est, self.cfg, store)
        self.loaded = self.saver.load()
        if self.loaded:
            self.restored += 1

    def step(self, t_ms, ma, ok, summary):
        self.est.update(t_ms, ma, ok, summary)
        self.saver.poll(t_ms)

    def score(self, truth_pct, late):
        x = self.est.soc_x100()
        if x is None:
            return
        err = abs(x / 100.0 - truth_pct)
        self.err_sq += err * err
        self.n += 1
        if err > self.err_max:
            self.err_max = err
        if late:
            self.late_sq += err * err
            self.late_n += 1
            if err > self.late_max:
                self.late_max = err

    def rms(self):
        return math.sqrt(self.err_sq / self.n) if self.n else float("nan")

    def late_rms(self):
        return math.sqrt(self.late_sq / self.late_n) if self.late_n else float("nan")


class VoltageOnly:
    """What pyBMS sent before issue 15: the limits' linear voltage estimate."""

    def __init__(self, limits):
        self.limits = limits
        self.name = "voltage only (what pyBMS sent before)"
        self.err_sq = 0.0
        self.err_max = 0.0
        self.n = 0

    def score(self, truth_pct, summary):
        x = self.limits.soc_estimate_x100(summary)
        if x is None:
            return
        err = abs(x / 100.0 - truth_pct)
        self.err_sq += err * err
        self.n += 1
        self.err_max = max(self.err_max, err)

    def rms(self):
        return math.sqrt(self.err_sq / self.n) if self.n else float("nan")


class SocBench:
    def __init__(self, days=DAYS, seed=SEED, variants=VARIANTS + CURVE_VARIANTS,
                 step_s=STEP_S):
        s = scenario_mod.load("week")
        s.pack.update({"soc": 0.6, "soc_spread": 0.005, "capacity_spread": 0.02,
                       "self_discharge_spread": 0.5, "seed": seed, "temp_c": 18.0,
                       "ambient_c": 18.0})
        s.sensor.update(SENSOR)
        s.profile.update({"start_hour": 0.0, "seed": seed})
        self.days = days
        self.rng = random.Random(seed)
        # The firmware's defaults describe the hall sensor the plant models.
        self.loop = loop = FastLoop(s, config={"current_sensor": "mcp3421_hall"}, dt_s=step_s)
        self.cfg = cfg = loop.cfg
        plant = loop.plant
        self.adc = Mcp3421Model(clock=loop.clock.ticks)
        plant.sensor.adc = self.adc
        self.i2c = I2CBus(self.adc)
        self.sensor = CurrentSensor(cfg, self.i2c)
        self.variants = [Variant(v[0], v[1], cfg, loop.series, v[2] if len(v) > 2 else None)
                         for v in variants]
        self.voltage = VoltageOnly(loop.limits)
        self.e = cells.soc_at_ocv(cfg["discharge_cell_v"])
        self.f = cells.soc_at_ocv(cfg["charge_cell_v"])
        self.reboots = 0
        self.full_days = 0
        self.empty_days = 0
        self.day_log = []
        self._next_reboot = self._draw_reboot(0.0)
        self._outage_until = None
        self._mppt_reset = None
        self._next_sample = 0.0
        self._day = -1
        self._load0 = (s.profile["load_base_w"], s.profile["load_peak_w"])
        self._day_min = 100.0
        self._day_max = 0.0

    def _draw_reboot(self, t_s):
        lo, hi = REBOOT_EVERY_DAYS
        return t_s + self.rng.uniform(lo, hi) * 86400.0

    def _new_day(self, day):
        if self._day >= 0:
            self.day_log.append((self._day, self._day_min, self._day_max))
            self.full_days += self._day_max >= 99.0
            self.empty_days += self._day_min <= 1.0
        self._day = day
        self._day_min = 100.0
        self._day_max = 0.0
        prof = self.loop.plant.profile
        x = self.rng.random()
        for share, peak, clouds in WEATHER:
            if x < share:
                break
            x -= share
        prof.solar_peak_w = peak * self.rng.uniform(0.8, 1.1)
        prof.clouds = clouds
        k = self.rng.uniform(0.6, 1.6)
        prof.load_base_w = self._load0[0] * k
        prof.load_peak_w = self._load0[1] * k

    def _ambient(self, t_s):
        hour = (t_s / 3600.0) % 24.0
        daily = 8.0 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0)
        month = 7.0 * math.sin(2.0 * math.pi * t_s / (30 * 86400.0))
        return 17.0 + daily + month

    def _reboot(self, t_s):
        self.reboots += 1
        for v in self.variants:
            v.boot()
        # A board reset also restarts the sensor driver: the chip is reconfigured.
        self.sensor = CurrentSensor(self.cfg, self.i2c)
        self.loop.plant.set_coils(0, 0, 0)
        self._outage_until = t_s + OUTAGE_S

    def _boot_open(self):
        """The application's first moments after a boot: every contactor open while
        it discovers the pack and precharges (longer without a SoC record: the
        sensor's zero is read first), the sensor sampled every current_sample_ms;
        after app.tasks.OPEN_SETTLE_MS its readings go to the estimators as the
        sensor's zero (bms/soc.py rule 7). Then main closes."""
        plant = self.loop.plant
        plant.set_coils(0, 0, 0)
        step_ms = self.cfg["current_sample_ms"]
        t0 = self.loop.clock.ticks()
        open_s = BOOT_OPEN_S if self.variants[0].loaded else FIRST_BOOT_OPEN_S
        for _ in range(int(open_s * 1000) // step_ms):
            plant.step(step_ms / 1000.0)
            t = self.loop.clock.ticks()
            self.sensor.poll(t)
            if self.sensor.valid() and ticks_diff(t, t0) >= T.OPEN_SETTLE_MS:
                for v in self.variants:
                    v.est.open_sample(self.sensor.ma)
        for v in self.variants:
            v.est.open_end()
        plant.set_coils(1, 0, 1)

    def run(self):
        loop = self.loop
        self._boot_open()
        clock = loop.clock
        plant = loop.plant
        end = self.days * 86400.0
        sensor = self.sensor
        while clock.t_s < end - 1e-9:
            t_s = clock.t_s
            day = int(t_s // 86400)
            if day != self._day:
                self._new_day(day)
            plant.pack.ambient_c = self._ambient(t_s)
            if t_s >= self._next_reboot:
                self._next_reboot = self._draw_reboot(t_s)
                self._reboot(t_s)
                sensor = self.sensor
            if self._outage_until is not None:
                if t_s < self._outage_until:
                    plant.step(loop.dt_s)    # the board is down: nothing decides
                    continue
                self._outage_until = None
                self._boot_open()
                self._mppt_reset = t_s + MPPT_RESET_S
            if self._mppt_reset is not None and t_s >= self._mppt_reset:
                # The GX lost the BMS for the outage and its MPPTs latched error #67:
                # the owner resets them once the BMS is back (the plant requires it).
                self._mppt_reset = None
                plant.victron.reset_mppt()
            loop.step()                      # BMS decisions, then the plant moves
            t = clock.ticks()
            sensor.poll(t)
            ma = sensor.ma
            ok = sensor.valid()
            summary = loop.summary
            for v in self.variants:
                v.step(t, ma, ok, summary)
            if clock.t_s >= self._next_sample:
                self._next_sample += SAMPLE_S
                pct, _cap = truth(plant.pack, self.e, self.f)
                self._day_min = min(self._day_min, pct)
                self._day_max = max(self._day_max, pct)
                late = clock.t_s >= LATE_S
                for v in self.variants:
                    v.score(pct, late)
                self.voltage.score(pct, summary)
        self._new_day(self._day + 1)
        return self

    def capacity(self):
        """(learned usable Ah or None, true usable Ah) of the full estimator."""
        est = self.variants[0].est
        _pct, cap = truth(self.loop.plant.pack, self.e, self.f)
        return (est.learned_as / 3600.0 if est.learned_as else None), cap


def _f(x):
    return "-" if x is None else "%.2f" % x


# Other seeds (other weather, loads, reboots and cell spreads; the same sensor and
# configuration) run the full estimator and the plain counter only: what matters
# there is whether the goal holds, not what each rule is worth (the first seed's
# table shows that).
SEED_VARIANTS = (VARIANTS[0], ("plain coulomb counter", 0))
WORKERS = 2              # seeds run in parallel, at most this many at once


def _figures(seed, days, variants):
    """Run one seed; the figures as plain data (they cross a process boundary)."""
    t0 = time.perf_counter()
    b = SocBench(days=days, seed=seed, variants=variants).run()
    late = days * 86400.0 > LATE_S
    rows = []
    for v in b.variants:
        e = v.est
        rows.append((v.name, v.rules, v.rms(), v.err_max,
                     v.late_rms() if late else None, v.late_max if late else None,
                     e.full_anchors, e.empty_anchors, e.learns, e.offset_ma))
    vo = b.voltage
    learned, true_cap = b.capacity()
    return {"seed": seed, "rows": rows, "voltage": (vo.name, vo.rms(), vo.err_max),
            "learned": learned, "true_cap": true_cap,
            "cap_err": None if learned is None else 100.0 * (learned - true_cap) / true_cap,
            "offset": b.variants[0].est.offset_ma, "reboots": b.reboots,
            "full_days": b.full_days, "empty_days": b.empty_days, "n_days": len(b.day_log),
            "hall_bits": b.cfg["current_hall_bits"], "wall": time.perf_counter() - t0}


def _seeds(args, quick):
    text = getattr(args, "seeds", None)
    if not text:
        return [SEED] if quick else list(SEEDS)
    return [int(x) for x in str(text).split(",") if x.strip()]


def run(args):
    quick = getattr(args, "quick", False)
    days = 2 if quick else DAYS
    seeds = _seeds(args, quick)
    t0 = time.perf_counter()
    jobs = [(seeds[0], days, VARIANTS + CURVE_VARIANTS)]
    jobs += [(seed, days, SEED_VARIANTS) for seed in seeds[1:]]
    if len(jobs) == 1:
        results = [_figures(*jobs[0])]
    else:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=min(WORKERS, len(jobs))) as pool:
            results = list(pool.map(_figures, *zip(*jobs)))
    wall = time.perf_counter() - t0
    first = results[0]
    print("pybms bench soc: %d simulated days, 2S pack (232 Ah modules), step %.0f s, seed %d; "
          "hall sensor offset %.1f A, gain error %.0f %%, noise %.1f A rms, MCP3421 %d bit via "
          "the firmware driver; %d reboots (every %.0f-%.0f days, unannounced); ambient "
          "%.0f..%.0f degC" % (days, STEP_S, first["seed"], SENSOR["offset_a"],
                               100 * SENSOR["gain_error"], SENSOR["noise_a"],
                               first["hall_bits"], first["reboots"], REBOOT_EVERY_DAYS[0],
                               REBOOT_EVERY_DAYS[1], 2.0, 32.0))
    print("days reaching full (truth >= 99 %%): %d, empty (<= 1 %%): %d, of %d"
          % (first["full_days"], first["empty_days"], first["n_days"]))
    print()
    print("| estimator | RMS error % | max error % | RMS after day 7 % | max after day 7 % | "
          "anchors full/empty | capacity learns | offset mA at the end |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _rules, rms, mx, lrms, lmax, fa, ea, learns, off in first["rows"]:
        print("| %s | %.2f | %.2f | %s | %s | %d/%d | %d | %d |"
              % (name, rms, mx, _f(lrms), _f(lmax), fa, ea, learns, off))
    vname, vrms, vmax = first["voltage"]
    print("| %s | %.2f | %.2f | - | - | - | - | - |" % (vname, vrms, vmax))
    print("(anchor and learn counts are the record's: they survive reboots)")
    print()
    print("learned usable capacity %s Ah, truth %.1f Ah (error %s %%); learned offset %d mA "
          "(sensor offset %d mA, gain error included)"
          % (_f(first["learned"]), first["true_cap"], _f(first["cap_err"]), first["offset"],
             int(SENSOR["offset_a"] * 1000)))
    if len(results) > 1:
        print()
        print("full estimator per seed (other weather, loads, reboots and cell spreads):")
        print()
        print("| seed | RMS % | max % | RMS after day 7 % | max after day 7 % | capacity error % "
              "| plain counter RMS % | reboots |")
        print("|---|---|---|---|---|---|---|---|")
    full_rms = full_max = cap_worst = 0.0
    plain_rms = None
    worst = first["seed"]
    cap_missing = False
    for r in results:
        full = r["rows"][0]
        plain = [row for row in r["rows"] if row[1] == 0][0]
        if len(results) > 1:
            print("| %d | %.2f | %.2f | %s | %s | %s | %.2f | %d |"
                  % (r["seed"], full[2], full[3], _f(full[4]), _f(full[5]), _f(r["cap_err"]),
                     plain[2], r["reboots"]))
        if full[3] > full_max:
            full_max = full[3]
            worst = r["seed"]
        full_rms = max(full_rms, full[2])
        plain_rms = plain[2] if plain_rms is None else min(plain_rms, plain[2])
        if r["cap_err"] is None:
            cap_missing = True
        else:
            cap_worst = max(cap_worst, abs(r["cap_err"]))
    print()
    print("seeds %s; wall %.0f s" % (",".join(str(x) for x in seeds), wall))
    # With several seeds every figure is the worst seed's (the plain counter's the
    # best: the comparison least flattering to the estimator).
    print("soc_rms_error_pct=%.2f soc_max_error_pct=%.2f plain_counter_rms_error_pct=%.2f "
          "capacity_error_pct=%s seeds=%d worst_seed=%d"
          % (full_rms, full_max, plain_rms, "nan" if cap_missing else "%.2f" % cap_worst,
             len(seeds), worst))
    return 0
