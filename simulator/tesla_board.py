# One emulated Tesla module board (bq76PL536A behind the ring UART): registers,
# ADC from given cell voltages and temperatures, hardware COV/CUV/OT trips, balance
# timer, and the per-board fault injection flags. simulator.tesla_modules chains
# them. MicroPython-compatible; allocates freely (a test instrument, not firmware).

from drivers.clock import ticks_add, ticks_diff
from protocols.tesla import convert as C
from protocols.tesla import encode
from protocols.tesla import registers as R
from protocols.tesla.codec import crc8

CONV_MS = 1        # ADC conversion incl. reference start-up (~0.56 ms in the datasheet)
DEFAULT_CELL_MV = 3700
DEFAULT_TEMP_DC = 250


class Board:
    def __init__(self, cells_mv=None, temps_dc=None):
        self.cells_mv = list(cells_mv) if cells_mv else [DEFAULT_CELL_MV] * R.CELLS
        self.temps_dc = list(temps_dc) if temps_dc else [DEFAULT_TEMP_DC] * R.TEMPS
        # fault injection
        self.silent = False      # passes every frame on, answers none
        self.break_ring = False  # nothing gets past this board
        self.stuck = False       # ADC registers keep their last values
        self.no_drdy = False     # never reports DEVICE_STATUS.DRDY (if real boards behave so)
        self.bad_crc = False     # its replies carry a wrong CRC
        self.late_ms = 0         # its replies leave this much later
        self.duplicate = False   # each reply is sent twice, back to back
        self.open_therm = 0      # bit 0: TS1 reads open, bit 1: TS2
        self.short_therm = 0
        self.regs = bytearray(encode.REGISTER_SPACE)
        self.reset(0)

    def reset(self, now):
        regs = self.regs
        for i in range(len(regs)):
            regs[i] = 0
        for k in range(len(encode.OTP_DEFAULTS)):
            regs[R.FUNCTION_CONFIG + k] = encode.OTP_DEFAULTS[k]
        regs[R.ALERT_STATUS] = encode.RESET_ALERT
        regs[R.FAULT_STATUS] = encode.RESET_FAULT
        self.address = 0
        self.shdw = 0
        self.alert_hold = 0
        self.fault_hold = 0
        self.drdy = False
        self.conv_at = None
        self.cb_until = None
        self.resets = getattr(self, "resets", -1) + 1

    def bleeding(self):
        """Bit mask of the balance resistors switched on right now."""
        return self.regs[R.CB_CTRL] & 0x3F if self.cb_until is not None else 0

    # --- time-driven behaviour ------------------------------------------------
    def tick(self, now):
        if self.conv_at is not None and ticks_diff(now, self.conv_at) >= CONV_MS:
            self.conv_at = None
            self._convert()
            self.drdy = True
        if self.cb_until is not None and ticks_diff(now, self.cb_until) >= 0:
            self.cb_until = None
            self.regs[R.CB_CTRL] = 0
        self._protect()

    def _put16(self, reg, raw):
        self.regs[reg] = (raw >> 8) & 0xFF
        self.regs[reg + 1] = raw & 0xFF

    def _convert(self):
        if self.stuck:
            return
        self._put16(R.GPAI, encode.module_raw(sum(self.cells_mv)))
        for c in range(R.CELLS):
            self._put16(R.VCELL1 + 2 * c, encode.cell_raw(self.cells_mv[c]))
        powered = self.regs[R.IO_CONTROL]
        for t in range(R.TEMPS):
            if self.open_therm & (1 << t) or not powered & (1 << t):
                raw = 0                  # no current through the divider
            elif self.short_therm & (1 << t):
                raw = C.ADC_MAX          # ratio saturates
            else:
                raw = encode.temp_raw(self.temps_dc[t], t)
            self._put16(R.TEMPERATURE1 + 2 * t, raw)

    def _protect(self):
        regs = self.regs
        cov = regs[R.CONFIG_COV]
        cuv = regs[R.CONFIG_CUV]
        over = under = 0
        for c in range(R.CELLS):
            mv = self.cells_mv[c]
            if not cov & 0x80 and mv > 2000 + 50 * (cov & 0x3F):
                over |= 1 << c
            if not cuv & 0x80 and mv < 700 + 100 * (cuv & 0x3F):
                under |= 1 << c
        fault = 0
        if over:
            regs[R.COV_FAULT] |= over
            fault |= R.FS_COV
        if under:
            regs[R.CUV_FAULT] |= under
            fault |= R.FS_CUV
        regs[R.FAULT_STATUS] |= fault & ~self.fault_hold
        ot = regs[R.CONFIG_OT]
        alert = 0
        for t in range(R.TEMPS):
            code = (ot >> (4 * t)) & 0x0F
            if code and self.temps_dc[t] > 350 + 50 * code and not (self.open_therm | self.short_therm) & (1 << t):
                alert |= R.AL_OT1 << t
        regs[R.ALERT_STATUS] |= alert & ~self.alert_hold

    # --- registers --------------------------------------------------------------
    def _status(self):
        regs = self.regs
        s = 0
        if self.drdy and not self.no_drdy:
            s |= R.DS_DRDY
        if self.bleeding():
            s |= R.DS_CBT
        if regs[R.ALERT_STATUS]:
            s |= R.DS_ALERT
        if regs[R.FAULT_STATUS]:
            s |= R.DS_FAULT
        if self.address:
            s |= R.DS_ADDR_RQST
        return s

    def read_reg(self, reg):
        if reg == R.DEVICE_STATUS:
            return self._status()
        if reg == R.SHDW_CONTROL:
            return self.shdw
        if reg >= encode.REGISTER_SPACE:
            return 0
        return self.regs[reg]

    def write_reg(self, reg, v, now):
        regs = self.regs
        if reg == R.RESET:
            if v == R.RESET_VALUE:
                self.reset(now)
        elif reg == R.ADDRESS_CONTROL:
            self.address = v & 0x3F
            regs[reg] = v
        elif reg == R.ALERT_STATUS:
            self.alert_hold = v
            regs[reg] &= ~v & 0xFF
        elif reg == R.FAULT_STATUS:
            self.fault_hold = v
            regs[reg] &= ~v & 0xFF
            if v & R.FS_COV:
                regs[R.COV_FAULT] = 0
            if v & R.FS_CUV:
                regs[R.CUV_FAULT] = 0
        elif reg == R.ADC_CONVERT:
            regs[reg] = v
            if v & 1:
                self.conv_at = now
                self.drdy = False
        elif reg == R.CB_CTRL:
            regs[reg] = v & 0x3F
            ms = encode.cb_time_ms(regs[R.CB_TIME])
            self.cb_until = ticks_add(now, ms) if v & 0x3F and ms else None
        elif reg == R.SHDW_CONTROL:
            self.shdw = v
        elif R.FUNCTION_CONFIG <= reg < encode.REGISTER_SPACE:
            if self.shdw == R.SHDW_UNLOCK:   # group 3: one write per unlock
                regs[reg] = v
            self.shdw = 0
        elif reg >= R.ADC_CONTROL and reg < encode.REGISTER_SPACE:
            regs[reg] = v
        # 0x00..0x23 are read-only (status, measurements, COV/CUV bits)
        self.tick(now)

    # --- the ring ---------------------------------------------------------------
    def handle(self, f, now, chain):
        """What this board sends on when frame f arrives."""
        self.tick(now)
        a = f[0]
        if a & 0x80:
            return f                  # a reply from an address-0 board: pass it on
        addr = a >> 1
        if a & 1:
            crc_ok = len(f) == 4 and crc8(f, 0, 3) == f[3]
            if addr == R.BROADCAST:
                if crc_ok:
                    self.write_reg(f[1], f[2], now)
                else:
                    self._crc_error()
                return f
            if addr != self.address or self.silent:
                return f
            if not crc_ok:
                self._crc_error()
                return f
            was_unaddressed = self.address == 0
            self.write_reg(f[1], f[2], now)
            r = bytearray(f)
            if was_unaddressed:
                r[0] |= 0x80
                r[3] = crc8(r, 0, 3)
            return self._send(r, chain)
        if addr != self.address or addr == R.BROADCAST or self.silent:
            return f
        count = f[2]
        r = bytearray(4 + count)
        r[0] = a | (0x80 if self.address == 0 else 0)
        r[1] = f[1]
        r[2] = count
        for k in range(count):
            r[3 + k] = self.read_reg(f[1] + k)
        r[3 + count] = crc8(r, 0, 3 + count)
        return self._send(r, chain)

    def _send(self, r, chain):
        if self.bad_crc:
            r[len(r) - 1] ^= 0x5A
        chain.delay_ms += self.late_ms
        return bytes(r + r) if self.duplicate else bytes(r)

    def _crc_error(self):
        self.regs[R.FAULT_STATUS] |= R.FS_CRC & ~self.fault_hold
