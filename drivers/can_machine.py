# machine.CAN (MicroPython's portable CAN API: stm32 now, ESP32/TWAI once its port
# has it) behind drivers.can.CanBus. The board file creates the controller
# (`machine.CAN(id, 500_000)`) and hands it in; this adapter calls only:
#   set_filters(None)  receive everything (no frame arrives before it is called)
#   send(id, data, flags=0) -> transmit slot, or None when the queue is full
#   recv(list)          -> [id, memoryview, flags, errors] reusing `list`, or None
#   state(), restart(), get_counters()

from drivers.can import ACTIVE, BUS_OFF, PASSIVE, STOPPED, WARNING, CanBus

# machine.CAN state constants by name -> ours; resolved against the class at start
# because their numeric values are the port's.
_STATES = (("STATE_STOPPED", STOPPED), ("STATE_ACTIVE", ACTIVE),
           ("STATE_WARNING", WARNING), ("STATE_PASSIVE", PASSIVE),
           ("STATE_BUS_OFF", BUS_OFF), ("STOPPED", STOPPED),
           ("ERROR_ACTIVE", ACTIVE), ("ERROR_WARNING", WARNING),
           ("ERROR_PASSIVE", PASSIVE), ("BUS_OFF", BUS_OFF))


class MachineCanBus(CanBus):
    def __init__(self, can):
        CanBus.__init__(self)
        self.can = can
        self._map = {}
        for name, ours in _STATES:
            value = getattr(can, name, None)
            if value is not None and value not in self._map:
                self._map[value] = ours
        self._rx = [0, None, 0, 0]
        can.set_filters(None)

    def send(self, can_id, data):
        try:
            slot = self.can.send(can_id, data)
        except Exception:  # bus-off or a driver error: counted, the loop goes on
            self.tx_errors += 1
            return False
        if slot is None:
            self.tx_busy += 1
            return False
        self.tx_ok += 1
        return True

    def recv(self):
        try:
            got = self.can.recv(self._rx)
        except Exception:
            self.rx_errors += 1
            return False
        if got is None:
            return False
        return self._received(got[0], got[1])

    def state(self):
        try:
            return self._map.get(self.can.state(), ACTIVE)
        except Exception:
            return ACTIVE

    def error_counters(self):
        return self.can.get_counters()

    def _restart(self):
        try:
            self.can.restart()
            return True
        except Exception:
            self.tx_errors += 1
            return False
