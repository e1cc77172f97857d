# Which cells to bleed: a pure decision over the bms.pack.Pack interface, so a
# module driver only applies masks (Pack.set_balance) and the policy can change
# without touching a driver. Today's rule, as the Tesla bus master had it: bleed
# cells above balance_v that are more than balance_delta_v above the lowest cell,
# and never on stale data.

from bms import units


def limits(cfg):
    """(balance_mv, balance_delta_mv) from the configuration, converted once."""
    return units.mv(cfg["balance_v"]), units.mv(cfg["balance_delta_v"])


def plan_balance(pack, balance_mv, delta_mv, t_ms, stale_ms, out):
    """Fill out[m] with the bleed mask of module m (len(out) modules, cells split
    evenly). Returns False, all masks 0, when the pack's data is older than stale_ms:
    never balance on old numbers. Allocates nothing."""
    modules = len(out)
    n = pack.cell_count()
    per = n // modules if modules else 0
    fresh = pack.age_ms(t_ms) <= stale_ms
    lo = 0x3FFFFFFF
    for i in range(n):
        v = pack.cell_mv(i)
        if v < lo:
            lo = v
    for m in range(modules):
        mask = 0
        if fresh:
            for c in range(per):
                v = pack.cell_mv(m * per + c)
                if v > balance_mv and v - lo > delta_mv:
                    mask |= 1 << c
        out[m] = mask
    return fresh
