# Emulator of a chain of 1..62 Tesla Model S module boards (bq76PL536A behind the
# daisy-chained UART), byte for byte as the ring behaves:
#   - every frame passes every board in chain order; the board a read is for
#     replaces the request with [hdr x3, data.., crc]; a write comes back as its echo;
#   - a board still at address 0 takes frames for address 0 and sets bit 7 of the
#     address byte of what it sends on, so boards further up leave it alone;
#   - broadcast (0x3F) writes act on every board; RESET (0xA5) forgets addresses;
#   - writes with a bad CRC are not executed and set FAULT_STATUS.CRC;
#   - read requests are accepted with or without a trailing CRC byte;
#   - ADC registers are derived from the cell voltages / temperatures given, after
#     ADC_CONVERT and a conversion time; DEVICE_STATUS.DRDY tells when;
#   - hardware COV/CUV/OT trips from the group-3 thresholds (written only after a
#     SHDW_CONTROL unlock), alert/fault bits cleared by writing 1s then 0;
#   - balance resistors (CB_CTRL) switch off when CB_TIME runs out; a plant model
#     reads them with Board.bleeding().
# Fault injection: per-byte noise (drop / corrupt / insert) on both directions, and
# per board: silent, ring break, stuck ADC, wrong CRC, late replies, open or
# shorted thermistors.
#
# Plain MicroPython-compatible code: it talks to any UART-like object (any, read,
# write), so the same file can run on a spare RP2040 wired to the BMS as
# hardware-in-the-loop. It allocates freely: it is a test instrument, not firmware.

from bms import units
from drivers.clock import ticks_add, ticks_diff, ticks_ms
from protocols.tesla import registers as R
from protocols.tesla.codec import crc8
from simulator.tesla_board import Board  # noqa: F401  (part of this module's API)

FRAME_GAP_MS = 3   # an incomplete frame older than this is dropped (parser resync)

DROP = 0
CORRUPT = 1
INSERT = 2
FAULT_KINDS = ("drop", "corrupt", "insert")


class ModuleChain:
    """A ring of boards behind one UART-like object (any/read/write).

    noise: probability per byte of a fault (drop, corrupt or insert), on what the
    master sends and on what comes back. max_faults_per_frame (default 1) limits the
    faults in one frame: the single-event model that CRC-8 plus length checks are
    guaranteed to catch; raise it to stress the residual error rate.
    read_crc: None accepts reads with or without a trailing CRC byte (the 4th byte is
    taken when it is there and equals the CRC); True / False force one form (for
    hardware-in-the-loop, where bytes arrive one at a time).
    """

    def __init__(self, uart, count=16, cells_mv=None, temps_dc=None, noise=0.0, seed=1,
                 max_faults_per_frame=1, read_crc=None, clock=ticks_ms):
        if not 1 <= count <= R.MAX_ADDRESS:
            raise ValueError("a chain has 1..62 boards")
        self.uart = uart
        self.clock = clock
        per_board = bool(cells_mv) and isinstance(cells_mv[0], (list, tuple))
        self.boards = [Board(cells_mv[i] if per_board else cells_mv, temps_dc)
                       for i in range(count)]
        self.read_crc = read_crc
        self.max_faults = max_faults_per_frame
        self.set_noise(noise)
        self._rng = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1
        self.inbuf = b""
        self.last_in = 0
        self.out = []              # [due_tick, bytes], in ring order
        self.delay_ms = 0
        self.frames_in = 0
        self.frames_out = 0
        self.partials_dropped = 0
        self.injected = [0, 0, 0]  # drop, corrupt, insert

    def set_noise(self, rate):
        if not 0.0 <= rate <= 1.0:
            raise ValueError("noise is a probability per byte")
        self.noise = rate
        self._noise_threshold = int(rate * (1 << 24))

    def _rand(self):
        x = self._rng
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._rng = x
        return x

    def _noisy(self, data):
        if not self._noise_threshold:
            return data
        out = bytearray()
        faults = 0
        for b in data:
            if faults < self.max_faults and (self._rand() & 0xFFFFFF) < self._noise_threshold:
                faults += 1
                kind = self._rand() % 3
                self.injected[kind] += 1
                if kind == DROP:
                    continue
                if kind == CORRUPT:
                    b ^= 1 + self._rand() % 255
                else:
                    out.append(b)
                    b = self._rand() & 0xFF
            out.append(b)
        return bytes(out)

    # --- driving it -------------------------------------------------------------
    def feed(self, data, now=None):
        """Bytes from the master (what the first board receives)."""
        now = self.clock() if now is None else now
        if data:
            self.inbuf += self._noisy(data)
            self.last_in = now
            self._parse(now)

    def step(self, now=None):
        """Read what the master sent, run complete frames round the ring, send replies
        that are due. Never blocks."""
        now = self.clock() if now is None else now
        while self.uart.any():
            data = self.uart.read(256)
            if not data:
                break
            self.feed(data, now)
        if self.inbuf and ticks_diff(now, self.last_in) > FRAME_GAP_MS:
            self.inbuf = b""                 # a frame that never completed
            self.partials_dropped += 1
        for b in self.boards:
            b.tick(now)
        self.release(now)

    def release(self, now):
        while self.out and ticks_diff(now, self.out[0][0]) >= 0:
            self.uart.write(self.out.pop(0)[1])

    def run(self, stop=None, idle_ms=1):
        """Serve until stop() is true (or forever)."""
        wait = getattr(self.uart, "wait", None)
        while stop is None or not stop():
            if wait is not None:
                wait(idle_ms)
            self.step()

    def _parse(self, now):
        buf = self.inbuf
        while buf:
            write = buf[0] & 1
            need = 4 if write else 3
            if len(buf) < need:
                break
            if not write:
                if self.read_crc is True:
                    if len(buf) < 4:
                        break
                    need = 4
                elif self.read_crc is None and len(buf) >= 4 and buf[3] == crc8(buf, 0, 3):
                    need = 4
            frame = buf[:4] if write else buf[:3]
            buf = buf[need:]
            self._run(frame, now)
        self.inbuf = buf

    def _run(self, frame, now):
        self.frames_in += 1
        self.delay_ms = 0
        f = frame
        for b in self.boards:
            if b.break_ring:
                return
            f = b.handle(f, now, self)
        out = self._noisy(f)
        due = ticks_add(now, self.delay_ms)
        if self.out and ticks_diff(due, self.out[-1][0]) < 0:
            due = self.out[-1][0]        # the ring is a queue: nothing overtakes
        self.out.append([due, out])
        self.frames_out += 1
        self.release(now)

    # --- conveniences for tests, tools and a plant model ---------------------------
    def set_cells(self, board, cells_mv):
        self.boards[board].cells_mv = list(cells_mv)

    def set_temps(self, board, temps_dc):
        self.boards[board].temps_dc = list(temps_dc)

    def addresses(self):
        return [b.address for b in self.boards]


def parse_cells(text, count):
    """'3.7,3.8' -> one list of 6 cell mV per board, cycling through the values given."""
    vals = [units.mv(float(v)) for v in text.split(",") if v.strip()]
    if not vals:
        raise ValueError("no cell voltages given")
    for mv in vals:
        if not 0 <= mv <= 6250:
            raise ValueError("cell voltage %d mV is outside 0..6.25 V" % mv)
    out = []
    k = 0
    for _ in range(count):
        cells = []
        for _ in range(R.CELLS):
            cells.append(vals[k % len(vals)])
            k += 1
        out.append(cells)
    return out
