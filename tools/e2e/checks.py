# What a recorded run (tools/e2e/runner.py) says: when a fault became visible,
# how fast the contactors opened and the 0x35A alarm followed, the largest CAN
# gap, and every safety invariant as readable findings. Host only.

from bms import diagnosis as D
from protocols.victron import FLAG_ACTIVE
from tools import victron_codec as codec
from tools.e2e.table import (CELL_LIMIT_MARGIN_V, F_DETECT, F_VISIBLE, GX_GAP_MS, SERVICE,
                             alarm_place, diag_ids)

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
