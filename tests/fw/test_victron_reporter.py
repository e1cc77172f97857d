# The transmit scheduler, with a fake clock (no sleeps): period, the never-silent
# rule, permissions from the real state machine, busy controllers, received
# traffic, and no allocation per cycle on MicroPython.

import gc

import protocols.victron as V
from bms import diagnosis as D
from drivers.can import BUS_OFF, MemoryBus
from fsm import table
from tests.fw.support import MICROPYTHON, Rig, skip
from tests.fw.victron_support import FakeMachine, Station
from tools import victron_codec as codec

PERIOD = 1000
# The longest a GX may wait for 0x351 while CAN TX is allowed: one period plus one
# main-loop pass. Victron gear gives up after ~3 s.
MAX_LOOP_MS = 300
SILENT_LIMIT_MS = PERIOD + MAX_LOOP_MS


def _times_of(bus, frame_id):
    return [t for t, fid in bus.log if fid == frame_id]


class TimedBus(MemoryBus):
    """Records (t, id) of accepted frames (all of the first cycle, then 0x351
    only, to stay small on a board-sized heap); `now` set by the test."""

    def __init__(self):
        MemoryBus.__init__(self, record=False)
        self.now = 0
        self.log = []

    def send(self, can_id, data):
        ok = MemoryBus.send(self, can_id, data)
        if ok and (can_id == 0x351 or self.now == 0):
            self.log.append((self.now, can_id))
        return ok


def _drive(st, t_from, t_to, steps):
    """Loop passes at irregular intervals (a fixed pseudo-random pattern)."""
    t = t_from
    k = 0
    while t < t_to:
        st.bus.now = t
        st.step(t)
        t += steps[k % len(steps)]
        k += 1
    return t


def test_full_set_once_per_period_with_0x351_first():
    st = Station(bus=TimedBus())
    _drive(st, 0, 10000, (100,))
    starts = _times_of(st.bus, 0x351)
    assert starts == list(range(0, 10000, PERIOD)), starts
    assert st.reporter.cycles == 10 and st.reporter.completed == 10
    first = [fid for t, fid in st.bus.log if t == 0]
    assert tuple(first) == V.PERIODIC and first[0] == 0x351
    assert st.bus.tx_ok == 10 * len(V.PERIODIC)


def test_never_silent_longer_than_period_plus_one_loop_while_allowed():
    st = Station(bus=TimedBus())
    steps = (7, 130, 290, 1, 45, 300, 220, 13, 80, 299)
    end = _drive(st, 0, 60000, steps)
    starts = _times_of(st.bus, 0x351)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert max(gaps) <= SILENT_LIMIT_MS, max(gaps)
    assert end - starts[-1] <= SILENT_LIMIT_MS
    # ... and about once per second on average, not faster
    assert 55 <= len(starts) <= 61, len(starts)
    assert min(gaps) >= PERIOD - MAX_LOOP_MS, min(gaps)


def test_period_survives_tick_wraparound():
    from drivers.clock import TICKS_PERIOD, ticks_add
    st = Station(bus=TimedBus())
    t = ticks_add(0, -3500)
    for _ in range(80):
        st.bus.now = t
        st.step(t)
        t = ticks_add(t, 100)
    assert st.reporter.cycles == 8, st.reporter.cycles
    assert TICKS_PERIOD > 0


def test_a_stalled_loop_restarts_the_phase_instead_of_bursting():
    st = Station(bus=TimedBus())
    st.step(0)
    st.step(5500)  # the loop was stuck 5.5 s
    st.step(5600)
    st.step(6400)
    assert st.reporter.cycles == 2
    st.step(6500)
    assert st.reporter.cycles == 3


def test_silent_only_where_the_permission_table_says_so():
    for row in table.PERMISSIONS:
        state, can_tx = row[0], row[1 + table.P_CAN_TX]
        rig = st = None
        gc.collect()  # one rig at a time fits the 192K test heap
        rig = Rig(log=False)
        rig.reach(state)
        st = Station(machine=rig.machine, record=False)
        for t in range(0, 3000, 100):
            st.step(t)
        sent = st.bus.tx_ok
        assert (sent > 0) == can_tx, (state, sent)
        assert rig.machine.allows(table.P_CAN_TX) == can_tx


def test_fault_keeps_transmitting_limits_zero_with_alarms():
    rig = Rig()
    rig.reach("Fault")
    st = Station(machine=rig.machine)
    st.diag.latch(D.CELL_OV, 0)
    for t in range(0, 2000, 100):
        st.step(t)
    lim = codec.unpack(0x351, st.last(0x351))
    assert lim["ccl"] == 0 and lim["dcl"] == 0
    assert lim["cvl"] > 0 and lim["dvl"] > 0
    assert abs(lim["cvl"] - st.summary.v_pack / 1000.0) < 0.1 + 1e-9
    assert lim["cvl"] * 1000 >= st.summary.v_pack - 1e-6
    flags = codec.unpack(0x35A, st.last(0x35A))
    assert flags["alarm_high_voltage"] == V.FLAG_ACTIVE
    mods = codec.unpack(0x372, st.last(0x372))
    assert mods["modules_ok"] == 0 and mods["modules_blocking_charge"] == 2


def test_a_latched_fault_stays_visible_on_the_gx_until_reset():
    # The over-voltage clears, the machine stays in Fault waiting for a reset: the
    # GX must still see why the battery is off, then nothing once it is reset.
    rig = Rig(log=False)
    rig.reach("Run")
    st = Station(machine=rig.machine, record=False)
    rig.send("fault", {"diag": "cell_ov"})
    rig.send("fault_cleared", {"diag": "cell_ov"})
    st.step(0)
    flags = codec.unpack(0x35A, bytes(st.reporter.b_alarms))
    assert flags["alarm_general"] == V.FLAG_ACTIVE
    assert flags["alarm_high_voltage"] != V.FLAG_ACTIVE
    rig.send("reset")
    st.step(1000)
    flags = codec.unpack(0x35A, bytes(st.reporter.b_alarms))
    assert flags["alarm_general"] == V.FLAG_OK


def test_faults_the_machine_raised_itself_reach_the_gx():
    rig = Rig({"precharge_retries": 0, "precharge_timeout_ms": 1000}, log=False)
    rig.send("pack_ready")
    rig.ticks(15)
    assert rig.state == "Fault"
    st = Station(machine=rig.machine, record=False)
    st.step(0)
    flags = codec.unpack(0x35A, bytes(st.reporter.b_alarms))
    assert flags["alarm_contactor"] == V.FLAG_ACTIVE and flags["alarm_general"] == V.FLAG_ACTIVE


def test_run_sends_policy_limits_and_measurements():
    rig = Rig()
    rig.reach("Run")
    st = Station(machine=rig.machine)
    st.pack.cells[5] = 3650
    st.pack.temps[2] = 310
    st.step(0, soc=7250, current=-125)
    lim = codec.unpack(0x351, st.last(0x351))
    assert (lim["cvl"], lim["ccl"], lim["dcl"], lim["dvl"]) == (49.2, 50.0, 100.0, 39.0)
    meas = codec.unpack(0x356, st.last(0x356))
    assert abs(meas["voltage"] - st.summary.v_pack / 1000.0) < 0.006
    assert meas["current"] == -12.5 and meas["temperature"] == 31.0
    soc = codec.unpack(0x355, st.last(0x355))
    assert soc["soc"] == 73 and soc["soc_hires"] == 72.5 and soc["soh"] == 100
    ext = codec.unpack(0x373, st.last(0x373))
    assert ext["cell_v_min"] == 3.65 and ext["cell_v_max"] == 3.7
    assert abs(ext["cell_t_max"] - 31.0) <= 0.5 and abs(ext["cell_t_min"] - 25.0) <= 0.5
    assert codec.unpack(0x374, st.last(0x374))["cell_v_min_name"] == "M01C06"
    assert codec.unpack(0x377, st.last(0x377))["cell_t_max_name"] == "M02T01"
    assert codec.unpack(0x35E, st.last(0x35E))["manufacturer"] == "pyBMS"
    assert codec.unpack(0x379, st.last(0x379))["capacity_installed"] == 232
    info = codec.unpack(0x35F, st.last(0x35F))
    assert info["capacity_available"] == 232 and info["firmware_minor"] == 1
    assert st.reporter.frames.range_errors == 0


def test_names_follow_the_extremes_from_cycle_to_cycle():
    # The reporter rewrites a name frame only when its cell or sensor changes:
    # every cycle must still carry the present one, and an unchanged one stays.
    st = Station()
    st.pack.set_all(mv=3700)
    st.pack.cells[5] = 3650
    st.pack.cells[7] = 3750
    st.step(0)
    assert codec.unpack(0x374, st.last(0x374))["cell_v_min_name"] == "M01C06"
    assert codec.unpack(0x375, st.last(0x375))["cell_v_max_name"] == "M02C02"
    st.pack.cells[5] = 3700
    st.pack.cells[11] = 3600
    st.step(1000)
    assert codec.unpack(0x374, st.last(0x374))["cell_v_min_name"] == "M02C06"
    assert codec.unpack(0x375, st.last(0x375))["cell_v_max_name"] == "M02C02"
    st.pack.cells[11] = 3700
    st.pack.cells[5] = 3650
    st.step(2000)
    assert codec.unpack(0x374, st.last(0x374))["cell_v_min_name"] == "M01C06"


def test_unknown_soc_sends_a_voltage_estimate_then_holds_it_when_stale():
    st = Station()
    st.pack.set_all(mv=3675)
    st.step(0)
    soc = codec.unpack(0x355, st.last(0x355))["soc"]
    assert 49 <= soc <= 51, soc
    st.pack.age = 5000
    st.step(1000)
    assert codec.unpack(0x355, st.last(0x355))["soc"] == soc


def test_stale_data_zeroes_limits_keeps_last_measurements_and_alarms():
    st = Station()
    st.step(0)
    v_before = codec.unpack(0x356, st.last(0x356))["voltage"]
    st.pack.age = 2000
    st.pack.set_all(mv=4000)
    st.step(1000)
    lim = codec.unpack(0x351, st.last(0x351))
    assert lim["ccl"] == 0 and lim["dcl"] == 0 and lim["cvl"] == 44.4
    assert codec.unpack(0x356, st.last(0x356))["voltage"] == v_before
    assert codec.unpack(0x35A, st.last(0x35A))["alarm_bms_internal"] == V.FLAG_ACTIVE
    assert codec.unpack(0x372, st.last(0x372))["modules_offline"] == 2


def test_busy_controller_gets_the_rest_next_poll_and_old_frames_are_aborted():
    bus = MemoryBus(capacity=3)
    st = Station(bus=bus)
    assert st.step(0) == 3
    assert st.step(10) == 0
    bus.drain()
    assert st.step(20) == 3
    assert [fid for fid, _ in bus.sent[:6]] == list(V.PERIODIC[:6])
    for t in range(30, 1000, 10):
        bus.drain()
        st.step(t)
    assert st.reporter.completed == 1 and bus.aborts == 0
    bus.capacity = 0
    st.step(1000)
    st.step(2000)  # the 1000 cycle never finished: aborted, restarted with 0x351
    assert st.reporter.overruns == 1 and bus.aborts == 1


def test_bus_off_is_counted_and_recovered_without_blocking():
    bus = MemoryBus()
    st = Station(bus=bus)
    bus.bus_state = BUS_OFF
    for t in range(0, 900, 100):
        st.step(t)
    assert bus.bus_off_count == 1 and bus.restarts == 0
    st.step(1100)
    assert bus.restarts == 1 and bus.recoveries == 1
    n = len(bus.sent)
    st.step(2000)
    assert len(bus.sent) > n
    assert bus.tx_errors > 0 and st.reporter.overruns == 1


def test_gx_frames_and_other_traffic_are_tolerated():
    bus = MemoryBus()
    st = Station(bus=bus)
    for k in range(20):
        bus.inbox.append((0x305, b"\x00\x01\x02\x03\x04\x05\x06\x07"))
        bus.inbox.append((0x307, b"\x12\x34\x56\x78VIC\x00"))
        bus.inbox.append((0x123 + k, b""))
    for t in range(0, 1000, 100):
        st.step(t)
    assert st.reporter.rx_gx == 40 and st.reporter.rx_other == 20
    assert st.reporter.cycles == 1 and st.reporter.completed == 1


def test_a_cycle_allocates_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    st = Station(record=False, machine=FakeMachine())
    rep = st.reporter
    for t in range(0, 3000, 100):  # warm up
        st.step(t, soc=5000, current=10)

    def cycles():
        t = 3000
        for _ in range(50):
            t += 1000
            st.summary.update(st.pack, t, 750)
            st.limits.update(st.summary, True, True)
            rep.poll(t, True, 5000, -10)

    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        cycles()
        used = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert rep.completed >= 50
    assert used == 0, "50 transmit cycles allocated %d bytes" % used


def test_name_frames_spell_module_and_cell_or_a_pack_wide_number():
    from protocols.victron.reporter import _write_name
    buf = bytearray(b"\xff" * 8)
    _write_name(buf, 0x43, 13, 6)              # cell 14 of a pack of 6-cell modules
    assert bytes(buf) == b"M03C02\x00\x00"
    _write_name(buf, 0x54, 11, 0)              # no per-module count: a pack-wide number
    assert bytes(buf) == b"T0012\x00\x00\x00"
    _write_name(buf, 0x43, 9998, 0)
    assert bytes(buf) == b"C9999\x00\x00\x00"
