# JSON Lines event log (format: docs/event-log.md). One record per line; the kind
# of a record is told by which key it carries: log, event, transition, rejected,
# error. Writing allocates, so a machine without a log (log=None) allocates nothing.
# With a wall clock (drivers.clock.WallClock) every record also carries utc_s.

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
    def __init__(self, stream, wall=None):
        self.stream = stream  # anything with write(str): file, UART, list adapter
        self.wall = wall      # a drivers.clock.WallClock, or None: uptime only

    def end(self, t_ms):
        """A record's closing: the wall-time field when the clock is known (utc_s,
        Unix seconds, formatted from two small ints: nothing allocated but the
        characters), then the brace."""
        w = self.wall
        if w is None or not w.at(t_ms):
            return "}\n"
        return ', "utc_s": %d%05d}\n' % (w.hi, w.lo)

    def header(self, t_ms, cfg):
        self.stream.write('{"t_ms": %d, "log": "%s", "version": %d, "config": %s%s'
                          % (t_ms, FORMAT, VERSION, json.dumps(cfg), self.end(t_ms)))

    def event(self, t_ms, name, fields):
        line = '{"t_ms": %d, "event": %s' % (t_ms, json.dumps(name))
        if isinstance(fields, dict):
            for key in fields:
                line += ', %s: %s' % (json.dumps(str(key)), _value(fields[key]))
        elif fields is not None:  # malformed: the machine rejects it, the log keeps it
            line += ', "fields": %s' % _value(fields)
        self.stream.write(line + self.end(t_ms))

    def transition(self, t_ms, event, source, dest):
        self.stream.write('{"t_ms": %d, "transition": "%s->%s", "on": %s%s'
                          % (t_ms, source, dest, json.dumps(event), self.end(t_ms)))

    def rejected(self, t_ms, event, state, reason, detail=None):
        line = '{"t_ms": %d, "rejected": %s, "state": "%s", "reason": "%s"' \
            % (t_ms, json.dumps(event), state, reason)
        if detail is not None:
            line += ', "detail": %s' % json.dumps(detail)
        self.stream.write(line + self.end(t_ms))

    def error(self, t_ms, event, message):
        self.stream.write('{"t_ms": %d, "error": %s, "on": %s%s'
                          % (t_ms, json.dumps(message), json.dumps(event), self.end(t_ms)))


class ListStream:
    """Collects lines in memory (tests, replay, a RAM ring later)."""

    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)
