"""Scaling out: Dask prediction, out-of-core training and torch threads on workers.

Everything here is optional. :func:`predict_dask` and
:func:`set_torch_threads` need ``dask[distributed]``; :func:`parquet_chunks`
needs ``pyarrow``; :func:`partial_fit_chunks` needs neither. Install both
with ``pip install "sculpt-sklearn[dask]"``. The imports happen when a
function is called, so ``import sculpt_sklearn.dask`` always works.

Hyperparameter searches need nothing from this module: scikit-learn's
searches run on a Dask cluster through joblib's ``"dask"`` backend::

    from dask.distributed import Client, LocalCluster
    import joblib

    with LocalCluster(n_workers=4, threads_per_worker=1) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            search.fit(X, y)          # GridSearchCV(..., n_jobs=-1)

Use worker *processes* (``LocalCluster``'s default, and ``dask worker``'s):
Dask's nanny starts every worker process with ``OMP_NUM_THREADS=1`` (its
``distributed.nanny.pre-spawn-environ`` setting), so each torch uses one
thread and the workers do not oversubscribe the cores. See
:func:`set_torch_threads` for workers started otherwise.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "predict_dask",
    "partial_fit_chunks",
    "parquet_chunks",
    "dask_chunks",
    "set_torch_threads",
    "ParquetChunks",
    "DaskChunks",
]

_INSTALL_HINT = 'pip install "sculpt-sklearn[dask]"'


def _require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the optional dependency {module.split('.')[0]!r}, which is "
            f"not installed; install it with: {_INSTALL_HINT}"
        ) from exc


# ------------------------------------------------------------------ prediction
def _output_names(estimator: Any, mean_col: str, risk_col: str) -> tuple[list[str], list[str]]:
    final = getattr(estimator, "_final_estimator", estimator)
    n_outputs = int(getattr(final, "n_outputs_", 1))
    if n_outputs == 1:
        return [mean_col], [risk_col]
    return (
        [f"{mean_col}_{j}" for j in range(n_outputs)],
        [f"{risk_col}_{j}" for j in range(n_outputs)],
    )


def _predict_partition(
    part: pd.DataFrame,
    estimator: Any,
    mean_names: list[str],
    risk_names: list[str] | None,
) -> pd.DataFrame:
    """Predict one pandas partition; the result keeps the partition's index."""
    columns = mean_names + (risk_names or [])
    if len(part) == 0:
        return pd.DataFrame({c: np.empty(0, dtype=np.float64) for c in columns}, index=part.index)
    if risk_names is None:
        mean = np.asarray(estimator.predict(part), dtype=np.float64)
        values = mean.reshape(len(part), -1)
    else:
        mean, risk = estimator.predict(part, return_risk=True)
        values = np.hstack([
            np.asarray(mean, dtype=np.float64).reshape(len(part), -1),
            np.asarray(risk, dtype=np.float64).reshape(len(part), -1),
        ])
    return pd.DataFrame(values, index=part.index, columns=columns)


def predict_dask(
    estimator: Any,
    ddf: Any,
    *,
    return_risk: bool = True,
    mean_col: str = "mean",
    risk_col: str = "risk",
) -> Any:
    """Predict the mean and risk of every row of a Dask DataFrame, lazily.

    Each partition is predicted by ``estimator.predict(partition,
    return_risk=True)`` through :meth:`dask.dataframe.DataFrame.map_partitions`,
    on whichever workers hold the partitions. Nothing is computed until
    the result is.

    Parameters
    ----------
    estimator : fitted SculptRegressor or Pipeline ending in one
        Anything whose ``predict(X, return_risk=True)`` returns
        ``(mean, risk)``. It enters the graph once, as a
        :func:`dask.delayed` object that all partitions' tasks share.
    ddf : dask.dataframe.DataFrame
        The features, with exactly the columns the estimator was fitted on.
    return_risk : bool, default=True
        Also return the risk (predictive standard deviation) column.
    mean_col, risk_col : str, default="mean", "risk"
        Names of the output columns. With several targets the columns are
        ``mean_0, mean_1, ...`` and ``risk_0, risk_1, ...``.

    Returns
    -------
    dask.dataframe.DataFrame
        Float64 columns ``mean_col`` (and ``risk_col``) with the index and
        the partitions (divisions) of ``ddf``; ``ddf.join(result)`` puts the
        predictions next to the input.

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> ddf = dd.read_parquet("features/")  # doctest: +SKIP
    >>> out = predict_dask(reg, ddf)  # doctest: +SKIP
    >>> out.to_parquet("predictions/")  # doctest: +SKIP
    """
    dask = _require("dask", "predict_dask")
    _require("dask.dataframe", "predict_dask")
    check_is_fitted(getattr(estimator, "_final_estimator", estimator))
    mean_names, risk_names = _output_names(estimator, mean_col, risk_col)
    if not return_risk:
        risk_names_arg = None
        columns = mean_names
    else:
        risk_names_arg = risk_names
        columns = mean_names + risk_names
    if len(set(columns)) != len(columns):
        raise ValueError(f"mean_col and risk_col must differ; got {mean_col!r} twice.")
    meta = pd.DataFrame(
        {c: pd.Series(dtype=np.float64) for c in columns}, index=ddf._meta.index[:0]
    )
    # As a Delayed, the estimator is one node of the graph that every partition's
    # task reads, and Dask does not try to hash it (a fitted torch model does not
    # pickle deterministically, which map_partitions' hashing of its arguments needs).
    shipped = dask.delayed(estimator, pure=False)
    return ddf.map_partitions(
        _predict_partition, shipped, mean_names, risk_names_arg, meta=meta
    )


# ---------------------------------------------------------- streaming training
def partial_fit_chunks(
    estimator: Any,
    chunks: Iterable[tuple[Any, ...]] | Callable[[], Iterable[tuple[Any, ...]]],
    *,
    epochs: int = 1,
) -> Any:
    """Train with ``partial_fit`` over a stream of chunks, for several epochs.

    Each chunk is ``(X, y)`` or ``(X, y, sample_weight)`` and gets one
    ``partial_fit`` call (one epoch over that chunk's rows, shuffled within
    the chunk), so only one chunk is in memory at a time. ``epochs`` passes
    over the whole stream then cost about as much, and reach about the
    quality of, ``fit(X, y)`` with ``max_epochs=epochs`` and
    ``early_stopping=False``.

    The target standardisation is fixed by the estimator's **first**
    ``partial_fit`` call, from that chunk's mean and standard deviation
    (its geometric mean, without a shift, for ``"lognormal"`` and
    ``"gamma"``), and kept for all later chunks. Make the first chunk representative of
    ``y``: store the data in random row order (or shuffle it once when
    writing it), never sorted by the target.

    Parameters
    ----------
    estimator : SculptRegressor
        Fresh or already partially fitted (then training continues).
    chunks : re-iterable of tuples, or callable returning an iterable
        ``(X, y)`` or ``(X, y, sample_weight)`` chunks, e.g. from
        :func:`parquet_chunks` or :func:`dask_chunks`, a list, or a function
        that opens the data and yields chunks. It is iterated once per
        epoch; a one-shot iterator (a generator object) works only with
        ``epochs=1``.
    epochs : int, default=1
        Passes over the stream.

    Returns
    -------
    estimator
        The same estimator, trained.

    Examples
    --------
    >>> from sculpt_sklearn import SculptRegressor
    >>> from sculpt_sklearn.datasets import make_heteroscedastic
    >>> X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    >>> chunks = [(X[:100], y[:100]), (X[100:200], y[100:200]), (X[200:], y[200:])]
    >>> reg = partial_fit_chunks(SculptRegressor(random_state=0), chunks, epochs=2)
    >>> reg.n_iter_
    6
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
    for epoch in range(int(epochs)):
        stream = chunks() if callable(chunks) else chunks
        iterator = iter(stream)
        if epoch == 0 and epochs > 1 and iterator is stream and not callable(chunks):
            raise TypeError(
                "chunks is a one-shot iterator, which cannot be replayed for epochs > 1; pass a "
                "list, parquet_chunks(...)/dask_chunks(...), or a function returning a fresh "
                "iterator (e.g. chunks=lambda: read_chunks(path))."
            )
        n_chunks = 0
        for chunk in iterator:
            if not isinstance(chunk, tuple) or len(chunk) not in (2, 3):
                raise ValueError(
                    "Each chunk must be a tuple (X, y) or (X, y, sample_weight); got "
                    f"{type(chunk).__name__}."
                )
            estimator.partial_fit(*chunk)
            n_chunks += 1
        if n_chunks == 0:
            raise ValueError(f"chunks yielded no chunk in epoch {epoch + 1}.")
    return estimator


class ParquetChunks:
    """Re-iterable ``(X, y)`` chunks of a parquet file or directory.

    Made by :func:`parquet_chunks`; each iteration re-opens the files and
    reads them record batch by record batch with
    :meth:`pyarrow.parquet.ParquetFile.iter_batches`.

    Parameters
    ----------
    path : str or Path
        A parquet file, or a directory whose ``*.parquet`` files are read
        in sorted order.
    target : str or list of str
        Target column(s).
    features : list of str or None
        Feature columns; None: every column but the target(s).
    batch_size : int
        Most rows per chunk (chunks do not span files or row groups' ends
        of file).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        target: str | list[str],
        features: list[str] | None,
        batch_size: int,
    ) -> None:
        self.path = Path(path)
        self.target = target
        self.features = features
        self.batch_size = batch_size

    def files(self) -> list[Path]:
        """The parquet files, in reading order.

        Returns
        -------
        list of Path
        """
        if self.path.is_dir():
            found = sorted(p for p in self.path.rglob("*.parquet") if p.is_file())
            if not found:
                raise FileNotFoundError(f"No *.parquet file under {self.path}.")
            return found
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path} does not exist.")
        return [self.path]

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        pq = _require("pyarrow.parquet", "parquet_chunks")
        targets = [self.target] if isinstance(self.target, str) else list(self.target)
        for file in self.files():
            with pq.ParquetFile(file) as handle:
                names = handle.schema_arrow.names
                missing = [c for c in targets + list(self.features or []) if c not in names]
                if missing:
                    raise KeyError(f"{file} has no column(s) {missing}; it has {names}.")
                features = self.features or [c for c in names if c not in targets]
                for batch in handle.iter_batches(
                    batch_size=self.batch_size, columns=features + targets
                ):
                    frame = batch.to_pandas()
                    y = frame[targets].to_numpy(dtype=np.float64)
                    yield frame[features], (y[:, 0] if isinstance(self.target, str) else y)


def parquet_chunks(
    path: str | os.PathLike[str],
    target: str | list[str],
    *,
    features: list[str] | None = None,
    batch_size: int = 65_536,
) -> ParquetChunks:
    """Stream ``(X, y)`` chunks from parquet with pyarrow, one record batch at a time.

    Parameters
    ----------
    path : str or path-like
        A parquet file or a directory of ``*.parquet`` files (a partitioned
        dataset as written by pandas, Dask or Spark).
    target : str or list of str
        Target column(s); a string gives 1-D ``y``.
    features : list of str, default=None
        Feature columns, in the order the estimator sees them; None: every
        column except the target(s), in file order.
    batch_size : int, default=65536
        Most rows per chunk. Memory use is about one chunk (plus one parquet
        row group being decoded), whatever the dataset's size.

    Returns
    -------
    ParquetChunks
        Re-iterable: each pass reads the files again, so it can feed
        :func:`partial_fit_chunks` for several epochs. ``X`` is a pandas
        DataFrame (so ``feature_names_in_`` is set), ``y`` a float64 array.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    _require("pyarrow.parquet", "parquet_chunks")
    return ParquetChunks(path, target, features, batch_size)


class DaskChunks:
    """Re-iterable ``(X, y)`` chunks, one per partition of a Dask DataFrame.

    Made by :func:`dask_chunks`; each partition is computed when reached,
    so one partition is in the client's memory at a time.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
    target : str or list of str
    features : list of str or None
    """

    def __init__(self, ddf: Any, target: str | list[str], features: list[str] | None) -> None:
        self.ddf = ddf
        self.target = target
        self.features = features

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        targets = [self.target] if isinstance(self.target, str) else list(self.target)
        features = self.features or [c for c in self.ddf.columns if c not in targets]
        for i in range(self.ddf.npartitions):
            frame = self.ddf.partitions[i].compute()
            if len(frame) == 0:
                continue
            y = frame[targets].to_numpy(dtype=np.float64)
            yield frame[features], (y[:, 0] if isinstance(self.target, str) else y)


def dask_chunks(
    ddf: Any, target: str | list[str], *, features: list[str] | None = None
) -> DaskChunks:
    """Stream ``(X, y)`` chunks from a Dask DataFrame, one partition at a time.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Features and target(s). Use ``ddf.repartition(partition_size=...)``
        to choose the chunk size.
    target : str or list of str
        Target column(s); a string gives 1-D ``y``.
    features : list of str, default=None
        Feature columns; None: every column except the target(s).

    Returns
    -------
    DaskChunks
        Re-iterable over partitions in order, for :func:`partial_fit_chunks`.
    """
    _require("dask.dataframe", "dask_chunks")
    return DaskChunks(ddf, target, features)


# ------------------------------------------------------------- worker threads
def _set_threads(n_threads: int) -> int:
    import torch

    torch.set_num_threads(n_threads)
    return torch.get_num_threads()


def _make_plugin_class() -> type:
    distributed = _require("distributed", "TorchThreadsPlugin")

    class TorchThreadsPlugin(distributed.WorkerPlugin):
        """Worker plugin that sets torch's intra-op threads on every worker.

        Parameters
        ----------
        n_threads : int, default=1
            Threads per worker process (``torch.set_num_threads``).
        """

        name = "sculpt-torch-threads"

        def __init__(self, n_threads: int = 1) -> None:
            self.n_threads = n_threads

        def setup(self, worker: Any) -> None:
            """Set the thread count when a worker starts (or now, if running)."""
            _set_threads(self.n_threads)

    TorchThreadsPlugin.__module__ = __name__
    TorchThreadsPlugin.__qualname__ = "TorchThreadsPlugin"
    return TorchThreadsPlugin


def _plugin_class() -> type:
    cls = globals().get("TorchThreadsPlugin")
    if cls is None:
        cls = globals()["TorchThreadsPlugin"] = _make_plugin_class()
    return cls


def __getattr__(name: str) -> Any:
    # TorchThreadsPlugin subclasses distributed.WorkerPlugin; it is built on
    # first use so that importing this module does not import distributed.
    if name == "TorchThreadsPlugin":
        return _plugin_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def set_torch_threads(client: Any, n_threads: int = 1) -> dict[str, int]:
    """Give torch ``n_threads`` threads on every current and future worker.

    Registers a :class:`TorchThreadsPlugin` (a ``distributed`` worker
    plugin) on ``client``. Workers started by a nanny (``LocalCluster`` with
    processes, ``dask worker``) already use one thread through Dask's
    ``OMP_NUM_THREADS=1``; call this for workers started without a nanny,
    to give each worker more threads when it runs one task at a time, or
    to be explicit. Rule of thumb: ``threads_per_worker * n_threads`` per
    worker process should not exceed its cores.

    Parameters
    ----------
    client : distributed.Client
    n_threads : int, default=1
        ``torch.set_num_threads`` value on each worker.

    Returns
    -------
    dict
        Worker address mapped to its torch thread count after the change.

    Notes
    -----
    In a ``LocalCluster(processes=False)`` the workers are threads of the
    client's process and share its torch thread setting; this then sets it
    for the client too.
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer; got {n_threads!r}.")
    client.register_plugin(_plugin_class()(n_threads))
    return client.run(_get_threads)


def _get_threads() -> int:
    import torch

    return torch.get_num_threads()
