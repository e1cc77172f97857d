# docs/victron-can.md: its generated tables equal what the code says now.

from tools import victron_docs


def test_generated_sections_do_not_drift():
    with open(victron_docs.PATH) as f:
        text = f.read()
    assert victron_docs.update(text) == text, "run: python -m tools.victron_docs --write"


def test_doc_states_the_safety_rules():
    with open(victron_docs.PATH) as f:
        text = f.read()
    for needle in ("Never 0", "Stop charging", "Stale or missing", "Off grid: DCL = 0",
                   "Setting up the GX", "not supported", "pyBMS"):
        assert needle in text, needle


def test_examples_never_show_cvl_zero():
    for line in victron_docs.examples().splitlines():
        if line.startswith("| ") and not line.startswith("| situation"):
            cvl = float(line.split("|")[2])
            assert cvl > 0, line


def test_docs_rows_cover_the_map():
    # (moved from tests/fw/test_victron_alarms.py with the function it tests)
    from protocols.victron import alarms
    rows = victron_docs.alarm_rows()
    assert len(rows) == len(alarms.MAP)
    for source, sev, flag, half in rows:
        assert half in (alarms.ALARM, alarms.WARNING)
