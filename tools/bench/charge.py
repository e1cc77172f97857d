# `pybms bench charge`: charge control and balancing on the plant, the new pieces
# (bms.charge, bms.derate via bms.limits, bms.balancer) against the policy before
# issue 16 (CCL = 0 at charge_cell_v with hysteresis, CVL fixed; the TeslaBMS /
# SimpBMS threshold balancing rule) in the same run (simulator/charge_loop.FastLoop).
#
# (a) imbalanced-pack: one cell group ~100 mV above the rest at rest near the top;
#     simulated time until the spread is <= 10 mV, charge bled (Ah), and whether
#     any bled cell ended below the lowest cell (overshooting the target).
# (b) a week of daily solar cycles (the week scenario) with MPPTs that ignore CCL
#     (ESS feed-in: they obey CVL only): highest cell above charge_cell_v, CCL
#     zero/non-zero toggles per day, hours in float per day.
# Not a timed test: a full run takes a few minutes (--quick: about half a minute).

import time

from simulator import scenario
from simulator.charge_loop import FastLoop

TARGET_SPREAD_MV = 10
LEGACY_STALL_MV = 40     # where the threshold rule stops: both rules' speed up to here
BALANCE_DT_S = 5.0       # rest balancing: the bleed window is 60 s, the settle 3 s
WEEK_DT_S = 2.0


def _spread_cells(loop):
    s = loop.summary
    return s.spread if s.valid else None


def balance_race(policy, horizon_days):
    """(time to spread <= 10 mV in h or None, bled Ah, final spread mV, worst margin
    of a bled cell above the lowest cell in mV, wall s)."""
    s = scenario.load("imbalanced-pack")
    loop = FastLoop(s, policy=policy, dt_s=BALANCE_DT_S)
    bled_cells = set()
    state = {"reached": None, "idle_s": 0.0, "at_40": None}

    def stop(lp):
        sp = _spread_cells(lp)
        for k, m in enumerate(lp.plant.pack.modules):
            for c in range(6):
                if m.bleed_mask & (1 << c):
                    bled_cells.add(k * 6 + c)
        if sp is not None and sp <= LEGACY_STALL_MV and state["at_40"] is None:
            state["at_40"] = lp.clock.t_s
        if sp is not None and sp <= TARGET_SPREAD_MV:
            state["reached"] = lp.clock.t_s
            return True
        bleeding = any(m.bleed_mask for m in lp.plant.pack.modules)
        state["idle_s"] = 0.0 if bleeding else state["idle_s"] + lp.dt_s
        return state["idle_s"] > 86400  # a rule that stopped bleeding for a day has stalled

    t0 = time.perf_counter()
    loop.run(horizon_days * 86400.0, stop)
    wall = time.perf_counter() - t0
    lo = loop.summary.v_min
    margin = min((loop.pack.cell_mv(i) - lo for i in bled_cells), default=0)
    reached = state["reached"]
    at_40 = state["at_40"]
    return (None if reached is None else reached / 3600.0, loop.stats.bled_ah,
            loop.summary.spread, margin, loop.clock.t_s / 3600.0, wall,
            None if at_40 is None else at_40 / 3600.0)


def week(policy, days):
    s = scenario.load("week")
    s.victron["mppt_ignores_ccl"] = True
    loop = FastLoop(s, policy=policy, dt_s=WEEK_DT_S)
    t0 = time.perf_counter()
    st = loop.run(days * 86400.0)
    wall = time.perf_counter() - t0
    charge_mv = round(loop.cfg["charge_cell_v"] * 1000)
    overshoot = max(0, st.max_cell_mv - charge_mv)
    full_days = sum(1 for d in st.days.values() if d["full"])
    return overshoot, st.ccl_toggles / days, st.float_s / 3600.0 / days, full_days, wall


def _h(x):
    return "never" if x is None else "%.1f" % x


def run(args):
    quick = getattr(args, "quick", False)
    horizon = 3 if quick else 40
    days = 1 if quick else 7
    print("(a) imbalanced-pack at rest near the top, ~100 mV spread, 2S (12 groups), "
          "bleed resistor 75 ohm; horizon %d days, BMS step %.0f s" % (horizon, BALANCE_DT_S))
    print("| balancing rule | time to spread <= %d mV (h) | time to <= %d mV (h) | bled Ah | "
          "final spread mV | lowest bled cell - lowest cell mV | simulated h | wall s |"
          % (TARGET_SPREAD_MV, LEGACY_STALL_MV))
    print("|---|---|---|---|---|---|---|---|")
    res = {}
    for policy, label in (("new", "new: lowest + dead band, settle windows, proportional"),
                          ("legacy", "threshold: > 3.9 V and > 40 mV above lowest")):
        r = balance_race(policy, horizon)
        res[policy] = r
        print("| %s | %s | %s | %.2f | %d | %d | %.0f | %.1f |" % (
            label, _h(r[0]), _h(r[6]), r[1], r[2], r[3], r[4], r[5]))
    new_t, old_t = res["new"][0], res["legacy"][0]
    if new_t is None:
        speedup = float("nan")   # horizon too short (--quick)
    elif old_t is None:
        speedup = float("inf")
    else:
        speedup = old_t / new_t
    print("(the threshold rule stops bleeding at 40 mV: it never reaches %d mV; "
          "balance_speedup=inf then)" % TARGET_SPREAD_MV)
    print()
    print("(b) week scenario, %d day(s) of solar through MPPTs that ignore CCL (obey CVL), "
          "BMS step %.0f s" % (days, WEEK_DT_S))
    print("| policy | max cell above charge_cell_v mV | CCL toggles/day | float h/day | "
          "days full | wall s |")
    print("|---|---|---|---|---|---|")
    wk = {}
    for policy, label in (("new", "new: phases + cell-level CVL + trapezoids"),
                          ("legacy", "before: CCL 0 at charge_cell_v, fixed CVL")):
        r = week(policy, days)
        wk[policy] = r
        print("| %s | %d | %.2f | %.2f | %d | %.1f |" % (label, r[0], r[1], r[2], r[3], r[4]))
    n = wk["new"]
    print("balance_speedup=%s max_overshoot_mv=%d ccl_toggles_per_day=%.2f "
          "float_hours_per_day=%.2f" % ("%.2f" % speedup if speedup == speedup and
                                        speedup != float("inf") else str(speedup),
                                        n[0], n[1], n[2]))
    return 0
