# Tesla Model S module board protocol (bq76PL536A behind a daisy-chained UART):
# framing, CRC-8, reply checks, register map and unit conversions.
# Firmware: no allocation in the per-frame functions, no host imports.

from protocols.tesla.frame import (  # noqa: F401
    crc8, write_frame, read_frame, pack_write, pack_read, check_reply, parse_reply,
    reply_length, error_name, ERROR_NAMES, ERROR_COUNT, OK, E_TIMEOUT, E_SHORT,
    E_LONG, E_ADDRESS, E_REGISTER, E_LENGTH, E_CRC, E_DATA, E_NOT_READY,
)
from protocols.tesla.convert import (  # noqa: F401
    cell_mv, module_mv, temp_dc, cell_raw, module_raw, temp_raw, cov_code, cuv_code,
    ot_code, cb_time_code,
)
