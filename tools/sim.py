# `pybms sim`: the plant simulator and the stand-alone emulators.
#   pybms sim --list                       scenario names with a one-line description
#   pybms sim --scenario NAME|FILE.json [--speed X] [--truth FILE] [--duration S]
#                                          the plant in real time (X times faster), links
#                                          on pseudo-terminals, a live status line
#   pybms sim --scenario NAME --check [--duration S] [--truth FILE]
#                                          accelerated, in process, against today's firmware;
#                                          prints the scenario's expected-outcome checks
#   pybms sim modules ...                  only the module-board chain on a pty
# Stand-alone simulators are rows (name, module, help); each module provides
# add_arguments(parser) and serve(args) -> exit status. Host only.

import signal
import sys

SIMULATORS = (
    ("modules", "tools.sim_modules", "a chain of Tesla module boards on a new pseudo-terminal"),
)


def add_arguments(parser):
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--scenario", metavar="NAME",
                        help="run a scenario (a name from --list or a .json file)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated seconds per wall-clock second (default 1: real time)")
    parser.add_argument("--truth", metavar="FILE", help="write the truth file (CSV) here")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S simulated seconds (default: the scenario's)")
    parser.add_argument("--firmware", metavar="CMD",
                        help="start CMD (e.g. 'micropython main.py') with the link paths "
                             "appended and restart it when it stops petting the watchdog "
                             "(simulator/firmware_process.py)")
    parser.add_argument("--check", action="store_true",
                        help="run in process against today's firmware as fast as the CPU "
                             "allows, then check the scenario's expected outcome (exit 1 if not)")
    sub = parser.add_subparsers(dest="simulator", metavar="SIMULATOR")
    sub.required = False
    from tools.cli import _load
    for name, module_name, text in SIMULATORS:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(_sim=module_name)
        _load(module_name).add_arguments(p)


def _list():
    from simulator import scenario
    names = scenario.names()
    width = max(len(n) for n in names)
    for name in names:
        try:
            text = scenario.load(name).description
        except scenario.ScenarioError as e:
            text = "(broken: %s)" % e
        print("%-*s  %s" % (width, name, text))
    return 0


def _scenario(args):
    from simulator import scenario
    from simulator.realtime import RealTime
    from tools.cli import UsageError
    if not args.speed > 0 or args.speed > 100000:
        raise UsageError("--speed must be a factor > 0 (and at most 100000)")
    if args.duration is not None and not args.duration > 0:
        raise UsageError("--duration must be > 0 seconds")
    try:
        s = scenario.load(args.scenario)
    except scenario.ScenarioError as e:
        raise UsageError(str(e))
    if args.check:
        return _check(s, args)
    try:
        rt = RealTime(s, args.speed, args.truth)
    except OSError as e:
        raise UsageError("cannot start: %s" % e)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    # Ctrl-C must stop it even when started from a shell that ignores SIGINT for
    # background jobs (the ignore would be inherited).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fw = None
    try:
        print("scenario %s: %s" % (s.name, s.description), flush=True)
        for name, path in rt.paths():
            print("%-10s %s" % (name, path), flush=True)
        if s.firmware:
            print("firmware settings for this scenario: %s" % ", ".join(
                "%s=%s" % kv for kv in sorted(s.firmware.items())), file=sys.stderr, flush=True)
        print("speed %gx; Ctrl-C stops" % args.speed, file=sys.stderr, flush=True)
        if args.firmware:
            from simulator.firmware_process import FirmwareProcess
            fw = FirmwareProcess(args.firmware, dict(rt.paths()), rt.pins)
            fw.start()

        def stopping():
            if fw is not None:
                fw.poll()
            return bool(stop)
        try:
            rt.run(args.duration, stopping)
        except KeyboardInterrupt:
            print("\nstopped at t=%.1f s" % rt.clock.t_s, file=sys.stderr)
    finally:
        if fw is not None:
            fw.stop()
            print("firmware restarts by the watchdog or exits: %d" % fw.restarts, file=sys.stderr)
        rt.close()
    if args.truth:
        print("truth: %s" % args.truth, flush=True)
    return 0


def _check(s, args):
    import time
    from simulator import harness, outcome, truth
    from tools.cli import UsageError
    start = time.monotonic()
    try:
        h = harness.Harness(s, args.truth)
    except OSError as e:
        raise UsageError("cannot start: %s" % e)
    try:
        rows = h.run(args.duration)
    except KeyboardInterrupt:
        print("stopped at t=%.1f s" % h.clock.t_s, file=sys.stderr)
        rows = h.truth.rows
    finally:
        h.close()
    if args.truth:
        rows = truth.read(args.truth)
    wall = time.monotonic() - start
    print("%s: %.0f s simulated in %.1f s; BMS ends in %s" % (
        s.name, h.clock.t_s, wall, h.fw.machine.state_name))
    failed = 0
    for check, ok, message in outcome.evaluate(s.expect, rows):
        failed += not ok
        print("%s %s" % ("ok  " if ok else "FAIL", message))
    for p in s.pending:
        print("pending (firmware not written yet): %s" % p)
    return 1 if failed else 0


def run(args):
    from tools.cli import UsageError, _load
    if args.simulator:
        return _load(args._sim).serve(args)
    if args.list:
        return _list()
    if args.scenario:
        return _scenario(args)
    raise UsageError("give --list, --scenario NAME, or a simulator (%s)"
                     % ", ".join(n for n, _m, _t in SIMULATORS))
