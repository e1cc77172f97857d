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


def full_pass_us(app, clock, link, tries=3):
    """One loop pass with every task due (the worst steady pass), best of `tries`,
    without the canned link's own cost; also each task's cost in that pass."""
    best = 1 << 30
    n = len(app.sched.names)
    each = [1 << 30] * n
    poll = app.sched.names.index("module_poll")
    for _ in range(tries):
        clock.t += 1000
        app.sched.start(clock.t)
        runs = list(app.sched.total_us)
        link.calls[0] = link.calls[1] = link.calls[2] = 0
        t0 = time.ticks_us()
        app.run_pass()
        us = time.ticks_diff(time.ticks_us(), t0)
        lk = link_us(link, link.calls)
        us -= lk
        app.sched.total_us[poll] -= lk
        if us < best:
            best = us
        for i in range(n):
            d = app.sched.total_us[i] - runs[i]
            if 0 <= d < each[i]:
                each[i] = d
    return best, each


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
    # balancing, CAN, all due at once.
    app._poll = app.pack.poll
    best, each = full_pass_us(app, clock, link)
    print("M0 modules=%d state=%s pass_us=%d" % (n, app.machine.state_name, best))
    for i in range(len(each)):
        print("M0TASK %s us=%d" % (app.sched.names[i], each[i]))
