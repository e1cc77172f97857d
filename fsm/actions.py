# Transition actions named in fsm.table.TRANSITIONS: action(ctx, t_ms, fields).
# Entry/exit/tick behaviour of a state lives in states/, not here.

from bms import diagnosis
from drivers.contactors import POSITIVE, PRECHARGE


def mark_pack_ready(ctx, t_ms, fields):
    ctx.pack_ready = True


def request_connect(ctx, t_ms, fields):
    ctx.want_connect = True


def cancel_connect(ctx, t_ms, fields):
    ctx.want_connect = False
    ctx.attempts = 0


def record_fault(ctx, t_ms, fields):
    # An id the table does not know still faults, as `internal`.
    ctx.hold_fault(diagnosis.index(fields["diag"]))


def clear_fault(ctx, t_ms, fields):
    # Only condition-type rows clear themselves; an unknown id clears nothing.
    if not diagnosis.known(fields["diag"]):
        return
    i = diagnosis.index(fields["diag"])
    if diagnosis.ROWS[i][diagnosis.CLEARS] == diagnosis.CONDITION:
        ctx.faults[i] = 0


def close_main(ctx, t_ms, fields):
    # Main positive closes with precharge still closed: a contactor takes tens of
    # ms to make contact, and the bus must not be left unfed meanwhile. Run opens
    # precharge once precharge_overlap_ms have passed (states/run.py); 0 opens it
    # here, at once.
    if not ctx.contactors.close(POSITIVE):
        raise RuntimeError("interlock refused the main positive contactor")
    ctx.main_closed_ms = t_ms
    ctx.precharge_release_due = ctx.cfg["precharge_overlap_ms"] > 0
    if not ctx.precharge_release_due:
        ctx.contactors.open(PRECHARGE)
    ctx.attempts = 0


def end_precharge_attempt(ctx, t_ms, fields):
    ctx.attempt_end_ms = t_ms


def precharge_failed(ctx, t_ms, fields):
    ctx.hold_fault(diagnosis.PRECHARGE_FAILED)


def acknowledge_faults(ctx, t_ms, fields):
    for i in range(diagnosis.COUNT):
        if diagnosis.ROWS[i][diagnosis.CLEARS] == diagnosis.RESET:
            ctx.faults[i] = 0
    ctx.attempts = 0


ACTIONS = {
    "mark_pack_ready": mark_pack_ready,
    "request_connect": request_connect,
    "cancel_connect": cancel_connect,
    "record_fault": record_fault,
    "clear_fault": clear_fault,
    "close_main": close_main,
    "end_precharge_attempt": end_precharge_attempt,
    "precharge_failed": precharge_failed,
    "acknowledge_faults": acknowledge_faults,
}
