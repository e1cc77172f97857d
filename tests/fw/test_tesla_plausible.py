# Values that pass CRC-8 by chance must not reach the pack: the plausibility checks
# and the confirming second read (both runtimes).

import drivers.tesla_bus  # noqa: F401  first, while the heap is unfragmented (192K)
from protocols.tesla import codec
from protocols.tesla import frame as F
from tests.fw.tesla_support import LOSS, make_bus, run_cycles


def _corrupt_next_reply(link, addr, flips, fix_crc=False):
    """The next 23-byte reply from board addr comes back with (byte, mask) flipped
    (and its CRC recomputed with fix_crc: only the plausibility checks can see it)."""
    side = link.chain.uart
    write = side.write
    state = {"done": False, "frame": None}

    def corrupting(data):
        if not state["done"] and len(data) == 23 and data[0] == addr << 1:
            b = bytearray(data)
            for pos, mask in flips:
                b[pos] ^= mask
            if fix_crc:
                b[22] = codec.crc8(b, 0, 22)
            data = bytes(b)
            state["done"] = True
            state["frame"] = data
        return write(data)
    side.write = corrupting
    return state


def test_issue_reproduction_vcell1_bit13_and_crc_bit6_is_never_taken():
    bus, link, diag, _ = make_bus(2)
    t = run_cycles(bus, 2)
    assert bus.cell_mv(0) == 3700
    state = _corrupt_next_reply(link, 1, ((6, 0x20), (22, 0x40)))
    t = run_cycles(bus, 1, t)
    frame = state["frame"]
    assert frame is not None
    assert codec.parse_reply(frame, 1, 0, 19) == F.OK        # CRC-8 cannot see it
    assert ((frame[6] << 8) | frame[7]) * 6250 // 16383 < 600   # 575 mV if taken
    assert bus.cell_mv(0) == 3700 and bus.board_age_ms(0, t) == 0   # the re-read was taken
    assert bus.link.stats[F.E_DATA] >= 1
    assert not diag.active[LOSS]


def test_a_small_cell_error_the_module_voltage_cannot_see_needs_a_repeat():
    bus, link, diag, _ = make_bus(2)
    t = run_cycles(bus, 2)
    rereads = bus.rereads
    _corrupt_next_reply(link, 2, ((13, 0x10),), fix_crc=True)   # VCELL4 low byte: 6 mV
    t = run_cycles(bus, 1, t)
    assert bus.rereads == rereads + 1                     # suspect -> a second read
    assert bus.cell_mv(6 + 3) == 3700                     # the second read was taken
    assert not diag.active_ids()


def test_a_real_step_is_taken_after_one_repeat():
    bus, link, diag, _ = make_bus(2)
    t = run_cycles(bus, 2)
    rereads = bus.rereads
    link.chain.set_cells(1, [3650] * 6)                   # a load step: -50 mV
    link.chain.set_temps(0, [300, 300])                   # +5 degC
    t = run_cycles(bus, 1, t)
    assert bus.cell_mv(6) == 3650 and bus.board_age_ms(1, t) == 0
    assert abs(bus.temp_dc(0) - 300) <= 2 and bus.board_age_ms(0, t) == 0
    assert bus.rereads == rereads + 2
    t = run_cycles(bus, 3, t)
    assert bus.rereads == rereads + 2                     # steady again: no more
    assert not diag.active_ids()


def test_an_open_sensor_is_still_reported_after_its_repeat():
    from bms.pack import TEMP_INVALID
    bus, link, diag, _ = make_bus(2)
    t = run_cycles(bus, 2)
    link.chain.boards[1].open_therm = 2
    t = run_cycles(bus, 2, t)
    assert bus.temp_dc(3) == TEMP_INVALID and bus.board_age_ms(1, t) == 0


def test_module_voltage_far_from_its_cells_is_rejected_even_when_repeated():
    bus, link, diag, _ = make_bus(2, {"bus_module_tolerance_v": 0.1})
    t = run_cycles(bus, 2)
    board = link.chain.boards[0]
    convert = board._convert

    def skewed():
        convert()
        raw = ((board.regs[1] << 8) | board.regs[2]) + 100   # GPAI ~200 mV high
        board.regs[1] = raw >> 8
        board.regs[2] = raw & 0xFF
    board._convert = skewed
    t = run_cycles(bus, bus.fail_limit, t)
    assert bus.board_age_ms(0, t) > 0 and bus.board_age_ms(1, t) == 0
    assert diag.active[LOSS] and diag.detail[LOSS] == 1
    assert bus.link.stats[F.E_DATA] >= bus.fail_limit


def test_a_clean_line_needs_no_second_reads():
    bus, link, diag, _ = make_bus(4)
    t = run_cycles(bus, 2)
    rereads = bus.rereads
    t = run_cycles(bus, 20, t)
    assert bus.rereads == rereads and bus.link.retries_used == 0
    assert not diag.active_ids()
