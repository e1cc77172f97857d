# `pybms bench plant`: simulated days per wall-clock second of the plant alone
# (cells, modules, thermal, contactors and DC bus, current sensor, Victron model
# with a day of solar and load), accelerated, for a 2S and a 16S2P pack. No
# firmware is in the loop: a fixed BMS frame set stands in for it once a
# simulated second, the mains are closed. This is the plant's own speed; runs with
# the firmware in the loop are bounded by the firmware (tests/host/test_scenarios.py).

import time

import protocols.victron as V
from simulator.clock import SimClock
from simulator.plant import Plant
from simulator.scenario import validate

STEP_S = 10.0      # cells, RC and thermal are exact for a constant current per step


def _scenario(series, parallel):
    return validate({
        "name": "bench", "description": "bench", "duration_s": 86400,
        "topology": {"series": series, "parallel": parallel},
        "pack": {"soc": 0.5, "soc_spread": 0.01, "capacity_spread": 0.02,
                 "self_discharge_spread": 0.3},
        "profile": {"start_hour": 0, "solar_peak_w": 4000.0 * parallel, "clouds": 0.4,
                    "load_base_w": 300.0, "load_peak_w": 1500.0},
        "run": {"truth_every_s": 3600},
        "expect": [{"at_end": ["t_s", ">", 0]}],
    })


def _frame(series, parallel):
    cells = 6 * series
    return V.pack(0x351, {"cvl": 4.1 * cells, "ccl": 50.0 * parallel, "dcl": 100.0 * parallel,
                          "dvl": 3.25 * cells})


def days_per_second(series, parallel, sim_days):
    s = _scenario(series, parallel)
    clock = SimClock()
    plant = Plant(s, clock)
    plant.set_coils(1, 0, 1)
    frame = _frame(series, parallel)
    end = sim_days * 86400.0
    next_frame = 0.0
    t0 = time.perf_counter()
    while clock.t_s < end:
        if clock.t_s >= next_frame:
            plant.can_receive(0x351, frame)
            next_frame += 1.0
        plant.step(STEP_S)
    wall = time.perf_counter() - t0
    lo, hi, _ = plant.pack.soc_stats()
    return sim_days / wall, wall, plant.pack.energy_in_wh, lo, hi


def run(args):
    days = 0.25 if args.quick else 1.0
    rows = []
    for label, series, parallel in (("2s", 2, 1), ("16s2p", 16, 2)):
        d = days if series == 2 else days / 4
        rate, wall, energy, lo, hi = days_per_second(series, parallel, d)
        rows.append((label, series * parallel * 6, d, wall, rate, energy / 1000.0, lo, hi))
    print("plant alone (no firmware in the loop), accelerated, step %.0f s" % STEP_S)
    print("| pack | cell groups | simulated days | wall s | days / s | net kWh in | SoC min..max |")
    print("|---|---|---|---|---|---|---|")
    for label, groups, d, wall, rate, kwh, lo, hi in rows:
        print("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.3f..%.3f |" % (label, groups, d, wall, rate,
                                                                      kwh, lo, hi))
    print("plant_days_per_s_2s=%.2f plant_days_per_s_16s2p=%.2f" % (rows[0][4], rows[1][4]))
    return 0
