"""Fit time and test NLL of the new default, the old default and NGBoost, side by side.

The part of ``speed.py --defaults``. On ``n_train x 8`` rows of
:func:`sculpt_sklearn.datasets.make_heteroscedastic` (and ``n_test`` fresh rows
from another seed), each repeat fits, back to back:

- ``SculptRegressor()``: the new default (TabM), everything at its default;
- ``SculptRegressor(module=MLP)``: the old default (the plain MLP with the old
  ``"auto"`` schedule);
- NGBoost's default, ``NGBRegressor()`` (Normal, LogScore, 500 stages, lr 0.01),
  in ``.bench-venv`` through ``peers_runner.py --npz`` (its fit is timed inside
  that process, so interpreter start-up and imports are not counted).

The order rotates between repeats. Each model is scored on the test rows with
its total predictive std (``predict(X, return_std=True)``; NGBoost's
``pred_dist``), against the NLL of the true model (the generating mean and
noise std). NGBoost's test NLL after every 25 stages gives the stage (and,
pro rata, the time) at which it reaches the NLL of each SculptRegressor
default: the comparison at equal NLL.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _peers import BENCH_PYTHON, run_runner
from ngboost_runner import normal_metrics
from uci import family_metrics

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

__all__ = ["NEW", "NGB", "OLD", "compare_defaults", "defaults_report", "make_rows",
           "true_mean"]

NEW = "SculptRegressor() (new default, TabM)"
OLD = "SculptRegressor(module=MLP) (old default)"
NGB = "NGBRegressor() (500 stages)"


def true_mean(X: np.ndarray) -> np.ndarray:
    """The generating mean of ``make_heteroscedastic`` (its documented formula).

    Parameters
    ----------
    X : ndarray of shape (n, d)

    Returns
    -------
    ndarray of shape (n,)
    """
    d = X.shape[1]
    return 2.0 * np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + X[:, 2:].sum(axis=1) / math.sqrt(d)


def make_rows(n_train: int, n_test: int, n_features: int = 8,
              seed: int = 0) -> dict[str, np.ndarray]:
    """Training and test rows of ``make_heteroscedastic``, and the true model's test NLL.

    Parameters
    ----------
    n_train, n_test, n_features : int
    seed : int
        Seed of the training rows; the test rows use ``seed + 1``.

    Returns
    -------
    dict
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` and ``oracle_nll``
        (0-d array).
    """
    X_train, y_train, _ = make_heteroscedastic(n_train, n_features, random_state=seed)
    X_test, y_test, std = make_heteroscedastic(n_test, n_features, random_state=seed + 1)
    oracle = normal_metrics(y_test, true_mean(X_test), std)["nll"]
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
            "oracle_nll": np.asarray(oracle)}


def _fit_sculpt(data: dict[str, np.ndarray], seed: int, **params: Any) -> dict[str, Any]:
    reg = SculptRegressor(random_state=seed, **params)
    start, cpu = time.perf_counter(), time.process_time()
    reg.fit(data["X_train"], data["y_train"])
    fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    mean, std = reg.predict(data["X_test"], return_std=True)
    out = family_metrics(reg, data["y_test"], mean, std)  # under the model's own family
    out.update(fit_s=fit_s, cpu_s=cpu_s, n_iter=int(reg.n_iter_))
    return out


def compare_defaults(n_train: int = 20_000, n_test: int = 5000, repeats: int = 3,
                     seed: int = 0) -> dict[str, Any]:
    """Fit the three defaults ``repeats`` times each, interleaved.

    Parameters
    ----------
    n_train, n_test : int
        Rows (8 features).
    repeats : int
        Fits of each model; repeat ``r`` uses ``random_state=r``.
    seed : int
        Seed of the data.

    Returns
    -------
    dict
        ``records`` (one per fit, with ``method``, ``repeat``, the metrics of
        :func:`ngboost_runner.normal_metrics`, ``fit_s``, ``cpu_s``,
        ``n_iter``; NGBoost's also ``staged``), ``oracle_nll``, ``n_train``,
        ``n_test``, ``repeats``.
    """
    if not BENCH_PYTHON.exists():
        raise SystemExit("speed.py --defaults needs .bench-venv for NGBoost; run "
                         "`make bench-env`")
    data = make_rows(n_train, n_test, seed=seed)
    runners = {
        NEW: lambda r: _fit_sculpt(data, r),
        OLD: lambda r: _fit_sculpt(data, r, module=MLP),
        NGB: None,
    }
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.npz"
        np.savez(path, **data)
        runners[NGB] = lambda r: run_runner(
            "ngboost_default", ["--npz", str(path), "--seed", str(r), "--repeat", str(r)])[0]
        names = list(runners)
        for r in range(repeats):
            for name in names[r % 3:] + names[: r % 3]:
                rec = runners[name](r)
                rec.update(method=name, repeat=r)
                records.append(rec)
    return {"records": records, "oracle_nll": float(data["oracle_nll"]),
            "n_train": n_train, "n_test": n_test, "repeats": repeats}


def _median(records: list[dict], method: str, key: str) -> float:
    return statistics.median(r[key] for r in records if r["method"] == method)


def _paired(records: list[dict], method: str, base: str, key: str) -> float:
    by = {(r["method"], r["repeat"]): r[key] for r in records}
    reps = sorted({r["repeat"] for r in records})
    return statistics.median(by[method, r] / by[base, r] for r in reps)


def _stage_at(staged: list[list[float]], target: float) -> int | None:
    for stage, nll in staged:
        if nll <= target:
            return int(stage)
    return None


def defaults_report(result: dict[str, Any]) -> str:
    """The markdown section of :func:`compare_defaults`.

    Parameters
    ----------
    result : dict
        From :func:`compare_defaults`.

    Returns
    -------
    str
    """
    recs, oracle = result["records"], result["oracle_nll"]
    methods = [NEW, OLD, NGB]
    lines = [
        "### The defaults side by side: new, old, NGBoost",
        "",
        f"{result['n_train']:,} x 8 training rows and {result['n_test']:,} test rows of "
        "`make_heteroscedastic` (test rows from another seed); median over "
        f"{result['repeats']} interleaved repeats (`random_state` = repeat). Fit time is "
        "`fit` alone; NLL, RMSE and coverage on the test rows with the total predictive "
        f"std. True model's test NLL: {oracle:.4f}. The machine is shared with other "
        "work (2 cores, several agents), so the wall times are noisy; CPU time (one "
        "thread) is the steadier measure, and the paired ratios (same repeat) cancel "
        "most of the drift.",
        "",
        "| model | fit wall s | fit CPU s | epochs / stages | test NLL | NLL - true NLL "
        "| RMSE | 90% cover | wall / NGBoost (medians) | wall / NGBoost (paired) "
        "| CPU / NGBoost (paired) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in methods:
        nll = _median(recs, m, "nll")
        lines.append(
            f"| {m} | {_median(recs, m, 'fit_s'):.1f} | {_median(recs, m, 'cpu_s'):.1f} | "
            f"{_median(recs, m, 'n_iter'):.0f} | {nll:.4f} | {nll - oracle:+.4f} | "
            f"{_median(recs, m, 'rmse'):.4f} | {_median(recs, m, 'coverage90'):.3f} | "
            f"{_median(recs, m, 'fit_s') / _median(recs, NGB, 'fit_s'):.2f} | "
            f"{_paired(recs, m, NGB, 'fit_s'):.2f} | {_paired(recs, m, NGB, 'cpu_s'):.2f} |")
    lines += ["", f"New default against the old: wall ratio {_paired(recs, NEW, OLD, 'fit_s'):.2f}"
              f" (paired), CPU ratio {_paired(recs, NEW, OLD, 'cpu_s'):.2f} (paired).", ""]
    # At equal NLL: the NGBoost stage reaching each default's NLL, time pro rata.
    ngb = [r for r in recs if r["method"] == NGB]
    staged = ngb[0]["staged"]
    curve = ", ".join(f"{int(s)}: {v:.4f}" for s, v in staged if s % 100 == 0)
    lines += ["At equal NLL (NGBoost's test NLL by stage, repeat 0: " + curve + "):", ""]
    for m in (NEW, OLD):
        target = _median(recs, m, "nll")
        stages = [_stage_at(r["staged"], target) for r in ngb]
        if any(s is None for s in stages):
            lines.append(f"- {m} (NLL {target:.4f}): NGBoost does not reach it within "
                         f"{staged[-1][0]:.0f} stages in {sum(s is None for s in stages)} of "
                         f"{len(stages)} repeats; its best is {min(v for _, v in staged):.4f}.")
        else:
            stage = statistics.median(stages)
            t = _median(recs, NGB, "fit_s") * stage / staged[-1][0]
            lines.append(f"- {m} (NLL {target:.4f}): NGBoost reaches it at stage {stage:.0f}, "
                         f"about {t:.1f} s pro rata; {m} took "
                         f"{_median(recs, m, 'fit_s'):.1f} s "
                         f"({_median(recs, m, 'fit_s') / t:.2f}x).")
    return "\n".join(lines) + "\n"
