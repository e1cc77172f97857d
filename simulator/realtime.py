# The plant in real time (or X times faster) with its links on pseudo-terminals,
# so the firmware under the MicroPython unix port, `pybms monitor` or a user's own
# tools attach as they would to hardware:
#   tesla_uart  the module-board ring (simulator/tesla_modules.py), raw bytes
#   can_slcan   the Victron CAN bus as SLCAN (the firmware's drivers/can_slcan.py)
#   plant_link  pins and I2C (drivers/plant_link.py): coils, feedback, heater,
#               operator switches, the current-sensor chip, the DC-bus voltage,
#               watchdog pet
# Host only. `pybms sim --scenario NAME` runs it.

import os
import sys
import time
import tty

from drivers.posix_serial import PosixSerial
from simulator.chips.ina228 import Ina228Model
from simulator.chips.mcp3421 import Mcp3421Model
from simulator.clock import SimClock
from simulator.pin_link import PinLinkServer
from simulator.plant import Plant
from simulator.slcan_host import SlcanHost
from simulator.tesla_modules import ModuleChain
from simulator.truth import TruthWriter

LOOP_WALL_S = 0.001        # one pass per wall millisecond: the bus master waits ~4 ms
MAX_STEP_S = 0.05          # at high speed the plant still steps at most this much
STATUS_EVERY_S = 1.0
WATCHDOG_S = 2.0           # a BMS that petted and then stopped this long is flagged
PULSE_S = 0.5              # the reset button is held this long (simulated time)


class Pty:
    """A pseudo-terminal whose slave path others open; we keep the master."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)     # raw before anyone writes: a cooked slave echoes
        self.path = os.ttyname(self.slave)
        self.port = PosixSerial(self.path, fd=self.master)

    def close(self):
        try:
            self.port.close()
        finally:
            for fd in (self.slave, self.master):
                try:
                    os.close(fd)
                except OSError:
                    pass


class RealTime:
    def __init__(self, scenario, speed=1.0, truth_path=None):
        self.scenario = scenario
        self.clock = SimClock(speed)
        self.ptys = {}
        self.truth = None
        self.plant = None
        try:
            for name in ("tesla_uart", "can_slcan", "plant_link"):
                self.ptys[name] = Pty()
            count = scenario.topology["series"] * scenario.topology["parallel"]
            self.chain = ModuleChain(self.ptys["tesla_uart"].port, count,
                                     clock=self.clock.chain_ticks)
            chip = Mcp3421Model(clock=self.clock.ticks) if scenario.sensor["kind"] == "hall" \
                else Ina228Model(clock=self.clock.ticks)
            self.truth = TruthWriter(truth_path) if truth_path else None
            self.plant = Plant(scenario, self.clock, chain=self.chain, truth=self.truth,
                               adc=chip, on_operator=self._operator)
            self.pins = PinLinkServer(self.ptys["plant_link"].port, [chip],
                                      analog={"bus_v": self.plant.bus_voltage})
            self.can = SlcanHost(self.ptys["can_slcan"].port, self.plant.can_receive)
        except Exception:
            self.close()
            raise
        self._release = {}          # input name -> simulated time to release it
        self.behind_s = 0.0         # how far the simulation lags the wall clock

    def paths(self):
        return [(name, p.path) for name, p in self.ptys.items()]

    def _operator(self, kind):
        # `connect` is a switch (held), `reset` a button (pressed for PULSE_S).
        if kind == "operator_reset":
            self.pins.set_input("reset", 1)
            self._release["reset"] = self.clock.t_s + PULSE_S
        else:
            self.pins.set_input("connect", 1 if kind == "operator_connect" else 0)

    def step(self, dt):
        clock = self.clock
        self.chain.step(clock.chain_ticks())
        wall = time.monotonic()
        self.can.service(wall)
        self.can.keep_open(wall)
        self.pins.service(wall)
        out = self.pins.outputs
        self.plant.set_coils(out["negative"], out["precharge"], out["positive"])
        self.plant.set_heater(out["heater"])
        self.plant.step(dt)
        fb = self.plant.feedback()
        self.pins.set_input("negative_fb", fb[0])
        self.pins.set_input("precharge_fb", fb[1])
        self.pins.set_input("positive_fb", fb[2])
        for name, until in list(self._release.items()):
            if clock.t_s >= until:
                self.pins.set_input(name, 0)
                del self._release[name]
        while self.plant.gx_outbox:
            self.can.send(*self.plant.gx_outbox.pop(0))

    def status(self):
        lag = " | BEHIND %.1fs (CPU)" % self.behind_s if self.behind_s > 0.5 else ""
        if self.pins.pets and not self.pins.watchdog_ok(time.monotonic(), WATCHDOG_S):
            lag += " | WATCHDOG: no pet for %.0fs" % (time.monotonic() - self.pins.last_pet_s)
        return "%s | tesla %d/%d can %d err %d | pins %d err %d pets %d%s" % (
            self.plant.status_line(), self.chain.frames_in, self.chain.frames_out,
            self.can.frames, self.can.errors, self.pins.lines, self.pins.errors, self.pins.pets,
            lag)

    def run(self, duration_s=None, stop=None, out=sys.stderr):
        end = self.scenario.duration_s if duration_s is None else duration_s
        speed = self.clock.speed or 1.0
        dt = min(MAX_STEP_S, LOOP_WALL_S * speed)
        next_status = time.monotonic()
        tty_out = out.isatty()
        while self.clock.t_s < end and not (stop and stop()):
            self.step(dt)
            self.behind_s = self.clock.pace()
            now = time.monotonic()
            if now >= next_status:
                next_status = now + (STATUS_EVERY_S if tty_out else 10 * STATUS_EVERY_S)
                out.write(("\r" if tty_out else "") + self.status() + ("" if tty_out else "\n"))
                out.flush()
        if tty_out:
            out.write("\n")

    def close(self):
        if getattr(self, "truth", None) is not None:
            if getattr(self, "plant", None) is not None:
                self.truth.write(self.plant.truth_row())   # the state at the stop, too
            self.truth.close()
            self.truth = None
        for p in self.ptys.values():
            p.close()
        self.ptys = {}
