# The generated parts of docs/victron-can.md: frame layout, limits settings,
# worked policy examples, alarm map, which states transmit. Each lives between
# <!-- generated:NAME --> and <!-- end:NAME --> markers; the prose around them is
# written by hand. tests/host/test_victron_docs.py fails when the file drifts;
# regenerate with:  python -m tools.victron_docs --write

import os
import sys

import protocols.victron as V
from bms import config
from bms import diagnosis as D
from bms import limits as L
from bms.pack import PackSummary
from fsm import table
from protocols.victron import alarms
from tools import victron_codec as codec
from tools.markdown import regenerate, replace_sections
from tools.markdown import table as md_table
from tools.texts import config as config_texts
from tools.texts import diagnosis as diagnosis_texts
from tools.texts import fsm as fsm_texts
from tools.texts import limits as limits_texts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(ROOT, "docs", "victron-can.md")
SECTION = "limits and Victron"
EXAMPLE_CELLS = 12  # two Tesla Model S modules (6 cell groups each) in series


def _num(x):
    if isinstance(x, float) and x != int(x):
        return ("%.3f" % x).rstrip("0")
    return str(int(x)) if isinstance(x, float) else str(x)


def frames():
    rows = []
    names = dict((r[0], r) for r in codec.FRAME_NAMES)
    for fid in V.PERIODIC:
        first = True
        for f in codec.fields_of(fid):
            if fid == 0x35A and f[V.F_NAME] not in ("alarm_general", "warning_general"):
                continue
            start, bits = f[V.F_START], f[V.F_BITS]
            where = ("bytes %d-%d" % (start // 8, (start + bits) // 8 - 1)) if bits >= 8 \
                else "bits %d-%d" % (start, start + bits - 1)
            kind = {"u": "u%d" % bits, "s": "s%d" % bits, "a": "ASCII"}[f[V.F_KIND]]
            scale = ""
            if f[V.F_KIND] != V.A:
                scale = "%s %s" % (_num(1.0 / f[V.F_DIV]) if f[V.F_DIV] != 1 else "1", f[V.F_UNIT])
                if f[V.F_OFFSET]:
                    scale += " (raw in K)"
            rng = "" if f[V.F_KIND] == V.A else "%s .. %s" % (_num(f[V.F_LOW]), _num(f[V.F_HIGH]))
            name = f[V.F_NAME]
            if fid == 0x35A:
                name = name.replace("general", "*flag*") + " (13 flags, 2 bits each)"
                where = "bytes 0-3" if name.startswith("alarm") else "bytes 4-7"
            rows.append(("0x%03X" % fid if first else "", names[fid][1] if first else "", where,
                         "`%s`" % name, kind, scale.strip(), rng))
            first = False
    return md_table(("id", "name", "bytes / bits", "field", "type", "unit",
                     "range (engineering)"), rows)


def settings():
    rows = []
    on = False
    for row in config.SCHEMA:
        name = row[config.NAME]
        if name == "charge_cell_v":
            on = True
        if name == "current_sensor":
            break  # the current sensor and SoC block is documented in docs/soc.md
        if on:
            rows.append(("`%s`" % name, _num(row[config.DEFAULT]),
                         "%s .. %s" % (_num(row[config.LOW]), _num(row[config.HIGH])),
                         row[config.UNIT], config_texts.HELP[name]))
    return md_table(("setting", "default", "range", "unit", "meaning"), rows)


class _S(PackSummary):
    def __init__(self, v_cell, v_min=None, v_max=None, t_min=250, t_max=250, valid=True):
        PackSummary.__init__(self, 1)
        self.valid = valid
        self.v_min = v_min if v_min is not None else v_cell
        self.v_max = v_max if v_max is not None else v_cell
        self.v_pack = v_cell * (EXAMPLE_CELLS - 2) + self.v_min + self.v_max
        self.t_min = t_min
        self.t_max = t_max


EXAMPLES = (
    ("normal: cells 3.70 V, 25 degC", _S(3700), True, True),
    ("highest cell 4.05 V (taper)", _S(4000, v_max=4050), True, True),
    ("highest cell 4.10 V (full)", _S(4050, v_max=4100), True, True),
    ("coldest sensor 5 degC", _S(3700, t_min=50), True, True),
    ("coldest sensor -1 degC", _S(3700, t_min=-10), True, True),
    ("hottest sensor 45 degC", _S(3700, t_max=450), True, True),
    ("hottest sensor 55 degC", _S(3700, t_max=550), True, True),
    ("lowest cell 3.30 V (taper)", _S(3400, v_min=3300), True, True),
    ("lowest cell 3.25 V (empty)", _S(3400, v_min=3250), True, True),
    ("state without charge/discharge permission (Init, Precharge, Fault)", _S(3700), False, False),
    ("measurements stale (after 3.70 V cells)", _S(3700, valid=False), True, True),
)


def examples():
    cfg = config.make()
    out = ["For a %d-cell string (two Tesla modules in series) with the default settings:" % EXAMPLE_CELLS,
           "", "| situation | CVL V | CCL A | DCL A | DVL V | reasons | allow charge / discharge |",
           "|---|---|---|---|---|---|---|"]
    for text, s, ch, dis in EXAMPLES:
        lim = L.Limits(cfg, EXAMPLE_CELLS)
        if not s.valid:
            lim.update(_S(3700), True, True)
        lim.update(s, ch, dis)
        reasons = ", ".join(r[L.R_NAME] for r in L.REASONS if lim.reasons & r[L.R_BIT]) or "-"
        out.append("| %s | %.1f | %.1f | %.1f | %.1f | %s | %s / %s |" % (
            text, lim.cvl_dv / 10.0, lim.ccl_da / 10.0, lim.dcl_da / 10.0, lim.dvl_dv / 10.0,
            reasons, "on" if lim.charge_allowed else "off", "on" if lim.discharge_allowed else "off"))
    return "\n".join(out)


def alarm_rows():
    """(source, severity text, Victron flag, half) of every alarm map row (host-side:
    the board only needs the compiled map)."""
    out = []
    for source, flag in alarms.MAP:
        kind, _ref, half = alarms.resolve(source)
        if kind == "diag":
            sev = D.ROWS[D.index(source)][D.SEVERITY]
        else:
            sev = "limits"
        out.append((source, sev, flag, half))
    return out


def alarm_map():
    rows = []
    for source, sev, flag, half in alarm_rows():
        if not source.startswith(alarms.LIMITS_PREFIX):
            text = diagnosis_texts.TEXT[source]
            source = "`%s` (%s)" % (source, text)
        else:
            source = "`%s`" % source
        rows.append((source, sev, flag, half))
    out = [md_table(("source", "severity", "0x35A flag", "half"), rows)]
    silent = [r[L.R_NAME] for r in L.REASONS if r[L.R_SEVERITY] is None]
    out.append("")
    out.append("Limits reasons not signalled as flags: " + "; ".join(
        "`%s` (%s)" % (name, limits_texts.WHY[name]) for name in silent) + ".")
    unsupported = []
    for k in range(len(V.FLAGS)):
        for half, base in (("alarm", 0), ("warning", 4)):
            byte, shift = base + (k >> 2), (k & 3) * 2
            if not (alarms.HEALTHY[byte] >> shift) & 3:
                unsupported.append("%s %s" % (V.FLAGS[k], half))
    out.append("")
    out.append("Sent as 0 (not supported): " + ", ".join(unsupported) + ".")
    out.append("")
    out.append("Healthy frame as pyBMS sends it: `%s`." % " ".join("%02X" % b for b in alarms.HEALTHY))
    return "\n".join(out)


def states():
    notes = fsm_texts.CAN_NOTES
    return md_table(("state", "transmits", "why"),
                    [(row[0], "yes" if row[1 + table.P_CAN_TX] else "**no**", notes.get(row[0], ""))
                     for row in table.PERMISSIONS])


SECTIONS = (("frames", frames), ("settings", settings), ("examples", examples),
            ("alarms", alarm_map), ("states", states))


def update(text):
    return replace_sections(text, SECTIONS, "docs/victron-can.md")


def main(argv):
    return regenerate(PATH, update, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
