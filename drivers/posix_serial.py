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
    def __init__(self, path, fd=None):
        """Open the tty at `path`; or, with fd=, wrap a descriptor that is already open
        (e.g. the master side of os.openpty(), CPython only): it stays owned by the
        caller and close() leaves it open."""
        self.path = path
        if fd is None:
            self._file = open(path, "r+b", buffering=0)
        else:
            self._file = open(fd, "r+b", buffering=0, closefd=False)
        _set_raw(self._file.fileno())
        self._poll = select.poll()
        self._poll.register(self._file, select.POLLIN)
        self._ipoll = getattr(self._poll, "ipoll", None)  # MicroPython: no list per call
        self._wpoll = select.poll()
        self._wpoll.register(self._file, select.POLLOUT)
        self._wipoll = getattr(self._wpoll, "ipoll", None)

    def wait(self, timeout_ms):
        """True once bytes are waiting, False after timeout_ms with none."""
        if self._ipoll is not None:
            for _ in self._ipoll(timeout_ms):
                return True
            return False
        return bool(self._poll.poll(timeout_ms))

    def writable(self, timeout_ms=0):
        """True when a write would not block (the reader has not stopped reading)."""
        if self._wipoll is not None:
            for _ in self._wipoll(timeout_ms):
                return True
            return False
        return bool(self._wpoll.poll(timeout_ms))

    def any(self):
        return 1 if self.wait(0) else 0

    def readinto(self, buf, nbytes=-1):
        """Bytes read into buf (at most nbytes when given), or None when nothing was
        waiting (as machine.UART)."""
        if nbytes >= 0 and nbytes < len(buf):
            n = self._file.readinto(memoryview(buf)[:nbytes])
        else:
            n = self._file.readinto(buf)
        return n if n else None

    def read(self, nbytes=256):
        data = self._file.read(nbytes)
        return data if data else None

    def write(self, data):
        return self._file.write(data)

    def close(self):
        for poll in (self._poll, self._wpoll):
            try:
                poll.unregister(self._file)
            except (OSError, ValueError, KeyError):
                pass
        self._file.close()
