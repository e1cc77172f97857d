# The whole application (app/) on MicroPython for `pybms bench app`: built for N
# modules with every part wired (bus master on canned replies, an MCP3421 hall
# current sensor on a canned I2C, SoC, persistence of state and SoC in memory, event
# ring, memory pins and CAN), then run pass by pass.
# Prints one APP line (heap held after start, high-water of gc.mem_alloc() over the
# run, bytes allocated per steady pass, all above `base`: the workload's own bytecode
# and canned boards, which a board does not carry) and a TASK line per task (period,
# runs, mean and worst us, overruns). Built through app.boot's stages with the same
# drops as app.entry (the bench's stand-ins as the parts), so the heap it finds is
# the staged boot's. Usage (32-bit build, firmware as .mpy or frozen; the bench
# runs the workload precompiled, as `-m app_workload`, so its own code costs little):
#   micropython -X heapsize=K tools/mpy/app_workload.py MODULES [PASSES]
#               [silent|realtime|loaded]
# silent: every board stops answering after the start (the bus master's worst case);
# loaded: also lists the modules loaded at the end (LOADED lines, for the native code);
# realtime: the loop runs on the real clock for PASSES ms and reports the largest gap
# between Victron cycles and the longest task (CAN_GAP and BLOCK lines).
import gc
import sys
import time

gc.collect()
BASE = gc.mem_alloc()

from app import boot, entry  # noqa: E402  (first, as main.py: the boot module, then its stages)

class Canned:
    """Module boards answering from replies computed in advance (no emulator cost).
    One reply buffer and a CRC per address, not a reply object per board: the bench
    stands in for a UART, which holds next to nothing of the heap it measures."""

    def __init__(self, count):
        from protocols.tesla import codec
        from protocols.tesla import encode
        from protocols.tesla import registers as R
        self.replies = {}
        for reg, value in ((R.ADC_CONTROL, R.ADC_ALL), (R.IO_CONTROL, R.IO_THERMISTORS),
                           (R.ADC_CONVERT, 1)):
            key = ((R.BROADCAST << 1 | 1) << 8) | reg
            self.replies[key] = codec.write_frame(R.BROADCAST, reg, value)
        words = [encode.module_raw(6 * 3700)] + [encode.cell_raw(3700)] * 6 + \
            [encode.temp_raw(250, 0), encode.temp_raw(250, 1)]
        r = self.reading = bytearray(23)
        r[2] = 19
        r[3] = R.DS_DRDY
        for k in range(9):
            r[4 + 2 * k] = words[k] >> 8
            r[5 + 2 * k] = words[k] & 0xFF
        self.count = count
        self.crcs = bytearray(count + 1)
        for a in range(1, count + 1):
            r[0] = a << 1
            self.crcs[a] = codec.crc8(r, 0, 22)
        self.cur = b""
        self.n = 0
        self.silent = False
        self.calls = [0, 0, 0]   # write, any, readinto: their cost is taken out on the M0

    def write(self, data):
        self.calls[0] += 1
        a = data[0] >> 1
        if not data[0] & 1 and data[1] == 0 and 1 <= a <= self.count:
            r = self.cur = self.reading        # a measurement read of board a
            r[0] = data[0]
            r[22] = self.crcs[a]
        else:
            self.cur = self.replies.get((data[0] << 8) | data[1], b"")
        if self.silent and not data[0] & 1:
            self.cur = b""
        self.n = len(self.cur)
        return len(data)

    def any(self):
        self.calls[1] += 1
        return self.n

    def readinto(self, buf, nbytes=-1):
        self.calls[2] += 1
        n = self.n
        if not n:
            return None
        buf[:n] = self.cur
        self.n = 0
        return n


class CannedI2C:
    """An MCP3421 answering every read with one ready 16-bit result (`code`, set
    to the sensor's zero-current code once it is built): no model, no allocation."""

    def __init__(self):
        self.config = 0
        self.code = 0

    def writeto(self, addr, data):
        self.config = data[0]
        return 1

    def readfrom_into(self, addr, buf):
        buf[0] = (self.code >> 8) & 0xFF
        buf[1] = self.code & 0xFF
        buf[2] = self.config & 0x7F        # RDY clear: a new result
        if len(buf) > 3:
            buf[3] = buf[2]


class Files:
    def __init__(self):
        self.d = {}

    def read(self, path):
        return self.d.get(path)

    def write(self, path, data):
        self.d[path] = bytes(data)


class Clock:
    def __init__(self, real):
        self.real = real
        self.t = 0

    def ms(self):
        return time.ticks_ms() if self.real else self.t


def build(n, clock):
    """The application as app.entry.start() builds it, stage by stage with the
    same drops, with the bench's stand-ins (canned boards, memory pins, CAN and
    files) as the parts. Returns (app, link, bytes the canned boards hold: the
    bench's, not the firmware's)."""
    global boot                       # dropped at the end, as app.entry.start() does
    from app.events import RingStream
    ring = RingStream(boot.RING_BYTES)  # first, as app.boot.prepare()
    boot.code()                       # stage 0, as app.boot.prepare()
    # Stage 1, as app.boot.configuration() with the bench's settings for a file.
    from bms import config
    cfg = config.make({"module_count": n, "precharge_mode": "time", "precharge_ms": 500,
                       "bus_reset_wait_ms": 0, "current_sensor": "mcp3421_hall"})
    setting_units = config.units()
    config = None
    entry.unload(boot.CONFIG_ONLY)
    gc.collect()
    # Stage 2: the parts (the bench's own), the pack through boards.hal as a board's.
    from app.events import TickFilter
    from app.parts import Parts
    from app.persist import SIZE, Persist
    from bms.diagnosis import Diagnosis
    from bms.soc_record import SIZE as SOC_SIZE
    from boards import hal
    from boards.unix import BOARD
    from drivers.allow_outputs import AllowOutputs
    from drivers.can import MemoryBus
    from drivers.contactors import Contactors
    from drivers.current_sensor import CurrentSensor
    from drivers.gpio import MemoryPin
    from drivers.storage import RecordStore
    from fsm.eventlog import EventLog
    # The bus master's protocol modules, before the bench's share is measured: the
    # canned boards use them too, and their code is the firmware's, not the bench's.
    import protocols.tesla.convert  # noqa: F401
    import protocols.tesla.frame  # noqa: F401
    import protocols.tesla.registers  # noqa: F401
    gc.collect()
    before = gc.mem_alloc()
    link = Canned(n)
    # The board's side of the protocol (protocols.tesla.codec, .encode) made the
    # canned replies; a board never loads it: forgotten, only its names stay.
    entry.unload(("protocols.tesla.codec", "protocols.tesla.encode"))
    i2c = CannedI2C()
    gc.collect()
    link_bytes = gc.mem_alloc() - before
    diag = Diagnosis()
    pins = [MemoryPin(k) for k in ("negative", "precharge", "positive")]
    files = Files()
    sensor = CurrentSensor(cfg, i2c, diag)
    i2c.code = (sensor.code_lo + sensor.code_hi) // 2      # no current flows
    parts = Parts(hal.pack(BOARD, cfg, diag, link), MemoryBus(record=False),
                  Contactors(pins[0], pins[1], pins[2]),
                  allow=AllowOutputs(MemoryPin("c"), MemoryPin("d")), heater=MemoryPin("h"),
                  store=Persist(RecordStore("s", SIZE, 60000, files)), current=sensor,
                  log=TickFilter(EventLog(ring)), diag=diag,
                  soc_store=RecordStore("s_soc", SOC_SIZE, 60000, files))
    hal = BOARD = None
    entry.unload(boot.HAL_ONLY)
    # Stage 3, as app.entry.finish(): app.boot and the board file forgotten first.
    forget = boot.BOOT_ONLY + ("boards.unix",)
    boot = None                       # as app.entry.start(): nothing keeps app.boot
    entry.unload(forget)
    app = entry.application(cfg, parts, ring, clock.ms, time.ticks_us, setting_units)
    entry.unload(entry.BUILD_ONLY)    # as app.entry.finish()
    gc.collect()
    pack = parts.pack
    pack.discovered = True            # discovered (the canned boards do not answer probes)
    pack._discovered_once = True
    pack.found = n
    return app, link, link_bytes


def main(args):
    n = int(args[0])
    passes = int(args[1]) if len(args) > 1 else 2000
    mode = args[2] if len(args) > 2 else ""
    clock = Clock(mode == "realtime")
    app, link, link_bytes = build(n, clock)
    app.start(clock.ms())
    if mode == "m0":
        # Only in the emulated M0's guest script, which the host makes from this
        # file followed by tools/mpy/app_m0.py: the heap runs do not carry its code.
        return m0_pass(app, clock, link, n, passes)
    peak = 0
    gap = 0
    last = None
    if mode == "realtime":
        end = time.ticks_add(time.ticks_ms(), passes)
        k = 0
        while time.ticks_diff(end, time.ticks_ms()) > 0:
            if k == 100:
                link.silent = True          # every board stops answering
            app.run_pass()
            s = app.reporter.last_start
            if last is not None and s != last:
                g = time.ticks_diff(s, last)
                if g > gap:
                    gap = g
            last = s
            k += 1
        worst = 0
        for row in app.sched.stats():
            if row[4] > worst:
                worst = row[4]
        print("CAN_GAP ms=%d cycles=%d" % (gap, app.reporter.cycles))
        print("BLOCK ms=%d" % (worst // 1000))
    else:
        for k in range(passes):
            if mode == "silent" and k == passes // 2:
                link.silent = True
            app.run_pass()
            clock.t += 10
            used = gc.mem_alloc()
            if used > peak:
                peak = used
        gc.collect()
        held = gc.mem_alloc() - BASE - link_bytes
        gc.disable()
        before = gc.mem_alloc()
        steady = 500
        for k in range(steady):
            app.run_pass()
            clock.t += 10
        alloc = gc.mem_alloc() - before
        gc.enable()
        if mode == "loaded":
            for name in sys.modules:
                print("LOADED " + name)
        print("APP modules=%d state=%s held=%d peak=%d alloc_per_pass=%d base=%d"
              % (n, app.machine.state_name, held, peak - BASE - link_bytes, alloc // steady,
                 BASE + link_bytes))
    for row in app.sched.stats():
        print("TASK %s period=%d runs=%d mean_us=%d worst_us=%d overruns=%d"
              % (row[0], row[1], row[2], row[3], row[4], row[5]))


try:
    ARGS  # set by the host when the script is sent to the emulated M0
except NameError:
    ARGS = sys.argv[1:]
main(ARGS)
