"""Shared test set-up: one torch thread, deterministic seeds, small data."""

import os

os.environ.setdefault("SCULPT_EXAMPLES_FAST", "1")
# Keras reads its backend once per process, at its first import: the main suite tests
# sculpt_sklearn.keras on the torch backend; `make test-keras` sets tensorflow.
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

# One thread per test process: torch's default pool spin-waits on a loaded
# 2-core machine and small steps run 30-60x slower (see the README).
torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def hetero_data():
    """Train/test split of make_heteroscedastic with the true noise std."""
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, std = make_heteroscedastic(n_samples=1500, random_state=0)
    Xt, yt, stdt = make_heteroscedastic(n_samples=1000, random_state=1)
    return X, y, std, Xt, yt, stdt
