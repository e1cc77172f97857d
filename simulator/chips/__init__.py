# Register-level models of the I2C chips the current-sensor drivers talk to
# (Microchip MCP3421 ADC, TI INA228 shunt monitor), plus the two pieces every test
# and the plant need around them: a clock the test advances by hand, and an I2C bus
# object with the machine.I2C methods the drivers call.
#
# A model sees one I2C transaction at a time: i2c_write(data) is what the master
# writes between START and STOP, i2c_read(n) what it returns for a read of n bytes.
# A chip told to fail("nack") raises OSError(19) (ENODEV, what MicroPython raises
# for an address nobody acknowledges). Conversion timing comes from the injected
# clock (ms ticks), so tests are deterministic.
#
# MicroPython-compatible plain code so the models also run next to the firmware
# under the unix port. They may allocate: they are instruments, not firmware.

ENODEV = 19

# Fault kinds every model accepts in fail(kind); fail(None) heals the chip.
NACK = "nack"      # the chip does not acknowledge: every transaction raises OSError(19)
STUCK = "stuck"    # conversions stop: the ready flag never signals, values frozen
RAILED = "railed"  # the converter output sits at positive full scale
FAULT_KINDS = (NACK, STUCK, RAILED)


def check_fault_kind(kind):
    if kind is not None and kind not in FAULT_KINDS:
        raise ValueError("unknown chip fault %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
    return kind


def quantize(x):
    """floor(x) for an ADC code, except that x within 1e-6 of an integer is that
    integer: 0.01 / 312.5e-9 is 31999.999... in binary floating point, 32000 on a chip."""
    r = int(x + 0.5) if x >= 0 else -int(-x + 0.5)
    if -1e-6 < x - r < 1e-6:
        return r
    i = int(x)
    return i - 1 if i > x else i


class ManualClock:
    """A ms tick source that only moves when told: pass it as `clock=`."""

    def __init__(self, t_ms=0):
        self.t = t_ms

    def __call__(self):
        return self.t

    def advance(self, ms):
        self.t += ms
        return self.t


class I2CBus:
    """machine.I2C look-alike that routes transactions to chip models by address.

    Implements the calls micropython-lib style drivers use: writeto, readfrom_into,
    readfrom, writeto_mem, readfrom_mem_into, readfrom_mem, scan. An address with no
    chip raises OSError(19), as a real bus does when nobody acknowledges.
    """

    def __init__(self, *chips):
        self.chips = {}
        self.transactions = 0
        for chip in chips:
            self.attach(chip)

    def attach(self, chip):
        if chip.address in self.chips:
            raise ValueError("two chips at I2C address 0x%02X" % chip.address)
        self.chips[chip.address] = chip
        return chip

    def _chip(self, addr):
        self.transactions += 1
        chip = self.chips.get(addr)
        if chip is None:
            raise OSError(ENODEV)
        return chip

    def scan(self):
        found = []
        for addr in sorted(self.chips):
            try:
                self.chips[addr].i2c_write(b"")
                found.append(addr)
            except OSError:
                pass
        return found

    def writeto(self, addr, buf, stop=True):
        self._chip(addr).i2c_write(bytes(buf))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        data = self._chip(addr).i2c_read(len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]

    def readfrom(self, addr, n, stop=True):
        return bytes(self._chip(addr).i2c_read(n))

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._chip(addr).i2c_write(bytes([memaddr]) + bytes(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        chip = self._chip(addr)
        chip.i2c_write(bytes([memaddr]))
        data = chip.i2c_read(len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]

    def readfrom_mem(self, addr, memaddr, n, addrsize=8):
        buf = bytearray(n)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)


class Integrator:
    """Time-weighted mean of a piecewise-constant input over fixed windows.

    Delta-sigma converters (both chips) report the average of their input over the
    conversion time, so a step in the middle of a conversion gives a value in
    between, as on the real chip. `advance(dt_us)` feeds elapsed time at the present
    input and returns how many windows completed; `last` is the newest result.
    """

    def __init__(self, window_us):
        self.window_us = window_us
        self.value = 0.0      # input now
        self.last = 0.0       # mean over the newest completed window
        self._acc = 0.0
        self._elapsed = 0
        self._varied = False  # the input changed inside the running window

    def set(self, value):
        value = float(value)
        if value != self.value and self._elapsed:
            self._varied = True
        self.value = value

    def restart(self, window_us=None):
        if window_us is not None:
            self.window_us = window_us
        self._acc = 0.0
        self._elapsed = 0
        self._varied = False

    def advance(self, dt_us, max_windows=-1):
        """Run dt_us; stop after max_windows windows (-1: no limit). Returns the
        number of completed windows."""
        done = 0
        w = self.window_us
        while dt_us > 0 and done != max_windows:
            step = w - self._elapsed
            if step > dt_us:
                step = dt_us
            self._acc += self.value * step
            self._elapsed += step
            dt_us -= step
            if self._elapsed >= w:
                # A steady input is reported exactly (no rounding in the mean).
                self.last = self._acc / w if self._varied else self.value
                self._acc = 0.0
                self._elapsed = 0
                self._varied = False
                done += 1
                if dt_us >= w and max_windows < 0:
                    # The input is constant from here on: skip whole windows at once.
                    k = dt_us // w
                    self.last = self.value
                    done += k
                    dt_us -= k * w
        return done
