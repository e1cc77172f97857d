# No function on the bus master's poll path takes its VM frame from the GC heap: each
# one's state (locals + stack, from the armv6m .mpy, read with the pinned MicroPython
# source's tools/mpy-tool.py) fits the 11 words a board keeps on the C stack. Native
# (viper) functions have no VM frame. Skips when the source archive is absent.

import os
import tempfile

import pytest

from tools import mpy_state

POLL_PATH = {
    "drivers/tesla_bus.py": (
        "TeslaBus.poll", "TeslaBus._cycle", "TeslaBus._write", "TeslaBus._read_board",
        "TeslaBus._again", "TeslaBus._confirm", "TeslaBus._read_status",
        "TeslaBus._board_failed", "TeslaBus._fail_all", "TeslaBus._clear", "TeslaBus._report",
        "TeslaBus._first_lost", "TeslaBus._guarded", "TeslaBus._piece", "TeslaBus._internal",
        "TeslaBus.age_ms"),
    "drivers/tesla_status.py": (
        "TeslaStatus.read", "TeslaStatus.clear", "TeslaStatus.summarise",
        "TeslaStatus.first_fault", "TeslaStatus.first_alert", "TeslaStatus.any_cfg_bad",
        "TeslaStatus._same", "TeslaStatus._hold", "TeslaStatus._repeated", "TeslaStatus._keep"),
    "drivers/tesla_link.py": (
        "TeslaLink.stage_read", "TeslaLink.stage_write", "TeslaLink.exchange",
        "TeslaLink.transact", "TeslaLink.may_retry", "TeslaLink.set_budget", "TeslaLink.count",
        "TeslaLink._sort_out", "TeslaLink._drop_foreign", "TeslaLink._copies_only",
        "TeslaLink._foreign_length", "TeslaLink._fill",
        "TeslaLink._flush", "TeslaLink._resync"),
    "drivers/tesla_discovery.py": ("TeslaDiscovery.clear_flags",),
    "protocols/tesla/plausible.py": ("first_at_least", "first_with", "next_sequence"),
    "bms/diagnosis.py": ("Diagnosis.report", "Diagnosis.latch"),
}


def test_poll_path_frames_stay_off_the_heap():
    archive = mpy_state.source_archive()
    if not archive or not mpy_state.mpy_cross():
        pytest.skip("needs the pinned MicroPython source archive (%s) and mpy-cross"
                    % mpy_state.SOURCE_GLOB)
    too_big = []
    with tempfile.TemporaryDirectory() as tmp:
        tool = mpy_state.extract_tool(archive, tmp)
        for rel, names in POLL_PATH.items():
            states = mpy_state.function_states(tool, os.path.join(mpy_state.ROOT, rel), tmp)
            for name in names:
                assert name in states, (rel, name, sorted(states))
                if states[name] > mpy_state.STACK_WORDS:
                    too_big.append("%s:%s n_state=%d" % (rel, name, states[name]))
    assert not too_big, too_big
