# CAN over SLCAN (the Lawicel ASCII line protocol) on a serial stream, for the unix
# port: the firmware plays the part of a USB-CAN adapter plus the bus, so a host
# tool (python-can's "slcan" interface) on the other end of a pty pair sees the
# frames pyBMS sends and can send frames (e.g. the GX's 0x305/0x307) back.
#
# Firmware -> host:  t<id:3 hex><dlc><data hex>\r   (e.g. t3518280...01\r)
# Host -> firmware:  frames in the same form (t/T, r/R), and adapter commands:
#   O / L open (L: listen only), C close, S<n>/s<btr> bitrate, V/v/N/F queries;
#   each answered with \r (OK) or \a (error), as an adapter would.
# Like an adapter, nothing is forwarded to the host before it opens the channel
# (a send then counts as a transmit error: nobody acknowledges the frame).
#
# Nothing here blocks and no call does unbounded work, whatever the host does:
# - every write (frames and answers alike) happens only when the port says it has
#   room (PosixSerial.writable: poll POLLOUT); otherwise a frame counts as busy and
#   an answer is dropped and counted (answers_dropped). A host that sends commands
#   and never reads cannot stall the BMS loop.
# - one recv() call looks at no more than RECV_MAX_BYTES bytes and finishes no more
#   than RECV_MAX_LINES non-empty lines; the rest waits for the next call
#   (recv_bounded counts the calls that stopped there).
# - a received line is a frame only if it is exactly right: id within 11 (29) bits,
#   DLC 0..8, exactly 2 x DLC hex digits of data (none for r/R). Anything else is
#   counted in rx_errors and leaves rx_id/rx_len/rx_data untouched; so is a line
#   that is not a command in its exact form (answered with BEL). Frames sent while
#   the channel is closed or listen-only are refused (rx_refused, BEL), as an
#   adapter puts nothing on the bus then.

from drivers.ascii_hex import HEX, nibble
from drivers.can import CanBus

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

RECV_MAX_BYTES = const(64)    # bytes examined per recv() call (2+ full frame lines)
RECV_MAX_LINES = const(4)     # non-empty lines finished per call (each may write an answer)
LINE_MAX = const(32)          # longest line kept; T + 8 id + dlc + 16 data = 26

SLCAN_COUNTERS = ("commands", "answers_dropped", "recv_bounded", "rx_refused")

_CR = const(0x0D)
_LF = const(0x0A)
_OK = b"\r"
_ERR = b"\x07"
_VERSION = b"V1010\r"
_SERIAL = b"NPYBM\r"
_STATUS = b"F00\r"

# Adapter commands taken, by their letter, with the exact length of their line:
# O L C V v N F alone; S<0-8> bitrate, Z<0|1> timestamps, W<n> filter mode,
# Y<n> data bitrate; s<4 hex> bit timing, M/m<8 hex> acceptance code/mask.
_COMMAND_LEN = {0x4F: 1, 0x4C: 1, 0x43: 1, 0x56: 1, 0x76: 1, 0x4E: 1, 0x46: 1,
                0x53: 2, 0x5A: 2, 0x57: 2, 0x59: 2, 0x73: 5, 0x4D: 9, 0x6D: 9}


class SlcanBus(CanBus):
    def __init__(self, port, opened=False):
        CanBus.__init__(self)
        self.port = port
        self.is_open = opened
        self.listen_only = False
        self.commands = 0          # adapter commands seen from the host
        self.answers_dropped = 0   # answers not written: the host was not reading
        self.rx_refused = 0        # frames from the host while closed or listen-only
        self.recv_bounded = 0      # recv() calls that stopped at the per-call bound
        self.tx_frame = bytearray(22)   # t + 3 id + 1 dlc + 16 data + \r
        # One view per data length, made once: slicing per frame would allocate.
        full = memoryview(self.tx_frame)
        self._tx_views = tuple(full[:6 + 2 * n] for n in range(9))
        self._in = bytearray(64)
        self._in_pos = 0
        self._in_end = 0
        self._line = bytearray(LINE_MAX)
        self._line_len = 0
        self._overlong = False
        # Room-to-write check, so a host that stopped reading cannot block the BMS
        # loop on a full pty (drivers.posix_serial.PosixSerial.writable). A port
        # without it (machine.UART) drains at its baud rate on its own.
        self._port_writable = getattr(port, "writable", None)

    def _writable(self):
        return self._port_writable is None or self._port_writable(0)

    def _write(self, data):
        """True when all of `data` went out; a short write (a UART timeout) leaves a
        cut line the host will reject, and counts as failed here."""
        try:
            return self.port.write(data) == len(data)
        except OSError:
            return False

    def _answer(self, data):
        if not (self._writable() and self._write(data)):
            self.answers_dropped += 1

    def rx_pending(self):
        """True while bytes already read from the port wait to be parsed (a call
        stopped at its bound); the port itself may hold more."""
        return self._in_pos < self._in_end

    def slcan_counters(self):
        return tuple(getattr(self, name) for name in SLCAN_COUNTERS)

    def send(self, can_id, data):
        n = len(data)
        if not self.is_open or can_id < 0 or can_id > 0x7FF or n > 8:
            self.tx_errors += 1
            return False
        if not self._writable():
            self.tx_busy += 1
            return False
        self._encode(can_id, data, n)
        if self._write(self._tx_views[n]):
            self.tx_ok += 1
            return True
        self.tx_errors += 1
        return False

    # send() is split in three so that no call's VM state exceeds 11 words: such a
    # frame would come from the GC heap on every call (mem_alloc() does not show it).
    def _encode(self, can_id, data, n):
        """t<id><dlc><data>\r into tx_frame."""
        b = self.tx_frame
        b[0] = 0x74  # 't'
        b[1] = HEX[(can_id >> 8) & 0xF]
        b[2] = HEX[(can_id >> 4) & 0xF]
        b[3] = HEX[can_id & 0xF]
        b[4] = 0x30 + n
        b[5 + 2 * n] = _CR
        self._encode_data(data, n)

    def _encode_data(self, data, n):
        b = self.tx_frame
        i = 0
        j = 5
        while i < n:
            v = data[i]
            b[j] = HEX[v >> 4]
            b[j + 1] = HEX[v & 0xF]
            i += 1
            j += 2

    def recv(self):
        """Take bytes from the host until one frame is complete; commands are
        answered on the way. False when no complete frame was found within this
        call's bound (RECV_MAX_BYTES / RECV_MAX_LINES): call again next pass."""
        # Few locals and no try here: the VM state stays within 11 words, so the
        # call's frame lives on the C stack instead of the GC heap.
        budget = RECV_MAX_BYTES
        lines = RECV_MAX_LINES
        while budget > 0:
            if self._in_pos >= self._in_end and not self._fill():
                return False
            c = self._in[self._in_pos]
            self._in_pos += 1
            budget -= 1
            if c == _CR or c == _LF:
                if self._line_len == 0:
                    continue
                if self._finish_line():
                    return True
                lines -= 1
                if lines == 0:
                    break
            elif self._line_len < LINE_MAX:
                self._line[self._line_len] = c
                self._line_len += 1
            else:
                self._overlong = True
        self.recv_bounded += 1
        return False

    def _fill(self):
        """Refill the input buffer from the port; False when nothing is waiting."""
        try:
            n = self.port.readinto(self._in)
        except OSError:
            return False
        if not n:
            return False
        self._in_pos = 0
        self._in_end = n
        return True

    def _finish_line(self):
        """Act on the complete line in _line (and empty it): True for a frame."""
        n = self._line_len
        self._line_len = 0
        if self._overlong:
            self._overlong = False
            self.rx_errors += 1
            self._answer(_ERR)
            return False
        cmd = self._line[0]
        if cmd == 0x74 or cmd == 0x54 or cmd == 0x72 or cmd == 0x52:  # t T r R
            if not self.is_open or self.listen_only:
                # an adapter puts nothing on the bus while closed or listening only
                self.rx_refused += 1
                self._answer(_ERR)
                return False
            if self._frame(cmd, n):
                return True
            self.rx_errors += 1
            return False
        if n != _COMMAND_LEN.get(cmd, 0) or not self._arguments_ok(cmd, n):
            # not a command an adapter knows, or not in its exact form: malformed
            # input, as a bad frame is (so "Cxyz" on a noisy line closes nothing)
            self.rx_errors += 1
            self._answer(_ERR)
            return False
        answer = _OK
        if cmd == 0x4F:       # O
            self.is_open = True
            self.listen_only = False
        elif cmd == 0x4C:     # L
            self.is_open = True
            self.listen_only = True
        elif cmd == 0x43:     # C
            self.is_open = False
        elif cmd == 0x56 or cmd == 0x76:  # V v
            answer = _VERSION
        elif cmd == 0x4E:     # N: serial number
            answer = _SERIAL
        elif cmd == 0x46:     # F: status flags
            answer = _STATUS
        self.commands += 1    # the rest (bitrate, timestamps, filters) change nothing here
        self._answer(answer)
        return False

    def _arguments_ok(self, cmd, n):
        if n == 1:
            return True
        if cmd == 0x73 or cmd == 0x4D or cmd == 0x6D:   # s M m: hex registers
            return self._all_hex(1, n)
        digit = self._line[1] - 0x30                    # S Z W Y: one digit
        return 0 <= digit <= (1 if cmd == 0x5A else 8)

    def _frame(self, cmd, n):
        """Check the whole line (n bytes), then fill rx_*: True for a well-formed frame."""
        ext = cmd == 0x54 or cmd == 0x52
        dlc_at = 9 if ext else 4
        if n <= dlc_at:
            return False
        length = self._line[dlc_at] - 0x30   # the DLC
        if length < 0 or length > 8:
            return False
        if cmd == 0x72 or cmd == 0x52:   # r/R: a remote request carries no data
            length = 0
        if n != dlc_at + 1 + 2 * length:
            return False   # data shorter or longer than the DLC says
        # The top digit bounds the id: 3 digits <= 0x7FF, 8 digits <= 0x1FFFFFFF
        # (checked before shifting, so no id ever grows past a small int).
        can_id = self._parse_id(dlc_at, 1 if ext else 7)
        if can_id < 0 or not self._all_hex(dlc_at + 1, n):
            return False
        self._decode_data(dlc_at + 1, length)
        self.rx_id = can_id | (0x80000000 if ext else 0)
        self.rx_len = length
        self.rx_frames += 1
        return True

    def _parse_id(self, end, top_max):
        """The id in _line[1:end], or -1 for a bad digit or a top digit > top_max."""
        line = self._line
        can_id = nibble(line[1])
        if can_id < 0 or can_id > top_max:
            return -1
        i = 2
        while i < end:
            v = nibble(line[i])
            if v < 0:
                return -1
            can_id = (can_id << 4) | v
            i += 1
        return can_id

    def _all_hex(self, i, end):
        line = self._line
        while i < end:
            if nibble(line[i]) < 0:
                return False
            i += 1
        return True

    def _decode_data(self, at, length):
        line = self._line
        d = self.rx_data
        i = 0
        while i < length:
            d[i] = (nibble(line[at]) << 4) | nibble(line[at + 1])
            i += 1
            at += 2
