# The application's own event-log records (issues 16 and 19): the charge phase and
# the heater state, one record per change, nothing written (or allocated) while
# they hold; utc_s on every record and in the persisted fault history when the
# board's clock is known, so a fault's time reads after a reboot. Both runtimes.

import gc
import json

from drivers.wall_clock import WallClock
from tests.fw.alloc import allocated_by
from tests.fw.app_support import FixedSource, MemoryStore, Rig
from tests.fw.support import MICROPYTHON, skip

UTC_AT_1000 = 1795860159       # FixedSource's default, read at the Rig's t = 1000 ms


def _records(rig, key):
    return [json.loads(x) for x in rig.ring.records() if '"%s"' % key in x]


def test_the_phase_at_boot_and_each_change_is_a_record():
    rig = Rig()
    assert _records(rig, "phase") == [{"t_ms": 1000, "phase": "bulk", "on": "boot"}]
    rig.run(3000)
    assert rig.state == "Run" and len(_records(rig, "phase")) == 1, "no change: no record"
    rig.pack.set_all(mv=4095)     # the highest cell reaches the charge voltage
    rig.run(1000)
    recs = _records(rig, "phase")
    assert len(recs) == 2, recs
    assert recs[1]["phase"] == "absorption" and recs[1]["from"] == "bulk"
    assert recs[1]["on"] == "at_target" and set(recs[1]) == {"t_ms", "phase", "from", "on"}
    rig.pack.set_all(mv=3800)     # far below re-bulk, held 30 s: back to bulk
    rig.run(31000)
    recs = _records(rig, "phase")
    assert recs[-1]["phase"] == "bulk" and recs[-1]["from"] == "absorption"
    assert recs[-1]["on"] == "rebulk", recs


def test_the_heater_state_changes_are_records():
    rig = Rig({"heater_enabled": True})
    rig.pack.set_all(dc=-50)      # -5 degC: below charge_temp_min, charging waits for heat
    rig.run(4000)
    assert rig.state == "Run"
    recs = _records(rig, "heater")
    assert recs and recs[0]["heater"] == "heating" and recs[0]["from"] == "off", recs
    rig.pack.set_all(dc=150)      # warm
    rig.run(2000)
    recs = _records(rig, "heater")
    assert recs[-1]["heater"] == "off" and recs[-1]["from"] == "heating", recs


def test_records_and_the_fault_history_carry_utc_s_across_a_reboot():
    store = MemoryStore()
    rig = Rig(store=store, wall=WallClock(FixedSource()))
    rig.run(3000)
    rig.pack.cells[0] = 2500      # cell under-voltage: a latched fault at about t = 5 s
    rig.run(1500)
    assert rig.state == "Fault"
    lines = rig.ring.records()
    assert lines and all('"utc_s": ' in x for x in lines), lines
    for rec in (json.loads(x) for x in lines):
        assert rec["utc_s"] == UTC_AT_1000 + (rec["t_ms"] - 1000) // 1000, rec
    fault = [h for h in rig.persist.history() if h[1] == "cell_uv"][0]
    t_ms, utc_s = fault[2], fault[3]
    assert utc_s == UTC_AT_1000 + (t_ms - 1000) // 1000
    del rig
    gc.collect()
    # After a power cut the uptime means nothing; the wall time still tells when.
    rig2 = Rig(store=store)       # even a boot without a clock reads it back
    fault2 = [h for h in rig2.persist.history() if h[1] == "cell_uv"][0]
    assert fault2[2] == t_ms and fault2[3] == utc_s


def test_without_a_clock_nothing_carries_utc_s_and_the_history_says_unknown():
    store = MemoryStore()
    rig = Rig(store=store)
    rig.run(3000)
    rig.pack.cells[0] = 2500
    rig.run(1500)
    assert not any("utc_s" in x for x in rig.ring.records())
    assert [h[3] for h in rig.persist.history() if h[1] == "cell_uv"] == [None]


def test_steady_loop_with_a_wall_clock_and_after_a_phase_change_allocates_nothing():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    src = FixedSource()
    rig = Rig(wall=WallClock(src))
    rig.run(4000)
    rig.pack.set_all(mv=4095)
    rig.run(2000)
    assert rig.state == "Run" and rig.app.charge.phase == 1, "absorption"
    reads = src.reads
    written = rig.ring.written
    used = allocated_by(lambda: rig.run(3000))
    assert rig.ring.written == written, "the phase held: no record"
    assert src.reads == reads, "the clock is read hourly, not per pass"
    assert used == 0, "3 s of loop passes allocated %d bytes" % used
