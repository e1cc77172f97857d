# The application's boot: builds everything from data, the board file
# (boards/<name>.py, through boards.hal) and the configuration (bms/config.py,
# overridden by pybms_config.json when present). No code here asks which platform
# it runs on; the board file says what exists. main.py reaches it through
# app.entry.run(), which drops this module when the BMS is built.
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
#
# Stages, for a board that loads .mpy files (their code is in RAM): (0) the code
# the loop runs; (1) the configuration, checked against bms.config's schema, which
# is then dropped; (2) the parts, through boards.hal, then dropped; (3) the App,
# made by app.entry.finish() once this module is dropped too. Each stage's imports
# happen inside it, and `drop` (app.entry.unload) forgets what only that stage used, so the heap is never asked to hold the
# schema, the HAL and the loop's code at once (pybms bench app; docs/architecture.md).
# Tests and host tools pass no `drop`: nothing is unloaded for them. Loading a .mpy
# leaves garbage behind (the file's buffers, the loader's tables): collected
# between the imports, before the next module settles around it.

import gc
import sys

PLATFORM_BOARDS = (("rp2", "rp2_pico"), ("esp32", "esp32_devkit"), ("linux", "unix"),
                   ("darwin", "unix"))
OPTIONS = (("--board", "PYBMS_BOARD"), ("--tesla", "PYBMS_TESLA"), ("--can", "PYBMS_CAN"),
           ("--plant", "PYBMS_PLANT"), ("--state", "PYBMS_STATE"),
           ("--config", "PYBMS_CONFIG"), ("--events", "PYBMS_EVENTS"))
CONFIG_FILE = "pybms_config.json"
STATE_PERIOD_MS = 60000   # persisted state at most once a minute, latch changes at once
# The RAM ring of recent records (app.events.RingStream), bytes: ~20 records. A
# board file may give its own ("event_ring_bytes"): it is held for good.
RING_BYTES = 2048

# What only one stage uses (besides the board's own file, boards.<name>).
CONFIG_ONLY = ("bms.config",)
HAL_ONLY = ("boards.hal",)
BOOT_ONLY = ("app.boot", "boards")


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

    from bms import config
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
        from bms import config
        why = "%s: %s" % (path or CONFIG_FILE, e)
        (out or print)("pybms: configuration refused (%s); every contactor stays open and "
                       "the limits stay zero until the BMS boots with a valid file" % why)
        return config.make(), why


def configuration(path=None, out=None, drop=None):
    """Stage 1: (cfg, refused, setting_units). cfg and refused as
    config_or_defaults(); setting_units ({setting: unit}) is what the parts that
    convert settings need from the schema, which `drop` then forgets: nothing
    reads it while the loop runs."""
    cfg, refused = config_or_defaults(path, out)
    from bms import config
    setting_units = config.units()
    if drop is not None:
        config = None
        drop(CONFIG_ONLY)
    gc.collect()   # the JSON text and its parse, the schema's code: before anything lasting
    return cfg, refused, setting_units


def _store(path, size, period_ms):
    from drivers.storage import RecordStore
    return RecordStore(path, size, period_ms)


def parts(board, cfg, opts=None, machine=None, now_ms=None, log_stream=None):
    """Stage 2: (Parts, the event ring) for `board` (a BOARD dict) and `cfg`, every
    driver made through boards.hal."""
    from app.events import RingStream, Tee, TickFilter
    from app.parts import Parts
    from app.persist import SIZE as PERSIST_SIZE
    from app.persist import Persist
    from bms.diagnosis import Diagnosis
    from bms.soc_record import SIZE as SOC_SIZE
    gc.collect()
    from boards import hal
    from drivers import clock
    from drivers.operator_inputs import LongPress, Switch
    from fsm.eventlog import EventLog
    gc.collect()
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
    ring = log_stream if log_stream is not None else \
        RingStream(board.get("event_ring_bytes", RING_BYTES))
    stream = ring
    if opts.get("--events"):
        f = open(opts["--events"], "w")
        EventLog(f, wall).header(t0, cfg)
        stream = Tee(ring, f)
    return Parts(pack, can, contactors, allow=allow, heater=hal.heater(board, machine, link),
                 connect=connect, reset=reset,
                 watchdog=hal.watchdog(board, machine, link), store=store, wall=wall,
                 bus_voltage=bus.volts if bus is not None else None,
                 current=sensor, log=TickFilter(EventLog(stream, wall)), diag=diag, link=link,
                 soc_store=soc_store,
                 connect_at_boot=board.get("connect_level_at_boot", True)), ring


def build(board, cfg, opts=None, machine=None, now_ms=None, now_us=None, log_stream=None,
          setting_units=None, drop=None):
    """The whole BMS for `board` (a BOARD dict) and `cfg`; returns the App, not
    started. `drop` (app.entry.unload) forgets boards.hal between the stages."""
    p, ring = parts(board, cfg, opts, machine, now_ms, log_stream)
    if drop is not None:
        drop(HAL_ONLY)
    from app.entry import application
    return application(cfg, p, ring, now_ms, now_us, setting_units)


def code():
    """Stage 0: the code the loop runs (app.application imports it), loaded before
    the stages that load and drop theirs: what they drop is then one region at the
    top of the heap, not holes among the loop's code, too small for the
    application's per-cell arrays (as .mpy files, 62 modules: 201 KB -> 181 KB)."""
    import app.application  # noqa: F401
    gc.collect()


def prepare(board, opts, machine=None, out=None, drop=None):
    """Stages 0-2: (cfg, refused, setting_units, parts, the event ring), the
    configuration or the defaults with the reason it was refused. Stage 3 (the
    App) is app.entry.finish(), run after this module is dropped: its ~4 KB then
    leave before the App's objects need the room (pybms bench app)."""
    from app.events import RingStream
    # The event ring is the largest single block the boot makes: made while the
    # heap is empty, it cannot find the heap already cut up by the .mpy loads.
    ring = RingStream(board.get("event_ring_bytes", RING_BYTES))
    code()
    cfg, refused, setting_units = configuration(opts.get("--config"), out, drop)
    p, ring = parts(board, cfg, opts, machine, log_stream=ring)
    if drop is not None:
        drop(HAL_ONLY)
    return cfg, refused, setting_units, p, ring


def start(board, opts, machine=None, out=None, drop=None):
    """The configuration (or the defaults and config_invalid when it is refused),
    the whole BMS built for `board`, started with every contactor open."""
    from app.entry import finish
    return finish(prepare(board, opts, machine, out, drop))
