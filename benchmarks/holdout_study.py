"""Inner-validation study: three other uses of the default's hold-out rows.

``SculptRegressor()`` holds out 10% of the training rows, stops on their NLL,
fits one calibration factor of the std on them (``calibrate_risk``) and never
trains on them. This script compares, on inner validation rows (the test rows
are never used), one base fit and three alternatives built from it:

- ``defaults``: ``SculptRegressor(random_state=split)`` behind a
  ``StandardScaler``, trained on 90% of the rows with the other 10% (a seeded
  random hold-out, as the default draws its own) given as ``X_val``/``y_val``;
- ``refit``: a second estimator with the same parameters,
  ``early_stopping=False`` and ``max_epochs`` = the base fit's
  ``best_epoch_``, trained on every row (the protocol of NGBoost's paper:
  choose the length on a hold-out, then refit), with the base fit's
  ``risk_scale_`` carried over;
- ``two factors``: the base fit with one factor for the aleatoric and one for
  the epistemic std instead of one for the total, both by maximum likelihood
  on the hold-out rows (Nelder-Mead on their logs);
- ``2 fits pooled (k=16)``: the base fit and a second one with another seed
  and another hold-out, their predictive distributions pooled as an equal
  mixture and moment-matched (twice the cost);
- ``2 fits pooled (k=8)``: the same with two fits of 8 members each (about the
  default's cost).

``fit_s`` sums every fit a configuration needs. One torch thread per worker.

Every fit names ``distribution="normal"``, the default when the study was run
(its record) and the family its scores and the two factors are computed for.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/holdout_study.py \\
        --datasets energy wine yacht concrete --splits 0 1 2 --jobs 2 \\
        --json benchmarks/results/tabm_study_holdout.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import mean_cell, study_parser, study_records
from ngboost_runner import load_split, normal_metrics

LABELS = ("defaults", "refit", "two factors", "2 fits pooled (k=16)", "2 fits pooled (k=8)")
VALIDATION_FRACTION = 0.1


def pooled(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of an equal mixture of Normals ``(mean, std)``, moment-matched."""
    mean = np.mean([m for m, _ in parts], axis=0)
    second = np.mean([s**2 + m**2 for m, s in parts], axis=0)
    return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


def two_factors(y: np.ndarray, unc: Any) -> tuple[float, float]:
    """Factors of the aleatoric and the epistemic std maximising the likelihood of ``y``."""
    from scipy.optimize import minimize

    def objective(log_factors: np.ndarray) -> float:
        a, e = np.exp(log_factors)
        std = np.sqrt((a * unc.aleatoric) ** 2 + (e * unc.epistemic) ** 2)
        return normal_metrics(y, unc.mean, std)["nll"]

    result = minimize(objective, np.zeros(2), method="Nelder-Mead")
    a, e = np.exp(result.x)
    return float(a), float(e)


def run_split(dataset: str, split: int, data_dir: Path) -> list[dict[str, Any]]:
    """Every configuration on one inner-validation split."""
    import torch
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X, y, X_eval, y_eval = load_split(data_dir, dataset, split, inner_valid=True)
    scaler = StandardScaler().fit(X)
    Xs, Xe = scaler.transform(X), scaler.transform(X_eval)

    def fit(seed: int, **params: Any) -> tuple[Any, float, np.ndarray]:
        """One fit on 90% of the rows, the other 10% (seeded) as its hold-out."""
        tr, va = train_test_split(np.arange(len(y)), test_size=VALIDATION_FRACTION,
                                  random_state=seed)
        start = time.perf_counter()
        reg = SculptRegressor(random_state=seed, distribution="normal", **params).fit(
            Xs[tr], y[tr], X_val=Xs[va], y_val=y[va])
        return reg, time.perf_counter() - start, va

    base, base_s, va = fit(split)
    second, second_s, _ = fit(split + 1000)
    start = time.perf_counter()
    refit = SculptRegressor(random_state=split, early_stopping=False, distribution="normal",
                            max_epochs=int(base.best_epoch_)).fit(Xs, y)
    refit_s = time.perf_counter() - start
    refit.risk_scale_ = np.array(base.risk_scale_, dtype=float)
    small = [fit(split + 2000 * (j + 1), module__k=8) for j in range(2)]

    unc = base.predict_uncertainty(Xe)
    a, e = two_factors(y[va], base.predict_uncertainty(Xs[va]))
    predictions = {
        "defaults": ((unc.mean, unc.total), base_s),
        "refit": (refit.predict(Xe, return_std=True), base_s + refit_s),
        "two factors": ((unc.mean, np.sqrt((a * unc.aleatoric) ** 2 + (e * unc.epistemic) ** 2)),
                        base_s),
        "2 fits pooled (k=16)": (pooled([(unc.mean, unc.total),
                                         second.predict(Xe, return_std=True)]),
                                 base_s + second_s),
        "2 fits pooled (k=8)": (pooled([r.predict(Xe, return_std=True) for r, *_ in small]),
                                sum(s for _, s, *_ in small)),
    }
    records = []
    for label in LABELS:
        (mean, std), fit_s = predictions[label]
        rec = normal_metrics(y_eval, mean, std)
        rec.update(method=label, dataset=dataset, split=split, fit_s=fit_s,
                   best_epoch=int(base.best_epoch_))
        if label == "two factors":
            rec.update(aleatoric_factor=a, epistemic_factor=e)
        print(f"{label} {dataset} split {split}: NLL {rec['nll']:.3f} RMSE {rec['rmse']:.4g} "
              f"cover {rec['coverage90']:.3f} fit {fit_s:.1f}s", flush=True)
        records.append(rec)
    return records


def summary(records: list[dict[str, Any]], datasets: list[str]) -> str:
    """Markdown table: mean NLL / RMSE (mean fit s) and splits better than the defaults."""
    lines = ["| configuration | " + " | ".join(datasets) + " | splits better |",
             "|---|" + "---:|" * (len(datasets) + 1)]
    base = {(r["dataset"], r["split"]): r["nll"] for r in records if r["method"] == "defaults"}
    for label in LABELS:
        cells = [mean_cell(records, label, d, with_fit_time=True) for d in datasets]
        rs = [r for r in records if r["method"] == label and r["dataset"] in datasets]
        better = sum(r["nll"] < base[r["dataset"], r["split"]] for r in rs)
        lines.append(f"| {label} | " + " | ".join(cells) +
                     (" | - |" if label == "defaults" else f" | {better} of {len(rs)} |"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed

    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        nested = Parallel(n_jobs=args.jobs)(
            delayed(run_split)(d, s, args.data_dir) for d in args.datasets for s in args.splits
        )
        return [r for rs in nested for r in rs]

    print(summary(study_records(args, run), args.datasets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
