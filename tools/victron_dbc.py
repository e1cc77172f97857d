# Renders protocols/victron/pybms.dbc from the firmware's frame table, so the DBC
# users open in SavvyCAN/cantools is the table that runs. A test checks the shipped
# file equals render(); regenerate with:  python -m tools.victron_dbc --write

import os
import sys

import protocols.victron as V
from tools import victron_codec as codec

PATH = os.path.join(os.path.dirname(V.__file__), "pybms.dbc")
SENDER = "pyBMS"
RECEIVER = "GX"


def _num(x):
    """A DBC number: integers plain, fractions without float noise."""
    if x == int(x):
        return str(int(x))
    return repr(round(x, 6))


def _factor(div):
    return _num(1.0 / div) if div != 1 else "1"


def render():
    out = ['VERSION ""', "", "", "NS_ :", "", "BS_:", "",
           "BU_: %s %s" % (SENDER, RECEIVER), "", ""]
    names = dict((r[0], r) for r in codec.FRAME_NAMES)
    for fid in V.PERIODIC:
        out.append("BO_ %d %s: %d %s" % (fid, names[fid][1], V.DLC, SENDER))
        for f in codec.fields_of(fid):
            if f[V.F_KIND] == V.A:
                lo = hi = "0"
                unit = ""
            else:
                lo, hi, unit = _num(f[V.F_LOW]), _num(f[V.F_HIGH]), f[V.F_UNIT]
            out.append(' SG_ %s : %d|%d@1%s (%s,%s) [%s|%s] "%s" %s' % (
                f[V.F_NAME], f[V.F_START], f[V.F_BITS], "-" if f[V.F_KIND] == V.S else "+",
                _factor(f[V.F_DIV]), _num(f[V.F_OFFSET]), lo, hi, unit, RECEIVER))
        out.append("")
    out.append("")
    out.append('CM_ "pyBMS Victron CAN-bus BMS frames, generated from protocols/victron/__init__.py '
               'by tools/victron_dbc.py. 500 kbit/s, 11-bit ids, little endian.";')
    for fid in V.PERIODIC:
        out.append('CM_ BO_ %d "%s";' % (fid, names[fid][2]))
    for f in V.FIELDS:
        if f[V.F_KIND] == V.A:
            out.append('CM_ SG_ %d %s "ASCII text, zero padded (decode the 8 bytes little endian)";'
                       % (f[V.F_ID], f[V.F_NAME]))
    for f in codec.fields_of(0x35A):
        out.append('VAL_ %d %s 0 "not supported" 1 "active" 2 "ok" 3 "reserved" ;'
                   % (0x35A, f[V.F_NAME]))
    out.append("")
    return "\n".join(out)


def main(argv):
    text = render()
    if "--write" in argv:
        with open(PATH, "w") as f:
            f.write(text)
        print("wrote", PATH)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
