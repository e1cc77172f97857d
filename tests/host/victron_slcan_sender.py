# Firmware side of the monitor tests: the Victron reporter on a fake pack, sending
# over SLCAN on a pty (drivers.posix_serial). Runs under MicroPython and CPython.
# Usage: victron_slcan_sender.py PTY CYCLES [SILENT_MS CYCLES_AFTER]
# Sends nothing until the host opens the channel (SLCAN "O"), then CYCLES full
# cycles at can_period_ms = 200, optionally SILENT_MS of silence (CAN TX not
# allowed) and CYCLES_AFTER more; prints "sent=N errors=N" and exits.

import sys
import time

from bms import diagnosis as D
from drivers.can_slcan import SlcanBus
from drivers.clock import ticks_diff, ticks_ms
from drivers.posix_serial import PosixSerial
from tests.fw.victron_support import FakeMachine, Station


def sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000.0)


def main(argv):
    path = argv[0]
    cycles = int(argv[1])
    silent_ms = int(argv[2]) if len(argv) > 2 else 0
    after = int(argv[3]) if len(argv) > 3 else 0
    port = PosixSerial(path)
    bus = SlcanBus(port)
    machine = FakeMachine()
    st = Station({"can_period_ms": 200}, bus=bus, machine=machine, record=False)
    st.pack.cells[4] = 3650
    st.diag.latch(D.CELL_IMBALANCE, 0)  # a warning for the monitor to flag
    start = ticks_ms()
    phase = 0
    silent_since = 0
    while ticks_diff(ticks_ms(), start) < 30000:
        t = ticks_ms()
        if not bus.is_open:
            bus.recv()
            sleep_ms(5)
            continue
        st.step(t, soc=7250, current=-125)
        done = st.reporter.completed
        if phase == 0 and done >= cycles:
            if not silent_ms:
                break
            phase = 1
            machine.perms[1] = False
            silent_since = t
        elif phase == 1 and ticks_diff(t, silent_since) >= silent_ms:
            phase = 2
            machine.perms[1] = True
        elif phase == 2 and done >= cycles + after:
            break
        sleep_ms(5)
    print("sent=%d errors=%d busy=%d cycles=%d" % (bus.tx_ok, bus.tx_errors, bus.tx_busy,
                                                  st.reporter.completed))
    port.close()


main(sys.argv[1:])
