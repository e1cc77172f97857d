# The host end of an SLCAN link for `pybms monitor`: bytes from a serial port or pty
# -> lines -> frames, where every line that is not exactly a classic CAN frame comes
# out as Malformed(reason, raw) instead of an exception or a guessed frame.
# (python-can's slcan reader raises on bad hex, IndexErrors on short lines, dies
# on non-ASCII bytes and silently takes extra or missing data bytes; a monitor
# must survive whatever the line carries and say what it saw.)
#
# A frame line is t<3 hex id><DLC 0-8><2 x DLC hex> (T: 8 hex id <= 0x1FFFFFFF;
# r/R: remote, no data), ended by \r (or \n). A BEL (\a) is an adapter's "error"
# answer: counted, not a frame. Lines are bounded: past LINE_MAX bytes the line is
# reported at once as too long and the rest of it is skipped.

from collections import namedtuple

LINE_MAX = 64          # a frame line is at most 26 characters (T + 8 + 1 + 16)
BITRATE_COMMANDS = {10000: b"S0", 20000: b"S1", 50000: b"S2", 100000: b"S3", 125000: b"S4",
                    250000: b"S5", 500000: b"S6", 800000: b"S7", 1000000: b"S8"}

Frame = namedtuple("Frame", "can_id extended remote data")
Malformed = namedtuple("Malformed", "reason raw")
ADAPTER_ERROR = "adapter_error"

# Reasons, one per class of bad input (the monitor counts them by these names).
REASONS = ("non_ascii", "not_a_frame", "too_short", "bad_hex", "id_range", "bad_dlc",
           "odd_hex", "data_short", "data_long", "too_long", "bad_length")

_HEX = frozenset(b"0123456789abcdefABCDEF")
_ID_MAX = {False: 0x7FF, True: 0x1FFFFFFF}


def check_frame(can_id, extended, remote, dlc, data):
    """Reason a decoded frame (from any interface) is not a classic CAN frame, or None."""
    if not 0 <= can_id <= _ID_MAX[bool(extended)]:
        return "id_range"
    if not 0 <= dlc <= 8:
        return "bad_dlc"
    if len(data) != (0 if remote else dlc):
        return "bad_length"
    return None


def parse_line(raw):
    """One line (terminator removed) -> Frame, Malformed, or None for an empty line."""
    if not raw:
        return None
    if any(b > 0x7E or (b < 0x20) for b in raw):
        return Malformed("non_ascii", raw)
    cmd = raw[:1]
    if cmd not in (b"t", b"T", b"r", b"R"):
        return Malformed("not_a_frame", raw)
    extended = cmd in (b"T", b"R")
    remote = cmd in (b"r", b"R")
    id_len = 8 if extended else 3
    if len(raw) < 2 + id_len:
        return Malformed("too_short", raw)
    ident = raw[1:1 + id_len]
    if not set(ident) <= _HEX:
        return Malformed("bad_hex", raw)
    can_id = int(ident, 16)
    if can_id > _ID_MAX[extended]:
        return Malformed("id_range", raw)
    dlc_char = raw[1 + id_len]
    if not 0x30 <= dlc_char <= 0x38:
        return Malformed("bad_dlc", raw)
    dlc = dlc_char - 0x30
    text = raw[2 + id_len:]
    if not set(text) <= _HEX:
        return Malformed("bad_hex", raw)
    want = 0 if remote else 2 * dlc
    if len(text) != want:
        if len(text) % 2:
            return Malformed("odd_hex", raw)
        return Malformed("data_short" if len(text) < want else "data_long", raw)
    return Frame(can_id, extended, remote, bytes.fromhex(text.decode("ascii")))


class LineSplitter:
    """Bytes in any chunking -> parsed items, holding at most LINE_MAX bytes."""

    def __init__(self, line_max=LINE_MAX):
        self.line_max = line_max
        self._buf = bytearray()
        self._skipping = False   # inside a line already reported as too long

    def feed(self, chunk):
        items = []
        for b in chunk:
            if b in (0x0D, 0x0A, 0x07):
                if not self._skipping:
                    item = parse_line(bytes(self._buf))
                    if item is not None:
                        items.append(item)
                self._buf.clear()
                self._skipping = False
                if b == 0x07:
                    items.append(ADAPTER_ERROR)
            elif self._skipping:
                continue
            elif len(self._buf) < self.line_max:
                self._buf.append(b)
            else:
                items.append(Malformed("too_long", bytes(self._buf)))
                self._buf.clear()
                self._skipping = True
        return items


class SlcanLink:
    """An SLCAN adapter (or pyBMS's firmware side) on a serial port or pty, opened as
    python-can does (C, S<n>, O) with timestamps off (Z0); `poll()` returns the
    items that arrived within the port's 0.1 s timeout."""

    def __init__(self, channel, bitrate=500000, serial_module=None):
        if serial_module is None:
            import serial as serial_module
        if bitrate not in BITRATE_COMMANDS:
            raise ValueError("bitrate %d is not an SLCAN rate (%s)"
                             % (bitrate, ", ".join(str(b) for b in sorted(BITRATE_COMMANDS))))
        self.port = serial_module.serial_for_url(channel, baudrate=115200, timeout=0.1)
        self.split = LineSplitter()
        # Z0: timestamps off. An adapter that kept them on (Lawicel stores the
        # setting) appends 4 hex digits to every frame, which this reader takes
        # for what they would be on any other adapter: data longer than the DLC.
        # One without the command answers BEL, counted as an adapter error.
        self.port.write(b"C\r" + BITRATE_COMMANDS[bitrate] + b"\rZ0\rO\r")
        self.port.flush()

    def poll(self):
        """Items (Frame, Malformed, ADAPTER_ERROR) read within the port's timeout."""
        data = self.port.read(max(1, min(self.port.in_waiting, 4096)))
        return self.split.feed(data) if data else []

    def close(self):
        try:
            self.port.write(b"C\r")
        except OSError:
            pass   # the far end is gone; closing is all that is left
        self.port.close()


class PythonCanLink:
    """Any other python-can interface (socketcan, ...): its messages checked the same way."""

    def __init__(self, bus):
        self.bus = bus

    def poll(self):
        msg = self.bus.recv(timeout=0.1)
        if msg is None or msg.is_error_frame:
            return []
        data = bytes(msg.data)
        reason = "bad_dlc" if msg.is_fd else check_frame(
            msg.arbitration_id, msg.is_extended_id, msg.is_remote_frame, msg.dlc, data)
        if reason:
            return [Malformed(reason, ("%X#%s" % (msg.arbitration_id, data.hex())).encode())]
        return [Frame(msg.arbitration_id, msg.is_extended_id, msg.is_remote_frame, data)]

    def close(self):
        self.bus.shutdown()
