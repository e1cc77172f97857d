# The firmware as `pybms demo` runs it under MicroPython: app/boot.py builds the
# whole BMS from the board file (boards/unix.py) and the configuration exactly as
# main.py does, and the loop is boot.run()'s. One difference, for the host to
# watch: the event log (docs/event-log.md format) goes to stdout as it is
# written, header first, instead of only into the RAM ring. Runs on MicroPython
# (the frozen 32-bit build or the unix port); link paths come as in main.py:
#   micropython tools/mpy/demo_firmware.py --tesla PTY --can PTY --plant PTY --config F
import sys

from app import boot
from boards import load
from drivers import clock
from fsm.eventlog import EventLog


class Stdout:
    def write(self, text):
        sys.stdout.write(text)


def main():
    opts = boot.options(sys.argv[1:])
    board = load(boot.board_name(opts))
    cfg = boot.load_config(opts.get("--config"))
    out = Stdout()
    EventLog(out).header(clock.ticks_ms(), cfg)
    app = boot.build(board, cfg, opts, log_stream=out)
    app.start(clock.ticks_ms())
    while True:
        app.run_pass()
        wait = app.sched.ms_to_next()
        if wait > 0:
            clock.sleep_ms(wait if wait < 20 else 20)


main()
