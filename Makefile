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
MPY    := PYBMS_MPY_HEAP=$(HEAP) MICROPYPATH=.frozen:$(MPYBUILD) $(BIN)/micropython -X heapsize=$(HEAP)

.PHONY: setup test test-cpython test-micropython demo docs bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,svg]'
	touch $(STAMP)

# Both runtimes always run; the target fails if either failed.
test: $(STAMP)
	@status=0; \
	$(MAKE) --no-print-directory test-cpython || status=1; \
	$(MAKE) --no-print-directory test-micropython || status=1; \
	exit $$status

test-cpython: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term
	$(BIN)/coverage report --include='fsm/*,states/*' --fail-under=100

test-micropython: $(STAMP)
	$(PY) tests/build_mpy.py $(MPYBUILD)
	$(MPY) tests/mpy_runner.py

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

bench: $(STAMP)
	$(BIN)/pybms bench fsm

clean:
	rm -rf $(VENV) build .coverage .pytest_cache .hypothesis
