# `pybms replay LOG.jsonl [--check]`: feed a recorded event log (docs/event-log.md)
# through the firmware state machine and print the transitions it takes; with
# --check, compare them with the transitions the log recorded. Records that are
# not the state machine's (the charge phase, the heater) are checked for known
# names and for following on from the previous record of their kind, then skipped;
# the wall-time field utc_s, when a record has it, is never an event field.

import json
import sys

from bms import config
from bms.charge import CONDITION_NAMES, PHASES
from bms.heater import STATE_NAMES as HEATER_STATES
from drivers.contactors import Contactors
from drivers.gpio import MemoryPin
from fsm.context import Context
from fsm.eventlog import FORMAT, VERSION
from fsm.machine import Machine
from tools.cli import UsageError

RECORD_KINDS = ("log", "event", "transition", "rejected", "error", "phase", "heater")
# Keys every record may carry besides its kind's own (docs/event-log.md).
COMMON_KEYS = ("t_ms", "utc_s")
PHASE_NAMES = tuple(p[0] for p in PHASES)
PHASE_CAUSES = ("boot",) + CONDITION_NAMES


class LogError(Exception):
    def __init__(self, line_no, message):
        Exception.__init__(self, "line %d: %s" % (line_no, message))


class _Recorder:
    """An EventLog stand-in that keeps only the transitions the machine takes."""

    def __init__(self):
        self.transitions = []

    def transition(self, t_ms, event, source, dest):
        self.transitions.append((t_ms, source, dest, event))

    def event(self, *args):
        pass

    rejected = error = event


def parse(lines):
    """Records of a log as (line_no, kind, record); LogError on the first bad line."""
    out = []
    last = {}   # phase/heater -> the value its last record named (a header resets)
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise LogError(line_no, "not valid JSON (%s)" % e)
        if not isinstance(rec, dict):
            raise LogError(line_no, "expected a JSON object, got %s" % type(rec).__name__)
        kinds = [k for k in RECORD_KINDS if k in rec]
        if len(kinds) != 1:
            raise LogError(line_no, "a record needs exactly one of %s" % ", ".join(RECORD_KINDS))
        t = rec.get("t_ms")
        if not isinstance(t, int) or isinstance(t, bool) or t < 0:
            raise LogError(line_no, "t_ms must be a non-negative integer, got %r" % (t,))
        if "utc_s" in rec:
            u = rec["utc_s"]
            if not isinstance(u, int) or isinstance(u, bool) or u < 0:
                raise LogError(line_no, "utc_s must be a non-negative integer, got %r" % (u,))
        kind = kinds[0]
        if kind == "phase":
            _names(line_no, rec, "phase", PHASE_NAMES, "from", "on", PHASE_CAUSES)
            if rec["on"] != "boot" and "from" not in rec:
                raise LogError(line_no, "phase record: a change needs \"from\"")
        if kind == "heater":
            _names(line_no, rec, "heater", HEATER_STATES, "from")
        if kind in ("phase", "heater"):
            # Each change starts where the previous record of its kind ended.
            if "from" in rec and last.get(kind, rec["from"]) != rec["from"]:
                raise LogError(line_no, "%s record: from %s, but the record before says %s"
                               % (kind, rec["from"], last[kind]))
            last[kind] = rec[kind]
        if kind == "log":
            last = {}
        if kind == "event" and not isinstance(rec["event"], str):
            raise LogError(line_no, "event must be a string, got %r" % (rec["event"],))
        if kind == "transition":
            parts = rec["transition"].split("->") if isinstance(rec["transition"], str) else []
            if len(parts) != 2 or not isinstance(rec.get("on"), str):
                raise LogError(line_no, 'transition must look like "From->To" with "on": event')
        if kind == "log":
            if rec["log"] != FORMAT or rec.get("version") != VERSION:
                raise LogError(line_no, "not a %s version %d log" % (FORMAT, VERSION))
            if not isinstance(rec.get("config", {}), dict):
                raise LogError(line_no, "config must be an object")
        out.append((line_no, kind, rec))
    return out


def _names(line_no, rec, key, names, prev_key, cause_key=None, causes=()):
    """A phase or heater record names known values (its previous one may be absent)."""
    for k, allowed, optional in ((key, names, False), (prev_key, names, True),
                                 (cause_key, causes, False)):
        if k is None or (optional and k not in rec):
            continue
        if rec.get(k) not in allowed:
            raise LogError(line_no, "%s record: %s must be one of %s, got %r"
                           % (key, k, ", ".join(allowed), rec.get(k)))


def replay(records):
    """Run the records through a fresh machine: (taken, recorded) transition lists."""
    overrides = {}
    headers = [(n, r) for n, k, r in records if k == "log"]
    if headers:
        line_no, header = headers[0]
        overrides = header.get("config", {})
        try:
            cfg = config.make(overrides)
        except config.ConfigError as e:
            raise LogError(line_no, "bad config: %s" % e)
    else:
        cfg = config.make()
    recorder = _Recorder()
    pins = [MemoryPin(n) for n in ("negative", "precharge", "positive")]
    machine = Machine(Context(cfg, Contactors(*pins)), recorder)
    first = [r["t_ms"] for n, k, r in records if k == "event"]
    machine.start(first[0] if first else 0)
    recorded = []
    for line_no, kind, rec in records:
        if kind == "event":
            fields = dict((k, v) for k, v in rec.items() if k not in COMMON_KEYS + ("event",))
            machine.dispatch(rec["event"], rec["t_ms"], fields or None)
        elif kind == "transition":
            source, dest = rec["transition"].split("->")
            recorded.append((rec["t_ms"], source, dest, rec["on"], line_no))
    return recorder.transitions, recorded, bool(headers)


def _fmt(t):
    return "%d %s -> %s on %s" % (t[0], t[1], t[2], t[3])


def first_difference(taken, recorded):
    """None when they agree, else a sentence naming the first difference."""
    for i in range(max(len(taken), len(recorded))):
        got = taken[i] if i < len(taken) else None
        want = recorded[i] if i < len(recorded) else None
        if got is not None and want is not None and got == want[:4]:
            continue
        if want is None:
            return "transition #%d: the log ends, but replay took %s" % (i + 1, _fmt(got))
        if got is None:
            return "transition #%d (line %d): the log says %s, replay took none" % (
                i + 1, want[4], _fmt(want))
        return "transition #%d (line %d): the log says %s, replay took %s" % (
            i + 1, want[4], _fmt(want), _fmt(got))
    return None


def add_arguments(parser):
    parser.add_argument("log", metavar="LOG.jsonl", help="event log in JSON Lines")
    parser.add_argument("--check", action="store_true",
                        help="exit 1, naming the first difference, when the replayed "
                             "transitions differ from those recorded in the log")


def run(args):
    try:
        with open(args.log) as f:
            lines = f.readlines()
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (args.log, e.strerror or e))
    except UnicodeDecodeError:
        raise UsageError("%s is not a text file" % args.log)
    try:
        taken, recorded, has_header = replay(parse(lines))
    except LogError as e:
        raise UsageError("%s: %s" % (args.log, e))
    if not has_header:
        print("note: %s has no header line; replaying with the default configuration"
              % args.log, file=sys.stderr)
    for t in taken:
        print(_fmt(t))
    if args.check:
        diff = first_difference(taken, recorded)
        if diff:
            print("MISMATCH at %s" % diff, file=sys.stderr)
            return 1
        print("check: %d transitions match the log" % len(recorded), file=sys.stderr)
    return 0
