# Reads manifest.py (the repository root's list of firmware folders, in the format
# MicroPython's freeze tools read) so that pyBMS's own tests, benchmarks, purity and
# layer checks and the .mpy build use the same list instead of keeping copies.
# The manifest is run with recording stand-ins for MicroPython's manifest functions:
#   package("bms")   -> the folder bms/ (all .py files below it)
#   module("x.py")   -> one file
# (paths relative to the manifest, as the MicroPython tools read them).

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(ROOT, "manifest.py")


class ManifestError(Exception):
    pass


def read(path=PATH):
    """(packages, modules) the manifest names, in its order, relative to the root."""
    packages = []
    modules = []

    def package(name, files=None, base_path=".", opt=None):
        if files is not None or base_path != ".":
            raise ManifestError("%s: package(%r): only whole packages at the root are "
                                "supported here" % (path, name))
        packages.append(name.replace(".", "/"))

    def module(name, base_path=".", opt=None):
        modules.append(os.path.normpath(os.path.join(base_path, name)))

    def unsupported(*args, **kwargs):
        raise ManifestError("%s: only package() and module() lines are understood" % path)

    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"package": package, "module": module, "freeze": unsupported,
                "include": unsupported, "require": unsupported, "options": None})
    return tuple(packages), tuple(modules)


def folders(path=PATH):
    """The firmware's top-level folders (packages) in manifest order."""
    return read(path)[0]


def firmware_files(root=ROOT, path=PATH):
    """Every firmware .py file (absolute paths, sorted)."""
    packages, modules = read(path)
    out = []
    for top in packages:
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            out.extend(os.path.join(folder, f) for f in files if f.endswith(".py"))
    out.extend(os.path.join(root, m) for m in modules)
    return sorted(out)


if __name__ == "__main__":
    for p in firmware_files():
        print(os.path.relpath(p, ROOT))
