# The bus master as the unix-port firmware runs it, for benchmarks and integration
# tests: `micropython tools/bench/tesla_master.py PTY COUNT CYCLES [key=value ...]`
# (also runs under CPython). Polls COUNT boards CYCLES times and prints one line:
#   RESULT key=value ...
# cycles, fresh (board readings with a new timestamp), wrong (fresh readings whose
# cells differ from cells_mv=, when given), us (wall time of all polls), wait_us
# (blocked in the UART's wait), sleep_us (ADC settling sleeps), tx, rx (bytes),
# alloc (bytes allocated by all the timed cycles on MicroPython, -1 on CPython),
# errors (failed frames), diag (active diagnosis ids joined by '+').
# Options: timeout=MS retries=N budget=N read_crc=0|1 cells_mv=MV poll_ms=MS

import sys

try:
    from time import ticks_diff, ticks_us, sleep_ms
except ImportError:  # CPython
    import time

    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b

    def sleep_ms(ms):
        time.sleep(ms / 1000)

import drivers.tesla_bus as tb
from bms import config
from bms.diagnosis import Diagnosis
from drivers.clock import ticks_ms
from drivers.posix_serial import PosixSerial


class TimedSerial(PosixSerial):
    waited = 0

    def wait(self, timeout_ms):
        t0 = ticks_us()
        r = PosixSerial.wait(self, timeout_ms)
        self.waited += ticks_diff(ticks_us(), t0)
        return r


slept = [0]


def timed_sleep(ms):
    t0 = ticks_us()
    sleep_ms(ms)
    slept[0] += ticks_diff(ticks_us(), t0)


def main(argv):
    path, count, cycles = argv[0], int(argv[1]), int(argv[2])
    opts = {}
    for a in argv[3:]:
        k, v = a.split("=")
        opts[k] = int(v)
    cfg = config.make({"module_count": count, "bus_timeout_ms": opts.get("timeout", 20),
                       "bus_retries": opts.get("retries", 2),
                       "bus_retry_budget": opts.get("budget", 16),
                       "bus_read_crc": bool(opts.get("read_crc", 0)),
                       "bus_reset_wait_ms": 0})
    uart = TimedSerial(path)
    diag = Diagnosis()
    tb.sleep_ms = timed_sleep
    bus = tb.TeslaBus(uart, cfg, diag)
    truth = opts.get("cells_mv", -1)
    poll_ms = opts.get("poll_ms", 0)
    bus.poll(ticks_ms())                   # discovery + first cycle, not timed
    uart.waited = 0
    slept[0] = 0
    tx0, rx0 = bus.link.tx_bytes, bus.link.rx_bytes
    errors0 = sum(bus.frame_errors)
    fresh = wrong = 0
    total = 0
    try:
        import gc
        gc.collect()
        gc.disable()
        alloc0 = gc.mem_alloc()
    except AttributeError:  # CPython: no gc.mem_alloc
        alloc0 = None
    for _ in range(cycles):
        t = ticks_ms()
        t0 = ticks_us()
        bus.poll(t)
        total += ticks_diff(ticks_us(), t0)
        for b in range(count):
            if bus.board_age_ms(b, t) == 0:
                fresh += 1
                if truth >= 0:
                    for c in range(6):
                        if bus.cell_mv(b * 6 + c) != truth:
                            wrong += 1
        if poll_ms:
            sleep_ms(poll_ms)
    alloc = -1
    if alloc0 is not None:
        alloc = gc.mem_alloc() - alloc0
        gc.enable()
    print("RESULT alloc=%d cycles=%d fresh=%d wrong=%d us=%d wait_us=%d sleep_us=%d tx=%d rx=%d "
          "errors=%d found=%d diag=%s" % (alloc, cycles, fresh, wrong, total, uart.waited, slept[0],
                                         bus.link.tx_bytes - tx0, bus.link.rx_bytes - rx0,
                                         sum(bus.frame_errors) - errors0, bus.found,
                                         "+".join(diag.active_ids()) or "-"))
    uart.close()


main(sys.argv[1:])
