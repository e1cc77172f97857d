# Shutdown: everything open for good; no row leaves this state.


def enter(ctx, t_ms):
    ctx.contactors.open_all()
    ctx.entered_ms = t_ms


def tick(ctx, t_ms):
    ctx.contactors.open_all()
