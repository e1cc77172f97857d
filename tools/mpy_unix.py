# The MicroPython unix port as host tools and tests start it: the interpreter next
# to this Python (installed by `make setup`), the repository's firmware on its
# path, and a board-sized heap.

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = os.path.join(os.path.dirname(sys.executable), "micropython")
HEAP = "192K"  # about an RP2040's free heap


def command(*args, heap=HEAP):
    """argv to run `args` (a script and its arguments, or -c CODE) on MicroPython."""
    return [EXE, "-X", "heapsize=" + heap] + list(args)


def environment():
    # .frozen must stay first or the frozen asyncio disappears.
    return dict(os.environ, MICROPYPATH=".frozen:" + ROOT)


def available():
    return os.path.exists(EXE)
