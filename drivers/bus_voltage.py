# The inverter's DC-bus voltage, read during precharge: the only way the BMS can
# tell a charged bus (close main positive) from a shorted or oversized one (stop,
# latch precharge_failed). A board without it precharges for a fixed time and
# cannot see a short (docs/architecture.md, "Bus voltage").
#
# Two sources give integer millivolts through read_mv(), raising OSError when they
# cannot tell: an ADC behind a resistor divider (AdcDivider, boards) and the plant
# link's analog input (drivers/plant_link.py, the unix port). BusVoltage turns
# either into what the application asks for: volts, or None when there is no
# trustworthy reading. Never a guessed value: no reading means no `bus_voltage`
# event, so a voltage-mode precharge times out and fails safe.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

ERANGE = const(34)        # the ADC sits at full scale: the bus is somewhere above it
ADC_TOP = const(4095)     # 12 bits: what the RP2040 and ESP32 ADCs resolve
ADC_SHIFT = const(4)      # read_u16() scales 12 bits to 16; undo it (keeps products small ints)


def divider_full_scale_mv(adc_full_scale_mv, ohm_top, ohm_bottom):
    """Bus millivolts that put the ADC at full scale through the divider."""
    return adc_full_scale_mv * (ohm_top + ohm_bottom) // ohm_bottom


class AdcDivider:
    """machine.ADC at the bottom of a divider from the bus's positive rail to the
    board's ground (the pack's negative). full_scale_mv: bus millivolts at the
    ADC's top count (divider_full_scale_mv, then calibrated against a meter)."""

    def __init__(self, adc, full_scale_mv):
        if full_scale_mv <= 0 or full_scale_mv > 250000:
            # 250 V keeps count * full_scale a small int on a 32-bit board (< 2**30)
            raise ValueError("bus voltage full scale %r mV out of 1..250000" % full_scale_mv)
        self.adc = adc
        self.full_scale_mv = full_scale_mv

    def read_mv(self):
        count = self.adc.read_u16() >> ADC_SHIFT
        if count >= ADC_TOP:
            raise OSError(ERANGE)
        return count * self.full_scale_mv // ADC_TOP


class BusVoltage:
    """volts() -> the DC-bus voltage in V, or None when the source failed (timeout,
    no answer, garbage, out of range). `errors` counts the failures; `last_mv` is
    the last good reading (for a status view), None before the first."""

    def __init__(self, source, max_mv):
        self.source = source
        self.max_mv = max_mv
        self.errors = 0
        self.reads = 0
        self.last_mv = None

    def read_mv(self):
        """Integer mV or None."""
        try:
            mv = self.source.read_mv()
        except OSError:
            self.errors += 1
            return None
        if mv is None or mv < 0 or mv > self.max_mv:
            # A negative bus or one beyond what the sense can measure is a broken
            # sensor or a corrupt line, not a voltage to act on.
            self.errors += 1
            return None
        self.reads += 1
        self.last_mv = mv
        return mv

    def volts(self):
        mv = self.read_mv()
        return None if mv is None else mv / 1000.0
