# `pybms` console command. Subcommands are rows of COMMANDS: (name, module, help);
# the module provides add_arguments(parser) and run(args) -> exit status. Modules
# are imported only when their command runs, so one broken tool cannot break all.

import argparse
import sys

COMMANDS = (
    ("diagram", "tools.diagram", "draw the state machine from its table (mermaid, dot, svg)"),
    ("replay", "tools.replay", "feed a recorded event log through the firmware state machine"),
    ("bench", "tools.bench", "run a benchmark and print its figures"),
    ("monitor", "tools.monitor", "watch Victron CAN-bus BMS frames (decoded with the shipped DBC), flag gaps, CVL = 0, alarms"),
    ("sim", "tools.sim", "run the plant simulator (scenarios, links on pseudo-terminals) or the module-board chain alone"),
)


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


def _load(module_name):
    module = __import__(module_name)
    for part in module_name.split(".")[1:]:
        module = getattr(module, part)
    return module


def build_parser():
    parser = argparse.ArgumentParser(prog="pybms", description="pyBMS host tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name, text in COMMANDS:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(_module=module_name, _broken=None)
        try:
            _load(module_name).add_arguments(p)
        except Exception as e:  # report it when that command is used, not for all
            p.set_defaults(_broken="%s: %s" % (type(e).__name__, e))
            p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args._broken:
        print("pybms %s is unavailable: %s" % (args.command, args._broken), file=sys.stderr)
        return 1
    try:
        return _load(args._module).run(args) or 0
    except UsageError as e:
        print("pybms %s: %s" % (args.command, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
