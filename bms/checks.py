# Walks the diagnosis rows that compare a PackSummary quantity with a configured
# threshold, so a new limit is a new table row, not new code.

from bms import diagnosis as D
from bms.config import SCHEMA

# Config units -> summary units, by the unit column of the config schema.
_SCALE = {"V": 1000, "C": 10, "ms": 1, "": 1}


def _scaled_threshold(cfg, key, units):
    if key is None:
        return 0
    return int(round(cfg[key] * _SCALE[units[key]]))


class LimitChecks:
    def __init__(self, cfg, diag):
        units = {}
        for row in SCHEMA:
            units[row[0]] = row[5]
        self.diag = diag
        # (row index, quantity, is_greater, threshold in summary units), fixed at start
        rows = []
        for i in range(D.COUNT):
            r = D.ROWS[i]
            if r[D.QUANTITY] is not None:
                rows.append((i, r[D.QUANTITY], r[D.COMPARE] == ">",
                             _scaled_threshold(cfg, r[D.THRESHOLD_KEY], units)))
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
