"""The test rows that cost a split's NLL the most, for the default model or NGBoost.

A split's mean NLL can be dominated by one row; this script shows which rows,
what was predicted for them and what their nearest training rows look like.

Usage (one torch thread; NGBoost from the bench venv, ``make bench-env``)::

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/worst_rows.py energy 1
    .bench-venv/bin/python benchmarks/worst_rows.py energy 1 --method ngboost
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ngboost_runner import fit_ngboost, load_split

DEFAULT_DATA_DIR = (Path(__file__).resolve().parent / ".." / ".." / "shared" / "datasets"
                    / "uci").resolve()


def fit_sculpt(X_train, y_train, X_test, random_state, distribution="auto"):
    """``StandardScaler -> SculptRegressor(random_state, distribution)``: test means, total stds and the
    predictive distribution (the model's own family, as ``predict_dist`` gives it)."""
    import torch
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    pipe = make_pipeline(StandardScaler(),
                         SculptRegressor(random_state=random_state, distribution=distribution))
    pipe.fit(X_train, y_train)
    mean, std = pipe.predict(X_test, return_std=True)
    return mean, std, pipe[-1].predict_dist(pipe[0].transform(X_test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("split", type=int)
    parser.add_argument("--method", choices=["sculpt", "ngboost"], default="sculpt")
    parser.add_argument("--random-state", type=int, default=0,
                        help="SculptRegressor's random_state (the acceptance run's 0)")
    parser.add_argument("--rows", type=int, default=5, help="how many worst rows to show")
    parser.add_argument("--distribution", default="auto",
                        help="SculptRegressor's family (default: its own, auto)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = load_split(args.data_dir, args.dataset, args.split)
    if args.method == "sculpt":
        mean, std, predictive = fit_sculpt(X_train, y_train, X_test, args.random_state,
                                           args.distribution)
    else:
        dist = fit_ngboost(X_train, y_train, args.split)[0].pred_dist(X_test)
        mean, std = dist.params["loc"], dist.params["scale"]
        predictive = stats.norm(mean, std)
    cost = -predictive.logpdf(y_test)
    print(f"{args.method} on {args.dataset} split {args.split}: NLL {cost.mean():.3f}, "
          f"RMSE {np.sqrt(np.mean((y_test - mean) ** 2)):.3f}, "
          f"NLL without the worst row {np.sort(cost)[:-1].mean():.3f}")
    scale = X_train.std(axis=0)
    scale[scale == 0] = 1.0
    for i in np.argsort(-cost)[: args.rows]:
        z = (y_test[i] - mean[i]) / std[i]
        print(f"  row {i}: y {y_test[i]:.4g}, mean {mean[i]:.4g}, std {std[i]:.3g}, "
              f"z {z:+.1f}, {cost[i]:.1f} nats ({cost[i] / len(cost):.3f} of the mean)")
        near = np.argsort(np.abs((X_train - X_test[i]) / scale).sum(axis=1))[:3]
        print("    nearest training targets:", ", ".join(f"{y_train[j]:.4g}" for j in near))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
