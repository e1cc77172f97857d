# bq76PL536A register map as the Tesla Model S module board exposes it.
# Sources: TI bq76PL536A datasheet (SLUSAD3), collin80/TeslaBMS, bjpirt/pyBMS;
# see docs/tesla-bus.md for where they disagree.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

BROADCAST = const(0x3F)
MAX_ADDRESS = const(0x3E)   # 62 boards
CELLS = const(6)            # cells per module board
TEMPS = const(2)            # thermistors per module board

DEVICE_STATUS = const(0x00)
GPAI = const(0x01)
VCELL1 = const(0x03)
TEMPERATURE1 = const(0x0F)
TEMPERATURE2 = const(0x11)
ALERT_STATUS = const(0x20)
FAULT_STATUS = const(0x21)
COV_FAULT = const(0x22)
CUV_FAULT = const(0x23)
ADC_CONTROL = const(0x30)
IO_CONTROL = const(0x31)
CB_CTRL = const(0x32)
CB_TIME = const(0x33)
ADC_CONVERT = const(0x34)
SHDW_CONTROL = const(0x3A)
ADDRESS_CONTROL = const(0x3B)
RESET = const(0x3C)
FUNCTION_CONFIG = const(0x40)
IO_CONFIG = const(0x41)
CONFIG_COV = const(0x42)
CONFIG_COVT = const(0x43)
CONFIG_CUV = const(0x44)
CONFIG_CUVT = const(0x45)
CONFIG_OT = const(0x46)
CONFIG_OTT = const(0x47)
USER1 = const(0x48)
REGISTER_SPACE = const(0x50)  # everything above reads as 0

# Values written by the sequences proven on hardware.
RESET_VALUE = const(0xA5)
SHDW_UNLOCK = const(0x35)      # enables the next write to a group-3 register (0x40..)
ADC_ALL = const(0x3D)          # 6 cells + GPAI + both thermistors
IO_THERMISTORS = const(0x03)   # power both thermistor dividers
ADDRESS_REQUEST = const(0x80)  # ADDRESS_CONTROL: value is addr | 0x80

# DEVICE_STATUS bits (datasheet)
DS_DRDY = const(0x01)       # conversion data ready
DS_CBT = const(0x02)        # balance timer running
DS_UVLO = const(0x04)
DS_ECC_COR = const(0x08)
DS_RESERVED = const(0x10)   # always reads 0 on a healthy board
DS_ALERT = const(0x20)      # ALERT_STATUS has a bit set
DS_FAULT = const(0x40)      # FAULT_STATUS has a bit set
DS_ADDR_RQST = const(0x80)  # an address has been assigned

# ALERT_STATUS bits
AL_OT1 = const(0x01)
AL_OT2 = const(0x02)
AL_SLEEP = const(0x04)
AL_TSD = const(0x08)
AL_FORCE = const(0x10)
AL_ECC_ERR = const(0x20)
AL_PARITY = const(0x40)
AL_AR = const(0x80)         # set by reset: the board wants an address

# FAULT_STATUS bits
FS_COV = const(0x01)
FS_CUV = const(0x02)
FS_CRC = const(0x04)        # the board received a frame with a bad CRC
FS_POR = const(0x08)        # power-on reset happened
FS_FORCE = const(0x10)
FS_I_FAULT = const(0x20)

# Values after reset (bq76PL536A datasheet; the group-3 defaults are what Tesla
# programmed into the OTP, as TeslaBMS read them: 4.45 V COV, 1.5 V CUV, 65 C OT).
RESET_ALERT = AL_AR
RESET_FAULT = FS_POR
OTP_DEFAULTS = (0x10, 0x80, 0x31, 0x81, 0x08, 0x81, 0x66, 0xFF)  # 0x40..0x47

# (register, name, bytes) in address order: what a poll cycle and the emulator use.
# Meanings of every bit and code: docs/tesla-bus.md.
REGISTERS = (
    (DEVICE_STATUS, "DEVICE_STATUS", 1), (GPAI, "GPAI", 2), (VCELL1, "VCELL1..6", 12),
    (TEMPERATURE1, "TEMPERATURE1", 2), (TEMPERATURE2, "TEMPERATURE2", 2),
    (ALERT_STATUS, "ALERT_STATUS", 1), (FAULT_STATUS, "FAULT_STATUS", 1),
    (COV_FAULT, "COV_FAULT", 1), (CUV_FAULT, "CUV_FAULT", 1),
    (ADC_CONTROL, "ADC_CONTROL", 1), (IO_CONTROL, "IO_CONTROL", 1), (CB_CTRL, "CB_CTRL", 1),
    (CB_TIME, "CB_TIME", 1), (ADC_CONVERT, "ADC_CONVERT", 1),
    (SHDW_CONTROL, "SHDW_CONTROL", 1), (ADDRESS_CONTROL, "ADDRESS_CONTROL", 1),
    (RESET, "RESET", 1), (FUNCTION_CONFIG, "FUNCTION_CONFIG", 1), (IO_CONFIG, "IO_CONFIG", 1),
    (CONFIG_COV, "CONFIG_COV", 1), (CONFIG_COVT, "CONFIG_COVT", 1),
    (CONFIG_CUV, "CONFIG_CUV", 1), (CONFIG_CUVT, "CONFIG_CUVT", 1),
    (CONFIG_OT, "CONFIG_OT", 1), (CONFIG_OTT, "CONFIG_OTT", 1),
)
