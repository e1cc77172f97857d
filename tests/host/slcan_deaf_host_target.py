# Firmware side of the "host that never reads" test: SLCAN on a pty whose other
# end writes adapter commands and frames but never reads. Runs under MicroPython
# and CPython. Usage: slcan_deaf_host_target.py PTY MS
# Prints "ready", then runs the BMS loop's CAN part (recv() up to 8 times and one
# send() per pass) for MS milliseconds and prints its counters; a call that blocks
# keeps it from ever printing them.

import sys

from drivers.can_slcan import SlcanBus
from drivers.clock import ticks_diff, ticks_ms

try:
    from time import ticks_us, ticks_diff as us_diff   # MicroPython
except ImportError:
    import time

    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def us_diff(a, b):
        return a - b
from drivers.posix_serial import PosixSerial


def main(argv):
    port = PosixSerial(argv[0])
    run_ms = int(argv[1])
    bus = SlcanBus(port, opened=True)
    frame = bytearray(b"\x28\x02\xf4\x01\xe8\x03\xe0\x01")
    print("ready")
    start = ticks_ms()
    passes = 0
    worst_us = 0   # a figure for the record, not asserted: timing belongs in benches
    while ticks_diff(ticks_ms(), start) < run_ms:
        for _ in range(8):
            t0 = ticks_us()
            got = bus.recv()
            worst_us = max(worst_us, us_diff(ticks_us(), t0))
            if not got:
                break
        bus.send(0x351, frame)
        passes += 1
    print("passes=%d commands=%d answers_dropped=%d rx_frames=%d rx_errors=%d tx_ok=%d tx_busy=%d"
          " recv_bounded=%d worst_recv_us=%d"
          % (passes, bus.commands, bus.answers_dropped, bus.rx_frames, bus.rx_errors, bus.tx_ok,
             bus.tx_busy, bus.recv_bounded, worst_us))
    port.close()


main(sys.argv[1:])
