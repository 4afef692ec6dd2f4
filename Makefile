# ConvScope's two set-up commands (README): `make run` opens the app, `make test` runs the tests.
# Each creates the virtual environment and installs the pinned packages (and, for the window, the
# system libraries Qt needs) on first use, and again whenever pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench screenshot clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml (2.13.0, CPU wheel); an unpinned torch would pull multi-GB CUDA packages.
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	@tools/qt-system-deps.sh
	@tools/run-window.sh $(PY) main.py $(ARGS)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/throughput.py
	@tools/qt-system-deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) bench/gui_responsiveness.py
	$(PY) bench/threads.py

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache build *.egg-info
