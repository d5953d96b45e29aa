# sculpt-sklearn: set-up and everyday commands. `make demo` and `make test` set up
# their own environment (.venv) on a fresh machine.
#
# TORCH_SPEC pins the PyTorch build for the set-up only; the package itself asks
# for torch>=2.1. The default is the CPU wheel; a GPU user overrides it, e.g.
#   make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev,plot
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sculpt-installed
# One torch thread per process: on 2 cores, torch's default thread pool spin-waits
# and small training steps run 30-60x slower under any other load.
THREADS_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help install demo test lint format clean

help:
	@echo "make demo   - set up .venv and run examples/quickstart.py"
	@echo "make test   - set up .venv and run the test suite"
	@echo "make lint   - ruff check"

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(THREADS_ENV) $(PY) examples/quickstart.py

test: $(STAMP)
	$(THREADS_ENV) $(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
