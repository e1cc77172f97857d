# README's two commands: `make demo` and `make test`. Both build .venv from this
# repository's own files, so a fresh machine needs nothing installed by hand.

VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-stamp
# 256K: the unix port is 64-bit (objects and GC blocks ~2x a 32-bit board's, see
# docs/architecture.md); 192K no longer held the Victron reporter tests once the
# charge-control settings and limits table joined the firmware (issue 16).
HEAP   := 256K
# .frozen must stay first on MICROPYPATH or the frozen asyncio disappears.
# Tests under MicroPython load bytecode from build/mpy, as a board does after deploy.
MPYBUILD := $(CURDIR)/build/mpy
# The whole application's test modules (tools/mpy/run_tests.py APP_MODULES): as .mpy
# the application needs ~224K on a 32-bit board (it runs frozen there, ~86K), ~1.6x
# that here.
MPY    := PYBMS_MPY_HEAP=$(HEAP) PYBMS_MPY_APP_HEAP=384K MICROPYPATH=.frozen:$(MPYBUILD) $(BIN)/micropython -X heapsize=$(HEAP)
# The pinned MicroPython source with build-i686.sh (CI keeps it beside the repo).
# Point it elsewhere with `make test MICROPYTHON_SRC=/path/to/it`.
MICROPYTHON_SRC ?= $(abspath $(CURDIR)/../shared/micropython)
export MICROPYTHON_SRC
HEAP32 := 192K

.PHONY: setup system-packages test test-cpython test-micropython test-micropython32 demo docs bench clean

setup: $(STAMP) system-packages

# Debian packages of the board-true tools (32-bit build, Cortex-M0 emulator):
# installed when missing and running as root with apt-get; otherwise skipped, said.
system-packages:
	@sh tools/system_packages.sh

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,svg]'
	touch $(STAMP)

# Every runtime always runs; the target fails if any failed. The 32-bit run says
# plainly when it was skipped (no pinned source or no cross compiler).
test: $(STAMP)
	@status=0; \
	$(MAKE) --no-print-directory test-cpython || status=1; \
	$(MAKE) --no-print-directory test-micropython || status=1; \
	$(MAKE) --no-print-directory test-micropython32 || status=1; \
	exit $$status

test-cpython: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term
	$(BIN)/coverage report --include='fsm/*,states/*' --fail-under=100

test-micropython: $(STAMP)
	$(PY) tools/mpy/build.py $(MPYBUILD)
	$(MPY) tools/mpy/run_tests.py

# tests/fw on a 32-bit MicroPython built from MICROPYTHON_SRC (cached in build/i686).
test-micropython32: $(STAMP)
	$(PY) tools/mpy/i686.py --heap $(HEAP32)

demo: $(STAMP)
	$(BIN)/pybms diagram --format mermaid
	$(BIN)/pybms replay tests/logs/normal_startup.jsonl --check
	$(BIN)/pybms replay tests/logs/fault_and_reset.jsonl --check
	$(BIN)/pybms replay tests/logs/precharge_failure.jsonl --check

# Regenerate everything generated from the tables (tests fail when these drift).
docs: $(STAMP)
	$(BIN)/pybms diagram --format markdown -o docs/state-machine.md
	$(PY) -m tools.victron_docs --write
	$(PY) -m tools.victron_dbc --write
	$(PY) -m tools.layers --write
	$(PY) -m tools.soc_docs --write

bench: $(STAMP)
	$(BIN)/pybms bench fsm

clean:
	rm -rf $(VENV) build .coverage .pytest_cache .hypothesis
