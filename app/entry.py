# What main.py calls: boot (app.boot, in stages), then the main loop for ever.
# This module stays loaded while the loop runs; app.boot, the configuration schema,
# the HAL and the board file are dropped once the BMS is built, so a board that
# loads .mpy files (their code is in RAM) keeps only the code its loop runs
# (docs/architecture.md, "Memory and CPU on the boards").

import gc
import sys

# What only building the App reads: fsm.table's transition rows, permissions and
# fail-safe pairs (the machine binds what it reads while running: fsm.machine).
# Forgotten once the App exists, its tuples with it (-2.1 KB held as .mpy).
BUILD_ONLY = ("fsm.table",)


def unload(names):
    """Forget the modules `names`: out of sys.modules and off their package, so
    the collector frees their code once nothing made from them is left. Only what
    the loop never calls may be given (app.boot's stage lists): a later import
    would load it afresh, costing the RAM this saves."""
    for name in names:
        if sys.modules.pop(name, None) is None:
            continue
        dot = name.rfind(".")
        parent = sys.modules.get(name[:dot]) if dot > 0 else None
        if parent is not None and name[dot + 1:] in parent.__dict__:
            delattr(parent, name[dot + 1:])


def application(cfg, parts, ring=None, now_ms=None, now_us=None, setting_units=None):
    """The App (not started) from `parts`: the boot's stage 3, app.boot.build() for
    tests and host tools, and the app bench. The garbage of everything built so far
    is collected first, so the App's per-cell arrays find contiguous room."""
    from app.application import App
    from drivers import clock
    gc.collect()
    app = App(cfg, parts, now_ms or clock.ticks_ms, now_us or clock.ticks_us, setting_units)
    app.ring = ring
    return app


def finish(prepared):
    """Stage 3 of the boot: the App from app.boot.prepare()'s (cfg, refused,
    setting_units, parts, ring), started with every contactor open; a refused
    configuration raises config_invalid before anything can close."""
    cfg, refused, setting_units, parts, ring = prepared
    from bms import diagnosis as D
    from drivers import clock
    app = application(cfg, parts, ring, setting_units=setting_units)
    unload(BUILD_ONLY)
    t = clock.ticks_ms()
    app.start(t)
    if refused is not None:
        app.diag.report(D.CONFIG_INVALID, True, t)
    return app


def start(argv, machine=None):
    """The BMS built from the board file and the configuration, started with every
    contactor open, and what only boot needed forgotten before the App is made."""
    from app import boot
    from boards import load
    opts = boot.options(argv)
    name = boot.board_name(opts)
    forget = boot.BOOT_ONLY + ("boards." + name,)
    prepared = boot.prepare(load(name), opts, machine, drop=unload)
    boot = load = None
    unload(forget)
    return finish(prepared)


def run(argv=None, passes=None, machine=None, out=None):
    """Build, start with everything open, loop for ever (or `passes` passes, for
    tests). A board file or command line the BMS cannot be built from (an unknown
    board, a missing link, voltage-mode precharge without a bus-voltage sense:
    boards.hal.BoardError and load's ValueError) is said in one line and ends the
    program (SystemExit 2) before any output is driven; a refused configuration is
    not this: it boots into Fault and says why (app.boot.config_or_defaults)."""
    try:
        app = start(sys.argv[1:] if argv is None else argv, machine)
    except ValueError as e:
        (out or print)("pybms: cannot start: %s" % e)
        raise SystemExit(2)
    from drivers.clock import sleep_ms
    n = 0
    while passes is None or n < passes:
        app.run_pass()
        wait = app.sched.ms_to_next()
        if wait > 0:
            sleep_ms(wait if wait < 20 else 20)
        n += 1
    return app
