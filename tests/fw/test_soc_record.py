# bms.soc_record: the SoC record's round trip and range checks, restoring after a
# reboot or starting from OCV (flagged), and when saves happen (period, or early
# after a 1 % move), through drivers.storage.RecordStore.

from bms import config
from bms import soc as S
from bms import soc_record as R
from drivers.storage import RecordStore
from tests.fw.test_soc import SERIES, Run, Summary


class MemFiles:
    def __init__(self):
        self.data = {}

    def read(self, path):
        return self.data.get(path)

    def write(self, path, data):
        self.data[path] = bytes(data)


def test_record_round_trip_and_refusal():
    r = Run(cell_mv=3800, soc_u=61234)
    est = r.est
    est.offset_ma = 321
    est.learned_as = est.nominal_as * 9 // 10
    est.cycles = 7
    buf = R.pack(est, bytearray(R.SIZE))
    other = S.SocEstimator(r.cfg, SERIES)
    assert R.restore(other, buf)
    assert (other.soc_u, other.offset_ma, other.learned_as, other.cycles, other.origin) == \
        (61234, 321, est.learned_as, 7, S.ORIGIN_RECORD)
    assert other.cap_as == est.learned_as and other.from_ocv == est.from_ocv
    assert other.soc_x100() == 6123
    bad = bytearray(buf)
    bad[0] = 99                                     # another version
    fresh = S.SocEstimator(r.cfg, SERIES)
    assert not R.restore(fresh, bad) and fresh.origin == S.ORIGIN_NONE
    assert not R.restore(fresh, buf[:10])
    small = config.make({"module_capacity_ah": 50})  # a learned capacity that cannot be
    assert not R.restore(S.SocEstimator(small, SERIES), buf)


def test_reboot_restores_the_record_or_starts_from_ocv_and_says_so():
    files = MemFiles()
    r = Run(cell_mv=3800)
    r.est.soc_u = r.est.shown = 61234
    r.est.from_ocv = False
    buf = bytearray(R.SIZE)
    assert RecordStore("soc", R.SIZE, 600000, files).save(R.pack(r.est, buf), 0)
    # reboot with a good record: the saved SoC, not the voltage's
    est = S.SocEstimator(r.cfg, SERIES)
    assert RecordStore("soc", R.SIZE, 600000, files).load(buf) and R.restore(est, buf)
    est.update(987654, -50000, True, Summary(3800))   # ticks since boot: no gap counted
    assert est.origin == S.ORIGIN_RECORD and est.soc_x100() == 6123 and not est.from_ocv
    assert est.gaps == 0 and est.soc_u == 61234
    # reboot with the record destroyed: from OCV, flagged
    for path in files.data:
        files.data[path] = b"\xff" * len(files.data[path])
    est = S.SocEstimator(r.cfg, SERIES)
    assert not RecordStore("soc", R.SIZE, 600000, files).load(buf)
    est.update(10, 0, True, Summary(3800))
    assert est.origin == S.ORIGIN_OCV and est.from_ocv
    assert est.soc_x100() == (est.pack_usable_u(3800, 3800) + 5) // 10


def test_saves_come_at_the_period_or_after_one_percent_and_a_reboot_loses_little():
    files = MemFiles()
    r = Run({"soc_save_s": 600}, cell_mv=3800)
    est = r.est
    saver = R.Saver(est, r.cfg, RecordStore("soc", R.SIZE, 600000, files))
    times = []
    for k in range(3 * 3600):                      # 1 h rest, 1 h at 100 A, 1 h rest
        r.t += 1000
        ma = -100000 if 3600 <= k < 7200 else 0
        est.update(r.t, ma, True, r.s)
        if saver.poll(r.t):
            times.append(r.t)
        if k in (4000, 5073, 6000, 7100):          # a reboot now would lose at most ~1 %
            back = S.SocEstimator(r.cfg, SERIES)
            assert R.Saver(back, r.cfg, RecordStore("soc", R.SIZE, 600000, files)).load()
            assert 0 <= back.shown - est.shown <= R.SAVE_STEP_U + 10, back.shown - est.shown
    gaps = [times[j] - times[j - 1] for j in range(1, len(times))]
    assert min(gaps) >= R.SAVE_MIN_MS and max(gaps) <= 600000
    # 100 A is 1 % of 208 Ah every 75 s: a save about every 75 s during the discharge
    start = 1000 + 3600 * 1000
    during = [x for x in times if start < x <= start + 3600 * 1000]
    assert 45 <= len(during) <= 50, len(during)


def test_an_early_capacity_survives_a_reboot_in_the_same_record_layout():
    r = Run(cell_mv=3800, soc_u=61234)
    est = r.est
    early = est.nominal_as * 93 // 100
    est.set_capacity(early)                         # rule 3b measured it, +/- 2.5 %
    est.cap_sig_pm = 25
    est.early_capacity = 1
    buf = R.pack(est, bytearray(R.SIZE))
    assert R.SIZE == 45 and buf[1] >> 2 == 25       # the same 45 bytes, flag bits 2-7
    back = S.SocEstimator(r.cfg, SERIES)
    assert R.restore(back, buf)
    assert back.cap_as == early and back.cap_sig_pm == 25 and not back.learned_as
    assert back.soh_pct() is None                   # an early capacity is not SOH
    # a record written before (bits 2-7 zero) or an unsure early capacity: configured
    est.cap_sig_pm = 80
    for b in (R.pack(est, bytearray(R.SIZE)), bytearray(buf)):
        b[1] &= 3
        back = S.SocEstimator(r.cfg, SERIES)
        assert R.restore(back, b) and back.cap_as == back.nominal_as * r.cfg["soh_pct"] // 100
    # one outside 50-125 % of this configuration's nominal is not taken
    small = config.make({"module_capacity_ah": 100})
    back = S.SocEstimator(small, SERIES)
    assert R.restore(back, buf) and back.cap_as != early and back.cap_sig_pm == 100


def test_the_count_since_the_anchor_keeps_its_charge_when_the_capacity_is_not_restored():
    # A start from OCV counts with the span the cells leave (rule 9), which is not
    # saved: after a reboot the configured capacity counts, and the charge counted
    # since the anchor (capacity learning, rule 7) must stay the same charge.
    r = Run(cell_mv=3800)
    est = r.est
    est.set_capacity(est.cap_as * 97 // 100)
    est.q_since_u = -40000
    buf = R.pack(est, bytearray(R.SIZE))
    back = S.SocEstimator(r.cfg, SERIES)
    assert R.restore(back, buf) and back.cap_as != est.cap_as
    d = back.q_since_u * back.cap_as - est.q_since_u * est.cap_as
    assert -back.cap_as <= d <= back.cap_as, (back.q_since_u, est.q_since_u)   # one unit
    assert back.soc_u == est.soc_u              # the SoC is a share: unchanged
