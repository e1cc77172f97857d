# Timing faults that must not cost a board, and late replies that must never pass
# for a later exchange's (both runtimes).

import drivers.tesla_bus  # noqa: F401  first, while the heap is unfragmented (192K)
from tests.fw.tesla_support import LOSS, distinct_cells, make_bus, poll_checking, run_cycles


def _truth(b, c):
    return 3000 + 100 * b + 10 * c


def test_a_reply_duplicated_back_to_back_costs_nothing():
    bus, link, diag, _ = make_bus(3)
    distinct_cells(link)
    link.chain.boards[1].duplicate = True
    t, fresh = poll_checking(bus, 3, _truth, 4)
    assert fresh == 12 and not diag.active[LOSS]
    assert bus.link.duplicates >= 4


def test_a_reply_6_to_7_ms_late_is_taken_in_the_grace_window():
    for late in (6, 7):
        bus, link, diag, _ = make_bus(3, {"bus_timeout_ms": 4})
        distinct_cells(link)
        link.chain.boards[1].late_ms = late
        t, fresh = poll_checking(bus, 3, _truth, 4)
        assert not diag.active[LOSS], late
        assert bus.board_age_ms(1, t) == 0 and bus.link.late >= 1, late


def test_a_board_20_ms_late_does_not_take_the_boards_after_it():
    bus, link, diag, _ = make_bus(4, {"bus_timeout_ms": 3})
    distinct_cells(link)
    t = run_cycles(bus, 1)                     # addressed while on time
    link.chain.boards[1].late_ms = 20
    fresh = [0, 0, 0, 0]
    for _ in range(6):
        t, _n = poll_checking(bus, 4, _truth, 1, t)
        for b in range(4):
            if bus.board_age_ms(b, t) == 0:
                fresh[b] += 1
    for b in (0, 2, 3):                        # the late board may be lost, no other
        assert fresh[b] >= 4 and bus.fails[b] < bus.fail_limit, (b, fresh)


class OvertakingLink:
    """Wraps a ChainLink: the reply to one chosen request is held back and delivered
    just before the reply of the next request to the same board, one cycle later."""

    def __init__(self, link, board_addr):
        self.inner = link
        self.addr = board_addr
        self.held = None
        self.hold_next = True

    def write(self, data):
        n = self.inner.write(data)
        if data[0] == self.addr << 1 and len(data) >= 3 and data[1] == 0:
            # let the chain answer now, take the reply out of the line
            for _ in range(20):
                if self.inner.any() >= data[2] + 4:
                    break
                self.inner.wait(1)
            if self.hold_next:
                self.held = self.inner.rx
                self.inner.rx = b""
                self.hold_next = False
            elif self.held is not None:
                self.inner.rx = self.held + self.inner.rx   # the stale one overtakes
                self.held = None
        return n

    def any(self):
        return self.inner.any()

    def readinto(self, buf, nbytes=-1):
        return self.inner.readinto(buf, nbytes)

    def wait(self, timeout_ms):
        return self.inner.wait(timeout_ms)


def test_a_late_reply_overtaking_the_next_cycle_is_never_taken_for_it():
    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.tesla_bus import TeslaBus
    from simulator.tesla_direct import ChainLink
    inner = ChainLink(2)
    inner.chain.set_cells(1, [3600] * 6)
    bus = TeslaBus(inner, config.make({"module_count": 2, "bus_timeout_ms": 3, "bus_retries": 0,
                                       "bus_reset_wait_ms": 0}), Diagnosis())
    t = run_cycles(bus, 2)
    assert bus.cell_mv(6) == 3600
    wrapped = OvertakingLink(inner, 2)
    bus.link.uart = wrapped
    t = run_cycles(bus, 1, t)                   # board 2's reply (3600 mV) is held back
    assert bus.board_age_ms(1, t) > 0
    inner.chain.set_cells(1, [3650] * 6)        # the truth moves on
    t = run_cycles(bus, 1, t)                   # the stale reply arrives first
    if bus.board_age_ms(1, t) == 0:
        assert bus.cell_mv(6) == 3650, bus.cell_mv(6)
    assert bus.link.skipped >= 1
    t = run_cycles(bus, 2, t)
    assert bus.board_age_ms(1, t) == 0 and bus.cell_mv(6) == 3650


def test_the_test_link_waits_as_long_as_asked():
    from drivers.clock import ticks_diff, ticks_ms
    from simulator.tesla_direct import ChainLink
    link = ChainLink(1)
    t0 = ticks_ms()
    assert not link.wait(5)
    assert ticks_diff(ticks_ms(), t0) >= 5


def test_after_a_failure_the_other_count_costs_one_byte_for_a_few_cycles_only():
    from drivers.tesla_bus import SEQ_HOLD
    bus, link, diag, _ = make_bus(3)
    t = run_cycles(bus, 2)

    def cycle_bytes():
        before = bus.link.tx_bytes + bus.link.rx_bytes
        run_cycles(bus, 1, t)
        return bus.link.tx_bytes + bus.link.rx_bytes - before
    clean = cycle_bytes()
    assert clean == 24 + 26 * 3
    link.chain.boards[1].silent = True
    cycle_bytes()
    link.chain.boards[1].silent = False
    costs = [cycle_bytes() for _ in range(SEQ_HOLD + 2)]
    assert costs[:SEQ_HOLD] == [clean + 1] * SEQ_HOLD, costs   # 20 registers from board 2
    assert costs[SEQ_HOLD:] == [clean] * 2, costs
