# Cooperative scheduler for the BMS main loop. Deterministic: it reads time only
# from the clocks it is given, so the same loop runs on a board (real ticks), on
# the unix port against the plant (real time) and in process against the plant in
# accelerated time (simulated ticks). Tasks run in the order they were added, which
# is their priority when several are due at once.
#
# Nothing here allocates per pass: counters are ints in preallocated lists, kept
# below 2**30 so they stay small ints on a 32-bit board (a big int is a heap
# object), and a task is called as fn(t_ms).

_WRAP = 0x3FFFFFFF
_HALVE_AT = 1 << 28  # the mean's window halves here, so its sums stay small ints


class TaskError(Exception):
    pass


class Scheduler:
    """Runs each task at its own period and counts what it cost.

    now_ms()/now_us(): tick sources with MicroPython's wrap-around; ticks_diff and
    ticks_add the matching arithmetic. on_error(index, exc, t_ms) hears a task that
    raised (the application turns it into `internal` and a Fault); the scheduler
    itself never lets an exception out of run_due().
    """

    def __init__(self, now_ms, now_us, ticks_diff, ticks_add, on_error=None):
        self.now_ms = now_ms
        self.now_us = now_us
        self.diff = ticks_diff
        self.add_ticks = ticks_add
        self.on_error = on_error
        self.names = []
        self.fns = []
        self.period_ms = []
        self.budget_us = []
        self.due = []
        self.runs = []
        self.overruns = []   # one run took longer than its budget
        self.late = []       # started more than one period after it was due
        self.errors = []
        self.worst_us = []
        self.total_us = []   # with mean_runs: the mean over a sliding window
        self.mean_runs = []
        self.pass_overruns = 0
        self.passes = 0

    def add(self, name, period_ms, fn, budget_ms):
        if period_ms <= 0 or budget_ms <= 0:
            raise TaskError("task %s needs a positive period and budget" % name)
        self.names.append(name)
        self.fns.append(fn)
        self.period_ms.append(period_ms)
        self.budget_us.append(budget_ms * 1000)
        self.due.append(0)
        for counters in (self.runs, self.overruns, self.late, self.errors,
                         self.worst_us, self.total_us, self.mean_runs):
            counters.append(0)
        return len(self.names) - 1

    def start(self, t_ms):
        """Every task is due now, in table order."""
        for i in range(len(self.due)):
            self.due[i] = t_ms

    def run_due(self):
        """Run every task that is due, once each, in table order. Returns True when
        every task that ran stayed within its budget (the watchdog is fed on that)."""
        within = True
        diff = self.diff
        for i in range(len(self.fns)):
            t = self.now_ms()
            behind = diff(t, self.due[i])
            if behind < 0:
                continue
            period = self.period_ms[i]
            if behind >= period:
                self.late[i] = (self.late[i] + 1) & _WRAP
                # Skip the missed periods instead of running the task back to back.
                self.due[i] = self.add_ticks(self.due[i], (behind // period) * period)
            self.due[i] = self.add_ticks(self.due[i], period)
            t0 = self.now_us()
            try:
                self.fns[i](t)
            except Exception as e:  # a task's bug must not stop the others
                self.errors[i] = (self.errors[i] + 1) & _WRAP
                within = False
                if self.on_error is not None:
                    self.on_error(i, e, t)
            used = diff(self.now_us(), t0)
            self.runs[i] = (self.runs[i] + 1) & _WRAP
            self.total_us[i] += used
            self.mean_runs[i] += 1
            if self.total_us[i] >= _HALVE_AT:
                self.total_us[i] >>= 1
                self.mean_runs[i] >>= 1
            if used > self.worst_us[i]:
                self.worst_us[i] = used
            if used > self.budget_us[i]:
                self.overruns[i] = (self.overruns[i] + 1) & _WRAP
                within = False
        self.passes = (self.passes + 1) & _WRAP
        if not within:
            self.pass_overruns = (self.pass_overruns + 1) & _WRAP
        return within

    def ms_to_next(self):
        """How long the loop may sleep before a task is due (0: one is due now)."""
        t = self.now_ms()
        best = 0x3FFFFFFF
        for i in range(len(self.due)):
            wait = self.diff(self.due[i], t)
            if wait < best:
                best = wait
        return best if best > 0 else 0

    def stats(self):
        """(name, period_ms, runs, mean_us, worst_us, overruns, late, errors) per task,
        for reports and benchmarks (allocates: not for the loop)."""
        out = []
        for i in range(len(self.names)):
            n = self.mean_runs[i]
            out.append((self.names[i], self.period_ms[i], self.runs[i],
                        self.total_us[i] // n if n else 0, self.worst_us[i],
                        self.overruns[i], self.late[i], self.errors[i]))
        return out
