# The module board's side of protocols.tesla.convert and .registers: a value as the
# ADC count a board reports it (the inverses of convert's conversions), the balance
# time a CB_TIME code stands for, what a board's registers hold after a reset, and
# the register map by name. The emulator (simulator/tesla_board.py), the tests and
# the tools use it; the BMS never imports it, so on a board it costs flash, not the
# heap (.mpy files cost RAM only once imported).

from protocols.tesla import registers as R
from protocols.tesla.convert import ADC_MAX, RAW_AT_T, RAW_MAX, RAW_MIN, T_FIRST_DC, T_STEP_DC


def cell_raw(mv):
    """Inverse of convert.cell_mv: the ADC count nearest to mv."""
    raw = (mv * 16383 + 3125) // 6250
    return 0 if raw < 0 else (ADC_MAX if raw > ADC_MAX else raw)


def module_raw(mv):
    """Inverse of convert.module_mv."""
    raw = (mv * 16383 + 16666) // 33333
    return 0 if raw < 0 else (ADC_MAX if raw > ADC_MAX else raw)


def temp_raw(dc, channel=0):
    """Inverse of convert.temp_dc: the count that reads as dc (clamped to the table)."""
    last = len(RAW_AT_T) - 1
    i = (dc - T_FIRST_DC) // T_STEP_DC
    if i < 0:
        raw = RAW_MIN
    elif i >= last:
        raw = RAW_MAX
    else:
        r0 = RAW_AT_T[i]
        frac = dc - (T_FIRST_DC + i * T_STEP_DC)
        raw = r0 + ((RAW_AT_T[i + 1] - r0) * frac * 2 + T_STEP_DC) // (2 * T_STEP_DC)
    if channel:  # invert convert.ts2_as_ts1 (nearest count)
        raw = ((raw + 2) * 33068 + 16523) // 33046 - 9
    return raw


def cb_time_ms(code):
    """Balance time a CB_TIME code (convert.cb_time_code) stands for, in ms."""
    n = code & 0x3F
    return n * 60000 if code & 0x80 else n * 1000


REGISTER_SPACE = 0x50  # everything from here up reads as 0

# Values after reset (bq76PL536A datasheet; the group-3 defaults are what Tesla
# programmed into the OTP, as TeslaBMS read them: 4.45 V COV, 1.5 V CUV, 65 C OT).
RESET_ALERT = R.AL_AR
RESET_FAULT = R.FS_POR
OTP_DEFAULTS = (0x10, 0x80, 0x31, 0x81, 0x08, 0x81, 0x66, 0xFF)  # 0x40..0x47

# (register, name, bytes) in address order. Meanings of every bit and code:
# docs/tesla-bus.md.
REGISTERS = (
    (R.DEVICE_STATUS, "DEVICE_STATUS", 1), (R.GPAI, "GPAI", 2), (R.VCELL1, "VCELL1..6", 12),
    (R.TEMPERATURE1, "TEMPERATURE1", 2), (R.TEMPERATURE2, "TEMPERATURE2", 2),
    (R.ALERT_STATUS, "ALERT_STATUS", 1), (R.FAULT_STATUS, "FAULT_STATUS", 1),
    (R.COV_FAULT, "COV_FAULT", 1), (R.CUV_FAULT, "CUV_FAULT", 1),
    (R.ADC_CONTROL, "ADC_CONTROL", 1), (R.IO_CONTROL, "IO_CONTROL", 1),
    (R.CB_CTRL, "CB_CTRL", 1), (R.CB_TIME, "CB_TIME", 1), (R.ADC_CONVERT, "ADC_CONVERT", 1),
    (R.SHDW_CONTROL, "SHDW_CONTROL", 1), (R.ADDRESS_CONTROL, "ADDRESS_CONTROL", 1),
    (R.RESET, "RESET", 1), (R.FUNCTION_CONFIG, "FUNCTION_CONFIG", 1),
    (R.IO_CONFIG, "IO_CONFIG", 1), (R.CONFIG_COV, "CONFIG_COV", 1),
    (R.CONFIG_COVT, "CONFIG_COVT", 1), (R.CONFIG_CUV, "CONFIG_CUV", 1),
    (R.CONFIG_CUVT, "CONFIG_CUVT", 1), (R.CONFIG_OT, "CONFIG_OT", 1),
    (R.CONFIG_OTT, "CONFIG_OTT", 1),
)
