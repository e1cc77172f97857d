# docs/event-log.md lists every event and its fields by hand; fsm.table.EVENT_FIELDS
# is what the machine checks. They must agree, field for field.

import os
import re

from fsm import table
from tests.host.firmware_files import ROOT


def _documented():
    text = open(os.path.join(ROOT, "docs", "event-log.md")).read()
    section = text.split("## Events and their fields", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        fields = tuple(re.findall(r"`(\w+)`", cells[1].split(":")[0]))
        for event in re.findall(r"`(\w+)`", cells[0]):
            found[event] = fields
    return found


def test_event_log_doc_lists_exactly_the_table_fields():
    want = dict((event, tuple(name for name, _ in spec)) for event, spec in table.EVENT_FIELDS)
    assert _documented() == want


def test_event_log_doc_names_every_rejection_reason():
    text = open(os.path.join(ROOT, "docs", "event-log.md")).read()
    for reason in ("unknown_event", "malformed", "no_row", "guard"):
        assert "`%s`" % reason in text, reason
