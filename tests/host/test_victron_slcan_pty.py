# SLCAN on a real pty: when the host stops reading and the pty fills up, send()
# reports busy instead of blocking the BMS loop.

import os
import threading

from drivers.can_slcan import SlcanBus
from drivers.posix_serial import PosixSerial


def test_full_pty_makes_send_busy_never_blocks():
    master, slave = os.openpty()
    port = PosixSerial(os.ttyname(slave))
    bus = SlcanBus(port, opened=True)
    result = {}

    def flood():
        frame = bytes(8)
        for i in range(20000):  # ~440 KB: far beyond any pty buffer
            bus.send(0x351, frame)
        result["done"] = True

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    t.join(20)
    try:
        assert result.get("done"), "SlcanBus.send blocked on a full pty"
        assert bus.tx_busy > 0 and bus.tx_ok > 0
        # the host reads again: frames flow again
        ok = bus.tx_ok
        os.set_blocking(master, False)
        try:
            while os.read(master, 65536):
                pass
        except BlockingIOError:
            pass
        assert bus.send(0x351, bytes(8)) and bus.tx_ok == ok + 1
    finally:
        port.close()
        os.close(master)
        os.close(slave)
