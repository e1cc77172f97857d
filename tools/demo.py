# `pybms demo [--scenario NAME] [--seconds N] [--speed X] [--events-out FILE.jsonl]
#             [--can-out FILE.log] [--truth-out FILE]`
# The firmware that would ship to a board, unchanged, under MicroPython, attached
# over pseudo-terminals to the simulated battery system (plant, module boards,
# contactors, current sensor, Victron GX), with a live view and a summary. The
# plant runs X times faster than the wall clock; the firmware runs in real time
# (its own clock), so X is bounded by what the link allows: at 2x a CAN frame a
# second already reaches the GX every 2 simulated seconds, inside its 3 s timeout.
# Ctrl-C stops everything it started. Writes the firmware's event log
# (docs/event-log.md), a candump log of every frame the firmware sent and the
# plant's truth when asked. Host only; machinery in tools/demo_run.py, screen in
# tools/demo_view.py.

import signal
import sys
import time

DEFAULT_SCENARIO = "normal"
DEFAULT_SECONDS = 180.0     # simulated: 90 s of wall time at the default speed
DEFAULT_SPEED = 2.0
LINK_SPEED_MAX = 2.5        # above it the GX (3 s timeout) would lose a 1 s-period BMS


def add_arguments(parser):
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO,
                        help="plant scenario (pybms sim --list); default normal")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                        help="simulated seconds to run (default %g)" % DEFAULT_SECONDS)
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                        help="simulated seconds per wall second (default %g; the firmware "
                             "keeps real time)" % DEFAULT_SPEED)
    parser.add_argument("--events-out", metavar="FILE.jsonl",
                        help="write the firmware's event log (replays with pybms replay --check)")
    parser.add_argument("--can-out", metavar="FILE.log",
                        help="write every CAN frame the firmware sent, candump format")
    parser.add_argument("--truth-out", metavar="FILE", help="write the plant's truth (CSV)")
    parser.add_argument("--pypi", action="store_true",
                        help="use the PyPI unix port even when the 32-bit frozen build is possible")


def run(args):
    from simulator import scenario as S
    from tools.cli import UsageError
    from tools import demo_interp
    from tools.demo_run import DemoError, DemoRun
    from tools.demo_view import View, summary
    if args.scenario not in S.names():
        raise UsageError("unknown scenario %r (pybms sim --list)" % args.scenario)
    if not args.seconds > 0:
        raise UsageError("--seconds must be > 0")
    if not args.speed > 0:
        raise UsageError("--speed must be > 0")
    if args.speed > LINK_SPEED_MAX:
        print("note: at %gx the GX sees a 1 s CAN period as %g s; above %gx it declares the "
              "BMS lost" % (args.speed, args.speed, LINK_SPEED_MAX), file=sys.stderr)
    say = lambda text: print(text, file=sys.stderr, flush=True)
    interp = demo_interp.pypi(say) if args.pypi else demo_interp.choose(say=say)
    if interp is None:
        raise UsageError("no MicroPython: run `make setup` first")
    say("firmware: %s" % interp.label)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append("terminated"))
    signal.signal(signal.SIGHUP, lambda *a: stop.append("hang-up"))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    r = DemoRun(args.scenario, args.seconds, args.speed, interp, truth_out=args.truth_out)
    view = None
    status = 0
    reason = "finished"
    t0 = time.monotonic()
    try:
        # The view (and its DBC) first: once the firmware starts, the plant must
        # answer on every link without a pause, as hardware would.
        view = View(sys.stdout, interp.label)
        r.start()
        say("links: " + "  ".join("%s %s" % p for p in r.paths))
        while not r.done() and not stop:
            r.step()
            view.update(r, time.monotonic())
        if stop:
            reason = stop[0]
    except KeyboardInterrupt:
        reason = "stopped by Ctrl-C"
        status = 130
    except DemoError as e:
        reason = "firmware failed"
        print("\npybms demo: %s" % e, file=sys.stderr)
        status = 1
    finally:
        if view is not None:
            view.close()
        r.close()
    wall = time.monotonic() - t0
    if view is not None and r.started_wall is not None:
        for line in summary(r, wall, view.dec):
            print(line)
    print("  ended          %s" % reason)
    if args.events_out:
        for path in r.write_events(args.events_out):
            print("  event log      %s (pybms replay %s --check)" % (path, path))
    if args.can_out:
        r.write_candump(args.can_out)
        print("  CAN log        %s" % args.can_out)
    if args.truth_out and r.truth_rows:
        print("  truth          %s" % args.truth_out)
    return status
