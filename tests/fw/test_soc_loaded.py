# bms.soc_loaded (docs/soc.md rule 3b): the resistance learned from a current ramp,
# the loaded-voltage bound (pulls an estimate outside it to its edge, leaves one
# inside alone, waits for R, stops once the capacity is learned, never shows a rise
# while discharging), the start's capacity from the span an imbalanced pack leaves,
# the early capacity from a start from OCV to the full anchor,
# the switches, and no allocation per update with the bound active.

from bms import config
from bms import ocv as O
from bms import soc as S
from tests.fw.alloc import allocated_by
from tests.fw.support import MICROPYTHON, skip

SERIES = 12
R_UOHM = 1000            # the simulated cell group's resistance: 1 mOhm


class Summary:
    def __init__(self, mv):
        self.valid = True
        self.set(mv)

    def set(self, v_min, v_max=None):
        self.v_min = v_min
        self.v_max = v_min if v_max is None else v_max
        self.v_pack = self.v_min * SERIES


def ocv_mv(phys_x100):
    """The OCV table read backwards: the rested voltage at a physical SoC."""
    t = O.NCA
    for k in range(1, len(t)):
        if phys_x100 <= t[k][0]:
            s0, v0 = t[k - 1]
            s1, v1 = t[k]
            return v0 + (phys_x100 - s0) * (v1 - v0) // (s1 - s0)
    return t[-1][1]


class Cell:
    """A pack whose every cell is the OCV table plus I x R, at a true SoC counted
    here (usable units of the estimator's scale, true capacity cap_as)."""

    def __init__(self, est, u, cap_as):
        self.est = est
        self.u = u
        self.cap_as = cap_as
        self.t = 1000
        self.rem = 0                              # mA*ms below one unit, carried
        self.s = Summary(self.mv(0))
        est.update(self.t, 0, True, self.s)       # starts from OCV

    def mv(self, ma):
        e, f = self.est.e_x100, self.est.f_x100
        return ocv_mv(e + self.u * (f - e) // S.U_FULL) + ma * R_UOHM // 1000000

    def go(self, ms, ma, step=1000, check=None):
        for _ in range(ms // step):
            self.t += step
            self.rem += ma * step
            k = self.rem // (self.cap_as * 10)
            self.rem -= k * self.cap_as * 10
            self.u += k
            self.s.set(self.mv(ma))
            before = self.est.shown
            self.est.update(self.t, ma, True, self.s)
            if check is not None:
                check(before, self.est.shown)


def make(rules=S.R_ALL, u=50000, cap_pct=100, overrides=None):
    cfg = config.make(overrides)
    est = S.SocEstimator(cfg, SERIES, rules=rules)
    return est, Cell(est, u, est.cap_as * cap_pct // 100)


def ramps(cell, n=3):
    """A home load: ramps over minutes, no steps."""
    for _ in range(n):
        for k in range(10):
            cell.go(60000, -2000 - 2000 * k, step=5000)
        for k in range(10):
            cell.go(60000, -20000 + 2000 * k, step=5000)


def test_resistance_is_learned_from_slow_current_ramps():
    est, cell = make(u=60000)
    ramps(cell)
    assert est.r_n >= 4, est.r_n
    assert R_UOHM * 85 // 100 <= est.r_uohm <= R_UOHM * 115 // 100, est.r_uohm
    est2, cell2 = make(u=60000, rules=S.R_ALL & ~S.R_LOADED)
    ramps(cell2)
    assert est2.r_n == 0


def test_bound_pulls_an_estimate_outside_it_to_its_edge_and_leaves_one_inside_alone():
    est, cell = make(u=12000)              # the steep end: 12 % usable
    est.r_uohm, est.r_n = R_UOHM, 4
    est.soc_u = est.shown = 20000           # the count says 20 %: 8 points too high
    cell.go(600000, -5000, step=5000)       # ten minutes at 5 A
    err = est.soc_u - cell.u
    assert 0 < err < 1500, err              # at the band's edge, not at its middle
    assert est.loaded_corrections > 0
    # a count inside the band is left alone: the same run without the rule agrees
    est1, cell1 = make(u=30000)
    est2, cell2 = make(u=30000, rules=S.R_ALL & ~S.R_LOADED)
    for e in (est1, est2):
        e.r_uohm, e.r_n = R_UOHM, 4
        e.soc_u = e.shown = 30500
    cell1.go(600000, -5000, step=5000)
    cell2.go(600000, -5000, step=5000)
    assert est1.soc_u == est2.soc_u and est1.loaded_corrections == 0


def test_readings_right_after_a_current_jump_neither_measure_r_nor_bound():
    # The cell voltages come from the module poll, the current from a faster sensor:
    # with an inverter hunting (the current jumping from one update to the next) they
    # do not belong together. The same pack and estimate with a steady current is
    # bounded (previous test); hunting, nothing is measured and nothing pulled.
    est, cell = make(u=12000)
    est.r_uohm, est.r_n = R_UOHM, 4
    est.soc_u = est.shown = 20000
    for k in range(120):                    # ten minutes, 5 s updates, +/- 6 A jumps
        cell.go(5000, 1000 if k % 2 else -5000, step=5000)
    assert est.loaded_corrections == 0 and est.r_n == 4 and est.r_uohm == R_UOHM


def test_bound_never_raises_what_the_gx_sees_while_discharging():
    est, cell = make(u=15000)
    est.r_uohm, est.r_n = R_UOHM, 4
    est.soc_u = est.shown = 8000            # the count says 8 %, the cells 15 %

    def no_rise(before, after):
        assert after <= before, (before, after)
    cell.go(600000, -5000, step=5000, check=no_rise)
    assert est.soc_u > 12000 and est.shown < 8000


def test_bound_waits_for_resistance_and_ends_once_the_capacity_is_learned():
    est, cell = make(u=12000)
    est.soc_u = est.shown = 20000
    cell.go(120000, -5000, step=5000)       # no R yet: nothing to compensate with
    assert est.loaded_corrections == 0
    est.r_uohm, est.r_n = R_UOHM, 4
    est.learned_as = est.cap_as             # rule 7 has measured the capacity
    cell.go(120000, -5000, step=5000)
    assert est.loaded_corrections == 0


def full_charge(est, cell):
    """Charge at 50 A until the true SoC is full, then hold the full anchor."""
    while cell.u < S.U_FULL:
        cell.go(10000, 50000, step=1000)
    cell.s.set(est.charge_mv)
    cell.t += 1000
    for _ in range(70):
        cell.t += 1000
        est.update(cell.t, 1000, True, cell.s)
    assert est.anchor == S.A_FULL


def test_early_capacity_from_a_start_from_ocv_to_the_full_anchor():
    # 50 % of the cell at rest: the start's band (+/- 5 mV) is ~1.4 % of SoC; the
    # pack really holds 90 % of the nominal capacity
    est, cell = make(u=50000, cap_pct=90)
    nominal = est.cap_as
    full_charge(est, cell)
    assert est.early_capacity == 1
    # measured ~89.5 % (the count includes the 99.5 % charge efficiency), +/- 5.4 %
    # (half the start's band and 1 % for each of the two readings of an imbalanced
    # pack over the 50 % span), weighed against the nominal's +/- 10 %: ~92 %, and
    # surer than the nominal
    assert nominal * 89 // 100 <= est.cap_as <= nominal * 93 // 100, est.cap_as * 100 // nominal
    assert 0 < est.cap_sig_pm < 50, est.cap_sig_pm
    assert est.learned_as == 0 and est.soh_pct() is None    # not reported as SOH
    off, cell2 = make(u=50000, cap_pct=90, rules=S.R_ALL & ~S.R_EARLY_CAP)
    full_charge(off, cell2)
    assert off.cap_as == nominal and off.early_capacity == 0


def test_a_start_from_ocv_counts_with_the_span_an_imbalanced_pack_leaves():
    # docs/soc.md rule 9: the lowest cell rests at 40 % of the table, the highest at
    # 46 %; the highest is full while the lowest still holds 6 %, and the lowest is
    # empty while the highest does: the pack's usable span is the window less 6 %,
    # and counting with the configured capacity (the cells' own) would run fast
    # (`pybms bench soc` seed 22: 2.4 % ahead before the first anchor).
    lo, hi = 4000, 4600
    est = S.SocEstimator(config.make(), SERIES)
    nominal = est.cap_as
    window = est.f_x100 - est.e_x100
    s = Summary(ocv_mv(lo))
    s.set(ocv_mv(lo), ocv_mv(hi))
    est.update(1000, 0, True, s)
    assert est.origin == S.ORIGIN_OCV
    assert est.cap_as == nominal * (window - (hi - lo)) // window, (est.cap_as, nominal)
    # take out what the lowest cell holds above the cut-off (the cells' capacity
    # is nominal / window): the pack is empty, and so is the count
    q_as = (lo - est.e_x100) * (nominal * 10000 // window) // 10000
    off = S.SocEstimator(config.make(), SERIES, rules=S.R_ALL & ~S.R_EARLY_CAP)
    off.update(1000, 0, True, s)
    assert off.cap_as == nominal and off.soc_u == est.soc_u
    # as sure as the configured capacity (not a measurement), not reported as SOH
    assert est.cap_sig_pm == off.cap_sig_pm and est.learned_as == 0
    run = [1000]

    def discharge(n):                           # 50 A for 10 s each
        for _ in range(n):
            run[0] += 10000
            est.update(run[0], -50000, True, s)
            off.update(run[0], -50000, True, s)
    n = q_as // 500
    discharge(10)
    if MICROPYTHON:                             # counting with it allocates nothing
        used = allocated_by(lambda: discharge(n - 20))
        assert used == 0, "update allocated %d bytes" % used
    else:
        discharge(n - 20)
    discharge(10)
    assert -100 < est.soc_u < 100, est.soc_u       # within 0.1 %
    assert off.soc_u > 2000, off.soc_u             # the configured capacity: > 2 % left
    # a balanced pack leaves the whole window
    even = S.SocEstimator(config.make(), SERIES)
    even.update(1000, 0, True, Summary(ocv_mv(lo)))
    assert even.cap_as == nominal


def test_early_capacity_counts_from_the_newest_rested_reading():
    # The start at 50 %, a discharge to ~16 %, a rest there (rule 3 reads the cells):
    # before the first anchor that reading measures the early capacity (34 % from the
    # start), and the next measurement counts from it: 84 % to full instead of 50 %,
    # with less counting between (in `pybms bench soc` seed 24 the count from the
    # start crossed 60 % down and 94 % up in 36 h; the sensor offset's error in it made
    # the early capacity 7 % high, and the charge before the anchor, counted with the
    # configured capacity 4 % above the pack's, ran 2.6 % behind).
    est, cell = make(u=50000, cap_pct=90)
    nominal = est.nominal_as
    cell.go(5760000, -40000, step=5000)            # 64 Ah: to ~16 %
    cell.go(est.rest_ms + 60000, 0, step=5000)     # rested: rule 3 reads the cells
    assert est.ocv_corrections == 1 and est.early_capacity == 1
    assert nominal * 89 // 100 <= est.cap_as <= nominal * 94 // 100, est.cap_as * 100 // nominal
    assert est.q_since_u == 0 and est.start_ok
    assert -300 < est._start_u - cell.u < 300, (est._start_u, cell.u)
    full_charge(est, cell)
    assert est.early_capacity == 2
    assert nominal * 89 // 100 <= est.cap_as <= nominal * 91 // 100, est.cap_as * 100 // nominal
    assert est.cap_sig_pm < 30, est.cap_sig_pm
    start, cell = make(u=50000, cap_pct=90)        # straight from the start to full
    full_charge(start, cell)
    assert start.cap_sig_pm > 40, start.cap_sig_pm
    off, cell = make(u=50000, cap_pct=90, rules=S.R_ALL & ~S.R_EARLY_CAP)
    cell.go(5760000, -40000, step=5000)
    cell.go(est.rest_ms + 60000, 0, step=5000)
    assert off.early_capacity == 0 and off.cap_as == nominal


def test_early_capacity_refuses_a_short_span_and_weighs_an_unsure_start_less():
    est, cell = make(u=80000, cap_pct=90)   # 20 % to full: under the 30 % span
    nominal = est.cap_as
    full_charge(est, cell)
    assert est.cap_as == nominal and est.early_capacity == 0
    sure, cell = make(u=50000, cap_pct=90)
    full_charge(sure, cell)
    # a tolerance of 30 mV: the start's band is ~8 % wide, the measurement counts less
    unsure, cell = make(u=50000, cap_pct=90, overrides={"soc_loaded_tol_v": 0.03})
    full_charge(unsure, cell)
    assert unsure.early_capacity == 1
    assert sure.cap_as < unsure.cap_as < nominal, (sure.cap_as, unsure.cap_as, nominal)
    assert sure.cap_sig_pm < unsure.cap_sig_pm < 100


def test_early_capacity_from_a_narrow_bound_after_a_measured_anchor():
    est, cell = make(u=80000, cap_pct=90)   # too close to full for a start measurement
    nominal = est.cap_as
    full_charge(est, cell)
    assert est.early_capacity == 0 and est.learn_ok
    est.r_uohm, est.r_n = R_UOHM, 4
    while cell.u > 12000:                    # a gentle discharge towards empty
        cell.go(600000, -5000, step=10000)
    assert est.early_capacity >= 1
    assert nominal * 87 // 100 <= est.cap_as <= nominal * 94 // 100, est.cap_as * 100 // nominal
    assert -1500 < est.soc_u - cell.u < 1500, (est.soc_u, cell.u)


def test_a_bound_reading_carries_a_readings_error_at_both_ends():
    # The anchor and the bound's middle are both readings of an imbalanced pack's
    # lowest and highest cell (~1 % each): a 1 %-wide bound 80 % from the anchor is
    # +/-3.1 %.
    from bms import soc_loaded as LV
    est, _cell = make(u=50000)
    est.learn_ok, est.anchor_u, est.q_since_u = True, S.U_FULL, -76000
    LV._capacity(est, 20000, 19500, 20500)
    assert est.early_capacity == 1 and est._b_sig == (500 + 2000) * 1000 // 80000


def test_bound_readings_are_weighed_against_the_capacity_known_at_the_anchor():
    # seed 26 of `pybms bench soc`: the start gave 203.7 Ah (+3.5 %, +/-4.3 %), a bound
    # reading then 191.3 Ah (-2.8 %, +/-4.2 %) and replaced it; the next charge ran
    # 3.8 % ahead. Two independent measurements: weighed, ~197.5 Ah.
    from bms import soc_loaded as LV
    est, _cell = make(u=50000)
    nominal = est.cap_as
    est.cap_as, est.cap_sig_pm = nominal * 110 // 100, 40   # what the start gave
    est.learn_ok, est.anchor_u = True, S.U_FULL
    est._cap0 = est.cap_as                                   # the full anchor
    est._sig0 = est._b_sig = est.cap_sig_pm
    est.q_since_u = -80000 * 90 // 110                       # 80 % of 0.9 x nominal
    LV._capacity(est, 20000, 19500, 20500)                   # +/- 3.1 %: 90 % of nominal
    assert nominal * 96 // 100 <= est.cap_as <= nominal * 100 // 100, est.cap_as * 100 // nominal
    assert est.cap_sig_pm < 31 and est.early_capacity == 1
    weighed = est.cap_as
    # a later reading of the same span, less sure: not taken; one as sure again (the
    # readings follow one another): weighed against the anchor's, not stacked
    LV._capacity(est, 20000, 19000, 21000)
    assert est.cap_as == weighed and est.early_capacity == 1
    LV._capacity(est, 20000, 19501, 20500)
    assert est.early_capacity == 1
    est._b_sig += 1
    LV._capacity(est, 20000, 19500, 20500)
    assert est.early_capacity == 2 and -2 <= est.cap_as - weighed <= 2, (est.cap_as, weighed)


def test_update_with_the_bound_active_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    est, cell = make(u=12000)
    est.r_uohm, est.r_n = R_UOHM, 4
    est.soc_u = est.shown = 40000
    cell.go(60000, -5000, step=5000)
    for ma in (-5000, -8000, 3000):
        used = allocated_by(lambda: cell.go(120000, ma, step=1000))
        assert used == 0, "update allocated %d bytes at %d mA" % (used, ma)
    assert est.loaded_corrections > 0
