"""Fit-time overhead of SculptRegressor against a hand-written torch loop.

One run measures, interleaved and repeated, the wall time of training the same
wrapped module (``sculpt.Wrapper(Normal, n_layers=2)`` over
``sculpt_sklearn.MLP`` with hidden layers (64, 64)) on the same data, with the
same optimizer (AdamW, lr 1e-3, no weight decay), the same objective (the
estimator's default ``beta_nll`` with ``beta=0.5``: the mean over rows of
``nll * std.detach() ** (2 * beta)``), the same batch size and the same batch
slicing (one ``torch.randperm`` per epoch, index slices of pre-built
tensors):

- ``SculptRegressor``: ``early_stopping=False``, fixed ``max_epochs``;
- ``hand loop``: the plain torch loop, the baseline of every ratio;
- ``hand loop + DataLoader``: the same loop fed by ``torch.utils.data.DataLoader``
  over a ``TensorDataset`` (per-row indexing and collation);
- ``skorch NeuralNetRegressor``: plain skorch with MSE on the bare MLP (no
  risk head, skorch's default DataLoader path), for reference.

The table reports the median of each over the repeats, the ratio of medians
and the median of the per-repeat ratios (each repeat runs all four back to
back, so a paired ratio cancels most of the drift of a shared machine). It
also reports the throughput of ``predict(X, return_risk=True)`` and its peak
memory on a large array, measured in a fresh child process.

``--defaults`` adds the defaults side by side (``_defaults_speed.py``): fit
time and test NLL of the new default (TabM), the old one (``module=MLP``) and
NGBoost's default (500 stages, in ``.bench-venv``) on 20,000 x 8 rows of
``make_heteroscedastic``, with their ratios and the NGBoost stage at equal
NLL; ``--defaults-only`` runs that part alone (written between its own
markers, so it can share a page with the rest).

Everything runs with one torch thread (``OMP_NUM_THREADS=1`` and
``torch.set_num_threads(1)``). The table is printed and written to
``benchmarks/results/speed.md`` (or ``--out``).

Examples
--------
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py``

``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py --quick``

``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py --defaults-only
--out benchmarks/results/speed_defaults.md``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import cProfile
import datetime as _dt
import gc
import io
import json
import platform
import pstats
import resource
import shlex
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

import sklearn  # noqa: E402
import skorch  # noqa: E402
from _report import write_report  # noqa: E402
from skorch import NeuralNetRegressor  # noqa: E402

import sculpt_sklearn  # noqa: E402
from sculpt_sklearn import MLP, SculptRegressor, sculpt  # noqa: E402
from sculpt_sklearn._objectives import objective_loss  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "speed.md"
HIDDEN = (64, 64)
LR = 1e-3
BETA = 0.5
#: The floor of the risk that SculptRegressor gives its wrapped module.
MIN_RISK = 1e-4
#: Problem sizes of a full run and of ``--quick``.
FULL_SIZES = {"rows": 20_000, "epochs": 20, "repeats": 5, "predict_rows": 200_000,
              "memory_rows": 1_000_000}
QUICK_SIZES = {"rows": 5000, "epochs": 5, "repeats": 3, "predict_rows": 50_000,
               "memory_rows": 200_000}
#: Risk-head depth of SculptRegressor's "auto" rule for a plain module such as the MLP.
N_LAYERS = 2


def make_data(n_rows: int, n_features: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A heteroscedastic regression problem (float64, like user data).

    Parameters
    ----------
    n_rows, n_features : int
    seed : int

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    w = rng.standard_normal(n_features)
    noise = 0.1 + 0.5 * np.abs(X[:, 0])
    y = np.sin(X @ w) + X[:, 1] ** 2 + noise * rng.standard_normal(n_rows)
    return X, y


# ---------------------------------------------------------------- contenders
def fit_sculpt(X: np.ndarray, y: np.ndarray, epochs: int, batch: int, seed: int) -> SculptRegressor:
    """SculptRegressor with fixed epochs and its default loss and risk head.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    epochs : int
        Passes over the data.
    batch : int
        Rows per optimizer step.
    seed : int
        Seed of the weights and of the batch order.

    Returns
    -------
    SculptRegressor
        The fitted estimator.
    """
    reg = SculptRegressor(
        MLP, n_layers=N_LAYERS, early_stopping=False, max_epochs=epochs, batch_size=batch,
        lr=LR, module__hidden_layer_sizes=HIDDEN, random_state=seed,
    )
    return reg.fit(X, y)


def _wrapped_module(n_features: int) -> nn.Module:
    return sculpt.Wrapper(sculpt.Normal, n_layers=N_LAYERS, min_risk=MIN_RISK)(
        MLP(n_features, 1, hidden_layer_sizes=HIDDEN)
    )


def _prepare(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """What any loop must do too: float32 tensors and a standardised target."""
    X_t = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))
    z = (y - y.mean()) / y.std()
    z_t = torch.as_tensor(z, dtype=torch.float32).reshape(-1, 1)
    return X_t, z_t


def _step(module: nn.Module, opt: torch.optim.Optimizer, xb: torch.Tensor,
          yb: torch.Tensor) -> None:
    opt.zero_grad()
    mean, std = module(xb, return_risk=True)
    loss = objective_loss("beta_nll", sculpt.Normal, yb, mean, std, beta=BETA).mean()
    loss.backward()
    opt.step()


def _hand_setup(
    X: np.ndarray, y: np.ndarray, seed: int
) -> tuple[torch.Tensor, torch.Tensor, nn.Module, torch.optim.Optimizer, torch.Generator]:
    """Tensors, seeded module, optimizer and batch-order generator of both hand loops."""
    torch.manual_seed(seed)
    X_t, z_t = _prepare(X, y)
    module = _wrapped_module(X.shape[1])
    opt = torch.optim.AdamW(module.parameters(), lr=LR, weight_decay=0.0)
    return X_t, z_t, module, opt, torch.Generator().manual_seed(seed)


def fit_hand(X: np.ndarray, y: np.ndarray, epochs: int, batch: int, seed: int) -> nn.Module:
    """The hand-written loop: randperm per epoch, index slices of tensors.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    epochs : int
        Passes over the data.
    batch : int
        Rows per optimizer step.
    seed : int
        Seed of the weights and of the batch order.

    Returns
    -------
    nn.Module
        The trained wrapped module.
    """
    X_t, z_t, module, opt, gen = _hand_setup(X, y, seed)
    module.train()
    n = X_t.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            _step(module, opt, X_t[idx], z_t[idx])
    return module


def fit_hand_loader(X: np.ndarray, y: np.ndarray, epochs: int, batch: int,
                    seed: int) -> nn.Module:
    """The same loop fed by a DataLoader over a TensorDataset.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    epochs : int
        Passes over the data.
    batch : int
        Rows per optimizer step.
    seed : int
        Seed of the weights and of the batch order.

    Returns
    -------
    nn.Module
        The trained wrapped module.
    """
    X_t, z_t, module, opt, gen = _hand_setup(X, y, seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X_t, z_t), batch_size=batch, shuffle=True,
        generator=gen,
    )
    module.train()
    for _ in range(epochs):
        for xb, yb in loader:
            _step(module, opt, xb, yb)
    return module


def fit_skorch(X: np.ndarray, y: np.ndarray, epochs: int, batch: int, seed: int) -> Any:
    """Plain skorch: MSE on the bare MLP, skorch's default data path.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    epochs : int
        Passes over the data.
    batch : int
        Rows per optimizer step.
    seed : int
        Seed of the weights and of the batch order.

    Returns
    -------
    NeuralNetRegressor
        The fitted net.
    """
    torch.manual_seed(seed)
    net = NeuralNetRegressor(
        MLP, module__n_features=X.shape[1], module__n_outputs=1,
        module__hidden_layer_sizes=HIDDEN, criterion=nn.MSELoss,
        optimizer=torch.optim.AdamW, lr=LR, max_epochs=epochs, batch_size=batch,
        train_split=None, iterator_train__shuffle=True, verbose=0,
    )
    z = ((y - y.mean()) / y.std()).astype(np.float32).reshape(-1, 1)
    return net.fit(X.astype(np.float32), z)


CONTENDERS: dict[str, Callable[..., object]] = {
    "SculptRegressor": fit_sculpt,
    "hand loop": fit_hand,
    "hand loop + DataLoader": fit_hand_loader,
    "skorch NeuralNetRegressor (MSE)": fit_skorch,
}
BASELINE = "hand loop"


def time_fits(X: np.ndarray, y: np.ndarray, epochs: int, batch: int,
              repeats: int) -> dict[str, dict[str, list[float]]]:
    """Interleaved, repeated fit times of every contender.

    Both the wall time and the CPU time of this process are recorded: with
    one torch thread the CPU time is the work done, and it is far less
    disturbed than the wall time when other jobs share the cores.

    Parameters
    ----------
    X, y : ndarray
    epochs, batch, repeats : int

    Returns
    -------
    dict
        ``{"wall": {name: [seconds, ...]}, "cpu": {name: [seconds, ...]}}``,
        one entry per repeat.
    """
    names = list(CONTENDERS)
    # Warm-up: first calls pay for lazy imports and allocator growth.
    for name in names:
        CONTENDERS[name](X[:2048], y[:2048], 1, batch, 0)
    times: dict[str, dict[str, list[float]]] = {
        "wall": {name: [] for name in names}, "cpu": {name: [] for name in names}
    }
    for r in range(repeats):
        # Rotate the order so that no contender always runs first.
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            gc.collect()
            start, cpu = time.perf_counter(), time.process_time()
            CONTENDERS[name](X, y, epochs, batch, r)
            times["wall"][name].append(time.perf_counter() - start)
            times["cpu"][name].append(time.process_time() - cpu)
    return times


# ------------------------------------------------------------------ predict
def time_predict(reg: SculptRegressor, X: np.ndarray, repeats: int) -> dict[str, float]:
    """Median wall time of ``predict(X, return_risk=True)`` and raw forwards.

    Parameters
    ----------
    reg : SculptRegressor
        A fitted estimator.
    X : ndarray
        Rows to predict.
    repeats : int

    Returns
    -------
    dict
        Median seconds of the estimator and of a bare ``no_grad`` forward of
        its module in 8192-row batches, in float32 and in float64.
    """
    module = reg.module_
    module.eval()
    module64 = _wrapped_copy(module, torch.float64)

    def raw(mod: nn.Module, dtype: torch.dtype) -> None:
        with torch.no_grad():
            for start in range(0, X.shape[0], 8192):
                xb = torch.as_tensor(X[start : start + 8192], dtype=dtype)
                mod(xb, return_risk=True)

    out: dict[str, list[float]] = {"predict": [], "raw32": [], "raw64": []}
    reg.predict(X[:1000], return_risk=True)
    for _ in range(repeats):
        for key, fn in (
            ("predict", lambda: reg.predict(X, return_risk=True)),
            ("raw32", lambda: raw(module, torch.float32)),
            ("raw64", lambda: raw(module64, torch.float64)),
        ):
            gc.collect()
            start = time.perf_counter()
            fn()
            out[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in out.items()}


def _wrapped_copy(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    import copy

    return copy.deepcopy(module).to(dtype).eval()


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_bytes(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_child(n_rows: int) -> dict[str, float]:
    """Peak memory of one ``predict(X, return_risk=True)`` on ``n_rows x 8``.

    Runs in a fresh process (``--memory-child``). The peak RSS growth is
    measured by resetting the kernel's high-water mark (``/proc/self/clear_refs``)
    just before the call, falling back to ``ru_maxrss``; ``tracemalloc``
    measures the peak of the NumPy allocations in a second call (torch's own
    allocations are not traced by it).

    Parameters
    ----------
    n_rows : int

    Returns
    -------
    dict
        Bytes: ``rss_growth``, ``tracemalloc_peak``, ``x_bytes``,
        ``output_bytes`` (mean and risk, float64), and ``rss_method``.
    """
    X_fit, y_fit = make_data(2048)
    reg = fit_sculpt(X_fit, y_fit, epochs=1, batch=256, seed=0)
    X = np.random.default_rng(1).standard_normal((n_rows, X_fit.shape[1]))
    reg.predict(X[:10000], return_risk=True)
    gc.collect()
    if _reset_peak_rss() and _rss_bytes("VmHWM") is not None:
        before = _rss_bytes("VmRSS")
        mean, std = reg.predict(X, return_risk=True)
        growth = _rss_bytes("VmHWM") - before
        method = "VmHWM reset via /proc/self/clear_refs"
    else:  # pragma: no cover - non-Linux
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        mean, std = reg.predict(X, return_risk=True)
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        method = "ru_maxrss (lower bound)"
    out_bytes = mean.nbytes + std.nbytes
    del mean, std
    gc.collect()
    tracemalloc.start()
    reg.predict(X, return_risk=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rss_growth": float(max(growth, 0)),
        "tracemalloc_peak": float(peak),
        "x_bytes": float(X.nbytes),
        "output_bytes": float(out_bytes),
        "rss_method": method,
    }


def measure_memory(n_rows: int) -> dict[str, float] | None:
    """Run :func:`memory_child` in a fresh interpreter and read its JSON.

    Parameters
    ----------
    n_rows : int

    Returns
    -------
    dict or None
        The child's measurements, or None when it failed.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n_rows)],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ profile
def profile_fits(X: np.ndarray, y: np.ndarray, epochs: int, batch: int,
                 top: int = 25) -> str:
    """cProfile of one SculptRegressor fit and one hand loop, as text.

    Parameters
    ----------
    X, y : ndarray
    epochs, batch : int
    top : int, default=25
        Rows of each table (sorted by own time).

    Returns
    -------
    str
        Markdown with one fenced table per contender.
    """
    parts = []
    for name in ("SculptRegressor", BASELINE):
        prof = cProfile.Profile()
        prof.enable()
        CONTENDERS[name](X, y, epochs, batch, 0)
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.sort_stats("tottime").print_stats(top)
        parts.append(f"#### cProfile: {name} (sorted by tottime, top {top})\n\n```\n"
                     + _trim_stats(buf.getvalue()) + "```\n")
    return "\n".join(parts)


def _trim_stats(text: str) -> str:
    lines = text.splitlines()
    keep = [ln.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>") for ln in lines
            if ln.strip()]
    return "\n".join(keep) + "\n"


# ------------------------------------------------------------------- report
def _versions() -> str:
    return (f"python {platform.python_version()}, torch {torch.__version__}, skorch "
            f"{skorch.__version__}, scikit-learn {sklearn.__version__}, numpy "
            f"{np.__version__}, sculpt_sklearn {sculpt_sklearn.__version__}")


def format_report(args: argparse.Namespace, times: dict[str, dict[str, list[float]]],
                  pred: dict[str, float] | None, n_pred: int,
                  mem: dict[str, float] | None, command: str) -> str:
    """The markdown report of one run.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    times : dict
        From :func:`time_fits`.
    pred : dict or None
        From :func:`time_predict`.
    n_pred : int
        Rows predicted.
    mem : dict or None
        From :func:`measure_memory`.
    command : str
        The command line, quoted.

    Returns
    -------
    str
    """
    lines = [
        "## Speed benchmark (benchmarks/speed.py)",
        "",
        f"- Command: `{command}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU; one torch "
        f"thread (`OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}`, "
        f"`torch.get_num_threads()={torch.get_num_threads()}`); the machine is shared, "
        "so absolute times are noisy and the ratios (measured in this one run, "
        "interleaved) are the figures that count; the CPU-time ratios are the steadier.",
        f"- Versions: {_versions()}",
        f"- Task: {args.rows} x 8 rows, {args.epochs} epochs, batch {args.batch_size}, "
        f"MLP {HIDDEN} + risk head n_layers={N_LAYERS}, AdamW lr {LR}, loss beta_nll "
        f"(beta={BETA}); {args.repeats} interleaved repeats.",
        "",
        "### Fit time",
        "",
        "Ratios are against the hand loop: of the medians over repeats, and the median "
        "of the per-repeat (paired) ratios.",
        "",
        "| contender | wall s (median) | CPU s (median) | wall ratio (medians) "
        "| wall ratio (paired) | CPU ratio (medians) | CPU ratio (paired) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    wall, cpu = times["wall"], times["cpu"]
    for name in wall:
        cells = [statistics.median(wall[name]), statistics.median(cpu[name])]
        for kind in (wall, cpu):
            ts, base = kind[name], kind[BASELINE]
            cells += [statistics.median(ts) / statistics.median(base),
                      statistics.median(t / b for t, b in zip(ts, base, strict=True))]
        lines.append(f"| {name} | {cells[0]:.2f} | {cells[1]:.2f} | {cells[2]:.2f} | "
                     f"{cells[3]:.2f} | {cells[4]:.2f} | {cells[5]:.2f} |")
    steps = args.epochs * -(-args.rows // args.batch_size)
    hand = statistics.median(cpu[BASELINE])
    sc = statistics.median(cpu["SculptRegressor"])
    lines += [
        "",
        f"CPU time per optimizer step ({steps} steps): hand loop {1e3 * hand / steps:.3f} ms, "
        f"SculptRegressor {1e3 * sc / steps:.3f} ms, overhead "
        f"{1e3 * (sc - hand) / steps:.3f} ms per step.",
        "Target: ratio <= 1.2 against the hand loop (goal <= 1.1).",
    ]
    if pred is not None:
        lines += [
            "",
            "### Prediction",
            "",
            f"`predict(X, return_risk=True)` on {n_pred} x 8 float64 rows, median of "
            f"{args.predict_repeats}:",
            "",
            "| path | median s | rows/s | ratio vs bare float32 forward |",
            "|---|---:|---:|---:|",
        ]
        for key, label in (("predict", "SculptRegressor.predict (float64 forward)"),
                           ("raw32", "bare module forward, float32, 8192-row batches"),
                           ("raw64", "bare module forward, float64, 8192-row batches")):
            lines.append(f"| {label} | {pred[key]:.3f} | {n_pred / pred[key]:,.0f} | "
                         f"{pred[key] / pred['raw32']:.2f} |")
    if mem is not None:
        n = args.memory_rows
        lines += [
            "",
            "### Peak memory of predict",
            "",
            f"One `predict(X, return_risk=True)` on {n:.0e} x 8 float64 rows, in a fresh "
            f"process; RSS growth measured by {mem['rss_method']}.",
            "",
            "| quantity | MB | bytes per row |",
            "|---|---:|---:|",
        ]
        for key, label in (("x_bytes", "X itself (input, for scale)"),
                           ("output_bytes", "outputs: mean + risk (float64)"),
                           ("rss_growth", "peak RSS growth during predict"),
                           ("tracemalloc_peak", "peak of NumPy allocations (tracemalloc)")):
            lines.append(f"| {label} | {mem[key] / 1e6:.1f} | {mem[key] / n:.1f} |")
        lines.append("")
        lines.append(f"Peak RSS growth is {mem['rss_growth'] / mem['output_bytes']:.2f}x the "
                     "size of the outputs.")
    return "\n".join(lines) + "\n"



def main(argv: list[str] | None = None) -> int:
    """Command line entry point.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--predict-rows", type=int, default=None)
    parser.add_argument("--predict-repeats", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="5000 rows, 5 epochs, 3 repeats, small predict and memory runs "
                             "(default: 20000 rows, 20 epochs, 5 repeats, 2e5 predict rows, "
                             "1e6 memory rows)")
    parser.add_argument("--profile", action="store_true",
                        help="append cProfile tables of one SculptRegressor fit and one "
                             "hand loop")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--defaults", action="store_true",
                        help="add the new default vs the old one vs NGBoost (needs "
                             ".bench-venv)")
    parser.add_argument("--defaults-only", action="store_true",
                        help="run only that comparison")
    parser.add_argument("--defaults-rows", type=int, default=20_000)
    parser.add_argument("--defaults-repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None,
                        help="write the records of the defaults comparison (JSON)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child is not None:
        print(json.dumps(memory_child(args.memory_child)))
        return 0
    # Explicit options win over --quick, which wins over the full-size defaults.
    sizes = (QUICK_SIZES if args.quick else FULL_SIZES).items()
    for name, value in sizes:
        if getattr(args, name) is None:
            setattr(args, name, value)

    command = "OMP_NUM_THREADS=1 python benchmarks/speed.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    defaults = None
    if args.defaults or args.defaults_only:
        from _defaults_speed import compare_defaults, defaults_report

        result = compare_defaults(n_train=args.defaults_rows, repeats=args.defaults_repeats)
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=1))
        defaults = defaults_report(result)
    if args.defaults_only:
        report = "\n".join([
            "## Speed of the defaults (benchmarks/speed.py --defaults-only)", "",
            f"- Command: `{command.strip()}`",
            f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU, shared "
            "with other work; one torch thread, one NGBoost/BLAS thread.",
            f"- Versions: {_versions()}; NGBoost in .bench-venv", "", defaults])
        print(report)
        write_report(args.out, report, "speed-defaults")
        return 0
    X, y = make_data(args.rows)
    times = time_fits(X, y, args.epochs, args.batch_size, args.repeats)
    reg = fit_sculpt(X, y, args.epochs, args.batch_size, 0)
    X_pred, _ = make_data(args.predict_rows, seed=1)
    pred = time_predict(reg, X_pred, args.predict_repeats)
    mem = measure_memory(args.memory_rows)
    report = format_report(args, times, pred, args.predict_rows, mem, command.strip())
    if args.profile:
        report += "\n### Profiles\n\n" + profile_fits(X, y, args.epochs, args.batch_size)
    if defaults is not None:
        report += "\n" + defaults
    print(report)
    write_report(args.out, report, "speed-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
