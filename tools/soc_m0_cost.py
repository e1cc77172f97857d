# Guest script for the emulated Cortex-M0 (../shared/micropython/qemu-m0.sh): what one
# SoC update and one INA228 sample cost in instructions on an RP2040-class core.
# docs/soc.md quotes its output. Run (about 3 minutes, most of it the build):
#   (bms/pack.py holds native code, which this frozen build does not link: freeze
#   only the modules the script imports)
#   printf 'package("bms", files=("__init__.py","config.py","diagnosis.py","ocv.py","soc.py","soc_learn.py","soc_loaded.py","soc_record.py","ticks.py","units.py"), base_path="%s")\npackage("drivers", files=("__init__.py","clock.py","current_sensor.py","ina228.py","mcp3421.py","ntp.py","wall_clock.py"), base_path="%s")\n' $PWD $PWD > build/m0_manifest.py
#   /work/shared/micropython/qemu-m0.sh build build/m0 build/m0_manifest.py
#   PYTHON=.venv/bin/python /work/shared/micropython/qemu-m0.sh run build/m0/firmware.elf tools/soc_m0_cost.py
# (The I2C bus here is a Python stand-in: a real machine.I2C moves the bytes in C.)

import gc, time
from bms import config, soc as S
from drivers import current_sensor as CS

class Summ:
    valid = True
    v_pack = 3650 * 12
    v_min = 3650
    v_max = 3650

class ReplayI2C:
    def __init__(self, regs):
        self.regs = regs
        self.ptr = 0
    def writeto(self, addr, buf):
        if len(buf) == 1:
            self.ptr = buf[0]
    def readfrom_into(self, addr, buf):
        src = self.regs[self.ptr]
        for i in range(len(buf)):
            buf[i] = src[i]

def cost(fn, n):
    gc.collect()
    t0 = time.ticks_us()
    fn(n)
    return time.ticks_diff(time.ticks_us(), t0) * 1000 // n   # instructions per call

cfg = config.make({"current_sensor": "ina228_shunt"})
est = S.SocEstimator(cfg, 12)
s = Summ()
t = [0]
est.update(0, 0, True, s)
def soc_run(n):
    for _ in range(n):
        t[0] += 50
        est.update(t[0], -30000, True, s)
soc_run(50)
print("soc_update_instr", cost(soc_run, 200))
regs = {0x3E: bytearray(b"\x54\x49"), 0x3F: bytearray(b"\x22\x81"),
        0x0B: bytearray(b"\x80\x02"), 0x04: bytearray(b"\x1f\x40\x00"),
        0x05: bytearray(b"\x3c\x00\x00"), 0x00: bytearray(b"\x00\x10")}
sensor = CS.make(cfg, ReplayI2C(regs), None)
tt = [0]
def sample(n):
    for _ in range(n):
        tt[0] += 50
        sensor.poll(tt[0])
sample(50)
print("ina228_sample_instr", cost(sample, 200))
print("mem_free", gc.mem_free())
