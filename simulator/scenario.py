# Scenario files (simulator/scenarios/NAME.json): topology, initial state and
# spreads, profiles, Victron options, firmware settings, events at times, how long,
# and the expected safe outcome as checks over the truth rows. Loading validates
# everything; a bad file raises ScenarioError naming the file, the key and the
# problem. The format is documented in docs/simulator.md. Host only.

import json
import os

from bms import config as bms_config
from bms import diagnosis
from simulator.current_sensor import FAULTS as SENSOR_FAULTS
from simulator.truth import NAMES as TRUTH_COLUMNS
from simulator.victron import OPTIONS as VICTRON_OPTIONS

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")

NUM = "number"
INT = "integer"
STR = "text"
BOOL = "boolean"

# Sections with fixed keys: key -> (kind, low, high, default). None bounds: open.
SECTIONS = {
    "topology": {
        "series": (INT, 1, 16, 2),
        "parallel": (INT, 1, 8, 1),
    },
    "pack": {
        "soc": (NUM, 0.0, 1.0, 0.5),
        "soc_spread": (NUM, 0.0, 0.2, 0.0),
        "capacity_spread": (NUM, 0.0, 0.3, 0.0),
        "self_discharge_spread": (NUM, 0.0, 2.0, 0.0),
        "temp_c": (NUM, -30.0, 80.0, 25.0),
        "ambient_c": (NUM, -30.0, 60.0, 25.0),
        "seed": (INT, 0, None, 1),
    },
    "power_path": {
        "precharge_ohm": (NUM, 1.0, 1000.0, 20.0),
        "bus_capacitance_f": (NUM, 1e-5, 1.0, 0.0047),
        "standby_w": (NUM, 0.0, 500.0, 1.0),
    },
    "profile": {
        "start_hour": (NUM, 0.0, 24.0, 8.0),
        "solar_peak_w": (NUM, 0.0, 100000.0, 0.0),
        "clouds": (NUM, 0.0, 1.0, 0.0),
        "load_base_w": (NUM, 0.0, 100000.0, 0.0),
        "load_peak_w": (NUM, 0.0, 100000.0, 0.0),
        "solar_w": (NUM, 0.0, 100000.0, None),
        "load_w": (NUM, 0.0, 100000.0, None),
        "seed": (INT, 0, None, 1),
    },
    "sensor": {
        "kind": (STR, ("hall", "shunt"), None, "hall"),
        "offset_a": (NUM, -50.0, 50.0, 0.0),
        "gain_error": (NUM, -0.5, 0.5, 0.0),
        "noise_a": (NUM, 0.0, 50.0, 0.0),
        "bandwidth_hz": (NUM, 0.01, 100000.0, None),
    },
    "run": {
        "step_s": (NUM, 0.001, 1.0, 0.05),
        "truth_every_s": (NUM, 0.01, 3600.0, 1.0),
    },
}
SECTIONS["victron"] = dict((k, (BOOL if isinstance(v, bool) else NUM, None, None, v))
                           for k, v in VICTRON_OPTIONS.items())

# Events: kind -> (parameters: name -> (kind, low, high), what it does).
_MODULE = (INT, 0, 127)
EVENTS = {
    "weld": ({"contactor": (STR, ("negative", "precharge", "positive"), None)},
             "the contactor's contacts weld: once closed it never opens"),
    "coil_dead": ({"contactor": (STR, ("negative", "precharge", "positive"), None)},
                  "the contactor's coil never pulls in"),
    "bus_short": ({"ohm": (NUM, 0.001, 1e6)}, "a short or too large a load on the DC bus"),
    "bus_short_clear": ({}, "the short is removed"),
    "dc_load": ({"amps": (NUM, 0.0, 5000.0)},
                "a DC load on the bus that no Victron limit governs (0 removes it)"),
    "external_current": ({"module": _MODULE, "amps": (NUM, -500.0, 500.0)},
                         "a charger (+) or load (-) wired to one module only (0 removes it)"),
    "heat": ({"module": _MODULE, "watts": (NUM, 0.0, 100000.0)},
             "extra heat in one module (a bad connection); 0 removes it"),
    "ambient": ({"celsius": (NUM, -40.0, 70.0)}, "the ambient temperature changes"),
    "cell_soc": ({"module": _MODULE, "group": (INT, 0, 5), "soc": (NUM, -0.05, 1.1)},
                 "set one cell group's state of charge (initial imbalance)"),
    "thermistor_open": ({"module": _MODULE, "sensor": (INT, 0, 1)},
                        "a module thermistor reads open"),
    "thermistor_short": ({"module": _MODULE, "sensor": (INT, 0, 1)},
                         "a module thermistor reads shorted"),
    "ring_break": ({"module": _MODULE}, "the module bus is broken at this board (cable pulled)"),
    "ring_restore": ({"module": _MODULE}, "the cable is back"),
    "board_reset": ({"module": _MODULE},
                    "the board browns out: it forgets its address and settings"),
    "board_silent": ({"module": _MODULE}, "the board stops answering"),
    "sensor_fault": ({"fault": (STR, tuple(f for f in SENSOR_FAULTS if f), None)},
                     "the current sensor fails (railed or disconnected)"),
    "sensor_ok": ({}, "the current sensor works again"),
    "can_unplug": ({}, "the CAN cable is pulled: the GX hears nothing"),
    "can_plug": ({}, "the CAN cable is back"),
    "mppt_reset": ({}, "the operator resets the MPPTs' error #67"),
    "load": ({"watts": (NUM, 0.0, 100000.0)}, "the house load becomes constant"),
    "solar": ({"watts": (NUM, 0.0, 100000.0)}, "the solar power becomes constant"),
    "operator_reset": ({}, "the operator presses reset on the BMS"),
    "operator_connect": ({}, "the operator asks the BMS to connect"),
    "operator_disconnect": ({}, "the operator asks the BMS to disconnect"),
}

# Expected outcome: a list of checks over the truth rows.
#   {"always": [column, op, value], "from_s": a, "to_s": b}: holds in every row
#   {"sometime": [column, op, value], "from_s": a, "to_s": b}: holds in some row
#   {"at_end": [column, op, value]}: holds in the last row
#   {"when": [column, op, value], "then": [column, op, value], "within_s": d}: from
#       the first row where `when` holds, `then` holds in some row within d seconds
#   {"never_before": [column, op, value], "until": [column, op, value]}: the first
#       condition does not hold in any row before the second first holds
# ops: < <= > >= == != contains lacks (contains/lacks: text columns, ";" lists)
OPS = ("<", "<=", ">", ">=", "==", "!=", "contains", "lacks")
CHECK_KINDS = ("always", "sometime", "at_end", "when", "never_before")

TOP = {
    "name": (STR, True), "description": (STR, True), "duration_s": (NUM, True),
    "test_duration_s": (NUM, False), "topology": (dict, False), "pack": (dict, False),
    "power_path": (dict, False), "profile": (dict, False), "sensor": (dict, False),
    "run": (dict, False), "victron": (dict, False), "firmware": (dict, False),
    "events": (list, False), "expect": (list, True), "pending": (list, False),
}


class ScenarioError(ValueError):
    pass


class Scenario:
    """A validated scenario: sections as dicts with every default filled in."""

    def __init__(self, data, path):
        self.path = path
        self.name = data["name"]
        self.description = data["description"]
        self.duration_s = float(data["duration_s"])
        self.test_duration_s = float(data.get("test_duration_s", self.duration_s))
        for section in SECTIONS:
            setattr(self, section, data[section])
        self.firmware = data["firmware"]
        self.events = sorted(data["events"], key=lambda e: e["at_s"])
        self.expect = data["expect"]
        self.pending = data["pending"]

    def firmware_config(self, extra=None):
        o = {"module_count": self.topology["series"] * self.topology["parallel"],
             "parallel_strings": self.topology["parallel"]}
        o.update(self.firmware)
        if extra:
            o.update(extra)
        return bms_config.make(o)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _check_value(where, kind, low, high, v):
    if kind == BOOL:
        if not isinstance(v, bool):
            return "must be true or false, not %r" % (v,)
        return None
    if kind == STR:
        if not isinstance(v, str):
            return "must be text, not %r" % (v,)
        if low is not None and v not in low:
            return "must be one of %s, not %r" % (", ".join(low), v)
        return None
    if not _is_num(v):
        return "must be a number, not %r" % (v,)
    if kind == INT and v != int(v):
        return "must be an integer, not %r" % (v,)
    if low is not None and v < low or high is not None and v > high:
        return "%r is outside %s..%s" % (v, low, "" if high is None else high)
    return None


def load(name_or_path):
    """A Scenario from a name in simulator/scenarios or a path to a .json file."""
    path = name_or_path
    if not path.endswith(".json"):
        path = os.path.join(HERE, name_or_path + ".json")
        if not os.path.exists(path):
            raise ScenarioError("%s: no such scenario (pybms sim --list shows them)" % name_or_path)
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ScenarioError("%s: cannot read: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise ScenarioError("%s: not valid JSON: %s" % (path, e))
    return validate(data, path)


def validate(data, path="<scenario>"):
    def fail(key, problem):
        raise ScenarioError("%s: %s: %s" % (path, key, problem))

    if not isinstance(data, dict):
        fail("(top level)", "must be an object")
    for key in data:
        if key not in TOP:
            fail(key, "unknown key (known: %s)" % ", ".join(sorted(TOP)))
    for key, (kind, required) in TOP.items():
        if key not in data:
            if required:
                fail(key, "missing")
            continue
        v = data[key]
        if kind is dict and not isinstance(v, dict) or kind is list and not isinstance(v, list):
            fail(key, "must be a%s %s" % ("n" if kind is list else "", "object" if kind is dict else "list"))
        if kind == STR and (not isinstance(v, str) or not v):
            fail(key, "must be non-empty text")
        if kind == NUM and (not _is_num(v) or v <= 0):
            fail(key, "must be a number > 0, not %r" % (v,))
    stem = os.path.splitext(os.path.basename(path))[0]
    if path.endswith(".json") and data["name"] != stem:
        fail("name", "%r differs from the file name %r" % (data["name"], stem))
    out = dict(data)
    for section, keys in SECTIONS.items():
        given = data.get(section, {})
        filled = {}
        for k in given:
            if k not in keys:
                fail("%s.%s" % (section, k), "unknown key (known: %s)" % ", ".join(sorted(keys)))
        for k, (kind, low, high, default) in keys.items():
            if k in given:
                problem = _check_value(k, kind, low, high, given[k])
                if problem:
                    fail("%s.%s" % (section, k), problem)
                filled[k] = given[k]
            else:
                filled[k] = default
        out[section] = filled
    fw = data.get("firmware", {})
    try:
        probe = {"module_count": out["topology"]["series"] * out["topology"]["parallel"],
                 "parallel_strings": out["topology"]["parallel"]}
        probe.update(fw)
        bms_config.make(probe)
    except bms_config.ConfigError as e:
        fail("firmware", str(e))
    out["firmware"] = fw
    modules = out["topology"]["series"] * out["topology"]["parallel"]
    events = data.get("events", [])
    for n, ev in enumerate(events):
        where = "events[%d]" % n
        if not isinstance(ev, dict):
            fail(where, "must be an object")
        if "kind" not in ev or ev["kind"] not in EVENTS:
            fail(where + ".kind", "must be one of %s" % ", ".join(sorted(EVENTS)))
        if not _is_num(ev.get("at_s")) or ev["at_s"] < 0:
            fail(where + ".at_s", "must be a time in seconds >= 0")
        params, _text = EVENTS[ev["kind"]]
        for k in ev:
            if k not in params and k not in ("kind", "at_s"):
                fail("%s.%s" % (where, k), "not a parameter of %s (has: %s)"
                     % (ev["kind"], ", ".join(sorted(params)) or "none"))
        for k, (kind, low, high) in params.items():
            if k not in ev:
                fail("%s.%s" % (where, k), "missing")
            problem = _check_value(k, kind, low, high, ev[k])
            if problem:
                fail("%s.%s" % (where, k), problem)
            if k == "module" and ev[k] >= modules:
                fail("%s.%s" % (where, k), "module %d does not exist (%d modules)" % (ev[k], modules))
    out["events"] = events
    for n, check in enumerate(data["expect"]):
        _validate_check(check, "expect[%d]" % n, fail)
    pending = data.get("pending", [])
    for n, p in enumerate(pending):
        if not isinstance(p, str) or not p:
            fail("pending[%d]" % n, "must be non-empty text")
    out["pending"] = pending
    return Scenario(out, path)


def _validate_condition(cond, where, fail):
    if not isinstance(cond, list) or len(cond) != 3:
        fail(where, "must be [column, op, value]")
    column, op, value = cond
    if column not in TRUTH_COLUMNS:
        fail(where, "unknown truth column %r" % (column,))
    if op not in OPS:
        fail(where, "unknown op %r (one of %s)" % (op, " ".join(OPS)))
    if op in ("contains", "lacks"):
        if not isinstance(value, str):
            fail(where, "%s needs text" % op)
        if column == "bms_faults" and not diagnosis.known(value):
            fail(where, "%r is not a diagnosis id" % value)
    elif not (_is_num(value) or isinstance(value, str)):
        fail(where, "value must be a number or text")


def _validate_check(check, where, fail):
    if not isinstance(check, dict):
        fail(where, "must be an object")
    kinds = [k for k in CHECK_KINDS if k in check]
    if len(kinds) != 1:
        fail(where, "needs exactly one of %s" % ", ".join(CHECK_KINDS))
    kind = kinds[0]
    allowed = {"always": ("from_s", "to_s"), "sometime": ("from_s", "to_s"), "at_end": (),
               "when": ("then", "within_s"), "never_before": ("until",)}[kind]
    for k in check:
        if k != kind and k not in allowed and k != "why":
            fail("%s.%s" % (where, k), "not used by a %r check" % kind)
    _validate_condition(check[kind], "%s.%s" % (where, kind), fail)
    for k in ("then", "until"):
        if k in allowed:
            if k not in check:
                fail("%s.%s" % (where, k), "missing")
            _validate_condition(check[k], "%s.%s" % (where, k), fail)
    for k in ("from_s", "to_s", "within_s"):
        if k in check and (not _is_num(check[k]) or check[k] < 0):
            fail("%s.%s" % (where, k), "must be seconds >= 0")
    if kind == "when" and "within_s" not in check:
        fail(where + ".within_s", "missing")


def names():
    return sorted(n[:-5] for n in os.listdir(HERE) if n.endswith(".json"))
