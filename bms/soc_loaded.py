# Rule 3b of the SoC estimator (docs/soc.md): until the capacity has been learned
# from a full-to-empty cycle (rule 7), the cell voltages under load bound the SoC,
# and two measured points give an early capacity. Called by bms/soc.py on every
# update (a reading every _PERIOD_MS is used); works on the estimator's state and
# allocates nothing per update.
#
# resistance: a window opens with the readings (lowest + highest cell, current,
#   the count); once the current has moved _R_STEP_MA from the window's start (within
#   _R_WINDOW_MS), R = (dV - dOCV) / dI per cell group, dOCV being the OCV table's
#   slope times the charge counted meanwhile: home loads ramp over minutes, they
#   seldom step, so the slow relaxation is partly in R, as it is in a loaded
#   reading. Averaged (1/_R_GAIN), so it follows temperature, with the measurements'
#   mean deviation (r_dev); a measurement beyond _R_OUTLIER_X x the learned value
#   either way is refused. Only steady readings: a current jump of _R_STEADY_MA
#   between updates keeps the next reading out (voltages and current are not read
#   at the same moment).
# band: with R known (R_MIN_N measurements), capacity not yet learned and |I| <=
#   soc_loaded_max_a, the cells' OCV is V - I x R, give or take soc_loaded_tol_v (the
#   table against real cells) plus |I| x R's error: _DEV_X x r_dev once _R_GAIN
#   measurements are in, at most _DROP_TOL_PCT % of R; near empty, where a cell's R
#   rises steeply, _DROP_TOL_LOW_PCT % of R. The OCV table turns that
#   voltage band into a SoC band (pack_usable_u: lowest and highest cell, as rule 3):
#   wide in the flat middle, a few percent near the steep ends. An estimate outside
#   the band moves 1/_PULL of the way to its edge per reading; inside nothing moves,
#   so a count that is right is left alone. What the GX sees follows through the
#   blending rule (never against the current's sign).
# early capacity (switch R_EARLY_CAP): the charge counted between two measured SoC
#   points over the SoC between them, with an uncertainty of (half the first point's
#   band + _ANCHOR_SIG_U for each of the two readings of an imbalanced pack) / span:
#   (a) a start from OCV (no record; band +/- soc_loaded_tol_v) or a rested reading
#   (rule 3) before the first anchor, and the next measured point (anchor or rested
#   reading) at least _START_SPAN_U away, weighed against the capacity counted with
#   so far (the configured one: +/- _NOMINAL_SIG_PM) by the inverse of their
#   variances; each rested reading before the first anchor is then the point the
#   next one counts from (less counting between: the offset's error grows with
#   time); (b) the last measured anchor and the middle of a bound at most
#   _CAP_BAND_U wide, at least _CAP_SPAN_U away: the surest since the anchor is
#   weighed against the capacity known at the anchor (_cap0, _sig0: independent of
#   it), never stacked on an earlier reading of the same span (they follow one
#   another). Used for counting (not SOH; saved: bms/soc_record.py), refused outside
#   soc_learn's 50-125 % of nominal; the first anchor-to-anchor learn (rule 7)
#   replaces it.
# start span (docs/soc.md rule 9, with R_EARLY_CAP): a start from OCV counts with the
#   configured capacity less the SoC spread between the lowest and highest cell
#   (the span an imbalanced pack leaves), until the early capacity measures it.
# These run once per start, anchor or bound reading and may allocate on a 32-bit
#   board (their products outgrow a small int), as soc_learn.capacity does.

from bms import ocv as O
from bms import soc_learn as L
from bms.ticks import ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_PERIOD_MS = const(10000)
_R_STEP_MA = const(6000)        # a current change this large measures R ...
_R_WINDOW_MS = const(900000)    # ... within this time
_R_DQ_MAX_U = const(5000)       # no more than 5 % counted meanwhile
_R_STEADY_MA = const(3000)      # current moved less than this since the last reading
_R_GAIN = const(8)
R_MIN_N = const(4)
_R_MAX_UOHM = const(200000)     # 0.2 ohm per cell group: a wiring fault, not a cell
_R_OUTLIER_X = const(3)
_DROP_TOL_PCT = const(100)      # R's error: up to 100 % of I x R ...
_DEV_X = const(1)               # ... or 1 x the scatter of R's measurements, if less:
                                # about 3 standard errors of their average (_band)
_DROP_TOL_LOW_PCT = const(200)  # ... near empty, where R rises steeply, 200 %
_LOW_X100 = const(2000)         # "near empty": the lowest cell below 20 % of the table
_PULL = const(6)                # 1/6 of the excess per 10 s: most of it in a minute
_CAP_BAND_U = const(4000)       # the band at most 4 % wide ...
_CAP_SPAN_U = const(40000)      # ... and at least 40 % away from the anchor
_START_SPAN_U = const(30000)    # a start from OCV: at least 30 % to the next anchor
_NOMINAL_SIG_PM = const(100)    # the configured capacity: +/- 10 % (second-life packs)
_ANCHOR_SIG_U = const(1000)     # an anchor's own error: the full one is set with the
                                # current tapered, not at rest (~99 % of the truth)


def reset(est):
    est._low_mv = 0             # below this rested voltage the cells' R rises steeply
    for soc, mv in est.curve:
        if soc <= _LOW_X100:
            est._low_mv = mv
    est.cap_sig_pm = _NOMINAL_SIG_PM   # how sure the capacity counted with is
    est._cap0 = 0               # the capacity at the last anchor ...
    est._sig0 = 0               # ... and how sure (0: no anchor since the start)
    est._b_sig = _NOMINAL_SIG_PM  # the surest bound reading (b) since then
    est.start_ok = False        # started from a rested OCV reading, no gap since
    est._start_u = 0
    est._start_band = 0
    est.r_uohm = 0
    est.r_n = 0
    est.r_dev = 0               # mean deviation of R's measurements from their mean
    est._lv_valid = False       # a band reading was taken (at _lv_t)
    est._lv_t = 0
    est._lv_jump = False        # the current jumped between updates since the last reading
    est._r_valid = False        # a resistance window is open (since _r_t)
    est._r_t = 0
    est._r_i = 0
    est._r_sum = 0
    est._r_q = 0
    est._r_gen = 0


def start(est, s, u):
    """A rested reading u of the cells s: the start from OCV (no record), or rule 3's
    before the first anchor. The early capacity (a) counts from the newest one: it is
    as good as the start's and less counting lies between it and the anchor (the
    offset's error grows with the time, the gain's with the charge moved)."""
    tol = est.loaded_tol_mv
    est._start_u = u
    est._start_band = (est.pack_usable_u(s.v_min + tol, s.v_max + tol)
                       - est.pack_usable_u(s.v_min - tol, s.v_max - tol))
    est.start_ok = True
    est.q_since_u = 0           # no anchor yet: the count since this reading
    est._r_valid = False


def start_span(est, s):
    """A start from OCV (no record): the configured capacity is the cells' own; an
    imbalanced pack can use only the span its lowest and highest cell leave, the
    window less the SoC between them (the highest cell is full while the lowest
    still holds that much, the lowest empty while the highest does): the capacity
    to count with until something measures it (docs/soc.md rule 9)."""
    window = est.f_x100 - est.e_x100
    spread = O.soc_x100(est.curve, s.v_max) - O.soc_x100(est.curve, s.v_min)
    if spread > 0:
        cap = est.cap_as * (window - spread) // window
        if L.plausible(est, cap):
            est.set_capacity(cap)


def from_start(est, u):
    """A measured point at u (an anchor, or a rested reading before the first one)
    after a start from OCV: the charge counted since the start point over the SoC
    between them is a measurement of the capacity, weighed against the capacity
    known so far by their uncertainties."""
    if est.start_ok and est.from_ocv:
        span = u - est._start_u
        if span < 0:
            span = -span
        if span >= _START_SPAN_U:
            sig = (est._start_band // 2 + 2 * _ANCHOR_SIG_U) * 1000 // span
            _set_capacity(est, abs(est.q_since_u) * est.cap_as // span, sig, est.cap_as,
                          est.cap_sig_pm)
    est.start_ok = False


def _gen(est):
    # anything that moves q_since_u other than counting ends a resistance window
    return est.full_anchors + est.empty_anchors + est.early_capacity + est.learns


def step(est, t_ms, i, i_prev, s, early_capacity=True):
    """One valid reading: i (mA, offset removed; i_prev at the update before), s
    (valid PackSummary); early_capacity: the band may set the capacity (R_EARLY_CAP)."""
    # The cell voltages come from the module poll, the current from a faster sensor:
    # they line up only while the current is steady. A jump of more than _R_STEADY_MA
    # from one update to the next since the last reading (an inverter hunting at the
    # cut-off, a load stepping) keeps the next reading out of the resistance window.
    d = i - i_prev
    if d > _R_STEADY_MA or d < -_R_STEADY_MA:
        est._lv_jump = True
    if est._lv_valid and ticks_diff(t_ms, est._lv_t) < _PERIOD_MS:
        return
    est._lv_valid = True
    est._lv_t = t_ms
    if est._lv_jump:            # nor into the bound: V and I would not match
        est._lv_jump = False
        return
    _window(est, t_ms, i, s)
    if (est.r_n >= R_MIN_N and not est.learned_as and est.loaded_max_ma
            and -est.loaded_max_ma <= i <= est.loaded_max_ma):
        _band(est, i, s, early_capacity)


def _window(est, t_ms, i, s):
    """Resistance from the current's change since the window opened: V = OCV + I x R,
    with the OCV's own change taken from the charge counted meanwhile and the OCV
    table's slope (a home load ramps over minutes; it seldom steps)."""
    vsum = s.v_min + s.v_max
    if est._r_valid and _gen(est) == est._r_gen:
        di = i - est._r_i
        if di >= _R_STEP_MA or di <= -_R_STEP_MA:
            dq = est.q_since_u - est._r_q
            if -_R_DQ_MAX_U < dq < _R_DQ_MAX_U:
                dphys = dq * (est.f_x100 - est.e_x100) // 100000      # 0.01 % of the cell
                slope = (O.slope_uv_per_pct(est.curve, s.v_min)
                         + O.slope_uv_per_pct(est.curve, s.v_max))
                dv_uv = (vsum - est._r_sum) * 1000 - slope * dphys // 100
                if -1000000 < dv_uv < 1000000:    # x 500 stays a small int
                    _resistance(est, dv_uv * 500 // di)
            est._r_valid = False
        elif ticks_diff(t_ms, est._r_t) < _R_WINDOW_MS:
            return
    est._r_valid = True
    est._r_t = t_ms
    est._r_i = i
    est._r_sum = vsum
    est._r_q = est.q_since_u
    est._r_gen = _gen(est)


def _resistance(est, r):
    """One measurement (uOhm per cell group: half the change of lowest + highest)."""
    if r <= 0 or r > _R_MAX_UOHM:
        return
    if est.r_n >= R_MIN_N and (r > est.r_uohm * _R_OUTLIER_X
                                or r * _R_OUTLIER_X < est.r_uohm):
        return
    if est.r_n == 0:
        est.r_uohm = r
    else:
        d = r - est.r_uohm
        g = est.r_n + 1 if est.r_n < _R_GAIN else _R_GAIN
        est.r_uohm += d // g
        est.r_dev += ((d if d > 0 else -d) - est.r_dev) // g   # their scatter
    est.r_n += 1


def _band(est, i, s, early_capacity):
    drop = i * est.r_uohm // 1000000   # mA x uOhm = nV: a small int while I x R < 1 V
    if s.v_min - drop <= est._low_mv:
        k = _DROP_TOL_LOW_PCT
    else:
        # R's error: the learned R is an average (gain 1/_R_GAIN: ~15 measurements'
        # worth), so its own error is ~1/4 of one measurement's scatter; their mean
        # deviation (what changes with temperature and SoC shows there too) times
        # _DEV_X is about three of those standard errors. Once _R_GAIN are in; at
        # most _DROP_TOL_PCT
        k = _DEV_X * 100 * est.r_dev // est.r_uohm if est.r_n >= _R_GAIN else _DROP_TOL_PCT
        if k > _DROP_TOL_PCT:
            k = _DROP_TOL_PCT
    tol = est.loaded_tol_mv + (drop if drop > 0 else -drop) * k // 100
    lo_mv = s.v_min - drop
    hi_mv = s.v_max - drop
    u_hi = est.pack_usable_u(lo_mv + tol, hi_mv + tol)
    u_lo = est.pack_usable_u(lo_mv - tol, hi_mv - tol)
    u = est.soc_u
    if u > u_hi:
        est.soc_u = u - (u - u_hi + _PULL - 1) // _PULL
    elif u < u_lo:
        est.soc_u = u + (u_lo - u + _PULL - 1) // _PULL
    else:
        return
    est.loaded_corrections += 1
    if early_capacity and u_hi - u_lo <= _CAP_BAND_U:
        _capacity(est, (u_lo + u_hi) // 2, u_lo, u_hi)


def _isqrt(n):
    x = n
    y = (x + 1) // 2
    while y < x:
        x = y
        y = (x + n // x) // 2
    return x


def _capacity(est, u, u_lo, u_hi):
    span = u - est.anchor_u
    if span < 0:
        span = -span
    if not est.learn_ok or span < _CAP_SPAN_U:   # learn_ok: a measured anchor, no gap
        return
    # Both ends are readings of an imbalanced pack's lowest and highest cell: the
    # anchor's error and the bound's middle's own (seed 19: ~1 % low in SoC), plus
    # half the band.
    sig = ((u_hi - u_lo) // 2 + 2 * _ANCHOR_SIG_U) * 1000 // span
    if sig < est._b_sig:        # the surest bound reading since the anchor ...
        est._b_sig = sig
        # ... weighed against the capacity known at the anchor (an independent
        # measurement: the start's, or the configured one), not what an earlier
        # reading of this span set (they follow one another: not independent)
        _set_capacity(est, abs(est.q_since_u) * est.cap_as // span, sig, est._cap0, est._sig0)


def _set_capacity(est, cap, sig, cap0, sig0):
    """A measured capacity with its uncertainty sig (per mille), weighed against
    cap0 known to sig0 by the inverse of their variances (sig0 = 0: taken as it is)."""
    if not L.plausible(est, cap):
        return
    if sig0:
        old = sig0 * sig0
        new = sig * sig
        cap = (cap * old + cap0 * new) // (old + new)
        sig = sig0 * sig // _isqrt(old + new)
    est.cap_sig_pm = sig
    # the count since the anchor is in units of the capacity: rescale it
    est.q_since_u = est.q_since_u * est.cap_as // cap
    est.set_capacity(cap)
    est.early_capacity += 1
