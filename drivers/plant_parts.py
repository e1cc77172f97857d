# What the plant link hands to boards.hal: pins that look like machine.Pin
# (value()), an I2C bus that looks like machine.I2C, and analog inputs (the
# DC-bus voltage) with read_mv(). Each talks through its PlantLink
# (drivers/plant_link.py).

from drivers.plant_line import seal


class PlantPin:
    """An output (value(v) sends on change) or an input (value() reads the cache)."""

    def __init__(self, link, name, out):
        self.link = link
        self.name = name
        self.out = out
        self._level = 0
        self._msg = (self._line(name, 0), self._line(name, 1))
        self._key = name.encode()

    @staticmethod
    def _line(name, level):
        body = b"o " + name.encode() + (b" 1" if level else b" 0")
        buf = bytearray(len(body) + 4)
        buf[:len(body)] = body
        seal(buf, len(body))
        return buf

    def value(self, v=None):
        if v is None:
            if not self.out:
                self.link.poll()
            return self._level
        level = 1 if v else 0
        if self.out and level != self._level:
            self._level = level
            self.link.send(self._msg[level])
        self._level = level
        return None


class PlantI2C:
    """machine.I2C's transaction methods over the plant link."""

    def __init__(self, link):
        self.link = link

    def writeto(self, addr, buf, stop=True):
        self.link.transact(addr, None, buf, 0, None)
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self.link.transact(addr, None, None, len(buf), buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self.link.transact(addr, memaddr, buf, 0, None)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        self.link.transact(addr, memaddr, None, len(buf), buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)


class PlantAnalog:
    """An analog input of the plant (the DC-bus voltage): read_mv() asks for it
    and returns integer millivolts, or raises OSError (ETIMEDOUT without an answer
    within timeout_ms, ENODEV when the plant has no such input, EIO on an answer
    of the wrong shape); drivers/bus_voltage.py turns that into volts or None."""

    def __init__(self, link, name):
        self.link = link
        self.name = name
        self._key = name.encode()

    def read_mv(self):
        return self.link.read_analog(self._key)
