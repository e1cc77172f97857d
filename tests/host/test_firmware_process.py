# The plant's stand-in for a hardware watchdog: a firmware process that stops
# petting (or exits) is restarted; one that pets is left alone.

import sys
import time

from simulator.firmware_process import FirmwareProcess

PATHS = {"tesla_uart": "/dev/null", "can_slcan": "/dev/null", "plant_link": "/dev/null"}


class Pins:
    pets = 0


def _run(fp, seconds, pet=False):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pet:
            fp.pins.pets += 1
        fp.poll()
        time.sleep(0.02)


def test_a_silent_firmware_is_restarted_and_a_petting_one_is_not():
    cmd = "%s -c 'import time; time.sleep(60)'" % sys.executable
    fp = FirmwareProcess(cmd, PATHS, Pins(), watchdog_s=0.3, grace_s=0.1)
    fp.start()
    try:
        _run(fp, 1.0, pet=True)
        assert fp.restarts == 0
        _run(fp, 1.5)
        assert fp.restarts >= 1 and fp.proc.poll() is None
        assert fp.argv[-6:] == ["--tesla", "/dev/null", "--can", "/dev/null", "--plant",
                                "/dev/null"]
    finally:
        fp.stop()


def test_a_firmware_that_exits_is_started_again():
    fp = FirmwareProcess("%s -c 'pass'" % sys.executable, PATHS, Pins(), grace_s=60)
    fp.start()
    try:
        _run(fp, 1.0)
        assert fp.exits >= 1 and fp.restarts >= 1
    finally:
        fp.stop()
