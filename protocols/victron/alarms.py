# 0x35A alarms and warnings from ONE mapping table: every diagnosis row
# (bms/diagnosis.py) and every signalled limits reason (bms/limits.py REASONS) names
# the Victron flag that shows it. Diagnosis severity FAULT sets the flag in the
# alarm half, WARN in the warning half. A flag (half) no source maps to is sent as
# 0 "not supported" rather than claiming OK; a mapped one is 2 "OK" until a source
# is active, then 1 "active". Encoding is table-driven and allocates nothing.

from bms import diagnosis as D
from bms import limits as L
from protocols.victron import FLAGS, FLAG_ACTIVE, FLAG_OK, flag_start

LIMITS_PREFIX = "limits:"

# (source, flag). Source: a diagnosis id, or "limits:<reason>" from bms.limits.REASONS.
MAP = (
    ("comm_loss", "bms_internal"),
    ("data_stale", "bms_internal"),
    ("module_count", "bms_internal"),
    ("comm_errors", "bms_internal"),
    ("board_fault", "general"),
    ("board_alert", "general"),
    ("temp_sensor", "bms_internal"),
    ("cell_ov", "high_voltage"),
    ("cell_ov_warn", "high_voltage"),
    ("cell_uv", "low_voltage"),
    ("cell_uv_warn", "low_voltage"),
    ("cell_imbalance", "cell_imbalance"),
    ("temp_high", "high_temp"),
    ("temp_high_warn", "high_temp"),
    ("temp_low", "low_temp"),
    ("temp_low_warn", "low_temp"),
    ("contactor_feedback", "contactor"),
    ("precharge_failed", "contactor"),
    ("over_current_charge", "high_charge_current"),
    ("over_current_discharge", "high_discharge_current"),
    ("current_sensor", "bms_internal"),
    ("internal", "bms_internal"),
    ("fault_latched", "general"),
    ("config_invalid", "bms_internal"),
    ("charge_overshoot", "high_voltage"),
    ("heater_ineffective", "low_temp_charge"),
    ("limits:stale", "bms_internal"),
    ("limits:cold_charge", "low_temp_charge"),
    ("limits:hot_charge", "high_temp_charge"),
    ("limits:hot_discharge", "high_temp"),
)

ALARM = "alarm"
WARNING = "warning"


def _reason(name):
    for row in L.REASONS:
        if row[L.R_NAME] == name:
            return row
    raise ValueError("alarm map: unknown limits reason %r" % name)


def resolve(source):
    """(kind, index or bit, half) of a MAP source: kind "diag" or "limits"."""
    if source.startswith(LIMITS_PREFIX):
        row = _reason(source[len(LIMITS_PREFIX):])
        if row[L.R_SEVERITY] is None:
            raise ValueError("alarm map: limits reason %r is declared not signalled" % source)
        return "limits", row[L.R_BIT], row[L.R_SEVERITY]
    if not D.known(source):
        raise ValueError("alarm map: unknown diagnosis id %r" % source)
    i = D.index(source)
    return "diag", i, ALARM if D.ROWS[i][D.SEVERITY] == D.FAULT else WARNING


def place(flag, half):
    """(byte, shift) of a flag's 2-bit pair in the 0x35A frame, for half ALARM or
    WARNING (protocols.victron.flag_start)."""
    start = flag_start(FLAGS.index(flag), half == WARNING)
    return start >> 3, start & 7


def _build():
    """The map resolved once: the diagnosis rows as flat bytes of (row, byte, shift)
    triples (one object, not a tuple per row), the few limits reasons as (bit, byte,
    shift) tuples (their bits do not fit a byte), and the frame with nothing active:
    2 for every mapped flag, 0 for the rest."""
    diag_rows = bytearray()
    limit_rows = []
    healthy = bytearray(8)
    for source, flag in MAP:
        kind, ref, half = resolve(source)
        byte, shift = place(flag, half)
        healthy[byte] |= FLAG_OK << shift
        if kind == "diag":
            diag_rows.extend(bytes((ref, byte, shift)))
        else:
            limit_rows.append((ref, byte, shift))
    return bytes(diag_rows), tuple(limit_rows), bytes(healthy)


_DIAG, _LIMITS, HEALTHY = _build()
del _build                 # import-time only: its code would stay in a board's heap


def _encode_rows(buf, rows, active, held):
    """buf[0:8] = HEALTHY, then the flag of every (row, byte, shift) triple of rows
    whose diagnosis row is active or held set to FLAG_ACTIVE. A healthy pack has
    none: any() over the two bytearrays (C speed, nothing allocated) skips the walk.
    The walk, when rows are active, costs ~30 k Cortex-M0 instructions a Victron
    cycle as bytecode; as native code it would hold ~0.6 KB of an RP2040's heap
    where the firmware is deployed as .mpy files (docs/architecture.md)."""
    buf[0:8] = HEALTHY
    if not (any(active) or any(held)):
        return
    n = len(rows)
    k = 0
    while k < n:
        i = rows[k]
        if active[i] or held[i]:
            byte = rows[k + 1]
            shift = rows[k + 2]
            buf[byte] = (buf[byte] & (0xFF ^ (3 << shift))) | (FLAG_ACTIVE << shift)
        k += 3


def encode(buf, active, reasons, held=None):
    """Fill 8-byte buf from Diagnosis.active (bytearray by row), Limits.reasons and
    `held`, the state machine's own fault record (Machine.faults, same rows): the
    faults it raised itself and the latch that keeps the battery off until reset."""
    _encode_rows(buf, _DIAG, active, active if held is None else held)
    for bit, byte, shift in _LIMITS:
        if reasons & bit:
            buf[byte] = (buf[byte] & ~(3 << shift)) | (FLAG_ACTIVE << shift)
