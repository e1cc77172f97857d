# Nothing in the steady loop allocates (issue 19): a whole pass of every task, in
# Run, with the Victron frames going out, measured with gc.mem_alloc() on MicroPython.


from tests.fw.alloc import allocated_by
from tests.fw.app_support import Rig
from tests.fw.support import MICROPYTHON, skip


def test_steady_loop_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    rig = Rig(buttons=True)
    rig.run(5000)
    assert rig.state == "Run"
    rig.run(3000)   # warm up: every task has run several times
    used = allocated_by(lambda: rig.run(3000))
    assert rig.state == "Run"
    assert used == 0, "3 s of loop passes allocated %d bytes" % used
