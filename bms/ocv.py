# Open-circuit voltage of a rested cell against its state of charge, as data.
# bms/soc.py reads it for the start-up estimate and the rested-OCV correction, and
# weights that correction by how steep the curve is where the cell sits: where a few
# mV span many percent (the flat middle), a voltage says little about SoC.
#
# NCA: the Panasonic 18650 family in Tesla Model S modules, rested (relaxation done)
# at about 25 degC. Numbers are typical published values for the chemistry, rounded to
# 5 mV; they are the documented numbers the plant simulator's truth model may share
# (it must not import this file). Temperature dependence is not modelled here.

# (SoC in 0.01 % of the cell's full capacity, OCV in mV), SoC strictly rising.
NCA = (
    (0, 3000), (250, 3200), (500, 3310), (1000, 3430), (1500, 3500), (2000, 3550),
    (2500, 3590), (3000, 3620), (3500, 3650), (4000, 3680), (4500, 3710), (5000, 3745),
    (5500, 3780), (6000, 3815), (6500, 3855), (7000, 3895), (7500, 3935), (8000, 3975),
    (8500, 4020), (9000, 4065), (9500, 4115), (10000, 4180),
)

# The OCV correction trusts the voltage by slope / (slope + HALF_WEIGHT): one half
# where the curve rises 8 mV per percent, 0.43 in NCA's flat middle (6 mV/%), 0.75
# near empty (24 mV/%).
HALF_WEIGHT_UV_PER_PCT = 8000


def check(curve):
    """A table must rise in both columns: a flat or falling step has no inverse."""
    for k in range(1, len(curve)):
        if curve[k][0] <= curve[k - 1][0] or curve[k][1] <= curve[k - 1][1]:
            raise ValueError("OCV table must rise strictly at row %d" % k)
    return curve


def _segment(curve, mv):
    n = len(curve)
    k = 1
    while k < n - 1 and mv > curve[k][1]:
        k += 1
    return k


def soc_x100(curve, mv):
    """Physical SoC in 0.01 % for a rested cell voltage (clipped to the table)."""
    if mv <= curve[0][1]:
        return curve[0][0]
    if mv >= curve[-1][1]:
        return curve[-1][0]
    k = _segment(curve, mv)
    s0, v0 = curve[k - 1]
    s1, v1 = curve[k]
    return s0 + (mv - v0) * (s1 - s0) // (v1 - v0)


def slope_uv_per_pct(curve, mv):
    """Steepness of the curve at mv, in uV per percent of SoC."""
    k = _segment(curve, mv)
    s0, v0 = curve[k - 1]
    s1, v1 = curve[k]
    return (v1 - v0) * 100000 // (s1 - s0)


def weight_pm(curve, mv):
    """How far (per mille) a rested-OCV reading may pull the SoC towards itself."""
    slope = slope_uv_per_pct(curve, mv)
    return 1000 * slope // (slope + HALF_WEIGHT_UV_PER_PCT)


check(NCA)
