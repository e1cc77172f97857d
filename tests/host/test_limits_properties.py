# Property tests of the limits policy (hypothesis): invariants a GX relies on hold
# for any pack state, permission and history.

from hypothesis import given, settings
from hypothesis import strategies as st

from bms import config
from bms.limits import Limits
from tests.fw.victron_support import summary_of

CFG = config.make()
CELLS = 12
MV = st.integers(min_value=2500, max_value=4300)
DC = st.integers(min_value=-300, max_value=800)
STEP = st.tuples(st.lists(MV, min_size=CELLS, max_size=CELLS), st.lists(DC, min_size=1, max_size=4),
                 st.booleans(), st.booleans(), st.sampled_from((0, 0, 0, 5000)))


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=12))
def test_invariants_over_any_history(steps):
    lim = Limits(CFG, CELLS)
    last_valid = None
    for cells, temps, charge, discharge, age in steps:
        s = summary_of(cells, temps, age)
        lim.update(s, charge, discharge)
        if s.valid:
            last_valid = s.v_pack
        assert lim.cvl_dv > 0, "CVL must never be 0"
        assert lim.dvl_dv == 390
        assert 0 <= lim.ccl_da <= 500 and 0 <= lim.dcl_da <= 1000
        assert lim.charge_allowed == (lim.ccl_da > 0)
        assert lim.discharge_allowed == (lim.dcl_da > 0)
        if not s.valid:
            assert lim.ccl_da == 0 and lim.dcl_da == 0
        if not charge:
            assert lim.ccl_da == 0
        if not discharge:
            assert lim.dcl_da == 0
        if lim.ccl_da > 0:
            assert s.valid and lim.cvl_dv <= 492, "never above series x charge_cell_v"
            assert s.v_max < 4110 and s.t_min > 0 and s.t_max < 500
            assert lim.cvl_dv * 100 >= min(s.v_pack, 39000) - 240 - 99, "never far below"
        else:
            # stopped: CVL at (or, once held, not above) the last valid pack voltage
            if last_valid is None:
                assert lim.cvl_dv == lim.dvl_dv
            else:
                assert lim.cvl_dv <= (last_valid + 99) // 100
        if lim.dcl_da > 0:
            assert s.v_min > 3250 and s.t_max < 600


@settings(max_examples=300, deadline=None)
@given(st.lists(MV, min_size=CELLS, max_size=CELLS), st.lists(DC, min_size=1, max_size=4))
def test_a_fresh_stop_holds_cvl_at_the_pack_voltage(cells, temps):
    lim = Limits(CFG, CELLS)
    s = summary_of(cells, temps)
    lim.update(s, False, True)
    assert lim.ccl_da == 0
    assert lim.cvl_dv * 100 - s.v_pack < 100, "not noticeably above the pack"
    if s.v_max <= 4100:
        assert lim.cvl_dv * 100 > s.v_pack - 100, "at the pack voltage (0.1 V steps)"
    else:  # the highest cell is over its target: the controller pulls CVL under the pack
        assert lim.cvl_dv * 100 >= s.v_pack - 12 * 20 - 99
