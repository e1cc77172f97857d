# The bus master's poll counted in instructions on an emulated Cortex-M0 (RP2040 class):
# builds a MicroPython firmware with the repository's manifest frozen in (as
# /work/shared/micropython/qemu-m0.sh builds it, plus the native emitter and armv6m
# native code, as ports/rp2 has them) into build/m0n/, then runs
# tools/bench/tesla_m0_guest.py in it. instructions = 1000 x ticks_us.

import os
import re
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("PYBMS_MICROPYTHON_DIR", "/work/shared/micropython")
OUT = os.path.join(ROOT, "build", "m0n")
GUEST = os.path.join(ROOT, "tools", "bench", "tesla_m0_guest.py")
CPI = 1.8            # qemu-m0.sh: RP2040 cycles per instruction (1.3..2.0)
CLOCK_KHZ = 125000   # RP2040 at 125 MHz


def missing():
    """Why the count cannot run here, or None."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if not shutil.which(tool):
            return "%s not installed" % tool
    if not os.path.exists(os.path.join(SHARED, "qemu-m0.sh")):
        return "%s/qemu-m0.sh not found" % SHARED
    if not [n for n in os.listdir(SHARED) if n.endswith("-src.tar.gz")]:
        return "MicroPython source archive not found in %s" % SHARED
    return None


def _firmware_sources():
    for top in ("bms", "drivers", "protocols", "fsm", "states", "boards"):
        for folder, _d, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".py"):
                    yield os.path.join(folder, f)
    yield os.path.join(ROOT, "manifest.py")


def build():
    elf = os.path.join(OUT, "firmware.elf")
    if os.path.exists(elf) and os.path.getmtime(elf) >= max(
            os.path.getmtime(p) for p in _firmware_sources()):
        return elf
    src = os.path.join(OUT, "src")
    mp = os.path.join(src, "micropython")
    if not os.path.exists(os.path.join(mp, "ports", "qemu", "Makefile")):
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        archive = [n for n in os.listdir(SHARED) if n.endswith("-src.tar.gz")][0]
        with tarfile.open(os.path.join(SHARED, archive)) as tar:
            tar.extractall(src)
    nolib = os.path.join(src, "no-micropython-lib")
    os.makedirs(nolib, exist_ok=True)
    with open(os.path.join(nolib, "README.md"), "w") as f:
        f.write("not used\n")
    subprocess.run(["make", "-s", "-C", os.path.join(mp, "mpy-cross"), "-j2"], check=True,
                   capture_output=True)
    subprocess.run(
        ["make", "-s", "-C", os.path.join(mp, "ports", "qemu"), "-f", "Makefile", "-f",
         os.path.join(SHARED, "rp2like.mk"), "-j2", "BOARD=MICROBIT",
         "BUILD=" + os.path.join(OUT, "build"), "MICROPY_HEAP_SIZE=196608",
         "FROZEN_MANIFEST=" + os.path.join(ROOT, "manifest.py"), "MPY_LIB_DIR=" + nolib,
         "MPY_CROSS_FLAGS=-march=armv6m",
         "CFLAGS_EXTRA=-mcpu=cortex-m0plus -DCPU_FREQ_HZ=16000000 -DMICROPY_OPT_COMPUTED_GOTO=1"
         " -DMICROPY_EMIT_THUMB=1 -DMICROPY_EMIT_INLINE_THUMB=1 -DMICROPY_EMIT_THUMB_ARMV7M=0"],
        check=True, capture_output=True)
    shutil.copy(os.path.join(OUT, "build", "firmware.elf"), elf)
    return elf


def count(sizes=(16, 62)):
    """{boards: (master instructions, link instructions)} of one steady-state poll."""
    elf = build()
    script = os.path.join(OUT, "guest.py")
    with open(GUEST) as f, open(script, "w") as g:
        g.write("SIZES = %r\n" % (tuple(sizes),) + f.read())
    env = dict(os.environ, PYTHON=sys.executable)
    r = subprocess.run([os.path.join(SHARED, "qemu-m0.sh"), "run", elf, script, "600"],
                       capture_output=True, text=True, env=env, timeout=900)
    out = {}
    for m in re.finditer(r"M0 boards=(\d+) poll_us=(\d+) link_us=(\d+)", r.stdout):
        n, poll, link = int(m.group(1)), int(m.group(2)), int(m.group(3))
        out[n] = ((poll - link) * 1000, link * 1000)
    if not out:
        raise RuntimeError("emulated poll failed: %s %s" % (r.stdout[-2000:], r.stderr[-2000:]))
    return out


def rp2040_ms(instructions):
    return instructions * CPI / CLOCK_KHZ


if __name__ == "__main__":
    for n, (master, link) in sorted(count().items()):
        print("%d boards: master %.2f M instructions (%.1f ms on an RP2040), link stand-in %.2f M"
              % (n, master / 1e6, rp2040_ms(master), link / 1e6))
