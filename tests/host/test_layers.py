# Dependencies run one way: every firmware import (read with ast) must be allowed
# by the layer table in tools/layers.py, which docs/architecture.md shows.

import os

from tools import layers
from tools.manifest import ROOT


def test_every_firmware_import_is_allowed_by_the_layer_table():
    files = layers.checked_files()
    assert len(files) >= 40, len(files)
    bad = layers.violations()
    assert not bad, "imports the layer table (tools/layers.py) forbids:\n" + "\n".join(bad)


def test_files_are_classified_by_folder():
    layer = lambda n: ("layer", n)  # noqa: E731
    expected = {
        "bms/ticks.py": layer(0), "bms/units.py": layer(0),
        "bms/config.py": layer(1), "bms/soc.py": layer(1), "bms/ocv.py": layer(1),
        "bms/storage.py": layer(1), "protocols/victron/reporter.py": layer(2),
        "protocols/tesla/frame.py": layer(2), "drivers/plant_link.py": layer(3),
        "drivers/mcp3421.py": layer(3), "drivers/ina228.py": layer(3),
        "drivers/current_sensor.py": layer(3), "drivers/storage.py": layer(3),
        "fsm/machine.py": layer(4), "states/run.py": layer(4), "main.py": layer(5),
        "boards/hal.py": (layers.BOARD_HAL, None), "boards/rp2_pico.py": (layers.BOARD_DATA, None),
        "simulator/tesla_modules.py": (layers.EMULATOR, None),
        "simulator/chips/mcp3421.py": (layers.HOST, None), "simulator/plant.py": (layers.HOST, None),
        "tools/cli.py": (layers.HOST, None), "tests/fw/support.py": (layers.HOST, None),
    }
    for rel, cls in expected.items():
        assert layers.classify(rel) == cls, (rel, layers.classify(rel))
    assert layers.classify("setup.py") is None


def _tree(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [str(tmp_path / rel) for rel in files]


def test_the_check_names_file_line_and_rule(tmp_path):
    files = _tree(tmp_path, {
        "bms/__init__.py": "", "drivers/__init__.py": "", "fsm/__init__.py": "",
        "tools/__init__.py": "", "boards/__init__.py": "", "protocols/__init__.py": "",
        "bms/units.py": "\nfrom bms import config\n",
        "bms/config.py": "import sys\n",
        "bms/diagnosis.py": "from bms.ticks import ticks_diff\nfrom drivers.clock import ticks_ms\n",
        "bms/ticks.py": "from time import ticks_diff\n",
        "drivers/clock.py": "from bms.ticks import ticks_diff\n",
        "protocols/report.py": "try:\n    from fsm.table import P_CAN_TX\nexcept ImportError:\n    pass\n",
        "fsm/table.py": "",
        "drivers/can.py": "from tools.cli import main\n",
        "tools/cli.py": "from fsm import table\n",
        "boards/pico.py": "from drivers import clock\n",
        "boards/hal.py": "from drivers.clock import ticks_ms\nfrom boards import pico\nfrom fsm import table\n",
    })
    bad = layers.violations(root=str(tmp_path), files=files)
    text = "\n".join(bad)
    assert "bms/units.py:2 imports bms.config (layer 1 domain core): layer 0 ticks and units may import layers 0-0 only" in text
    assert "bms/diagnosis.py:2 imports drivers.clock (layer 3 drivers): layer 1 domain core" in text
    assert "protocols/report.py:2 imports fsm.table (layer 4 state machine)" in text
    assert "drivers/can.py:1 imports tools.cli (host): firmware never imports host code" in text
    assert "boards/pico.py:1 imports drivers.clock (layer 3 drivers): board files are data" in text
    assert "boards/hal.py:3 imports fsm.table" in text
    assert len(bad) == 6, text  # ticks -> time, clock -> ticks, tools -> fsm, hal -> drivers are fine


def test_architecture_doc_shows_the_current_table():
    with open(layers.DOC) as f:
        text = f.read()
    assert layers.update(text) == text, (
        "docs/architecture.md's layer table drifted from tools/layers.py: run "
        "`python -m tools.layers --write` (or `make docs`)")
    assert os.path.exists(os.path.join(ROOT, "bms", "ticks.py"))
