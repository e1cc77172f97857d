# Bytes a call allocates on MicroPython (gc.mem_alloc() delta with the collector
# off), for the "nothing in the hot path allocates" tests. Its own small module:
# tests/fw/support.py imports half the firmware, which would skew a test's heap.

import gc


def allocated_by(fn):
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        fn()
        return gc.mem_alloc() - before
    finally:
        gc.enable()
