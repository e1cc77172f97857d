# Reads manifest.py, the one list of firmware folders (the file a frozen board
# image is built from, in the format MicroPython's freeze tools read), so that
# pyBMS's tests, benchmarks, purity and layer checks and the .mpy build use the same
# list instead of keeping copies. Understood lines (paths relative to the root):
#   package("bms")     the folder bms/, every .py file below it
#   module("main.py")  one file
# Comments and blank lines are skipped; anything else is a ManifestError, so a
# manifest feature this parser does not know cannot be silently ignored.
# Plain Python that MicroPython runs too (tests/fw/test_firmware_imports.py uses it
# on both runtimes): no os.path, no exec.

import os

try:
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
except AttributeError:  # MicroPython has no os.path: callers pass root="." there
    ROOT = "."

NAME = "manifest.py"


class ManifestError(Exception):
    pass


def _join(a, b):
    return b if a in ("", ".") else a.rstrip("/") + "/" + b


def _argument(line, call):
    """The one string argument of `call("...")` on a line, or ManifestError."""
    rest = line[len(call):].strip()
    if len(rest) < 4 or rest[0] != "(" or rest[-1] != ")" or rest[1] not in "\"'" \
            or rest[-2] != rest[1] or rest[1] in rest[2:-2] or "," in rest:
        raise ManifestError("%s: expected %s(\"path\"), got %r" % (NAME, call, line))
    return rest[2:-2]


def parse(text):
    """(packages, modules) named by manifest text, in order (paths with '/')."""
    packages = []
    modules = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("package"):
            packages.append(_argument(line, "package").replace(".", "/"))
        elif line.startswith("module"):
            modules.append(_argument(line, "module"))
        else:
            raise ManifestError("%s line %d: only package(...) and module(...) are "
                                "understood, not %r" % (NAME, number, raw.strip()))
    return tuple(packages), tuple(modules)


def read(root=ROOT):
    with open(_join(root, NAME)) as f:
        return parse(f.read())


def folders(root=ROOT):
    """The firmware's top-level folders (packages), in manifest order."""
    return read(root)[0]


def _is_dir(path):
    return os.stat(path)[0] & 0x4000 != 0


def _py_files(root, top):
    out = []
    stack = [top]
    while stack:
        rel = stack.pop()
        for name in os.listdir(_join(root, rel)):
            if name == "__pycache__" or name.startswith("."):
                continue
            sub = rel + "/" + name
            if name.endswith(".py"):
                out.append(sub)
            elif _is_dir(_join(root, sub)):
                stack.append(sub)
    return out


def relative_files(root=ROOT):
    """Every firmware .py file, relative to root with '/', sorted."""
    packages, modules = read(root)
    out = []
    for top in packages:
        out.extend(_py_files(root, top))
    out.extend(modules)
    out.sort()
    return out


def module_name(rel):
    """The dotted name of a module file: bms/soc.py -> bms.soc, a package's
    __init__ as the package (protocols/tesla/__init__.py -> protocols.tesla)."""
    name = rel[:-3].replace("/", ".")
    if name.endswith(".__init__"):
        name = name[:-9]
    return name


def module_names(root=ROOT):
    """Dotted names of every firmware module (a package's __init__ as the package)."""
    return [module_name(rel) for rel in relative_files(root)]


def firmware_files(root=ROOT):
    """Every firmware .py file as a path under root (absolute when root is), sorted."""
    return [_join(root, rel) for rel in relative_files(root)]


if __name__ == "__main__":
    for rel in relative_files():
        print(rel)
