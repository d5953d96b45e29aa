"""Does rescaling the risk on the early-stopping rows help? (inner validation only).

For the first splits of some UCI datasets, trains ``SculptRegressor`` on the first 80%
of each training split (file order, at most ``--max-train-rows`` rows) and scores the
last 20%, as ``benchmarks/uci.py --inner-valid`` does; the test rows are never used.
For each fit it computes the maximum-likelihood factor of the Gaussian risk on the
estimator's own early-stopping rows, and prints the held-out NLL and 90% coverage
without and with that factor. Run with ``calibrate_risk=False`` so the raw risk is
measured, and with ``distribution="normal"``, the family of those Gaussian formulas::

    OMP_NUM_THREADS=1 python benchmarks/calibrate_risk_study.py yacht energy concrete
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import SculptRegressor

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uci"
FOLDERS = {"naval": "naval-propulsion-plant", "power": "power-plant",
           "protein": "protein-tertiary-structure", "wine": "wine-quality-red"}


def inner_split(name: str, split: int, max_rows: int) -> tuple[np.ndarray, ...]:
    """Training and inner-validation rows of one fixed split."""
    folder = DATA / FOLDERS.get(name, name)
    data = np.loadtxt(folder / "data.txt")
    features = np.loadtxt(folder / "index_features.txt").astype(int)
    target = int(np.loadtxt(folder / "index_target.txt"))
    rows = np.loadtxt(folder / f"index_train_{split}.txt").astype(int)[:max_rows]
    cut = int(0.8 * len(rows))
    train, valid = rows[:cut], rows[cut:]
    return data[train][:, features], data[train, target], data[valid][:, features], data[valid, target]


def main() -> None:
    """Print raw and rescaled held-out NLL and coverage per dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--max-train-rows", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.datasets:
        rows = []
        for split in range(args.splits):
            X, y, Xv, yv = inner_split(name, split, args.max_train_rows)
            scaler = StandardScaler().fit(X)
            X, Xv = scaler.transform(X), scaler.transform(Xv)
            reg = SculptRegressor(calibrate_risk=False, random_state=split,
                                  distribution="normal").fit(X, y)
            n_valid = math.ceil(reg.validation_fraction * len(X))
            _, held_out = train_test_split(np.arange(len(X)), test_size=n_valid,
                                           random_state=reg._seed)
            m, s = reg.predict(X[held_out], return_std=True)
            factor = np.sqrt(np.mean(((y[held_out] - m) / s) ** 2))
            mean, std = reg.predict(Xv, return_std=True)
            rows.append((
                -norm.logpdf(yv, mean, std).mean(),
                -norm.logpdf(yv, mean, factor * std).mean(),
                factor,
                np.mean(np.abs(yv - mean) <= norm.ppf(0.95) * std),
                np.mean(np.abs(yv - mean) <= norm.ppf(0.95) * factor * std),
            ))
        r = np.array(rows)
        print(f"{name}: NLL raw {r[:, 0].mean():.3f} rescaled {r[:, 1].mean():.3f}; "
              f"factor {np.round(r[:, 2], 2).tolist()}; 90% coverage "
              f"{r[:, 3].mean():.2f} -> {r[:, 4].mean():.2f}", flush=True)


if __name__ == "__main__":
    main()
