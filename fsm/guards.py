# Guards named in fsm.table.TRANSITIONS: guard(ctx, t_ms, fields) -> bool.
# The machine has checked the event's fields against fsm.table.EVENT_FIELDS before
# a guard runs, so a guard reads them as given; a guard that raises anyway is a
# coding error and sends the machine to its fail-safe state.

from bms import diagnosis
from bms.ticks import ticks_diff


def _elapsed(ctx, t_ms):
    return ticks_diff(t_ms, ctx.entered_ms)


def _cooled_down(ctx, t_ms):
    return ctx.attempts == 0 or \
        ticks_diff(t_ms, ctx.attempt_end_ms) >= ctx.cfg["precharge_retry_delay_ms"]


def start_due(ctx, t_ms, fields):
    """Connection wanted, pack ready, and a failed attempt's resistor has cooled."""
    return ctx.want_connect and ctx.pack_ready and _cooled_down(ctx, t_ms)


def bus_matches_pack(ctx, t_ms, fields):
    v_bus = fields["v_bus"]
    v_pack = fields["v_pack"]
    return v_pack > 0 and abs(v_pack - v_bus) <= ctx.cfg["precharge_tolerance_v"]


def precharge_time_done(ctx, t_ms, fields):
    return ctx.cfg["precharge_mode"] == "time" and \
        _elapsed(ctx, t_ms) >= ctx.cfg["precharge_ms"]


def precharge_expired(ctx, t_ms, fields):
    return _elapsed(ctx, t_ms) >= ctx.cfg["precharge_timeout_ms"]


def precharge_expired_may_retry(ctx, t_ms, fields):
    # `attempts` counts the one that just expired; 1 + precharge_retries in all.
    return precharge_expired(ctx, t_ms, fields) and \
        ctx.attempts <= ctx.cfg["precharge_retries"]


def fault_resolved(ctx, t_ms, fields):
    """Reset only when every condition-type fault has gone and nothing is closed."""
    for i in range(diagnosis.COUNT):
        if ctx.faults[i] and diagnosis.ROWS[i][diagnosis.CLEARS] == diagnosis.CONDITION:
            return False
    return ctx.contactors.all_open()


GUARDS = {
    "start_due": start_due,
    "bus_matches_pack": bus_matches_pack,
    "precharge_time_done": precharge_time_done,
    "precharge_expired": precharge_expired,
    "precharge_expired_may_retry": precharge_expired_may_retry,
    "fault_resolved": fault_resolved,
}
