# Bus master for the Tesla Model S module boards: a bms.pack.Pack over one
# daisy-chained UART, built from a link (drivers.tesla_link: frames, the retry helper
# and its budget) and discovery (drivers.tesla_discovery), both owned here. It never
# creates the UART: the board file hands in a machine.UART (or PosixSerial).
#
# One poll cycle (see docs/tesla-bus.md for the timing budget):
#   3 broadcast writes (ADC_CONTROL, IO_CONTROL, ADC_CONVERT), each checked by its echo
#   -> wait ADC_WAIT_MS -> per board one read of DEVICE_STATUS..TEMPERATURE2 (19 bytes,
#   reply 23) -> only if DEVICE_STATUS flags an alert or fault, a 4-byte status read.
# A reply reaches the pack only when its CRC and every plausibility check pass
# (protocols.tesla.plausible, plus temperatures here), or when a suspicious value is
# repeated byte for byte by a second read of the same conversion. A board's values
# get a new timestamp only from such a reading, so age_ms() never calls stale data
# fresh. The hot path allocates nothing and keeps every function's VM state within
# 11 words (so no frame comes from the heap): fixed buffers, error codes.

from array import array

from bms import diagnosis, units
from bms.pack import AGE_NEVER, TEMP_INVALID, Pack
from drivers.clock import sleep_ms, ticks_diff, ticks_ms
from drivers.tesla_discovery import TeslaDiscovery
from drivers.tesla_link import QUIET_MS, WRAP, TeslaLink
from drivers.tesla_status import FLAGGED, TeslaStatus
from protocols.tesla import convert as C
from protocols.tesla import frame as F
from protocols.tesla import plausible as P
from protocols.tesla import registers as R
from bms.native import const, micropython, ptr16  # noqa: F401

if C.TEMP_INVALID != TEMP_INVALID:
    raise ImportError("protocols.tesla and bms.pack disagree on 'no temperature'")

ADC_WAIT_MS = const(2)     # conversion of 9 channels is ~60 us after a ~500 us reference
                           # start-up (datasheet); 2 ms of ticks_ms is at least 1 ms
_REDISCOVER_MS = const(2000)  # spacing of discovery / re-addressing attempts
_STEP_MS = const(20)        # step(): reading boards stops once a call has used this long

_READ_COUNT = const(19)    # DEVICE_STATUS, GPAI, VCELL1..6, TEMPERATURE1/2
# R.DEVICE_STATUS and P.CTX_BOARD as this module's constants: the per-board read
# uses them, and another module's name is a lookup each time (~250 M0 instructions).
_DEVICE_STATUS = const(0x00)
_CTX_BOARD = const(2)
if R.DEVICE_STATUS != _DEVICE_STATUS or P.CTX_BOARD != _CTX_BOARD:
    raise ImportError("drivers.tesla_bus: a copied protocols.tesla constant changed")
SEQ_HOLD = const(4)        # clean cycles a board keeps the other count after a failure
_SUSPECT = const(-1)       # a reading that needs a second, identical read
# protocols.tesla.plausible verdicts (CLEAN, SUSPECT, BAD, NOT_READY) -> codes here
_VERDICT = (F.OK, _SUSPECT, F.E_DATA, F.E_NOT_READY)


@micropython.viper
def _copy_cells(volts, out, n: int):
    """out[0:n] = the first n entries of volts (cell mV): one native loop for the
    summary's read instead of a method call per cell."""
    s = ptr16(volts)
    d = ptr16(out)
    for i in range(n):
        d[i] = s[i]


@micropython.viper
def _copy_temps(volts, first: int, out, n: int):
    """out[0:n] = volts[first:first + n] as signed 0.1 degC (volts keeps them as
    two's complement in 16 bits; a native store truncates to the same bits)."""
    s = ptr16(volts)
    d = ptr16(out)
    for i in range(n):
        t = int(s[first + i])
        if t & 0x8000:
            t -= 0x10000
        d[i] = t


def _threshold_codes(cfg):
    """CONFIG_COV..CONFIG_OTT from the configuration (V, degC -> integer units)."""
    delay = cfg["hw_delay_ms"]
    ot = C.ot_code(units.dc(cfg["hw_ot_c"]))
    codes = (C.cov_code(units.mv(cfg["hw_cov_v"])), C.delay_code_100ms(delay),
             C.cuv_code(units.mv(cfg["hw_cuv_v"])), C.delay_code_100ms(delay),
             (ot << 4) | ot if ot >= 0 else -1, C.delay_code_10ms(delay))
    for c in codes:
        if c < 0:
            raise ValueError("hardware threshold not representable")
    return bytes(codes)


class TeslaBus(Pack):
    def __init__(self, uart, cfg, diag):
        self.link = TeslaLink(uart, cfg["bus_timeout_ms"], cfg["bus_read_crc"])
        self.diag = diag
        self.expected = n = cfg["module_count"]
        self.strings = cfg["parallel_strings"]
        self.retries = cfg["bus_retries"]
        self.retry_budget = cfg["bus_retry_budget"]
        self.fail_limit = cfg["comm_fail_limit"]
        self.check_drdy = cfg["bus_check_drdy"]
        self.cb_time = C.cb_time_code(cfg["balance_time_s"])
        if self.cb_time < 0:
            raise ValueError("balance_time_s not representable")
        self.cfg_codes = _threshold_codes(cfg)
        self.discovery = TeslaDiscovery(self.link, n, self.retries, cfg["bus_reset_wait_ms"],
                                        self.cfg_codes)
        # What the native judge and store read: see protocols.tesla.plausible CTX_*.
        self._ctx = array("i", bytes(4 * P.CTX_SIZE))
        self._ctx[P.CTX_TOL] = P.tolerance(units.mv(cfg["bus_module_tolerance_v"]))
        self._ctx[P.CTX_DRDY] = 1 if self.check_drdy else 0
        self._ctx[P.CTX_MODULES] = n * R.CELLS
        self._ctx[P.CTX_TEMPS] = n * (R.CELLS + 1)

        # Diagnosis rows, looked up once.
        self.i_loss = diagnosis.COMM_LOSS
        self.i_count = diagnosis.MODULE_COUNT
        self.i_errors = diagnosis.COMM_ERRORS
        self.i_fault = diagnosis.BOARD_FAULT
        self.i_alert = diagnosis.BOARD_ALERT
        self.i_internal = diagnosis.INTERNAL

        # Per board (index i is address i + 1), made once.
        # Cells, then module voltages (mV), then temperatures (0.1 degC, two's
        # complement): one array the native judge and store index by ctx.
        # Made from zero bytes, not from lists: a list of 62 x 9 ints is 2 KB of
        # heap for a moment, at the moment the heap is fullest (boot).
        first_temp = n * (R.CELLS + 1)
        self._volts = v = array("H", bytes(2 * (first_temp + n * R.TEMPS)))
        for k in range(first_temp, first_temp + n * R.TEMPS):
            v[k] = TEMP_INVALID & 0xFFFF
        self._payload = bytearray(n * P.PAYLOAD)   # last accepted reply payload per board
        self._held = bytearray(P.PAYLOAD)          # a suspect payload awaiting its repeat
        # The payload of the reply in the link's buffer, as a view made once: held and
        # reply compare and copy at C speed (memcmp, memcpy), allocating nothing.
        self._rx_payload = memoryview(self.link.rx)[3:3 + P.PAYLOAD]
        self._held_ok = False
        self._free = True
        self._good_t = [0] * n
        self._has_good = bytearray(n)
        self._good_boards = 0           # boards with a good reading since start
        self._seq = bytearray(n)        # bit 0: reads ask for 19 or 20 registers (see _cycle)
        self._shaky = bytearray(n)      # an exchange failed this cycle: a reply may be in flight
        self.fails = bytearray(n)       # consecutive failed cycles (saturates at 255)
        self.frame_errors = [0] * n     # failed frames per board, all time
        self.status = TeslaStatus(self.link, n, self.retries)
        # what the boards say about themselves (arrays of self.status)
        self.alerts = self.status.alerts
        self.fault_bits = self.status.fault_bits
        self.cov = self.status.cov
        self.cuv = self.status.cuv
        self.cfg_bad = self.status.cfg_bad
        self._status_flags = self.status.flags
        self.balancing = bytearray(n)   # last mask a board acknowledged

        # Whole bus.
        self.discovered = False
        self.found = -1                 # boards seen by the last discovery (-1: none yet)
        self.cycles = 0
        self.rereads = 0                # second reads a suspect value asked for
        self.cycle_errors = 0
        self.last_error_board = 0
        self._failed0 = 0
        self._want_clear = False
        self._last_discovery = 0
        self._discovered_once = False
        self._last_recover = 0
        self._recovered_once = False
        # step(): the cycle in pieces for the main loop's scheduler.
        self.poll_ms = cfg["poll_ms"]
        self._next = -1                 # next board of a stepped cycle, -1: none running
        self._part = -1                 # the piece _guarded() runs next
        self._lost = False
        self._stepped_once = False
        self._cycle_t = 0

    # --- Pack interface ------------------------------------------------------
    def cell_count(self):
        return self.expected * R.CELLS

    def temp_count(self):
        return self.expected * R.TEMPS

    def cell_mv(self, i):
        return self._volts[i]

    def temp_dc(self, i):
        t = self._volts[self.expected * (R.CELLS + 1) + i]
        return t - 0x10000 if t & 0x8000 else t

    def read_cells(self, out):
        _copy_cells(self._volts, out, self.expected * R.CELLS)

    def read_temps(self, out):
        _copy_temps(self._volts, self.expected * (R.CELLS + 1), out, self.expected * R.TEMPS)

    def module_mv(self, board):
        return self._volts[self.expected * R.CELLS + board]

    def board_age_ms(self, board, t_ms):
        if not self._has_good[board]:
            return AGE_NEVER
        return ticks_diff(t_ms, self._good_t[board])

    def age_ms(self, t_ms):
        # Once a pass, over every board: a count instead of a test per board, and the
        # list held in a local (~600 Cortex-M0 instructions a board less). A while,
        # not a for: a for's iterator or range would take the VM state past 11 words.
        if self._good_boards < self.expected:
            return AGE_NEVER               # a board has never given a good reading
        worst = 0
        good = self._good_t
        i = self.expected
        while i:
            i -= 1
            a = ticks_diff(t_ms, good[i])
            if a > worst:
                worst = a
        return worst

    def poll(self, t_ms):
        """One measurement cycle. Never raises: link trouble becomes diagnosis rows,
        anything unexpected latches `internal`."""
        self._start_cycle()
        try:
            self._cycle(t_ms)
        except OSError:
            # The UART itself failed (pty closed, driver error): nothing was verified.
            self._fail_all()
        except Exception:  # noqa: BLE001 - last line of defence, reported as a fault
            self._internal(t_ms)
        self._report(t_ms)

    def _internal(self, t_ms):
        """A bug surfaced in the cycle: nothing was verified, and `internal` latches.
        (Its own method: the handlers stay within 11 words of VM state; a bigger
        frame comes from the heap on every call, ~8000 Cortex-M0 instructions.)"""
        self._fail_all()
        self.diag.latch(self.i_internal, t_ms, 0)

    def step(self, t_ms, budget_ms=_STEP_MS):
        """The same cycle in pieces, for a cooperative main loop: call it often (every
        pass); a cycle starts at most once per poll_ms, and one call does the start
        (broadcasts, ADC wait) or reads boards until budget_ms has passed (plus at most
        one board's bounded exchange), or ends the cycle (fault clear, recovery, the
        diagnosis report). Returns True when a cycle ended. Never raises, as poll()."""
        if self._next < 0:
            if self._stepped_once and ticks_diff(t_ms, self._cycle_t) < self.poll_ms:
                return False
            self._stepped_once = True
            self._cycle_t = t_ms
            self._start_cycle()
            self._part = -1
            if self._guarded(t_ms):
                self._next = 0
                return False
            self._report(t_ms)
            return True
        start = ticks_ms()
        while self._next < self.expected:
            i = self._next
            self._next = i + 1
            self._part = i
            if not self._guarded(t_ms):
                break                    # the UART failed or a bug: the cycle ends here
            if ticks_diff(ticks_ms(), start) >= budget_ms and self._next < self.expected:
                return False
        else:
            self._part = self.expected
            self._guarded(t_ms)
        self._next = -1
        self._report(t_ms)
        return True

    def _guarded(self, t_ms):
        """One piece of a stepped cycle, self._part (-1: begin, a board, expected:
        end), with poll()'s handling of failures. Returns what the begin returns.
        The piece comes as an attribute: with a third argument the frame would
        exceed 11 words of VM state and come from the heap on every call (~8000
        Cortex-M0 instructions, for every board of every cycle)."""
        try:
            return self._piece(t_ms)
        except OSError:
            self._fail_all()
        except Exception:  # noqa: BLE001 - last line of defence, reported as a fault
            self._internal(t_ms)
        return False

    def _piece(self, t_ms):
        part = self._part
        if part < 0:
            return self._begin(t_ms)
        if part < self.expected:
            self._read_board(part, t_ms)
        else:
            self._end(t_ms)
        return True

    def _start_cycle(self):
        self.cycles = (self.cycles + 1) & WRAP
        self.cycle_errors = 0
        self._failed0 = self.link.failed
        self._lost = False

    def set_balance(self, masks):
        """Apply one bleed mask per board (the decision is bms.balancing's): CB_CTRL = 0,
        CB_TIME, then CB_CTRL = mask for each board with bits set (TeslaBMS, proven on
        modules: writing 0 first is what restarts the board's balance timer, so a
        renewed mask keeps bleeding); CB_CTRL = 0 for boards that were bleeding and are
        not any more. Returns how many boards failed."""
        failed = 0
        self.link.set_budget(self.retries * 3 * self.expected)
        for i in range(self.expected):
            m = masks[i] & 0x3F
            if m:
                ok = self._write(i + 1, R.CB_CTRL, 0) and \
                    self._write(i + 1, R.CB_TIME, self.cb_time) and \
                    self._write(i + 1, R.CB_CTRL, m)
            elif self.balancing[i]:
                ok = self._write(i + 1, R.CB_CTRL, 0)
            else:
                continue
            if ok:
                self.balancing[i] = m
            else:
                failed += 1
                self._board_failed(i)
        return failed

    def stop_balance(self):
        """Broadcast CB_CTRL = 0. True when the echo confirmed every board saw it."""
        self.link.set_budget(self.retries)
        ok = self._write(R.BROADCAST, R.CB_CTRL, 0)
        if ok:
            for i in range(self.expected):
                self.balancing[i] = 0
        return ok

    def clear_faults(self):
        """Broadcast ALERT_STATUS 0xFF, 0x00 and FAULT_STATUS 0xFF, 0x00 (all echoed)."""
        self.link.set_budget(self.retries * 4)
        return self._clear()

    def _clear(self):
        """clear_faults() within whatever retry budget is left."""
        ok = self.discovery.clear_flags(R.BROADCAST)
        self._want_clear = not ok
        return ok

    def worst_case_ms(self):
        """Upper bound of one steady-state poll() in ms, Python time excluded:
        frames = 3 broadcast + 4 per board (measurement, its confirming second read,
        status and its repeat) + 4 fault-clear + 1 recovery probe + the retry budget;
        each frame at
        most timeout + 1 ms (reply wire time) + a grace timeout for a late reply + the
        resync (timeout + QUIET_MS) + a 1 ms not-ready pause; plus the ADC wait.
        Recovery that finds a reset board (at most every _REDISCOVER_MS) and discover()
        are outside this bound (docs/tesla-bus.md)."""
        frames = 3 + 4 * self.expected + 4 + 1 + self.retry_budget
        return frames * (3 * self.link.timeout_ms + QUIET_MS + 2) + ADC_WAIT_MS

    # --- the cycle -----------------------------------------------------------
    def _cycle(self, t_ms):
        if not self._begin(t_ms):
            return
        for i in range(self.expected):
            self._read_board(i, t_ms)
        self._end(t_ms)

    def _begin(self, t_ms):
        """Discovery when needed, the broadcasts and the ADC wait. False when no
        board can be read this cycle."""
        if not self.discovered:
            if not self._discovered_once or \
                    ticks_diff(t_ms, self._last_discovery) >= _REDISCOVER_MS:
                self._discover(t_ms)
            if not self.discovered:
                self._fail_all()
                return False
            self._failed0 = self.link.failed   # discovery's probes are not link errors
        link = self.link
        link.set_budget(self.retry_budget)
        if not (self._write(R.BROADCAST, R.ADC_CONTROL, R.ADC_ALL)
                and self._write(R.BROADCAST, R.IO_CONTROL, R.IO_THERMISTORS)
                and self._write(R.BROADCAST, R.ADC_CONVERT, 1)):
            # The ring did not return a clean echo: no board can be trusted to have
            # converted, so none gets a new timestamp this cycle.
            self._fail_all()
            return False
        sleep_ms(ADC_WAIT_MS)
        # A board that failed an exchange last cycle may still have a reply on its way:
        # it is asked for a different count from now on, so that reply can never pass
        # for a later one's (the sequence check across cycles); after SEQ_HOLD clean
        # cycles it returns to the 19 registers a clean line costs.
        P.next_sequence(self._seq, self._shaky, self.expected, SEQ_HOLD)
        return True

    def _end(self, t_ms):
        if self._want_clear:
            self._clear()
        if (self._lost or self.status.any_cfg_bad()) and (not self._recovered_once or
                                                    ticks_diff(t_ms, self._last_recover) >= _REDISCOVER_MS):
            self._recover(t_ms)

    def _write(self, addr, reg, value):
        self.link.stage_write(addr, reg, value)
        return self.link.transact(1 + self.retries) == F.OK

    def _read_board(self, i, t_ms):
        """Read board i until a reading passes (or a suspect one is repeated), within
        the retries and the cycle's budget; store and stamp it, or count a failed
        cycle for the board (lost after comm_fail_limit of them). The first attempt
        is the fast path. One method, not three: a call on the bus master costs
        ~1.6 k Cortex-M0 instructions (its method is looked up past ~60 instance
        attributes first), for every board of every cycle."""
        # Codes test as `if code:` (protocols.tesla.frame: OK is 0), not against
        # F.OK: that is a lookup in another module, ~250 M0 instructions each time.
        self.link.stage_read(i + 1, _DEVICE_STATUS, _READ_COUNT + (self._seq[i] & 1))
        self._ctx[_CTX_BOARD] = i
        code = self.link.exchange()
        if not code:
            code = _VERDICT[P.judge(self.link.rx, self._payload, self._volts, self._ctx)]
        if code:
            code = self._again(i, code)
        if not code:
            if C.store_reading(self.link.rx, self._payload, self._volts, self._ctx) & FLAGGED:
                code = self._read_status(i)
            elif self._status_flags[i]:
                self.status.clear(i)
        if not code:
            self._good_t[i] = t_ms
            if not self._has_good[i]:
                self._has_good[i] = 1
                self._good_boards += 1
            self.fails[i] = 0
            return
        if self.fails[i] < 255:
            self.fails[i] += 1
        if self.fails[i] >= self.fail_limit:
            self._lost = True

    def _again(self, i, code):
        """The first read of board i failed with code (or is suspect): confirm or
        retry. A board already declared lost gets no retries, so a dead board costs
        the cycle one timeout, not (1 + retries) of them."""
        self._held_ok = False
        self._free = True               # one second read per board and cycle is not a retry
        tries = 1 if self.fails[i] >= self.fail_limit else 1 + self.retries
        while True:
            if code == _SUSPECT:
                code = self._confirm()
            if code == F.OK:
                return code
            if code >= F.E_DATA:
                self.link.count(code)          # found above the frame: counted here
            self._board_failed(i)
            tries -= 1
            if tries <= 0 or not self.link.may_retry():
                return code
            if code == F.E_NOT_READY:
                sleep_ms(1)
            code = self.link.exchange()
            if code == F.OK:
                code = _VERDICT[P.judge(self.link.rx, self._payload, self._volts, self._ctx)]

    def _confirm(self):
        """A suspect reading: taken when a second read of the same conversion repeats
        it byte for byte, or when a different second read passes on its own."""
        if self._held_ok and self._held == self._rx_payload:
            return F.OK                        # repeated by an earlier read this cycle
        self._held[:] = self._rx_payload
        self._held_ok = True
        if not self._free:
            return F.E_DATA                    # the next retry is the second read
        self._free = False
        self.rereads = (self.rereads + 1) & WRAP
        code = self.link.exchange()
        if code != F.OK or self._held == self._rx_payload:
            return code
        code = _VERDICT[P.judge(self.link.rx, self._payload, self._volts, self._ctx)]
        if code == _SUSPECT:
            self._held[:] = self._rx_payload
            return F.E_DATA
        return code

    def _read_status(self, i):
        code = self.status.read(i, self._seq[i] & 1)
        if code != F.OK:
            self._board_failed(i)
        elif self.status.link_event:
            self._want_clear = True
            self.cycle_errors += 1
            self.last_error_board = i + 1
        return code

    def _board_failed(self, i):
        self.frame_errors[i] = (self.frame_errors[i] + 1) & WRAP
        self._shaky[i] = 1
        self.last_error_board = i + 1

    def _fail_all(self):
        for i in range(self.expected):
            if self.fails[i] < 255:
                self.fails[i] += 1
        self.cycle_errors += 1

    # --- discovery and recovery (the work is drivers.tesla_discovery's) ---------
    def _discover(self, t_ms):
        self.discovered = False
        self._discovered_once = True
        self._last_discovery = t_ms
        for i in range(self.expected):
            self.balancing[i] = 0
        found = self.discovery.discover()
        self.found = found
        if found != self.expected:
            return
        self.link.set_budget(self.retries * (4 + 12 + found))
        self._clear()
        self._configure(R.BROADCAST)
        for i in range(found):
            self.fails[i] = 0
        self.discovered = True

    def _configure(self, addr):
        """Thresholds to addr (or broadcast), then read back from every board concerned."""
        self.discovery.configure(addr)
        first = 0 if addr == R.BROADCAST else addr - 1
        last = self.expected if addr == R.BROADCAST else addr
        for i in range(first, last):
            self.cfg_bad[i] = 0 if self.discovery.verify(i + 1) else 1
            self.status.summarise(i)

    def _recover(self, t_ms):
        """A lost board that was reset (brown-out) sits at address 0 and answers
        nothing else: give it back the lowest lost address and its thresholds."""
        self._last_recover = t_ms
        self._recovered_once = True
        self.link.set_budget(self.retries * 16)
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
        if self.link.read(0, R.DEVICE_STATUS, 1) != F.OK:
            return
        if self.discovery.assign(lost + 1):
            self._configure(lost + 1)
            self.discovery.clear_flags(lost + 1)

    def _report(self, t_ms):
        lost = self._first_lost()
        self.diag.report(self.i_loss, lost, t_ms, lost)
        self.diag.report(self.i_errors, self.cycle_errors or self.link.failed != self._failed0,
                         t_ms, self.last_error_board)
        if self._discovered_once:
            self.diag.report(self.i_count, self.found != self.expected, t_ms, self.found)
        board = self.status.first_fault()
        self.diag.report(self.i_fault, board, t_ms, board)
        board = self.status.first_alert()
        self.diag.report(self.i_alert, board, t_ms, board)

    def _first_lost(self):
        """Address of the first board lost for comm_fail_limit cycles, or 0."""
        return P.first_at_least(self.fails, self.expected, self.fail_limit)
