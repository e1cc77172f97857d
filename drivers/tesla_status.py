# What each Tesla module board says about itself: ALERT_STATUS, FAULT_STATUS and the
# per-cell COV/CUV bits, read through a drivers.tesla_link.TeslaLink only when the
# board's DEVICE_STATUS flags an alert or fault, and taken only when two reads agree.
# Owned by the bus master (drivers.tesla_bus), which reports what it holds.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from protocols.tesla import frame as F
from protocols.tesla import plausible as P
from protocols.tesla import registers as R

_STATUS_COUNT = const(4)   # ALERT_STATUS, FAULT_STATUS, COV_FAULT, CUV_FAULT
FLAGGED = R.DS_ALERT | R.DS_FAULT   # DEVICE_STATUS bits that call for a status read

# Status bits -> what they mean for the BMS. Reset/POR/AR and CRC bits are about the
# link, not the cells: they are cleared and counted as communication errors.
FAULT_BITS = R.FS_COV | R.FS_CUV | R.FS_FORCE | R.FS_I_FAULT
LINK_FAULT_BITS = R.FS_CRC | R.FS_POR
ALERT_BITS = (R.AL_OT1 | R.AL_OT2 | R.AL_SLEEP | R.AL_TSD | R.AL_FORCE | R.AL_ECC_ERR
              | R.AL_PARITY)
LINK_ALERT_BITS = R.AL_AR

# flags[i] bits: what _report needs without walking five arrays
_F_FAULT = const(1)      # board fault (hardware COV/CUV, FORCE, internal, thresholds)
_F_ALERT = const(2)      # board alert
_F_HELD = const(4)       # some status byte is set: read again until it clears


class TeslaStatus:
    def __init__(self, link, count, retries):
        self.link = link
        self.count = count
        self.retries = retries
        self.alerts = bytearray(count)
        self.fault_bits = bytearray(count)
        self.cov = bytearray(count)
        self.cuv = bytearray(count)
        self.cfg_bad = bytearray(count)    # thresholds did not read back as written
        self.flags = bytearray(count)
        self.link_event = False            # the last read() saw a reset or CRC flag
        self._held = bytearray(_STATUS_COUNT)

    def read(self, i, extra):
        """Refresh board i's status after a measurement read whose DEVICE_STATUS
        flagged something (or while something is held): OK or an E_* code. `extra`
        (0/1) is added to the register count, as the bus master's sequence check asks."""
        self.link_event = False
        link = self.link
        link.stage_read(i + 1, R.ALERT_STATUS, _STATUS_COUNT + extra)
        code = link.transact(1 + self.retries)
        if code != F.OK:
            return code
        if not self._same(i):
            self._hold()
            code = link.transact(1 + self.retries)
            if code != F.OK:
                return code
            if not self._repeated():
                link.count(F.E_DATA)
                return F.E_DATA
            self._keep(i)
        # A reset flag or a CRC error seen by the board: a link event, cleared at the
        # end of the cycle and counted, never a cell fault.
        self.link_event = bool(self.alerts[i] & LINK_ALERT_BITS or
                               self.fault_bits[i] & LINK_FAULT_BITS)
        return F.OK

    def clear(self, i):
        """DEVICE_STATUS no longer flags anything: nothing is held for board i."""
        self.alerts[i] = 0
        self.fault_bits[i] = 0
        self.cov[i] = 0
        self.cuv[i] = 0
        self.summarise(i)

    def summarise(self, i):
        f = 0
        if self.fault_bits[i] & FAULT_BITS or self.cov[i] or self.cuv[i] or self.cfg_bad[i]:
            f = _F_FAULT
        if self.alerts[i] & ALERT_BITS:
            f |= _F_ALERT
        if self.alerts[i] or self.fault_bits[i] or self.cov[i] or self.cuv[i]:
            f |= _F_HELD
        self.flags[i] = f

    def first_fault(self):
        """Address of the first board with a fault, or 0."""
        return P.first_with(self.flags, self.count, _F_FAULT)

    def first_alert(self):
        return P.first_with(self.flags, self.count, _F_ALERT)

    def any_cfg_bad(self):
        return P.first_with(self.cfg_bad, self.count, 1) != 0

    def _same(self, i):
        rx = self.link.rx
        return rx[3] == self.alerts[i] and rx[4] == self.fault_bits[i] and \
            rx[5] & 0x3F == self.cov[i] and rx[6] & 0x3F == self.cuv[i]

    def _hold(self):
        rx = self.link.rx
        h = self._held
        for k in range(_STATUS_COUNT):
            h[k] = rx[3 + k]

    def _repeated(self):
        rx = self.link.rx
        h = self._held
        for k in range(_STATUS_COUNT):
            if h[k] != rx[3 + k]:
                return False
        return True

    def _keep(self, i):
        rx = self.link.rx
        self.alerts[i] = rx[3]
        self.fault_bits[i] = rx[4]
        self.cov[i] = rx[5] & 0x3F
        self.cuv[i] = rx[6] & 0x3F
        self.summarise(i)
