from bms import config, diagnosis as D


def test_table_is_consistent():
    ids = set()
    names = set(r[config.NAME] for r in config.SCHEMA)
    for row in D.ROWS:
        assert len(row) == D.RECOVERY + 1  # each row's text: tests/host/test_texts.py
        ident, severity, quantity, compare, key, set_ms, clear_ms, clears, recovery = row
        assert recovery in (D.LATCH, D.AUTO), ident
        assert severity == D.FAULT or recovery == D.AUTO, ident  # a warning never latches
        assert ident not in ids, ident
        ids.add(ident)
        assert severity in (D.WARN, D.FAULT)
        assert clears in (D.CONDITION, D.RESET)
        assert key is None or key in names, key
        assert (quantity is None) == (compare is None)
        assert compare in (None, ">", "<")
        assert 0 <= set_ms <= 5000 and 0 <= clear_ms <= 60000


def test_reaction_budgets():
    # foxBMS-style budgets: voltage faults react within ~0.7 s, temperature within a few s.
    for ident in ("cell_ov", "cell_uv"):
        assert D.ROWS[D.index(ident)][D.SET_MS] <= 700
    for ident in ("temp_high", "temp_low"):
        assert D.ROWS[D.index(ident)][D.SET_MS] <= 5000


def test_unknown_id_maps_to_internal():
    assert D.index("nope") == D.INTERNAL and not D.known("nope") and D.known("cell_ov")


def test_debounce_sets_and_clears():
    flips = []
    d = D.Diagnosis(lambda i, active, t: flips.append((D.ROWS[i][0], active, t)))
    ov = D.CELL_OV
    d.report(ov, True, 1000, detail=3)
    d.report(ov, True, 1400)
    assert not d.active[ov]
    d.report(ov, False, 1450)  # a glitch restarts the debounce
    d.report(ov, True, 1500)
    d.report(ov, True, 1999)
    assert not d.active[ov]
    d.report(ov, True, 2000, detail=7)
    assert d.active[ov] and d.detail[ov] == 7
    assert flips == [("cell_ov", 1, 2000)]
    d.report(ov, False, 2100)
    d.report(ov, False, 2599)
    assert d.active[ov]
    d.report(ov, False, 2600)
    assert not d.active[ov] and flips[-1] == ("cell_ov", 0, 2600)
    assert d.any_active(D.FAULT) is False


def test_zero_debounce_is_immediate_and_reset_rows_need_acknowledge():
    d = D.Diagnosis()
    loss = D.COMM_LOSS
    d.report(loss, True, 5)
    assert d.active[loss] and d.any_active(D.FAULT) and not d.any_active(D.WARN)
    pf = D.PRECHARGE_FAILED
    d.latch(pf, 10, detail=3)
    d.latch(pf, 11)
    d.report(pf, False, 20)
    assert d.active[pf]
    assert d.active_ids() == ["comm_loss", "precharge_failed"]
    d.acknowledge(30)
    assert d.active_ids() == ["comm_loss"]


def test_contactor_feedback_debounce_covers_operate_time_and_latches():
    d = D.Diagnosis()
    fb = D.CONTACTOR_FEEDBACK
    d.report(fb, True, 0, detail=2)
    d.report(fb, False, 50)   # contact closed within its operate time: no fault
    d.report(fb, True, 1000)
    d.report(fb, True, 1199)
    assert not d.active[fb]
    d.report(fb, True, 1200, detail=2)
    assert d.active[fb] and d.detail[fb] == 2
    d.report(fb, False, 5000)
    assert d.active[fb], "a welded contactor stays a fault until an operator reset"


def test_sporadic_comm_errors_stay_visible_after_the_last_one():
    d = D.Diagnosis()
    e = D.COMM_ERRORS
    t = 0
    for cycle in range(41):  # one bad cycle in five, 250 ms apart, ending on a bad one
        t += 250
        d.report(e, cycle % 5 == 0, t)
        assert d.active[e], cycle
    last_bad = t
    while t < last_bad + 10000:  # the first clean report starts the 10 s hold
        t += 250
        d.report(e, False, t)
        assert d.active[e], t - last_bad
    t += 250
    d.report(e, False, t)
    assert not d.active[e]


def test_every_row_has_its_constant_and_units_round_one_way():
    from bms import units
    for i in range(D.COUNT):
        assert D.index(D.ROWS[i][D.ID]) == i
    assert D.CELL_OV == D.index("cell_ov") and D.FAULT_LATCHED == D.index("fault_latched")
    assert units.mv(4.1) == 4100 and units.mv(0.0005) == 1 and units.mv(-0.0005) == -1
    assert units.dc(-10.05) == -101 and units.dc(65.0) == 650 and units.ma(-0.0004) == 0


def test_dangerous_faults_latch_until_an_operator_reset():
    # A dangerous fault never re-closes unattended (issue 19's recovery policy).
    for i in (D.CELL_OV, D.CELL_UV, D.TEMP_HIGH, D.CONTACTOR_FEEDBACK, D.PRECHARGE_FAILED,
              D.OVER_CURRENT_CHARGE, D.OVER_CURRENT_DISCHARGE, D.CURRENT_SENSOR,
              D.INTERNAL, D.FAULT_LATCHED, D.TEMP_SENSOR):
        assert D.ROWS[i][D.RECOVERY] == D.LATCH, D.ROWS[i][D.ID]
    for i in (D.COMM_LOSS, D.DATA_STALE, D.BOARD_FAULT, D.MODULE_COUNT):
        assert D.ROWS[i][D.RECOVERY] == D.AUTO, D.ROWS[i][D.ID]
