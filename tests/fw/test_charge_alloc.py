# Charge control, derating/limits, heater and balancer run every main-loop pass:
# on MicroPython their updates must allocate nothing (a GC pause is a missed cycle).

from bms import config
from bms.balancer import Balancer
from bms.charge import ChargeControl
from bms.heater import Heater
from bms.limits import Limits
from bms.pack import PackSummary
from tests.fw.fake_pack import FakePack
from tests.fw.alloc import allocated_by
from tests.fw.support import MICROPYTHON, skip


def test_updates_allocate_nothing_on_micropython():
    if not MICROPYTHON:
        skip("gc.mem_alloc exists only on MicroPython")
    cfg = config.make({"heater_enabled": True})
    pack = FakePack([4050] * 11 + [4095], [250, 260, -5, 270])
    s = PackSummary()
    lim = Limits(cfg, 12)
    ctl = ChargeControl(cfg, 12)
    heater = Heater(cfg)
    bal = Balancer(cfg, 12, 6, 2)
    state = [0]

    def cycle():
        t = state[0]
        for k in range(400):
            t += 250
            pack.cells[k % 11] = 4040 + (k * 7) % 70
            pack.temps[2] = -30 + k % 60
            s.update(pack, t, 750)
            ctl.update(t, s, (k % 9 - 4) * 3000, 9000 + k % 900)
            lim.update(s, True, k % 50 != 0, t, 9000 + k % 900, ctl.cvl_dv)
            lim.update(s, k % 3 != 0, True, t)
            heater.update(t, s.t_min, s.t_max, True, True, False)
            bal.update(t, pack, s, k % 97 != 0, k < 300, 1500 if k % 2 else None)
        state[0] = t
    cycle()  # warm up
    used = allocated_by(cycle)
    assert used == 0, "charge pieces allocated %d bytes over 400 cycles" % used
    assert ctl.phase_changes >= 1 and bal.windows >= 1, (ctl.phase_changes, bal.windows)
