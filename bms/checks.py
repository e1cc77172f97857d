# Walks the diagnosis rows that compare a PackSummary quantity with a configured
# threshold, so a new limit is a new table row, not new code.

from bms import config
from bms import diagnosis as D
from bms import units

# Config unit -> the conversion to summary units (bms.units: the one rounding rule).
_TO_SUMMARY = {"V": units.mv, "C": units.dc}


def _unit(key):
    # A scan of the schema (a handful of rows, once at start), not a name -> unit
    # dict of every setting: that would be 1-2 KB of heap at boot, when it is fullest.
    for row in config.SCHEMA:
        if row[config.NAME] == key:
            return row[config.UNIT]
    raise KeyError(key)


def _scaled_threshold(cfg, key):
    if key is None:
        return 0
    convert = _TO_SUMMARY.get(_unit(key))
    return convert(cfg[key]) if convert is not None else int(cfg[key])  # ms, counts


class LimitChecks:
    def __init__(self, cfg, diag):
        self.diag = diag
        # (row index, quantity, is_greater, threshold in summary units), fixed at start
        rows = []
        for i in range(D.COUNT):
            r = D.ROWS[i]
            if r[D.QUANTITY] is not None:
                rows.append((i, r[D.QUANTITY], r[D.COMPARE] == ">",
                             _scaled_threshold(cfg, r[D.THRESHOLD_KEY])))
        self.rows = tuple(rows)

    def evaluate(self, summary, t_ms):
        """Report every threshold row. Stale data only feeds the staleness row: a
        value we cannot trust must neither raise nor clear a cell limit."""
        for i, quantity, greater, limit in self.rows:
            if quantity != "age_ms" and not summary.valid:
                continue
            value = getattr(summary, quantity)
            hit = value > limit if greater else value < limit
            self.diag.report(i, hit, t_ms)
