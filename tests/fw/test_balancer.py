# The generic balancer over a Pack: top gate, permission, settle window with a fresh
# reading, target from the lowest cell with a dead band, proportional bleed time,
# floor and per-module thermal limit.

from bms import balancer as B
from bms import config
from bms.balancer import Balancer
from bms.pack import PackSummary
from tests.fw.fake_pack import FakePack
from tests.fw.support import raises

CFG = config.make()


class AgingPack(FakePack):
    """A FakePack whose reading is `age` ms old (a fresh poll sets it to 0)."""

    def poll(self, t_ms):
        self.age = 0


def _setup(cells=None, temps=None, cfg=CFG):
    pack = AgingPack(cells or [4050] * 12, temps or [250] * 4)
    s = PackSummary()
    s.update(pack, 0, 750)
    return pack, s, Balancer(cfg, 12, 6, 2)


def _step(b, pack, s, t, permitted=True, top=True, current_ma=None):
    s.update(pack, t, 750)
    return b.update(t, pack, s, permitted, top, current_ma)


def test_settles_then_bleeds_cells_above_lowest_plus_start_for_time_proportional_to_excess():
    cells = [4050] * 12
    cells[2] = 4060          # 10 mV: starts (> 8 mV), excess over target 7 mV
    cells[9] = 4080          # module 1, cell 3: excess 27 mV -> whole window
    cells[5] = 4056          # 6 mV: inside the dead band, never starts
    pack, s, b = _setup(cells)
    assert not _step(b, pack, s, 0) and b.state == B.SETTLE and b.bleeding == 0
    assert not _step(b, pack, s, 2999)
    assert _step(b, pack, s, 3000) and b.state == B.BLEED and b.windows == 1
    assert b.masks == [1 << 2, 1 << 3] and b.bleeding == 2
    assert 10 * b.bleed_10ms[2] == 7 * 20000 and 10 * b.bleed_10ms[9] == 27 * 20000
    assert b.window_ms == 27 * 20000, "the window lasts as long as the longest bleed"
    _step(b, pack, s, 3000 + 140000)
    assert b.masks == [0, 1 << 3], "cell 2 had its share of the window"
    pack.cells[9] = 4200                  # a big excess is capped at 10 min per window
    _step(b, pack, s, 3000 + 540000)
    _step(b, pack, s, 3000 + 543000)
    assert 10 * b.bleed_10ms[9] == B.WINDOW_MAX_MS == b.window_ms
    assert b.wanted


def test_a_reading_older_than_the_settle_is_not_used():
    pack, s, b = _setup([4050] * 11 + [4080])
    _step(b, pack, s, 0)
    pack.age = 600                        # read before the resistors were off 3 s
    _step(b, pack, s, 3500)
    assert b.state == B.SETTLE and b.bleeding == 0
    pack.age = 400
    _step(b, pack, s, 3600)
    assert b.state == B.BLEED
    assert b.state == B.BLEED


def test_window_ends_in_a_settle_with_everything_off():
    pack, s, b = _setup([4050] * 11 + [4080])
    _step(b, pack, s, 0)
    _step(b, pack, s, 3000)
    assert b.bleeding == 1
    assert not _step(b, pack, s, 4000)
    assert _step(b, pack, s, 3000 + 540000) and b.state == B.SETTLE and b.masks == [0, 0]
    assert _step(b, pack, s, 3000 + 543000) and b.bleeding == 1 and b.windows == 2


def test_masks_are_renewed_before_the_boards_own_timer_stops_them():
    pack, s, b = _setup([4050] * 11 + [4080])
    _step(b, pack, s, 0)
    assert _step(b, pack, s, 3000)
    assert not _step(b, pack, s, 7999)
    assert _step(b, pack, s, 8000), "balance_time_s / 2"


def test_hysteresis_keeps_a_chosen_cell_down_to_the_target():
    cells = [4050] * 12
    cells[0] = 4060
    pack, s, b = _setup(cells)
    _step(b, pack, s, 0)
    _step(b, pack, s, 3000)
    assert b.masks[0] == 1
    pack.cells[0] = 4055                  # below start, above target (4053)
    _step(b, pack, s, 3000 + 140000)      # the 7 mV window (140 s) ends
    _step(b, pack, s, 3000 + 143000)
    assert b.masks[0] == 1 and 10 * b.bleed_10ms[0] == 2 * 20000 and b.window_ms == 60000
    pack.cells[0] = 4053                  # at the target: done
    _step(b, pack, s, 146000 + 60000)
    _step(b, pack, s, 146000 + 63000)
    assert b.masks[0] == 0 and b.state == B.SETTLE


def test_gate_top_rest_permission():
    pack, s, b = _setup([4050] * 11 + [4080])
    _step(b, pack, s, 0, top=False)
    assert b.state == B.IDLE and not b.wanted
    _step(b, pack, s, 100, permitted=False)
    assert b.wanted and b.state == B.IDLE, "wanted: the caller asks for Balance"
    t = 200
    for _ in range(601):
        _step(b, pack, s, t, top=False, current_ma=1500)
        t += 1000
    assert b.state != B.IDLE, "rested balance_rest_s below balance_rest_a"
    _step(b, pack, s, t, top=False, current_ma=5000)
    assert b.state == B.IDLE and b.masks == [0, 0]
    low = [3850] * 11 + [3890]            # below balance_v: mid-curve, no balancing
    pack2, s2, b2 = _setup(low)
    _step(b2, pack2, s2, 0)
    assert b2.state == B.IDLE and not b2.wanted


def test_floor_and_module_temperature_limits():
    cfg = config.make({"balance_v": 3.9, "balance_floor_v": 3.8})
    pack = AgingPack([3790] * 6 + [3950] * 5 + [4000], [250] * 4)
    s = PackSummary()
    b = Balancer(cfg, 12, 6, 2)
    _step(b, pack, s, 0)
    _step(b, pack, s, 3000)
    assert b.masks == [0, 0b111111], "cells above the floor only"
    pack.temps[3] = 510                   # module 1 too warm
    _step(b, pack, s, 3100)
    assert b.masks == [0, 0] and b.bleeding == 0
    pack.temps[3] = -32768                # failed thermistor: not trusted either
    _step(b, pack, s, 3200)
    assert b.masks == [0, 0]
    pack.temps[3] = 250
    _step(b, pack, s, 3300)
    assert b.masks[1] == 0b111111


def test_stale_data_stops_bleeding():
    pack, s, b = _setup([4050] * 11 + [4080])
    _step(b, pack, s, 0)
    _step(b, pack, s, 3000)
    pack.age = 5000
    assert _step(b, pack, s, 3100) and b.masks == [0, 0] and b.state == B.IDLE


def test_bad_geometry_is_refused():
    raises(ValueError, Balancer, CFG, 13, 6, 2)
