# The pack as the rest of pyBMS sees it, whatever modules it is built from.
# Integer units throughout (mV, 0.1 degC, ms) because floats are heap objects on
# MicroPython: a poll cycle that summarises the pack must not allocate.

from array import array

from bms.native import micropython, ptr16, ptr32  # noqa: F401

TEMP_INVALID = -32768   # temp_dc() of a sensor that reads open or shorted
AGE_NEVER = 0x3FFFFFFF  # age_ms() before the first good reading


class Pack:
    """Interface every battery-module driver implements (e.g. the Tesla bus master).

    The state machine, limits and state of charge use only these methods; nothing
    outside drivers/ imports a module family by name. Methods not overridden raise
    NotImplementedError so a half-written driver fails loudly in its first test.
    """

    def cell_count(self):
        """Cells in the pack (all strings)."""
        raise NotImplementedError

    def temp_count(self):
        raise NotImplementedError

    def cell_mv(self, i):
        """Last good voltage of cell i in mV. Only meaningful while age_ms() is fresh."""
        raise NotImplementedError

    def temp_dc(self, i):
        """Last good temperature i in 0.1 degC, or TEMP_INVALID for a failed sensor."""
        raise NotImplementedError

    def read_cells(self, out):
        """Copy every cell's last good mV into out[0:cell_count()] (an array('H')
        the caller made once): one call a cycle instead of a cell_mv() call per cell
        (on a Cortex-M0 each call costs more than the comparison it feeds). This
        default walks cell_mv(); a driver overrides it with one copy."""
        for i in range(self.cell_count()):
            out[i] = self.cell_mv(i)

    def read_temps(self, out):
        """Copy every temperature (0.1 degC, TEMP_INVALID for a failed sensor) into
        out[0:temp_count()] (an array('h')), as read_cells()."""
        for j in range(self.temp_count()):
            out[j] = self.temp_dc(j)

    def age_ms(self, t_ms):
        """Age of the oldest module's last complete, verified reading (AGE_NEVER if none)."""
        raise NotImplementedError

    def poll(self, t_ms):
        """Run one measurement cycle; errors go to the diagnosis table, never raise."""
        raise NotImplementedError

    def set_balance(self, cell_mask_by_module):
        """Bleed the cells whose bits are set (one int mask per module)."""
        raise NotImplementedError

    def stop_balance(self):
        raise NotImplementedError


# The summary's walk over every cell and sensor, in native code on MicroPython: on a
# Cortex-M0 the same loop in bytecode costs ~1000 instructions a value. Results go
# to out (array('i')): lowest, its index, highest, its index, and the sum of the
# cells or the count of failed sensors; an index is -1 when no value qualified.
# Every constant in viper code fits 16 bits (or 8 bits shifted): ARMv6-M (RP2040)
# native code loads any other 32-bit constant from a literal in the code, which
# MicroPython 1.29's mpy-tool freezes only 2-byte aligned, so the load can read the
# neighbouring instruction instead (measured on the emulated M0: the start values
# 0x3FFFFFFF / -0x3FFFFFFF read as -8191 / 122881, and every pass faulted on
# cell under-voltage and both temperature limits). tests/host/test_viper_constants.py
# checks all firmware viper code for such constants.
@micropython.viper
def _cell_extremes(cells, n: int, out):
    c = ptr16(cells)
    o = ptr32(out)
    lo = 0x10000               # above any 16-bit cell value
    hi = -1
    i_lo = -1
    i_hi = -1
    total = 0
    for i in range(n):
        mv = int(c[i])
        total += mv
        if mv < lo:
            lo = mv
            i_lo = i
        if mv > hi:
            hi = mv
            i_hi = i
    o[0] = lo
    o[1] = i_lo
    o[2] = hi
    o[3] = i_hi
    o[4] = total


@micropython.viper
def _temp_extremes(temps, n: int, out):
    t = ptr16(temps)
    o = ptr32(out)
    lo = 0x8000                # above any valid signed 16-bit value
    hi = -0x8000               # TEMP_INVALID: below any valid one (skipped below)
    j_lo = -1
    j_hi = -1
    bad = 0
    for j in range(n):
        v = int(t[j])
        if v >= 0x8000:        # native: the 16 bits read unsigned; CPython: signed already
            v -= 0x10000
        if v == -32768:        # TEMP_INVALID
            bad += 1
            continue
        if v < lo:
            lo = v
            j_lo = j
        if v > hi:
            hi = v
            j_hi = j
    o[0] = lo
    o[1] = j_lo
    o[2] = hi
    o[3] = j_hi
    o[4] = bad


class PackSummary:
    """Extremes and totals of a Pack, refreshed in place once per cycle. `cells`
    and `temps` hold the values the extremes were taken from: arrays made here for
    `cells` and `temps` values (give the pack's counts, so they come from the heap
    at boot, not from a running task), else at the first update; a steady cycle
    allocates nothing."""

    def __init__(self, strings=1, cells=0, temps=0):
        self.strings = strings
        self.valid = False
        self.v_pack = 0       # mV, average string voltage
        self.v_min = 0        # mV
        self.v_max = 0
        self.i_min = -1       # index of the lowest / highest cell
        self.i_max = -1
        self.spread = 0       # mV
        self.t_min = 0        # 0.1 degC over valid sensors
        self.t_max = 0
        self.j_min = -1
        self.j_max = -1
        self.t_invalid = 0    # sensors reading open/short
        self.age_ms = AGE_NEVER
        self.cells = array("H", bytes(2 * cells))
        self.temps = array("h", bytes(2 * temps))
        self._r = array("i", bytes(20))   # what the native walks return

    def update(self, pack, t_ms, stale_ms):
        self.age_ms = pack.age_ms(t_ms)
        n = pack.cell_count()
        if n == 0 or self.age_ms > stale_ms:
            self.valid = False
            return False
        cells = self.cells
        if len(cells) != n:
            self.cells = cells = array("H", bytes(2 * n))
        pack.read_cells(cells)
        r = self._r
        _cell_extremes(cells, n, r)
        if r[1] >= 0:
            self.i_min = r[1]
            self.i_max = r[3]
        lo = r[0]
        hi = r[2]
        self.v_min = lo
        self.v_max = hi
        self.spread = hi - lo
        self.v_pack = r[4] // self.strings
        m = pack.temp_count()
        temps = self.temps
        if len(temps) != m:
            self.temps = temps = array("h", bytes(2 * m))
        pack.read_temps(temps)
        _temp_extremes(temps, m, r)
        if r[1] >= 0:
            self.j_min = r[1]
            self.j_max = r[3]
        bad = r[4]
        self.t_invalid = bad
        # With no valid sensor there is no temperature: extremes stay at the safe side
        # of every check (cold and hot at once), so charge and discharge both stop.
        self.t_min = r[0] if bad < m else -0x3FFFFFFF
        self.t_max = r[2] if bad < m else 0x3FFFFFFF
        self.valid = True
        return True
