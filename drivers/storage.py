# One small atomic record store for state that must survive a reboot (SoC, learned
# capacity and offset, counters; later the fault latch). Two files per record,
# PATH.a and PATH.b: a save writes the complete new copy into the file that does NOT
# hold the newest good record, then the new copy's higher sequence number is the
# switch. A power cut tears at most the file being written; its checksum fails and
# load() falls back to the other file, one period older. Nothing is ever written
# over the only good copy.
#
# File layout: b"PBR1", sequence (4 bytes), payload length (2), payload, CRC-32 of
# everything before it (4), big endian.
#
# Saves are rate limited (period_ms) to spare the flash; docs/soc.md gives the wear
# per year. Works with plain open/write on a board's filesystem (LittleFS or FAT)
# and on CPython; `files` can be replaced (tests simulate torn writes through it).
# Saving allocates (a few small objects, once per period): never on a hot path.

from drivers.clock import ticks_diff

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32
    crc32 = None

MAGIC = b"PBR1"
HEADER = 10            # magic, sequence, length
TRAILER = 4            # CRC-32
SEQ_MASK = 0xFFFFFFFF


def crc32_bits(data, crc=0):
    """CRC-32 (IEEE, as binascii.crc32), bit by bit: no table in RAM."""
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def checksum(data):
    if crc32 is not None:
        return crc32(data) & 0xFFFFFFFF
    return crc32_bits(data)


class Files:
    """The board's (or the host's) filesystem: whole-file read and write."""

    def read(self, path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, path, data):
        with open(path, "wb") as f:
            f.write(data)


def encode(seq, payload):
    n = len(payload)
    out = bytearray(HEADER + n + TRAILER)
    out[0:4] = MAGIC
    for k in range(4):
        out[4 + k] = (seq >> (24 - 8 * k)) & 0xFF
    out[8] = n >> 8
    out[9] = n & 0xFF
    out[HEADER:HEADER + n] = payload
    crc = checksum(memoryview(out)[:HEADER + n])
    for k in range(4):
        out[HEADER + n + k] = (crc >> (24 - 8 * k)) & 0xFF
    return out


def decode(data, size):
    """(seq, payload) of an intact record of `size` payload bytes, else None."""
    if data is None or len(data) != HEADER + size + TRAILER or data[0:4] != MAGIC:
        return None
    if (data[8] << 8) | data[9] != size:
        return None
    crc = 0
    for k in range(4):
        crc = (crc << 8) | data[HEADER + size + k]
    if checksum(memoryview(data)[:HEADER + size]) != crc:
        return None
    seq = 0
    for k in range(4):
        seq = (seq << 8) | data[4 + k]
    return seq, data[HEADER:HEADER + size]


def _newer(a, b):
    """Sequence a is newer than b (serial-number arithmetic: survives the wrap)."""
    return 0 < ((a - b) & SEQ_MASK) < 0x80000000


class RecordStore:
    def __init__(self, path, size, period_ms, files=None):
        if size < 1 or size > 4096:
            raise ValueError("record size must be 1..4096 bytes")
        self.paths = (path + ".a", path + ".b")
        self.size = size
        self.period_ms = period_ms
        self.files = files if files is not None else Files()
        self.seq = -1          # sequence of the newest good copy, -1: none
        self.slot = -1         # which file holds it
        self.saves = 0
        self.errors = 0        # failed writes (full filesystem, I/O error)
        self.fallbacks = 0     # loads that found one copy damaged
        self._last = None      # ticks of the last save attempt

    def load(self, buf):
        """Copy the newest intact payload into buf; True if there was one."""
        best = None
        damaged = 0
        for slot in (0, 1):
            got = decode(self.files.read(self.paths[slot]), self.size)
            if got is None:
                damaged += 1
                continue
            if best is None or _newer(got[0], best[0]):
                best = (got[0], got[1], slot)
        if best is None:
            self.seq = -1
            self.slot = -1
            return False
        if damaged:
            self.fallbacks += 1
        self.seq, payload, self.slot = best
        buf[:self.size] = payload
        return True

    def due(self, t_ms):
        """A save is allowed now (the first one at once, then once per period)."""
        return self._last is None or ticks_diff(t_ms, self._last) >= self.period_ms

    def save(self, payload, t_ms, force=False):
        """Write payload as the new newest copy, unless the period has not passed
        (force: an event worth a write, e.g. an anchor). Never raises: a failed write
        is counted and the old copy stays the newest."""
        if not force and not self.due(t_ms):
            return False
        if len(payload) != self.size:
            raise ValueError("record is %d bytes, store holds %d" % (len(payload), self.size))
        self._last = t_ms
        seq = 0 if self.seq < 0 else (self.seq + 1) & SEQ_MASK
        slot = 1 - self.slot if self.slot >= 0 else 0
        try:
            self.files.write(self.paths[slot], encode(seq, payload))
        except OSError:
            self.errors += 1
            return False
        self.seq = seq
        self.slot = slot
        self.saves += 1
        return True
