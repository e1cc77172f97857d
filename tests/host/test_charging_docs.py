# docs/charging.md names every phase, transition condition, derating-table setting,
# heater blocking diagnosis and new diagnosis row, so the tables and the text that
# explains them cannot drift apart silently.

import os

from bms import charge, derate, diagnosis, heater

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "charging.md")


def _doc():
    with open(DOC) as f:
        return f.read()


def test_every_phase_and_condition_is_documented():
    text = _doc()
    for name, key in charge.PHASES:
        assert "| %s |" % name in text, name
        assert key in text, key
    for cond in charge.CONDITION_NAMES:
        assert "`%s`" % cond in text, cond


def test_every_derating_row_setting_is_documented():
    text = _doc()
    for row in derate.TABLE:
        for key in row[2:7]:
            if isinstance(key, str):
                assert "`%s`" % key in text, key


def test_heater_blocking_and_new_diagnoses_are_documented():
    text = _doc()
    for i in heater.BLOCKING_DIAGS + (diagnosis.CHARGE_OVERSHOOT,):
        assert diagnosis.ROWS[i][diagnosis.ID] in text, diagnosis.ROWS[i][diagnosis.ID]
