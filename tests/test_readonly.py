"""Metrics and scorers on read-only arrays raise no PyTorch "not writable" warning.

pandas 3 hands out read-only arrays (``Series.to_numpy()`` under copy-on-write),
and ``torch.as_tensor`` / ``torch.from_numpy`` warn on them. PyTorch emits that
warning once per process, so the check runs in a fresh interpreter: a warning
triggered silently by an earlier test could not hide it, and the script ends
by showing that the warning is still armed.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

_SCRIPT = textwrap.dedent(
    """
    import warnings

    import numpy as np
    import pandas as pd
    import torch

    from helpers import Oracle
    from sculpt_sklearn import SculptRegressor, metrics

    def read_only(a):
        a = np.array(a)
        a.flags.writeable = False
        return a

    rng = np.random.default_rng(0)
    n = 120
    mean = rng.normal(size=n)
    std = rng.uniform(0.5, 2.0, size=n)
    y = read_only(mean + std * rng.normal(size=n))
    X = read_only(np.column_stack([mean, std]))
    y_mean, y_std = read_only(mean), read_only(std)
    y_series = pd.Series(y.copy())
    if int(pd.__version__.split(".")[0]) >= 3:  # pandas 3 copy-on-write
        assert not y_series.to_numpy().flags.writeable

    names = ["nll", "crps", "coverage", "interval_width", "interval_score",
             "calibration_error", "miscalibration_area", "sharpness"]
    warnings.simplefilter("error")
    for name in names:
        fn = getattr(metrics, name)
        for family in ("normal", "laplace"):
            kw = {} if name == "sharpness" else {"distribution": family}
            for target in (y, y_series.to_numpy(), y_series):
                fn(target, y_mean, y_std, **kw)
                fn(target[:, None] if isinstance(target, np.ndarray) else target,
                   *(np.asarray(a) for a in (y_mean, y_std)), **kw)
    metrics.calibration_curve(y, y_mean, y_std)
    metrics.uncertainty_metrics(y_series, y_mean, y_std, distribution="laplace")

    frame = pd.DataFrame(X, columns=["a", "b"])
    fitted = [
        Oracle(distribution="laplace").fit(X, y),
        SculptRegressor(max_epochs=2, random_state=0).fit(frame, y_series),
    ]
    scorers = [metrics.neg_nll_scorer, metrics.neg_crps_scorer,
               metrics.interval_score_scorer]
    scorers += [metrics.make_uncertainty_scorer(name) for name in names]
    for est in fitted:
        for scorer in scorers:
            scorer(est, frame, y_series)
            scorer(est, frame, y, sample_weight=read_only(np.ones(n)))
        metrics.evaluate_uncertainty(est, frame, y_series)

    # The estimator's own inputs: read-only weights (fit) and quantile levels.
    reg = SculptRegressor(max_epochs=2, random_state=0)
    reg.fit(frame, y_series, sample_weight=read_only(np.ones(n)))
    reg.predict_quantiles(frame, read_only([0.1, 0.5, 0.9]))
    from sculpt_sklearn import sculpt
    levels = read_only([0.2, 0.8])
    sculpt.Normal.icdf(levels, torch.zeros(2, dtype=torch.float64),
                       torch.ones(2, dtype=torch.float64))

    # The warning is still armed: nothing above triggered it silently.
    try:
        torch.as_tensor(read_only([1.0]))
    except UserWarning as exc:
        assert "not writable" in str(exc)
    else:
        raise AssertionError("torch's read-only warning was already spent")
    print("OK")
    """
)


def test_metrics_and_scorers_accept_read_only_arrays_without_warnings():
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=root,
        env={"PYTHONPATH": f"{root}{':'}{root / 'tests'}", "OMP_NUM_THREADS": "1",
             "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")
