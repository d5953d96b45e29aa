"""Inner-validation study: the default model's numeric scaling, quantile vs robust linear.

The built-in preprocessor maps numeric columns to a normal by their quantiles
(TabM's recipe). This study replaces that map, inside each worker, by the
affine ``(x - median) / (IQR / 1.349)`` and fits the default model otherwise
unchanged, on inner validation rows (the test rows are never used).

Usage (one torch thread per worker; records as JSON)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/numeric_scaling_study.py \
        yacht,energy,concrete,wine 3 benchmarks/results/tabm_study_numeric_scaling.json
"""

import json
import sys
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))

DATA_DIR = (Path(__file__).resolve().parent / ".." / ".." / "shared" / "datasets"
            / "uci").resolve()
LABELS = ["quantile (defaults)", "robust linear scaling"]


class RobustLinear:
    """Stands in for ``QuantileTransformer``: ``(x - median) / (IQR / 1.349)`` per column."""

    def __init__(self, **kwargs):
        pass

    def fit(self, X):
        import sculpt_sklearn._preprocess as P

        self.center_ = np.nanmedian(X, axis=0)
        scale = P._spread(X) / P._IQR_PER_STD
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        return (X - self.center_) / self.scale_


def job(label, dataset, split):
    """One inner-validation fit of the default model with the named scaling."""
    from sklearn.preprocessing import QuantileTransformer
    from uci import run_sculpt_split

    import sculpt_sklearn._preprocess as P

    # joblib reuses its workers: set the map for this job, whatever the last one set.
    P.QuantileTransformer = RobustLinear if label == LABELS[1] else QuantileTransformer
    rec = run_sculpt_split(DATA_DIR, dataset, split, label, {}, True, None, 0)
    print(f"{label} {dataset} split {split}: NLL {rec['nll']:.3f} RMSE {rec['rmse']:.4g} "
          f"cov {rec['coverage90']:.3f} fit {rec['fit_s']:.1f}s epochs {rec['n_iter']}",
          flush=True)
    return rec


if __name__ == "__main__":
    datasets, n_splits, out = sys.argv[1].split(","), int(sys.argv[2]), Path(sys.argv[3])
    tasks = [(label, d, s) for d in datasets for s in range(n_splits) for label in LABELS]
    records = Parallel(n_jobs=2)(delayed(job)(*task) for task in tasks)
    out.write_text(json.dumps(records, indent=1))
