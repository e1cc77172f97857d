# ESP32 DevKit (30-pin), as the original project wired it: Tesla UART1 on
# GPIO33/32, the ESP32's own CAN controller (TWAI) with an SN65HVD230
# transceiver on GPIO5/17 through machine.CAN (MicroPython's portable CAN API,
# once the ESP32 port has it), a 3-relay board, allow outputs, heater and LED,
# MCP3421 current ADC on I2C0 (GPIO21/22).

BOARD = {
    "name": "esp32_devkit",
    "port": "esp32",
    "tesla_uart": {"id": 1, "tx": 33, "rx": 32},
    "contactors": {"negative": 25, "precharge": 26, "positive": 27},
    # Auxiliary contacts not wired: no contactor_feedback diagnosis on this board
    # (a welded contact goes unnoticed; docs/architecture.md).
    "contactor_feedback": {"negative": None, "precharge": None, "positive": None},
    # See boards/rp2_pico.py: active-high keeps a resetting MCU from closing anything.
    "relay_active_low": False,
    "allow_charge": 18,
    "allow_discharge": 19,
    "heater": 4,
    "led": 2,
    "i2c": {"id": 0, "sda": 21, "scl": 22},
    "can": {"kind": "machine", "id": 0, "tx": 5, "rx": 17},
    "pack": "tesla",
    "connect_switch": 13,
    "reset_button": 14,
    "operator_active_low": True,
    # The switch's position at boot counts (off: stay disconnected).
    "connect_level_at_boot": True,
    "reset_hold_ms": 3000,
    "watchdog_ms": 8000,
    # Wall clock (drivers.wall_clock.WALL_SOURCES): the ESP32's RTC, valid once set (from
    # the host at deploy, `mpremote rtc --set`, or NTP on a networked board); until
    # then it reads 2000 and counts as unset: records carry uptime only.
    "wall_clock": "rtc",
    "state_path": "/pybms_state",
}
