# What @micropython.viper code needs on both runtimes (the module bus, the pack
# summary), in one place, at the lowest layer so any layer may use it. On
# MicroPython the compiler turns @micropython.viper, const() and the ptr8/ptr16/ptr32
# casts into native code by name, so the names here are only imported; on CPython
# the decorator is a no-op and a cast is plain indexing.

try:
    import micropython  # noqa: F401
    from micropython import const  # noqa: F401
    ptr8 = ptr16 = ptr32 = None  # never called: viper compiles these names as casts
except ImportError:  # CPython
    class micropython:  # noqa: N801 - stands in for the MicroPython module
        @staticmethod
        def viper(f):
            return f

    def const(x):
        return x

    def ptr8(x):
        return x

    def ptr16(x):
        return x

    def ptr32(x):
        return x
