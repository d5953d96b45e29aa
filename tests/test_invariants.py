"""Property-based invariants of SculptRegressor (issue 7), with bounded example counts."""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=120, random_state=0)
FIT = dict(max_epochs=8, random_state=0)
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fitted():
    return SculptRegressor(**FIT).fit(X, Y)


@functools.cache
def _reference():
    return SculptRegressor(**FIT).fit(X, Y).predict_uncertainty(X)


@SETTINGS
@given(log_a=st.floats(-9, 9), b=st.floats(-1e3, 1e3))
def test_positive_affine_target_equivariance(log_a, b):
    # y -> a*y + b for any scale (1e-9 .. 1e9): mean, risk and total std follow exactly
    # (the target is standardised inside fit), whatever the units of y.
    a = 10.0**log_a
    ref = _reference()
    new = SculptRegressor(**FIT).fit(X, a * Y + b).predict_uncertainty(X)
    np.testing.assert_allclose(new.mean, a * ref.mean + b, rtol=1e-3, atol=1e-3 * (a + abs(b)))
    np.testing.assert_allclose(new.total, a * ref.total, rtol=1e-3)
    # The risk is the members' mean variance less their spread: a difference, whose
    # relative rounding grows by (its terms) / (the difference), here up to ~10x.
    raw = np.sqrt(ref.aleatoric**2 + ref.epistemic**2 / 2)  # mean sigma_k^2, before
    np.testing.assert_allclose(new.aleatoric / a, ref.aleatoric,
                               rtol=1e-3 * np.max(raw**2 / ref.aleatoric**2))
    assert np.all(new.aleatoric > 0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(rows=st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=40))
def test_predictions_do_not_depend_on_other_rows(fitted, rows):
    full_m, full_r = fitted.predict(X, return_risk=True)
    m, r = fitted.predict(X[rows], return_risk=True)
    np.testing.assert_allclose(m, full_m[rows], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r, full_r[rows], rtol=1e-12, atol=1e-12)


def _hand_quantile(family, mean, risk, q):
    """Quantile ``q`` of the family with this mean and std, by its closed form."""
    if family == "normal":
        return mean + risk * np.sqrt(2.0) * special.erfinv(2.0 * q - 1.0)
    b = risk / np.sqrt(2.0)  # Laplace: std = sqrt(2) * scale
    return mean - b * np.sign(q - 0.5) * np.log1p(-2.0 * abs(q - 0.5))


@pytest.fixture(scope="module", params=["normal", "laplace"])
def fitted_family(request):
    return request.param, SculptRegressor(distribution=request.param, **FIT).fit(X, Y)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(Xnew=arrays(np.float64, (5, 4), elements=st.floats(-1e6, 1e6)),
       levels=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=4, unique=True))
def test_intervals_and_quantiles_are_those_of_the_predicted_family(fitted_family, Xnew, levels):
    # Interval bounds and quantiles come from predict_dist and from the standard
    # family; both must be the closed-form ones of (mean, total std), far from the data too.
    family, fitted = fitted_family
    mean, risk = fitted.predict(Xnew, return_std=True)  # intervals use the total std
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(risk)) and np.all(risk > 0)
    for c in levels:
        lower, upper = fitted.predict_interval(Xnew, confidence_level=c)
        tol = dict(rtol=1e-6, atol=1e-9 * (1.0 + np.abs(mean).max()))
        np.testing.assert_allclose(lower, _hand_quantile(family, mean, risk, 0.5 - c / 2), **tol)
        np.testing.assert_allclose(upper, _hand_quantile(family, mean, risk, 0.5 + c / 2), **tol)
    quantiles = fitted.predict_quantiles(Xnew, levels)
    for j, q in enumerate(levels):
        np.testing.assert_allclose(
            quantiles[:, j], _hand_quantile(family, mean, risk, q),
            rtol=1e-6, atol=1e-9 * (1.0 + np.abs(mean).max()),
        )
