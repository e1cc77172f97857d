# The SoC estimator's state across a reboot: the record's layout, when a save is due,
# and restoring with range checks. drivers.storage.RecordStore keeps the bytes safe
# (atomic A/B copies); this file decides what goes in them and when.
#
# A save is due every soc_save_s, and early (at most once a minute) once the reported
# SoC has moved 1 % or an anchor or a capacity learn has happened: a reboot loses at
# most about 1 % of SoC or a minute of counting.

import struct

from bms import soc as S
from bms import soc_learn as L
from bms.ticks import ticks_diff

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# version, flags, last anchor, soc, shown, capacity, learned capacity, offset, count
# since the anchor, the anchor's SoC, discharged units, cycles, full anchors, empty
# anchors, capacity learns.
FORMAT = ">BBBiiiiiiiiIHHH"
SIZE = struct.calcsize(FORMAT)
VERSION = 1
_F_LEARN_OK = const(0x01)
_F_FROM_OCV = const(0x02)
# Bits 2-7 of the flags: the early capacity's uncertainty (rule 3b, per mille, 1..63)
# when the capacity field holds an early capacity; 0 (as in records written before):
# it does not, the configured capacity is used. The layout is unchanged, so records
# stay readable both ways: firmware before this reads and ignores the bits.
_SIG_SHIFT = const(2)
_SIG_MAX = const(63)
SAVE_STEP_U = 1000      # save early once the reported SoC moved 1 % ...
SAVE_MIN_MS = 60000     # ... but not more often than once a minute


def pack(est, buf):
    """Write the estimator's persistent state into buf (SIZE bytes); returns buf."""
    flags = (_F_LEARN_OK if est.learn_ok else 0) | (_F_FROM_OCV if est.from_ocv else 0)
    if not est.learned_as and est.early_capacity and est.cap_sig_pm <= _SIG_MAX:
        flags |= est.cap_sig_pm << _SIG_SHIFT
    struct.pack_into(FORMAT, buf, 0, VERSION, flags, est.anchor, est.soc_u, est.shown,
                     est.cap_as, est.learned_as, est.offset_ma, est.q_since_u, est.anchor_u,
                     est.out_u, est.cycles, est.full_anchors & 0xFFFF,
                     est.empty_anchors & 0xFFFF, est.learns & 0xFFFF)
    return buf


def restore(est, buf):
    """Put a saved state into est; False (est unchanged) when the record does not fit
    this configuration, and the caller starts from OCV instead."""
    if len(buf) < SIZE:
        return False
    (version, flags, anchor, soc_u, shown, cap_as, learned_as, offset_ma, q_since_u,
     anchor_u, out_u, cycles, fulls, empties, learns) = struct.unpack_from(FORMAT, buf, 0)
    if (version != VERSION or anchor > S.A_EMPTY or not S.U_MIN <= soc_u <= S.U_MAX
            or not S.U_MIN <= shown <= S.U_MAX or not 0 <= out_u < S.U_FULL
            or not 0 <= anchor_u <= S.U_FULL
            or (learned_as and not L.plausible(est, learned_as))):
        return False
    sig = flags >> _SIG_SHIFT
    if learned_as:
        est.learned_as = learned_as
        est.set_capacity(learned_as)
    elif sig and L.plausible(est, cap_as):
        # an early capacity (rule 3b), measured before the first learn: a reboot
        # would otherwise fall back to the configured one for the next cycles
        est.set_capacity(cap_as)
        est.cap_sig_pm = est._b_sig = sig   # a bound reading (b) must be surer
        est.early_capacity = 1
    # else: keep the capacity the configuration gives (it may have been changed)
    if 0 < cap_as != est.cap_as:
        # the count since the anchor is in units of the capacity it was counted with
        # (the start's span, rule 9, is not saved): the same charge in this one's
        q_since_u = q_since_u * cap_as // est.cap_as
    est.offset_ma = max(-est.offset_max_ma, min(est.offset_max_ma, offset_ma))
    est.soc_u = soc_u
    est.shown = shown
    est.anchor = anchor
    est.q_since_u = q_since_u
    est.anchor_u = anchor_u
    est.learn_ok = bool(flags & _F_LEARN_OK)
    est.from_ocv = bool(flags & _F_FROM_OCV)
    est.out_u = out_u
    est.cycles = cycles
    est.full_anchors = fulls
    est.empty_anchors = empties
    est.learns = learns
    est.resume()
    return True


class Saver:
    """When to write the estimator's record, and writing it through a store
    (drivers.storage.RecordStore, or anything with save(payload, t_ms, force))."""

    def __init__(self, est, cfg, store):
        self.est = est
        self.store = store
        self.period_ms = cfg["soc_save_s"] * 1000
        self.buf = bytearray(SIZE)
        self.saves = 0
        self._t = 0
        self._u = 0
        self._events = -1     # anchors + learns at the last save; -1: never saved

    def load(self):
        """Restore the newest saved state into the estimator; False: start from OCV."""
        return self.store.load(self.buf) and restore(self.est, self.buf)

    def due(self, t_ms):
        est = self.est
        if est.origin == S.ORIGIN_NONE:
            return False
        if self._events < 0:
            return True
        age = ticks_diff(t_ms, self._t)
        if age >= self.period_ms:
            return True
        if age < SAVE_MIN_MS:
            return False
        moved = est.shown - self._u
        events = est.full_anchors + est.empty_anchors + est.learns
        return moved >= SAVE_STEP_U or moved <= -SAVE_STEP_U or events != self._events

    def poll(self, t_ms):
        """Call every main-loop pass; writes only when due. True when a record was written."""
        if not self.due(t_ms):
            return False
        est = self.est
        if not self.store.save(pack(est, self.buf), t_ms, True):
            return False
        self._t = t_ms
        self._u = est.shown
        self._events = est.full_anchors + est.empty_anchors + est.learns
        self.saves += 1
        return True
