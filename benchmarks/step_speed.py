"""Where a training step of the default TabM goes, and what the CPU paths save.

One run times, interleaved and repeated, ``SculptRegressor()`` (the built-in
TabM: k=16, ``d_block=128``, batch 32 on a small set) for a fixed number of
epochs (``early_stopping=False``) on the training rows of one UCI split, in
three versions that differ only in the two CPU paths of the training step:

- ``nn.Dropout + foreach``: torch's dropout (one Bernoulli variate per element)
  and the multi-tensor AdamW update: the default before 2026-12-05;
- ``BitDropout + foreach``: dropout masks from 16 random bits per element
  (``sculpt_sklearn._dropout``);
- ``BitDropout + fused`` (the default now): AdamW's fused CPU kernel too.

It reports CPU seconds per fit and per optimizer step (medians over repeats) and the
per-repeat (paired) ratios against the first; and, alone, the forward and
backward of one dropout layer on a TabM block's activations
``(32, 16, 128)``. One torch thread.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/step_speed.py --repeats 5 \\
        --out benchmarks/results/step_speed.md
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime as _dt
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from ngboost_runner import load_split
from uci import DEFAULT_DATA_DIR

CONFIGS = ("nn.Dropout + foreach", "BitDropout + foreach", "BitDropout + fused (default)")


def fit_cpu_seconds(config: str, X: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> float:
    """CPU seconds of one ``fit`` of the default for ``epochs`` epochs in ``config``."""
    import sculpt_sklearn.models as models
    from sculpt_sklearn import SculptRegressor

    params: dict[str, Any] = {}
    if "foreach" in config:
        params["optimizer__foreach"] = True
    keep = models.use_bit_dropout
    if config.startswith("nn.Dropout"):
        models.use_bit_dropout = lambda module: module
    try:
        reg = SculptRegressor(max_epochs=epochs, early_stopping=False, random_state=seed,
                              **params)
        start = time.process_time()
        reg.fit(X, y)
        return time.process_time() - start
    finally:
        models.use_bit_dropout = keep


def layer_ms(layer: Any, repeats: int = 2000) -> float:
    """Milliseconds of one forward and backward of ``layer`` on ``(32, 16, 128)``."""
    import torch

    x = torch.randn(32, 16, 128, requires_grad=True)
    layer.train()

    def once() -> None:
        layer(x).sum().backward()

    for _ in range(50):
        once()
    start = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - start) / repeats * 1e3


def interleaved(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Each function once per repeat, in turn; their results by name."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            out[name].append(fn())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="energy")
    parser.add_argument("--split", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn._defaults import tabm_schedule
    from sculpt_sklearn._dropout import BitDropout

    torch.set_num_threads(1)
    X, y, _, _ = load_split(args.data_dir, args.dataset, args.split)
    X = StandardScaler().fit_transform(X)
    steps = args.epochs * -(-len(X) // tabm_schedule(len(X))["batch_size"])
    SculptRegressor(max_epochs=1).fit(X, y)  # imports and first-call costs, not timed

    fits = interleaved(
        {c: (lambda c=c: fit_cpu_seconds(c, X, y, args.epochs, 0)) for c in CONFIGS},
        args.repeats,
    )
    layers = interleaved(
        {"nn.Dropout(0.1)": lambda: layer_ms(torch.nn.Dropout(0.1)),
         "BitDropout(0.1)": lambda: layer_ms(BitDropout(0.1))},
        args.repeats,
    )
    base = fits[CONFIGS[0]]
    lines = [
        "## Training step of the default TabM (benchmarks/step_speed.py)",
        "",
        f"- Command: `OMP_NUM_THREADS=1 python benchmarks/step_speed.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, one torch thread; "
        f"torch {torch.__version__}.",
        f"- Task: `SculptRegressor()` on the training rows of {args.dataset} split "
        f"{args.split} ({len(X)} rows, StandardScaler in front), {args.epochs} epochs "
        f"without early stopping ({steps} optimizer steps on every row, plus the "
        f"setup); {args.repeats} interleaved repeats.",
        "",
        "| version | CPU s per fit (median) | ms per step | paired ratio to the first |",
        "|---|---:|---:|---:|",
    ]
    for name, values in fits.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        lines.append(f"| {name} | {statistics.median(values):.2f} | "
                     f"{statistics.median(values) / steps * 1e3:.2f} | {ratio:.3f} |")
    lines += ["", "One dropout layer, forward and backward on (32, 16, 128), "
              "median ms over repeats:", "", "| layer | ms |", "|---|---:|"]
    lines += [f"| {name} | {statistics.median(v):.3f} |" for name, v in layers.items()]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        write_report(args.out, text, "step-speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
