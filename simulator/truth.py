# The truth file: what really happened in the plant (and, from the harness, what
# the BMS believed), one CSV row per sample, a header row naming the columns.
# CSV because the values are a fixed set of scalars per sample: a spreadsheet,
# pandas or csv.DictReader reads it, and it is a third the size of JSON Lines.
# Columns are documented in docs/simulator.md. Host only.

import csv

# Name, format. Numbers are rounded to what the models can claim; text as is.
COLUMNS = (
    ("t_s", "%.3f"),
    ("bms_state", "%s"), ("bms_faults", "%s"), ("bms_cvl_v", "%s"), ("bms_ccl_a", "%s"),
    ("bms_dcl_a", "%s"), ("bms_v_max_mv", "%s"), ("bms_v_min_mv", "%s"),
    ("i_pack_a", "%.3f"), ("i_sensor_a", "%.3f"), ("v_pack_v", "%.4f"), ("v_bus_v", "%.3f"),
    ("coil_neg", "%d"), ("coil_pre", "%d"), ("coil_pos", "%d"),
    ("neg", "%d"), ("pre", "%d"), ("pos", "%d"),
    ("cell_v_min", "%.4f"), ("cell_v_max", "%.4f"),
    ("soc_min", "%.5f"), ("soc_max", "%.5f"), ("soc_mean", "%.5f"), ("soc_usable", "%.5f"),
    ("t_min_c", "%.2f"), ("t_max_c", "%.2f"), ("bleeding", "%d"), ("heater", "%d"),
    ("gx_cvl_v", "%s"), ("gx_ccl_a", "%s"), ("gx_dcl_a", "%s"), ("gx_bms_lost", "%d"),
    ("mppt_error_67", "%d"), ("inverter_on", "%d"), ("solar_w", "%.1f"), ("load_w", "%.1f"),
    ("load_served_w", "%.1f"), ("bms_soc", "%s"), ("gx_soc", "%s"),
    ("opened_under_load", "%d"), ("precharge_j", "%.2f"), ("close_dv_v", "%.3f"),
    ("events", "%s"),
)
NAMES = tuple(c[0] for c in COLUMNS)
_FORMATS = tuple(c[1] for c in COLUMNS)


def _cell(fmt, value):
    if value is None:
        return ""
    if fmt == "%s":
        return str(value)
    return fmt % value


class TruthWriter:
    """Writes rows (dicts by column name; missing columns are empty) to a file, or
    keeps them in memory when path is None (tests read .rows)."""

    def __init__(self, path=None):
        self.path = path
        self.rows = []
        self._f = None
        self._w = None
        if path is not None:
            self._f = open(path, "w", newline="")
            self._w = csv.writer(self._f)
            self._w.writerow(NAMES)

    def write(self, row):
        unknown = set(row) - set(NAMES)
        if unknown:
            raise KeyError("truth columns not in simulator.truth.COLUMNS: %s"
                           % ", ".join(sorted(unknown)))
        if self._w is not None:
            self._w.writerow([_cell(f, row.get(n)) for n, f in COLUMNS])
        else:
            self.rows.append(dict(row))

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None


def _value(text):
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def read(path):
    """Rows of a truth file as dicts: numbers as float, empty cells as None."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return [dict(zip(header, (_value(x) for x in row))) for row in r]
