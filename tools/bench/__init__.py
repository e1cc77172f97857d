# `pybms bench NAME`: each benchmark is a row (name, module, help); the module's
# run(args) prints a readable table and ends with one line of key=value figures.

BENCHES = (
    ("app", "tools.bench.app", "the whole application on 32-bit MicroPython and an emulated Cortex-M0: smallest heap, bytes per pass, per-task timing, CAN gap"),
    ("e2e", "tools.bench.e2e", "fault scenarios end to end: fault visible to contactors open, to the 0x35A alarm, largest CAN gap; normal: wall time per simulated hour in process and over ptys"),
    ("fsm", "tools.bench.state_machine", "events per second through the firmware state machine"),
    ("can", "tools.bench.can", "Victron frame set: build time and bytes allocated per transmit cycle on MicroPython"),
    ("heap", "tools.bench.heap", "heap of the firmware core on a 32-bit MicroPython, precompiled and frozen"),
    ("plant", "tools.bench.plant", "plant simulator alone: simulated days per wall-clock second, 2S and 16S2P"),
    ("soc", "tools.bench.soc", "state of charge against the plant's truth over 30 simulated days: RMS/max error of the estimator, each correction off, a plain counter, the voltage estimate; learned capacity"),
    ("charge", "tools.bench.charge", "charge control and balancing vs the previous policy on the plant: balance speed, CVL overshoot, CCL toggles, float hours"),
    ("tesla", "tools.bench.tesla", "module bus: wire bytes vs minimum, cycle time and Python share on MicroPython, fuzz figures"),
)


def add_arguments(parser):
    parser.add_argument("name", choices=[b[0] for b in BENCHES], help="which benchmark")
    parser.add_argument("--quick", action="store_true",
                        help="a short run (used by the tests); figures are less steady")
    parser.add_argument("--seeds", default="",
                        help="soc: comma-separated seeds (default 15,16,17,18,19); the last "
                        "line reports the worst")
    parser.add_argument("--frames", type=int, default=0,
                        help="frames per error case (tesla; default 1000000, --quick 3000)")


def run(args):
    from tools.cli import _load
    for name, module_name, _text in BENCHES:
        if name == args.name:
            return _load(module_name).run(args)
    return 2
