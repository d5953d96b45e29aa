"""Peer methods on the UCI splits, for running side by side with ``uci.py``.

Each peer is fitted on the training rows of a fixed split and scored on its
test rows with the same data loading and the same Normal scoring rules as
SculptRegressor (:func:`ngboost_runner.load_split`,
:func:`ngboost_runner.normal_metrics`), all in the units of ``y``:

- ``ngboost``: NGBoost with the protocol of its paper
  (:func:`ngboost_runner.run_ngboost_split`; up to 2000 stages, the number
  chosen on 20% of the training rows, refit on all).
- ``catboost``: ``CatBoostRegressor(loss_function="RMSEWithUncertainty")``
  with CatBoost's defaults (1000 trees of depth 6, learning rate chosen by
  CatBoost, no early stopping); ``predict`` returns ``[mean, variance]``.
- ``catboost_ve``: the same loss with ``posterior_sampling=True`` and the
  virtual ensembles of Malinin, Prokhorenkova & Ustimenko (2021):
  ``virtual_ensembles_predict(prediction_type="TotalUncertainty")`` returns
  ``[mean, knowledge variance, data variance]``; the predictive variance is
  their sum (law of total variance).
- ``gp``: scikit-learn's ``GaussianProcessRegressor`` with
  ``ConstantKernel * Matern(nu=2.5, one length scale per feature) +
  WhiteKernel``, features standardised on the training rows,
  ``normalize_y=True``, two optimizer restarts; the predictive std includes
  the white noise. Cubic in the rows: for the small sets only.

``--npz FILE`` runs a peer on the arrays ``X_train, y_train, X_test, y_test``
of a NumPy archive instead (``speed.py`` passes its synthetic rows so);
there ``ngboost_default`` is ``NGBRegressor`` with its defaults (Normal,
LogScore, 500 stages, lr 0.01, no early stopping), whose record also holds the
test NLL after every 25 stages.

The trees see the raw features (they do not need scaling); every peer sees
the raw target. ``ngboost`` and ``catboost*`` need ``.bench-venv`` (``make
bench-env``); ``gp`` needs only scikit-learn and runs in either environment.
No torch, no ``sculpt_sklearn``. Threads: one (``thread_count=1`` for
CatBoost; ``OMP_NUM_THREADS=1`` for the BLAS of the GP, set by the caller).

Examples
--------
``.bench-venv/bin/python benchmarks/peers_runner.py --peer catboost_ve
--data-dir ../shared/datasets/uci --dataset yacht --splits 0 1 2``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ngboost_runner import load_split, normal_metrics, resolve_dataset, run_ngboost_split

#: Number of virtual ensemble members CatBoost averages (its default).
VIRTUAL_ENSEMBLES = 10
#: Optimizer restarts of the GP's marginal likelihood (from random starts).
GP_RESTARTS = 2


def _seed(split: int) -> int:
    return 1000 + split


def fit_predict_catboost(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, seed: int,
    *, virtual_ensembles: bool = False,
) -> tuple[np.ndarray, np.ndarray, int]:
    """CatBoost ``RMSEWithUncertainty`` with its defaults: mean, std, trees.

    Parameters
    ----------
    X_train, y_train, X_test : ndarray
    seed : int
        ``random_seed`` of CatBoost.
    virtual_ensembles : bool, default=False
        Fit with ``posterior_sampling=True`` and predict with the virtual
        ensembles (total variance = knowledge + data variance).

    Returns
    -------
    mean, std : ndarray of shape (n_test,)
    n_trees : int
    """
    from catboost import CatBoostRegressor

    extra = {"posterior_sampling": True} if virtual_ensembles else {}
    model = CatBoostRegressor(loss_function="RMSEWithUncertainty", random_seed=seed,
                              thread_count=1, verbose=False, allow_writing_files=False,
                              **extra)
    model.fit(X_train, y_train)
    if virtual_ensembles:
        pred = model.virtual_ensembles_predict(
            X_test, prediction_type="TotalUncertainty",
            virtual_ensembles_count=VIRTUAL_ENSEMBLES)
        mean, var = pred[:, 0], pred[:, 1] + pred[:, 2]
    else:
        pred = model.predict(X_test)
        mean, var = pred[:, 0], pred[:, 1]
    return mean, np.sqrt(var), int(model.tree_count_)


def fit_predict_gp(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, seed: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """GP with an ARD Matern-5/2 plus white-noise kernel: mean, std, restarts.

    Parameters
    ----------
    X_train, y_train, X_test : ndarray
    seed : int
        Seed of the optimizer's random restarts.

    Returns
    -------
    mean, std : ndarray of shape (n_test,)
    n_restarts : int
        Optimizer restarts (reported in the ``n_iter`` column).
    """
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    d = X_train.shape[1]
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * Matern(length_scale=np.ones(d), length_scale_bounds=(1e-2, 1e3), nu=2.5)
              + WhiteKernel(1e-1, (1e-6, 1e1)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True,
                                  n_restarts_optimizer=GP_RESTARTS, random_state=seed)
    model = make_pipeline(StandardScaler(), gp).fit(X_train, y_train)
    mean, std = model.predict(X_test, return_std=True)
    return mean, std, GP_RESTARTS


def fit_ngboost_default(
    X_train: np.ndarray, y_train: np.ndarray, seed: int, n_estimators: int = 500,
) -> tuple[object, float, float]:
    """``NGBRegressor`` with its defaults; the model, wall and CPU seconds of the fit.

    Parameters
    ----------
    X_train, y_train : ndarray
    seed : int
        ``random_state`` of NGBoost.
    n_estimators : int, default=500
        NGBoost's default number of stages.

    Returns
    -------
    model : NGBRegressor
    wall_s, cpu_s : float
    """
    from ngboost import NGBRegressor

    start, cpu = time.perf_counter(), time.process_time()
    model = NGBRegressor(n_estimators=n_estimators, verbose=False, random_state=seed)
    model.fit(X_train, y_train)
    return model, time.perf_counter() - start, time.process_time() - cpu


def _ngboost_default(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                     seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    model, _, _ = fit_ngboost_default(X_train, y_train, seed)
    params = model.pred_dist(X_test).params
    return params["loc"], params["scale"], int(model.n_estimators)


PEERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, int]]] = {
    "catboost": fit_predict_catboost,
    "catboost_ve": lambda *a: fit_predict_catboost(*a, virtual_ensembles=True),
    "gp": fit_predict_gp,
    "ngboost_default": _ngboost_default,
}
#: Every peer this runner knows, in the order of the reports.
ALL_PEERS = ("ngboost", "catboost", "catboost_ve", "gp")


def run_peer_split(
    peer: str, data_dir: Path, dataset: str, split: int, *,
    inner_valid: bool = False, max_train_rows: int | None = None,
    ngboost_estimators: int = 2000,
) -> dict[str, float]:
    """Fit one peer on one split and score it on the evaluation rows.

    Parameters
    ----------
    peer : {"ngboost", "catboost", "catboost_ve", "gp"}
    data_dir : Path
    dataset : str
    split : int
    inner_valid, max_train_rows
        As in :func:`ngboost_runner.load_split`.
    ngboost_estimators : int, default=2000
        Largest number of NGBoost stages tried (``ngboost`` only).

    Returns
    -------
    dict
        The metrics of :func:`ngboost_runner.normal_metrics` plus ``fit_s``
        (fit and predict, seconds), ``n_iter`` (NGBoost's chosen stages,
        CatBoost's trees, the GP's optimizer restarts), ``peer``,
        ``dataset`` and ``split``.
    """
    if peer == "ngboost":
        out = run_ngboost_split(data_dir, dataset, split, n_estimators=ngboost_estimators,
                                inner_valid=inner_valid, max_train_rows=max_train_rows)
        out["n_iter"] = out.pop("best_iteration")
        out["peer"] = peer
        return out
    if peer not in PEERS:
        raise ValueError(f"Unknown peer {peer!r}; choose from {list(ALL_PEERS)}.")
    X_train, y_train, X_test, y_test = load_split(
        data_dir, dataset, split, inner_valid=inner_valid, max_train_rows=max_train_rows)
    start = time.perf_counter()
    mean, std, n_iter = PEERS[peer](X_train, y_train, X_test, _seed(split))
    fit_s = time.perf_counter() - start
    out = normal_metrics(y_test, mean, std)
    out.update(fit_s=fit_s, n_iter=n_iter, peer=peer, dataset=resolve_dataset(dataset),
               split=split, min_std=float(np.min(std)))
    return out


def run_npz(peer: str, path: Path, seed: int, repeat: int = 0) -> dict[str, object]:
    """One peer on the arrays of a NumPy archive: metrics, fit seconds, staged NLL.

    Parameters
    ----------
    peer : str
        A key of :data:`PEERS`.
    path : Path
        ``.npz`` with ``X_train``, ``y_train``, ``X_test``, ``y_test``.
    seed : int
    repeat : int, default=0
        Copied into the record.

    Returns
    -------
    dict
        The metrics of :func:`ngboost_runner.normal_metrics` (test rows),
        ``fit_s`` and ``cpu_s`` (the fit alone for ``ngboost_default``; fit
        and predict otherwise), ``n_iter``, ``peer``, ``repeat`` and, for
        ``ngboost_default``, ``staged`` (``[stages, test NLL]`` every 25
        stages).
    """
    data = np.load(path)
    X_train, y_train, X_test, y_test = (data[k] for k in ("X_train", "y_train", "X_test",
                                                          "y_test"))
    extra: dict[str, object] = {}
    if peer == "ngboost_default":
        model, fit_s, cpu_s = fit_ngboost_default(X_train, y_train, seed)
        params = model.pred_dist(X_test).params
        mean, std, n_iter = params["loc"], params["scale"], int(model.n_estimators)
        staged = []
        for m, dist in enumerate(model.staged_pred_dist(X_test), start=1):
            if m % 25 == 0:
                p = dist.params
                staged.append([m, normal_metrics(y_test, p["loc"], p["scale"])["nll"]])
        extra["staged"] = staged
    else:
        if peer not in PEERS:
            raise ValueError(f"Unknown peer {peer!r} for --npz; choose from {list(PEERS)}.")
        start, cpu = time.perf_counter(), time.process_time()
        mean, std, n_iter = PEERS[peer](X_train, y_train, X_test, seed)
        fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    out = normal_metrics(y_test, mean, std)
    out.update(fit_s=fit_s, cpu_s=cpu_s, n_iter=n_iter, peer=peer, repeat=repeat, **extra)
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
    parser.add_argument("--peer", required=True, choices=[*ALL_PEERS, "ngboost_default"])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--dataset")
    parser.add_argument("--splits", type=int, nargs="+")
    parser.add_argument("--npz", type=Path, default=None,
                        help="run on the arrays of this archive instead of a UCI split")
    parser.add_argument("--seed", type=int, default=0, help="seed with --npz")
    parser.add_argument("--repeat", type=int, default=0, help="copied into the --npz record")
    parser.add_argument("--inner-valid", action="store_true")
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--ngboost-estimators", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.npz is not None:
        json.dump([run_npz(args.peer, args.npz, args.seed, args.repeat)], sys.stdout)
        sys.stdout.write("\n")
        return 0
    if args.data_dir is None or args.dataset is None or not args.splits:
        parser.error("--data-dir, --dataset and --splits are required without --npz")
    records = [
        run_peer_split(args.peer, args.data_dir, args.dataset, split,
                       inner_valid=args.inner_valid, max_train_rows=args.max_train_rows,
                       ngboost_estimators=args.ngboost_estimators)
        for split in args.splits
    ]
    json.dump(records, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
