# Balance: Run plus permission to bleed cells. The balancer asks the permission
# table each cycle, so leaving this state stops balancing without an exit action.

from states import run


def enter(ctx, t_ms):
    ctx.entered_ms = t_ms
    run.tick(ctx, t_ms)


tick = run.tick
