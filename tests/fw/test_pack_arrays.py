# Pack.read_cells / read_temps: the whole pack in one call, as the summary reads it
# (both runtimes; on MicroPython the bus master's copy is native code).

from array import array

from bms.pack import TEMP_INVALID, PackSummary
from tests.fw.fake_pack import FakePack
from tests.fw.tesla_support import distinct_cells, make_bus, run_cycles


def test_default_walks_the_per_cell_methods():
    pack = FakePack([3900, 3950, 3800], [215, -35, TEMP_INVALID])
    cells = array("H", bytes(6))
    temps = array("h", bytes(6))
    pack.read_cells(cells)
    pack.read_temps(temps)
    assert list(cells) == [3900, 3950, 3800]
    assert list(temps) == [215, -35, TEMP_INVALID]


def test_bus_master_copy_equals_its_per_cell_values():
    bus, link, _diag, _changes = make_bus(3)
    distinct_cells(link)
    link.chain.set_temps(1, [-125, 30])        # below zero: two's complement inside
    link.chain.boards[2].open_therm = 2        # TS2 of the third board reads open
    run_cycles(bus, 3)
    cells = array("H", bytes(2 * bus.cell_count()))
    temps = array("h", bytes(2 * bus.temp_count()))
    bus.read_cells(cells)
    bus.read_temps(temps)
    assert list(cells) == [bus.cell_mv(i) for i in range(bus.cell_count())]
    assert list(temps) == [bus.temp_dc(j) for j in range(bus.temp_count())]
    assert cells[6] == 3100 and temps[2] == -125 and temps[5] == TEMP_INVALID, (cells, temps)


def test_summary_sized_at_construction_reads_in_place():
    pack = FakePack([3900, 3950, 3800, 4000], [215, 250, TEMP_INVALID])
    s = PackSummary(1, 4, 3)
    cells, temps = s.cells, s.temps
    assert s.update(pack, 0, 750)
    assert s.cells is cells and s.temps is temps     # no new arrays once sized
    assert (s.v_min, s.v_max, s.t_min, s.t_max, s.t_invalid) == (3800, 4000, 215, 250, 1)
    grown = FakePack([3900] * 6, [200] * 2)          # another pack: arrays follow it
    assert s.update(grown, 0, 750) and len(s.cells) == 6 and len(s.temps) == 2
