"""Is each part of the uncertainty right? Aleatoric against the true noise, epistemic
against the mean's actual error, on synthetic data where both are known (issue 24).

Each family draws training rows, in-range test rows and, where it says so, rows far
outside the training range or in a gap of it; the true mean ``f(x)`` and noise std are
known for every row. One fit per family and configuration
(``SculptRegressor(**params)``, ``random_state`` = ``--seed``), then on the in-range test
rows:

- ``ale/true``: the median of aleatoric / true noise std; ``by noise decile``: the
  smallest and largest median of that ratio over the ten deciles of the true noise;
  ``Spearman``: the rank correlation of aleatoric and true noise;
- ``epi/err``: per decile of the predicted epistemic std, the ratio of its RMS to the
  RMS of the mean's actual error ``|mean - f|`` (smallest and largest over deciles;
  1 is right) and over all rows;
- ``far/in``: the median epistemic of the far-off rows (one feature moved to 2-3
  training ranges from the centre of its range) over the in-range median, and the AUROC
  of the epistemic std for telling far-off (or in-gap) rows from in-range ones;
- ``NLL`` and ``cover90``: the total's NLL and 90% interval coverage (the predictive
  distribution, ``predict_dist``) on the in-range test rows.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/uncertainty_decomposition.py \\
        --families all --json benchmarks/results/uncertainty_decomposition.json \\
        --out benchmarks/results/uncertainty_decomposition.md

    # compare configurations (each "label:param=value,param=value")
    ... --config "default:" --config "other:param=value;param=value"
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime as _dt
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from uci import parse_config


@dataclass
class Family:
    """A synthetic problem: how to draw rows, its true mean and noise std."""

    name: str
    description: str
    n_train: int
    draw: Callable[[np.random.RandomState, int, str], Any]
    mean: Callable[[Any], np.ndarray]
    std: Callable[[Any], np.ndarray]
    noise: str = "normal"
    far: bool = True
    gap: bool = False


def _uniform(rng: np.random.RandomState, n: int, d: int, kind: str) -> np.ndarray:
    """``d`` features uniform on [-2, 2]; for ``kind="far"`` feature 0 is moved to
    2-3 ranges (8-12) from the centre, on either side."""
    X = rng.uniform(-2.0, 2.0, size=(n, d))
    if kind == "far":
        X[:, 0] = rng.choice([-1.0, 1.0], n) * rng.uniform(8.0, 12.0, n)
    return X


def _hetero_mean(X: np.ndarray) -> np.ndarray:
    """``make_heteroscedastic``'s mean."""
    d = X.shape[1]
    return 2.0 * np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + X[:, 2:].sum(axis=1) / math.sqrt(d)


def _hetero_std(X: np.ndarray) -> np.ndarray:
    """``make_heteroscedastic``'s noise std, 0.1 to 1.0 (10x)."""
    x0 = np.clip(X[:, 0], -2.0, 2.0)
    return 0.1 + 0.45 * (x0 + 2.0) / 4.0 + 0.45 * np.minimum(np.abs(X[:, 1]), 2.0) / 2.0


def _sine_mean(X: np.ndarray) -> np.ndarray:
    return np.sin(2.0 * X[:, 0]) + 0.5 * X[:, 1] + 0.3 * X[:, 2] ** 2


def _sine_std(X: np.ndarray) -> np.ndarray:
    return 0.1 + 0.5 * (np.clip(X[:, 0], -2.0, 2.0) + 2.0) / 4.0


def _gap_draw(rng: np.random.RandomState, n: int, kind: str) -> np.ndarray:
    """Two features; feature 0 in [-3, -1] or [1, 3] (in the gap (-0.8, 0.8) for "gap")."""
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    if kind == "gap":
        X[:, 0] = rng.uniform(-0.8, 0.8, n)
    else:
        X[:, 0] = rng.choice([-1.0, 1.0], n) * rng.uniform(1.0, 3.0, n)
    if kind == "far":
        X[:, 0] = rng.choice([-1.0, 1.0], n) * rng.uniform(12.0, 18.0, n)
    return X


_GROUP_STD = {"quiet": 0.2, "middle": 0.5, "loud": 1.0}
_GROUP_SHIFT = {"quiet": 0.0, "middle": 1.0, "loud": -1.0}


def _groups_draw(rng: np.random.RandomState, n: int, kind: str) -> Any:
    import pandas as pd

    X = _uniform(rng, n, 3, kind)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["group"] = pd.Categorical(rng.choice(list(_GROUP_STD), n),
                                    categories=list(_GROUP_STD))
    return frame


def _groups_mean(frame: Any) -> np.ndarray:
    X = frame[["a", "b", "c"]].to_numpy()
    shift = frame["group"].map(_GROUP_SHIFT).to_numpy(dtype=float)
    return X[:, 0] + np.sin(2.0 * X[:, 1]) + 0.5 * X[:, 2] + shift


def _groups_std(frame: Any) -> np.ndarray:
    return frame["group"].map(_GROUP_STD).to_numpy(dtype=float)


FAMILIES: dict[str, Family] = {
    f.name: f for f in [
        Family("hetero6", "make_heteroscedastic's mean, 6 features, noise std 0.1-1.0 (10x)",
               6000, lambda r, n, k: _uniform(r, n, 6, k), _hetero_mean, _hetero_std),
        Family("sine3", "sin(2 x0) + x1/2 + 0.3 x2^2, 3 features, noise std 0.1-0.6", 3000,
               lambda r, n, k: _uniform(r, n, 3, k), _sine_mean, _sine_std),
        Family("groups", "a raw frame with a category of three noise levels (0.2/0.5/1.0)",
               3000, _groups_draw, _groups_mean, _groups_std),
        Family("gap", "2 features, x0 in [-3,-1] or [1,3], test rows also in the gap "
               "(-0.8, 0.8); noise std 0.1-0.6", 3000, _gap_draw,
               lambda X: np.sin(2.0 * X[:, 0]) * 1.5 + 0.5 * X[:, 1],
               lambda X: 0.1 + 0.5 * (np.clip(X[:, 1], -2.0, 2.0) + 2.0) / 4.0, gap=True),
        Family("heavy", "make_heteroscedastic's, 4 features, Student-t(3) noise", 2000,
               lambda r, n, k: _uniform(r, n, 4, k), _hetero_mean, _hetero_std,
               noise="studentt"),
        Family("small", "make_heteroscedastic's, 4 features, 500 training rows", 500,
               lambda r, n, k: _uniform(r, n, 4, k), _hetero_mean, _hetero_std),
        Family("demo", "make demo's data (make_heteroscedastic, 4 features, 3,000 rows)",
               3000, lambda r, n, k: _uniform(r, n, 4, k), _hetero_mean, _hetero_std),
    ]
}


def draw_rows(family: Family, n: int, kind: str, rng: np.random.RandomState) -> tuple:
    """Rows of one kind ("in", "far", "gap"): X, y, true mean, true noise std."""
    X = family.draw(rng, n, kind)
    f, s = family.mean(X), family.std(X)
    if family.noise == "studentt":
        eps = rng.standard_t(3, n) / math.sqrt(3.0)
    else:
        eps = rng.standard_normal(n)
    return X, f + s * eps, f, s


def _decile_medians(values: np.ndarray, by: np.ndarray) -> np.ndarray:
    edges = np.quantile(by, np.linspace(0, 1, 11))
    groups = np.clip(np.searchsorted(edges, by, side="right") - 1, 0, 9)
    return np.array([np.median(values[groups == g]) for g in range(10) if np.any(groups == g)])


def _decile_rms_ratios(epistemic: np.ndarray, error: np.ndarray) -> np.ndarray:
    order = np.argsort(epistemic, kind="stable")
    return np.array([math.sqrt(np.mean(epistemic[p] ** 2) / np.mean(error[p] ** 2))
                     for p in np.array_split(order, 10)])


def score_family(name: str, label: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Fit one configuration on one family; the record of its scores."""
    import torch
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    family = FAMILIES[name]
    rng = np.random.RandomState(1000 + seed)
    X, y, _, _ = draw_rows(family, family.n_train, "in", rng)
    X_in, y_in, f_in, s_in = draw_rows(family, 2000, "in", rng)
    reg = SculptRegressor(random_state=seed, **params)
    cpu = time.process_time()
    reg.fit(X, y)
    cpu = time.process_time() - cpu
    parts = reg.predict_uncertainty(X_in)
    ale, epi, mean = parts.aleatoric, parts.epistemic, parts.mean
    error = np.abs(mean - f_in)
    ratios = ale / s_in
    decile = _decile_medians(ratios, s_in)
    epi_ratios = _decile_rms_ratios(epi, error)
    dist = reg.predict_dist(X_in)
    lower, upper = dist.ppf(0.05), dist.ppf(0.95)
    record = {
        "family": name, "method": label, "seed": seed, "fit_cpu_s": cpu,
        "ale_median": float(np.median(ratios)),
        "ale_decile_min": float(decile.min()), "ale_decile_max": float(decile.max()),
        "ale_quiet_half": float(np.median(ratios[s_in <= np.median(s_in)])),
        "spearman": float(stats.spearmanr(ale, s_in).statistic),
        "epi_decile_min": float(epi_ratios.min()), "epi_decile_max": float(epi_ratios.max()),
        "epi_rms_ratio": float(math.sqrt(np.mean(epi**2) / np.mean(error**2))),
        "nll": float(-np.mean(dist.logpdf(y_in))),
        "cover90": float(np.mean((y_in >= lower) & (y_in <= upper))),
        "rmse_f": float(math.sqrt(np.mean(error**2))),
    }
    for kind in ("far", "gap"):
        if not getattr(family, kind):
            continue
        X_off, _, f_off, _ = draw_rows(family, 1000, kind, rng)
        off = reg.predict_uncertainty(X_off)
        labels = np.r_[np.zeros(len(epi)), np.ones(len(off.epistemic))]
        record[f"{kind}_over_in"] = float(np.median(off.epistemic) / np.median(epi))
        record[f"{kind}_auroc"] = float(roc_auc_score(labels, np.r_[epi, off.epistemic]))
        record[f"{kind}_epi_err"] = float(math.sqrt(
            np.mean(off.epistemic**2) / np.mean((off.mean - f_off) ** 2)))
    print(f"{name} {label}: ale {record['ale_median']:.3f} "
          f"[{record['ale_decile_min']:.2f}, {record['ale_decile_max']:.2f}] "
          f"epi/err {record['epi_rms_ratio']:.2f} "
          f"[{record['epi_decile_min']:.2f}, {record['epi_decile_max']:.2f}] "
          f"far {record.get('far_over_in', float('nan')):.1f}x "
          f"AUROC {record.get('far_auroc', float('nan')):.3f} NLL {record['nll']:.3f} "
          f"cover {record['cover90']:.3f} cpu {cpu:.0f}s", flush=True)
    return record


def report(records: list[dict[str, Any]], configs: dict[str, dict[str, Any]]) -> str:
    """The markdown tables of the records (one row per family and configuration)."""
    lines = [
        "| family | configuration | ale/true (median) | by noise decile | quiet half | "
        "Spearman | epi/err (all) | epi/err by epi decile | far/in | far AUROC | "
        "gap/in | gap AUROC | NLL | cover90 | fit CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(r: dict[str, Any], key: str, fmt: str) -> str:
        return format(r[key], fmt) if key in r else "-"

    for r in records:
        lines.append(
            f"| {r['family']} | {r['method']} | {r['ale_median']:.3f} | "
            f"{r['ale_decile_min']:.2f}-{r['ale_decile_max']:.2f} | {r['ale_quiet_half']:.3f} | "
            f"{r['spearman']:.3f} | {r['epi_rms_ratio']:.2f} | "
            f"{r['epi_decile_min']:.2f}-{r['epi_decile_max']:.2f} | "
            f"{cell(r, 'far_over_in', '.1f')} | {cell(r, 'far_auroc', '.3f')} | "
            f"{cell(r, 'gap_over_in', '.1f')} | {cell(r, 'gap_auroc', '.3f')} | "
            f"{r['nll']:.3f} | {r['cover90']:.3f} | {r['fit_cpu_s']:.0f} |")
    described = "\n".join(f"- `{f.name}`: {f.description} ({f.n_train:,} training rows)"
                          for f in FAMILIES.values()
                          if any(r["family"] == f.name for r in records))
    shown = "\n".join(f"- `{label}`: `SculptRegressor({', '.join(f'{k}={v!r}' for k, v in p.items())})`"
                      for label, p in configs.items())
    return "\n".join(["Families:", "", described, "", "Configurations:", "", shown, "",
                      *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["all"])
    parser.add_argument("--config", action="append", default=[],
                        help='"label:param=value,..." (repeatable; default: "default:")')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    names = list(FAMILIES) if args.families == ["all"] else args.families
    configs = dict(parse_config(c) for c in (args.config or ["default:"]))
    if args.from_json is not None:
        records = json.loads(args.from_json.read_text())
    else:
        tasks = [(n, label, p, args.seed) for n in names for label, p in configs.items()]
        if args.jobs == 1:
            records = [score_family(*t) for t in tasks]
        else:
            with ProcessPoolExecutor(args.jobs) as pool:
                records = list(pool.map(score_family, *zip(*tasks, strict=True)))
        if args.json is not None:
            args.json.write_text(json.dumps(records, indent=1))
    text = "\n".join([
        "## Uncertainty decomposition (benchmarks/uncertainty_decomposition.py)", "",
        f"- Command: `python benchmarks/uncertainty_decomposition.py {' '.join(sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{platform.machine()}, one torch thread per process", "",
        report(records, configs)])
    print(text)
    if args.out is not None:
        write_report(args.out, text, "uncertainty-decomposition")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
