# Fault: latched. Everything open; only a reset whose guard holds leaves it.

from bms import diagnosis


def enter(ctx, t_ms):
    ctx.contactors.open_all()
    ctx.entered_ms = t_ms
    # Recorded as a reset-type diagnosis so the GX keeps showing why the battery is
    # off after the fault's own condition clears; the reset action clears it.
    ctx.faults[diagnosis.FAULT_LATCHED] = 1


def tick(ctx, t_ms):
    ctx.contactors.open_all()
