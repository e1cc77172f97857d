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
