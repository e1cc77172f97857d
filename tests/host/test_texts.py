# Doc-only text lives on the host (tools/texts/), keyed by the name of the firmware
# row it explains: every row must have its text, and no text may name a row that
# is gone, so the docs (and later the console and web page) never lose one.

from bms import config, diagnosis
from bms import limits
from fsm import table
from tools.texts import config as config_texts
from tools.texts import diagnosis as diagnosis_texts
from tools.texts import fsm as fsm_texts
from tools.texts import limits as limits_texts
from tools import victron_codec
import protocols.victron as V


def _same_keys(texts, names, what):
    assert set(texts) == set(names), "%s: missing %s, stale %s" % (
        what, sorted(set(names) - set(texts)), sorted(set(texts) - set(names)))
    for name in names:
        assert isinstance(texts[name], str) and len(texts[name]) > 10, (what, name)


def test_notes_cover_every_state():
    _same_keys(fsm_texts.STATE_NOTES, table.STATES, "state notes")
    _same_keys(fsm_texts.CAN_NOTES, table.STATES, "CAN notes")


def test_every_setting_has_its_help_text():
    _same_keys(config_texts.HELP, [row[config.NAME] for row in config.SCHEMA], "config help")


def test_every_diagnosis_row_has_its_text():
    _same_keys(diagnosis_texts.TEXT, [row[diagnosis.ID] for row in diagnosis.ROWS], "diagnosis text")


def test_every_limits_reason_has_its_text():
    _same_keys(limits_texts.WHY, [r[limits.R_NAME] for r in limits.REASONS], "limits reasons")


def test_every_victron_frame_has_its_name_and_description():
    assert tuple(r[0] for r in victron_codec.FRAME_NAMES) == V.PERIODIC
    for fid, name, what in victron_codec.FRAME_NAMES:
        assert name and len(what) > 10, fid


def test_every_recovery_policy_has_its_text():
    _same_keys(diagnosis_texts.RECOVERY, [diagnosis.LATCH, diagnosis.AUTO], "recovery text")
