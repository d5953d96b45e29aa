"""Inner-validation study: how much of the two-network default's variance is their disagreement.

The default on <= 2,000 rows pools two networks (``n_networks="auto"``); its
total variance is the law of total variance over all members, so it is the
networks' own (within) variance ``W`` plus their disagreement
``D = mean_j (mu_j - mu_bar)**2``, both scaled by the calibration factor fitted
on the out-of-fold rows, where each row is predicted by the network that held
it out, alone. A linear pool of calibrated forecasts is over-dispersed
(Gneiting & Ranjan, 2013), so the pooled intervals could be too wide by the
part ``D`` adds. This script measures ``D / W`` on inner validation rows (the
test rows are never used) and scores three totals for the same means:

- ``current``: ``c * sqrt(W + D)``, what ``predict(X, return_std=True)``
  returns (checked against it);
- ``no between``: ``c * sqrt(W)``, without the disagreement;
- ``ambiguity``: ``sqrt(max(c**2 W - D, c**2 A))`` with ``A`` the aleatoric
  variance: the pooled mean's expected squared error if each network's
  calibrated variance matched its own (Krogh & Vedelsby's ambiguity
  decomposition, ``mean_j (y - mu_j)**2 = (y - mu_bar)**2 + D``).

It also reports the shape of the standardised residuals ``z = (y - mean) /
std`` of the current total, over every scored row of a dataset: ``mean z**2``
(1 when the variance is right), the median ``|z|`` (0.674 for a Normal) and the
kurtosis (3 for a Normal). A total of the right size with heavier tails than
the Normal's covers more than 90% with its central 90% interval.

The fits name ``distribution="normal"``: this is a study of the Normal family,
the default when it was run (its record), whose residuals' shape it measures.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/pool_variance_study.py \\
        --splits 0 1 2 3 4 5 --jobs 2 --json benchmarks/results/pool_variance_study.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import itertools
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import study_parser, study_records
from ngboost_runner import load_split, normal_metrics

TOTALS = ("current", "no between", "ambiguity")


def pooled_parts(reg: Any, X: np.ndarray) -> dict[str, np.ndarray]:
    """Pooled mean, within variance ``W``, disagreement ``D`` and aleatoric variance ``A``.

    In y's units, before the calibration factor; ``X`` is the estimator's input.
    The members' moments come from the library's own prediction path
    (:func:`sculpt_sklearn._inference.member_moments`, in the estimator's
    ``predict_dtype_``), so only the pooling is done here.
    """
    from sculpt_sklearn._inference import member_moments

    module = reg.net_.module_
    mu, sigma = member_moments(module, reg._preprocess_X(X), reg.predict_dtype_, reg.n_outputs_)
    mu = mu[..., 0] * reg.y_scale_[0] + reg.y_loc_[0]
    sigma = sigma[..., 0] * reg.y_scale_[0]
    bounds = np.cumsum([0, *module.part_sizes])
    parts = list(itertools.pairwise(bounds))
    means = [mu[:, a:b].mean(axis=1) for a, b in parts]
    within = [(sigma[:, a:b] ** 2).mean(axis=1) + mu[:, a:b].var(axis=1) for a, b in parts]
    mean = np.mean(means, axis=0)
    return {"mean": mean, "W": np.mean(within, axis=0),
            "D": np.mean([(m - mean) ** 2 for m in means], axis=0),
            "A": (sigma**2).mean(axis=1)}


def run_split(dataset: str, split: int, data_dir: Path) -> list[dict[str, Any]]:
    """The three totals of one fit on one inner-validation split."""
    import torch
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X, y, X_val, y_val = load_split(data_dir, dataset, split, inner_valid=True)
    pipe = make_pipeline(StandardScaler(), SculptRegressor(random_state=split, distribution="normal")).fit(X, y)
    reg = pipe[-1]
    if reg.n_networks_ < 2:
        raise SystemExit(f"{dataset} has one network under the default; nothing to pool.")
    _, std = pipe.predict(X_val, return_std=True)
    p = pooled_parts(reg, pipe[0].transform(X_val))
    c2 = float(reg.risk_scale_[0]) ** 2
    totals = {"current": np.sqrt(c2 * (p["W"] + p["D"])),
              "no between": np.sqrt(c2 * p["W"]),
              "ambiguity": np.sqrt(np.maximum(c2 * p["W"] - p["D"], c2 * p["A"]))}
    np.testing.assert_allclose(totals["current"], std, rtol=1e-4)  # what predict returns
    share = float(np.mean(p["D"] / p["W"]))
    z = ((y_val - p["mean"]) / totals["current"]).tolist()
    return [{**normal_metrics(y_val, p["mean"], totals[label]), "method": label,
             "dataset": dataset, "split": split, "between_share": share,
             **({"z": z} if label == "current" else {})}
            for label in TOTALS]


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        jobs = [(d, s, args.data_dir) for d in args.datasets for s in args.splits]
        with ProcessPoolExecutor(args.jobs) as pool:
            return [r for rs in pool.map(run_split, *zip(*jobs, strict=True)) for r in rs]

    records = study_records(args, run)
    print("| dataset | D / W | " + " | ".join(f"{t}: NLL, 90% cover, splits better"
                                           for t in TOTALS) + " |")
    print("|---|---:|" + "---:|" * len(TOTALS))
    for d in args.datasets:
        rs = [r for r in records if r["dataset"] == d]
        base = {r["split"]: r["nll"] for r in rs if r["method"] == "current"}
        cells = []
        for label in TOTALS:
            own = [r for r in rs if r["method"] == label]
            better = sum(r["nll"] < base[r["split"]] for r in own)
            cells.append(f"{statistics.mean(r['nll'] for r in own):.3f}, "
                         f"{statistics.mean(r['coverage90'] for r in own):.3f}, {better}")
        share = statistics.mean(r["between_share"] for r in rs if r["method"] == "current")
        print(f"| {d} | {share:.3f} | " + " | ".join(cells) + " |")
    print("\n| dataset | rows | mean z**2 | median abs(z) (Normal 0.674) | kurtosis (Normal 3) |")
    print("|---|---:|---:|---:|---:|")
    for d in args.datasets:
        z = np.concatenate([r["z"] for r in records
                            if r["dataset"] == d and r["method"] == "current"])
        print(f"| {d} | {len(z)} | {np.mean(z**2):.3f} | {np.median(np.abs(z)):.3f} | "
              f"{np.mean(z**4) / np.mean(z**2) ** 2:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
