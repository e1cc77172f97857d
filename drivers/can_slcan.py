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
# Nothing here blocks: reads use the port's non-blocking readinto; writes happen only
# when poll() says the stream has room, otherwise the frame is counted busy.

from drivers.can import CanBus

_HEX = b"0123456789ABCDEF"
_CR = 0x0D
_BELL = 0x07


def _nibble(c):
    if 0x30 <= c <= 0x39:
        return c - 0x30
    c |= 0x20
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    return -1


class SlcanBus(CanBus):
    def __init__(self, port, opened=False):
        CanBus.__init__(self)
        self.port = port
        self.is_open = opened
        self.listen_only = False
        self.commands = 0          # adapter commands seen from the host
        self.tx_frame = bytearray(22)   # t + 3 id + 1 dlc + 16 data + \r
        self._tx_full = memoryview(self.tx_frame)
        self._in = bytearray(64)
        self._in_pos = 0
        self._in_end = 0
        self._line = bytearray(32)
        self._line_len = 0
        self._overlong = False
        self._ok = b"\r"
        self._err = b"\x07"
        self._version = b"V1010\r"
        self._status = b"F00\r"
        # Room-to-write check, so a host that stopped reading cannot block the BMS
        # loop on a full pty (drivers.posix_serial.PosixSerial.writable).
        self._port_writable = getattr(port, "writable", None)

    def _writable(self):
        return self._port_writable is None or self._port_writable(0)

    def _write(self, data):
        try:
            self.port.write(data)
            return True
        except OSError:
            return False

    def send(self, can_id, data):
        n = len(data)
        if not self.is_open or can_id < 0 or can_id > 0x7FF or n > 8:
            self.tx_errors += 1
            return False
        if not self._writable():
            self.tx_busy += 1
            return False
        b = self.tx_frame
        b[0] = 0x74  # 't'
        b[1] = _HEX[(can_id >> 8) & 0xF]
        b[2] = _HEX[(can_id >> 4) & 0xF]
        b[3] = _HEX[can_id & 0xF]
        b[4] = 0x30 + n
        for i in range(n):
            b[5 + 2 * i] = _HEX[data[i] >> 4]
            b[6 + 2 * i] = _HEX[data[i] & 0xF]
        end = 5 + 2 * n
        b[end] = _CR
        if self._write(self._tx_full if n == 8 else self._tx_full[:end + 1]):
            self.tx_ok += 1
            return True
        self.tx_errors += 1
        return False

    def recv(self):
        """Take bytes from the host until one frame is complete; commands are
        answered on the way. False when no complete frame is waiting."""
        while True:
            if self._in_pos >= self._in_end:
                try:
                    n = self.port.readinto(self._in)
                except OSError:
                    n = None
                if not n:
                    return False
                self._in_pos = 0
                self._in_end = n
            c = self._in[self._in_pos]
            self._in_pos += 1
            if c == _CR or c == 0x0A:
                if self._line_len == 0:
                    continue
                ok = self._finish_line()
                self._line_len = 0
                if ok:
                    return True
                continue
            if self._line_len < len(self._line):
                self._line[self._line_len] = c
                self._line_len += 1
            else:
                self._overlong = True

    def _finish_line(self):
        if self._overlong:
            self._overlong = False
            self.rx_errors += 1
            self._write(self._err)
            return False
        cmd = self._line[0]
        if cmd in (0x74, 0x54, 0x72, 0x52):  # t T r R
            return self._frame(cmd)
        self.commands += 1
        if cmd == 0x4F:       # O
            self.is_open = True
            self.listen_only = False
        elif cmd == 0x4C:     # L
            self.is_open = True
            self.listen_only = True
        elif cmd == 0x43:     # C
            self.is_open = False
        elif cmd in (0x53, 0x73, 0x59, 0x5A, 0x4D, 0x6D, 0x57):  # S s Y Z M m W: accepted
            pass
        elif cmd == 0x56 or cmd == 0x76:  # V v
            self._write(self._version)
            return False
        elif cmd == 0x4E:     # N: serial number
            self._write(b"NPYBM\r")
            return False
        elif cmd == 0x46:     # F: status flags
            self._write(self._status)
            return False
        else:
            self._write(self._err)
            return False
        self._write(self._ok)
        return False

    def _frame(self, cmd):
        line = self._line
        n = self._line_len
        ext = cmd == 0x54 or cmd == 0x52
        id_len = 8 if ext else 3
        if n < 2 + id_len:
            self.rx_errors += 1
            return False
        can_id = 0
        for i in range(1, 1 + id_len):
            v = _nibble(line[i])
            if v < 0:
                self.rx_errors += 1
                return False
            can_id = (can_id << 4) | v
        dlc = line[1 + id_len] - 0x30
        remote = cmd == 0x72 or cmd == 0x52
        if dlc < 0 or dlc > 8 or (not remote and n < 2 + id_len + 2 * dlc):
            self.rx_errors += 1
            return False
        base = 2 + id_len
        for i in range(0 if remote else dlc):
            hi = _nibble(line[base + 2 * i])
            lo = _nibble(line[base + 2 * i + 1])
            if hi < 0 or lo < 0:
                self.rx_errors += 1
                return False
            self.rx_data[i] = (hi << 4) | lo
        self.rx_id = can_id | (0x80000000 if ext else 0)
        self.rx_len = 0 if remote else dlc
        self.rx_frames += 1
        return True
