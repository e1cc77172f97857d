# `pybms sim modules --count N [--cells V,V,..] [--noise RATE]`: the module-board
# emulator (simulator.tesla_modules, the same code a spare RP2040 can run) on a new
# pseudo-terminal. Prints the terminal's path on the first line; the BMS (CPython or
# the MicroPython unix port) opens that path as its module bus. Ctrl-C stops it.

import os
import signal
import sys
import tty

from bms import units
from drivers.posix_serial import PosixSerial
from simulator.tesla_modules import ModuleChain, parse_cells


def add_arguments(parser):
    parser.add_argument("--count", type=int, default=2, help="boards in the chain (1..62)")
    parser.add_argument("--cells", default="3.7",
                        help="cell voltages in V, comma separated, repeated over all cells")
    parser.add_argument("--temps", default="25", help="thermistor temperatures in degC, repeated")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="probability per byte of a dropped, corrupted or inserted byte")
    parser.add_argument("--seed", type=int, default=1, help="noise generator seed")
    parser.add_argument("--stats", action="store_true", help="print frame and fault counts on exit")


def _chain(args, uart):
    from tools.cli import UsageError
    if not 1 <= args.count <= 62:
        raise UsageError("--count must be 1..62")
    if not 0.0 <= args.noise <= 1.0:
        raise UsageError("--noise is a probability per byte, 0..1")
    try:
        cells = parse_cells(args.cells, args.count)
        temps = [units.dc(float(t)) for t in args.temps.split(",") if t.strip()]
    except ValueError as e:
        raise UsageError(str(e))
    if not temps or any(not -400 <= t <= 1300 for t in temps):
        raise UsageError("--temps must be degC values within -40..130")
    temps = (temps * 2)[:2]
    return ModuleChain(uart, args.count, cells_mv=cells, temps_dc=temps, noise=args.noise,
                       seed=args.seed)


def serve(args):
    master, slave = os.openpty()
    tty.setraw(slave)   # raw before anyone writes: a cooked slave would echo
    path = os.ttyname(slave)
    uart = PosixSerial(path, fd=master)
    chain = _chain(args, uart)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    # Ctrl-C must stop it even when started from a shell that ignores SIGINT for
    # background jobs (the ignore would be inherited).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(path, flush=True)
    print("%d boards, noise %g; Ctrl-C stops" % (args.count, args.noise), file=sys.stderr,
          flush=True)
    try:
        chain.run(lambda: bool(stop))
    except KeyboardInterrupt:
        pass
    finally:
        uart.close()
        os.close(slave)
        os.close(master)
    if args.stats:
        print("frames_in=%d frames_out=%d injected=%s" % (chain.frames_in, chain.frames_out,
              ",".join("%s:%d" % (k, n) for k, n in zip(("drop", "corrupt", "insert"),
                                                         chain.injected))), flush=True)
    return 0
