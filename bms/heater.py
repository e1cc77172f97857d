# Battery heater: one output (a board pin the caller drives from `on`).
#
#   on    when the coldest module is below charge_temp_min (+ half of
#         temp_hysteresis_c: it keeps a charging pack above the cold stop, so CCL
#         does not toggle as the pack cools), charge power is there to
#         pay for the heat, the heater is enabled and nothing blocks it;
#   off   once the coldest module is heater_hysteresis_c above charge_temp_min (past
#         the point where the cold CCL stop releases, so charging follows heating),
#         in Fault (the caller passes allowed=False), on any heater-related
#         diagnosis (blocked_by()), when the warmest module reaches charge_temp_full
#         (a pad heats its own module first), and after heater_max_on_s on, for
#         a quarter of that;
#   ineffective  (the heater_ineffective warning): on for heater_warn_s without the
#         coldest module warming by 1 degC. The heater stays off until the
#         pack is warm by other means or acknowledge() (operator reset).
# Charging waits meanwhile: the cold row of bms.derate keeps CCL = 0 until warm.
# Plain inputs, integers, 0 bytes per update.

from bms import diagnosis as D
from bms import units
from bms.ticks import ticks_diff

# Diagnoses that switch the heater off: its own failure, thermistors that cannot be
# trusted (a heater on an open thermistor heats blind), and heat.
BLOCKING_DIAGS = (D.HEATER_INEFFECTIVE, D.TEMP_SENSOR, D.TEMP_HIGH_WARN, D.TEMP_HIGH)

MIN_RISE_DC = 10  # a working heater warms the coldest module 1 degC in heater_warn_s

OFF = 0
HEATING = 1
RESTING = 2      # after heater_max_on_s
STATE_NAMES = ("off", "heating", "resting")


def blocked_by(active):
    """True when a heater-related diagnosis is active (Diagnosis.active bytearray)."""
    for i in BLOCKING_DIAGS:
        if active[i]:
            return True
    return False


class Heater:
    def __init__(self, cfg):
        self.enabled = cfg["heater_enabled"]
        t_min = units.dc(cfg["charge_temp_min"])
        # On below the cold stop's release midpoint, not at the stop itself: a pack
        # that cools while charging is warmed before CCL latches 0 (no toggling).
        self.on_below = t_min + units.dc(cfg["temp_hysteresis_c"]) // 2
        self.off_at = t_min + units.dc(cfg["heater_hysteresis_c"])
        self.hot_dc = units.dc(cfg["charge_temp_full"])
        self.max_on_ms = cfg["heater_max_on_s"] * 1000
        self.rest_ms = self.max_on_ms // 4
        self.warn_ms = cfg["heater_warn_s"] * 1000
        self.min_rise = MIN_RISE_DC
        self.on = False
        self.state = OFF
        self.ineffective = False
        self.runs = 0            # heater switch-ons, for the log
        self._since = 0          # ticks of the last switch-on (or rest start)
        self._t_start = 0        # coldest module at switch-on, 0.1 degC

    def waiting(self, t_min_dc):
        """Charging waits for the heater (for the log and the console)."""
        return self.enabled and t_min_dc < self.off_at and (self.on or self.state == RESTING)

    def acknowledge(self):
        self.ineffective = False

    def update(self, t_ms, t_min_dc, t_max_dc, charge_power, allowed=True, blocked=False):
        """t_min_dc/t_max_dc: coldest/warmest module (PackSummary.t_min/t_max; the
        caller passes them only from a valid summary, else use allowed=False);
        charge_power: a charger can pay for the heat; allowed: False in Fault;
        blocked: blocked_by(diag.active). Returns on."""
        if t_min_dc >= self.off_at:
            self.ineffective = False  # warm (by sun or heater): a new try may follow
        if self.state == RESTING:
            if ticks_diff(t_ms, self._since) >= self.rest_ms:
                self.state = OFF
        ok = self.enabled and allowed and not blocked and charge_power \
            and not self.ineffective and t_max_dc < self.hot_dc
        if self.state == HEATING:
            elapsed = ticks_diff(t_ms, self._since)
            if not ok or t_min_dc >= self.off_at:
                self.state = OFF
            elif elapsed >= self.warn_ms and t_min_dc - self._t_start < self.min_rise:
                self.ineffective = True
                self.state = OFF
            elif elapsed >= self.max_on_ms:
                self.state = RESTING
                self._since = t_ms
        elif self.state == OFF and ok and t_min_dc < self.on_below:
            self.state = HEATING
            self._since = t_ms
            self._t_start = t_min_dc
            self.runs += 1
        self.on = self.state == HEATING
        return self.on
