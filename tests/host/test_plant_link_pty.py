# The pin/I2C link over a real pseudo-terminal: the firmware driver (as the unix
# port runs it) on one end, the plant's server with a register-level MCP3421 on
# the other; garbage in both directions is counted and survived.

import os
import threading
import time
import tty

from drivers.plant_link import ENODEV, PlantLink
from drivers.posix_serial import PosixSerial
from simulator.chips.mcp3421 import Mcp3421Model
from simulator.pin_link import PinLinkServer


class _Served:
    def __init__(self, chips):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.plant_port = PosixSerial(self.path, fd=self.master)
        self.server = PinLinkServer(self.plant_port, chips)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            self.plant_port.wait(5)
            self.server.service()

    def close(self):
        self.stop = True
        self.thread.join(1.0)
        self.plant_port.close()
        os.close(self.slave)
        os.close(self.master)


def test_pins_i2c_and_garbage_over_a_pty():
    t = [0]
    adc = Mcp3421Model(clock=lambda: t[0])
    served = _Served([adc])
    try:
        fw_port = PosixSerial(served.path)
        link = PlantLink(fw_port, timeout_ms=1000)   # generous: a loaded machine
        pos = link.pin("positive", True)
        fb = link.pin("positive_fb")
        fw_port.write(b"\x00\x13garbage without end" + b"Z" * 100 + b"\n")
        pos.value(1)
        deadline = time.monotonic() + 2
        while served.server.outputs["positive"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert served.server.outputs["positive"] == 1
        assert served.server.errors >= 1
        served.server.set_input("positive_fb", 1)
        served.plant_port.write(b"\xff\xfe junk\n")
        deadline = time.monotonic() + 2
        while fb.value() != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fb.value() == 1 and link.errors >= 1
        link.pet()
        # The ADC: 18-bit continuous mode, 1.0 V in, read the 3 data bytes + config.
        i2c = link.i2c()
        i2c.writeto(0x68, b"\x1C")
        adc.set_input_v(1.0)
        t[0] += 600
        buf = bytearray(4)
        i2c.readfrom_into(0x68, buf)
        code = (buf[0] << 16 | buf[1] << 8 | buf[2])
        assert code == 64000, hex(code)        # 1.0 V / 15.625 uV
        adc.fail("nack")
        try:
            i2c.readfrom_into(0x68, buf)
            raise AssertionError("a NACK must raise")
        except OSError as e:
            assert e.args[0] == ENODEV
        assert served.server.pets == 1 and served.server.i2c_nacks == 1
        fw_port.close()
    finally:
        served.close()
