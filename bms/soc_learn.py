# What the SoC estimator (bms/soc.py) learns about the pack and its sensor, one rule
# per function, each called on the estimator's state (docs/soc.md, rules 6, 6b, 7):
#
# offset_sample: the sensor's offset from steady windows of readings (10 minutes or
#   _OFFSET_WINDOW_MAX readings, whichever ends first: 3.4 minutes at the default
#   50 ms sampling; the sums then stay small ints on a board) where
#   the pack is known idle (bms/soc.py decides where: resting after the empty or the
#   full anchor, near it);
#   a window is taken only when its two halves and the first half and the end of the
#   window before (the same rest) agree within _OFFSET_STEADY_MA: an offset is the
#   same for minutes on end, while a charge the sun or a charger starts at the cut-off
#   may rise and fall within one window and leave its halves alike (`pybms bench
#   soc` seed 22). The first window of a rest is only that reference. Blended in by
#   1/_OFFSET_GAIN, bounded by soc_offset_max_a.
# drift: two measured anchors of the same kind (full and full again, or empty and
#   empty) with no gap or reboot between: the pack's true change is the difference of
#   their values, so what the counter moved beyond that, over the time between them,
#   is a constant error of the current; half of it goes into the offset.
# capacity: one anchor-to-anchor measurement of the usable capacity, refused outside
#   LEARN_MIN_PCT..LEARN_MAX_PCT of nominal, averaged with the value learned before.
# zero_sample: readings taken while every contactor is open, where the true current is
#   zero: their running mean is the sensor's offset, taken every _ZERO_MIN_N readings.
#   Without an offset known before (the first boot) the mean replaces it: a boot's
#   second of open contactors reads it to noise / sqrt(n). With one known (restored,
#   or learned), the window's mean counts as n readings against _ZERO_PRIOR_N for what
#   was known: a short boot window (n = 10, ~0.16 A of noise on a 0.5 A rms sensor)
#   then nudges the offset instead of replacing a better one with its noise, while a
#   long open spell (Fault, disconnected: up to _ZERO_MAX_N) nearly replaces it. A
#   reading beyond _ZERO_REFUSE_X x soc_offset_max_a is not an offset (a welded
#   contactor without feedback, a sensor fault) and is refused; the result is bounded
#   like rule 5's.
# offset_sample and zero_sample run per reading and allocate nothing; drift and capacity run once per
# anchor and may allocate on a 32-bit board (their products outgrow a small int).

from bms.ticks import ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_OFFSET_WINDOW_MS = const(600000)
_OFFSET_WINDOW_MAX = const(4096)
_OFFSET_GAIN = const(4)
_OFFSET_STEADY_MA = const(100)   # a window whose two halves differ more is a real,
                                 # changing current (a load, a cloud), not an offset
_DRIFT_GAIN = const(2)
_ZERO_MIN_N = const(10)          # readings before the first offset of a window
_ZERO_MAX_N = const(1200)        # then the window restarts (sums stay small ints)
_ZERO_REFUSE_X = const(4)
_ZERO_PRIOR_N = const(200)       # what a known offset is worth, in open readings
LEARN_MIN_PCT = 50      # a measured capacity outside this share of nominal is refused
LEARN_MAX_PCT = 125


def _offset(est, off):
    """A new offset, bounded by soc_offset_max_a."""
    m = est.offset_max_ma
    est.offset_ma = -m if off < -m else m if off > m else off


def offset_sample(est, t_ms, raw_ma):
    """One raw reading (mA, before the learned offset) of an idle pack."""
    n = est._off_n
    if n <= 0:          # a window opens; -1: the rest began anew, no window before
        if n:
            est._off_last = None
        est._off_start = t_ms
        est._off_sum = 0
        est._off_half_n = 0
        n = 0
    est._off_sum += raw_ma
    n += 1
    est._off_n = n
    age = ticks_diff(t_ms, est._off_start)
    if est._off_half_n == 0 and (n >= _OFFSET_WINDOW_MAX // 2 or age >= _OFFSET_WINDOW_MS // 2):
        est._off_half_n = n
        est._off_half_sum = est._off_sum
    if n >= _OFFSET_WINDOW_MAX or age >= _OFFSET_WINDOW_MS:
        n1 = est._off_half_n
        n2 = n - n1
        if n2:
            first = est._off_half_sum // n1
            second = (est._off_sum - est._off_half_sum) // n2
            last = est._off_last
            est._off_last = second
            # an idle current is the same in both halves and in the window before
            if last is not None:
                if (abs(first - second) <= _OFFSET_STEADY_MA
                        and abs(first - last) <= _OFFSET_STEADY_MA):
                    off = est.offset_ma + (est._off_sum // n - est.offset_ma) // _OFFSET_GAIN
                    _offset(est, off)
                else:
                    est.offset_unsteady += 1
        est._off_n = 0


def zero_sample(est, raw_ma):
    """One reading (mA, before the learned offset) with every contactor open."""
    lim = est.offset_max_ma * _ZERO_REFUSE_X
    if raw_ma > lim or raw_ma < -lim:
        est.zero_refused += 1
        return
    if est._zero_n == 0:
        est._zero_base = est.offset_ma      # what was known when the window opened
    est._zero_sum += raw_ma
    est._zero_n += 1
    n = est._zero_n
    if n % _ZERO_MIN_N == 0:
        mean = est._zero_sum // n
        base = est._zero_base
        off = mean if base == 0 else base + (mean - base) * n // (n + _ZERO_PRIOR_N)
        _offset(est, off)
        if n == _ZERO_MIN_N:
            est.zero_learns += 1
    if n >= _ZERO_MAX_N:
        est._zero_n = 0
        est._zero_sum = 0


def drift(est, u):
    """A measured anchor at u following one of the same kind (see the header)."""
    excess_u = est.q_since_u - (u - est.anchor_u)
    excess_ma = excess_u * est.unit_mams // (est._since_s * 1000)
    off = est.offset_ma + excess_ma // _DRIFT_GAIN
    _offset(est, off)
    est.drift_learns += 1


def plausible(est, cap_as):
    """A capacity (As) within LEARN_MIN_PCT..LEARN_MAX_PCT of the nominal usable one."""
    return est.nominal_as * LEARN_MIN_PCT // 100 <= cap_as <= est.nominal_as * LEARN_MAX_PCT // 100


def capacity(est, measured_as):
    """One anchor-to-anchor measurement of the usable capacity; True if taken."""
    if not plausible(est, measured_as):
        return False
    if est.learned_as:
        measured_as = (est.learned_as + measured_as) // 2
    est.learned_as = measured_as
    est.set_capacity(measured_as)
    est.learns += 1
    return True
