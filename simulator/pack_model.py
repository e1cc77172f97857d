# The battery: Tesla modules in series per string, strings in parallel. It splits
# the pack current between strings by their voltage and resistance, carries each
# group's share plus what its balancing resistor, self-discharge and any injected
# external load or charger take, and keeps one lumped temperature per module
# (ambient, I^2 R, balancing-resistor heat, a heater pad). Host only.
#
# Module order is the order of the boards on the Tesla bus: string 0's modules
# first, then string 1's, ... (the firmware's PackSummary divides by the strings).

import math
import random

from simulator.cells import GROUPS_PER_MODULE, CellGroup, relaxation_decay, temperature_factor

# One module's lumped thermal model. A Model S module weighs about 25 kg; a cell
# heat capacity of ~1 kJ/(kg K) gives ~25 kJ/K. Heat leaves to ambient through a
# conductance that gives a few hours' time constant in a closed enclosure.
MODULE_HEAT_CAPACITY_J_PER_K = 25000.0
MODULE_TO_AMBIENT_W_PER_K = 2.0
# Balancing resistor per cell on the module board (assumption, see docs/simulator.md).
BALANCE_OHM = 75.0
# Heater pad per module when the heater output is on (powered from outside the pack).
HEATER_W = 40.0
# Busbars and module interconnects per string, in series with the cells.
STRING_INTERCONNECT_OHM = 0.0005


class Module:
    """Six groups, a temperature, the board's balancing resistors, injections."""

    def __init__(self, groups, temp_c):
        self.groups = groups
        self.temp_c = temp_c
        self.bleed_mask = 0         # balancing resistors switched on (bit = group)
        self.external_a = 0.0       # injected: + a charger on this module, - a load
        self.external_heat_w = 0.0  # injected: e.g. a bad connection heating up
        self.heat_w = 0.0
        self.bleed_ah = 0.0         # charge drained by the balancing resistors, all time

    def voltage(self):
        return sum(g.v_term for g in self.groups)

    def cell_voltages(self):
        return [g.v_term for g in self.groups]


class PackModel:
    """series: modules per string; parallel: strings.

    Spreads are relative standard deviations (0.02 = 2 %) of capacity and of
    self-discharge; soc_spread is an absolute standard deviation of the start SoC.
    """

    def __init__(self, series=2, parallel=1, soc=0.5, soc_spread=0.0, capacity_spread=0.0,
                 self_discharge_spread=0.0, temp_c=25.0, ambient_c=25.0, seed=1,
                 self_discharge=True):
        if not 1 <= series <= 16 or not 1 <= parallel <= 8:
            raise ValueError("topology: 1..16 modules in series, 1..8 strings")
        rng = random.Random(seed)
        self.series = series
        self.parallel = parallel
        self.ambient_c = ambient_c
        self.heater_on = False
        self.modules = []
        for _ in range(series * parallel):
            groups = []
            for _ in range(GROUPS_PER_MODULE):
                cap = max(0.5, rng.gauss(1.0, capacity_spread)) if capacity_spread else 1.0
                sd = max(0.0, rng.gauss(1.0, self_discharge_spread)) \
                    if self_discharge_spread else 1.0
                s = rng.gauss(soc, soc_spread) if soc_spread else soc
                groups.append(CellGroup(s, cap, sd if self_discharge else 0.0))
            self.modules.append(Module(groups, temp_c))
        self.groups = [g for m in self.modules for g in m.groups]
        self.string_current = [0.0] * parallel
        self.current = 0.0
        self.energy_in_wh = 0.0     # at the pack terminals, + = charged into the pack
        self.heat_wh = 0.0
        self._th = None             # (E, R) per string after the last step; None: recompute

    def touched(self):
        """A group's state was changed from outside (an event): forget cached sums."""
        self._th = None

    # --- topology -----------------------------------------------------------------
    def string_modules(self, s):
        return self.modules[s * self.series:(s + 1) * self.series]

    @property
    def module_count(self):
        return len(self.modules)

    # --- electrical -----------------------------------------------------------------
    def _string_thevenin(self, s):
        if self._th is not None:
            return self._th[s]
        e = 0.0
        r = STRING_INTERCONNECT_OHM
        for m in self.string_modules(s):
            t = m.temp_c
            for g in m.groups:
                e += g.emf()
                r += g.r_series(t)
        return e, r

    def thevenin(self):
        """(open-circuit voltage, resistance) of the whole pack at its terminals."""
        g_sum = 0.0
        ge_sum = 0.0
        for s in range(self.parallel):
            e, r = self._string_thevenin(s)
            g_sum += 1.0 / r
            ge_sum += e / r
        return ge_sum / g_sum, 1.0 / g_sum

    def split(self, current):
        """Current of each string for a pack current: all strings share the terminal
        voltage, so V = (I + sum(E/R)) / sum(1/R) and I_s = (V - E_s) / R_s (this also
        gives the circulating current between unequal strings at rest)."""
        ths = [self._string_thevenin(s) for s in range(self.parallel)]
        g_sum = sum(1.0 / r for _, r in ths)
        v = (current + sum(e / r for e, r in ths)) / g_sum
        return [(v - e) / r for e, r in ths], v

    def terminal_v(self):
        """Pack voltage during the last step (average over the strings)."""
        total = 0.0
        for s in range(self.parallel):
            total += sum(m.voltage() for m in self.string_modules(s))
        return total / self.parallel

    def step(self, dt, current):
        """Advance dt seconds with `current` (A, + = charging) at the pack terminals."""
        if self.parallel == 1:
            currents = [current]
        else:
            currents, _v = self.split(current)
        self.string_current = currents
        self.current = current
        heat = 0.0
        th = []
        v_total = 0.0
        decay = relaxation_decay(dt)
        for s in range(self.parallel):
            i_s = currents[s]
            e_s = 0.0
            r_s = STRING_INTERCONNECT_OHM
            for m in self.string_modules(s):
                tf = temperature_factor(m.temp_c)
                mask = m.bleed_mask
                ext = m.external_a
                q = 0.0
                bleed_w = 0.0
                k = 0
                for g in m.groups:
                    i = i_s + ext
                    if mask & (1 << k):
                        ib = g.v_term / BALANCE_OHM
                        i -= ib
                        bleed_w += ib * g.v_term
                        m.bleed_ah += ib * dt / 3600.0
                    v_total += g.step(dt, i, None, tf, decay)
                    q += g.heat_w
                    e_s += g.ocv + g.v_rc
                    r_s += g.r0_eff
                    k += 1
                m.heat_w = q + bleed_w + m.external_heat_w + (HEATER_W if self.heater_on else 0.0)
                heat += q
                self._thermal(m, dt)
            th.append((e_s, r_s))
        self._th = th
        v = v_total / self.parallel
        self.energy_in_wh += v * current * dt / 3600.0
        self.heat_wh += heat * dt / 3600.0
        return v

    def _thermal(self, m, dt):
        # Exact for constant heat over the step: T -> T_amb + P/G with tau = C/G.
        t_eq = self.ambient_c + m.heat_w / MODULE_TO_AMBIENT_W_PER_K
        a = math.exp(-dt * MODULE_TO_AMBIENT_W_PER_K / MODULE_HEAT_CAPACITY_J_PER_K)
        m.temp_c = t_eq + (m.temp_c - t_eq) * a

    # --- what the boards measure ------------------------------------------------------
    def cells_mv(self, module):
        return [int(round(g.v_term * 1000)) for g in self.modules[module].groups]

    def temps_dc(self, module):
        t = int(round(self.modules[module].temp_c * 10))
        return [t, t]

    # --- summaries for the truth file -------------------------------------------------
    def cell_extremes(self):
        vs = [g.v_term for g in self.groups]
        return min(vs), max(vs)

    def soc_stats(self):
        socs = [g.soc for g in self.groups]
        return min(socs), max(socs), sum(socs) / len(socs)

    def usable_soc(self, e, f):
        """(usable SoC fraction, usable capacity Ah) between the cell states of charge
        e (a BMS's discharge cut-off) and f (its charge target), as a perfect BMS
        would report it (docs/soc.md): per string, the group with the least charge
        above e sets what is left and the one with the least room below f what still
        fits; strings add; SoC = remaining / (remaining + room)."""
        remaining = room = 0.0
        for s in range(self.parallel):
            lo = hi = None
            for m in self.string_modules(s):
                for g in m.groups:
                    q = (g.soc - e) * g.capacity_ah
                    r = (f - g.soc) * g.capacity_ah
                    lo = q if lo is None or q < lo else lo
                    hi = r if hi is None or r < hi else hi
            remaining += lo
            room += hi
        cap = remaining + room
        return (remaining / cap if cap > 0 else 0.0), cap

    def temp_extremes(self):
        ts = [m.temp_c for m in self.modules]
        return min(ts), max(ts)

    def stored_ah(self):
        """Charge stored in the pack (strings in parallel add)."""
        total = 0.0
        for s in range(self.parallel):
            total += min(g.soc * g.capacity_ah for m in self.string_modules(s) for g in m.groups)
        return total
