# sculpt-sklearn: set-up and everyday commands. `make demo` and `make test` set up
# their own environment (.venv) on a fresh machine.
#
# TORCH_SPEC pins the PyTorch build for the set-up only; the package itself asks
# for torch>=2.1. The default is the CPU wheel; a GPU user overrides it, e.g.
#   make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev,plot,dask
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sculpt-installed
# pytest worker processes (pytest-xdist; 0 runs in one process) and extra
# arguments, e.g. `make test PYTEST_WORKERS=1 PYTEST_ARGS="tests/test_metrics.py -x"`.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# One torch thread per process: on 2 cores, torch's default thread pool spin-waits
# and small training steps run 30-60x slower under any other load.
THREADS_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help install demo test test-oldest test-oldest-fast test-keras lint format clean

help:
	@echo "make demo   - set up .venv and run examples/quickstart.py"
	@echo "make test   - set up .venv and run the test suite"
	@echo "make test-oldest      - the suite with the lowest supported versions (.venv-oldest)"
	@echo "make test-oldest-fast - the same without the example scripts (what CI runs)"
	@echo "make test-keras - sculpt_sklearn.keras on the TensorFlow backend (.venv-keras)"
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
	$(THREADS_ENV) $(PY) -m pytest -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) $(OLDEST_VENV) $(KERAS_VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info

# ------------------------------------------------------------ oldest versions
# Its own venv with the lowest versions pyproject.toml allows (ci/oldest-constraints.txt
# says which and why), to check that the lower bounds hold; `make test` has the newest.
OLDEST_VENV ?= .venv-oldest
OLDEST_CONSTRAINTS := ci/oldest-constraints.txt
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_STAMP := $(OLDEST_VENV)/.sculpt-installed
# The fast subset (what CI runs): the torch layer, the built-in model and its encoder,
# the estimator's contract, weights, persistence, bad input, scikit-learn's checks,
# the metrics, validation rows, the Pipeline verbs, the positive families, the dropout
# layer, networks side by side (Pool, n_networks) and sculpt_sklearn.keras on the torch
# backend (the keras extra's lower bound); not the examples, plots, Dask, MAPIE or
# calibration studies.
OLDEST_FAST_ARGS ?= tests/test_distributions.py tests/test_wrapper.py \
	tests/test_wrapper_ensemble.py tests/test_models.py tests/test_preprocess.py \
	tests/test_default_model.py tests/test_bad_input.py tests/test_weights.py \
	tests/test_training_state.py tests/test_predict_and_params.py \
	tests/test_sklearn_checks.py tests/test_readonly.py tests/test_metrics.py \
	tests/test_package.py tests/test_validation_data.py tests/test_pipeline.py \
	tests/test_positive.py tests/test_dropout.py tests/test_pool.py tests/test_networks.py \
	$(KERAS_TESTS)

$(OLDEST_STAMP): pyproject.toml Makefile $(OLDEST_CONSTRAINTS)
	@test -x $(OLDEST_PY) || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_PY) -m pip install -q --upgrade pip
	$(OLDEST_PY) -m pip install -q -c $(OLDEST_CONSTRAINTS) -e ".[$(EXTRAS)]"
	@touch $(OLDEST_STAMP)

test-oldest: $(OLDEST_STAMP)
	$(THREADS_ENV) $(OLDEST_PY) -m pytest -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

test-oldest-fast: $(OLDEST_STAMP)
	$(THREADS_ENV) $(OLDEST_PY) -m pytest -n $(PYTEST_WORKERS) -q $(OLDEST_FAST_ARGS) $(PYTEST_ARGS)

# ------------------------------------------------------------ Keras, TensorFlow
# sculpt_sklearn.keras on the TensorFlow backend, in a venv of its own (.venv-keras):
# tensorflow-cpu is large and never a dependency of the package or of `make test`,
# which runs the same test files on the torch backend (KERAS_BACKEND=torch, set by
# tests/conftest.py). The JAX backend is declared, not tested.
KERAS_VENV ?= .venv-keras
KERAS_PY := $(KERAS_VENV)/bin/python
KERAS_STAMP := $(KERAS_VENV)/.sculpt-installed
TENSORFLOW_SPEC ?= tensorflow-cpu
KERAS_TESTS := $(sort $(wildcard tests/test_keras_*.py))
# TensorFlow's own thread pools, one thread each (as OMP_NUM_THREADS for torch).
KERAS_ENV := KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=2 \
	TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1

$(KERAS_STAMP): pyproject.toml Makefile
	@test -x $(KERAS_PY) || $(PYTHON) -m venv $(KERAS_VENV)
	$(KERAS_PY) -m pip install -q --upgrade pip
	$(KERAS_PY) -m pip install -q $(TORCH_SPEC)
	$(KERAS_PY) -m pip install -q $(TENSORFLOW_SPEC) -e ".[keras,dev]"
	@touch $(KERAS_STAMP)

test-keras: $(KERAS_STAMP)
	$(THREADS_ENV) $(KERAS_ENV) $(KERAS_PY) -m pytest -n $(PYTEST_WORKERS) -q $(KERAS_TESTS) $(PYTEST_ARGS)

# ---------------------------------------------------------------- benchmarks
# NGBoost pins scikit-learn < 1.7 and pandas < 3, so it gets its own venv, with
# CatBoost beside it (a peer of the benchmark, never a dependency of the package);
# only `benchmarks/ngboost_runner.py` and `benchmarks/peers_runner.py` run there
# (uci.py --ngboost / --peers and speed.py --vs-ngboost call them).
BENCH_VENV ?= .bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.bench-installed
# Worker processes for the UCI runs (each uses one torch thread).
BENCH_JOBS ?= 2
# Extra arguments, e.g. BENCH_ARGS="--ngboost" or BENCH_ARGS="--param batch_size=32".
BENCH_ARGS ?=
BENCH_QUICK_DATASETS ?= yacht energy concrete wine
BENCH_QUICK_SPLITS ?= 3

.PHONY: bench-env bench bench-quick bench-speed

$(BENCH_STAMP): Makefile
	@test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip
	$(BENCH_PY) -m pip install -q ngboost catboost numpy scipy
	@touch $(BENCH_STAMP)

bench-env: $(BENCH_STAMP)

# Every split of the 8 datasets (protein: 41k training rows, 5 splits); hours on 2 cores.
bench: $(STAMP)
	$(THREADS_ENV) $(PY) benchmarks/uci.py --jobs $(BENCH_JOBS) --out docs/benchmarks.md $(BENCH_ARGS)

# A few splits of the small datasets, with the published columns; minutes.
bench-quick: $(STAMP)
	$(THREADS_ENV) $(PY) benchmarks/uci.py --datasets $(BENCH_QUICK_DATASETS) \
		--splits $(BENCH_QUICK_SPLITS) --jobs $(BENCH_JOBS) $(BENCH_ARGS)

bench-speed: $(STAMP)
	$(THREADS_ENV) $(PY) benchmarks/speed.py --out docs/performance.md $(BENCH_ARGS)

# ---------------------------------------------------------------------- docs
# The documentation site (Sphinx + sphinx-gallery). Every script in examples/ is
# executed during the build; docs/conf.py sets SCULPT_EXAMPLES_FAST=1 unless the
# environment sets it (SCULPT_EXAMPLES_FAST=0 make docs renders full-length runs).
DOCS_STAMP := $(VENV)/.sculpt-docs-installed

.PHONY: docs docs-clean

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[$(EXTRAS),docs]"
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(THREADS_ENV) $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "Open docs/_build/html/index.html"

docs-clean:
	rm -rf docs/_build docs/auto_examples docs/gen_modules docs/sg_execution_times.rst
