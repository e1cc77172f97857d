# Battery heater: hysteresis, charge power, Fault, diagnoses, on-time, ineffective.

from bms import config
from bms import diagnosis as D
from bms import heater as H
from bms.heater import Heater

ON = {"heater_enabled": True, "heater_warn_s": 600, "heater_max_on_s": 3600}


def _h(overrides=None):
    o = dict(ON)
    o.update(overrides or {})
    return Heater(config.make(o))


def test_hysteresis_below_charge_temp_min_until_past_the_cold_release():
    h = _h()
    assert not h.update(0, 10, 10, True)
    assert h.update(1000, 9, 9, True) and h.runs == 1, "on before the cold stop (0 C)"
    assert h.update(1500, -1, -1, True) and h.runs == 1
    assert h.waiting(-1)
    assert h.update(2000, 10, 10, True), "still on until heater_hysteresis_c above"
    assert h.update(3000, 29, 29, True)
    assert not h.update(4000, 30, 30, True)
    assert not h.update(5000, 11, 11, True), "no restart inside the band"


def test_needs_charge_power_enable_and_permission():
    assert not _h({"heater_enabled": False}).update(0, -50, -50, True)
    h = _h()
    assert not h.update(0, -50, -50, False), "no charger to pay for the heat"
    assert not h.update(0, -50, -50, True, allowed=False), "off in Fault"
    assert h.update(0, -50, -50, True)
    assert not h.update(100, -50, -50, True, allowed=False)


def test_heater_related_diagnoses_switch_it_off():
    active = bytearray(D.COUNT)
    assert not H.blocked_by(active)
    for i in H.BLOCKING_DIAGS:
        active[i] = 1
        assert H.blocked_by(active)
        active[i] = 0
    h = _h()
    assert h.update(0, -50, -50, True)
    active[D.TEMP_SENSOR] = 1
    assert not h.update(100, -50, -50, True, blocked=H.blocked_by(active))


def test_warmest_module_stops_the_pad():
    h = _h()
    assert h.update(0, -50, 40, True)
    assert not h.update(100, -50, 100, True)


def test_no_warming_is_ineffective_and_stays_off_until_warm_or_reset():
    h = _h()
    assert h.update(0, -50, -50, True)
    assert h.update(599000, -45, -45, True)
    assert not h.update(600000, -45, -45, True) and h.ineffective
    assert not h.update(900000, -45, -45, True)
    h.acknowledge()
    assert h.update(901000, -45, -45, True) and h.runs == 2
    h2 = _h()
    h2.update(0, -50, -50, True)
    h2.update(600000, -45, -45, True)
    assert h2.ineffective
    h2.update(700000, 31, 31, True)
    assert not h2.ineffective, "warm again: the next cold morning may try again"


def test_on_time_is_limited_then_rests():
    h = _h()
    assert h.update(0, -50, -50, True)
    assert h.update(3599000, -20, -20, True)
    assert not h.update(3600000, -20, -20, True) and h.state == H.RESTING
    assert not h.update(4499000, -20, -20, True)
    assert h.update(4500000, -20, -20, True) and h.runs == 2


def test_wrapping_ticks_are_handled():
    h = _h()
    t0 = (1 << 30) - 1000
    assert h.update(t0, -50, -50, True)
    assert h.update(5000, -50, -50, True), "2**30 wrap: 6 s later, still heating"
