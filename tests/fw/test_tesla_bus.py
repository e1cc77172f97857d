# The Tesla bus master against the module emulator, wired directly (both runtimes).

import gc

import drivers.tesla_bus  # noqa: F401  first, while the heap is unfragmented (192K)
from bms.pack import AGE_NEVER
from protocols.tesla import registers as R
from tests.fw.support import MICROPYTHON, skip
from tests.fw.tesla_support import (COUNT, ReplayLink, bus_skip_discovery, distinct_cells,
                                     make_bus, run_cycles)


def test_discovery_addresses_in_chain_order_and_configures_boards():
    bus, link, diag, _ = make_bus(5)
    bus.poll(0)
    assert bus.discovered and bus.found == 5
    assert link.chain.addresses() == [1, 2, 3, 4, 5]
    for b in link.chain.boards:
        assert b.regs[R.ALERT_STATUS] == 0 and b.regs[R.FAULT_STATUS] == 0  # reset flags cleared
        assert bytes(b.regs[R.CONFIG_COV:R.CONFIG_OTT + 1]) == bus.cfg_codes
    assert bus.cfg_codes[4] == 0x77          # 70 degC on both thermistors
    assert not diag.active_ids()


def test_poll_reads_every_board_exactly():
    bus, link, diag, _ = make_bus(4)
    distinct_cells(link)
    t = run_cycles(bus, 2)
    for b in range(4):
        for c in range(6):
            assert bus.cell_mv(b * 6 + c) == 3000 + 100 * b + 10 * c
        assert abs(bus.module_mv(b) - sum(3000 + 100 * b + 10 * c for c in range(6))) <= 3
        assert abs(bus.temp_dc(2 * b) - (200 + 10 * b)) <= 2
        assert abs(bus.temp_dc(2 * b + 1) - (300 - 10 * b)) <= 2
    assert bus.age_ms(t) == 0
    assert bus.age_ms(t + 100) == 100
    assert bus.cell_count() == 24 and bus.temp_count() == 8
    assert not diag.active_ids()


def test_age_is_never_before_the_first_reading():
    bus, link, diag, _ = make_bus(2)
    assert bus.age_ms(0) == AGE_NEVER
    assert bus.board_age_ms(0, 0) == AGE_NEVER


def test_fewer_or_more_boards_than_configured_is_a_fault():
    bus, link, diag, changes = make_bus(4, link_count=3)
    bus.poll(0)
    assert bus.found == 3 and not bus.discovered
    assert diag.active[COUNT] and diag.detail[COUNT] == 3
    bus, link, diag, _ = make_bus(2, link_count=3)
    bus.poll(0)
    assert bus.found == 3 and not bus.discovered
    assert diag.active[COUNT]


def test_balancing_sets_time_then_mask_and_stops():
    bus, link, diag, _ = make_bus(3, {"balance_time_s": 120})
    run_cycles(bus, 1)
    assert bus.set_balance([0x05, 0, 0x20]) == 0
    b = link.chain.boards
    assert b[0].bleeding() == 0x05 and b[1].bleeding() == 0 and b[2].bleeding() == 0x20
    assert b[0].regs[R.CB_TIME] == 0x82
    assert bus.set_balance([0, 0, 0x01]) == 0
    assert b[0].bleeding() == 0 and b[2].bleeding() == 0x01
    assert bus.stop_balance()
    assert [x.bleeding() for x in b] == [0, 0, 0]


def test_balance_restarts_the_board_timer_the_proven_way():
    # TeslaBMS on real modules: CB_CTRL = 0 first, then CB_TIME, then the mask.
    from protocols.tesla.codec import write_frame
    bus, link, diag, _ = make_bus(1, {"balance_time_s": 120})
    run_cycles(bus, 1)
    frames = []
    write = link.write

    def recording_write(data):
        frames.append(bytes(data))
        return write(data)
    link.write = recording_write
    assert bus.set_balance([0x05]) == 0
    assert frames == [write_frame(1, R.CB_CTRL, 0), write_frame(1, R.CB_TIME, 0x82),
                      write_frame(1, R.CB_CTRL, 0x05)]


def test_balance_times_out_on_the_board():
    bus, link, diag, _ = make_bus(1, {"balance_time_s": 1})
    run_cycles(bus, 1)
    bus.set_balance([0x3F])
    board = link.chain.boards[0]
    assert board.bleeding() == 0x3F
    board.tick(board.cb_until)                  # the board's own timer runs out
    assert board.bleeding() == 0


def test_plan_balance_uses_only_fresh_data():
    from bms import config
    from bms.balancing import limits, plan_balance
    bus, link, diag, _ = make_bus(2)
    link.chain.set_cells(0, [3950, 3900, 3930, 4000, 3800, 3910])
    link.chain.set_cells(1, [3900] * 6)
    t = run_cycles(bus, 1)
    out = [0, 0]
    mv, delta = limits(config.make({}))
    assert plan_balance(bus, mv, delta, t, 750, out)
    assert out == [0b101101, 0]                 # > 3.90 V and > 40 mV above 3.80 V
    assert not plan_balance(bus, mv, delta, t + 1000, 750, out)
    assert out == [0, 0]


def test_read_requests_with_crc():
    bus, link, diag, _ = make_bus(3, {"bus_read_crc": True}, read_crc=True)
    t = run_cycles(bus, 2)
    assert bus.discovered and bus.age_ms(t) == 0 and not diag.active_ids()


def test_steady_state_cycle_allocates_nothing():
    if not MICROPYTHON:
        skip("gc.mem_alloc is MicroPython's")
    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.tesla_bus import TeslaBus
    link = ReplayLink(8)
    bus = TeslaBus(link, config.make({"module_count": 8, "bus_reset_wait_ms": 0}), Diagnosis())
    bus_skip_discovery(bus)
    for k in range(3):
        bus.poll(k)
    assert bus.age_ms(2) == 0 and bus.cell_mv(0) == 3700
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for k in range(3, 23):
            bus.poll(k)
        used = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert used == 0, used


def test_counters_wrap_instead_of_growing_into_big_ints():
    from drivers.tesla_link import WRAP
    bus, link, diag, _ = make_bus(2)
    run_cycles(bus, 1)
    bus.link.tx_bytes = WRAP - 2
    bus.link.rx_bytes = WRAP - 2
    bus.link.frames = WRAP
    run_cycles(bus, 1, 250)
    assert 0 <= bus.link.tx_bytes < 100 and 0 <= bus.link.rx_bytes < 200 and bus.link.frames < 20
