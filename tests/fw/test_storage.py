# drivers.storage: the A/B record store. 1000+ random power cuts at random byte
# offsets (truncated files, half-programmed sectors, flipped bits, a write that never
# started or that finished just before the cut): load() never returns anything but a
# record that was saved, and never one older than the last completed save.

import os

from drivers import storage as ST
from tests.fw.support import raises

SIZE = 41


class Rand:
    """xorshift32: the same sequence on both runtimes (no dependency on `random`)."""

    def __init__(self, seed):
        self.x = seed or 1

    def next(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x

    def below(self, n):
        return self.next() % n


class PowerCut(Exception):
    """The board lost power: the process stops mid-write (not an OSError)."""


class TornFiles:
    """In-memory filesystem whose armed write is torn at a chosen byte offset."""

    def __init__(self, rand):
        self.data = {}
        self.rand = rand
        self.cut_in = -1          # writes until the cut (-1: none armed)
        self.writes = 0

    def read(self, path):
        return self.data.get(path)

    def write(self, path, data):
        self.writes += 1
        if self.cut_in != 0:
            if self.cut_in > 0:
                self.cut_in -= 1
            self.data[path] = bytes(data)
            return
        self.cut_in = -1
        r = self.rand
        n = len(data)
        k = r.below(n + 1)
        old = self.data.get(path, b"")
        mode = r.below(6)
        if mode == 0:       # truncated where the power went
            torn = bytes(data[:k])
        elif mode == 1:     # programmed up to k, erased flash after
            torn = bytes(data[:k]) + b"\xff" * (n - k)
        elif mode == 2:     # overwritten in place up to k, old bytes after
            torn = bytes(data[:k]) + old[k:]
        elif mode == 3:     # complete length, one byte damaged at or after k
            b = bytearray(data)
            j = k if k < n else n - 1
            b[j] ^= 1 + r.below(255)
            torn = bytes(b)
        elif mode == 4:     # the write never reached the flash
            torn = old
        else:               # finished just before the cut
            torn = bytes(data)
        if torn or path in self.data:
            self.data[path] = torn
        self.completed = torn == bytes(data)
        raise PowerCut()


def _payload(rand):
    return bytes(rand.below(256) for _ in range(SIZE))


def test_random_power_cuts_never_corrupt_and_lose_at_most_one_period():
    rand = Rand(0x2545F491)
    files = TornFiles(rand)
    last = None         # the newest payload whose save completed
    completed = 0
    cuts = 0
    t = 0
    store = ST.RecordStore("soc", SIZE, 1000, files)
    buf = bytearray(SIZE)
    assert not store.load(buf)
    while cuts < 1000:
        files.cut_in = rand.below(4)            # the 1st..4th write from now is torn
        pending = None
        try:
            for _ in range(5):
                t += 1000
                pending = _payload(rand)
                if store.save(pending, t):
                    last = pending
                    completed += 1
                pending = None
        except PowerCut:
            cuts += 1
        # reboot: a new store on the same files
        store = ST.RecordStore("soc", SIZE, 1000, files)
        got = store.load(buf)
        allowed = []
        if last is not None:
            allowed.append(last)
        if pending is not None and files.completed:
            allowed.append(pending)
        if not allowed:
            assert not got, "a record appeared that was never saved"
            continue
        assert got, "lost every record after cut %d" % cuts
        assert bytes(buf) in allowed, "cut %d: loaded a record that is neither the last " \
            "completed save nor the one cut" % cuts
        if pending is not None and bytes(buf) == pending:
            last = pending                      # it did complete before the cut
            completed += 1
    assert cuts == 1000 and completed > 1000


def test_rate_limit_and_forced_saves():
    files = TornFiles(Rand(7))
    store = ST.RecordStore("x", 4, 60000, files)
    assert store.save(b"\x00\x00\x00\x01", 0)           # the first at once
    assert not store.save(b"\x00\x00\x00\x02", 59999)   # within the period: skipped
    assert store.save(b"\x00\x00\x00\x03", 60000)
    assert store.save(b"\x00\x00\x00\x04", 60001, force=True)
    assert files.writes == 3 and store.saves == 3
    buf = bytearray(4)
    assert ST.RecordStore("x", 4, 60000, files).load(buf) and buf == b"\x00\x00\x00\x04"
    raises(ValueError, store.save, b"\x00", 200000)


def test_write_errors_are_counted_and_keep_the_old_copy():
    class Full(TornFiles):
        def write(self, path, data):
            if self.full:
                raise OSError(28)  # ENOSPC
            TornFiles.write(self, path, data)

    files = Full(Rand(3))
    files.full = False
    store = ST.RecordStore("y", 2, 0, files)
    assert store.save(b"ab", 0)
    files.full = True
    assert not store.save(b"cd", 1) and store.errors == 1
    buf = bytearray(2)
    assert ST.RecordStore("y", 2, 0, files).load(buf) and buf == b"ab"
    files.full = False
    assert store.save(b"ef", 2)
    assert ST.RecordStore("y", 2, 0, files).load(buf) and buf == b"ef"


def test_sequence_survives_wrap_and_records_of_another_size_are_refused():
    files = TornFiles(Rand(5))
    files.data["z.a"] = bytes(ST.encode(0xFFFFFFFF, b"old!"))
    files.data["z.b"] = bytes(ST.encode(0, b"new!"))
    buf = bytearray(4)
    store = ST.RecordStore("z", 4, 0, files)
    assert store.load(buf) and buf == b"new!" and store.slot == 1
    assert not ST.RecordStore("z", 5, 0, files).load(bytearray(5))
    assert ST.crc32_bits(b"123456789") == 0xCBF43926 == ST.checksum(b"123456789")


def test_real_files_on_this_filesystem():
    path = "/tmp/pybms-store-test-%d" % (id(path_holder) & 0xFFFF)
    store = ST.RecordStore(path, 3, 0)
    try:
        assert store.save(b"abc", 0) and store.save(b"def", 1)
        buf = bytearray(3)
        fresh = ST.RecordStore(path, 3, 0)
        assert fresh.load(buf) and buf == b"def" and fresh.seq == 1
        with open(path + ".b", "wb") as f:
            f.write(b"PBR1\x00\x00")             # torn newest copy
        assert ST.RecordStore(path, 3, 0).load(buf) and buf == b"abc"
    finally:
        for p in store.paths:
            try:
                os.remove(p)
            except OSError:
                pass


path_holder = []
