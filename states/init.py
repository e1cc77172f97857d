# Init: contactors open while the machine waits for a ready pack and a wish to connect.


def enter(ctx, t_ms):
    ctx.contactors.open_all()
    ctx.entered_ms = t_ms


def tick(ctx, t_ms):
    # Re-assert open every tick: a glitched output latch must not stay closed.
    ctx.contactors.open_all()
