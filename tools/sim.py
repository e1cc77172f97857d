# `pybms sim NAME`: simulators as rows (name, module, help). Each module provides
# add_arguments(parser) and serve(args) -> exit status. Host only.

SIMULATORS = (
    ("modules", "tools.sim_modules", "a chain of Tesla module boards on a new pseudo-terminal"),
)


def add_arguments(parser):
    sub = parser.add_subparsers(dest="simulator", metavar="SIMULATOR")
    sub.required = True
    from tools.cli import _load
    for name, module_name, text in SIMULATORS:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(_sim=module_name)
        _load(module_name).add_arguments(p)


def run(args):
    from tools.cli import _load
    return _load(args._sim).serve(args)
