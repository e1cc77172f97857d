# Evaluates a scenario's expected outcome (its "expect" checks, see
# simulator/scenario.py) against truth rows. Each check gives (ok, message); the
# message says what was seen, so a failing test reads like a finding. Host only.


def _holds(row, cond):
    column, op, value = cond
    x = row.get(column)
    if op == "contains":
        return x is not None and value in str(x).split(";")
    if op == "lacks":
        return x is None or value not in str(x).split(";")
    if x is None or x == "":
        return False
    if isinstance(value, str):
        x = str(x)
    if op == "<":
        return x < value
    if op == "<=":
        return x <= value
    if op == ">":
        return x > value
    if op == ">=":
        return x >= value
    if op == "==":
        return x == value
    return x != value


def _show(cond):
    return "%s %s %r" % tuple(cond)


def _window(rows, check):
    lo = check.get("from_s", float("-inf"))
    hi = check.get("to_s", float("inf"))
    return [r for r in rows if lo <= r["t_s"] <= hi]


def evaluate_one(check, rows):
    if not rows:
        return False, "no truth rows"
    if "always" in check:
        cond = check["always"]
        for r in _window(rows, check):
            if not _holds(r, cond):
                return False, "always %s: broken at t=%.2f s (%s = %r)" % (
                    _show(cond), r["t_s"], cond[0], r.get(cond[0]))
        return True, "always %s" % _show(cond)
    if "sometime" in check:
        cond = check["sometime"]
        for r in _window(rows, check):
            if _holds(r, cond):
                return True, "%s at t=%.2f s" % (_show(cond), r["t_s"])
        return False, "never %s (last %s = %r)" % (_show(cond), cond[0], rows[-1].get(cond[0]))
    if "at_end" in check:
        cond = check["at_end"]
        r = rows[-1]
        return _holds(r, cond), "at end (t=%.2f s) %s = %r, wanted %s" % (
            r["t_s"], cond[0], r.get(cond[0]), _show(cond))
    if "when" in check:
        cond, then, within = check["when"], check["then"], check["within_s"]
        t0 = None
        for r in rows:
            if t0 is None and _holds(r, cond):
                t0 = r["t_s"]
            if t0 is not None and _holds(r, then):
                dt = r["t_s"] - t0
                return dt <= within, "%s at t=%.2f s, then %s after %.2f s (allowed %.2f s)" % (
                    _show(cond), t0, _show(then), dt, within)
        if t0 is None:
            return False, "%s never happened: nothing to respond to" % _show(cond)
        return False, "%s at t=%.2f s, but never %s" % (_show(cond), t0, _show(then))
    cond, until = check["never_before"], check["until"]
    for r in rows:
        if _holds(r, until):
            return True, "%s did not happen before %s (t=%.2f s)" % (_show(cond), _show(until), r["t_s"])
        if _holds(r, cond):
            return False, "%s at t=%.2f s, before %s" % (_show(cond), r["t_s"], _show(until))
    return False, "%s never happened" % _show(until)


def evaluate(checks, rows):
    return [(c, ) + evaluate_one(c, rows) for c in checks]
