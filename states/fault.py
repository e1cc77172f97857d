# Fault: latched. Everything open; only a reset whose guard holds leaves it.


def enter(ctx, t_ms):
    ctx.contactors.open_all()
    ctx.entered_ms = t_ms


def tick(ctx, t_ms):
    ctx.contactors.open_all()
