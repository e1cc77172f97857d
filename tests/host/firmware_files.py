# Which files are firmware (run on the board) — shared by the host-side checks.

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE_DIRS = ("bms", "fsm", "states", "drivers", "protocols", "boards", "app")
# Emulator code that must also run on a board (hardware-in-the-loop).
FIRMWARE_EXTRA_FILES = ("simulator/tesla_modules.py", "simulator/tesla_board.py",
                        "simulator/tesla_direct.py")


def firmware_files():
    out = []
    for top in FIRMWARE_DIRS:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            if "__pycache__" in folder:
                continue
            out.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    for rel in FIRMWARE_EXTRA_FILES:
        path = os.path.join(ROOT, rel)
        if os.path.exists(path):
            out.append(path)
    return sorted(out)
