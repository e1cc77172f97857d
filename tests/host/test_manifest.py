# manifest.py is the one list of firmware folders; tools/manifest.py reads it for
# the tests, the purity and layer checks, the .mpy build and the benchmarks.

import os

from tools import layers, manifest
from tools.manifest import ROOT, ManifestError


def test_the_manifest_names_every_layered_folder_and_only_existing_ones():
    tops = manifest.folders()
    for top in tops:
        assert os.path.isdir(os.path.join(ROOT, top)), top
    layered = set()
    for _layer, _name, patterns, _what in layers.LAYERS:
        for p in patterns:
            top = p.split("/")[0]
            if "*" in p and os.path.isdir(os.path.join(ROOT, top)):
                layered.add(top)
    layered.add("boards")
    assert layered <= set(tops), sorted(layered - set(tops))


def test_files_and_module_names_follow_the_folders():
    files = manifest.relative_files()
    assert "fsm/machine.py" in files and "bms/ticks.py" in files
    assert all(f.split("/")[0] in manifest.folders() for f in files)
    names = manifest.module_names()
    assert "protocols.victron" in names and "protocols.victron.reporter" in names
    assert not any(n.endswith("__init__") for n in names)


def test_the_parser_understands_package_and_module_lines_only():
    assert manifest.parse('# c\npackage("bms")  # x\n\nmodule("main.py")\n') == (("bms",), ("main.py",))
    assert manifest.parse("package('a.b')") == (("a/b",), ())
    for bad in ('freeze("x")', 'include("$(MPY_DIR)/x")', 'package("a", base_path="b")',
                'package(bms)', 'require("mcp2515")'):
        try:
            manifest.parse(bad)
        except ManifestError as e:
            assert "manifest.py" in str(e)
            continue
        raise AssertionError("accepted %r" % bad)
