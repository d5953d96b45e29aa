"""NGBoost on the UCI splits, for running side by side with ``uci.py``.

NGBoost pins ``scikit-learn < 1.7`` and ``pandas < 3``, so it lives in its own
virtual environment (``make bench-env`` builds ``.bench-venv``) and this
script runs there; ``uci.py --ngboost`` calls it through ``subprocess`` and
reads the JSON it prints. It needs only NumPy, SciPy and ngboost: no torch,
no ``sculpt_sklearn``.

The protocol follows the NGBoost paper's experiment script
(``examples/experiments/regression_exp.py`` in stanfordmlgroup/ngboost, the
code behind Duan et al. 2020, Table 1): ``Normal`` distribution, ``LogScore``
(MLE), the default base learner (a regression tree of depth 3),
``learning_rate=0.01``, ``minibatch_frac=1.0``, up to ``n_estimators=2000``
boosting stages; 20% of the training rows are held out at random to choose the
number of stages with the lowest validation MSE, then the model is refitted on
all training rows and predicts with that many stages. Here the refit is made
with ``n_estimators=best_iteration`` directly, which gives the same model as
fitting 2000 stages and truncating (``minibatch_frac=1`` and ``col_sample=1``
draw no random subsets) and saves time. The features are not scaled (trees do
not need it); the target is used as it is, as in the paper.

This file also holds the data loading and the Normal scoring rules that
``uci.py`` imports, so both sides are read and scored by the same code.

Examples
--------
``.bench-venv/bin/python benchmarks/ngboost_runner.py --data-dir
../shared/datasets/uci --dataset yacht --splits 0 1 2``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

#: Short names of the datasets and their folders in the data directory.
DATASETS = {
    "concrete": "concrete",
    "energy": "energy",
    "kin8nm": "kin8nm",
    "naval": "naval-propulsion-plant",
    "power": "power-plant",
    "protein": "protein-tertiary-structure",
    "wine": "wine-quality-red",
    "yacht": "yacht",
}


def resolve_dataset(name: str) -> str:
    """The short name of a dataset given by its short name or its folder name.

    Parameters
    ----------
    name : str
        ``"power"`` or ``"power-plant"``, for example.

    Returns
    -------
    str
        The short name (a key of :data:`DATASETS`).
    """
    if name in DATASETS:
        return name
    for short, folder in DATASETS.items():
        if folder == name:
            return short
    raise ValueError(f"Unknown dataset {name!r}; choose from {sorted(DATASETS)}.")


def n_splits(data_dir: Path, dataset: str) -> int:
    """Number of fixed splits of a dataset (``n_splits.txt``).

    Parameters
    ----------
    data_dir : Path
        The folder holding one sub-folder per dataset.
    dataset : str
        Short name.

    Returns
    -------
    int
    """
    folder = Path(data_dir) / DATASETS[resolve_dataset(dataset)]
    return int(np.loadtxt(folder / "n_splits.txt"))


def load_split(
    data_dir: Path,
    dataset: str,
    split: int,
    *,
    inner_valid: bool = False,
    max_train_rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and evaluation rows of one fixed split.

    Parameters
    ----------
    data_dir : Path
        The folder holding one sub-folder per dataset (``data.txt``,
        ``index_features.txt``, ``index_target.txt``, ``index_train_<i>.txt``,
        ``index_test_<i>.txt``; all indices 0-based).
    dataset : str
        Short or folder name.
    split : int
        Split number, ``0 ... n_splits - 1``.
    inner_valid : bool, default=False
        Never touch the test rows: train on the first ``int(0.8 * n_train)``
        rows of ``index_train_<split>.txt`` (in file order) and evaluate on
        the rest, as the hyper-parameter search of the MC-dropout/PBP
        experiment code does. For choosing defaults.
    max_train_rows : int, optional
        Keep only the first this many training rows (file order, which is a
        random permutation), to make a study cheaper.

    Returns
    -------
    X_train, y_train, X_eval, y_eval : ndarray
        float64 arrays; ``y`` is 1-D.
    """
    folder = Path(data_dir) / DATASETS[resolve_dataset(dataset)]
    data = np.loadtxt(folder / "data.txt")
    features = np.loadtxt(folder / "index_features.txt", dtype=int).reshape(-1)
    target = int(np.loadtxt(folder / "index_target.txt"))
    train = np.loadtxt(folder / f"index_train_{split}.txt", dtype=int).reshape(-1)
    test = np.loadtxt(folder / f"index_test_{split}.txt", dtype=int).reshape(-1)
    if inner_valid:
        cut = int(0.8 * len(train))
        train, test = train[:cut], train[cut:]
    if max_train_rows is not None:
        train = train[:max_train_rows]
    X, y = data[:, features], data[:, target]
    return X[train], y[train], X[test], y[test]


def normal_metrics(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict[str, float]:
    """Scores of Normal predictive distributions, in the units of ``y``.

    Parameters
    ----------
    y, mean, std : ndarray of shape (n,)
        Targets, predicted means and predicted standard deviations.

    Returns
    -------
    dict
        ``nll`` (mean negative log density), ``rmse``, ``crps`` (closed form
        of Gneiting et al. 2005: ``std * (z * (2 Phi(z) - 1) + 2 phi(z) -
        1 / sqrt(pi))``), ``coverage90`` (share of ``y`` inside the central
        90% interval) and ``width90`` (mean width of that interval).
    """
    y, mean, std = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (y, mean, std))
    z = (y - mean) / std
    nll = 0.5 * z**2 + np.log(std) + 0.5 * math.log(2.0 * math.pi)
    crps = std * (z * (2.0 * stats.norm.cdf(z) - 1.0) + 2.0 * stats.norm.pdf(z)
                  - 1.0 / math.sqrt(math.pi))
    q = stats.norm.ppf(0.95)
    return {
        "nll": float(np.mean(nll)),
        "rmse": float(np.sqrt(np.mean((y - mean) ** 2))),
        "crps": float(np.mean(crps)),
        "coverage90": float(np.mean(np.abs(z) <= q)),
        "width90": float(np.mean(2.0 * q * std)),
    }


def fit_ngboost(
    X_train: np.ndarray, y_train: np.ndarray, split: int, *, n_estimators: int = 2000,
    learning_rate: float = 0.01,
) -> tuple[Any, int]:
    """NGBoost with the paper's protocol: stages chosen on 20% by MSE, then a refit on all.

    Returns
    -------
    (NGBRegressor, int)
        The model refitted on every training row, and its number of stages.
    """
    from ngboost import NGBRegressor
    from ngboost.distns import Normal
    from ngboost.scores import LogScore
    from sklearn.model_selection import train_test_split

    seed = 1000 + split

    def make(n: int) -> NGBRegressor:
        return NGBRegressor(
            Dist=Normal, Score=LogScore, n_estimators=n, learning_rate=learning_rate,
            minibatch_frac=1.0, verbose=False, random_state=seed,
        )

    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=0.2, random_state=seed
    )
    ngb = make(n_estimators).fit(X_fit, y_fit)
    val_mse = [float(np.mean((p - y_val) ** 2)) for p in ngb.staged_predict(X_val)]
    best = int(np.argmin(val_mse)) + 1
    return make(best).fit(X_train, y_train), best


def run_ngboost_split(
    data_dir: Path,
    dataset: str,
    split: int,
    *,
    n_estimators: int = 2000,
    learning_rate: float = 0.01,
    inner_valid: bool = False,
    max_train_rows: int | None = None,
) -> dict[str, float]:
    """Fit NGBoost on one split with the paper's protocol and score it.

    Parameters
    ----------
    data_dir : Path
    dataset : str
    split : int
    n_estimators : int, default=2000
        Largest number of boosting stages tried.
    learning_rate : float, default=0.01
    inner_valid, max_train_rows
        As in :func:`load_split`.

    Returns
    -------
    dict
        The metrics of :func:`normal_metrics` plus ``fit_s`` (both fits, in
        seconds), ``best_iteration``, ``dataset`` and ``split``.
    """
    X_train, y_train, X_test, y_test = load_split(
        data_dir, dataset, split, inner_valid=inner_valid, max_train_rows=max_train_rows
    )
    start = time.perf_counter()
    ngb, best = fit_ngboost(X_train, y_train, split, n_estimators=n_estimators,
                            learning_rate=learning_rate)
    fit_s = time.perf_counter() - start
    dist = ngb.pred_dist(X_test)
    params = dist.params
    out = normal_metrics(y_test, params["loc"], params["scale"])
    out.update(fit_s=fit_s, best_iteration=best, dataset=resolve_dataset(dataset), split=split)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: print a JSON list with one record per split.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--splits", type=int, nargs="+", required=True)
    parser.add_argument("--n-estimators", type=int, default=2000)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--inner-valid", action="store_true")
    parser.add_argument("--max-train-rows", type=int, default=None)
    args = parser.parse_args(argv)
    records = [
        run_ngboost_split(
            args.data_dir, args.dataset, split, n_estimators=args.n_estimators,
            learning_rate=args.learning_rate, inner_valid=args.inner_valid,
            max_train_rows=args.max_train_rows,
        )
        for split in args.splits
    ]
    json.dump(records, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
