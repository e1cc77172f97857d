# The generated parts of docs/soc.md: the current-sensor and SoC settings, the
# diagnosis rows the current sensor raises, and the OCV table with the weight the
# rested-OCV correction gives each point. Each lives between <!-- generated:NAME -->
# and <!-- end:NAME --> markers; tests/host/test_soc_docs.py fails when the file
# drifts. Regenerate with:  python -m tools.soc_docs --write

import os
import sys

from bms import config
from bms import diagnosis as D
from bms import ocv as O
from protocols.victron import alarms
from tools.markdown import regenerate, replace_sections
from tools.markdown import table as md_table
from tools.texts import config as config_texts
from tools.texts import diagnosis as diagnosis_texts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(ROOT, "docs", "soc.md")
FIRST = "current_sensor"       # first row of the block in bms/config.py
OWN_ROWS = (D.OVER_CURRENT_CHARGE, D.OVER_CURRENT_DISCHARGE, D.CURRENT_SENSOR)


def _num(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return ("%.3f" % x).rstrip("0").rstrip(".")
    return str(x)


def settings():
    rows = []
    on = False
    for row in config.SCHEMA:
        name, kind, default = row[config.NAME], row[config.KIND], row[config.DEFAULT]
        low, high, unit = row[config.LOW], row[config.HIGH], row[config.UNIT]
        text = config_texts.HELP[name]
        if name == FIRST:
            on = True
        if not on:
            continue
        if kind == config.CHOICE:
            rng = " / ".join(low)
        elif kind == config.BOOL:
            rng = "true / false"
        else:
            rng = "%s .. %s" % (_num(low), _num(high))
        rows.append(("`%s`" % name, _num(default), rng, unit, text))
    rules = []
    for a, rel, b, only_if, message in config.CROSS_CHECKS:
        if a.startswith(("current_", "soc_")) or b.startswith(("current_", "soc_")):
            rules.append("- `%s` < `%s`: %s" % (a, b, message))
    return (md_table(("setting", "default", "range", "unit", "meaning"), rows)
            + "\n\nChecked together (bms/config.py CROSS_CHECKS):\n\n" + "\n".join(rules))


def diagnosis():
    flags = {}
    for source, flag in alarms.MAP:
        flags[source] = flag
    rows = []
    for i in OWN_ROWS:
        r = D.ROWS[i]
        rows.append(("`%s`" % r[D.ID], r[D.SEVERITY], "%d ms" % r[D.SET_MS],
                     "%d ms" % r[D.CLEAR_MS], "`%s`" % (r[D.THRESHOLD_KEY] or "-"),
                     flags[r[D.ID]], diagnosis_texts.TEXT[r[D.ID]]))
    return md_table(("row", "severity", "set after", "clears after", "threshold",
                     "0x35A flag", "meaning"), rows)


def ocv_table():
    rows = []
    last = len(O.NCA) - 1
    for j in range(len(O.NCA)):
        soc, mv = O.NCA[j]
        pct = "%d" % (soc // 100) if soc % 100 == 0 else "%.1f" % (soc / 100.0)
        if j == last:
            rows.append((pct, str(mv), "-", "-"))
            continue
        # mv + 1 lies in the segment from this row to the next
        rows.append((pct, str(mv), "%.1f" % (O.slope_uv_per_pct(O.NCA, mv + 1) / 1000.0),
                     "%.2f" % (O.weight_pm(O.NCA, mv + 1) / 1000.0)))
    return md_table(("SoC %", "OCV mV", "slope to the next row, mV/%",
                     "OCV weight there"), rows)


SECTIONS = (("settings", settings), ("diagnosis", diagnosis), ("ocv", ocv_table))


def update(text):
    return replace_sections(text, SECTIONS, "docs/soc.md")


def main(argv):
    return regenerate(PATH, update, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
