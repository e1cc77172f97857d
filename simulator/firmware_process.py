# The firmware as a separate process the plant looks after, as a board's hardware
# watchdog would: `pybms sim --scenario NAME --firmware "CMD"` starts CMD with the
# link paths appended (--tesla, --can, --plant), and restarts it when it stops
# petting the watchdog over the pin link for longer than the board's watchdog_ms
# (boards/unix.py), or when it exits. A restarted firmware comes up with every
# contactor open and reads its persisted state (app/persist.py): a latched fault
# stays latched. Restarts are counted and shown in the status line. Host only.

import shlex
import subprocess
import time

from boards.unix import BOARD

GRACE_S = 10.0   # after a (re)start: imports and the first passes before pets are due


class FirmwareProcess:
    def __init__(self, command, paths, pins, watchdog_s=None, log=None, grace_s=GRACE_S):
        self.argv = shlex.split(command) + [
            "--tesla", paths["tesla_uart"], "--can", paths["can_slcan"],
            "--plant", paths["plant_link"]]
        self.pins = pins                 # simulator.pin_link.PinLinkServer (counts pets)
        self.watchdog_s = watchdog_s if watchdog_s is not None else BOARD["watchdog_ms"] / 1000.0
        self.log = log                   # file for the firmware's output, or None
        self.grace_s = grace_s
        self.proc = None
        self.restarts = 0
        self.exits = 0
        self._started = 0.0
        self._pets = 0
        self._last_pet = 0.0

    def start(self):
        out = self.log if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        self._started = self._last_pet = time.monotonic()
        self._pets = self.pins.pets

    def poll(self):
        """Call every plant step: restart a firmware that exited or stopped petting."""
        if self.proc is None:
            return
        now = time.monotonic()
        if self.pins.pets != self._pets:
            self._pets = self.pins.pets
            self._last_pet = now
        if self.proc.poll() is not None:
            self.exits += 1
            self._restart()
        elif now - max(self._last_pet, self._started + self.grace_s) > self.watchdog_s:
            self._restart()

    def _restart(self):
        self.stop()
        self.restarts += 1
        self.start()

    def stop(self):
        p = self.proc
        self.proc = None
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def status(self):
        return "fw restarts %d" % self.restarts
