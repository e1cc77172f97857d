# The plant's end of the DC-bus voltage input (simulator/pin_link.py) against the
# firmware's (drivers/plant_link.py + drivers/bus_voltage.py) over a real
# pseudo-terminal, and the server's answers to garbage.

import pytest

from drivers.bus_voltage import BusVoltage
from drivers.plant_link import ENODEV, PlantLink, checked_body
from simulator.pin_link import PinLinkServer
from tests.host.test_plant_link_pty import _Served


class _Port:
    def __init__(self, data=b""):
        self.rx = data
        self.sent = []

    def any(self):
        return len(self.rx)

    def read(self, n):
        out, self.rx = self.rx[:n], self.rx[n:]
        return out

    def write(self, data):
        self.sent.append(bytes(data))


def _sealed(body):
    x = 0
    for c in body:
        x ^= c
    return body + b"*%02X\n" % x


def _bodies(port):
    return [line[:checked_body(line, len(line))] for line in
            b"".join(port.sent).split(b"\n") if line]


def test_the_server_answers_millivolts_and_refuses_what_it_does_not_have():
    volts = [47.8771]
    port = _Port(_sealed(b"a 12 bus_v") + _sealed(b"a 13 pack_v"))
    server = PinLinkServer(port, analog={"bus_v": lambda: volts[0]})
    server.service(now_s=0.0)
    bodies = [b for b in _bodies(port) if b.startswith(b"r ")]
    assert bodies == [b"r 12 0000BB05", b"r 13 !"]        # 47877 mV; no pack_v input
    assert server.analog_reads == 1 and server.errors == 0


def test_garbage_analog_requests_are_counted_not_answered():
    port = _Port(_sealed(b"a x bus_v") + _sealed(b"a 1") + _sealed(b"a 99999 bus_v")
                 + b"a 1 bus_v*00\n")
    server = PinLinkServer(port, analog={"bus_v": lambda: 1.0})
    server.service(now_s=0.0)
    assert server.errors == 4
    assert not [b for b in _bodies(port) if b.startswith(b"r ")]


def test_a_plant_with_nothing_to_measure_says_so():
    port = _Port(_sealed(b"a 1 bus_v"))
    server = PinLinkServer(port, analog={"bus_v": lambda: None})
    server.service(now_s=0.0)
    assert b"r 1 !" in _bodies(port)


def test_unknown_analog_inputs_are_a_setup_error():
    with pytest.raises(ValueError, match="unknown analog input"):
        PinLinkServer(_Port(), analog={"bus_voltage": lambda: 0.0})


def test_the_bus_voltage_over_a_pty():
    served = _Served([])
    volts = [0.0]
    served.server.analog = {"bus_v": lambda: volts[0]}
    try:
        from drivers.posix_serial import PosixSerial
        link = PlantLink(PosixSerial(served.path), timeout_ms=1000)   # a loaded machine
        bus = BusVoltage(link.analog("bus_v"), 450000)
        assert bus.volts() == 0.0
        volts[0] = 51.2
        assert bus.volts() == 51.2
        with pytest.raises(OSError) as e:
            link.analog("nothing").read_mv()
        assert e.value.args[0] == ENODEV
        assert bus.errors == 0 and link.errors == 0
    finally:
        served.close()
