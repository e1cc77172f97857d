# tools/mpy/native_size.py: the native code an RP2040 loads into its heap from the
# firmware's .mpy files (what `pybms bench app` adds to the .mpy figure).
import pytest

from tools.mpy import native_size


def test_viper_code_counts_and_bytecode_does_not():
    sizes = native_size.native_bytes(["protocols.tesla.plausible", "bms.units",
                                      "no.such.module"])
    if sizes is None:
        pytest.skip("the pinned MicroPython source is not built (make test-micropython32)")
    assert set(sizes) == {"protocols.tesla.plausible"}      # bms.units has no viper code
    # judge() and its helpers: kilobytes of Thumb code, in whole 16-byte GC blocks
    assert 1000 < sizes["protocols.tesla.plausible"] < 16000
    assert sizes["protocols.tesla.plausible"] % native_size.BLOCK == 0
