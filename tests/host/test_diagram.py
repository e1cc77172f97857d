# The diagram and docs/state-machine.md are drawn from fsm.table; these tests
# parse what was drawn and compare it with the table, and fail on drift.

import os
import re

from fsm import table
from tests.host.firmware_files import ROOT
from tools import diagram
from tools.cli import main


def _edges(mermaid_text):
    edges = set()
    for line in mermaid_text.splitlines():
        m = re.match(r"\s*(\w+) --> (\w+): (.*)$", line)
        if m:
            for label in m.group(3).split(" | "):
                event = label.split(" [")[0]
                guard = label.split(" [")[1].rstrip("]") if " [" in label else None
                edges.add((m.group(1), event, guard, m.group(2)))
    return edges


def _table_edges():
    return set((s, e, g, d) for s, e, g, a, d in table.TRANSITIONS if d is not None)


def test_mermaid_has_every_state_and_exactly_the_table_edges(capsys):
    assert main(["diagram", "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    for state in table.STATES:
        assert 'state "%s" as %s' % (state, state) in out
    assert "[*] --> Init" in out
    assert _edges(out) == _table_edges()


def test_dot_source_lists_every_edge(tmp_path):
    path = tmp_path / "fsm.dot"
    assert main(["diagram", "--format", "dot", "-o", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("digraph")
    for s, e, g, d in _table_edges():
        assert "%s -> %s" % (s, d) in text


def test_svg_renders_or_says_graphviz_is_missing(tmp_path, capsys, monkeypatch):
    path = tmp_path / "fsm.svg"
    rc = main(["diagram", "--format", "svg", "-o", str(path)])
    if rc == 0:
        svg = path.read_text()
        assert "<svg" in svg and all(s in svg for s in table.STATES)
    else:
        assert rc == 2
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    capsys.readouterr()
    assert main(["diagram", "--format", "svg", "-o", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Graphviz" in err and "apt-get install graphviz" in err and "Traceback" not in err


def test_svg_needs_an_output_file(capsys):
    assert main(["diagram", "--format", "svg"]) == 2
    assert "-o" in capsys.readouterr().err


def test_docs_state_machine_is_current():
    with open(os.path.join(ROOT, "docs", "state-machine.md")) as f:
        on_disk = f.read()
    assert on_disk == diagram.markdown(), (
        "docs/state-machine.md drifted from fsm/table.py: run "
        "`pybms diagram --format markdown -o docs/state-machine.md` and review the diff")


def test_docs_permissions_table_matches_code():
    text = diagram.markdown()
    for row in table.PERMISSIONS:
        cells = ["yes" if f else "-" for f in row[1:]]
        assert "| %s | %s |" % (row[0], " | ".join(cells)) in text
