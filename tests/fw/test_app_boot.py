# app/boot.py builds the whole BMS from a board file's data alone: the same code for
# every board, with a fake `machine` recording what a board would create.

from app import boot
from boards import load
from bms import config
from tests.fw.test_boards import FakeMachine, FakePin


class BootMachine(FakeMachine):
    def __init__(self, rtc=(2000, 1, 1, 5, 0, 0, 12, 0)):
        FakeMachine.__init__(self)
        machine = self

        class RTC:   # as an ESP32's after power-up (2000) unless the test set it
            def datetime(self):
                return rtc

        class WDT:
            def __init__(self, timeout):
                machine.made.append(("WDT", timeout))
                self.feeds = 0

            def feed(self):
                self.feeds += 1

        class Pin(FakePin):
            def __init__(self, number, mode=None, pull=None, value=None):
                FakePin.__init__(self, number, mode, pull, 1 if value is None else value)

        self.WDT = WDT
        self.Pin = Pin
        self.RTC = RTC


def test_esp32_board_builds_every_part_from_its_data():
    m = BootMachine()
    cfg = config.make({"module_count": 2})
    app = boot.build(load("esp32_devkit"), cfg, {"--state": "/tmp/pybms-boot-test"}, machine=m)
    kinds = [x[0] for x in m.made]
    assert "UART" in kinds and "CAN" in kinds and ("WDT", 8000) in m.made, kinds
    p = app.parts
    assert p.connect is not None and p.reset is not None and p.watchdog is not None
    assert p.wall is not None and not p.wall.known   # an RTC, but unset: said so
    assert p.contactors.feedback is None       # not wired on this board: said so
    assert p.store is not None and p.current is None
    assert p.bus_voltage() == 0.0              # its ADC divider (GPIO34): voltage-mode precharge
    assert app.pack.cell_count() == 12
    app.start(0)
    assert app.machine.state_name == "Init"
    assert tuple(pin.value() for pin in p.contactors.pins) == (0, 0, 0)
    assert not any("utc_s" in line for line in app.ring.records())   # absent, not made up


def test_options_come_from_the_command_line():
    opts = boot.options(["--tesla", "/dev/pts/7", "--can", "/dev/pts/8", "--plant", "/dev/pts/9",
                         "--state", "s", "stray"])
    assert opts["--tesla"] == "/dev/pts/7" and opts["--can"] == "/dev/pts/8"
    assert opts["--plant"] == "/dev/pts/9" and opts["--state"] == "s"


def _refused_boot(text):
    path = "/tmp/pybms-boot-test-config.json"
    with open(path, "w") as f:
        f.write(text)
    said = []
    app = boot.start(load("esp32_devkit"), {"--config": path, "--state": "/tmp/pybms-boot-cfg"},
                     BootMachine(), said.append)
    return app, said


def test_a_refused_configuration_boots_safe_and_says_why():
    from bms import diagnosis as D
    from drivers import clock
    for text, why in (('{"cell_v_max": 9.5}', "cell_v_max"), ('{"cell_v_max": ', "JSON"),
                      ('[1, 2]', "pybms-boot-test-config.json"), ('{"no_such_setting": 1}', "")):
        app, said = _refused_boot(text)
        assert len(said) == 1 and "configuration refused" in said[0] and why in said[0], said
        assert app.diag.active[D.CONFIG_INVALID]
        for _ in range(5):
            app.run_pass()
        assert app.machine.state_name == "Fault", app.machine.state_name
        assert tuple(pin.value() for pin in app.parts.contactors.pins) == (0, 0, 0)
        assert app.limits.ccl_da == 0 and app.limits.dcl_da == 0
        app.operator_reset(clock.ticks_ms())      # no reset can make it connect
        for _ in range(3):
            app.run_pass()
        assert app.machine.state_name == "Fault"
        assert tuple(pin.value() for pin in app.parts.contactors.pins) == (0, 0, 0)


def test_a_missing_default_configuration_file_means_the_defaults():
    said = []
    cfg, refused = boot.config_or_defaults(None, said.append)
    assert refused is None and not said and cfg["module_count"] == config.make()["module_count"]
