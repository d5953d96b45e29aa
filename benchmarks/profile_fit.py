"""Where a fit of the default model spends its time: per phase and per torch operator.

For each size (synthetic ``make_heteroscedastic`` tables of 8 features), one
``SculptRegressor`` with the given parameters (the defaults unless ``--param``
says otherwise) trains for ``--epochs`` epochs with its rule's batch size,
networks and model size, early stopping on (so the validation pass runs) but
never triggered. Each phase is timed by wrapping the method that does it:

- ``forward``: the module's forward in training (``SculptNet.infer``);
- ``loss``: the objective (``SculptNet.get_loss`` in training);
- ``backward``: ``loss.backward()``;
- ``optimizer``: the rest of skorch's ``train_step`` (the optimizer's step,
  ``zero_grad``, gradient clipping);
- ``validation``: skorch's validation pass (``validation_step``);
- ``other``: the rest of the epochs (batch slicing, callbacks, history);
- ``set-up``: the rest of ``fit`` (input checks, the encoder, the bins, building
  the net, the calibration).

Then ``torch.profiler`` records one epoch of the largest size that ran and lists the
operators that took the most CPU time (self time). One torch thread unless
``--threads`` says otherwise.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/profile_fit.py \\
        --sizes 300 2000 5000 20000 50000 --epochs 3 --out benchmarks/results/profile_fit.md
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import contextlib
import datetime as _dt
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from uci import parse_params

PHASES = ("forward", "loss", "backward", "optimizer", "validation", "other", "set-up")


@contextlib.contextmanager
def phase_timers() -> Iterator[dict[str, float]]:
    """Wrap the methods of each phase with timers; yields the seconds per phase."""
    import torch
    from skorch import NeuralNet

    from sculpt_sklearn._net import SculptNet

    seconds: dict[str, float] = defaultdict(float)
    originals = {
        (SculptNet, "infer"): SculptNet.infer,
        (SculptNet, "get_loss"): SculptNet.get_loss,
        (NeuralNet, "train_step"): NeuralNet.train_step,
        (NeuralNet, "validation_step"): NeuralNet.validation_step,
        (torch.Tensor, "backward"): torch.Tensor.backward,
    }
    inside = {"train_step": False}

    def timed(name: str, function: Any, only_training: bool = False) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if only_training and not (inside["train_step"] and torch.is_grad_enabled()):
                return function(self, *args, **kwargs)
            start = time.perf_counter()
            try:
                return function(self, *args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start
        return wrapper

    def train_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        inside["train_step"] = True
        start = time.perf_counter()
        try:
            return originals[(NeuralNet, "train_step")](self, *args, **kwargs)
        finally:
            seconds["train_step"] += time.perf_counter() - start
            inside["train_step"] = False

    SculptNet.infer = timed("forward", originals[(SculptNet, "infer")], only_training=True)
    SculptNet.get_loss = timed("loss", originals[(SculptNet, "get_loss")], only_training=True)
    torch.Tensor.backward = timed("backward", originals[(torch.Tensor, "backward")])
    NeuralNet.train_step = train_step
    NeuralNet.validation_step = timed("validation", originals[(NeuralNet, "validation_step")])
    try:
        yield seconds
    finally:
        for (owner, name), function in originals.items():
            setattr(owner, name, function)
        seconds["optimizer"] = (seconds.pop("train_step", 0.0) - seconds["forward"]
                                - seconds["loss"] - seconds["backward"])


def profile_size(n_rows: int, epochs: int, params: dict[str, Any]) -> dict[str, Any]:
    """Phase seconds of one fit of ``epochs`` epochs on ``n_rows`` rows."""
    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=n_rows, n_features=8, random_state=0)
    reg = SculptRegressor(max_epochs=epochs, n_iter_no_change=10**6, random_state=0,
                          **params)
    epoch_seconds: list[float] = []
    with phase_timers() as seconds:
        start = time.perf_counter()
        reg.fit(X, y)
        total = time.perf_counter() - start
    epoch_seconds = [row["dur"] for row in reg.history_]
    seconds = dict(seconds)
    in_epochs = sum(epoch_seconds)
    seconds["other"] = in_epochs - sum(seconds[p] for p in PHASES[:5])
    seconds["set-up"] = total - in_epochs
    steps = sum(len(row["batches"]) for row in reg.history_)
    train_batches = sum(1 for row in reg.history_ for b in row["batches"] if "train_loss" in b)
    return {
        "rows": n_rows, "epochs": len(reg.history_), "batch": reg.net_.batch_size,
        "networks": reg.n_networks_, "k": reg._resolved.module_kwargs.get("k"),
        "steps": train_batches, "batches": steps, "total": total, "phases": seconds,
        "epoch_s": in_epochs / len(reg.history_),
    }


def operator_table(n_rows: int, params: dict[str, Any], top: int) -> str:
    """torch.profiler's top operators (self CPU time) over one epoch on ``n_rows`` rows."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=n_rows, n_features=8, random_state=0)
    reg = SculptRegressor(max_epochs=1, warm_start=True, random_state=0, **params).fit(X, y)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        reg.fit(X, y)  # one more epoch, warm: no set-up in the profile
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    rows = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
    lines = ["| operator | calls | self CPU ms | share |", "|---|---:|---:|---:|"]
    for e in rows:
        lines.append(f"| `{e.key}` | {e.count} | {e.self_cpu_time_total / 1e3:.1f} | "
                     f"{e.self_cpu_time_total / total:.1%} |")
    del torch
    return "\n".join(lines)


def report(results: list[dict[str, Any]], ops: str, op_rows: int, args: argparse.Namespace,
           params: dict[str, Any]) -> str:
    import torch

    import sculpt_sklearn

    command = "OMP_NUM_THREADS=1 python benchmarks/profile_fit.py " + " ".join(sys.argv[1:])
    lines = [
        "## Where a fit's time goes (benchmarks/profile_fit.py)",
        "",
        f"- Command: `{command}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores; torch threads "
        f"{torch.get_num_threads()}; other work on the machine inflates absolute times.",
        f"- Versions: torch {torch.__version__}, sculpt_sklearn {sculpt_sklearn.__version__}",
        f"- Model: `SculptRegressor({', '.join(f'{k}={v!r}' for k, v in params.items())})` "
        f"with the rule's batch size, networks and members; {args.epochs} epochs each "
        "(early stopping on, never triggered), synthetic 8-feature tables.",
        "",
        "Seconds per phase (share of the time in the epochs):",
        "",
        "| rows | batch | networks x k | train steps | s/epoch | ms/step | forward | loss | "
        "backward | optimizer | validation | other | set-up s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        p = r["phases"]
        in_epochs = r["epoch_s"] * r["epochs"]
        shares = " | ".join(f"{p[name]:.2f} ({p[name] / in_epochs:.0%})" for name in PHASES[:6])
        lines.append(
            f"| {r['rows']:,} | {r['batch']} | {r['networks']} x {r['k']} | {r['steps']} | "
            f"{r['epoch_s']:.2f} | {1e3 * in_epochs / r['steps']:.1f} | {shares} | "
            f"{p['set-up']:.2f} |")
    lines += ["", f"Top operators by self CPU time, one warm epoch on {op_rows:,} rows "
                  "(torch.profiler):", "", ops]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 2000, 5000, 20000])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--param", action="append", default=[],
                        help="name=value, a SculptRegressor parameter (repeatable)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    params = parse_params(args.param)
    profile_size(200, 1, params)  # warm-up: imports, kernels and the optimizer probe
    results = []
    for n in args.sizes:
        results.append(profile_size(n, args.epochs, params))
        r = results[-1]
        print(f"{n} rows: {r['epoch_s']:.2f} s/epoch, {r['steps']} steps, "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["phases"].items()), flush=True)
    op_rows = min(args.sizes[-1], 20000)
    text = report(results, operator_table(op_rows, params, args.top), op_rows, args, params)
    print(text)
    if args.out is not None:
        write_report(args.out, text, "profile-fit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
