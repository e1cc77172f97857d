# Property tests of the CVL controller and the limits table (hypothesis): for any
# history of cells, temperatures, current, SoC and update intervals, CVL is never 0,
# never above series x charge_cell_v, never far below the pack; CCL/DCL stay within
# their maxima; a zero latched by the table is released only past its hysteresis.

from hypothesis import given, settings
from hypothesis import strategies as st

from bms import charge as C
from bms import config
from bms.charge import ChargeControl
from bms.limits import Limits
from tests.fw.victron_support import summary_of

CFG = config.make()
CELLS = 12
CAP_MV = 4100 * CELLS
STEP = st.tuples(
    st.lists(st.integers(2800, 4300), min_size=CELLS, max_size=CELLS),
    st.integers(-200, 600),                                   # one temperature, 0.1 degC
    st.one_of(st.none(), st.integers(-200000, 200000)),       # current mA
    st.one_of(st.none(), st.integers(0, 10000)),              # SoC 0.01 %
    st.sampled_from((0, 250, 1000, 5000, 60000)),             # ms since the last update
    st.sampled_from((0, 0, 0, 5000)))                         # data age


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=40))
def test_cvl_and_limits_invariants(steps):
    ctl = ChargeControl(CFG, CELLS)
    lim = Limits(CFG, CELLS)
    t = 0
    for cells, temp, cur, soc, dt, age in steps:
        t += dt
        s = summary_of(cells, [temp] * 4, age)
        before = ctl.cvl_mv
        ctl.update(t, s, cur, soc)
        lim.update(s, True, True, t, soc, ctl.cvl_dv)
        assert 0 < ctl.cvl_dv <= CAP_MV // 100
        assert 0 < lim.cvl_dv
        assert 0 <= C.BULK <= ctl.phase <= C.FLOAT
        assert 0 <= lim.ccl_da <= 500 and 0 <= lim.dcl_da <= 1000
        if s.valid:
            assert ctl.cvl_mv <= CAP_MV
            assert ctl.cvl_mv >= min(CAP_MV, max(ctl.floor_mv, s.v_pack - CELLS * 20))
            if before >= 0 and s.v_max >= ctl.target_mv[ctl.phase]:
                # at or over the target CVL never rises faster than the pack allows
                assert ctl.cvl_mv <= max(before, s.v_pack - CELLS * 20), (before, ctl.cvl_mv)
            if lim.ccl_da > 0:
                assert lim.cvl_dv == ctl.cvl_dv
                assert s.v_max < 4110 and s.t_min > 0 and s.t_max < 500
        else:
            assert lim.ccl_da == 0 and lim.dcl_da == 0
