"""MAPIE interop: split-conformal intervals normalised by SculptRegressor's predicted std.

MAPIE calls ``estimator.predict(X, return_std=True)`` for std-based conformity
scores; that keyword is the whole contract. Skipped when MAPIE (>= 1.5, which
has ``StdConformityScore``) is not installed.
"""

import numpy as np
import pytest

mapie = pytest.importorskip("mapie")
from mapie import conformity_scores  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sculpt_sklearn import SculptRegressor  # noqa: E402
from sculpt_sklearn.datasets import make_heteroscedastic  # noqa: E402

StdConformityScore = getattr(conformity_scores, "StdConformityScore", None)
if StdConformityScore is None:  # pragma: no cover - depends on the installed MAPIE
    pytest.skip("this MAPIE has no StdConformityScore (added in 1.5)", allow_module_level=True)

from mapie.regression import SplitConformalRegressor  # noqa: E402


def test_split_conformal_with_the_predicted_std_covers_the_target():
    X_train, y_train, _ = make_heteroscedastic(n_samples=1500, random_state=0)
    X_conf, y_conf, _ = make_heteroscedastic(n_samples=2000, random_state=1)
    X_test, y_test, _ = make_heteroscedastic(n_samples=5000, random_state=2)
    estimator = make_pipeline(StandardScaler(), SculptRegressor(
        loss="nll", max_epochs=30, n_iter_no_change=10, batch_size=256, lr=3e-3,
        random_state=0,
    )).fit(X_train, y_train)
    conformal = SplitConformalRegressor(
        estimator=estimator, confidence_level=0.9, conformity_score=StdConformityScore(),
        prefit=True,
    )
    conformal.conformalize(X_conf, y_conf)
    point, intervals = conformal.predict_interval(X_test)
    lower, upper = intervals[:, 0, 0], intervals[:, 1, 0]

    covered = np.mean((y_test >= lower) & (y_test <= upper))
    assert covered == pytest.approx(0.9, abs=0.03)

    # MAPIE used the std: every half-width is the same multiple of it
    mean, std = estimator.predict(X_test, return_std=True)
    np.testing.assert_allclose(point, mean)
    ratio = (upper - lower) / (2.0 * std)
    np.testing.assert_allclose(ratio, np.median(ratio), rtol=1e-6)
    assert np.ptp(upper - lower) > 0.5 * np.median(upper - lower)  # heteroscedastic
