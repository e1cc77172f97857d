# The host end of the firmware's SLCAN link (drivers/can_slcan.py plays the USB-CAN
# adapter): opens the channel, decodes the frames the BMS sends, sends the GX's
# own frames back. Malformed lines are counted and dropped. Host only.


class SlcanHost:
    def __init__(self, port, on_frame):
        self.port = port              # the plant's end (PosixSerial on a pty master)
        self.on_frame = on_frame      # on_frame(can_id, data)
        self.frames = 0
        self.errors = 0
        self.replies = 0              # adapter answers (\r, \a, V..., F...)
        self.dropped = 0
        self._buf = b""
        self._last_rx_s = -1e9
        self._last_open_s = -1e9
        self.now_s = 0.0

    def open(self):
        """Bitrate 500 kbit/s and open the channel: before this the firmware
        forwards nothing (as an adapter would)."""
        self._write(b"C\rS6\rO\r")

    def keep_open(self, now_s, every_s=2.0):
        """Re-send the open command while no frame has come for every_s: the firmware
        may have opened its end after ours (opening a tty in raw mode flushes what
        was waiting) or restarted, and it forwards nothing until it is opened."""
        if now_s - self._last_rx_s >= every_s and now_s - self._last_open_s >= every_s:
            self._last_open_s = now_s
            self.open()

    def _write(self, data):
        writable = getattr(self.port, "writable", None)
        if writable is not None and not writable(0):
            self.dropped += 1         # nobody reads the other end: never block
            return False
        try:
            self.port.write(data)
            return True
        except OSError:
            self.errors += 1
            return False

    def send(self, can_id, data):
        return self._write(b"t%03X%d%s\r" % (can_id, len(data), bytes(data).hex().upper().encode()))

    def service(self, now_s=0.0):
        self.now_s = now_s
        while self.port.any():        # a pty master's read blocks: ask first
            data = self.port.read(256)
            if not data:
                break
            self._buf += data
        if len(self._buf) > 4096:     # a babbling line without terminators
            self.errors += 1
            self._buf = b""
        while True:
            i = self._buf.find(b"\r")
            j = self._buf.find(b"\x07")
            ends = [k for k in (i, j) if k >= 0]
            if not ends:
                return
            k = min(ends)
            line = self._buf[:k]
            self._buf = self._buf[k + 1:]
            if not line:
                self.replies += 1
                continue
            self._line(line)

    def _line(self, line):
        if line[:1] != b"t":
            if line[:1] in (b"V", b"F", b"N"):
                self.replies += 1
            else:
                self.errors += 1
            return
        try:
            can_id = int(line[1:4], 16)
            n = int(line[4:5])
            hexdata = line[5:]
            if not 0 <= n <= 8 or len(hexdata) != 2 * n:
                raise ValueError(line)
            data = bytes.fromhex(hexdata.decode())
        except (ValueError, UnicodeError):
            self.errors += 1
            return
        self.frames += 1
        self._last_rx_s = self.now_s
        self.on_frame(can_id, data)
