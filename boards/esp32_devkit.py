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
    # DC-bus voltage sense: divider from the bus's positive rail to ground (the
    # pack's negative) into GPIO34 (ADC1: ADC2 is taken by Wi-Fi), 11 dB
    # attenuation. 1 MOhm / 39 kOhm keeps a 60 V bus at ~2.3 V on the pin, where
    # the ESP32's ADC is still nearly linear; calibrate "adc_full_scale_mv" (nominal
    # 3100) against a meter. 100 nF and a clamp at the pin. None: no sense, time-mode
    # precharge only, blind to a shorted bus (see boards/rp2_pico.py).
    "bus_voltage": {"kind": "adc_divider", "pin": 34, "ohm_top": 1000000, "ohm_bottom": 39000,
                    "adc_full_scale_mv": 3100, "atten": "ATTN_11DB"},
    "can": {"kind": "machine", "id": 0, "tx": 5, "rx": 17},
    "pack": "tesla",
    "connect_switch": 13,
    "reset_button": 14,
    "operator_active_low": True,
    # The switch's position at boot counts (off: stay disconnected).
    "connect_level_at_boot": True,
    "reset_hold_ms": 3000,
    "watchdog_ms": 8000,
    # Wall clock (drivers.wall_clock.WALL_SOURCES): the ESP32's RTC, set by NTP
    # (drivers/ntp.py) whenever the Wi-Fi station is connected (connecting it is the
    # console/web issue's job; until then the device's own boot.py may), hourly, and
    # from the host at deploy (`mpremote rtc --set`). Never set, it reads 2000 and
    # counts as unset: records carry uptime only.
    "wall_clock": "ntp",
    # A name is resolved once while the BMS is built (DNS blocks); an IPv4 address
    # (your router, if it serves NTP) needs no DNS and works when Wi-Fi comes up later.
    "ntp_server": "pool.ntp.org",
    "state_path": "/pybms_state",
}
