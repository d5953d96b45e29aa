"""The caller's side of ``peers_runner.py``: run a peer in its environment, label it.

``uci.py --peers ...`` and ``speed.py`` use this to run the peer methods
(NGBoost, CatBoost, a GP) through ``benchmarks/peers_runner.py`` in a child
process: the tree peers in ``.bench-venv`` (``make bench-env``), the GP in the
current interpreter (it needs only scikit-learn). The child prints one JSON
list; its records get the method label used in the reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["BENCH_PYTHON", "LABELS", "PEER_NOTES", "SMALL_DATASETS", "peer_applies",
           "peer_python", "peer_versions",
           "run_peer_split", "run_runner"]

HERE = Path(__file__).resolve().parent
BENCH_PYTHON = HERE.parent / ".bench-venv" / "bin" / "python"
RUNNER = HERE / "peers_runner.py"

#: Report label of each peer (``ngboost`` keeps the label of ``uci.py --ngboost``).
LABELS = {
    "ngboost": "NGBoost (run here)",
    "catboost": "CatBoost RMSEWithUncertainty",
    "catboost_ve": "CatBoost virtual ensembles",
    "gp": "GP (ARD Matern + white)",
}

#: One line on each peer's protocol, for the reports (``{n}``: NGBoost's largest stage count).
PEER_NOTES = {
    "ngboost": "paper protocol (Normal, LogScore, depth-3 trees, lr 0.01, up to {n} stages "
               "chosen on a random 20% of the training rows by validation MSE, refit on all "
               "training rows)",
    "catboost": "`CatBoostRegressor(loss_function='RMSEWithUncertainty')` with CatBoost's "
                "defaults (1000 trees, depth 6, its automatic learning rate, no early "
                "stopping), one thread; `predict` -> [mean, variance]; 'epochs' column = trees",
    "catboost_ve": "the same with `posterior_sampling=True`; "
                   "`virtual_ensembles_predict(prediction_type='TotalUncertainty')` -> "
                   "[mean, knowledge variance, data variance] over 10 virtual members; "
                   "predictive variance = knowledge + data",
    "gp": "scikit-learn `GaussianProcessRegressor`, `ConstantKernel * Matern(nu=2.5, one "
          "length scale per feature) + WhiteKernel`, standardised features, "
          "`normalize_y=True`, 2 optimizer restarts; predictive std includes the white noise; "
          "'epochs' column = restarts",
}


def peer_python(peer: str) -> Path:
    """The interpreter that runs ``peer``: ``.bench-venv`` for the trees.

    Parameters
    ----------
    peer : str

    Returns
    -------
    Path
    """
    if peer == "gp":
        return Path(sys.executable)
    if not BENCH_PYTHON.exists():
        raise SystemExit(f"the {peer} peer needs .bench-venv; run `make bench-env`")
    return BENCH_PYTHON


def run_runner(peer: str, args: list[str]) -> list[dict[str, Any]]:
    """Run ``peers_runner.py --peer peer *args`` with one thread; its records.

    Parameters
    ----------
    peer : str
    args : list of str
        The runner's other arguments.

    Returns
    -------
    list of dict
    """
    cmd = [str(peer_python(peer)), str(RUNNER), "--peer", peer, *args]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"peers_runner failed: {' '.join(cmd)}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_peer_split(
    peer: str, data_dir: Path, dataset: str, split: int, inner_valid: bool,
    max_train_rows: int | None, ngboost_estimators: int = 2000,
) -> dict[str, Any]:
    """One peer on one UCI split, as a record of ``uci.py``.

    Parameters
    ----------
    peer : str
        A key of :data:`LABELS`.
    data_dir : Path
    dataset : str
    split : int
    inner_valid : bool
    max_train_rows : int or None
    ngboost_estimators : int, default=2000

    Returns
    -------
    dict
        The runner's record, with ``method`` set to the peer's label.
    """
    args = ["--data-dir", str(data_dir), "--dataset", dataset, "--splits", str(split),
            "--ngboost-estimators", str(ngboost_estimators)]
    if inner_valid:
        args.append("--inner-valid")
    if max_train_rows is not None:
        args += ["--max-train-rows", str(max_train_rows)]
    (record,) = run_runner(peer, args)
    record["method"] = LABELS[peer]
    return record


def peer_versions(peers: list[str]) -> str:
    """Versions of the peers' libraries, in the environments they run in.

    Parameters
    ----------
    peers : list of str

    Returns
    -------
    str
    """
    parts = []
    if any(p != "gp" for p in peers) and BENCH_PYTHON.exists():
        code = ("import importlib, sklearn\n"
                "for n in ('ngboost', 'catboost'):\n"
                "    try: print(n, importlib.import_module(n).__version__)\n"
                "    except ImportError: print(n, 'missing')\n"
                "print('scikit-learn', sklearn.__version__)")
        proc = subprocess.run([str(BENCH_PYTHON), "-c", code], capture_output=True,
                              text=True, check=False)
        parts.append(", ".join(proc.stdout.split("\n")).strip(", ") + " (in .bench-venv)")
    if "gp" in peers:
        import sklearn

        parts.append(f"GP: scikit-learn {sklearn.__version__} (main venv)")
    return "; ".join(parts)


#: The datasets a cubic-cost peer runs on (the GP: at most ~1,500 training rows).
SMALL_DATASETS = ("yacht", "energy", "concrete", "wine")


def peer_applies(peer: str, dataset: str) -> bool:
    """Whether ``peer`` runs on ``dataset`` (the GP only on :data:`SMALL_DATASETS`).

    Parameters
    ----------
    peer, dataset : str
        A key of :data:`LABELS` and a short dataset name.

    Returns
    -------
    bool
    """
    return peer != "gp" or dataset in SMALL_DATASETS
