# Discovery, addressing and configuration of the Tesla module boards: the part of
# the bus that runs at start-up and when a board comes back from a reset. It works
# through a drivers.tesla_link.TeslaLink's public frame API only; the bus master
# (drivers.tesla_bus) owns it and decides when to run it.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from drivers.clock import sleep_ms
from protocols.tesla import frame as F
from protocols.tesla import registers as R

_CFG_COUNT = const(6)      # CONFIG_COV .. CONFIG_OTT


class TeslaDiscovery:
    def __init__(self, link, expected, retries, reset_wait_ms, cfg_codes):
        self.link = link
        self.expected = expected
        self.retries = retries
        self.reset_wait_ms = reset_wait_ms
        self.cfg_codes = cfg_codes   # CONFIG_COV..CONFIG_OTT values, in register order

    def discover(self):
        """Reset every board and give addresses 1..n in chain order, verifying each.
        Returns how many boards answered (expected + 1 means at least one too many),
        or 0 when the ring did not even echo the reset."""
        link = self.link
        link.set_budget(self.retries * (8 + self.expected))
        link.stage_write(R.BROADCAST, R.RESET, R.RESET_VALUE)
        link.exchange()                    # twice, as proven on hardware:
        if link.transact(1 + self.retries) != F.OK:  # the second must echo
            return 0
        if self.reset_wait_ms:
            sleep_ms(self.reset_wait_ms)
        found = 0
        limit = min(self.expected + 1, R.MAX_ADDRESS)
        while found < limit:
            if not self.probe_unaddressed():
                break
            if found == self.expected:  # one more board than configured: stop here
                found += 1
                break
            if not self.assign(found + 1):
                break
            found += 1
        return found

    def probe_unaddressed(self):
        """True if a board still at address 0 answers a DEVICE_STATUS read."""
        link = self.link
        link.stage_read(0, R.DEVICE_STATUS, 1)
        code = link.exchange()
        # the request coming back untouched is an answer too: nobody is at address 0
        while code and not link.returned_untouched() and link.may_retry():
            code = link.exchange()
        return code == F.OK

    def assign(self, addr):
        """Give the first address-0 board `addr` and prove it answers there.

        The address write is repeated only after two reads at `addr` in a row came
        back untouched, which shows no board has that address, so writing again
        cannot hand it to a second board. A proof that fails any other way ends
        discovery instead; the next discovery starts from a reset."""
        link = self.link
        for attempt in range(1 + self.retries):
            if attempt and not link.may_retry():
                return False
            link.write(0, R.ADDRESS_CONTROL, addr | R.ADDRESS_REQUEST)
            untouched = 0
            link.stage_read(addr, R.DEVICE_STATUS, 1)
            for k in range(2 + self.retries):
                if k and not link.may_retry():
                    return False
                if link.exchange() == F.OK:
                    return True
                if link.returned_untouched():
                    untouched += 1
                    if untouched == 2:
                        break
                else:
                    untouched = 0
            if untouched < 2:
                return False
        return False

    def configure(self, addr):
        """Write CONFIG_COV..CONFIG_OTT (each after a SHDW_CONTROL unlock) to addr or
        broadcast."""
        link = self.link
        for k in range(_CFG_COUNT):
            for attempt in range(1 + self.retries):
                if attempt and not link.may_retry():
                    break
                # unlock and write as a pair: a lost unlock would leave the write ignored
                if link.write(addr, R.SHDW_CONTROL, R.SHDW_UNLOCK) == F.OK and \
                        link.write(addr, R.CONFIG_COV + k, self.cfg_codes[k]) == F.OK:
                    break

    def verify(self, addr):
        """True when board addr reads its thresholds back exactly as written."""
        link = self.link
        link.stage_read(addr, R.CONFIG_COV, _CFG_COUNT)
        if link.transact(1 + self.retries) != F.OK:
            return False
        for k in range(_CFG_COUNT):
            if link.rx[3 + k] != self.cfg_codes[k]:
                return False
        return True

    def clear_flags(self, addr):
        """ALERT_STATUS 0xFF, 0x00 and FAULT_STATUS 0xFF, 0x00 to addr or broadcast,
        each echoed; True when all four were."""
        ok = self._echoed(addr, R.ALERT_STATUS, 0xFF)
        ok = self._echoed(addr, R.ALERT_STATUS, 0x00) and ok
        ok = self._echoed(addr, R.FAULT_STATUS, 0xFF) and ok
        return self._echoed(addr, R.FAULT_STATUS, 0x00) and ok

    def _echoed(self, addr, reg, value):
        self.link.stage_write(addr, reg, value)
        return self.link.transact(1 + self.retries) == F.OK
