# Raspberry Pi Pico (RP2040), 264 KB RAM: Tesla UART0 on GP0/GP1 (through a 5 V
# level shifter, isolation advised), an MCP2515 CAN module on SPI0, a 3-relay
# board for the contactors, allow-to-charge/discharge outputs, and an MCP3421
# current ADC on I2C0. Change the numbers to match your wiring; nothing else.

BOARD = {
    "name": "rp2_pico",
    "port": "rp2",
    "tesla_uart": {"id": 0, "tx": 0, "rx": 1},
    # GPIOs of the relays that drive main negative, precharge and main positive.
    "contactors": {"negative": 2, "precharge": 3, "positive": 4},
    # Auxiliary-contact inputs (same order), None where not wired. Not wired here:
    # then a welded contact or a coil that never pulls in goes unnoticed by the BMS
    # (the contactor_feedback diagnosis cannot run; docs/architecture.md says what
    # that costs). Wire them and put the GPIO numbers here.
    "contactor_feedback": {"negative": None, "precharge": None, "positive": None},
    # False: a HIGH output energises a relay. Keep it so: while the MCU resets or
    # is unpowered its pins float or are pulled low, which must mean "contactor
    # open, nothing allowed". An active-low relay board would read that as ON; use
    # one only with its own pull-ups guaranteeing released = off, then set True.
    "relay_active_low": False,
    "allow_charge": 6,
    "allow_discharge": 7,
    "heater": 8,
    "led": 25,
    "i2c": {"id": 0, "sda": 20, "scl": 21},
    # The inverter's DC-bus voltage (after main positive), read during precharge:
    # a divider from the bus's positive rail to the board's ground (the pack's
    # negative) into ADC2 (GP28). 1 MOhm / 56 kOhm: 62 V at the ADC's 3.3 V, 47 uA
    # from the bus; a 100 nF capacitor and a clamp (Schottky to 3V3) at the pin.
    # Set "adc_full_scale_mv" from a meter reading (the 3.3 V rail is the
    # reference); size the divider for your pack (16 modules in series: ~400 V).
    # None: no sense. The BMS then refuses precharge_mode "voltage" and precharges
    # for a fixed time, which cannot see a short or a missing inverter on the bus
    # (docs/architecture.md, "Bus voltage").
    "bus_voltage": {"kind": "adc_divider", "pin": 28, "ohm_top": 1000000, "ohm_bottom": 56000,
                    "adc_full_scale_mv": 3300, "atten": None},
    "can": {"kind": "mcp2515", "spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17,
            "crystal_hz": 8000000},
    # Module family on the bus (boards.hal.PACK_KINDS).
    "pack": "tesla",
    # Operator inputs to ground (pull-ups): connect/disconnect switch, fault reset
    # button (a deliberate long press). None where not wired.
    "connect_switch": 10,
    "reset_button": 11,
    "operator_active_low": True,
    # The switch's position at boot counts (off: stay disconnected).
    "connect_level_at_boot": True,
    "reset_hold_ms": 3000,   # a deliberate long press
    # machine.WDT timeout; the RP2040's hardware caps it at 8388 ms.
    "watchdog_ms": 8000,
    # Wall clock (drivers.wall_clock.WALL_SOURCES): the RP2040's RTC, valid once set from
    # the host at deploy (`mpremote rtc --set`). It is not battery backed: after a
    # power cut or reset it reads 2021 and counts as unset, so records carry uptime
    # only until it is set again. None: never a wall clock. A plain Pico has no
    # network; a Pico W would use "ntp" with an "ntp_server" (see esp32_devkit).
    "wall_clock": "rtc",
    # Flash file prefix of the persisted state (two copies, .a and .b).
    "state_path": "/pybms_state",
}
