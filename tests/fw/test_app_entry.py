# app.entry: what main.py runs. Boot happens in stages, and what only boot uses
# (the configuration schema, the HAL, app.boot itself, the board file) is forgotten
# once the BMS is built: on a board that loads .mpy files that code is RAM.

import sys

from app import entry
from tests.fw.test_app_boot import BootMachine

BOOT_ONLY = ("bms.config", "boards.hal", "app.boot", "boards.esp32_devkit")
STATE = "/tmp/pybms-entry-test"


class SilentBusMachine(BootMachine):
    """An ESP32 whose module bus is wired but nobody answers."""

    def __init__(self):
        BootMachine.__init__(self)

        class UART:
            def __init__(self, *args, **kwargs):
                pass

            def write(self, data):
                return len(data)

            def any(self):
                return 0

            def readinto(self, buf, nbytes=-1):
                return None

        self.UART = UART


def _argv():
    import os
    for suffix in (".a", ".b", "_soc.a", "_soc.b"):   # no fault latched by an earlier run
        try:
            os.remove(STATE + suffix)
        except OSError:
            pass
    return ["--board", "esp32_devkit", "--state", STATE]


def _run_isolated(fn):
    """Run fn() and, under CPython, put sys.modules back: there every test shares
    one interpreter, and a module loaded afresh later would have new classes.
    (MicroPython runs each test module in an interpreter of its own.)"""
    if sys.implementation.name == "micropython":
        return fn()
    saved = dict(sys.modules)
    try:
        return fn()
    finally:
        for name in list(sys.modules):
            if name not in saved:
                del sys.modules[name]
        sys.modules.update(saved)


def test_start_builds_the_bms_and_forgets_what_only_boot_used():
    def go():
        app = entry.start(_argv(), SilentBusMachine())
        gone = [name for name in BOOT_ONLY if name not in sys.modules]
        return app, gone
    app, gone = _run_isolated(go)
    assert gone == list(BOOT_ONLY), repr(gone)
    assert app.machine.state_name == "Init"
    assert tuple(pin.value() for pin in app.parts.contactors.pins) == (0, 0, 0)
    # Nothing the loop runs needs them: passes run, and no pass loads them again.
    before = [name for name in BOOT_ONLY if name in sys.modules]
    for _ in range(20):
        app.run_pass()
    assert [name for name in BOOT_ONLY if name in sys.modules] == before


def test_run_loops_the_given_number_of_passes():
    app = _run_isolated(lambda: entry.run(_argv(), passes=3, machine=SilentBusMachine()))
    assert app.sched.passes == 3, app.sched.passes
    assert app.task_errors == 0 and app.contactors.all_open()


def test_unload_forgets_a_module_and_its_name_on_the_package():
    def go():
        import tests.fw.alloc  # noqa: F401
        pkg = sys.modules["tests.fw"]
        assert "alloc" in pkg.__dict__
        entry.unload(("tests.fw.alloc", "no.such.module"))
        return "tests.fw.alloc" in sys.modules, "alloc" in pkg.__dict__
    assert _run_isolated(go) == (False, False)


def test_a_refused_configuration_through_the_entry_faults_and_still_drops_the_schema():
    from bms import diagnosis as D
    path = "/tmp/pybms-entry-config.json"
    with open(path, "w") as f:
        f.write('{"cell_v_max": 9.5}')

    def go():
        app = entry.start(_argv() + ["--config", path], SilentBusMachine())
        return app, "bms.config" in sys.modules
    app, schema_loaded = _run_isolated(go)
    assert not schema_loaded
    assert app.diag.active[D.CONFIG_INVALID]
    for _ in range(5):
        app.run_pass()
    assert app.machine.state_name == "Fault", app.machine.state_name
    assert app.contactors.all_open() and app.limits.ccl_da == 0 and app.limits.dcl_da == 0


def test_a_board_the_bms_cannot_be_built_from_is_one_line_and_exit_2():
    for argv, why in ((["--board", "no_such_board"], "unknown board"),
                      (["--board", "unix"], "module bus pty")):
        said = []
        try:
            _run_isolated(lambda: entry.run(argv, passes=1, out=said.append))
            raise AssertionError("started")
        except SystemExit as e:
            assert e.args[0] == 2 if e.args else False, e.args
        assert len(said) == 1 and said[0].startswith("pybms: cannot start: ") and why in said[0], said
