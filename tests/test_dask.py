"""Scaling out: searches on a Dask cluster, Dask prediction, streaming training.

Needs the ``dask`` extra (``dask[distributed]`` and ``pyarrow``); each test
skips cleanly when the part it needs is not installed.

The cluster is a ``LocalCluster`` of two worker *processes* on 127.0.0.1,
without a dashboard, shared by the tests of this module and closed at the
end. Processes, not threads: fits running in threads of one process share
torch's global random state, which ``SculptRegressor`` seeds to initialise
its module, so concurrent fits in threads are not reproducible.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.dask import dask_chunks, parquet_chunks, partial_fit_chunks, predict_dask
from sculpt_sklearn.datasets import make_heteroscedastic


def _frame(X: np.ndarray, start: int = 0) -> pd.DataFrame:
    index = pd.RangeIndex(start, start + len(X), name="row_id")
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])], index=index)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on loopback, closed after the module."""
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def fitted():
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    X = _frame(X, start=1000)
    return SculptRegressor(max_epochs=5, random_state=0).fit(X, y), X


# ----------------------------------------------------------------- search
def test_grid_search_on_cluster_equals_local_run(client):
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("dask.distributed")
    X, y, _ = make_heteroscedastic(n_samples=200, random_state=0)

    def search(n_jobs):
        return GridSearchCV(
            SculptRegressor(random_state=0, max_epochs=5),
            {"n_layers": [1, 2], "lr": [1e-3, 3e-3]},
            cv=2,
            n_jobs=n_jobs,
        )

    local = search(n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = search(n_jobs=-1).fit(X, y)

    # The fits ran on the workers, not in this process.
    assert len(stream.data) >= 8
    assert {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])
    # Same seeds, same single-threaded torch: identical results, not merely close.
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(local.cv_results_[key], remote.cv_results_[key])
    assert local.best_params_ == remote.best_params_
    np.testing.assert_array_equal(local.predict(X), remote.predict(X))


def test_workers_run_torch_single_threaded(client):
    # Dask's nanny starts each worker process with OMP_NUM_THREADS=1.
    threads = client.run(torch.get_num_threads)
    assert set(threads.values()) == {1}


def test_set_torch_threads_reaches_every_worker(client):
    from sculpt_sklearn.dask import set_torch_threads

    try:
        assert set(set_torch_threads(client, 2).values()) == {2}
    finally:
        assert set(set_torch_threads(client, 1).values()) == {1}
    with pytest.raises(ValueError, match="n_threads"):
        set_torch_threads(client, 0)


# ------------------------------------------------------------- prediction
def test_predict_dask_matches_predict_and_keeps_index(client, fitted):
    dd = pytest.importorskip("dask.dataframe")
    reg, X = fitted
    ddf = dd.from_pandas(X, npartitions=4)

    out = predict_dask(reg, ddf)
    assert list(out.columns) == ["mean", "risk"]
    assert out.divisions == ddf.divisions
    result = client.compute(out).result(timeout=120)

    pd.testing.assert_index_equal(result.index, X.index)
    assert (result.dtypes == np.float64).all()
    # Row by row, each partition gives exactly what predict gives on it ...
    for i in range(ddf.npartitions):
        part = ddf.partitions[i].compute()
        mean, risk = reg.predict(part, return_risk=True)
        np.testing.assert_array_equal(result.loc[part.index, "mean"], mean)
        np.testing.assert_array_equal(result.loc[part.index, "risk"], risk)
    # ... and one predict over all rows agrees up to float64 rounding (BLAS
    # blocks a 75-row and a 300-row matrix product differently).
    mean, risk = reg.predict(X, return_risk=True)
    np.testing.assert_allclose(result["mean"], mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result["risk"], risk, rtol=1e-12, atol=1e-12)

    joined = ddf.join(out).compute(scheduler="sync")
    assert list(joined.columns[-2:]) == ["mean", "risk"]


def test_predict_dask_options_and_empty_partitions(fitted):
    dd = pytest.importorskip("dask.dataframe")
    reg, X = fitted
    ddf = dd.from_pandas(X, npartitions=3)
    only_mean = predict_dask(reg, ddf, return_risk=False, mean_col="y_hat")
    assert list(only_mean.columns) == ["y_hat"]
    np.testing.assert_allclose(
        only_mean.compute(scheduler="sync")["y_hat"], reg.predict(X), rtol=1e-12
    )

    some_empty = ddf[ddf["x0"] > np.inf]  # every partition empty
    empty = predict_dask(reg, some_empty).compute(scheduler="sync")
    assert empty.shape == (0, 2)
    with pytest.raises(ValueError, match="differ"):
        predict_dask(reg, ddf, mean_col="a", risk_col="a")


def test_predict_dask_multi_output():
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = make_heteroscedastic(n_samples=120, random_state=0)
    Y = np.column_stack([y, 2 * y])
    reg = SculptRegressor(max_epochs=2, random_state=0).fit(_frame(X), Y)
    out = predict_dask(reg, dd.from_pandas(_frame(X), npartitions=2)).compute(scheduler="sync")
    assert list(out.columns) == ["mean_0", "mean_1", "risk_0", "risk_1"]
    mean, risk = reg.predict(_frame(X), return_risk=True)
    np.testing.assert_allclose(out[["mean_0", "mean_1"]], mean, rtol=1e-12)
    np.testing.assert_allclose(out[["risk_0", "risk_1"]], risk, rtol=1e-12)


# -------------------------------------------------------------- streaming
def _write_parquet(path, X, y, rows_per_file):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path.mkdir()
    frame = _frame(X).assign(target=y)
    for k, start in enumerate(range(0, len(frame), rows_per_file)):
        table = pa.Table.from_pandas(frame.iloc[start : start + rows_per_file])
        pq.write_table(table, path / f"part-{k:03d}.parquet", row_group_size=250)


def test_parquet_chunks_stream_the_dataset_in_order(tmp_path):
    X, y, _ = make_heteroscedastic(n_samples=1000, random_state=0)
    _write_parquet(tmp_path / "data", X, y, rows_per_file=400)
    chunks = parquet_chunks(tmp_path / "data", "target", batch_size=150)
    for _ in range(2):  # re-iterable
        parts = list(chunks)
        assert max(len(Xc) for Xc, _ in parts) <= 150
        np.testing.assert_array_equal(np.concatenate([yc for _, yc in parts]), y)
        np.testing.assert_array_equal(pd.concat([Xc for Xc, _ in parts]).to_numpy(), X)
    assert list(parts[0][0].columns) == [f"x{i}" for i in range(X.shape[1])]
    with pytest.raises(KeyError, match="nope"):
        next(iter(parquet_chunks(tmp_path / "data", "nope")))


def test_streaming_parquet_fit_matches_in_memory_quality(tmp_path):
    """partial_fit over 4 files of 500 rows, read 200 rows at a time.

    Tolerance: the streamed model is within 5% of the in-memory model's test
    RMSE and within 0.05 nats of its test NLL. Both see the same rows for the
    same number of epochs; they differ in the target scaling (first chunk vs
    all rows) and in the shuffling (within chunks vs over all rows).
    """
    X, y, _ = make_heteroscedastic(n_samples=2000, random_state=0)
    Xt, yt, _ = make_heteroscedastic(n_samples=1000, random_state=1)
    _write_parquet(tmp_path / "data", X, y, rows_per_file=500)
    epochs = 15
    params = dict(max_epochs=epochs, batch_size=128, early_stopping=False, random_state=0)

    in_memory = SculptRegressor(**params).fit(_frame(X), y)
    chunks = parquet_chunks(tmp_path / "data", "target", batch_size=200)
    sizes = [len(y_chunk) for _, y_chunk in chunks]
    assert len(sizes) > 4 and max(sizes) == 200
    streamed = partial_fit_chunks(SculptRegressor(**params), chunks, epochs=epochs)
    assert streamed.n_iter_ == epochs * len(sizes)
    first = y[:200]
    np.testing.assert_allclose(streamed.y_loc_, [first.mean()])
    np.testing.assert_allclose(streamed.y_scale_, [first.std()])

    def quality(reg):
        dist = reg.predict_dist(_frame(Xt))
        return np.sqrt(np.mean((dist.mean() - yt) ** 2)), -np.mean(dist.logpdf(yt))

    rmse_mem, nll_mem = quality(in_memory)
    rmse_stream, nll_stream = quality(streamed)
    assert rmse_stream <= 1.05 * rmse_mem, (rmse_stream, rmse_mem)
    assert nll_stream <= nll_mem + 0.05, (nll_stream, nll_mem)


def test_dask_chunks_train_like_the_same_pandas_chunks():
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    frame = _frame(X).assign(target=y)
    ddf = dd.from_pandas(frame, npartitions=3)
    by_hand = [
        (part.drop(columns="target"), part["target"].to_numpy())
        for part in (ddf.partitions[i].compute() for i in range(3))
    ]
    a = partial_fit_chunks(SculptRegressor(random_state=0), dask_chunks(ddf, "target"), epochs=2)
    b = partial_fit_chunks(SculptRegressor(random_state=0), by_hand, epochs=2)
    np.testing.assert_array_equal(a.predict(frame.drop(columns="target")),
                                  b.predict(frame.drop(columns="target")))


def test_partial_fit_chunks_checks_its_input():
    X, y, _ = make_heteroscedastic(n_samples=100, random_state=0)
    one_shot = ((X[i : i + 50], y[i : i + 50]) for i in (0, 50))
    with pytest.raises(TypeError, match="one-shot iterator"):
        partial_fit_chunks(SculptRegressor(), one_shot, epochs=2)
    with pytest.raises(ValueError, match="tuple"):
        partial_fit_chunks(SculptRegressor(), [X], epochs=1)
    with pytest.raises(ValueError, match="no chunk"):
        partial_fit_chunks(SculptRegressor(), [], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        partial_fit_chunks(SculptRegressor(), [(X, y)], epochs=0)
    # A function returning a fresh generator replays fine.
    reg = partial_fit_chunks(
        SculptRegressor(random_state=0),
        lambda: ((X[i : i + 50], y[i : i + 50]) for i in (0, 50)),
        epochs=2,
    )
    assert reg.n_iter_ == 4


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"pip install \"sculpt-sklearn\[dask\]\""):
        parquet_chunks(tmp_path, "y")
    with pytest.raises(ImportError, match=r"pip install \"sculpt-sklearn\[dask\]\""):
        predict_dask(object(), None)
