# Two linked pseudo-terminals without socat: bytes written to one come out of the
# other. Firmware (SLCAN on drivers.posix_serial) opens `a`, a host tool (python-can
# slcan, `pybms monitor`) opens `b`. Host only.

import os
import select
import threading
import tty


class PtyLink:
    def __init__(self):
        self._ma, self._sa = os.openpty()
        self._mb, self._sb = os.openpty()
        # Raw at once: a cooked slave would echo what the relay writes back into it.
        tty.setraw(self._sa)
        tty.setraw(self._sb)
        self.a = os.ttyname(self._sa)
        self.b = os.ttyname(self._sb)
        self.bytes_ab = 0
        self.bytes_ba = 0
        self._stop = False
        self._thread = threading.Thread(target=self._relay, name="ptylink", daemon=True)
        self._thread.start()

    def _relay(self):
        peer = {self._ma: self._mb, self._mb: self._ma}
        while not self._stop:
            try:
                ready, _, _ = select.select([self._ma, self._mb], [], [], 0.05)
            except (OSError, ValueError):
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if not data:
                    continue
                try:
                    os.write(peer[fd], data)
                except OSError:
                    continue
                if fd == self._ma:
                    self.bytes_ab += len(data)
                else:
                    self.bytes_ba += len(data)

    def close(self):
        self._stop = True
        self._thread.join(1.0)
        for fd in (self._ma, self._sa, self._mb, self._sb):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    import time
    link = PtyLink()
    print("firmware side:", link.a)
    print("host side:    ", link.b)
    print("Ctrl-C to stop")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        link.close()


if __name__ == "__main__":
    main()
