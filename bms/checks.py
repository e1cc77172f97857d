# Walks the diagnosis rows that compare a PackSummary quantity with a configured
# threshold, so a new limit is a new table row, not new code.

from bms import diagnosis as D
from bms import units

# Config unit -> the conversion to summary units (bms.units: the one rounding rule).
_TO_SUMMARY = {"V": units.mv, "C": units.dc}


def config_units(setting_units):
    """`setting_units` ({setting: unit}, bms.config.units()) or, when None, the
    schema's own: a board's boot hands them in and drops bms.config; tests and host
    tools may leave them out."""
    if setting_units is not None:
        return setting_units
    from bms import config
    return config.units()


def _scaled_threshold(cfg, by_key, key):
    if key is None:
        return 0
    convert = _TO_SUMMARY.get(by_key.get(key))
    return convert(cfg[key]) if convert is not None else int(cfg[key])  # ms, counts


class LimitChecks:
    def __init__(self, cfg, diag, setting_units=None):
        self.diag = diag
        by_key = config_units(setting_units)
        # (row index, quantity, is_greater, threshold in summary units), fixed at start
        rows = []
        for i in range(D.COUNT):
            r = D.ROWS[i]
            if r[D.QUANTITY] is not None:
                rows.append((i, r[D.QUANTITY], r[D.COMPARE] == ">",
                             _scaled_threshold(cfg, by_key, r[D.THRESHOLD_KEY])))
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
