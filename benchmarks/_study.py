"""What the inner-validation study scripts share: their command line and their table cells.

``plateau_study.py`` and ``holdout_study.py`` take the same options (data folder,
datasets, worker processes, a JSON file to write or, with ``--from-json``, to
read instead of running) and print mean NLL / RMSE per configuration and dataset.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uci import DEFAULT_DATA_DIR

SMALL_SETS = ["energy", "wine", "yacht", "concrete"]


def study_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options every study takes (the caller adds its splits)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--datasets", nargs="+", default=SMALL_SETS)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None,
                        help="print the summary of saved records; run nothing")
    return parser


def study_records(args: argparse.Namespace,
                  run: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The records of ``--from-json``, or those ``run()`` makes (written to ``--json``)."""
    if args.from_json is not None:
        return json.loads(args.from_json.read_text())
    records = run()
    if args.json is not None:
        args.json.write_text(json.dumps(records, indent=1))
    return records


def mean_cell(records: list[dict[str, Any]], label: str, dataset: str,
              with_fit_time: bool = False) -> str:
    """``"NLL / RMSE"`` means of ``label`` on ``dataset`` (and the mean fit s); ``-`` if none."""
    rs = [r for r in records if r["method"] == label and r["dataset"] == dataset]
    if not rs:
        return "-"
    cell = (f"{statistics.mean(r['nll'] for r in rs):.3f} / "
            f"{statistics.mean(r['rmse'] for r in rs):.3g}")
    if with_fit_time:
        cell += f" ({statistics.mean(r['fit_s'] for r in rs):.0f} s)"
    return cell
