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
}
