"""
Out-of-core training: streaming a parquet dataset through partial_fit
======================================================================

When the training set does not fit in memory, train
:class:`~sculpt_sklearn.SculptRegressor` chunk by chunk with ``partial_fit``:
each call is one epoch over one chunk, and only that chunk is in memory.
:func:`sculpt_sklearn.dask.parquet_chunks` reads a parquet dataset record
batch by record batch with pyarrow, and
:func:`sculpt_sklearn.dask.partial_fit_chunks` replays the stream for several
epochs.

Two things are fixed before the stream starts:

* the **input scaling**: :class:`~sklearn.preprocessing.StandardScaler` has its
  own ``partial_fit``, so one cheap pass over the chunks gives the column means
  and standard deviations;
* the **target standardisation**: the estimator takes it from the *first*
  chunk it sees (its mean and standard deviation) and keeps it. Write the data
  in random row order, never sorted by the target, so that the first chunk is
  representative.

The model is the plain :class:`~sculpt_sklearn.MLP`
(``SculptRegressor(MLP)``), not the default ensemble: on hundreds of
thousands of rows the ensemble gains little over it and costs many times more
per row, and the MLP takes its inputs as they come, so the scaler above is
fitted on the whole stream rather than on the first chunk (the default model
fixes its own input encoding on the first chunk it sees).

The streamed model is then compared with the same model fitted on the whole
table in memory. Needs ``pyarrow`` (``pip install "sculpt-sklearn[dask]"``).
"""

import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.dask import parquet_chunks, partial_fit_chunks
from sculpt_sklearn.datasets import make_heteroscedastic

# One torch thread: small networks train fastest that way on a few cores.
torch.set_num_threads(1)
try:
    import pyarrow  # noqa: F401  (pandas and parquet_chunks read parquet with it)

    HAVE_PYARROW = True
except ImportError:
    HAVE_PYARROW = False
# SCULPT_EXAMPLES_FAST=1 (set by the test suite) uses less data and fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

N_TRAIN = 12_000 if FAST else 200_000
ROWS_PER_FILE = 4_000 if FAST else 50_000
CHUNK_ROWS = 3_000 if FAST else 20_000
EPOCHS = 10 if FAST else 30
PARAMS = dict(module=MLP, max_epochs=EPOCHS, batch_size=128, early_stopping=False,
              random_state=0)


# %%
# A parquet dataset on disk
# -------------------------
# Several files of several row groups each, as pandas, Dask or Spark write
# them. Here they go to a temporary directory.
def write_dataset(directory: Path) -> list[str]:
    """Write the training set as parquet files; return the feature names."""
    X, y, _ = make_heteroscedastic(n_samples=N_TRAIN, noise=1.0, random_state=0)
    features = [f"x{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=features).assign(y=y)
    directory.mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, N_TRAIN, ROWS_PER_FILE)):
        frame.iloc[start : start + ROWS_PER_FILE].to_parquet(
            directory / f"part-{k:03d}.parquet", row_group_size=1_000, index=False
        )
    return features


def evaluate(
    name: str, scaler: StandardScaler, reg: SculptRegressor, seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """Print the test RMSE and Gaussian NLL of a fitted model; return its mean and risk."""
    X_test, y_test, _ = make_heteroscedastic(n_samples=5_000, noise=1.0, random_state=1)
    X_test = pd.DataFrame(X_test, columns=scaler.feature_names_in_)
    dist = reg.predict_dist(pd.DataFrame(scaler.transform(X_test), columns=X_test.columns))
    rmse = np.sqrt(np.mean((dist.mean() - y_test) ** 2))
    nll = -np.mean(dist.logpdf(y_test))
    print(f"{name:<22} RMSE {rmse:.4f}   NLL {nll:.4f}   ({seconds:.1f} s)")
    return dist.mean(), dist.std()


# %%
# In memory: read everything, fit once
# ------------------------------------
def fit_in_memory(directory: Path) -> tuple[StandardScaler, SculptRegressor]:
    """Load the whole table and fit the scaler and the regressor on it."""
    table = pd.read_parquet(directory)
    X, y = table.drop(columns="y"), table["y"].to_numpy()
    scaler = StandardScaler().set_output(transform="pandas").fit(X)
    return scaler, SculptRegressor(**PARAMS).fit(scaler.transform(X), y)


# %%
# Streaming: one chunk in memory at a time
# ----------------------------------------
# ``parquet_chunks`` can be iterated again and again, so the scaler pass and
# every training epoch re-read the files. ``partial_fit_chunks`` takes either
# such a re-iterable or a function returning a fresh iterator, as here.
def fit_streaming(directory: Path) -> tuple[StandardScaler, SculptRegressor]:
    """Fit the scaler, then the regressor, one parquet chunk at a time."""
    chunks = parquet_chunks(directory, "y", batch_size=CHUNK_ROWS)
    scaler = StandardScaler().set_output(transform="pandas")
    for X_chunk, _ in chunks:
        scaler.partial_fit(X_chunk)

    def scaled_chunks():
        for X_chunk, y_chunk in chunks:
            yield scaler.transform(X_chunk), y_chunk

    reg = partial_fit_chunks(SculptRegressor(**PARAMS), scaled_chunks, epochs=EPOCHS)
    return scaler, reg


# %%
# Compare
# -------
# The streamed model sees the same rows for the same number of epochs; it
# shuffles within chunks only and standardises the target with the first
# chunk's statistics, and lands within a few percent of the in-memory fit.
if not HAVE_PYARROW:
    print('This example needs pyarrow: pip install "sculpt-sklearn[dask]". Skipped.')
else:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "train"
        write_dataset(data_dir)
        n_files = len(list(data_dir.glob("*.parquet")))
        n_chunks = sum(1 for _ in parquet_chunks(data_dir, "y", batch_size=CHUNK_ROWS))
        print(f"{N_TRAIN} rows in {n_files} parquet files, streamed as {n_chunks} chunks of "
              f"at most {CHUNK_ROWS} rows; {EPOCHS} epochs")

        start = time.perf_counter()
        scaler_mem, reg_mem = fit_in_memory(data_dir)
        mean_mem, risk_mem = evaluate("in memory", scaler_mem, reg_mem,
                                      time.perf_counter() - start)

        start = time.perf_counter()
        scaler_stream, reg_stream = fit_streaming(data_dir)
        mean_stream, risk_stream = evaluate("streamed (partial_fit)", scaler_stream,
                                            reg_stream, time.perf_counter() - start)
        print(f"target standardisation, in memory: loc {reg_mem.y_loc_[0]:.4f} "
              f"scale {reg_mem.y_scale_[0]:.4f}")
        print(f"target standardisation, streamed:  loc {reg_stream.y_loc_[0]:.4f} "
              f"scale {reg_stream.y_scale_[0]:.4f}  (from the first chunk)")

# %%
# The two models, test row by test row
# ------------------------------------
# Each dot is a test row: the streamed model's prediction against the
# in-memory one's, for the mean (left) and the risk (right). On the diagonal
# the two agree exactly; the streamed risk runs a few percent higher on the
# noisiest rows.
if HAVE_PYARROW:
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, a, b, what in [(axes[0], mean_mem, mean_stream, "mean"),
                           (axes[1], risk_mem, risk_stream, "risk")]:
        lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
        ax.scatter(a, b, s=2, alpha=0.3)
        ax.plot([lo, hi], [lo, hi], color="black", lw=1)
        ax.set_xlabel(f"{what}, fitted in memory")
        ax.set_ylabel(f"{what}, streamed")
    fig.tight_layout()
    plt.show()
