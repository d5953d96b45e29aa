"""RecalibratedRegressor: a scikit-learn meta-estimator that fixes over/under-confidence."""

import copy
import math

import numpy as np
import pytest
from helpers import Miscalibrated, Oracle
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.metrics import calibration_error, coverage
from sculpt_sklearn.sculpt import get_distribution


def _oracle_rows(n, seed, noise="normal"):
    """X = [true mean, true std]; y drawn around them with unit-variance noise."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=n)
    std = rng.uniform(0.5, 2.0, size=n)
    if noise == "normal":
        eps = rng.standard_normal(n)
    elif noise == "laplace":
        eps = rng.laplace(scale=1 / math.sqrt(2), size=n)
    else:  # a skewed, unit-variance noise
        eps = (rng.gamma(2.0, size=n) - 2.0) / math.sqrt(2.0)
    return np.column_stack([mean, std]), mean + std * eps


def _interval_coverage(model, X, y, level):
    lower, upper = model.predict_interval(X, confidence_level=level)
    return np.mean((y >= lower) & (y <= upper))


# ------------------------------------------------------------ scikit-learn compliance
_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "the check sets `cv` to a list of splits, but `cv` here only takes None or "
        "'prefit'; and a random split of repeated rows differs from one of weighted rows"
    ),
    "check_dtype_object": (
        "BayesianRidge.predict(X, return_std=True) fails on object arrays (np.sqrt of "
        "objects); the wrapper passes X through unchanged so that DataFrames reach it"
    ),
}


@parametrize_with_checks(
    [RecalibratedRegressor(BayesianRidge(), method=m, random_state=0)
     for m in ("scale", "isotonic")],
    expected_failed_checks=lambda est: _EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_clone_and_nested_params():
    reg = RecalibratedRegressor(SculptRegressor(max_epochs=3), method="isotonic")
    params = reg.get_params(deep=True)
    assert params["estimator__max_epochs"] == 3 and params["method"] == "isotonic"
    reg.set_params(estimator__max_epochs=7, calibration_fraction=0.3)
    cloned = clone(reg)
    assert cloned.estimator.max_epochs == 7 and cloned.calibration_fraction == 0.3
    assert cloned.estimator is not reg.estimator


@pytest.mark.parametrize(
    "params, match",
    [({"method": "platt"}, "method"), ({"calibration_fraction": 1.0}, "calibration_fraction"),
     ({"cv": 5}, "cv")],
)
def test_bad_params_are_refused(params, match):
    X, y = _oracle_rows(50, 0)
    with pytest.raises(ValueError, match=match):
        RecalibratedRegressor(Oracle(), **params).fit(X, y)


def test_prefit_needs_a_fitted_estimator():
    X, y = _oracle_rows(50, 0)
    with pytest.raises(NotFittedError, match="cv='prefit'.*fit it"):
        RecalibratedRegressor(SculptRegressor(), cv="prefit").fit(X, y)


# ------------------------------------------------------------------- the scale method
def test_scale_normal_is_the_closed_form_and_the_likelihood_maximum():
    X, y = _oracle_rows(500, 1)
    reg = RecalibratedRegressor(Oracle(factor=0.5).fit(X, y), cv="prefit").fit(X, y)
    z = (y - X[:, 0]) / (0.5 * X[:, 1])
    assert reg.scale_ == pytest.approx([np.sqrt(np.mean(z**2))], rel=1e-12)
    # it maximises the Gaussian likelihood (brute force over a grid)
    grid = np.linspace(1.5, 2.5, 20001)
    loglik = [stats.norm(X[:, 0], 0.5 * X[:, 1] * s).logpdf(y).sum() for s in grid[::100]]
    assert grid[::100][np.argmax(loglik)] == pytest.approx(reg.scale_[0], abs=0.006)
    mean, std = reg.predict(X, return_std=True)
    np.testing.assert_allclose(mean, X[:, 0])
    np.testing.assert_allclose(std, 0.5 * X[:, 1] * reg.scale_[0])


@pytest.mark.parametrize("family", ["laplace", "studentt"])
def test_scale_other_families_maximise_their_likelihood(family):
    X, y = _oracle_rows(500, 2, noise="laplace")
    inner = Oracle(factor=2.0, distribution=family).fit(X, y)
    reg = RecalibratedRegressor(inner, cv="prefit").fit(X, y)
    dist = get_distribution(family)
    grid = np.linspace(0.2, 1.0, 161)
    loglik = [dist.scipy_distribution(X[:, 0], 2.0 * X[:, 1] * s).logpdf(y).sum() for s in grid]
    assert reg.scale_[0] == pytest.approx(grid[np.argmax(loglik)], abs=5e-3)
    assert reg.distribution_ is dist
    # predict_dist is the same family with the scaled std
    d = reg.predict_dist(X[:3])
    np.testing.assert_allclose(d.std(), 2.0 * X[:3, 1] * reg.scale_[0])


def test_scale_with_sample_weight_and_multi_output():
    X1, y1 = _oracle_rows(400, 3)
    X2, y2 = _oracle_rows(400, 4)

    class TwoOutputs(Oracle):
        def predict(self, X, return_std=False):
            mean = np.column_stack([X[:, 0], X[:, 2]])
            std = np.column_stack([X[:, 1], 3.0 * X[:, 3]])
            return (mean, std) if return_std else mean

    X = np.column_stack([X1, X2])
    y = np.column_stack([y1, y2])
    w = np.random.default_rng(5).uniform(0, 2, size=400)
    reg = RecalibratedRegressor(TwoOutputs().fit(X, y), cv="prefit").fit(X, y, sample_weight=w)
    z = (y - np.column_stack([X1[:, 0], X2[:, 0]])) / np.column_stack([X1[:, 1], 3 * X2[:, 1]])
    np.testing.assert_allclose(reg.scale_, np.sqrt(np.average(z**2, axis=0, weights=w)))
    assert reg.scale_[1] == pytest.approx(1 / 3, rel=0.1)
    lower, upper = reg.predict_interval(X[:5])
    assert lower.shape == upper.shape == (5, 2)
    assert reg.predict_quantiles(X[:5], [0.1, 0.5, 0.9]).shape == (5, 2, 3)


# ---------------------------------------------------------------- the isotonic method
@pytest.mark.parametrize("noise", ["laplace", "skewed"])
def test_isotonic_fixes_scale_and_shape_at_every_level(noise):
    X_cal, y_cal = _oracle_rows(10000, 6, noise=noise)
    X_test, y_test = _oracle_rows(20000, 7, noise=noise)
    inner = Oracle(factor=0.5).fit(X_cal, y_cal)  # over-confident, wrong family
    reg = RecalibratedRegressor(inner, method="isotonic", cv="prefit").fit(X_cal, y_cal)
    assert not hasattr(reg, "predict_dist")
    for level in (0.5, 0.8, 0.9, 0.95):
        raw = coverage(y_test, *inner.predict(X_test, return_std=True), confidence_level=level)
        fixed = _interval_coverage(reg, X_test, y_test, level)
        assert raw < level - 0.1
        assert fixed == pytest.approx(level, abs=0.015)
    # quantiles: the share of targets below each recalibrated quantile is its level
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    below = (y_test[:, None] <= reg.predict_quantiles(X_test, levels)).mean(axis=0)
    np.testing.assert_allclose(below, levels, atol=0.02)
    # the std factor is the root mean square of the recalibrated family: the true
    # noise has unit variance and the model halves the std, so about 2
    assert reg.std_factor_[0] == pytest.approx(2.0, rel=0.05)
    _, std = reg.predict(X_test, return_std=True)
    np.testing.assert_allclose(std, 0.5 * X_test[:, 1] * reg.std_factor_[0])


# ------------------------------------------------------ with a trained SculptRegressor
@pytest.fixture(scope="module")
def trained():
    X, y, _ = make_heteroscedastic(n_samples=1500, random_state=10)
    X_cal, y_cal, _ = make_heteroscedastic(n_samples=6000, random_state=11)
    X_test, y_test, _ = make_heteroscedastic(n_samples=10000, random_state=12)
    model = Miscalibrated(SculptRegressor(
        loss="nll", max_epochs=40, n_iter_no_change=10, batch_size=256, lr=3e-3,
        random_state=0,
    )).fit(X, y)
    return model, (X_cal, y_cal), (X_test, y_test)


@pytest.mark.parametrize("method", ["scale", "isotonic"])
@pytest.mark.parametrize("factor", [0.4, 2.5], ids=["over-confident", "under-confident"])
def test_recalibrated_90_intervals_cover_88_to_92_percent(trained, method, factor):
    model, (X_cal, y_cal), (X_test, y_test) = trained
    model = copy.deepcopy(model).set_params(factor=factor)
    raw = coverage(y_test, *model.predict(X_test, return_std=True))
    assert raw < 0.75 if factor < 1 else raw > 0.99

    reg = RecalibratedRegressor(model, method=method, cv="prefit").fit(X_cal, y_cal)
    assert reg.estimator_ is model
    assert 0.88 <= _interval_coverage(reg, X_test, y_test, 0.9) <= 0.92
    # the recalibrated std (exact for "scale", best single factor for "isotonic")
    # is calibrated too
    raw_error = calibration_error(y_test, *model.predict(X_test, return_std=True))
    fixed_error = calibration_error(y_test, *reg.predict(X_test, return_std=True))
    assert fixed_error < 0.03 < raw_error
    assert reg.score(X_test, y_test) == pytest.approx(r2_score(y_test, model.predict(X_test)))


def test_split_mode_on_a_pipeline():
    X, y, _ = make_heteroscedastic(n_samples=1500, random_state=20)
    X_test, y_test, _ = make_heteroscedastic(n_samples=4000, random_state=21)
    pipe = make_pipeline(StandardScaler(), Miscalibrated(SculptRegressor(
        loss="nll", max_epochs=30, n_iter_no_change=10,
        batch_size=256, lr=3e-3, random_state=0,
    ), factor=0.4))
    reg = RecalibratedRegressor(pipe, calibration_fraction=0.4, random_state=0).fit(X, y)
    assert reg.n_features_in_ == 4
    assert reg.estimator_ is not pipe and not hasattr(pipe, "n_features_in_")
    assert reg.distribution_.name == "normal"
    assert 0.86 <= _interval_coverage(reg, X_test, y_test, 0.9) <= 0.94
    # the same random_state gives the same split, hence the same scale
    again = RecalibratedRegressor(clone(pipe), calibration_fraction=0.4, random_state=0)
    assert again.fit(X, y).scale_ == pytest.approx(reg.scale_)


def test_family_comes_from_the_pipeline_last_step():
    X, y = _oracle_rows(200, 30)
    pipe = make_pipeline(StandardScaler(with_mean=False, with_std=False),
                         Oracle(distribution="laplace"))
    reg = RecalibratedRegressor(pipe, random_state=0).fit(X, y)
    assert reg.distribution_.name == "laplace"


@pytest.mark.parametrize("method", ["scale", "isotonic"])
def test_pickle_round_trip(method):
    import pickle

    X, y = _oracle_rows(300, 40)
    reg = RecalibratedRegressor(Oracle(factor=0.7), method=method, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(reg))
    for a, b in zip(reg.predict_interval(X), again.predict_interval(X), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reg.predict(X, return_std=True)[1],
                                  again.predict(X, return_std=True)[1])


def test_frozen_estimator_is_recalibrated_on_the_held_out_share():
    frozen_module = pytest.importorskip("sklearn.frozen")
    X, y = _oracle_rows(400, 50)
    inner = Oracle(factor=0.5, distribution="laplace").fit(X, y)
    reg = RecalibratedRegressor(
        frozen_module.FrozenEstimator(inner), calibration_fraction=0.5, random_state=0
    ).fit(X, y)
    assert reg.distribution_.name == "laplace"
    # the same rows as train_test_split's held-out half
    from sklearn.model_selection import train_test_split

    _, X_cal, _, y_cal = train_test_split(X, y, test_size=0.5, random_state=0)
    lap = RecalibratedRegressor(inner, cv="prefit").fit(X_cal, y_cal)
    assert reg.scale_ == pytest.approx(lap.scale_)


@pytest.mark.parametrize("method", ["scale", "isotonic"])
@pytest.mark.parametrize("quantiles", [[], [[0.1, 0.9]], [0.0, 0.5], [0.5, 1.2]])
def test_bad_quantile_levels_are_refused_as_by_the_estimator(method, quantiles):
    # The same check as SculptRegressor.predict_quantiles (an empty list used to
    # return an empty array here and raise there).
    X, y = _oracle_rows(200, 0)
    reg = RecalibratedRegressor(Oracle().fit(X, y), method=method, cv="prefit").fit(X, y)
    with pytest.raises(ValueError, match="quantiles must be a level or a 1-D list"):
        reg.predict_quantiles(X, quantiles)
