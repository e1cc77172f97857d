# The power path between the pack and the inverter: main negative, main positive,
# a precharge relay with its resistor across main positive, and the inverter's
# DC-bus capacitance with its standby load. Each contactor has a coil input, an
# operate / release time and an auxiliary contact reporting its real position.
# Injectable faults: a welded contact, a coil that never pulls in, a short or an
# oversized load on the bus; opening under load is counted (it wears contacts).
# Host only.

import math

NEGATIVE = 0
PRECHARGE = 1
POSITIVE = 2
NAMES = ("negative", "precharge", "positive")

OPERATE_S = 0.030         # coil energised -> contacts closed (typical EV contactor 20-50 ms)
RELEASE_S = 0.015         # coil off -> contacts open
UNDER_LOAD_A = 1.0        # opening above this current counts as opening under load


class Contactor:
    def __init__(self, name):
        self.name = name
        self.coil = False
        self.closed = False
        self._timer = 0.0        # time the coil has disagreed with the position
        self.welded = False      # fault: once closed, never opens again
        self.coil_dead = False   # fault: never pulls in
        self.operations = 0
        self.opened_under_load = 0

    def step(self, dt, current_a):
        want = self.coil and not self.coil_dead
        if want == self.closed or (self.closed and self.welded):
            self._timer = 0.0
            return
        self._timer += dt
        if self._timer + 1e-12 >= (OPERATE_S if want else RELEASE_S):
            self._timer = 0.0
            self.closed = want
            self.operations += 1
            if not want and abs(current_a) > UNDER_LOAD_A:
                self.opened_under_load += 1

    def feedback(self):
        """The auxiliary contact: 1 while the main contacts are closed."""
        return 1 if self.closed else 0


class PowerPath:
    """Pack -> contactors -> DC bus (capacitance, standby load) -> inverter.

    step() takes the pack's Thevenin source (E, R) and the current the inverter
    and chargers push into the bus (A, + = into the battery), and returns the
    pack current (+ = charging the pack).
    """

    def __init__(self, precharge_ohm=20.0, bus_capacitance_f=0.0047, standby_ohm=2000.0):
        self.contactors = [Contactor(n) for n in NAMES]
        self.precharge_ohm = precharge_ohm
        self.capacitance_f = capacitance_f = bus_capacitance_f
        assert capacitance_f > 0
        self.standby_ohm = standby_ohm     # None: no standby load
        self.short_ohm = None              # fault: a short / oversized load on the bus
        self.v_bus = 0.0
        self.pack_current = 0.0
        self.precharge_j = 0.0             # energy dissipated in the precharge resistor
        self.max_close_dv = 0.0            # worst |V_pack - V_bus| main positive closed across

    # --- state ------------------------------------------------------------------
    def set_coils(self, negative, precharge, positive):
        c = self.contactors
        c[NEGATIVE].coil = bool(negative)
        c[PRECHARGE].coil = bool(precharge)
        c[POSITIVE].coil = bool(positive)

    def positions(self):
        return tuple(c.closed for c in self.contactors)

    def mains_closed(self):
        c = self.contactors
        return c[NEGATIVE].closed and c[POSITIVE].closed

    def precharging(self):
        c = self.contactors
        return c[NEGATIVE].closed and c[PRECHARGE].closed and not c[POSITIVE].closed

    def load_conductance(self):
        g = 0.0
        if self.standby_ohm:
            g += 1.0 / self.standby_ohm
        if self.short_ohm:
            g += 1.0 / self.short_ohm
        return g

    def tau_s(self, pack_r=0.0):
        """Time constant of the bus while precharging: C times the precharge
        resistance (plus the pack's) in parallel with the loads."""
        r = self.precharge_ohm + pack_r
        g = 1.0 / r + self.load_conductance()
        return self.capacitance_f / g

    # --- time ---------------------------------------------------------------------
    def step(self, dt, pack_e, pack_r, source_a=0.0):
        c = self.contactors
        g_load = self.load_conductance()
        if self.mains_closed():
            # Stiff connection: the bus sits at the pack terminals.
            # (the standby load taken at the source voltage: it is milliamps)
            i = source_a - pack_e * g_load
            self.v_bus = pack_e + i * pack_r
        elif self.precharging():
            r = self.precharge_ohm + pack_r
            g = 1.0 / r + g_load
            v_inf = (pack_e / r + source_a) / g
            tau = self.capacitance_f / g
            a = math.exp(-dt / tau)
            v0 = self.v_bus
            self.v_bus = v_inf + (v0 - v_inf) * a
            mean_v = v_inf + (v0 - v_inf) * (tau / dt) * (1.0 - a) if dt > 0 else v0
            i = -(pack_e - mean_v) / r          # the pack discharges into the bus
            self.precharge_j += i * i * self.precharge_ohm * dt
        else:
            i = 0.0
            if g_load > 0:
                self.v_bus *= math.exp(-dt * g_load / self.capacitance_f)
        # Contacts move after the current of this step is known (opening under load).
        was_closed = c[POSITIVE].closed
        for k in range(3):
            through = i if k != PRECHARGE or self.precharging() else 0.0
            c[k].step(dt, through)
        if c[POSITIVE].closed and not was_closed and c[NEGATIVE].closed:
            # Closing across a voltage difference is an inrush the precharge exists to avoid.
            dv = abs(pack_e - self.v_bus)
            if dv > self.max_close_dv:
                self.max_close_dv = dv
        self.pack_current = i
        return i

    def opened_under_load(self):
        return sum(c.opened_under_load for c in self.contactors)
