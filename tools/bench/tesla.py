# `pybms bench tesla`: the module bus master on 1, 16 and 62 emulated boards over a
# pseudo-terminal (the firmware on the MicroPython unix port, 192K heap, and on
# CPython, against `pybms sim modules`), then fuzz figures. Not a timed test: the
# pty round trip stands in for the ring, so the wire time at 612500 baud is given
# separately. Then the poll counted in instructions on an emulated Cortex-M0
# (tools/bench/tesla_m0.py, when the tools are installed), the parser fuzz, and the
# end-to-end error figures into the pack (tools/bench/tesla_pack.py). Last line:
#   wire_ratio_16=... cycle_ms_16_mpy=... fuzz_frames=... poll_minstr_m0_16=...
#   poll_minstr_m0_62=... pack_bad_readings_ber1e3=... pack_bad_readings_burst=...
#   pack_bad_readings_ber1e2=... clean_rereads_pct=...

import os
import random
import signal
import subprocess
import sys

from protocols.tesla import codec
from protocols.tesla import frame as F
from tools import mpy_unix

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYBMS = os.path.join(os.path.dirname(sys.executable), "pybms")
MASTER = os.path.join(ROOT, "tools", "bench", "tesla_master.py")
BYTE_US = 10 * 1000000 / 612500        # 8N1 at 612500 baud: 16.3 us a byte
ADC_WAIT_MS = 2


def minimum_bytes(n):
    """Fewest bytes a full cycle can cost: one broadcast ADC_CONVERT (4 out, 4 echoed)
    and per board one read of DEVICE_STATUS..TEMPERATURE2 (3 out, 3 + 19 + 1 back),
    which carries module V, 6 cells, 2 temperatures and the alert/fault summary."""
    return 8 + 26 * n


def _sim(n):
    p = subprocess.Popen([PYBMS, "sim", "modules", "--count", str(n), "--cells", "3.7"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    return p, p.stdout.readline().strip()


def _master(interp, path, n, cycles):
    env = mpy_unix.environment()
    cmd = (mpy_unix.command() if interp == mpy_unix.EXE else [interp]) + \
        [MASTER, path, str(n), str(cycles), "cells_mv=3700"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    if r.returncode or not line:
        raise RuntimeError("bus master failed: %s %s" % (r.stdout, r.stderr))
    d = dict(kv.split("=") for kv in line[-1].split()[1:])
    for k in d:
        if k != "diag":
            d[k] = int(d[k])
    return d


def measure(n, cycles):
    p, path = _sim(n)
    try:
        mpy = _master(mpy_unix.EXE, path, n, cycles)
        cpy = _master(sys.executable, path, n, cycles)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    wire = (mpy["tx"] + mpy["rx"]) / cycles
    us = mpy["us"] / cycles
    py_us = (mpy["us"] - mpy["wait_us"] - mpy["sleep_us"]) / cycles
    return {
        "n": n, "wire": wire, "min": minimum_bytes(n), "ratio": wire / minimum_bytes(n),
        "wire_ms": wire * BYTE_US / 1000, "mpy_ms": us / 1000, "py_share": py_us / us,
        "py_ms": py_us / 1000, "cpy_ms": cpy["us"] / cycles / 1000,
        "hw_ms": (py_us + wire * BYTE_US) / 1000 + ADC_WAIT_MS,
        "alloc": mpy["alloc"],
        "ok": mpy["wrong"] == 0 and mpy["fresh"] == n * cycles and cpy["wrong"] == 0,
    }


# --- fuzz ----------------------------------------------------------------------
def _reply(rng):
    count = rng.randint(1, 24)
    r = bytearray([rng.randint(1, 62) << 1, rng.randint(0, 0x4B), count])
    r += bytes(rng.randint(0, 255) for _ in range(count))
    return bytes(r + bytes([codec.crc8(r)]))


def _single_fault(rng, frame):
    """One fault of a kind CRC-8 plus the length checks always catch."""
    kind = rng.randrange(6)
    pos = rng.randrange(len(frame))
    b = bytearray(frame)
    if kind == 0:                       # one byte corrupted, any way
        b[pos] ^= rng.randint(1, 255)
    elif kind == 1:                     # one byte dropped
        del b[pos]
    elif kind == 2:                     # one byte inserted
        b.insert(pos, rng.randint(0, 255))
    elif kind == 3:                     # truncated
        b = b[:pos]
    elif kind == 4:                     # an odd number of bit errors anywhere
        bits = rng.sample(range(len(b) * 8), rng.choice((1, 3, 5, 7)))
        for bit in bits:
            b[bit // 8] ^= 0x80 >> (bit % 8)
    else:                               # a burst of 2..8 bits, across byte edges
        start = rng.randrange(len(b) * 8 - 7)
        pat = rng.randint(1, 255) | 0x81
        for k in range(8):
            if pat & (0x80 >> k):
                bit = start + k
                b[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(b)


def fuzz_parser(frames, seed=1):
    rng = random.Random(seed)
    detected = accepted = 0
    for _ in range(frames):
        good = _reply(rng)
        if codec.parse_reply(_single_fault(rng, good), good[0] >> 1, good[1], good[2]) == F.OK:
            accepted += 1
        else:
            detected += 1
    return detected, accepted


def fuzz_random_streams(frames, seed=2):
    rng = random.Random(seed)
    accepted = 0
    for _ in range(frames):
        data = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 30)))
        if codec.parse_reply(data, rng.randint(1, 62), rng.randint(0, 0x4B), rng.randint(1, 26)) == F.OK:
            accepted += 1
    return frames - accepted, accepted


def fuzz_multi(frames, seed=3):
    """2..4 corrupted bytes in one frame: outside CRC-8's guarantee (~1/256 pass)."""
    rng = random.Random(seed)
    accepted = 0
    for _ in range(frames):
        good = _reply(rng)
        b = bytearray(good)
        for pos in rng.sample(range(len(b)), rng.randint(2, 4)):
            b[pos] ^= rng.randint(1, 255)
        if codec.parse_reply(bytes(b), good[0] >> 1, good[1], good[2]) == F.OK:
            accepted += 1
    return frames - accepted, accepted


def fuzz_master(cycles, noise=0.01, boards=4, seed=11):
    """The bus master against the emulator with noise on every byte both ways (at
    most one fault per frame): frames tried, failed frames detected, wrong values."""
    from bms import config
    from bms.diagnosis import Diagnosis
    from drivers.tesla_bus import TeslaBus
    from simulator.tesla_direct import ChainLink
    link = ChainLink(boards, noise=noise, seed=seed)
    cfg = config.make({"module_count": boards, "bus_timeout_ms": 3, "bus_reset_wait_ms": 0,
                       "bus_retry_budget": 32})
    bus = TeslaBus(link, cfg, Diagnosis())
    truth = [[3000 + 150 * b + 11 * c for c in range(6)] for b in range(boards)]
    for b in range(boards):
        link.chain.set_cells(b, truth[b])
    wrong = 0
    t = 0
    for _ in range(cycles):
        t += 250
        bus.poll(t)
        for b in range(boards):
            if bus.board_age_ms(b, t) == 0:
                if [bus.cell_mv(b * 6 + c) for c in range(6)] != truth[b]:
                    wrong += 1
    detected = sum(bus.link.stats[:F.ERROR_COUNT])
    return bus.link.frames, detected, wrong, sum(link.chain.injected)


def run(args):
    quick = getattr(args, "quick", False)
    cycles = 20 if quick else 200
    print("Tesla module bus, %d cycles per size; bus master on MicroPython unix (192K heap)"
          " and CPython, emulator: pybms sim modules (CPython) over a pty" % cycles)
    print("%6s %10s %9s %6s %11s %11s %9s %11s %11s" % (
        "boards", "bytes/cyc", "minimum", "ratio", "wire ms@612k", "mpy ms/cyc", "python %",
        "cpy ms/cyc", "est. hw ms"))
    res = {}
    for n in (1, 16, 62):
        m = measure(n, cycles)
        res[n] = m
        print("%6d %10.1f %9d %6.3f %11.2f %11.2f %8.0f%% %11.2f %11.2f%s" % (
            n, m["wire"], m["min"], m["ratio"], m["wire_ms"], m["mpy_ms"],
            100 * m["py_share"], m["cpy_ms"], m["hw_ms"], "" if m["ok"] else "  VALUES WRONG"))
    print("bytes/cyc: out + back per clean cycle; minimum: 8 + 26 x boards (one broadcast"
          " convert, one 19-byte read per board); est. hw: Python time + wire time + %d ms"
          " ADC wait (board forwarding latency not included)" % ADC_WAIT_MS)
    print("bytes allocated by the timed MicroPython cycles (gc.mem_alloc, gc disabled): %s"
          % ", ".join("%d boards %d" % (n, res[n]["alloc"]) for n in (1, 16, 62)))
    n_parse = 4000 if quick else 100000
    n_master = 40 if quick else 400
    print()
    print("fuzz (single fault per frame: 1 corrupted / dropped / inserted byte, truncation,"
          " odd bit errors, bursts <= 8 bits)")
    rows = (("parser, faulted replies",) + fuzz_parser(n_parse),
            ("parser, random byte streams",) + fuzz_random_streams(n_parse))
    frames, det, wrong, injected = fuzz_master(n_master)
    print("%-34s %10s %10s %10s" % ("", "frames", "detected", "accepted"))
    total = bad = 0
    for name, d, a in rows:
        print("%-34s %10d %10d %10d" % (name, d + a, d, a))
        total += d + a
        bad += a
    print("%-34s %10d %10d %10d   (%d faults injected, %d cycles x 4 boards)" % (
        "bus master vs emulator, noise 1%", frames, det, wrong, injected, n_master))
    total += frames
    bad += wrong
    d, a = fuzz_multi(n_parse)
    print("%-34s %10d %10d %10d   (outside CRC-8's guarantee: not in the totals)" % (
        "parser, 2..4 corrupted bytes", d + a, d, a))
    print()
    from tools.bench import tesla_m0
    why = tesla_m0.missing()
    m0 = {}
    if why is None:
        try:
            m0 = tesla_m0.count()
        except Exception as e:  # noqa: BLE001 - a broken emulator must not hide the rest
            why = str(e).splitlines()[0]
    if m0:
        print("emulated Cortex-M0 (qemu-m0, canned replies, heap used first): one steady-state poll")
        for n in sorted(m0):
            print("  %2d boards: master %.2f M instructions, ~%.1f ms on an RP2040 (CPI %.1f at 125 MHz)"
                  % (n, m0[n][0] / 1e6, tesla_m0.rp2040_ms(m0[n][0]), tesla_m0.CPI))
    else:
        print("instruction counts skipped: %s" % why)
    from tools.bench import tesla_pack
    frames = getattr(args, "frames", 0) or (3000 if quick else 1000000)
    print()
    print("end to end into the pack, 8 boards, %d frames per case (--frames sets it):"
          " bad = fresh reading with a cell > 5 mV or a temperature > 1 degC off" % frames)
    print("%-30s %9s %9s %6s %12s %9s  %s" % ("case", "frames", "fresh", "bad", "worst", "re-reads",
                                              "diagnoses seen"))
    pack = {}
    for name, key, r in tesla_pack.run_all(frames):
        pack[key] = r
        print("%-30s %9d %9d %6d %6d mV/%3d.%d C %8.3f%%  %s" % (
            name, r["frames"], r["fresh"], r["bad"], r["worst_mv"], r["worst_dc"] // 10,
            r["worst_dc"] % 10, 100.0 * r["rereads"] / r["frames"], ",".join(r["diag"]) or "-"))
    burst_bad = pack["burst"]["bad"] + pack["burst2"]["bad"]
    clean = pack["clean"]
    print("wire_ratio_16=%.3f cycle_ms_16_mpy=%.2f fuzz_frames=%d poll_minstr_m0_16=%s "
          "poll_minstr_m0_62=%s pack_bad_readings_ber1e3=%d pack_bad_readings_burst=%d "
          "pack_bad_readings_ber1e2=%d clean_rereads_pct=%.3f" % (
              res[16]["ratio"], res[16]["mpy_ms"], total,
              "%.2f" % (m0[16][0] / 1e6) if 16 in m0 else "na",
              "%.2f" % (m0[62][0] / 1e6) if 62 in m0 else "na",
              pack["ber1e3"]["bad"], burst_bad, pack["ber1e2"]["bad"],
              100.0 * clean["rereads"] / clean["frames"]))
    ok = bad == 0 and all(r["ok"] for r in res.values())
    return 0 if ok and pack["ber1e3"]["bad"] == 0 and burst_bad == 0 and not clean["diag"] else 1
