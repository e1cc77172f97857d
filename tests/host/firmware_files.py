# Which files are firmware (run on a board), for the host-side checks: the folders
# manifest.py names (read by tools/manifest.py, the one list), plus the module
# emulator files that also run on a board (their class in tools/layers.py).

from tools import layers, manifest

ROOT = manifest.ROOT
FIRMWARE_DIRS = manifest.folders()


def firmware_files():
    """Absolute paths of every file that runs on a board, sorted."""
    return layers.checked_files()
