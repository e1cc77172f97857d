# Why each limits reason of bms/limits.py REASONS exists, keyed by its name: for
# the generated docs (docs/victron-can.md). Host-side so it costs the board no RAM;
# tests/host/test_texts.py fails when a reason has no text here.

WHY = {
    "stale": "no fresh measurements: limits are zero",
    "no_charge": "state machine reason; a fault shows as its own diagnosis",
    "no_discharge": "state machine reason; a fault shows as its own diagnosis",
    "full": "normal end of charge, shown by SoC",
    "taper": "normal end of charge, shown by SoC",
    "cold_charge": "charging blocked or reduced by cold",
    "hot_charge": "charging blocked or reduced by heat",
    "empty": "normal end of discharge, shown by SoC",
    "low_taper": "normal end of discharge, shown by SoC",
    "hot_discharge": "discharging blocked or reduced by heat",
}
