# The MicroPython unix port (and CPython) on a development machine: no pins, so
# outputs are memory pins the simulator can read, or, when the plant simulator's
# pin link is given (boards.hal.plant_link(path)), pins and I2C carried to the
# plant over a pty; the Tesla bus is a pseudo-terminal served by the module-board
# emulator, and CAN is SLCAN on a pseudo-terminal a host tool (`pybms monitor`,
# `pybms sim --scenario`) reads. The paths are given at run time. Pin "numbers"
# are the names the plant link uses (docs/simulator.md).

BOARD = {
    "name": "unix",
    "port": "unix",
    "tesla_uart": {"path": None},
    "contactors": {"negative": "negative", "precharge": "precharge", "positive": "positive"},
    # Inputs exist only through the plant link (without it: not wired).
    "contactor_feedback": {"negative": "negative_fb", "precharge": "precharge_fb",
                           "positive": "positive_fb"},
    "relay_active_low": False,
    "allow_charge": "allow_charge",
    "allow_discharge": "allow_discharge",
    "heater": "heater",
    "led": "led",
    "i2c": None,
    # The inverter's DC-bus voltage: the plant link's analog input "bus_v" (the
    # plant's bus model), read during precharge, so this board precharges in
    # voltage mode and sees a shorted bus. Without the plant link: not wired.
    # max_mv rejects a reading no pack of 16 modules in series could give.
    "bus_voltage": {"kind": "plant_link", "input": "bus_v", "max_mv": 450000},
    "can": {"kind": "slcan", "path": None},
    "pack": "tesla",
    # Operator inputs exist only through the plant link (pybms sim --scenario): the
    # plant drives them high when active and presses reset for 0.5 s (a command,
    # not a person's finger), so no long press here.
    "connect_switch": "connect",
    "reset_button": "reset",
    "operator_active_low": False,
    # The plant's connect input starts low without meaning "disconnect": only its
    # changes count (auto_connect decides at boot).
    "connect_level_at_boot": False,
    "reset_hold_ms": 300,
    # Emulated: the plant restarts the firmware when the pet stops (plant link).
    "watchdog_ms": 8000,
    # Wall clock for log timestamps (drivers.wall_clock.WALL_SOURCES): the host's clock.
    "wall_clock": "host",
    # Default state file prefix; PYBMS_STATE or --state overrides (app/boot.py).
    "state_path": "pybms_state",
}
