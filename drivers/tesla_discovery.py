# Discovery, addressing and configuration of the Tesla module boards: the part of
# the bus master that runs at start-up and when a board comes back from a reset.
# A mixin of drivers.tesla_bus.TeslaBus (it uses that class's link and state).

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
    def discover(self, t_ms):
        """Reset every board, give addresses 1..n in chain order, verify each, clear
        the reset flags and write the hardware thresholds. Sets `found` and `ready`."""
        self.ready = False
        self._discovered_once = True
        self._last_discovery = t_ms
        self._budget = self.retries * 8
        self._bwrite(R.RESET, R.RESET_VALUE)        # twice, as proven on hardware:
        if self._bwrite(R.RESET, R.RESET_VALUE) != F.OK:  # the second must echo
            self.found = 0
            return False
        for i in range(self.expected):
            self.balancing[i] = 0
        if self.reset_wait_ms:
            sleep_ms(self.reset_wait_ms)
        found = 0
        limit = min(self.expected + 1, R.MAX_ADDRESS)
        while found < limit:
            if not self._probe_unaddressed():
                break
            if found == self.expected:  # one more board than configured: stop here
                found += 1
                break
            if not self._assign(found + 1):
                break
            found += 1
        self.found = found
        if found != self.expected:
            return False
        self.clear_faults()
        self._configure(R.BROADCAST)
        for i in range(found):
            self.fails[i] = 0
        self.ready = True
        return True

    def _probe_unaddressed(self):
        """True if a board still at address 0 answers a DEVICE_STATUS read."""
        for attempt in range(1 + self.retries):
            code = self._read(0, R.DEVICE_STATUS, 1)
            if code == F.OK:
                return True
            if self._own_request_returned():
                return False  # the frame went round the ring untouched: nobody at 0
        return False

    def _own_request_returned(self):
        """The last read request came back untouched: no board took it. A reply that
        lost bytes cannot look like this under a single fault: a reply is at least 5
        bytes, the request 3 (or 4 with its CRC, which the ring may pass on)."""
        got = self._last_got
        if got != 3 and got != self._last_nout:
            return False
        rx = self._rx
        tx = self._tx
        for k in range(got):
            if rx[k] != tx[k]:
                return False
        return True

    def _assign(self, addr):
        """Give the first address-0 board `addr` and prove it answers there.

        The address write is repeated only after two reads at `addr` in a row came
        back untouched, which shows no board has that address, so writing again
        cannot hand it to a second board. A proof that fails any other way ends
        discovery instead; the next discovery starts from a reset."""
        for attempt in range(1 + self.retries):
            self._write(0, R.ADDRESS_CONTROL, addr | R.ADDRESS_REQUEST)
            untouched = 0
            for k in range(2 + self.retries):
                if self._read(addr, R.DEVICE_STATUS, 1) == F.OK:
                    return True
                if self._own_request_returned():
                    untouched += 1
                    if untouched == 2:
                        break
                else:
                    untouched = 0
            if untouched < 2:
                return False
        return False

    def _configure(self, addr):
        """Write CONFIG_COV..CONFIG_OTT (each after a SHDW_CONTROL unlock) to addr or
        broadcast, then read them back from every board concerned."""
        for k in range(_CFG_COUNT):
            for attempt in range(1 + self.retries):
                # unlock and write as a pair: a lost unlock would leave the write ignored
                if self._write(addr, R.SHDW_CONTROL, R.SHDW_UNLOCK) == F.OK and \
                        self._write(addr, R.CONFIG_COV + k, self.cfg_codes[k]) == F.OK:
                    break
        first = 0 if addr == R.BROADCAST else addr - 1
        last = self.expected if addr == R.BROADCAST else addr
        for i in range(first, last):
            self.cfg_bad[i] = 1
            for attempt in range(1 + self.retries):
                if self._read(i + 1, R.CONFIG_COV, _CFG_COUNT) == F.OK:
                    ok = True
                    for k in range(_CFG_COUNT):
                        if self._rx[3 + k] != self.cfg_codes[k]:
                            ok = False
                    self.cfg_bad[i] = 0 if ok else 1
                    break

    def _recover(self, t_ms):
        """A lost board that was reset (brown-out) sits at address 0 and answers
        nothing else: give it back the lowest lost address and its thresholds."""
        self._last_recover = t_ms
        self._recovered_once = True
        lost = -1
        for i in range(self.expected):
            if self.fails[i] >= self.fail_limit:
                lost = i
                break
        if lost < 0:
            for i in range(self.expected):
                if self.cfg_bad[i] and self.fails[i] == 0:
                    self._configure(i + 1)       # thresholds did not read back: again
                    return
            return
        if self._read(0, R.DEVICE_STATUS, 1) != F.OK:
            return
        if self._assign(lost + 1):
            self._configure(lost + 1)
            for reg in (R.ALERT_STATUS, R.FAULT_STATUS):
                self._write(lost + 1, reg, 0xFF)
                self._write(lost + 1, reg, 0x00)
