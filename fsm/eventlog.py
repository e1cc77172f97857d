# JSON Lines event log (format: docs/event-log.md). One record per line; the kind
# of a record is told by which key it carries: log, event, transition, rejected,
# error. Writing allocates, so a machine without a log (log=None) allocates nothing.
# With a known wall clock (drivers.wall_clock.WallClock) every record also carries utc_s.

import json

FORMAT = "pybms-events"
VERSION = 1


def _value(v):
    # JSON has no NaN or infinity (and MicroPython would write bare nan), nor bytes
    # or other objects: log null. A replayed null fails the same field checks
    # (fsm.table.EVENT_FIELDS) the original value failed.
    if isinstance(v, float) and (v != v or v == _INF or v == -_INF):
        return "null"
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return "null"


_INF = float("inf")


class EventLog:
    """With a wall clock (drivers.wall_clock.WallClock) each record carries utc_s right
    after t_ms while the clock is known: formatted from two small ints in the same
    operation as the record, so it costs only its characters (no float, big int or
    extra string; tests/fw/test_eventlog_wall.py measures it)."""

    def __init__(self, stream, wall=None):
        self.stream = stream  # anything with write(str): file, UART, list adapter
        self.wall = wall      # a drivers.wall_clock.WallClock, or None: uptime only

    def wall_at(self, t_ms):
        """The wall clock set to t_ms (its hi, lo), or None when unknown."""
        w = self.wall
        return w if w is not None and w.at(t_ms) else None

    def header(self, t_ms, cfg):
        w = self.wall_at(t_ms)
        if w is None:
            head = '{"t_ms": %d' % t_ms
        else:
            head = '{"t_ms": %d, "utc_s": %d%05d' % (t_ms, w.hi, w.lo)
        self.stream.write('%s, "log": "%s", "version": %d, "config": %s}\n'
                          % (head, FORMAT, VERSION, json.dumps(cfg)))

    def event(self, t_ms, name, fields):
        w = self.wall_at(t_ms)
        if w is None:
            line = '{"t_ms": %d, "event": %s' % (t_ms, json.dumps(name))
        else:
            line = '{"t_ms": %d, "utc_s": %d%05d, "event": %s' % (t_ms, w.hi, w.lo,
                                                                 json.dumps(name))
        if isinstance(fields, dict):
            for key in fields:
                line += ', %s: %s' % (json.dumps(str(key)), _value(fields[key]))
        elif fields is not None:  # malformed: the machine rejects it, the log keeps it
            line += ', "fields": %s' % _value(fields)
        self.stream.write(line + "}\n")

    def transition(self, t_ms, event, source, dest):
        w = self.wall_at(t_ms)
        if w is None:
            self.stream.write('{"t_ms": %d, "transition": "%s->%s", "on": %s}\n'
                              % (t_ms, source, dest, json.dumps(event)))
        else:
            self.stream.write('{"t_ms": %d, "utc_s": %d%05d, "transition": "%s->%s", '
                              '"on": %s}\n' % (t_ms, w.hi, w.lo, source, dest, json.dumps(event)))

    def rejected(self, t_ms, event, state, reason, detail=None):
        w = self.wall_at(t_ms)
        if w is None:
            line = '{"t_ms": %d, "rejected": %s, "state": "%s", "reason": "%s"' \
                % (t_ms, json.dumps(event), state, reason)
        else:
            line = '{"t_ms": %d, "utc_s": %d%05d, "rejected": %s, "state": "%s", ' \
                '"reason": "%s"' % (t_ms, w.hi, w.lo, json.dumps(event), state, reason)
        if detail is not None:
            line += ', "detail": %s' % json.dumps(detail)
        self.stream.write(line + "}\n")

    def error(self, t_ms, event, message):
        w = self.wall_at(t_ms)
        if w is None:
            self.stream.write('{"t_ms": %d, "error": %s, "on": %s}\n'
                              % (t_ms, json.dumps(message), json.dumps(event)))
        else:
            self.stream.write('{"t_ms": %d, "utc_s": %d%05d, "error": %s, "on": %s}\n'
                              % (t_ms, w.hi, w.lo, json.dumps(message), json.dumps(event)))


class ListStream:
    """Collects lines in memory (tests, replay, a RAM ring later)."""

    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)
