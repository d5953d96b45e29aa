"""Wall time of a default fit with 1 and with more threads, interleaved, each in a fresh process.

For each size (a synthetic ``make_heteroscedastic`` table of 8 features), a
fresh Python process fits ``SculptRegressor(n_threads=t, ...)`` for a fixed number
of epochs (``early_stopping=False``, so every run does the same work), once per
thread count, the order rotating between repeats; it reports the median wall
and CPU seconds and the paired wall ratio (1 thread / t threads: the speed-up).
The environment of the child processes is the caller's (set
``OMP_WAIT_POLICY`` there to try it); ``OMP_NUM_THREADS`` is left unset in them
so that the estimator's own rule decides unless ``n_threads`` is given.

Usage::

    .venv/bin/python benchmarks/threads_speed.py --sizes 700 5000 20000 --threads 1 2 \\
        --repeats 3 --out benchmarks/results/threads_speed.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_report
from uci import parse_params

CHILD = """
import json, sys, time
from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
n, epochs, threads, params = json.loads(sys.argv[1])
X, y, _ = make_heteroscedastic(n_samples=n, n_features=8, random_state=0)
SculptRegressor(max_epochs=1, early_stopping=False, n_threads=threads).fit(X[:64], y[:64])
reg = SculptRegressor(max_epochs=epochs, early_stopping=False, n_threads=threads,
                      random_state=0, **params)
wall, cpu = time.perf_counter(), time.process_time()
reg.fit(X, y)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""


def run_child(n: int, epochs: int, threads: int | None, params: dict[str, Any]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([n, epochs, threads, params])],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[700, 5000, 20000])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    params = parse_params(args.param)
    lines = [
        "## Threads (benchmarks/threads_speed.py)",
        "",
        f"- Command: `python benchmarks/threads_speed.py {' '.join(sys.argv[1:])}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores; "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}",
        f"- Fit: `SculptRegressor(n_threads=t, max_epochs={args.epochs}, "
        f"early_stopping=False{''.join(f', {k}={v!r}' for k, v in params.items())})`, "
        f"each in a fresh process; {args.repeats} repeats, order rotating.",
        "",
        "| rows | threads | wall s (median) | CPU s (median) | speed-up vs 1 (paired median) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n in args.sizes:
        runs: dict[int, list[dict]] = {t: [] for t in args.threads}
        for repeat in range(args.repeats):
            order = args.threads[repeat % len(args.threads):] + args.threads[:repeat % len(args.threads)]
            for t in order:
                runs[t].append(run_child(n, args.epochs, t, params))
        base = runs[args.threads[0]]
        for t in args.threads:
            ratio = statistics.median(b["wall"] / r["wall"] for b, r in zip(base, runs[t], strict=True))
            lines.append(f"| {n:,} | {t} | {statistics.median(r['wall'] for r in runs[t]):.2f} | "
                         f"{statistics.median(r['cpu'] for r in runs[t]):.2f} | {ratio:.2f}x |")
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        write_report(args.out, text, "threads-speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
