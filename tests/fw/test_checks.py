from bms import config, diagnosis as D
from bms.checks import LimitChecks
from bms.pack import AGE_NEVER, TEMP_INVALID, Pack, PackSummary
from tests.fw.fake_pack import FakePack
from tests.fw.support import raises


def test_interface_methods_fail_loudly_until_implemented():
    p = Pack()
    for name in ("cell_count", "temp_count", "stop_balance"):
        raises(NotImplementedError, getattr(p, name))
    for name in ("cell_mv", "temp_dc", "age_ms", "poll", "set_balance"):
        raises(NotImplementedError, getattr(p, name), 0)


def test_summary_extremes_and_string_voltage():
    s = PackSummary(strings=2)
    pack = FakePack([3900, 3950, 3800, 4000], [215, 250, TEMP_INVALID])
    assert s.update(pack, 0, 750)
    assert (s.v_min, s.i_min, s.v_max, s.i_max, s.spread) == (3800, 2, 4000, 3, 200)
    assert s.v_pack == (3900 + 3950 + 3800 + 4000) // 2
    assert (s.t_min, s.j_min, s.t_max, s.j_max, s.t_invalid) == (215, 0, 250, 1, 1)


def test_summary_stale_or_empty_is_invalid():
    s = PackSummary()
    assert not s.update(FakePack([3900], [200], age=AGE_NEVER), 0, 750)
    assert not s.update(FakePack([], [], age=0), 0, 750)


def test_summary_without_any_sensor_is_hot_and_cold():
    s = PackSummary()
    s.update(FakePack([3900], [TEMP_INVALID, TEMP_INVALID]), 0, 750)
    assert s.t_min < -1000 and s.t_max > 1000 and s.t_invalid == 2


def _rig(cells, temps, age=0):
    d = D.Diagnosis()
    checks = LimitChecks(config.make(), d)
    pack = FakePack(cells, temps, age)
    summary = PackSummary()
    return d, checks, pack, summary


def _run(d, checks, pack, summary, t_from, t_to, step=100):
    for t in range(t_from, t_to + 1, step):
        summary.update(pack, t, 750)
        checks.evaluate(summary, t)


def test_over_voltage_raises_after_debounce_with_table_threshold():
    d, checks, pack, s = _rig([4100, 4201], [250])
    _run(d, checks, pack, s, 0, 400)
    assert not d.active[D.CELL_OV]
    assert not d.active[D.CELL_OV_WARN]
    _run(d, checks, pack, s, 500, 600)
    assert d.active[D.CELL_OV]
    assert d.active_ids() == ["cell_ov"], d.active_ids()  # warn debounce is 1 s
    _run(d, checks, pack, s, 700, 1100)
    assert "cell_ov_warn" in d.active_ids()


def test_under_voltage_cold_and_sensor_faults():
    d, checks, pack, s = _rig([2990, 3300], [-120, TEMP_INVALID])
    _run(d, checks, pack, s, 0, 5000)
    ids = d.active_ids()
    for ident in ("cell_uv", "cell_uv_warn", "temp_low", "temp_low_warn", "temp_sensor", "cell_imbalance"):
        assert ident in ids, (ident, ids)
    assert "cell_ov" not in ids and "temp_high" not in ids


def test_stale_data_raises_stale_and_freezes_cell_rows():
    d, checks, pack, s = _rig([4300], [250])
    _run(d, checks, pack, s, 0, 1000)
    assert d.active[D.CELL_OV]
    pack.age = 800
    pack.cells = [3700]
    _run(d, checks, pack, s, 1100, 3000)
    assert d.active[D.DATA_STALE]
    assert d.active[D.CELL_OV], "stale data must not clear a fault"
    pack.age = 0
    _run(d, checks, pack, s, 3100, 4000)
    assert not d.active[D.DATA_STALE] and not d.active[D.CELL_OV]
