# The application's one entry point: main.py calls run(). Everything is built from
# data: the board file (boards/<name>.py, through boards.hal) and the configuration
# (bms/config.py, overridden by pybms_config.json when present). No code here asks
# which platform it runs on; the board file says what exists.
#
# Which board: PYBMS_BOARD (environment) or --board, else by sys.platform through
# PLATFORM_BOARDS. On the unix port the links come from the command line or the
# environment (a board has pins instead):
#   micropython main.py --tesla /dev/pts/5 --can /dev/pts/6 [--plant /dev/pts/7]
#                       [--state FILE] [--config FILE.json] [--board unix]
#                       [--events FILE.jsonl]  (the event log, also kept in the RAM ring)
#   environment: PYBMS_TESLA, PYBMS_CAN, PYBMS_PLANT, PYBMS_STATE, PYBMS_CONFIG,
#                PYBMS_EVENTS
# (`pybms sim --scenario NAME` prints the pty paths to use).

import gc
import sys

# Loading a module from a .mpy file leaves garbage behind (the file's buffers, the
# tables the loader builds): collected between the imports, before the next module
# settles around it. On the 32-bit build the smallest heap that runs 62 modules
# from .mpy files goes from 210K to 195K with these (pybms bench app); frozen
# modules leave next to nothing.
from app.application import App, Parts
gc.collect()
from app.events import RingStream, Tee, TickFilter  # noqa: E402
from app.persist import SIZE as PERSIST_SIZE  # noqa: E402
from app.persist import Persist  # noqa: E402
from bms import config  # noqa: E402
from bms import diagnosis as D  # noqa: E402
from bms.diagnosis import Diagnosis  # noqa: E402
from bms.soc_record import SIZE as SOC_SIZE  # noqa: E402
gc.collect()
from boards import hal, load  # noqa: E402
gc.collect()
from drivers import clock  # noqa: E402
from drivers.operator_inputs import LongPress, Switch  # noqa: E402
from fsm.eventlog import EventLog  # noqa: E402
gc.collect()

PLATFORM_BOARDS = (("rp2", "rp2_pico"), ("esp32", "esp32_devkit"), ("linux", "unix"),
                   ("darwin", "unix"))
OPTIONS = (("--board", "PYBMS_BOARD"), ("--tesla", "PYBMS_TESLA"), ("--can", "PYBMS_CAN"),
           ("--plant", "PYBMS_PLANT"), ("--state", "PYBMS_STATE"),
           ("--config", "PYBMS_CONFIG"), ("--events", "PYBMS_EVENTS"))
CONFIG_FILE = "pybms_config.json"
STATE_PERIOD_MS = 60000   # persisted state at most once a minute, latch changes at once
RING_RECORDS = 64


def _getenv(name):
    try:
        import os
        return os.getenv(name)
    except (ImportError, AttributeError):  # a port without os.getenv
        return None


def options(argv):
    """{option: value} from argv (--name value) and the environment."""
    out = {}
    for opt, env in OPTIONS:
        out[opt] = _getenv(env)
    k = 0
    while k < len(argv):
        a = argv[k]
        if a in out and k + 1 < len(argv):
            out[a] = argv[k + 1]
            k += 2
            continue
        k += 1
    return out


def board_name(opts):
    if opts.get("--board"):
        return opts["--board"]
    for platform, name in PLATFORM_BOARDS:
        if sys.platform == platform:
            return name
    raise ValueError("no board file for platform %r: set PYBMS_BOARD" % sys.platform)


def load_config(path=None):
    import json
    try:
        with open(path or CONFIG_FILE) as f:
            overrides = json.load(f)
    except OSError:
        if path:
            raise
        overrides = None
    except ValueError as e:   # what each runtime's json says differs: say it is JSON
        raise config.ConfigError("not valid JSON (%s)" % e)
    return config.make(overrides)


def config_or_defaults(path=None, out=None):
    """(cfg, None) from the configuration file, or (the defaults, the reason) when
    the file cannot be used: unreadable, not JSON, a value out of range, a failed
    cross-check. The defaults then serve only to run the BMS far enough to say why
    (console, event log, the GX's alarm) with every contactor open: the caller
    raises config_invalid, a fault no reset clears."""
    try:
        return load_config(path), None
    except Exception as e:  # any reason at all: a board must not run on a guess
        why = "%s: %s" % (path or CONFIG_FILE, e)
        (out or print)("pybms: configuration refused (%s); every contactor stays open and "
                       "the limits stay zero until the BMS boots with a valid file" % why)
        return config.make(), why


def _store(path, size, period_ms):
    from drivers.storage import RecordStore
    return RecordStore(path, size, period_ms)


def build(board, cfg, opts=None, machine=None, now_ms=None, now_us=None, log_stream=None):
    """The whole BMS for `board` (a BOARD dict) and `cfg`; returns the App, not started."""
    opts = opts or {}
    diag = Diagnosis()
    link = hal.plant_link(opts["--plant"]) if opts.get("--plant") else None
    uart = hal.tesla_uart(board, cfg["uart_baud"], opts.get("--tesla"), machine)
    pack = hal.pack(board, cfg, diag, uart)
    can = hal.can_bus(board, opts.get("--can"), machine)
    contactors = hal.contactors(board, machine, link=link)
    allow = hal.allow_outputs(board, machine, link=link)
    t0 = (now_ms or clock.ticks_ms)()
    low = board.get("operator_active_low", True)
    pin = hal.input_pin(board, board.get("connect_switch"), machine, link)
    connect = Switch(pin, active_low=low, t_ms=t0) if pin is not None else None
    pin = hal.input_pin(board, board.get("reset_button"), machine, link)
    reset = LongPress(pin, board.get("reset_hold_ms", 3000), active_low=low, t_ms=t0) \
        if pin is not None else None
    bus = hal.bus_voltage(board, machine, link, required=cfg["precharge_mode"] == "voltage")
    sensor = None
    if cfg["current_sensor"] != "none":
        from drivers.current_sensor import CurrentSensor
        sensor = CurrentSensor(cfg, hal.i2c(board, machine, link), diag)
    wall = clock.wall_clock(board.get("wall_clock"), machine, board.get("ntp_server"))
    if wall is not None:
        wall.sync(t0)   # before the first record: the header carries utc_s when known
    state_path = opts.get("--state") or board.get("state_path")
    store = soc_store = None
    if state_path:
        store = Persist(_store(state_path, PERSIST_SIZE, STATE_PERIOD_MS), wall)
        soc_store = _store(state_path + "_soc", SOC_SIZE, STATE_PERIOD_MS)
    ring = log_stream if log_stream is not None else RingStream(RING_RECORDS)
    stream = ring
    if opts.get("--events"):
        f = open(opts["--events"], "w")
        EventLog(f, wall).header(t0, cfg)
        stream = Tee(ring, f)
    parts = Parts(pack, can, contactors, allow=allow, heater=hal.heater(board, machine, link),
                  connect=connect, reset=reset,
                  watchdog=hal.watchdog(board, machine, link), store=store, wall=wall,
                  bus_voltage=bus.volts if bus is not None else None,
                  current=sensor, log=TickFilter(EventLog(stream, wall)), diag=diag, link=link,
                  soc_store=soc_store,
                  connect_at_boot=board.get("connect_level_at_boot", True))
    # The application's own objects come last and hold the largest single blocks
    # (per-cell arrays and lists): collect the garbage of everything built so far
    # first, so they find contiguous room (on a 64 KB heap this decides whether 62
    # modules fit; tools/mpy/app_workload.py does the same).
    gc.collect()
    app = App(cfg, parts, now_ms or clock.ticks_ms, now_us or clock.ticks_us)
    app.ring = ring
    return app


def start(board, opts, machine=None, out=None):
    """The configuration (or the defaults and config_invalid when it is refused),
    the whole BMS built for `board`, started with every contactor open."""
    cfg, refused = config_or_defaults(opts.get("--config"), out)
    gc.collect()   # the JSON text and parse of the config, before anything lasting
    app = build(board, cfg, opts, machine)
    t = clock.ticks_ms()
    app.start(t)
    if refused is not None:
        app.diag.report(D.CONFIG_INVALID, True, t)   # Fault before anything can close
    return app


def run(argv=None, passes=None):
    """Build from the board and config, start with everything open, loop for ever
    (or `passes` passes, for tests)."""
    opts = options(sys.argv[1:] if argv is None else argv)
    app = start(load(board_name(opts)), opts)
    n = 0
    while passes is None or n < passes:
        app.run_pass()
        wait = app.sched.ms_to_next()
        if wait > 0:
            clock.sleep_ms(wait if wait < 20 else 20)
        n += 1
    return app
