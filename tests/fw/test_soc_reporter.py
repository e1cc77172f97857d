# The Victron reporter sends a SOH learned by bms.soc instead of the configured one
# (its own module: the reporter's imports would crowd test_soc's heap on MicroPython).

from tools import victron_codec as V
from tests.fw.victron_support import Station


def test_reporter_sends_a_learned_soh_instead_of_the_configured_one():
    st = Station({"soh_pct": 80, "module_capacity_ah": 200})
    st.step(0, 5000, 10)
    assert V.unpack(0x355, st.last(0x355))["soh"] == 80
    assert V.unpack(0x35F, st.last(0x35F))["capacity_available"] == 160
    st.reporter.poll(2000, True, 5000, 10, 93)
    assert V.unpack(0x355, st.last(0x355))["soh"] == 93
    assert V.unpack(0x35F, st.last(0x35F))["capacity_available"] == 186
