"""What moment matching costs: the default's test NLL as the family vs as the true mixture.

The default model is an ensemble of ``k`` members, each predicting a
distribution of its family (Student-t with 5 degrees of freedom under
``distribution="auto"``; ``--distribution normal`` for the Normal)
``(mu_k, sigma_k)``. ``SculptRegressor`` reports one distribution of the family
with the mixture's mean and total standard deviation (moment matching), which
is what ``predict_dist``, intervals and the NLL metrics use. The equal-weight
mixture of the members' distributions is the model's own predictive density; this script scores
both on the test rows of the fixed UCI splits (features standardised as in
``uci.py``), with ``sculpt.mixture_nll`` for the mixture.

Example
-------
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mixture_nll.py --datasets yacht energy
concrete wine --splits 3 --out benchmarks/results/mixture_nll.md``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_report
from ngboost_runner import load_split

from sculpt_sklearn import SculptRegressor, sculpt
from sculpt_sklearn._inference import member_moments

ROOT = Path(__file__).resolve().parent.parent


def mixture_test_nll(pipe, X: np.ndarray, y: np.ndarray) -> float:
    """Mean NLL of the members' equal-weight mixture, in the units of ``y``."""
    reg = pipe[-1]
    encoded = reg.preprocessor_.transform(pipe[:-1].transform(X))
    mu, sigma = member_moments(reg.module_, encoded, "float64", reg.n_outputs_)
    mu = mu[..., 0] * reg.y_scale_[0] + reg.y_loc_[0]
    sigma = sigma[..., 0] * reg.y_scale_[0] * reg.risk_scale_[0]
    nll = sculpt.mixture_nll(reg.distribution_, torch.as_tensor(y), torch.as_tensor(mu),
                             torch.as_tensor(sigma))
    return float(nll.mean())


def main() -> None:
    """Fit the default on each split and print both NLLs."""
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "uci"))
    parser.add_argument("--datasets", nargs="+", default=["yacht", "energy", "concrete", "wine"])
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--distribution", default="auto",
                        help="SculptRegressor's distribution (default: its own, auto)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    lines = ["| dataset | split | moment-matched NLL | mixture NLL | difference |",
             "|---|---|---|---|---|"]
    diffs = []
    for dataset in args.datasets:
        for split in range(args.splits):
            X, y, Xt, yt = load_split(Path(args.data_dir), dataset, split)
            reg = SculptRegressor(random_state=0, distribution=args.distribution)
            pipe = make_pipeline(StandardScaler(), reg).fit(X, y)
            matched = -float(np.mean(reg.predict_dist(pipe[:-1].transform(Xt)).logpdf(yt)))
            mixture = mixture_test_nll(pipe, Xt, yt)
            diffs.append(matched - mixture)
            lines.append(f"| {dataset} | {split} | {matched:.3f} | {mixture:.3f} | "
                         f"{matched - mixture:+.3f} |")
    lines.append("")
    lines.append(f"Mixture lower in {sum(d > 0 for d in diffs)} of {len(diffs)} fits; "
                 f"median difference {np.median(diffs):+.3f} nats.")
    command = "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mixture_nll.py " + " ".join(
        sys.argv[1:])
    text = "\n".join([f"Command: `{command}`", "", *lines])
    print(text)
    if args.out:
        write_report(Path(args.out), text, "mixture-nll")


if __name__ == "__main__":
    main()
