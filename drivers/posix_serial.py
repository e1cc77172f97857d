# A raw byte stream on a POSIX tty or pseudo-terminal, for the unix port and for
# host runs. It has the slice of machine.UART's API the drivers use (any, read,
# readinto, write), so a driver takes either without knowing which it got.

import select
import termios

# Linux c_cc positions; MicroPython's termios module does not name them.
_VTIME = 5
_VMIN = 6


def _set_raw(fd):
    try:
        termios.setraw(fd)  # MicroPython
    except AttributeError:
        import tty  # CPython
        tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    # VMIN = VTIME = 0: a read returns what is waiting (possibly nothing) at once,
    # so no call here ever blocks the BMS loop.
    attrs[6][_VMIN] = 0
    attrs[6][_VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class PosixSerial:
    def __init__(self, path):
        self.path = path
        self._file = open(path, "r+b", buffering=0)
        _set_raw(self._file.fileno())
        self._poll = select.poll()
        self._poll.register(self._file, select.POLLIN)
        self._ipoll = getattr(self._poll, "ipoll", None)  # MicroPython: no list per call

    def wait(self, timeout_ms):
        """True once bytes are waiting, False after timeout_ms with none."""
        if self._ipoll is not None:
            for _ in self._ipoll(timeout_ms):
                return True
            return False
        return bool(self._poll.poll(timeout_ms))

    def any(self):
        return 1 if self.wait(0) else 0

    def readinto(self, buf):
        """Bytes read into buf, or None when nothing was waiting (as machine.UART)."""
        n = self._file.readinto(buf)
        return n if n else None

    def read(self, nbytes=256):
        data = self._file.read(nbytes)
        return data if data else None

    def write(self, data):
        return self._file.write(data)

    def close(self):
        try:
            self._poll.unregister(self._file)
        except (OSError, ValueError, KeyError):
            pass
        self._file.close()
