# The Cortex-M0 part of the app workload (`pybms bench app`): the host appends this
# file to tools/mpy/app_workload.py for the emulated M0's guest script (qemu-m0.sh
# runs one script), so the heap runs on the 32-bit build do not carry this code.
# One full loop pass (every task due) in instructions = 1000 x ticks_us there.


def link_us(link, calls):
    """What the canned link's own calls cost (a stand-in for the UART driver, whose
    cost on a board is the driver's, not the application's)."""
    buf = bytearray(48)
    frame = bytes((2, 0, 19))
    t0 = time.ticks_us()
    for k in range(calls[0]):
        link.write(frame)
        link.readinto(buf)
    for k in range(calls[1]):
        link.any()
    return time.ticks_diff(time.ticks_us(), t0)


def _median(values):
    v = sorted(values)
    return v[len(v) // 2]


def full_pass_us(app, clock, link, warm=3, tries=7):
    """One loop pass with every task due (the worst steady pass), without the canned
    link's own cost: `warm` passes first (the first full passes after the periodic
    ones cost ~1 % more: caches of due work fill), then `tries` measured ones. Returns
    (sorted pass times, each task's median). An identical firmware and guest give the
    same count to the 1 us tick (1000 instructions); the median is what the table
    reports, the spread is printed beside it."""
    n = len(app.sched.names)
    poll = app.sched.names.index("module_poll")
    passes = []
    each = [[] for i in range(n)]
    runs = [0] * n
    for k in range(warm + tries):
        clock.t += 1000
        app.sched.start(clock.t)
        for i in range(n):
            runs[i] = app.sched.total_us[i]
        link.calls[0] = link.calls[1] = link.calls[2] = 0
        t0 = time.ticks_us()
        app.run_pass()
        us = time.ticks_diff(time.ticks_us(), t0)
        lk = link_us(link, link.calls)
        app.sched.total_us[poll] -= lk
        if k < warm:
            continue
        passes.append(us - lk)
        for i in range(n):
            each[i].append(app.sched.total_us[i] - runs[i])
    return sorted(passes), [_median(e) for e in each]


def m0_pass(app, clock, link, n, passes):
    # The ADC wait is wire time, not instructions (virtual time would count it).
    import drivers.tesla_bus as tb
    tb.sleep_ms = lambda ms: None
    keep = [bytearray(k % 40 + 1) for k in range(400)]  # a heap that has been used
    for k in range(0, 400, 2):
        keep[k] = None
    for k in range(passes):
        app.run_pass()
        clock.t += 10
    # One full loop pass as the issue counts it: a whole module-bus cycle (not
    # one bounded step of it), summary, checks, diagnosis, machine, limits, SoC,
    # balancing, CAN, all due at once. The host refuses a count taken outside Run
    # (a faulted machine does other work: it is not the pass the goal is about).
    app._poll = app.pack.poll
    us, each = full_pass_us(app, clock, link)
    print("M0 modules=%d state=%s pass_us=%d min_us=%d max_us=%d tries=%d"
          % (n, app.machine.state_name, _median(us), us[0], us[-1], len(us)))
    for i in range(len(each)):
        print("M0TASK %s us=%d" % (app.sched.names[i], each[i]))
