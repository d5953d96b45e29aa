"""Property-based invariants of SculptRegressor (issue 7), with bounded example counts."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=120, random_state=0)
FIT = dict(max_epochs=8, random_state=0)
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fitted():
    return SculptRegressor(**FIT).fit(X, Y)


@SETTINGS
@given(a=st.floats(1e-3, 1e3), b=st.floats(-1e3, 1e3))
def test_positive_affine_target_equivariance(a, b):
    m, r = SculptRegressor(**FIT).fit(X, Y).predict(X, return_risk=True)
    m2, r2 = SculptRegressor(**FIT).fit(X, a * Y + b).predict(X, return_risk=True)
    np.testing.assert_allclose(m2, a * m + b, rtol=1e-3, atol=1e-3 * (a + abs(b)))
    np.testing.assert_allclose(r2, a * r, rtol=1e-3)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(rows=st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=40))
def test_predictions_do_not_depend_on_other_rows(fitted, rows):
    full_m, full_r = fitted.predict(X, return_risk=True)
    m, r = fitted.predict(X[rows], return_risk=True)
    np.testing.assert_allclose(m, full_m[rows], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r, full_r[rows], rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(Xnew=arrays(np.float64, (5, 4), elements=st.floats(-1e6, 1e6)),
       levels=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=4, unique=True))
def test_finite_outputs_and_nested_intervals(fitted, Xnew, levels):
    mean, risk = fitted.predict(Xnew, return_risk=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(risk)) and np.all(risk > 0)
    bounds = [fitted.predict_interval(Xnew, confidence_level=c) for c in sorted(levels)]
    for lower, upper in bounds:
        assert np.all(lower <= mean) and np.all(mean <= upper)
    for (lo_a, up_a), (lo_b, up_b) in itertools.pairwise(bounds):
        assert np.all(lo_b <= lo_a) and np.all(up_a <= up_b)
