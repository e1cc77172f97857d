# Bus master for the Tesla Model S module boards: a bms.pack.Pack over one
# daisy-chained UART. It never creates the UART: the board file hands in a
# machine.UART (or drivers.posix_serial.PosixSerial on the unix port).
#
# One poll cycle (see docs/tesla-bus.md for the timing budget):
#   3 broadcast writes (ADC_CONTROL, IO_CONTROL, ADC_CONVERT), each checked by its echo
#   -> wait ADC_WAIT_MS -> per board one read of DEVICE_STATUS..TEMPERATURE2 (19 bytes,
#   reply 23) -> only if DEVICE_STATUS flags an alert or fault, a 4-byte status read.
# Every reply is checked (length, address, register, count, CRC, 14-bit plausibility,
# DRDY) before a single value is stored. Failed frames are retried within bounds; a
# board's values get a new timestamp only from a complete, verified reading, so
# age_ms() never calls stale data fresh. The hot path allocates nothing: fixed
# bytearrays, memoryviews made once, error codes instead of exceptions.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

from bms import diagnosis
from bms.pack import AGE_NEVER, TEMP_INVALID, Pack
from drivers.clock import sleep_ms, ticks_diff
from drivers.tesla_discovery import TeslaDiscovery
from drivers.tesla_link import QUIET_MS, STATS, WRAP, TeslaLink
from protocols.tesla import convert as C
from protocols.tesla import frame as F
from protocols.tesla import registers as R

ADC_WAIT_MS = const(2)     # conversion of 9 channels is ~60 us after a ~500 us reference
                           # start-up (datasheet); 2 ms of ticks_ms is at least 1 ms
REDISCOVER_MS = const(2000)  # spacing of discovery / re-addressing attempts

_READ_COUNT = const(19)    # DEVICE_STATUS, GPAI, VCELL1..6, TEMPERATURE1/2
_STATUS_COUNT = const(4)   # ALERT_STATUS, FAULT_STATUS, COV_FAULT, CUV_FAULT

# Status bits -> what they mean for the BMS. Reset/POR/AR and CRC bits are about the
# link, not the cells: they are cleared and counted as communication errors.
FAULT_BITS = R.FS_COV | R.FS_CUV | R.FS_FORCE | R.FS_I_FAULT
LINK_FAULT_BITS = R.FS_CRC | R.FS_POR
ALERT_BITS = (R.AL_OT1 | R.AL_OT2 | R.AL_SLEEP | R.AL_TSD | R.AL_FORCE | R.AL_ECC_ERR
              | R.AL_PARITY)
LINK_ALERT_BITS = R.AL_AR


class TeslaBus(TeslaDiscovery, TeslaLink, Pack):
    def __init__(self, uart, cfg, diag):
        TeslaLink.__init__(self, uart, cfg["bus_timeout_ms"], cfg["bus_retries"],
                           cfg["bus_read_crc"])
        self.diag = diag
        self.expected = n = cfg["module_count"]
        self.strings = cfg["parallel_strings"]
        self.retry_budget = cfg["bus_retry_budget"]
        self.reset_wait_ms = cfg["bus_reset_wait_ms"]
        self.fail_limit = cfg["comm_fail_limit"]
        self.check_drdy = cfg["bus_check_drdy"]
        self.balance_mv = int(round(cfg["balance_v"] * 1000))
        self.balance_delta_mv = int(round(cfg["balance_delta_v"] * 1000))
        self.cb_time = C.cb_time_code(cfg["balance_time_s"])
        delay = cfg["hw_delay_ms"]
        ot = C.ot_code(int(round(cfg["hw_ot_c"] * 10)))
        codes = (C.cov_code(int(round(cfg["hw_cov_v"] * 1000))), C.delay_code_100ms(delay),
                 C.cuv_code(int(round(cfg["hw_cuv_v"] * 1000))), C.delay_code_100ms(delay),
                 (ot << 4) | ot if ot >= 0 else -1, C.delay_code_10ms(delay))
        for c in codes:
            if c < 0 or self.cb_time < 0:
                raise ValueError("hardware threshold not representable")
        self.cfg_codes = bytes(codes)   # CONFIG_COV..CONFIG_OTT, in register order

        # Diagnosis rows, looked up once.
        self.i_loss = diagnosis.COMM_LOSS
        self.i_count = diagnosis.MODULE_COUNT
        self.i_errors = diagnosis.COMM_ERRORS
        self.i_fault = diagnosis.BOARD_FAULT
        self.i_alert = diagnosis.BOARD_ALERT
        self.i_internal = diagnosis.INTERNAL

        # Wire buffers, made once.
        # Per board (index i is address i + 1).
        self._cells = [0] * (n * R.CELLS)
        self._temps = [TEMP_INVALID] * (n * R.TEMPS)
        self._module = [0] * n
        self._good_t = [0] * n
        self._has_good = bytearray(n)
        self.fails = bytearray(n)       # consecutive failed cycles (saturates at 255)
        self.errors = [0] * n           # failed frames, all time
        self.alerts = bytearray(n)
        self.faults = bytearray(n)
        self.cov = bytearray(n)
        self.cuv = bytearray(n)
        self.cfg_bad = bytearray(n)     # thresholds did not read back as written
        self.balancing = bytearray(n)   # last mask a board acknowledged

        # Whole bus.
        self.ready = False
        self.found = -1                 # boards seen by the last discovery (-1: none yet)
        self.cycles = 0
        self.last_error_board = 0
        self._status = 0
        self._want_clear = False
        self._last_discovery = 0
        self._discovered_once = False
        self._last_recover = 0
        self._recovered_once = False

    # --- Pack interface ------------------------------------------------------
    def cell_count(self):
        return self.expected * R.CELLS

    def temp_count(self):
        return self.expected * R.TEMPS

    def cell_mv(self, i):
        return self._cells[i]

    def temp_dc(self, i):
        return self._temps[i]

    def module_mv(self, board):
        return self._module[board]

    def board_age_ms(self, board, t_ms):
        if not self._has_good[board]:
            return AGE_NEVER
        return ticks_diff(t_ms, self._good_t[board])

    def age_ms(self, t_ms):
        worst = 0
        for i in range(self.expected):
            if not self._has_good[i]:
                return AGE_NEVER
            a = ticks_diff(t_ms, self._good_t[i])
            if a > worst:
                worst = a
        return worst

    def poll(self, t_ms):
        """One measurement cycle. Never raises: link trouble becomes diagnosis rows,
        anything unexpected latches `internal`."""
        self.cycles = (self.cycles + 1) & WRAP
        self.cycle_errors = 0
        self._budget = self.retry_budget
        try:
            self._cycle(t_ms)
        except OSError:
            # The UART itself failed (pty closed, driver error): nothing was verified.
            self._fail_all()
        except Exception:  # noqa: BLE001 - last line of defence, reported as a fault
            self._fail_all()
            self.diag.latch(self.i_internal, t_ms, 0)
        self._report(t_ms)

    def set_balance(self, masks):
        """CB_CTRL = 0, CB_TIME, then CB_CTRL = mask for each board with bits set
        (TeslaBMS, proven on modules: writing 0 first is what restarts the board's
        balance timer, so a renewed mask keeps bleeding); CB_CTRL = 0 for boards that
        were bleeding and are not any more. Returns how many boards failed."""
        failed = 0
        for i in range(self.expected):
            m = masks[i] & 0x3F
            a = i + 1
            if m:
                ok = self._write_retry(a, R.CB_CTRL, 0) and \
                    self._write_retry(a, R.CB_TIME, self.cb_time) and \
                    self._write_retry(a, R.CB_CTRL, m)
            elif self.balancing[i]:
                ok = self._write_retry(a, R.CB_CTRL, 0)
            else:
                continue
            if ok:
                self.balancing[i] = m
            else:
                failed += 1
                self._count_fail(i, F.E_TIMEOUT)
        return failed

    def stop_balance(self):
        """Broadcast CB_CTRL = 0. True when the echo confirmed every board saw it."""
        self._budget = self.retries
        ok = self._bwrite(R.CB_CTRL, 0) == F.OK
        if ok:
            for i in range(self.expected):
                self.balancing[i] = 0
        return ok

    def plan_balance(self, t_ms, stale_ms, out):
        """Fill out[i] with the bleed mask of board i: cells above balance_v and more
        than balance_delta_v above the lowest cell. Returns False (all masks 0) when
        the data is stale: never balance on old numbers."""
        n = self.expected
        fresh = self.age_ms(t_ms) <= stale_ms
        lo = 0x3FFFFFFF
        for v in self._cells:
            if v < lo:
                lo = v
        for i in range(n):
            m = 0
            if fresh:
                for c in range(R.CELLS):
                    v = self._cells[i * R.CELLS + c]
                    if v > self.balance_mv and v - lo > self.balance_delta_mv:
                        m |= 1 << c
            out[i] = m
        return fresh

    def clear_faults(self):
        """Broadcast ALERT_STATUS 0xFF, 0x00 and FAULT_STATUS 0xFF, 0x00 (all echoed)."""
        self._budget = self.retries * 4
        return self._clear()

    def _clear(self):
        """clear_faults() within whatever retry budget the cycle has left."""
        ok = True
        for reg in (R.ALERT_STATUS, R.FAULT_STATUS):
            if self._bwrite(reg, 0xFF) != F.OK or self._bwrite(reg, 0x00) != F.OK:
                ok = False
        self._want_clear = not ok
        return ok

    def worst_case_ms(self):
        """Upper bound of one steady-state poll() in ms, Python time excluded:
        frames = 3 broadcast + 2 per board (measurement, status) + 4 fault-clear
        + 1 recovery probe + the retry budget; each frame at most timeout + 1 ms
        (reply wire time) + the resync (timeout + QUIET_MS) + a 1 ms not-ready
        pause; plus the ADC wait. Recovery that finds a reset board (at most every
        REDISCOVER_MS) and discover() are outside this bound (docs/tesla-bus.md)."""
        frames = 3 + 2 * self.expected + 4 + 1 + self.retry_budget
        return frames * (2 * self.timeout_ms + QUIET_MS + 2) + ADC_WAIT_MS

    # --- the cycle -----------------------------------------------------------
    def _cycle(self, t_ms):
        if not self.ready:
            if not self._discovered_once or \
                    ticks_diff(t_ms, self._last_discovery) >= REDISCOVER_MS:
                self.discover(t_ms)
            if not self.ready:
                self._fail_all()
                return
        if self._bwrite(R.ADC_CONTROL, R.ADC_ALL) != F.OK or \
                self._bwrite(R.IO_CONTROL, R.IO_THERMISTORS) != F.OK or \
                self._bwrite(R.ADC_CONVERT, 1) != F.OK:
            # The ring did not return a clean echo: no board can be trusted to have
            # converted, so none gets a new timestamp this cycle.
            self._fail_all()
            return
        sleep_ms(ADC_WAIT_MS)
        lost = False
        for i in range(self.expected):
            if not self._read_board(i, t_ms):
                if self.fails[i] < 255:
                    self.fails[i] += 1
                if self.fails[i] >= self.fail_limit:
                    lost = True
        if self._want_clear:
            self._clear()
        if (lost or self._any_cfg_bad()) and (not self._recovered_once or
                                              ticks_diff(t_ms, self._last_recover) >= REDISCOVER_MS):
            self._recover(t_ms)

    def _any_cfg_bad(self):
        for i in range(self.expected):
            if self.cfg_bad[i]:
                return True
        return False

    def _read_board(self, i, t_ms):
        addr = i + 1
        # A board already declared lost gets one attempt per cycle, no retries, so a
        # dead board costs the cycle one timeout, not (1 + retries) of them.
        tries = 1 if self.fails[i] >= self.fail_limit else 1 + self.retries
        for attempt in range(tries):
            if attempt:
                if self._budget <= 0:
                    break
                self._budget -= 1
                self.retries_used = (self.retries_used + 1) & WRAP
            code = self._read(addr, R.DEVICE_STATUS, _READ_COUNT)
            if code == F.OK:
                code = self._store_reading(i)
            if code == F.OK:
                code = self._read_status(i, addr)
            if code == F.OK:
                self._good_t[i] = t_ms
                self._has_good[i] = 1
                self.fails[i] = 0
                return True
            self._count_fail(i, code)
            if code == F.E_NOT_READY:
                sleep_ms(1)
        return False

    def _store_reading(self, i):
        """Check and store a verified 23-byte reply sitting in _rx."""
        rx = self._rx
        status = rx[3]
        for k in range(4, 4 + 2 * 9, 2):
            if rx[k] & 0xC0:      # a 14-bit converter never sets these
                return F.E_DATA
        if self.check_drdy and not status & R.DS_DRDY:
            return F.E_NOT_READY
        self._module[i] = C.module_mv((rx[4] << 8) | rx[5])
        base = i * R.CELLS
        for c in range(R.CELLS):
            k = 6 + 2 * c
            self._cells[base + c] = C.cell_mv((rx[k] << 8) | rx[k + 1])
        base = i * R.TEMPS
        self._temps[base] = C.temp_dc((rx[18] << 8) | rx[19], 0)
        self._temps[base + 1] = C.temp_dc((rx[20] << 8) | rx[21], 1)
        self._status = status
        return F.OK

    def _read_status(self, i, addr):
        if not self._status & (R.DS_ALERT | R.DS_FAULT):
            self.alerts[i] = 0
            self.faults[i] = 0
            self.cov[i] = 0
            self.cuv[i] = 0
            return F.OK
        code = self._read(addr, R.ALERT_STATUS, _STATUS_COUNT)
        if code != F.OK:
            return code
        rx = self._rx
        self.alerts[i] = rx[3]
        self.faults[i] = rx[4]
        self.cov[i] = rx[5] & 0x3F
        self.cuv[i] = rx[6] & 0x3F
        if rx[3] & LINK_ALERT_BITS or rx[4] & LINK_FAULT_BITS:
            # A reset flag or a CRC error seen by the board: a link event, cleared at
            # the end of the cycle and counted, never a cell fault.
            self._want_clear = True
            self.cycle_errors += 1
            self.last_error_board = addr
        return F.OK

    def _fail_all(self):
        for i in range(self.expected):
            if self.fails[i] < 255:
                self.fails[i] += 1
        self.cycle_errors += 1

    def _count_fail(self, i, code):
        self.errors[i] = (self.errors[i] + 1) & WRAP
        self.cycle_errors += 1
        self.last_error_board = i + 1
        if 0 <= code < STATS:
            self.stats[code] = (self.stats[code] + 1) & WRAP

    def _report(self, t_ms):
        d = self.diag
        lost = 0
        fault = 0
        alert = 0
        for i in range(self.expected):
            if not lost and self.fails[i] >= self.fail_limit:
                lost = i + 1
            if not fault and (self.faults[i] & FAULT_BITS or self.cov[i] or self.cuv[i]
                              or self.cfg_bad[i]):
                fault = i + 1
            if not alert and self.alerts[i] & ALERT_BITS:
                alert = i + 1
        d.report(self.i_loss, lost != 0, t_ms, lost)
        d.report(self.i_errors, self.cycle_errors > 0, t_ms, self.last_error_board)
        if self._discovered_once:
            d.report(self.i_count, self.found != self.expected, t_ms, self.found)
        d.report(self.i_fault, fault != 0, t_ms, fault)
        d.report(self.i_alert, alert != 0, t_ms, alert)
