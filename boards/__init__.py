# One file per board: pins, bus ids and which driver each bus uses, as data
# (a BOARD dict). boards.hal turns a BOARD into driver objects; nothing else in
# the firmware knows pin numbers or tests which port it runs on.

BOARDS = ("rp2_pico", "esp32_devkit", "unix")


def load(name):
    """The BOARD dict of boards/<name>.py."""
    if name not in BOARDS:
        raise ValueError("unknown board %r (known: %s)" % (name, ", ".join(BOARDS)))
    module = __import__("boards." + name, None, None, ("BOARD",))
    return module.BOARD
