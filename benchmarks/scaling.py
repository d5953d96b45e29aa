"""Scaling out: search wall time on 1 vs 2 Dask workers, streaming vs in-memory memory.

Two measurements, both printed as markdown and written to
``benchmarks/results/scaling.md`` (or ``--out``):

1. **Hyperparameter search on a Dask cluster.** The same ``GridSearchCV``
   (``SculptRegressor``, 4 candidates x 3 folds = 12 fits, then the refit)
   runs in this process with ``n_jobs=1``, then through
   ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of 1 and of 2
   single-threaded worker *processes* (loopback, no dashboard); with one
   worker the whole search is submitted to it (``client.submit``), because
   joblib runs the fits in the calling process when the cluster has a single
   thread. Worker
   start-up is timed separately, and every worker first runs one tiny fit so
   that imports and torch's first-call costs are not charged to the search.
   Each search runs ``--repeats`` times; the table gives the median. All
   runs must give the same ``cv_results_`` (checked).

2. **Peak memory of training on a parquet dataset**, each case in a fresh
   child process, as the peak resident set size (``ru_maxrss``):
   ``baseline`` (imports, and a model set up on 2 rows), ``in memory``
   (``pandas.read_parquet`` of the whole table, then ``fit`` for one epoch)
   and ``streamed`` (``partial_fit_chunks`` over ``parquet_chunks`` for one
   epoch). The column "over baseline" is what the data costs.

Everything runs with one torch thread per process. On a shared machine the
numbers move with the load of other processes; the load average is printed
with the table.

Examples
--------
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scaling.py``

``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scaling.py --quick``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import datetime as _dt
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import write_report

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "scaling.md"


# ------------------------------------------------------------------- search
def _search(n_jobs: int, epochs: int) -> Any:
    from sklearn.model_selection import GridSearchCV

    from sculpt_sklearn import SculptRegressor

    return GridSearchCV(
        SculptRegressor(max_epochs=epochs, early_stopping=False, random_state=0),
        {"n_layers": [1, 2], "lr": [1e-3, 3e-3]},
        cv=3,
        n_jobs=n_jobs,
    )


def _fit_search(X: np.ndarray, y: np.ndarray, epochs: int) -> Any:
    """The whole search, sequentially, wherever this runs (a worker)."""
    return _search(1, epochs).fit(X, y)


def _warm_up() -> int:
    """One tiny fit: imports and torch's first-call costs, paid once per worker."""
    import torch

    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=64, random_state=0)
    SculptRegressor(max_epochs=2, random_state=0).fit(X, y)
    return torch.get_num_threads()


def _cpu_seconds() -> float:
    """CPU time (user + system) used so far by this process."""
    t = os.times()
    return t.user + t.system


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except OSError:
        return (float("nan"), float("nan"))
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle, sum(fields))


def _busy_share(before: tuple[float, float], after: tuple[float, float]) -> float:
    return (after[0] - before[0]) / max(after[1] - before[1], 1e-9)


def bench_search(rows: int, epochs: int, repeats: int) -> dict[str, Any]:
    """Wall time of the same grid search in-process and on 1 and 2 Dask workers."""
    import joblib
    from dask.distributed import Client, LocalCluster

    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=rows, random_state=0)
    results: dict[str, Any] = {}
    reference = None

    _warm_up()
    times = []
    cpu0, busy0 = _cpu_seconds(), _machine_busy()
    for _ in range(repeats):
        start = time.perf_counter()
        search = _search(1, epochs).fit(X, y)
        times.append(time.perf_counter() - start)
    reference = search.cv_results_["mean_test_score"]
    results["in process, n_jobs=1"] = {
        "search_s": times, "startup_s": None, "threads": None,
        "cpu_s": (_cpu_seconds() - cpu0) / repeats,
        "busy": _busy_share(busy0, _machine_busy()),
    }

    for n_workers in (1, 2):
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None, worker_dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            threads = client.run(_warm_up)
            startup = time.perf_counter() - start
            times = []
            cpu0, busy0 = sum(client.run(_cpu_seconds).values()), _machine_busy()
            for _ in range(repeats):
                start = time.perf_counter()
                if n_workers == 1:
                    # joblib runs the fits in this process when the cluster has one
                    # thread in all; send the whole search to the worker instead.
                    search = client.submit(_fit_search, X, y, epochs, pure=False).result()
                else:
                    with joblib.parallel_backend("dask"):
                        search = _search(-1, epochs).fit(X, y)
                times.append(time.perf_counter() - start)
            busy = _busy_share(busy0, _machine_busy())
            cpu = (sum(client.run(_cpu_seconds).values()) - cpu0) / repeats
            same = bool(np.array_equal(search.cv_results_["mean_test_score"], reference))
        results[f"Dask, {n_workers} worker{'s' if n_workers > 1 else ''}"] = {
            "search_s": times, "startup_s": startup, "cpu_s": cpu, "busy": busy,
            "threads": sorted(set(threads.values())), "same_results": same,
        }
    return results


# ------------------------------------------------------------------ memory
def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def memory_child(mode: str, data_dir: Path, chunk_rows: int, batch_size: int) -> dict[str, float]:
    """Run one training case in this (fresh) process and report its peak RSS."""
    import pandas as pd
    import torch

    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.dask import parquet_chunks, partial_fit_chunks

    torch.set_num_threads(1)
    params = dict(max_epochs=1, batch_size=batch_size, early_stopping=False, random_state=0)
    start = time.perf_counter()
    if mode == "baseline":
        X, y = next(iter(parquet_chunks(data_dir, "y", batch_size=2)))
        SculptRegressor(**params).partial_fit(X, y)
        n_rows = 0
    elif mode == "in_memory":
        table = pd.read_parquet(data_dir)
        X, y = table.drop(columns="y"), table["y"].to_numpy()
        n_rows = len(table)
        SculptRegressor(**params).fit(X, y)
    elif mode == "streamed":
        chunks = parquet_chunks(data_dir, "y", batch_size=chunk_rows)
        reg = partial_fit_chunks(SculptRegressor(**params), chunks, epochs=1)
        n_rows = reg.n_iter_  # chunks
    else:
        raise ValueError(mode)
    return {"peak_rss_mib": _peak_rss_mib(), "seconds": time.perf_counter() - start,
            "n": n_rows}


def bench_memory(rows: int, features: int, chunk_rows: int, batch_size: int) -> dict[str, Any]:
    """Write a parquet dataset, then train on it in three fresh processes."""
    import pandas as pd

    from sculpt_sklearn.datasets import make_heteroscedastic

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        per_file = 250_000
        for k, start in enumerate(range(0, rows, per_file)):
            n = min(per_file, rows - start)
            X, y, _ = make_heteroscedastic(n_samples=n, n_features=features, random_state=k)
            frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(features)]).assign(y=y)
            frame.to_parquet(data_dir / f"part-{k:03d}.parquet", index=False,
                             row_group_size=50_000)
        out["parquet_mib"] = sum(p.stat().st_size for p in data_dir.iterdir()) / 2**20
        out["in_ram_mib"] = rows * (features + 1) * 8 / 2**20
        for mode in ("baseline", "in_memory", "streamed"):
            cmd = [sys.executable, __file__, "--memory-child", mode, "--data", str(data_dir),
                   "--chunk-rows", str(chunk_rows), "--batch-size", str(batch_size)]
            res = subprocess.run(cmd, capture_output=True, text=True, check=True)
            out[mode] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# ------------------------------------------------------------------ report
def _fmt(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f}"


def format_report(args: argparse.Namespace, search: dict[str, Any] | None,
                  memory: dict[str, Any] | None, load: tuple[float, float]) -> str:
    """The markdown tables."""
    import dask
    import pyarrow
    import torch

    lines = [
        f"Run {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
        f"dask {dask.__version__}, pyarrow {pyarrow.__version__}; one torch thread per process. "
        f"Load average before/after: {load[0]:.1f} / {load[1]:.1f}.",
        "",
    ]
    if search is not None:
        base = statistics.median(search["in process, n_jobs=1"]["search_s"])
        lines += [
            f"**Grid search**: 4 candidates x 3 folds (12 fits + refit), {args.search_rows} rows, "
            f"{args.search_epochs} epochs per fit, median of {args.repeats} runs.",
            "",
            "| run | search wall time (s) | speed-up | CPU time of the fits (s) "
            "| machine busy | cluster start-up + warm-up (s) "
            "| torch threads per worker | same cv_results_ |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for name, r in search.items():
            speed = base / statistics.median(r["search_s"])
            startup = "" if r["startup_s"] is None else f"{r['startup_s']:.1f}"
            threads = "" if r["threads"] is None else ", ".join(map(str, r["threads"]))
            same = "reference" if "same_results" not in r else str(r["same_results"])
            lines.append(f"| {name} | {_fmt(r['search_s'])} | {speed:.2f}x | {r['cpu_s']:.1f} "
                         f"| {r['busy']:.0%} | {startup} | {threads} | {same} |")
        lines += [
            "",
            "CPU time of the fits: per search, in this process (n_jobs=1) or summed over "
            "the workers (Dask; with 2 workers the refit runs in this process and is not "
            "counted). 1 worker: the whole search is submitted to the worker, because "
            "joblib runs the fits in the calling process when the cluster has one thread. "
            "Machine busy: share of all cores' time not idle during the searches, "
            "whoever used it (/proc/stat).",
        ]
        lines.append("")
    if memory is not None:
        base = memory["baseline"]["peak_rss_mib"]
        lines += [
            f"**Training memory**: {args.memory_rows:,} rows x {args.features} float64 features "
            f"({memory['in_ram_mib']:.0f} MiB as float64, {memory['parquet_mib']:.0f} MiB of "
            f"parquet), one epoch, batch size {args.batch_size}; streamed in chunks of "
            f"{args.chunk_rows:,} rows.",
            "",
            "| run | peak RSS (MiB) | over baseline (MiB) | time (s) |",
            "|---|---:|---:|---:|",
        ]
        names = {"baseline": "baseline (imports, model on 2 rows)",
                 "in_memory": "in memory: read_parquet + fit",
                 "streamed": "streamed: partial_fit_chunks(parquet_chunks)"}
        for key, label in names.items():
            r = memory[key]
            lines.append(f"| {label} | {r['peak_rss_mib']:.0f} | "
                         f"{r['peak_rss_mib'] - base:.0f} | {r['seconds']:.1f} |")
        lines.append("")
    return "\n".join(lines)



def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-rows", type=int, default=1500)
    parser.add_argument("--search-epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child is not None:
        res = memory_child(args.memory_child, args.data, args.chunk_rows, args.batch_size)
        print(json.dumps(res))
        return 0
    if args.quick:
        args.search_rows, args.search_epochs, args.repeats = 300, 3, 1
        args.memory_rows, args.chunk_rows = 100_000, 10_000

    load_before = os.getloadavg()[0]
    search = None if args.skip_search else bench_search(
        args.search_rows, args.search_epochs, args.repeats)
    memory = None if args.skip_memory else bench_memory(
        args.memory_rows, args.features, args.chunk_rows, args.batch_size)
    report = format_report(args, search, memory, (load_before, os.getloadavg()[0]))
    print(report)
    write_report(args.out, report, "scaling-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
