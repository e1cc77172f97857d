# Tesla Model S module board protocol (bq76PL536A behind a daisy-chained UART):
# framing, CRC-8 and reply checks (frame), the register map (registers), unit
# conversions (convert) and reply plausibility (plausible). Import what you use from
# its submodule: names re-exported here would cost a board's heap a globals entry
# each, for nothing the firmware calls.
# Firmware: no allocation in the per-frame functions, no host imports.
