# Run: both mains closed, precharge open; charge and discharge within the limits.
# Precharge stays closed beside main positive for precharge_overlap_ms after
# close_main (the contactor's own make time), then the first tick opens it.

from bms.ticks import ticks_diff
from drivers.contactors import NEGATIVE, POSITIVE, PRECHARGE


def enter(ctx, t_ms):
    ctx.entered_ms = t_ms
    _check_contactors(ctx, t_ms)


def tick(ctx, t_ms):
    if ctx.precharge_release_due and \
            ticks_diff(t_ms, ctx.main_closed_ms) >= ctx.cfg["precharge_overlap_ms"]:
        ctx.contactors.open(PRECHARGE)
        ctx.precharge_release_due = False
    _check_contactors(ctx, t_ms)


def _check_contactors(ctx, t_ms):
    # Run is only reachable through close_main; anything else (precharge closed
    # other than during its overlap) means the outputs were changed behind the
    # machine's back, which the machine treats as a fault.
    c = ctx.contactors
    if not (c.is_closed(NEGATIVE) and c.is_closed(POSITIVE)) or \
            (c.is_closed(PRECHARGE) and not ctx.precharge_release_due):
        raise RuntimeError("contactors not in the Run pattern")
