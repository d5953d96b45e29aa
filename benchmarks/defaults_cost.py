"""The default against the previous default, per size class: CPU and wall time, and NLL.

One run fits, on the same UCI test splits and interleaved (the order alternating by
split), the previous default (``SculptRegressor(module__mixed_precision=False)``,
everything else as it was) and the default of now, both with one torch thread, and the
default of now with two threads (its wall time on 2 cores); each fit's CPU and wall
seconds, epochs and test NLL under its family are recorded. Size classes (training
rows): yacht, energy, concrete (<= 1,000), wine (1,000-5,000), kin8nm, power, naval
(5,000-20,000), protein (45,000). One process, one fit at a time: run it on an
otherwise idle machine.

Usage::

    .venv/bin/python benchmarks/defaults_cost.py --splits 2 \\
        --json benchmarks/results/defaults_cost.json --out benchmarks/results/defaults_cost.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from ngboost_runner import load_split
from uci import DEFAULT_DATA_DIR, family_metrics

SIZE_CLASS = {"yacht": "<= 1,000", "energy": "<= 1,000", "concrete": "<= 1,000",
              "wine": "1,000-5,000", "kin8nm": "5,000-20,000", "power": "5,000-20,000",
              "naval": "5,000-20,000", "protein": "45,000"}
#: Label -> (parameters, torch threads).
CONTENDERS: dict[str, tuple[dict[str, Any], int]] = {
    "previous default": ({"module__mixed_precision": False}, 1),
    "default": ({}, 1),
    "default, 2 threads": ({}, 2),
}


def fit_one(data: tuple, params: dict[str, Any], threads: int, seed: int) -> dict[str, Any]:
    from sculpt_sklearn import SculptRegressor

    X, y, X_test, y_test = data
    reg = SculptRegressor(random_state=seed, n_threads=threads, **params)
    wall, cpu = time.perf_counter(), time.process_time()
    reg.fit(X, y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mean, std = reg.predict(X_test, return_std=True)
    return {"wall": wall, "cpu": cpu, "epochs": int(reg.n_iter_),
            "nll": family_metrics(reg, y_test, mean, std)["nll"]}


def table(records: list[dict[str, Any]]) -> str:
    lines = ["| size class | dataset | splits | contender | CPU s (median) | wall s (median) | "
             "CPU / previous (paired) | wall / previous 1 thread (paired) | epochs (median) | "
             "test NLL (mean) |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    for dataset in datasets:
        rs = [r for r in records if r["dataset"] == dataset]
        base = {r["split"]: r for r in rs if r["contender"] == "previous default"}
        for label in CONTENDERS:
            mine = [r for r in rs if r["contender"] == label]
            if not mine:
                continue
            cpu = statistics.median(r["cpu"] / base[r["split"]]["cpu"] for r in mine)
            wall = statistics.median(r["wall"] / base[r["split"]]["wall"] for r in mine)
            lines.append(
                f"| {SIZE_CLASS[dataset]} | {dataset} | {len(mine)} | {label} | "
                f"{statistics.median(r['cpu'] for r in mine):.1f} | "
                f"{statistics.median(r['wall'] for r in mine):.1f} | {cpu:.2f} | {wall:.2f} | "
                f"{statistics.median(r['epochs'] for r in mine):.0f} | "
                f"{statistics.mean(r['nll'] for r in mine):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--datasets", nargs="+", default=list(SIZE_CLASS))
    parser.add_argument("--splits", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.from_json is not None:
        records = json.loads(args.from_json.read_text())
    else:
        records = []
        for dataset in args.datasets:
            for split in range(args.splits):
                data = load_split(args.data_dir, dataset, split)
                order = list(CONTENDERS) if split % 2 == 0 else list(CONTENDERS)[::-1]
                for label in order:
                    params, threads = CONTENDERS[label]
                    r = fit_one(data, params, threads, seed=split)
                    r.update(dataset=dataset, split=split, contender=label)
                    records.append(r)
                    print(f"{dataset} {split} {label}: cpu {r['cpu']:.1f}s wall {r['wall']:.1f}s "
                          f"epochs {r['epochs']} NLL {r['nll']:.3f}", flush=True)
                if args.json is not None:
                    args.json.write_text(json.dumps(records, indent=1))
    text = "\n".join([
        "## The default's cost against the previous default (benchmarks/defaults_cost.py)", "",
        f"- Command: `python benchmarks/defaults_cost.py {' '.join(sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores, one fit at a time; "
        "`random_state` = split; the UCI test splits.", "",
        table(records)])
    print(text)
    if args.out is not None:
        write_report(args.out, text, "defaults-cost")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
