# Run: both mains closed, precharge open; charge and discharge within the limits.

from drivers.contactors import NEGATIVE, POSITIVE, PRECHARGE


def enter(ctx, t_ms):
    ctx.entered_ms = t_ms
    _check_contactors(ctx)


def tick(ctx, t_ms):
    _check_contactors(ctx)


def _check_contactors(ctx):
    # Run is only reachable through close_main; anything else means the outputs
    # were changed behind the machine's back, which the machine treats as a fault.
    c = ctx.contactors
    if not (c.is_closed(NEGATIVE) and c.is_closed(POSITIVE)) or c.is_closed(PRECHARGE):
        raise RuntimeError("contactors not in the Run pattern")
