# The application's persisted record (app/persist.py) through the A/B record store
# (drivers/storage.py), cut by 1000 random power failures in the middle of a write:
# after every reboot the record is one that was saved (never a corrupt one), and a
# latch whose save completed is never lost; a latch that was being written when the
# power went is either there or its condition is still held (the previous copy).

from app.persist import SIZE, Persist
from app.recovery import Recovery
from bms import config
from bms import diagnosis as D
from drivers.storage import RecordStore
from fsm import table
from tests.fw.test_storage import PowerCut, Rand, TornFiles

FAULT = table.state_index("Fault")
INIT = table.state_index("Init")


class FakeMachine:
    def __init__(self):
        self.state = INIT
        self.faults = bytearray(D.COUNT)

    def dispatch(self, event, t_ms, fields=None):
        if event == "fault":
            self.state = FAULT
            self.faults[D.index(fields["diag"])] = 1


class FakeApp:
    def __init__(self, cfg):
        self.machine = FakeMachine()
        self.recovery = Recovery(cfg)
        self.task_errors = 0
        self.task_errors_before = 0


def _boot(files, cfg, t):
    app = FakeApp(cfg)
    p = Persist(RecordStore("state", SIZE, 0, files))
    p.restore(t, app)
    return app, p


def test_random_power_cuts_never_corrupt_the_record_nor_lose_a_latch():
    cfg = config.make()
    rand = Rand(19)
    files = TornFiles(rand)
    app, p = _boot(files, cfg, 0)
    latched = False           # as the last completed save left it
    cuts = 0
    t = 0
    while cuts < 1000:
        t += 100
        want = rand.below(3) == 0
        row = rand.below(D.COUNT)
        if want and app.machine.state != FAULT:
            app.recovery.saw(row)
            app.machine.state = FAULT
        elif not want and app.machine.state == FAULT and rand.below(2):
            app.machine.state = INIT
            app.recovery.reset_done()
        if rand.below(4) == 0:
            files.cut_in = rand.below(2)
        target = app.machine.state == FAULT
        try:
            p.poll(t, app)
        except PowerCut:
            cuts += 1
            if files.completed:
                latched = target
            app, p = _boot(files, cfg, t)
            assert p.restored, "no intact record after cut %d" % cuts
            assert (app.machine.state == FAULT) == latched, (cuts, latched)
            if latched:
                assert app.machine.faults[D.FAULT_LATCHED]
            continue
        if p.latched == target:
            latched = target
    assert files.writes > 1000
