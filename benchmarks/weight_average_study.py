"""Inner-validation study: validate and keep an average of the recent weights.

Wine's labels are noisy and the default stops after 30-60 epochs; averaging a
network's weights over its last steps (an exponential moving average, Polyak
averaging) is the usual remedy for noisy SGD iterates. This script compares,
on inner validation rows (the test rows are never used), the default
``SculptRegressor(random_state=split)`` behind a ``StandardScaler`` with the
same fit whose networks are scored, kept and restored with their averaged
weights: after every optimizer step each training network's average moves
toward its weights by ``1 / (h * steps per epoch)`` (a horizon of ``h``
epochs); at the end of an epoch the averages stand in for the weights
(validation, the best-epoch copy, the restore), and training goes on from the
raw weights. A prototype for the study (a callback patched into the net of
the two-network default, used on the sets with <= 2,000 rows), not a
parameter of the library.

The fits name ``distribution="normal"``, the default when the study was run (its
record) and the family its scores (``normal_metrics``) are for.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/weight_average_study.py \\
        --splits 0 1 2 3 4 5 --jobs 2 --json benchmarks/results/tabm_study_weight_average.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import mean_cell, study_parser, study_records
from ngboost_runner import load_split, normal_metrics

HORIZONS = {"defaults": None, "average, 1 epoch": 1.0, "average, 4 epochs": 4.0}


def weight_average(horizon: float):
    """A skorch callback averaging each network's weights over ``horizon`` epochs."""
    import torch
    from skorch.callbacks import Callback

    class WeightAverage(Callback):
        def on_train_begin(self, net, X=None, **kwargs: Any) -> None:
            parts = list(net.module_.parts)
            self.weights = [[p for p in part.parameters()] for part in parts]
            self.averages = [[p.detach().clone() for p in ws] for ws in self.weights]
            self.rate = 1.0 / (horizon * math.ceil(len(X) / net.batch_size))
            self.swapped = False

        def on_batch_end(self, net, training: bool = False, **kwargs: Any) -> None:
            if training:
                with torch.no_grad():
                    for p in net.training_networks or range(len(self.weights)):
                        torch._foreach_lerp_(self.averages[p], self.weights[p], self.rate)

        def _swap(self) -> None:
            with torch.no_grad():
                for ws, avs in zip(self.weights, self.averages, strict=True):
                    for w, a in zip(ws, avs, strict=True):
                        keep = w.detach().clone()
                        w.copy_(a)
                        a.copy_(keep)
            self.swapped = not self.swapped

        def on_epoch_end(self, net, **kwargs: Any) -> None:
            self._swap()  # runs before the early stopping: it scores and keeps the averages

        def on_epoch_begin(self, net, **kwargs: Any) -> None:
            if self.swapped:
                self._swap()

    return WeightAverage()


def run_one(dataset: str, split: int, label: str, data_dir: Path) -> dict[str, Any]:
    import torch
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import sculpt_sklearn._build as build
    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    horizon = HORIZONS[label]
    original = build.build_callbacks

    def with_average(*args: Any, **kwargs: Any) -> list:
        callbacks = original(*args, **kwargs)
        if horizon is not None:
            callbacks.insert(0, ("weight_average", weight_average(horizon)))
        return callbacks

    build.build_callbacks = with_average
    try:
        X, y, X_val, y_val = load_split(data_dir, dataset, split, inner_valid=True)
        pipe = make_pipeline(StandardScaler(),
                             SculptRegressor(random_state=split, distribution="normal"))
        start = time.perf_counter()
        pipe.fit(X, y)
        fit_s = time.perf_counter() - start
    finally:
        build.build_callbacks = original
    mean, std = pipe.predict(X_val, return_std=True)
    out = normal_metrics(y_val, mean, std)
    out.update(method=label, dataset=dataset, split=split, fit_s=fit_s,
               n_iter=int(pipe[-1].n_iter_))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        jobs = [(d, s, label, args.data_dir) for d in args.datasets for s in args.splits
                for label in HORIZONS]
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_one, *job) for job in jobs]
            records = []
            for future in futures:
                records.append(future.result())
                r = records[-1]
                print(f"{r['dataset']} split {r['split']} {r['method']}: NLL {r['nll']:.3f} "
                      f"RMSE {r['rmse']:.4g} fit {r['fit_s']:.1f}s epochs {r['n_iter']}",
                      flush=True)
        return records

    records = study_records(args, run)
    print("| configuration | " + " | ".join(args.datasets) + " |")
    print("|---|" + "---:|" * len(args.datasets))
    for label in HORIZONS:
        cells = [mean_cell(records, label, d, with_fit_time=True) for d in args.datasets]
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
