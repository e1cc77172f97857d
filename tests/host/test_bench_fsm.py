from tools.cli import main


def test_bench_fsm_prints_table_and_figures(capsys):
    assert main(["bench", "fsm", "--quick"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:2] == ["interpreter", "runtime"]
    figures = dict(kv.split("=") for kv in lines[-1].split())
    assert set(figures) == {"fsm_events_per_s_mpy", "fsm_events_per_s_cpython",
                            "transitions_events_per_s"}
    assert all(float(v) > 0 for v in figures.values())


def test_workload_ends_each_cycle_where_it_started():
    from tools.mpy.fsm_workload import CYCLE, drive, make_machine
    m = make_machine()
    states = []
    drive(lambda e, t, f: (m.dispatch(e, t, f), states.append(m.state_name)), len(CYCLE) * 2)
    assert m.state_name == "Init" and m.rejected == 0 and m.exceptions == 0
    for s in ("Precharge", "Run", "Balance", "Fault", "Init"):
        assert s in states
