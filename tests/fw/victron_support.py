# Helpers for the Victron, limits and CAN tests (both runtimes: no pytest features).

from bms import config
from bms import diagnosis as D
from bms.limits import Limits
from bms.pack import PackSummary
from drivers.can import MemoryBus
from protocols.victron.reporter import Reporter
from tests.fw.fake_pack import FakePack


def summary_of(cells, temps, age=0, strings=1):
    s = PackSummary(strings)
    s.update(FakePack(cells, temps, age), 0, 750)
    return s


def pack12(mv=3700, dc=250):
    """Two Tesla-like 6S modules in series: 12 cells, 4 sensors."""
    return FakePack([mv] * 12, [dc] * 4)


class FakeMachine:
    """Stands in for fsm.machine.Machine: a permissions tuple indexed by P_*."""

    def __init__(self, can_tx=True, charge=True, discharge=True):
        self.perms = [False, can_tx, False, charge, discharge]
        self.faults = bytearray(D.COUNT)

    def allows(self, p):
        return self.perms[p]


class Station:
    """Pack, summary, diagnosis, limits, memory CAN bus and reporter wired as the
    main loop will wire them; `step(t)` is one loop pass."""

    def __init__(self, overrides=None, pack=None, machine=None, bus=None, record=True):
        self.cfg = config.make(overrides)
        self.pack = pack if pack is not None else pack12()
        self.summary = PackSummary(1)
        self.diag = D.Diagnosis()
        self.limits = Limits(self.cfg, self.pack.cell_count())
        self.machine = machine if machine is not None else FakeMachine()
        self.bus = bus if bus is not None else MemoryBus(record=record)
        self.reporter = Reporter(self.bus, self.cfg, self.summary, self.limits,
                                 self.diag.active, self.machine.faults,
                                 cells_per_module=6, temps_per_module=2)

    def step(self, t, soc=None, current=None):
        """One main-loop pass: CAN housekeeping once, then the reporter with the
        permission the machine gives (docs/architecture.md, the main loop)."""
        from fsm.table import P_CAN_TX, P_CHARGE, P_DISCHARGE
        self.summary.update(self.pack, t, self.cfg["stale_ms"])
        self.limits.update(self.summary, self.machine.allows(P_CHARGE),
                           self.machine.allows(P_DISCHARGE))
        self.bus.service(t)
        return self.reporter.poll(t, self.machine.allows(P_CAN_TX), soc, current)

    def last(self, frame_id):
        for can_id, data in reversed(self.bus.sent):
            if can_id == frame_id:
                return data
        return None
