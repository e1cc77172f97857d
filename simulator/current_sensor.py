# The pack current as a sensor sees it: offset, gain error, noise, a first-order
# bandwidth limit, and failures (railed high or low, disconnected), in the two
# forms users wire: a bidirectional hall transducer (0-5 V, zero near mid-scale)
# through a resistor divider into an MCP3421 18-bit ADC, and a shunt into an
# INA228. This file is the analog side; the register-level chips
# (simulator/chips/mcp3421.py, ina228.py) take its voltages with set_input_v /
# set_shunt_v / set_bus_v. Host only.

import math
import random

FAULTS = (None, "railed_high", "railed_low", "disconnected")


class SensorError:
    """Offset, gain error, noise and bandwidth shared by both forms (in amps)."""

    def __init__(self, offset_a=0.0, gain_error=0.0, noise_a=0.0, bandwidth_hz=None, seed=1):
        self.offset_a = offset_a
        self.gain_error = gain_error
        self.noise_a = noise_a
        self.bandwidth_hz = bandwidth_hz
        self._rng = random.Random(seed)
        self._filtered = None

    def apply(self, true_a, dt):
        x = true_a
        if self.bandwidth_hz:
            if self._filtered is None:
                self._filtered = x
            else:
                a = math.exp(-dt * 2.0 * math.pi * self.bandwidth_hz)
                self._filtered = x + (self._filtered - x) * a
            x = self._filtered
        x = x * (1.0 + self.gain_error) + self.offset_a
        if self.noise_a:
            x += self._rng.gauss(0.0, self.noise_a)
        return x


class HallSensor:
    """Bidirectional hall transducer: out = zero_v + I * v_per_a, clipped to its
    supply; a divider scales it into the ADC's input range.

    Defaults: +-200 A over 0.5..4.5 V (10 mV/A, zero at 2.5 V, as C2T-style parts
    are specified), a 0.4 divider so 0..5 V becomes 0..2 V, inside the MCP3421's
    +-2.048 V range at gain 1. Beyond its range the output stage saturates
    headroom_v inside its supply (0.25..4.75 V: an assumption, typical of a
    rail-to-rail output stage, not a datasheet number); only a fault reaches the
    rails: shorted to the supply or ground, or the cable off (the divider then pulls
    the ADC input to 0 V)."""

    def __init__(self, range_a=200.0, zero_v=2.5, span_v=2.0, supply_v=5.0, divider=0.4,
                 adc=None, error=None, headroom_v=0.25):
        self.range_a = range_a
        self.zero_v = zero_v
        self.v_per_a = span_v / range_a
        self.supply_v = supply_v
        self.divider = divider
        self.headroom_v = headroom_v
        self.adc = adc                 # an Mcp3421Model (set_input_v) or None
        self.error = error or SensorError()
        self.fault = None
        self.output_v = zero_v
        self.adc_v = zero_v * divider

    def update(self, true_a, dt):
        sensed = self.error.apply(true_a, dt)
        v = self.zero_v + sensed * self.v_per_a
        v = min(max(v, self.headroom_v), self.supply_v - self.headroom_v)
        if self.fault == "railed_high":
            v = self.supply_v
        elif self.fault == "railed_low":
            v = 0.0
        elif self.fault == "disconnected":
            v = 0.0                    # the divider pulls the ADC input to ground
        v = min(max(v, 0.0), self.supply_v)
        self.output_v = v
        self.adc_v = v * self.divider
        if self.adc is not None:
            self.adc.set_input_v(self.adc_v)
        return self.adc_v

    def amps_from_adc_v(self, adc_v):
        """What a perfectly calibrated reader computes from the ADC voltage."""
        return (adc_v / self.divider - self.zero_v) / self.v_per_a

    def reading_a(self, lsb_v=2.048 / (1 << 17)):
        """The current the ADC reports now, quantised to one LSB (18-bit MCP3421
        at gain 1: 15.625 uV), for truth files when no chip model is attached."""
        code = math.floor(self.adc_v / lsb_v)
        return self.amps_from_adc_v(code * lsb_v)


class ShuntSensor:
    """A shunt (default 500 A / 50 mV = 100 uOhm) read by an INA228: shunt voltage
    (312.5 nV LSB in its +-163.84 mV range), bus voltage, die temperature."""

    LSB_V = 312.5e-9

    def __init__(self, shunt_ohm=0.0001, adc=None, error=None):
        self.shunt_ohm = shunt_ohm
        self.adc = adc                 # an Ina228Model or None
        self.error = error or SensorError()
        self.fault = None
        self.shunt_v = 0.0

    def update(self, true_a, dt, bus_v=0.0, die_c=25.0):
        sensed = self.error.apply(true_a, dt)
        v = sensed * self.shunt_ohm
        if self.fault == "railed_high":
            v = 0.16384
        elif self.fault == "railed_low":
            v = -0.16384
        elif self.fault == "disconnected":
            v = 0.0
        v = min(max(v, -0.16384), 0.16384)
        self.shunt_v = v
        if self.adc is not None:
            self.adc.set_shunt_v(v)
            self.adc.set_bus_v(bus_v)
            self.adc.set_die_temp_c(die_c)
        return v

    def reading_a(self):
        code = math.floor(self.shunt_v / self.LSB_V + 0.5)
        return code * self.LSB_V / self.shunt_ohm
