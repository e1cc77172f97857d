# The layers of the firmware as data: lower layers never import upper ones.
# tests/host/test_layers.py reads every firmware import (ast) and fails on one this
# table does not allow; docs/architecture.md shows the table between
# <!-- generated:layers --> markers (python -m tools.layers --write, `make docs`).
# Files are classified by folder, so a new file falls under its folder's rule
# without an edit here.

import ast
import fnmatch
import os
import sys

from tools import manifest
from tools.markdown import replace_sections
from tools.markdown import table as md_table

ROOT = manifest.ROOT
DOC = os.path.join(ROOT, "docs", "architecture.md")

# (layer, name, files: path patterns relative to the root, what lives there).
# A layer may import its own layer and the ones below. A file's class is decided by
# the first matching pattern, OTHERS before LAYERS (so boards/hal.py is the HAL).
LAYERS = (
    (0, "ticks and units", ("bms/ticks.py", "bms/units.py", "bms/native.py"),
     "wrap-safe tick arithmetic (no clock source), the one V/degC/A to integer conversion, "
     "the viper stand-ins for CPython"),
    (1, "domain core", ("bms/*",),
     "configuration, diagnosis table, pack interface, checks, limits (later SoC, charge, balancing, persistence)"),
    (2, "wire formats", ("protocols/*",),
     "Tesla frames/registers/conversions, Victron frame table, alarm map, transmit scheduler"),
    (3, "drivers", ("drivers/*",),
     "clock source, GPIO, contactors, serial, CAN, the Tesla bus master, current sensors, plant link"),
    (4, "state machine", ("fsm/*", "states/*"),
     "the table-driven machine that owns the contactors, one module per state"),
    (5, "application", ("main.py", "app/*"),
     "the main loop that wires the layers together: entry point, task table, recovery, persistence, event ring"),
)

# Files outside the layers: (kind, files, may import, what).
BOARD_HAL = "board HAL"
BOARD_DATA = "board data"
EMULATOR = "emulator"
HOST = "host"
OTHERS = (
    (BOARD_HAL, ("boards/hal.py",), "layers 0-3, board data",
     "turns a board's data into driver objects"),
    (BOARD_DATA, ("boards/*",), "nothing of pyBMS", "one data file per board"),
    (EMULATOR, ("simulator/tesla_*.py",), "layers 0-3, itself",
     "the Tesla module emulator, which also runs on a spare board (hardware in the loop)"),
    (HOST, ("simulator/*", "tools/*", "tests/*"), "everything",
     "CPython host code (plant simulator, tools, tests); firmware never imports it"),
)
HIGHEST = LAYERS[-1][0]
EMULATOR_MAX = 3
HAL_MAX = 3


def classify(rel):
    """(kind, layer number or None) of a path relative to the root; None if the
    file is not pyBMS code at all."""
    rel = rel.replace(os.sep, "/")
    for kind, patterns, _may, _what in OTHERS:
        if any(fnmatch.fnmatch(rel, p) for p in patterns):
            return kind, None
    for layer, _name, patterns, _ in LAYERS:
        if any(fnmatch.fnmatch(rel, p) for p in patterns):
            return "layer", layer
    return None


def layer_name(n):
    return [name for layer, name, _, _ in LAYERS if layer == n][0]


def _describe(cls):
    kind, layer = cls
    return "layer %d %s" % (layer, layer_name(layer)) if kind == "layer" else kind


def rule_violated(src, dst):
    """None when a file of class src may import one of class dst, else the rule."""
    s_kind, s_layer = src
    d_kind, d_layer = dst
    if s_kind == HOST:
        return None
    if d_kind == HOST:
        return "firmware never imports host code (tools/, tests/, simulator/)"
    if s_kind == BOARD_DATA:
        return "board files are data: they import nothing of pyBMS"
    if s_kind == BOARD_HAL:
        if d_kind == BOARD_DATA or (d_kind == "layer" and d_layer <= HAL_MAX):
            return None
        return "boards/hal.py may import drivers and below (layers 0-%d) and board data" % HAL_MAX
    if s_kind == EMULATOR:
        if d_kind == EMULATOR or (d_kind == "layer" and d_layer <= EMULATOR_MAX):
            return None
        return "the module emulator may import layers 0-%d and itself" % EMULATOR_MAX
    # a layered file
    if d_kind == "layer":
        if d_layer <= s_layer:
            return None
        return "layer %d %s may import layers 0-%d only" % (s_layer, layer_name(s_layer), s_layer)
    if s_layer == HIGHEST:
        return None  # the application wires everything, boards included
    return "layer %d %s may import layers 0-%d only, not %s" % (
        s_layer, layer_name(s_layer), s_layer, d_kind)


def _module_file(module, root):
    """The file a dotted module name loads, or None when it is not pyBMS code."""
    base = os.path.join(root, *module.split("."))
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.exists(path):
            return os.path.relpath(path, root)
    return None


def imports(path, root=ROOT):
    """(line, module, file) of every pyBMS import in a file: `from a import b`
    counts as a.b when that is a module, else as a."""
    tree = ast.parse(open(path).read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = [node.module + "." + a.name for a in node.names
                    if _module_file(node.module + "." + a.name, root)]
            for sub in subs:
                out.append((node.lineno, sub))
            if len(subs) < len(node.names):
                out.append((node.lineno, node.module))
    found = []
    for line, module in out:
        target = _module_file(module, root)
        if target is not None:
            found.append((line, module, target))
    return sorted(found)


def checked_files(root=ROOT):
    """Every file the layer rules constrain: the manifest's firmware, the
    application, the board emulator (absolute paths)."""
    files = set(manifest.firmware_files(root))
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "build")]
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                cls = classify(os.path.relpath(path, root))
                if cls is not None and cls[0] != HOST:
                    files.add(path)
    return sorted(files)


def violations(root=ROOT, files=None):
    """'file:line imports module (its class): rule' for every import the table forbids."""
    bad = []
    for path in (checked_files(root) if files is None else files):
        rel = os.path.relpath(path, root)
        src = classify(rel)
        if src is None:
            bad.append("%s: not in any layer or class of tools/layers.py" % rel)
            continue
        for line, module, target in imports(path, root):
            dst = classify(target)
            rule = rule_violated(src, dst) if dst is not None else None
            if rule:
                bad.append("%s:%d imports %s (%s): %s" % (rel, line, module, _describe(dst), rule))
    return bad


def markdown():
    def may(layer):
        return "everything" if layer == HIGHEST else \
            "layer 0" if layer == 0 else "layers 0-%d" % layer
    rows = [(str(layer), name, ", ".join("`%s`" % p for p in patterns), may(layer), what)
            for layer, name, patterns, what in LAYERS]
    rows += [("-", kind, ", ".join("`%s`" % p for p in patterns), may_import, what)
             for kind, patterns, may_import, what in OTHERS]
    return md_table(("layer", "name", "files", "may import", "what"), rows)


def update(text):
    return replace_sections(text, (("layers", markdown),), "docs/architecture.md")


def main(argv):
    with open(DOC) as f:
        text = f.read()
    new = update(text)
    if "--write" in argv:
        with open(DOC, "w") as f:
            f.write(new)
        print("updated", DOC)
        return 0
    bad = violations()
    for line in bad:
        print(line)
    return 1 if bad or new != text else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
