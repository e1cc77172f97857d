# The MicroPython unix port (and CPython) on a development machine: no pins, so
# outputs are memory pins the simulator can read; the Tesla bus is a
# pseudo-terminal served by the module-board emulator, and CAN is SLCAN on a
# pseudo-terminal a host tool (`pybms monitor`) reads. The paths are given at
# run time.

BOARD = {
    "name": "unix",
    "port": "unix",
    "tesla_uart": {"path": None},
    "contactors": {"negative": "negative", "precharge": "precharge", "positive": "positive"},
    "contactor_feedback": {"negative": None, "precharge": None, "positive": None},
    "relay_active_low": False,
    "allow_charge": "allow_charge",
    "allow_discharge": "allow_discharge",
    "heater": "heater",
    "led": "led",
    "i2c": None,
    "can": {"kind": "slcan", "path": None},
    "pack": "tesla",
    # Operator inputs exist only through the plant link (pybms sim --scenario).
    "connect_switch": None,
    "reset_button": None,
    # Emulated: the plant restarts the firmware when the pet stops (plant link).
    "watchdog_ms": 8000,
    # The host's clock is a wall clock.
    "wall_clock": True,
    # Default state file prefix; PYBMS_STATE or --state overrides (app/boot.py).
    "state_path": "pybms_state",
}
