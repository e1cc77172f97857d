# The machine's hot path (ticks and routine events with no log attached) must not
# allocate on MicroPython: garbage collection pauses on a 264 KB RP2040 are what
# make a control loop miss its deadlines.

from tests.fw.alloc import allocated_by
from tests.fw.support import MICROPYTHON, Rig, skip


def test_dispatch_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    rig = Rig(log=False)
    rig.to_run()
    m = rig.machine
    fields = {"diag": "cell_ov_warn"}

    def cycle():
        t = 10000
        for _ in range(500):
            t += 100
            m.dispatch("tick", t)
            m.dispatch("pack_ready", t)
            m.dispatch("fault_cleared", t, fields)
            m.dispatch("connect", t)  # rejected: no row in Run
    cycle()  # warm up: first calls may intern or cache
    used = allocated_by(cycle)
    assert used == 0, "dispatch allocated %d bytes over 2000 events" % used
    assert m.state_name == "Run"
