# What each state of fsm.table means and why it talks to the Victron GX or not:
# documentation only, so it lives on the host (docs/state-machine.md and
# docs/victron-can.md are rendered from it), keyed by state name.
# tests/host/test_texts.py fails when a state has no text here.

# What each state is for.
STATE_NOTES = {
    "Init":
        "Contactors open. Waits for a ready pack and a wish to connect (auto_connect or "
        "an operator connect).",
    "Precharge":
        "Main negative and precharge closed; main positive closes once the bus is up. "
        "Timeout with bounded retries.",
    "Run":
        "Both mains closed, precharge open. Charge and discharge allowed within the "
        "limits policy.",
    "Balance":
        "As Run, and cell balancing may run.",
    "Fault":
        "Latched. Contactors open, limits zero, CAN keeps reporting alarms. Leaves only "
        "on a verified reset.",
    "Shutdown":
        "Everything open and silent; stays until power-cycled.",
}

# Why a state is silent on CAN or may transmit.
CAN_NOTES = {
    "Init":
        "transmits limits 0 so the GX sees the battery present but not available",
    "Precharge":
        "transmits limits 0 until the mains are closed",
    "Run":
        "transmits the limits policy",
    "Balance":
        "transmits the limits policy",
    "Fault":
        "transmits limits 0 and the alarms: silence would hide the reason and make the GX"
        " report a lost BMS",
    "Shutdown":
        "silent: the BMS is stopping for good, the GX should report the battery lost",
}
