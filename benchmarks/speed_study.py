"""Cheaper defaults for the built-in model, chosen on inner validation (issue 23).

Each configuration is the default ``SculptRegressor()`` with a few parameters
changed (and, for the learning-rate schedules, a skorch ``LRScheduler``
callback); every fit trains on the first 80% of a UCI training split and is
scored on the rest (``--inner-valid`` of ``uci.py``: the test rows are never
used). A record holds the inner-validation NLL, RMSE, CRPS and 90% coverage
under the model's own family, the epochs trained, and the fit's CPU and wall
seconds (one torch thread per worker process).

The configurations are named in :data:`CONFIGS`; a schedule is written
``cosine<E>`` (cosine decay of the learning rate to 0 over ``E`` epochs, at
most ``E`` epochs), ``warmcos<E>`` (the same after a linear warm-up over 5%
of them) or ``plateau<P>`` (the rate times 0.3 after ``P`` epochs without a
better validation NLL; early stopping's patience as in the defaults).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed_study.py \\
        --datasets yacht energy concrete wine --splits 0 1 2 --jobs 2 \\
        --configs default k8 cosine100 --json benchmarks/results/speed_study_small.json

    # the summary of saved records, without running anything
    .venv/bin/python benchmarks/speed_study.py --from-json benchmarks/results/speed_study_small.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import study_parser, study_records

#: Configuration name -> SculptRegressor parameters (on top of the defaults).
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "k8": {"module__k": 8},
    "d64": {"module__d_block": 64},
    "k8_d64": {"module__k": 8, "module__d_block": 64},
    "one_block": {"module__n_blocks": 1},
    "patience8": {"n_iter_no_change": 8},
    "one_network": {"n_networks": 1},
    "batch32": {"batch_size": 32},
    "batch64": {"batch_size": 64},
    "lr4e-3": {"lr": 4e-3},
    "lr3e-3": {"lr": 3e-3},
    "bf16": {"module__mixed_precision": True},
    "batch256": {"batch_size": 256},
    "batch512": {"batch_size": 512},
    "bf16_lr4e-3": {"module__mixed_precision": True, "lr": 4e-3},
    "bf16_batch256": {"module__mixed_precision": True, "batch_size": 256},
}


def schedule_of(name: str) -> tuple[str, int] | None:
    """``("cosine", E)`` / ``("warmcos", E)`` / ``("plateau", P)`` for a schedule's name."""
    for kind in ("warmcos", "cosine", "plateau"):
        if name.startswith(kind):
            head = name[len(kind):].split("_")[0]
            if head.isdigit():
                return kind, int(head)
    return None


def params_of(name: str) -> dict[str, Any]:
    """The parameters of a configuration: ``cosine100_k8`` combines ``cosine100`` and ``k8``."""
    params: dict[str, Any] = {}
    schedule = schedule_of(name)
    parts = name.split("_")
    if schedule is not None:
        parts = parts[1:]
    rest = "_".join(parts)
    if rest:
        if rest in CONFIGS:
            params.update(CONFIGS[rest])
        else:
            for part in parts:
                params.update(CONFIGS[part])
    return params


def lr_callback(kind: str, epochs: int) -> Any:
    """The skorch callback of a schedule over ``epochs`` epochs."""
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau

    if kind == "plateau":  # epochs: the plateau's patience; the rate drops to 0.3x
        return LRScheduler(policy=ReduceLROnPlateau, monitor="valid_loss", mode="min",
                           factor=0.3, patience=epochs, threshold=1e-4,
                           threshold_mode="abs")
    warm = max(1, round(0.05 * epochs)) if kind == "warmcos" else 0

    def factor(epoch: int) -> float:
        ramp = min(1.0, (epoch + 1) / warm) if warm else 1.0
        return ramp * 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs))

    return LRScheduler(policy=LambdaLR, lr_lambda=factor, step_every="epoch")


def run_one(data_dir: Path, dataset: str, split: int, name: str) -> dict[str, Any]:
    """One configuration on one inner-validation split."""
    import torch
    from ngboost_runner import load_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from uci import family_metrics

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X, y, X_eval, y_eval = load_split(data_dir, dataset, split, inner_valid=True)
    params = {"random_state": split, **params_of(name)}
    schedule = schedule_of(name)
    if schedule is not None:
        if schedule[0] != "plateau":
            params["max_epochs"] = schedule[1]
        params["callbacks"] = [("lr_schedule", lr_callback(*schedule))]
    pipe = Pipeline([("scale", StandardScaler()), ("reg", SculptRegressor(**params))])
    cpu, wall = time.process_time(), time.perf_counter()
    pipe.fit(X, y)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    mean, std = pipe.predict(X_eval, return_std=True)
    reg = pipe[-1]
    record = family_metrics(reg, y_eval, mean, std)
    record.update(method=name, dataset=dataset, split=split, fit_cpu_s=cpu, fit_s=wall,
                  n_iter=int(reg.n_iter_), best_epoch=int(reg.best_epoch_), n_train=len(y))
    print(f"{dataset} {split} {name}: NLL {record['nll']:.3f} RMSE {record['rmse']:.4g} "
          f"epochs {record['n_iter']} cpu {cpu:.1f}s", flush=True)
    return record


def summary(records: list[dict[str, Any]], baseline: str = "default") -> str:
    """Per configuration and dataset: mean NLL, its difference from the baseline on the
    same splits, and the CPU time as a share of the baseline's (sum over the splits)."""
    names = list(dict.fromkeys(r["method"] for r in records))
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    by = {(r["method"], r["dataset"], r["split"]): r for r in records}
    lines = ["| configuration | " + " | ".join(datasets) + " | CPU share (all) |",
             "|---|" + "---:|" * (len(datasets) + 1)]
    for name in names:
        cells, cpu, cpu_base = [], 0.0, 0.0
        for dataset in datasets:
            rows = [(r, by.get((baseline, dataset, r["split"])))
                    for r in records if r["method"] == name and r["dataset"] == dataset]
            rows = [(r, b) for r, b in rows if b is not None]
            if not rows:
                cells.append("-")
                continue
            nll = statistics.mean(r["nll"] for r, _ in rows)
            delta = statistics.mean(r["nll"] - b["nll"] for r, b in rows)
            share = sum(r["fit_cpu_s"] for r, _ in rows) / sum(b["fit_cpu_s"] for _, b in rows)
            cpu += sum(r["fit_cpu_s"] for r, _ in rows)
            cpu_base += sum(b["fit_cpu_s"] for _, b in rows)
            epochs = statistics.median(r["n_iter"] for r, _ in rows)
            cells.append(f"{nll:.3f} ({delta:+.3f}) {share:.2f}x, {epochs:.0f} ep")
        total = f"{cpu / cpu_base:.2f}x" if cpu_base else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {total} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", default=["default"])
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        tasks = [(args.data_dir, d, s, c) for d in args.datasets for s in args.splits
                 for c in args.configs]
        if args.jobs == 1:
            return [run_one(*t) for t in tasks]
        with ProcessPoolExecutor(args.jobs) as pool:
            return list(pool.map(run_one, *zip(*tasks, strict=True)))

    records = study_records(args, run)
    print(summary(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
