"""The total's NLL under the decomposition's calibrations, on inner validation (issue 24).

Two mechanisms of issue 24 change the total predictive distribution of the built-in
model after training, without changing training: the held-out rows choose the
Student-t's degrees of freedom (``distribution="auto"``), and rows outside the numeric
range seen in ``fit`` get an epistemic part that grows with their distance
(``extrapolation_uncertainty``). This study measures what they cost or gain on the
UCI sets, on inner validation only (the first 80% of a training split trains, the
rest is scored; the test rows are never used). Per split it fits

- ``previous``: ``SculptRegressor(distribution="studentt", extrapolation_uncertainty=0)``,
  the default before issue 24 (df 5, no extrapolation prior);
- ``shape``: ``SculptRegressor(extrapolation_uncertainty=0)`` (the df chosen);

(the two train the same network: same seed, and neither mechanism touches training)
and scores ``shape`` with each ``extrapolation_uncertainty`` of ``--priors`` by adding
the prior's part to its epistemic std, as ``predict`` does. A record holds, per
configuration, the NLL, the 90% coverage and the share of rows outside the range.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/uncertainty_study.py \\
        --datasets yacht energy concrete wine --splits 0 1 2 --jobs 2 \\
        --json benchmarks/results/uncertainty_study_small.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import study_parser, study_records

PRIORS = (0.1, 0.25, 0.5, 1.0)


def _scores(reg: Any, y: np.ndarray, mean: np.ndarray, total: np.ndarray) -> dict[str, float]:
    dist = reg.distribution_.scipy_distribution(mean, total)
    lower, upper = dist.ppf(0.05), dist.ppf(0.95)
    return {"nll": float(-np.mean(dist.logpdf(y))),
            "cover90": float(np.mean((y >= lower) & (y <= upper)))}


def run_one(data_dir: Path, dataset: str, split: int, priors: tuple[float, ...]) -> list[dict]:
    import torch
    from ngboost_runner import load_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X, y, X_eval, y_eval = load_split(data_dir, dataset, split, inner_valid=True)
    records = []
    fits = {}
    for label, params in (("previous", {"distribution": "studentt"}), ("shape", {})):
        pipe = Pipeline([("scale", StandardScaler()),
                         ("reg", SculptRegressor(random_state=split,
                                                 extrapolation_uncertainty=0.0, **params))])
        fits[label] = pipe.fit(X, y)
        parts = pipe[-1].predict_uncertainty(pipe[:-1].transform(X_eval))
        records.append({"method": label, **_scores(pipe[-1], y_eval, parts.mean, parts.total)})
    pipe = fits["shape"]
    reg = pipe[-1]
    encoded = reg._preprocess_X(pipe[:-1].transform(X_eval))
    distance = reg.preprocessor_.distance_beyond_range(encoded)
    parts = reg.predict_uncertainty(pipe[:-1].transform(X_eval))
    for prior in priors:
        extra = prior * distance * reg.y_scale_[0]
        total = np.sqrt(parts.total**2 + extra**2)
        records.append({"method": f"shape+prior{prior:g}", **_scores(reg, y_eval, parts.mean, total)})
    family = reg.distribution_
    for r in records:
        r.update(dataset=dataset, split=split, outside=float(np.mean(distance > 0)),
                 df=float(getattr(family, "df", np.inf)))
    print(f"{dataset} {split}: df {records[0]['df']:g} outside {records[0]['outside']:.3f} "
          + ", ".join(f"{r['method']} {r['nll']:.3f}" for r in records), flush=True)
    return records


def summary(records: list[dict[str, Any]]) -> str:
    """Mean NLL per configuration and dataset, its difference from ``previous``, coverage."""
    methods = list(dict.fromkeys(r["method"] for r in records))
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    lines = ["| configuration | " + " | ".join(datasets) + " |",
             "|---|" + "---:|" * len(datasets)]
    for method in methods:
        cells = []
        for dataset in datasets:
            rows = {r["split"]: r for r in records
                    if r["method"] == method and r["dataset"] == dataset}
            base = {r["split"]: r for r in records
                    if r["method"] == "previous" and r["dataset"] == dataset}
            nll = statistics.mean(r["nll"] for r in rows.values())
            delta = statistics.mean(rows[s]["nll"] - base[s]["nll"] for s in rows)
            cover = statistics.mean(r["cover90"] for r in rows.values())
            cells.append(f"{nll:.3f} ({delta:+.3f}), {cover:.3f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    dfs = {d: sorted({r["df"] for r in records if r["dataset"] == d}) for d in datasets}
    outside = {d: statistics.mean(r["outside"] for r in records if r["dataset"] == d)
               for d in datasets}
    lines += ["", "Chosen df per dataset (inf: Normal): "
              + "; ".join(f"{d} {', '.join(f'{x:g}' for x in v)}" for d, v in dfs.items()),
              "Share of scored rows outside the training range: "
              + "; ".join(f"{d} {v:.3f}" for d, v in outside.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--priors", type=float, nargs="+", default=list(PRIORS))
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        tasks = [(args.data_dir, d, s, tuple(args.priors)) for d in args.datasets
                 for s in args.splits]
        if args.jobs == 1:
            return [r for t in tasks for r in run_one(*t)]
        with ProcessPoolExecutor(args.jobs) as pool:
            return [r for rs in pool.map(run_one, *zip(*tasks, strict=True)) for r in rs]

    records = study_records(args, run)
    print(summary(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
