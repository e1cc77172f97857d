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
        # Per threshold row, fixed at start: its diagnosis row, the PackSummary
        # quantity, whether it trips above (else below), the threshold in summary
        # units. Flat columns, so evaluate() stays within 11 words of VM state
        # (a bigger frame comes from the heap on every call: ~8000 Cortex-M0
        # instructions).
        rows = []
        for i in range(D.COUNT):
            r = D.ROWS[i]
            if r[D.QUANTITY] is not None:
                rows.append(i)
        self.index = bytes(rows)
        self.quantity = tuple(D.ROWS[i][D.QUANTITY] for i in rows)
        self.greater = bytes(1 if D.ROWS[i][D.COMPARE] == ">" else 0 for i in rows)
        self.limit = tuple(_scaled_threshold(cfg, D.ROWS[i][D.THRESHOLD_KEY]) for i in rows)

    def evaluate(self, summary, t_ms):
        """Report every threshold row. Stale data only feeds the staleness row: a
        value we cannot trust must neither raise nor clear a cell limit."""
        k = 0
        while k < len(self.index):    # in table order, as the flips reach the machine
            q = self.quantity[k]
            if summary.valid or q == "age_ms":
                q = getattr(summary, q)
                q = q > self.limit[k] if self.greater[k] else q < self.limit[k]
                self.diag.report(self.index[k], q, t_ms)
            k += 1
