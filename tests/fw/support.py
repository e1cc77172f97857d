# Helpers for tests that run under CPython pytest and the MicroPython runner alike:
# plain functions and asserts, no pytest features.

import sys

from bms import config
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm.context import Context
from fsm.eventlog import EventLog, ListStream
from fsm.machine import Machine

MICROPYTHON = sys.implementation.name == "micropython"


class Skip(Exception):
    """Raise to mark a test that does not apply on this runtime."""


def skip(reason):
    try:
        import pytest
    except ImportError:
        raise Skip(reason)
    pytest.skip(reason)


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception it raised; fail if it raised nothing."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s did not raise %s" % (fn, exc_type.__name__))


class Rig:
    """A machine wired to memory pins, with its pin history and event log."""

    def __init__(self, overrides=None, log=True, feedback=None):
        self.history = []
        self.pins = (MemoryPin("negative", record=self.history),
                     MemoryPin("precharge", record=self.history),
                     MemoryPin("positive", record=self.history))
        self.cfg = config.make(overrides)
        self.contactors = Contactors(self.pins[0], self.pins[1], self.pins[2], feedback)
        self.ctx = Context(self.cfg, self.contactors)
        self.stream = ListStream()
        self.machine = Machine(self.ctx, EventLog(self.stream) if log else None)
        self.machine.start(0)
        self.t = 0

    def send(self, event, fields=None, dt=100):
        self.t += dt
        return self.machine.dispatch(event, self.t, fields)

    def ticks(self, n, dt=100):
        for _ in range(n):
            self.send("tick", dt=dt)

    @property
    def state(self):
        return self.machine.state_name

    def outputs(self):
        return tuple(p.value() for p in self.pins)

    def to_run(self):
        """Boot, precharge and close the mains the normal way."""
        self.send("pack_ready")
        self.send("tick")
        assert self.state == "Precharge", self.state
        self.send("bus_voltage", {"v_bus": 49.6, "v_pack": 50.0})
        assert self.state == "Run", self.state
        self.ticks(self.cfg["precharge_overlap_ms"] // 100)   # precharge opens

    def reach(self, state):
        """Drive a fresh rig to `state` by the ordinary events."""
        if state in ("Precharge", "Run", "Balance"):
            self.send("pack_ready")
            self.send("tick")
        if state in ("Run", "Balance"):
            self.send("bus_voltage", {"v_bus": 50.0, "v_pack": 50.0})
        if state == "Balance":
            self.send("balance_needed")
        if state == "Fault":
            self.send("fault", {"diag": "cell_ov"})
        if state == "Shutdown":
            self.send("shutdown")
        assert self.state == state, (state, self.state)
