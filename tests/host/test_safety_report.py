# docs/safety.md is generated from the firmware's tables and the committed figures
# of `pybms bench e2e`: it must not drift, and it must cover every row.

from bms import diagnosis as D
from tools import e2e, safety_report


def test_the_committed_safety_report_matches_the_code():
    with open(safety_report.REPORT) as f:
        committed = f.read()
    assert committed == safety_report.render(), \
        "docs/safety.md drifted from the tables: run `pybms safety-report`"


def test_every_diagnosis_row_and_fault_scenario_is_in_the_report():
    text = safety_report.render()
    for row in D.ROWS:
        assert "| `%s` |" % row[D.ID] in text, row[D.ID]
    for row in e2e.FAULTS:
        assert "`%s`" % row[e2e.F_SCENARIO] in text


def test_every_fault_row_has_a_budget_and_every_latching_row_says_so():
    cfg = safety_report.C.make(None)
    for row in D.ROWS:
        b = safety_report.budget_ms(row[D.ID], cfg)
        assert (b is not None) == (row[D.SEVERITY] == D.FAULT), row[D.ID]
        if b is not None:
            assert b >= row[D.SET_MS] + e2e.REACTION_GOAL_MS


def test_measured_reactions_come_from_the_figures_file():
    figures = {"source": "test", "scenarios": {"comm-loss": {
        "raised": "comm_loss", "open_ms": 4321, "alarm_ms": 1, "debounce_ms": 750,
        "can_gap_ms": 1000}}}
    text = safety_report.render(figures)
    assert "4321 ms" in text
    assert "4321 ms" not in safety_report.render({"scenarios": {}})


def test_check_mode_reports_drift(tmp_path, capsys):
    from tools import cli
    out = tmp_path / "safety.md"
    out.write_text("stale\n")
    assert cli.main(["safety-report", "--check", "-o", str(out)]) == 1
    assert cli.main(["safety-report", "-o", str(out)]) == 0
    assert cli.main(["safety-report", "--check", "-o", str(out)]) == 0
