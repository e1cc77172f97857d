# The Tesla bus master against injected faults: silent, corrupt, late, reset boards,
# a broken ring, noise, sensor and protection faults (both runtimes).

import drivers.tesla_bus  # noqa: F401  first, while the heap is unfragmented (192K)
from bms.pack import AGE_NEVER, TEMP_INVALID
from protocols.tesla import registers as R
from tests.fw.tesla_support import (ALERT, ERRORS, FAULT, LOSS, bus_skip_discovery,
                                     distinct_cells, make_bus, poll_checking, run_cycles)


def test_silent_board_is_lost_after_fail_limit_and_recovers():
    bus, link, diag, changes = make_bus(4)
    t = run_cycles(bus, 2)
    link.chain.boards[2].silent = True
    limit = bus.fail_limit
    t = run_cycles(bus, limit - 1, t)
    assert not diag.active[LOSS]
    assert diag.active[ERRORS]
    t = run_cycles(bus, 1, t)
    assert diag.active[LOSS] and diag.detail[LOSS] == 3
    assert bus.board_age_ms(2, t) == limit * 250
    assert bus.board_age_ms(1, t) == 0
    assert bus.age_ms(t) == limit * 250       # the pack is as old as its oldest board
    link.chain.boards[2].silent = False
    t = run_cycles(bus, 1, t)
    assert not diag.active[LOSS]
    assert bus.age_ms(t) == 0
    assert (LOSS, 1, t - 250) in changes and (LOSS, 0, t) in changes


def test_corrupt_replies_are_never_taken():
    bus, link, diag, _ = make_bus(3)
    t = run_cycles(bus, 1)
    link.chain.boards[1].bad_crc = True
    link.chain.set_cells(1, [4100] * 6)
    t = run_cycles(bus, 2, t)
    assert bus.cell_mv(6) == 3700               # old value kept, not the corrupt frame's
    assert bus.board_age_ms(1, t) == 500
    assert bus.link.stats[7] >= 2                    # E_CRC counted
    assert bus.frame_errors[1] >= 2 and bus.frame_errors[0] == 0
    link.chain.boards[1].bad_crc = False
    t = run_cycles(bus, 1, t)
    assert bus.cell_mv(6) == 4100


def test_late_board_does_not_shift_replies_onto_the_next_board():
    bus, link, diag, _ = make_bus(3, {"bus_retries": 1})
    distinct_cells(link)
    t = run_cycles(bus, 1)
    truth = ([3000 + 10 * c for c in range(6)], [4000] * 6, [3500] * 6)
    link.chain.set_cells(1, truth[1])
    link.chain.set_cells(2, truth[2])
    link.chain.boards[1].late_ms = 8           # beyond the 3 ms timeout
    fresh3 = 0
    for _ in range(4):
        t = run_cycles(bus, 1, t)
        for b in range(3):                     # a fresh board always holds its own values
            if bus.board_age_ms(b, t) == 0:
                assert [bus.cell_mv(b * 6 + c) for c in range(6)] == truth[b], b
        if bus.board_age_ms(2, t) == 0:
            fresh3 += 1
    assert fresh3 >= 1
    assert bus.link.stats[1] >= 1                    # timeouts counted


def test_open_and_shorted_thermistors_read_invalid():
    bus, link, diag, _ = make_bus(2)
    link.chain.boards[0].open_therm = 1
    link.chain.boards[1].short_therm = 2
    run_cycles(bus, 2)
    assert bus.temp_dc(0) == TEMP_INVALID
    assert bus.temp_dc(1) != TEMP_INVALID
    assert bus.temp_dc(2) != TEMP_INVALID
    assert bus.temp_dc(3) == TEMP_INVALID


def test_stuck_board_keeps_its_values():
    bus, link, diag, _ = make_bus(2)
    run_cycles(bus, 1)
    link.chain.boards[0].stuck = True
    link.chain.set_cells(0, [3900] * 6)
    run_cycles(bus, 2, 250)
    assert bus.cell_mv(0) == 3700              # the emulator froze its ADC registers


def test_hardware_over_voltage_is_a_board_fault_until_cleared():
    bus, link, diag, _ = make_bus(3)
    t = run_cycles(bus, 1)
    link.chain.set_cells(1, [3700, 3700, 4300, 3700, 3700, 3700])  # above hw_cov 4.25
    t = run_cycles(bus, 1, t)
    assert diag.active[FAULT] and diag.detail[FAULT] == 2
    assert bus.cov[1] == 0x04 and bus.fault_bits[1] & R.FS_COV
    link.chain.set_cells(1, [3700] * 6)
    t = run_cycles(bus, 1, t)
    assert diag.active[FAULT]                   # latched on the board
    assert bus.clear_faults()
    t = run_cycles(bus, 1, t)
    assert not diag.active[FAULT]


def test_over_temperature_alert():
    bus, link, diag, _ = make_bus(2)
    t = run_cycles(bus, 1)
    link.chain.set_temps(0, [250, 750])         # TS2 above 70 degC
    t = run_cycles(bus, 1, t)
    assert diag.active[ALERT] and diag.detail[ALERT] == 1
    assert bus.alerts[0] & R.AL_OT2


def test_broken_ring_fails_everything_then_recovers():
    bus, link, diag, _ = make_bus(3)
    t = run_cycles(bus, 1)
    link.chain.boards[1].break_ring = True
    t = run_cycles(bus, bus.fail_limit, t)
    assert diag.active[LOSS] and diag.detail[LOSS] == 1
    assert bus.age_ms(t) == bus.fail_limit * 250
    link.chain.boards[1].break_ring = False
    t = run_cycles(bus, 1, t)
    assert not diag.active[LOSS] and bus.age_ms(t) == 0


def test_board_reset_at_runtime_is_readdressed():
    bus, link, diag, _ = make_bus(3)
    t = run_cycles(bus, 1)
    link.chain.boards[1].reset(0)               # brown-out: address 0, OTP thresholds
    t = run_cycles(bus, bus.fail_limit, t)
    assert link.chain.addresses() == [1, 2, 3]  # recovery gave it its address back
    t = run_cycles(bus, 1, t)
    assert not diag.active[LOSS] and bus.age_ms(t) == 0
    assert bytes(link.chain.boards[1].regs[R.CONFIG_COV:R.CONFIG_OTT + 1]) == bus.cfg_codes


def test_noise_never_yields_a_wrong_value():
    bus, link, diag, _ = make_bus(4, {"bus_retry_budget": 32}, noise=0.01, seed=7)
    distinct_cells(link)
    t, good = poll_checking(bus, 4, lambda b, c: 3000 + 100 * b + 10 * c, 25)
    assert sum(link.chain.injected) > 0
    assert good > 60, good
    assert sum(bus.link.stats) > 0


def test_uart_error_is_reported_not_raised():
    class Broken:
        def any(self):
            raise OSError(5)

        def write(self, data):
            raise OSError(5)

        def readinto(self, buf, n=-1):
            raise OSError(5)

    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.tesla_bus import TeslaBus
    diag = Diagnosis()
    bus = TeslaBus(Broken(), config.make({"module_count": 2, "bus_reset_wait_ms": 0}), diag)
    for k in range(4):
        bus.poll(k * 250)
    assert diag.active[LOSS] and bus.age_ms(1000) == AGE_NEVER


def test_poll_wall_time_stays_within_the_documented_bound():
    from drivers.clock import ticks_diff, ticks_ms
    bus, link, diag, _ = make_bus(6, {"bus_timeout_ms": 3, "bus_retry_budget": 4})
    t = run_cycles(bus, 1)
    for b in link.chain.boards:
        b.silent = True                    # broadcasts still echo: every read times out
    bound = bus.worst_case_ms()
    worst = 0
    for _ in range(4):
        t += 250
        t0 = ticks_ms()
        bus.poll(t)
        worst = max(worst, ticks_diff(ticks_ms(), t0))
    assert worst <= bound, (worst, bound)
    assert diag.active[LOSS]


def test_a_babbling_line_cannot_hold_the_cycle():
    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.clock import ticks_diff, ticks_ms
    from drivers.tesla_bus import TeslaBus

    class Babbler:
        """Always has bytes waiting, none of them a frame."""

        def any(self):
            return 64

        def readinto(self, buf, n=-1):
            k = len(buf) if n < 0 else min(n, len(buf))
            for i in range(k):
                buf[i] = 0x55
            return k

        def write(self, data):
            return len(data)

    diag = Diagnosis()
    bus = TeslaBus(Babbler(), config.make({"module_count": 4, "bus_timeout_ms": 2,
                                           "bus_reset_wait_ms": 0}), diag)
    bus_skip_discovery(bus)
    t0 = ticks_ms()
    for k in range(3):
        bus.poll(k * 250)
    assert ticks_diff(ticks_ms(), t0) <= 3 * bus.worst_case_ms()
    assert bus.age_ms(500) == AGE_NEVER and bus.link.stats[10] > 0


def test_discovery_under_noise_never_gives_an_address_twice():
    for seed in range(1, 9):
        bus, link, diag, _ = make_bus(5, {"bus_retries": 1}, noise=0.02, seed=seed)
        t = 0
        for _ in range(12):                    # rediscovery every 2 s until it succeeds
            t += 250
            bus.poll(t)
            given = [a for a in link.chain.addresses() if a]
            assert len(given) == len(set(given)), (seed, link.chain.addresses())
            if bus.discovered:
                assert link.chain.addresses() == [1, 2, 3, 4, 5]


def test_drdy_check_rejects_unfinished_conversions_and_can_be_turned_off():
    # Proven masters never read DRDY; if real boards do not set it, the check must
    # fail safe (comm_loss, nothing stale handed on) and the switch must recover it.
    bus, link, diag, _ = make_bus(2)
    for b in link.chain.boards:
        b.no_drdy = True
    t = run_cycles(bus, bus.fail_limit + 2)
    assert diag.active[LOSS] and bus.age_ms(t) > 0
    bus, link, diag, _ = make_bus(2, {"bus_check_drdy": False})
    distinct_cells(link)
    for b in link.chain.boards:
        b.no_drdy = True
    t = run_cycles(bus, 3)
    assert not diag.active[LOSS] and bus.age_ms(t) == 0
    assert bus.cell_mv(7) == 3000 + 100 * 1 + 10 * 1
