# The main loop's scheduler: periods, priority order, missed periods skipped not
# bunched, overruns and errors counted, wrap-safe, and no allocation per pass.

import gc

from app.scheduler import Scheduler, TaskError
from drivers.clock import TICKS_PERIOD, ticks_add, ticks_diff
from tests.fw.support import MICROPYTHON, skip

_MASK = TICKS_PERIOD - 1  # computed once: TICKS_PERIOD itself is a big int on 64-bit ports


class FakeClock:
    """Simulated time: tasks 'take' cost_us each when they run."""

    def __init__(self, t_ms=0):
        self.us = t_ms * 1000

    def ms(self):
        return (self.us // 1000) & _MASK

    def now_us(self):
        return self.us & _MASK

    def advance_ms(self, ms):
        self.us += ms * 1000


def _sched(clock, on_error=None):
    return Scheduler(clock.ms, clock.now_us, ticks_diff, ticks_add, on_error)


def _run_for(s, clock, ms, step_ms=1):
    for _ in range(ms // step_ms):
        s.run_due()
        clock.advance_ms(step_ms)


def test_tasks_run_at_their_periods_in_table_order():
    clock = FakeClock()
    order = []
    s = _sched(clock)
    s.add("poll", 250, lambda t: order.append(("poll", t)), 50)
    s.add("can", 1000, lambda t: order.append(("can", t)), 20)
    s.start(0)
    _run_for(s, clock, 2000)
    assert order[:2] == [("poll", 0), ("can", 0)]
    assert [t for n, t in order if n == "poll"] == [0, 250, 500, 750, 1000, 1250, 1500, 1750]
    assert [t for n, t in order if n == "can"] == [0, 1000]
    assert s.stats()[0][:3] == ("poll", 250, 8)


def test_a_slow_task_is_counted_and_missed_periods_are_skipped_not_bunched():
    clock = FakeClock()
    runs = []

    def slow(t):
        runs.append(t)
        clock.advance_ms(700)  # 700 ms of work in a 250 ms period, 50 ms budget

    s = _sched(clock)
    s.add("poll", 250, slow, 50)
    s.start(0)
    for _ in range(4):
        assert not s.run_due()
        clock.advance_ms(1)
    name, period, n, mean_us, worst_us, overruns, late, errors = s.stats()[0]
    assert n == 4 and overruns == 4 and worst_us == 700000 and mean_us == 700000
    assert late == 3, "each run after the first started more than a period late"
    # After a late start the next due time is on the period grid, in the future.
    assert all(ticks_diff(runs[k + 1], runs[k]) >= 700 for k in range(3))
    assert s.pass_overruns == 4 and s.passes == 4


def test_an_exception_in_a_task_is_caught_reported_and_the_others_still_run():
    clock = FakeClock()
    heard = []
    ran = []

    def broken(t):
        raise ValueError("bug")

    s = _sched(clock, on_error=lambda i, e, t: heard.append((i, type(e).__name__, t)))
    s.add("broken", 100, broken, 10)
    s.add("can", 100, lambda t: ran.append(t), 10)
    s.start(5)
    clock.advance_ms(5)
    assert not s.run_due()
    assert heard == [(0, "ValueError", 5)] and ran == [5]
    assert s.stats()[0][7] == 1


def test_ms_to_next_and_bad_tasks():
    clock = FakeClock()
    s = _sched(clock)
    s.add("a", 100, lambda t: None, 10)
    s.add("b", 30, lambda t: None, 10)
    s.start(0)
    assert s.ms_to_next() == 0
    s.run_due()
    clock.advance_ms(10)
    assert s.ms_to_next() == 20
    for period, budget in ((0, 1), (10, 0), (-5, 1)):
        try:
            s.add("bad", period, lambda t: None, budget)
        except TaskError:
            continue
        raise AssertionError("period %d budget %d accepted" % (period, budget))


def test_periods_hold_across_the_tick_wrap():
    start = TICKS_PERIOD - 600
    clock = FakeClock(start)
    seen = []
    s = _sched(clock)
    s.add("poll", 250, lambda t: seen.append(t), 50)
    s.start(clock.ms())
    _run_for(s, clock, 1000)
    assert len(seen) == 4
    for k in range(3):
        assert ticks_diff(seen[k + 1], seen[k]) == 250


def test_a_pass_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    clock = FakeClock()
    count = [0]

    def work(t):
        count[0] += 1

    s = _sched(clock)
    for name, period in (("poll", 250), ("current", 100), ("can", 1000)):
        s.add(name, period, work, 50)
    s.start(0)
    _run_for(s, clock, 2000, 10)  # warm up
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(300):
            s.run_due()
            s.ms_to_next()
            clock.us += 10000
        used = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert used == 0, "scheduler allocated %d bytes in 300 passes" % used
