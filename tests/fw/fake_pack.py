# A Pack with the values a test sets, for tests of everything that reads a Pack
# (checks, summary, limits, Victron reporter). Both runtimes.

from bms.pack import Pack


class FakePack(Pack):
    """cells in mV, temps in 0.1 degC; age in ms (0 = fresh)."""

    def __init__(self, cells, temps, age=0):
        self.cells = list(cells)
        self.temps = list(temps)
        self.age = age

    def cell_count(self):
        return len(self.cells)

    def temp_count(self):
        return len(self.temps)

    def cell_mv(self, i):
        return self.cells[i]

    def temp_dc(self, i):
        return self.temps[i]

    def age_ms(self, t_ms):
        return self.age

    def set_all(self, mv=None, dc=None):
        if mv is not None:
            self.cells = [mv] * len(self.cells)
        if dc is not None:
            self.temps = [dc] * len(self.temps)
