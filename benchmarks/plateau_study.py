"""Inner-validation study: a learning rate that drops on a plateau of the validation NLL.

``uci.py --config`` takes literal parameter values only, so this script runs the
same per-split function (:func:`uci.run_sculpt_split`) with skorch's
``LRScheduler(policy=ReduceLROnPlateau, monitor="valid_loss")`` in
``callbacks``, side by side with the defaults, on inner validation rows (the
test rows are never used). One torch thread per worker process.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/plateau_study.py \\
        --datasets energy wine yacht concrete --splits 3 --jobs 2 \\
        --json benchmarks/results/tabm_study_plateau.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import mean_cell, study_parser, study_records
from uci import run_sculpt_split

#: label -> (factor, patience) of ReduceLROnPlateau; None: the defaults.
CONFIGS: dict[str, tuple[float, int] | None] = {
    "defaults": None,
    "plateau 0.5/p8": (0.5, 8),
    "plateau 0.3/p4": (0.3, 4),
}


def run_one(label: str, dataset: str, split: int, data_dir: Path) -> dict[str, Any]:
    """One inner-validation fit of ``label`` (the defaults plus the scheduler)."""
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    params: dict[str, Any] = {}
    if CONFIGS[label] is not None:
        factor, patience = CONFIGS[label]
        params["callbacks"] = [("plateau", LRScheduler(
            policy=ReduceLROnPlateau, monitor="valid_loss", factor=factor, patience=patience,
        ))]
    rec = run_sculpt_split(data_dir, dataset, split, label, params, True, None, 0)
    print(f"{label} {dataset} split {split}: NLL {rec['nll']:.3f} RMSE {rec['rmse']:.4f} "
          f"fit {rec['fit_s']:.1f}s epochs {rec['n_iter']}", flush=True)
    return rec


def summary(records: list[dict[str, Any]], datasets: list[str]) -> str:
    """Markdown table: mean inner NLL / RMSE per configuration and dataset."""
    lines = ["| configuration | " + " | ".join(datasets) + " |",
             "|---|" + "---:|" * len(datasets)]
    for label in CONFIGS:
        cells = [mean_cell(records, label, d) for d in datasets]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from joblib import Parallel, delayed

    parser = study_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args(argv)

    def run() -> list[dict[str, Any]]:
        tasks = [(label, d, s) for d in args.datasets for s in range(args.splits)
                 for label in CONFIGS]
        return Parallel(n_jobs=args.jobs)(
            delayed(run_one)(label, d, s, args.data_dir) for label, d, s in tasks
        )

    print(summary(study_records(args, run), args.datasets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
