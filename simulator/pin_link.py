# The plant's end of the pin/I2C line link (protocol: drivers/plant_link.py and
# docs/simulator.md). It keeps the levels the BMS board drives, answers I2C
# transactions from the chip models attached by address, counts watchdog pets,
# answers analog reads (the inverter's DC-bus voltage, from the plant's model),
# and pushes input levels (contactor feedback, operator switches) on change and
# once a second. Garbage is counted and dropped, never raised. Host only.

import time

from drivers.plant_line import LINE_MAX, checked_body

OUTPUTS = ("negative", "precharge", "positive", "heater", "allow_charge", "allow_discharge",
           "led")
INPUTS = ("negative_fb", "precharge_fb", "positive_fb", "connect", "reset")
# Analog inputs: name -> what the plant measures there (volts), given by the owner.
ANALOG = ("bus_v",)
PUSH_EVERY_S = 1.0


def _seal(body):
    x = 0
    for c in body:
        x ^= c
    return body + b"*%02X\n" % x


class PinLinkServer:
    def __init__(self, port, chips=(), analog=None):
        self.port = port                  # read/write on the plant's end (PosixSerial)
        self.chips = dict((c.address, c) for c in chips)
        # name -> () -> volts (or None: nothing to measure, answered as '!')
        self.analog = dict(analog or {})
        for name in self.analog:
            if name not in ANALOG:
                raise ValueError("unknown analog input %r (known: %s)" % (name, ANALOG))
        self.analog_reads = 0
        self.outputs = dict((n, 0) for n in OUTPUTS)
        self.inputs = dict((n, 0) for n in INPUTS)
        self.pets = 0
        self.last_pet_s = None
        self.lines = 0
        self.errors = 0
        self.i2c_transactions = 0
        self.i2c_nacks = 0
        self.dropped = 0
        self._buf = b""
        self._next_push = 0.0

    # --- inputs the plant drives ----------------------------------------------------
    def set_input(self, name, level):
        level = 1 if level else 0
        if self.inputs[name] != level:
            self.inputs[name] = level
            self._send(b"p %s %d" % (name.encode(), level))

    def push_inputs(self):
        for name, level in self.inputs.items():
            self._send(b"p %s %d" % (name.encode(), level))

    def _send(self, body):
        writable = getattr(self.port, "writable", None)
        if writable is not None and not writable(0):
            self.dropped += 1             # nobody reads the other end: never block
            return
        try:
            self.port.write(_seal(body))
        except OSError:
            self.errors += 1

    # --- serving ----------------------------------------------------------------------
    def service(self, now_s=None):
        """Handle every complete line waiting; push inputs once a second."""
        now_s = time.monotonic() if now_s is None else now_s
        if now_s >= self._next_push:
            self._next_push = now_s + PUSH_EVERY_S
            self.push_inputs()
        while self.port.any():      # a pty master's read blocks: ask first
            try:
                data = self.port.read(256)
            except OSError:
                data = None
            if not data:
                break
            self._buf += data
        *lines, rest = self._buf.replace(b"\r", b"\n").split(b"\n")
        if len(rest) > LINE_MAX:
            self.errors += 1
            rest = b""
        self._buf = rest
        for line in lines:
            if line:
                self._handle(line, now_s)

    def _handle(self, line, now_s):
        if len(line) > LINE_MAX:
            self.errors += 1
            return
        n = checked_body(line, len(line))
        if n < 1:
            self.errors += 1
            return
        parts = line[:n].split(b" ")
        try:
            kind = parts[0]
            if kind == b"o" and len(parts) == 3 and parts[2] in (b"0", b"1"):
                name = parts[1].decode()
                if name not in self.outputs:
                    raise ValueError(name)
                self.outputs[name] = int(parts[2])
            elif kind == b"w" and len(parts) == 1:
                self.pets += 1
                self.last_pet_s = now_s
            elif kind == b"s" and len(parts) == 1:
                self.push_inputs()
            elif kind == b"i" and len(parts) == 5:
                self._i2c(parts)
            elif kind == b"a" and len(parts) == 3:
                self._analog(parts)
            else:
                raise ValueError(kind)
        except (ValueError, UnicodeError):
            self.errors += 1
            return
        self.lines += 1

    def _i2c(self, parts):
        seq = int(parts[1])
        addr = int(parts[2], 16)
        data = b"" if parts[3] == b"-" else bytes.fromhex(parts[3].decode())
        nread = int(parts[4])
        if not 0 <= nread <= 32:
            raise ValueError(nread)
        self.i2c_transactions += 1
        chip = self.chips.get(addr)
        reply = None
        if chip is not None:
            try:
                if data:
                    chip.i2c_write(data)
                reply = bytes(chip.i2c_read(nread)) if nread else b""
            except OSError:
                reply = None
            if reply is not None and len(reply) != nread:
                reply = None
        if reply is None:
            self.i2c_nacks += 1
            self._send(b"r %d !" % seq)
        elif reply:
            self._send(b"r %d %s" % (seq, reply.hex().upper().encode()))
        else:
            self._send(b"r %d -" % seq)

    def _analog(self, parts):
        seq = int(parts[1])
        if not 0 <= seq <= 9999:
            raise ValueError(seq)
        read = self.analog.get(parts[2].decode())
        volts = read() if read is not None else None
        if volts is None:
            self._send(b"r %d !" % seq)
            return
        self.analog_reads += 1
        mv = int(round(volts * 1000.0))
        mv = max(-0x80000000, min(0x7FFFFFFF, mv))
        self._send(b"r %d %s" % (seq, (mv & 0xFFFFFFFF).to_bytes(4, "big").hex().upper().encode()))

    def watchdog_ok(self, now_s, limit_s):
        """The BMS petted within limit_s (it never petted: False)."""
        return self.last_pet_s is not None and now_s - self.last_pet_s <= limit_s
