# Open-circuit voltage of a rested cell against its state of charge, as data.
# bms/soc.py reads it for the start-up estimate and the rested-OCV correction, and
# weights that correction by how steep the curve is where the cell sits: where a few
# mV span many percent (the flat middle), a voltage says little about SoC.
#
# NCA: the Panasonic 18650 family in Tesla Model S modules, rested (relaxation done)
# at about 25 degC. One documented set of numbers (docs/soc.md, "The OCV table"): the
# shape of published low-rate NCR18650B-class curves at 5 % steps, the same points
# the plant simulator's cell model documents (docs/simulator.md, "Cells"; it must not
# import this file). Until 2026-11 this table held a second, independently rounded
# set that differed from the plant's by up to 25 mV in the 55-85 % region: about 3 %
# of SoC at 8 mV/%, which a rested-OCV reading or a start-up then carried into the
# estimate (`pybms bench soc` keeps that table as a row, to show what a curve that
# does not match the cells costs). Temperature dependence is not modelled here.

# (SoC in 0.01 % of the cell's full capacity, OCV in mV), SoC strictly rising.
NCA = (
    (0, 3000), (200, 3180), (500, 3320), (1000, 3430), (1500, 3490), (2000, 3540),
    (2500, 3580), (3000, 3620), (3500, 3650), (4000, 3680), (4500, 3720), (5000, 3760),
    (5500, 3800), (6000, 3840), (6500, 3880), (7000, 3920), (7500, 3960), (8000, 4000),
    (8500, 4040), (9000, 4080), (9500, 4120), (10000, 4170),
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
