"""The default model on a GPU against the CPU: fit time, CPU time and test NLL.

Fits ``SculptRegressor()`` (the defaults, ``random_state=0``) on the first
test split of each UCI small set and on a synthetic table of ``--rows`` rows
(``make_heteroscedastic``, 8 features), once with ``device="cuda"`` and once
on the CPU (``--cpu-threads`` torch threads), interleaved, and reports wall and
CPU seconds, epochs and the test NLL of each. A few minutes on a GPU machine;
``benchmarks/gpu_check.sh`` runs it after the CUDA tests.

Usage::

    .venv/bin/python benchmarks/gpu_speed.py --rows 50000 --out benchmarks/results/gpu_speed.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from ngboost_runner import load_split
from uci import DEFAULT_DATA_DIR, family_metrics


def datasets(data_dir: Path, names: list[str], rows: int) -> list[tuple[str, tuple]]:
    """``(label, (X_train, y_train, X_test, y_test))`` of each case."""
    from sculpt_sklearn.datasets import make_heteroscedastic

    cases = ([(f"{name} split 0", load_split(data_dir, name, 0)) for name in names]
             if data_dir.exists() else [])
    X, y, _ = make_heteroscedastic(n_samples=rows + rows // 5, n_features=8, random_state=0)
    cases.append((f"synthetic {rows:,} x 8", (X[:rows], y[:rows], X[rows:], y[rows:])))
    return cases


def fit_once(device: str, data: tuple, threads: int) -> dict[str, Any]:
    """Wall and CPU seconds of one default fit on ``device``, its epochs and test NLL."""
    import torch

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(threads)
    X, y, X_test, y_test = data
    reg = SculptRegressor(device=device, random_state=0)
    if device == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    reg.fit(X, y)
    if device == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mean, std = reg.predict(X_test, return_std=True)
    scores = family_metrics(reg, y_test, mean, std)
    return {"wall": wall, "cpu": cpu, "epochs": int(reg.n_iter_), "nll": scores["nll"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--datasets", nargs="+", default=["yacht", "energy", "concrete", "wine"])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--cpu-threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("CUDA is not available here: nothing to compare.", file=sys.stderr)
        return 1
    lines = [
        "## The default model on a GPU (benchmarks/gpu_speed.py)",
        "",
        f"- Command: `python benchmarks/gpu_speed.py {' '.join(sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- GPU: {torch.cuda.get_device_name(0)}; CPU side: {platform.machine()}, "
        f"{args.cpu_threads} torch thread(s)",
        f"- Versions: torch {torch.__version__}",
        "",
        "| data | device | fit wall s | fit CPU s | epochs | test NLL |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, data in datasets(args.data_dir, args.datasets, args.rows):
        for device in ("cuda", "cpu"):
            r = fit_once(device, data, args.cpu_threads)
            lines.append(f"| {label} | {device} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                         f"{r['epochs']} | {r['nll']:.3f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        write_report(args.out, text, "gpu-speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
