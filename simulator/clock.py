# One simulated clock for the whole plant and, in process, for the firmware.
# Accelerated mode (speed None) runs as fast as the CPU allows; real-time mode
# (speed 1, or X times faster) paces the simulation against the wall clock so
# separate processes on the links see time pass at that rate. Host only.

import time

from drivers.clock import TICKS_PERIOD


class SimClock:
    def __init__(self, speed=None, start_s=0.0):
        if speed is not None and not speed > 0:
            raise ValueError("speed must be a positive factor (or None: as fast as possible)")
        self.speed = speed
        self.t_s = start_s
        self._wall0 = time.monotonic()
        self._sim0 = start_s
        self._step_wall = self._wall0
        self._last_chain = 0
        self._slept_ms = 0      # firmware waits inside the current step (sleep_ms)

    def ms(self):
        return int(self.t_s * 1000.0 + 0.5)

    def ticks(self):
        """Milliseconds as MicroPython ticks (wrapping at TICKS_PERIOD)."""
        return self.ms() & (TICKS_PERIOD - 1)

    def advance(self, dt):
        self.t_s += dt
        self._step_wall = time.monotonic()
        self._slept_ms = 0

    def sleep_ms(self, ms):
        """A firmware wait inside a step, in simulated time: it costs no wall time."""
        if ms > 0:
            self._slept_ms += ms

    def pace(self):
        """Real-time mode: sleep until the wall clock has caught up with simulated
        time. Returns how far behind the wall clock the simulation is (s, >= 0)."""
        if self.speed is None:
            return 0.0
        due = self._wall0 + (self.t_s - self._sim0) / self.speed
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
            return 0.0
        return now - due

    def chain_ticks(self):
        """Ticks for a module-board emulator driven in the same process: simulated
        time plus the firmware's waits inside this step (sleep_ms) plus the wall time
        since the step began, so a bus master that waits a few milliseconds for an
        ADC conversion sees the conversion finish. Never goes backwards."""
        extra = self._slept_ms + int((time.monotonic() - self._step_wall) * 1000.0)
        t = self.ms() + extra
        if t < self._last_chain:
            t = self._last_chain
        self._last_chain = t
        return t & (TICKS_PERIOD - 1)
