# Precharge: close main negative and the precharge path so the inverter's
# capacitors charge through the resistor. Leaving is decided by the table
# (bus up, timeout, retry); main positive is closed by the close_main action.

from drivers.contactors import NEGATIVE, PRECHARGE


def enter(ctx, t_ms):
    c = ctx.contactors
    c.open_all()  # start from a known state whatever the outputs were
    ctx.attempts += 1
    ctx.entered_ms = t_ms
    ctx.precharge_release_due = False
    if not (c.close(NEGATIVE) and c.close(PRECHARGE)):
        raise RuntimeError("interlock refused a precharge contactor")
