"""Does ``torch.compile`` pay for the default's training step on a CPU?

Issue 12 allows ``torch.compile`` "only if it pays on CPU". This script builds
the default ``SculptRegressor()`` (TabM, networks as ``n_networks="auto"``
resolves them) on the training rows of one UCI split, then runs its training
step (forward of every member, the members' loss, backward, AdamW) by hand on
random batches of the default's batch size, in two versions: eager, and the
same loss function through ``torch.compile`` (inductor, default mode). It
reports the compile's cost (wall seconds of the first three compiled steps,
which trace and build the kernels) and the milliseconds per step of both,
interleaved, with the per-repeat (paired) ratio; then how many steps the
compile must save before it pays, against the steps of a whole default fit.
One torch thread. Inductor keeps what it compiled in a cache on disk, so a
second process compiles faster: ``--cold`` gives the compile an empty cache
(a fresh temporary folder), as a user's first fit on a machine finds it.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compile_speed.py --dataset energy \\
        --cold --out benchmarks/results/compile_speed_cold.md
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from ngboost_runner import load_split
from step_speed import interleaved
from uci import DEFAULT_DATA_DIR


def step_timer(reg, X, y) -> tuple[Callable, Callable[[Callable, int], float]]:
    """The fitted default's loss function and a timer of ``steps`` optimizer steps."""
    import torch

    net = reg.net_
    X_t = torch.as_tensor(reg._preprocess_X(X), dtype=torch.float32)
    z_t = torch.as_tensor((y.reshape(-1, 1) - reg.y_loc_) / reg.y_scale_,
                          dtype=torch.float32)
    networks = torch.ones(len(X_t), reg.n_networks_) if reg.n_networks_ > 1 else None
    batch = net.batch_size

    def loss_fn(xb, yb, nb):
        return net.get_loss(net.infer(xb), (yb, None, nb), training=True)

    def ms_per_step(fn: Callable, steps: int) -> float:
        net.module_.train()
        generator = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for _ in range(steps):
            idx = torch.randint(0, len(X_t), (batch,), generator=generator)
            net.optimizer_.zero_grad()
            fn(X_t[idx], z_t[idx], None if networks is None else networks[idx]).backward()
            net.optimizer_.step()
        return (time.perf_counter() - start) / steps * 1e3

    return loss_fn, ms_per_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="energy")
    parser.add_argument("--split", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--cold", action="store_true",
                        help="compile with an empty inductor cache (a temporary folder)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.cold:
        import tempfile

        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")

    import torch
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X, y, _, _ = load_split(args.data_dir, args.dataset, args.split)
    X = StandardScaler().fit_transform(X).astype(np.float32)

    start = time.perf_counter()
    full = SculptRegressor(random_state=0).fit(X, y)  # a whole default fit, for its steps
    fit_s = time.perf_counter() - start
    epochs = len(full.net_.history)
    steps_per_epoch = -(-len(X) // full.net_.batch_size)
    fit_steps = epochs * steps_per_epoch

    reg = SculptRegressor(max_epochs=1, early_stopping=False, random_state=0).fit(X, y)
    loss_fn, ms_per_step = step_timer(reg, X, y)
    compiled = torch.compile(loss_fn)
    start = time.perf_counter()
    ms_per_step(compiled, 3)
    compile_s = time.perf_counter() - start

    times = interleaved({"eager": lambda: ms_per_step(loss_fn, args.steps),
                         "compiled": lambda: ms_per_step(compiled, args.steps)}, args.repeats)
    eager, fast = times["eager"], times["compiled"]
    ratio = statistics.median(f / e for f, e in zip(fast, eager, strict=True))
    saved_ms = statistics.median(eager) - statistics.median(fast)
    break_even = compile_s * 1e3 / saved_ms if saved_ms > 0 else float("inf")

    lines = [
        "## torch.compile and the default's training step (benchmarks/compile_speed.py)",
        "",
        f"- Command: `OMP_NUM_THREADS=1 python benchmarks/compile_speed.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, one torch thread; "
        f"torch {torch.__version__}.",
        f"- Task: the default `SculptRegressor()` on the training rows of {args.dataset} "
        f"split {args.split} ({len(X)} rows, StandardScaler in front; "
        f"{reg.n_networks_} network(s), batch {reg.net_.batch_size}); its training step "
        f"by hand, eager and through `torch.compile` (inductor), {args.repeats} "
        f"interleaved repeats of {args.steps} steps.",
        "",
        "| version | ms per step (median) | paired ratio to eager |",
        "|---|---:|---:|",
        f"| eager (the default) | {statistics.median(eager):.2f} | 1.000 |",
        f"| `torch.compile` | {statistics.median(fast):.2f} | {ratio:.3f} |",
        "",
        f"- Compiling (the first three compiled steps): {compile_s:.1f} s wall, "
        f"{'an empty' if args.cold else 'the existing'} inductor cache.",
        f"- A whole default fit on these rows: {fit_s:.1f} s wall, {epochs} epochs, "
        f"about {fit_steps} steps.",
        f"- Steps the compiled step must run to pay for its compile: "
        f"{break_even:.0f} ({break_even / max(fit_steps, 1):.1f}x a whole fit's).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        write_report(args.out, text,
                     f"compile-speed-{args.dataset}-{'cold' if args.cold else 'warm'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
