# One cell group of a Tesla Model S module (74 Panasonic NCA 18650 cells in
# parallel): open-circuit voltage from state of charge, series resistance that
# rises in the cold and near empty, one RC pair for relaxation, capacity and
# self-discharge. Host only (CPython). Every number and where it comes from:
# docs/simulator.md, "Cells".
#
# Sign convention everywhere in the plant: current positive = charging.

import math
from bisect import bisect_right

CELLS_PARALLEL = 74          # cells per group in a Model S module
GROUPS_PER_MODULE = 6        # groups in series per module (one bq76PL536A channel each)
MODULE_AH = 232.0            # nominal capacity of one module (= one group)
CELL_AH = MODULE_AH / CELLS_PARALLEL

# Open-circuit voltage of one NCA cell (Panasonic NCR18650-class) against state of
# charge, rested, 25 degC: the flat middle around 3.6-3.8 V and the steep ends are
# what matters to a BMS. Below 0 and above 1 the table goes on into the over-
# discharged and over-charged regions so a fault can push a cell there.
OCV_TABLE = (
    (-0.05, 2.50), (0.00, 3.00), (0.02, 3.18), (0.05, 3.32), (0.10, 3.43),
    (0.15, 3.49), (0.20, 3.54), (0.25, 3.58), (0.30, 3.62), (0.35, 3.65),
    (0.40, 3.68), (0.45, 3.72), (0.50, 3.76), (0.55, 3.80), (0.60, 3.84),
    (0.65, 3.88), (0.70, 3.92), (0.75, 3.96), (0.80, 4.00), (0.85, 4.04),
    (0.90, 4.08), (0.95, 4.12), (1.00, 4.17), (1.05, 4.30), (1.10, 4.45),
)
_SOC = tuple(p[0] for p in OCV_TABLE)
_V = tuple(p[1] for p in OCV_TABLE)
_SLOPE = tuple((_V[k + 1] - _V[k]) / (_SOC[k + 1] - _SOC[k]) for k in range(len(_SOC) - 1))

# Resistances of ONE cell at 25 degC, mid SoC; a group is CELLS_PARALLEL of them in
# parallel. R0: ohmic + charge transfer (fast); R1 || C1: the slow part that makes a
# rested voltage differ from one under load.
R0_CELL_OHM = 0.035
R1_CELL_OHM = 0.020
TAU1_S = 120.0
# Resistance rises in the cold (Arrhenius, activation energy Ea) ...
EA_J_PER_MOL = 30000.0
GAS_R = 8.314
T_REF_K = 298.15
# ... and near empty: up to (1 + LOW_SOC_GAIN) times at SoC 0, from LOW_SOC_KNEE down.
LOW_SOC_KNEE = 0.20
LOW_SOC_GAIN = 1.5

SELF_DISCHARGE_PCT_MONTH = 2.0   # nominal, per group; spreads are per scenario
SECONDS_PER_MONTH = 30 * 86400.0


def ocv(soc):
    """Rested cell voltage at a state of charge (fraction); linear between points,
    extended linearly past both ends of the table."""
    k = bisect_right(_SOC, soc) - 1
    if k < 0:
        k = 0
    elif k >= len(_SLOPE):
        k = len(_SLOPE) - 1
    return _V[k] + (soc - _SOC[k]) * _SLOPE[k]


def soc_at_ocv(volts):
    """The state of charge (fraction) at a rested voltage: ocv() inverted."""
    k = bisect_right(_V, volts) - 1
    k = max(0, min(k, len(_SLOPE) - 1))
    return _SOC[k] + (volts - _V[k]) / _SLOPE[k]


def ocv_energy_wh(soc_a, soc_b, capacity_ah, steps=200):
    """Chemical energy stored between two states of charge (integral of OCV dQ)."""
    total = 0.0
    h = (soc_b - soc_a) / steps
    for k in range(steps):
        total += ocv(soc_a + (k + 0.5) * h)
    return total * h * capacity_ah


def temperature_factor(temp_c):
    """Arrhenius multiplier on the 25 degC resistances."""
    return math.exp(EA_J_PER_MOL / GAS_R * (1.0 / (temp_c + 273.15) - 1.0 / T_REF_K))


def soc_factor(soc):
    """Multiplier near empty (1 above LOW_SOC_KNEE)."""
    if soc >= LOW_SOC_KNEE:
        return 1.0
    return 1.0 + LOW_SOC_GAIN * (LOW_SOC_KNEE - max(soc, 0.0)) / LOW_SOC_KNEE


def resistance_factor(temp_c, soc):
    """Multiplier on the 25 degC, mid-SoC resistances."""
    return temperature_factor(temp_c) * soc_factor(soc)


_decay = {}


def relaxation_decay(dt):
    """exp(-dt / TAU1_S), cached: the plant uses a handful of step sizes."""
    a = _decay.get(dt)
    if a is None:
        a = math.exp(-dt / TAU1_S)
        if len(_decay) < 64:
            _decay[dt] = a
    return a


class CellGroup:
    """One group of parallel cells: SoC, relaxation voltage, capacity, self-discharge.

    capacity_scale and self_discharge_scale carry the per-group spread (1.0 = nominal).
    """

    def __init__(self, soc=0.5, capacity_scale=1.0, self_discharge_scale=1.0,
                 parallel=CELLS_PARALLEL):
        self.soc = soc
        self.v_rc = 0.0
        self.capacity_ah = CELL_AH * parallel * capacity_scale
        self.r0 = R0_CELL_OHM / parallel
        self.r1 = R1_CELL_OHM / parallel
        # Self-discharge as a constant current: % of capacity per month.
        self.i_self = -SELF_DISCHARGE_PCT_MONTH / 100.0 * self.capacity_ah * 3600.0 \
            / SECONDS_PER_MONTH * self_discharge_scale
        self.heat_w = 0.0       # dissipated in the last step (I^2 R0 + RC loss)
        self.ocv = ocv(soc)
        self.v_term = self.ocv  # terminal voltage during the last step
        self.r0_eff = self.r0   # R0 at the last step's temperature and SoC

    def emf(self):
        """Open-circuit voltage plus the relaxation voltage: the source behind R0."""
        return self.ocv + self.v_rc

    def set_soc(self, soc):
        self.soc = soc
        self.ocv = ocv(soc)
        self.v_term = self.ocv + self.v_rc

    def r_series(self, temp_c):
        return self.r0 * resistance_factor(temp_c, self.soc)

    def step(self, dt, current, temp_c=None, t_factor=None, decay=None):
        """Carry `current` (A, + = into the cells) for dt seconds. The relaxation voltage
        follows the exact solution for a constant current over the step. t_factor
        (temperature_factor of the module) and decay (relaxation_decay(dt)) save
        recomputing them per group."""
        f = t_factor if t_factor is not None else temperature_factor(temp_c)
        if self.soc < LOW_SOC_KNEE:
            f *= soc_factor(self.soc)
        r0 = self.r0 * f
        r1 = self.r1 * f
        v_rc0 = self.v_rc
        a = decay if decay is not None else relaxation_decay(dt)
        target = current * r1
        d = v_rc0 - target
        v_rc1 = target + d * a
        # Mean v_rc over the step (for the heat in R1 and the terminal voltage).
        mean_rc = target + d * (TAU1_S / dt) * (1.0 - a) if dt > 0 else v_rc0
        ocv0 = self.ocv
        self.soc += (current + self.i_self) * dt / (3600.0 * self.capacity_ah)
        self.ocv = ocv1 = ocv(self.soc)
        self.v_rc = v_rc1
        self.v_term = 0.5 * (ocv0 + ocv1) + mean_rc + current * r0
        self.heat_w = current * current * r0 + mean_rc * mean_rc / r1
        self.r0_eff = r0
        return self.v_term

    def terminal_v(self, current, temp_c):
        """Voltage at the terminals now, with `current` flowing (no state change)."""
        return self.emf() + current * self.r_series(temp_c)
