"""Uncertainty scorers in GridSearchCV and cross_validate, metadata routing off and on."""

import numpy as np
import pytest
import sklearn
from helpers import Miscalibrated, Oracle
from scipy import stats
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sculpt_sklearn import SculptRegressor, metrics
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.metrics import (
    calibration_error,
    coverage,
    crps,
    evaluate_uncertainty,
    interval_score,
    interval_score_scorer,
    make_uncertainty_scorer,
    neg_crps_scorer,
    neg_nll_scorer,
    nll,
)


@pytest.fixture
def oracle_data():
    rng = np.random.default_rng(0)
    n = 300
    mean = rng.normal(size=n)
    std = rng.uniform(0.5, 2.0, size=n)
    X = np.column_stack([mean, std])
    y = mean + std * rng.laplace(scale=1 / np.sqrt(2), size=n)
    return X, y


# ------------------------------------------------------------------ scorer mechanics
def test_scorers_are_negated_metrics(oracle_data):
    X, y = oracle_data
    est = Oracle(factor=1.3).fit(X, y)
    mean, std = X[:, 0], 1.3 * X[:, 1]
    assert neg_nll_scorer(est, X, y) == pytest.approx(-nll(y, mean, std))
    assert neg_crps_scorer(est, X, y) == pytest.approx(-crps(y, mean, std))
    assert interval_score_scorer(est, X, y) == pytest.approx(-interval_score(y, mean, std))


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_scorer_uses_the_estimator_family(oracle_data, in_pipeline):
    X, y = oracle_data
    est = Oracle(distribution="laplace")
    if in_pipeline:
        est = make_pipeline(FunctionTransformer(), est)
    est.fit(X, y)
    laplace = -nll(y, X[:, 0], X[:, 1], distribution="laplace")
    assert laplace != pytest.approx(-nll(y, X[:, 0], X[:, 1]))
    assert neg_nll_scorer(est, X, y) == pytest.approx(laplace)
    # a fixed distribution overrides the estimator's
    normal = make_uncertainty_scorer("nll", distribution="normal")
    assert normal(est, X, y) == pytest.approx(-nll(y, X[:, 0], X[:, 1]))


def test_estimator_without_a_family_is_scored_as_normal(oracle_data):
    X, y = oracle_data
    est = Oracle().fit(X, y)
    assert neg_nll_scorer(est, X, y) == pytest.approx(-nll(y, X[:, 0], X[:, 1]))


def test_make_uncertainty_scorer_options(oracle_data):
    X, y = oracle_data
    est = Oracle().fit(X, y)
    cov = make_uncertainty_scorer("coverage", greater_is_better=True, confidence_level=0.5)
    expected = coverage(y, X[:, 0], X[:, 1], confidence_level=0.5)
    assert cov(est, X, y) == pytest.approx(expected)
    assert repr(cov) == (
        "make_uncertainty_scorer(coverage, greater_is_better=True, confidence_level=0.5)"
    )
    # a user metric without a distribution parameter
    def mean_std(y_true, y_mean, y_std):
        return float(np.mean(y_std))

    assert make_uncertainty_scorer(mean_std)(est, X, y) == pytest.approx(-np.mean(X[:, 1]))
    with pytest.raises(ValueError, match="Unknown metric"):
        make_uncertainty_scorer("brier")
    with pytest.raises(ValueError, match="sample_weight is data"):
        make_uncertainty_scorer("nll", sample_weight=np.ones(3))
    with pytest.raises(TypeError, match="does not accept sample_weight"):
        make_uncertainty_scorer(mean_std)(est, X, y, sample_weight=np.ones(len(y)))


def test_scorer_passes_sample_weight(oracle_data):
    X, y = oracle_data
    est = Oracle().fit(X, y)
    w = np.random.default_rng(1).uniform(0, 3, size=len(y))
    expected = -nll(y, X[:, 0], X[:, 1], sample_weight=w)
    assert expected != pytest.approx(-nll(y, X[:, 0], X[:, 1]))
    assert neg_nll_scorer(est, X, y, sample_weight=w) == pytest.approx(expected)


def test_estimator_without_return_std_gets_a_clear_error(oracle_data):
    X, y = oracle_data
    est = LinearRegression().fit(X, y)
    with pytest.raises(TypeError, match=r"does not accept return_std=True.*SculptRegressor"):
        neg_nll_scorer(est, X, y)


def test_routing_pipeline_without_predict_request_says_what_to_do(oracle_data):
    X, y = oracle_data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(FunctionTransformer(), Oracle()).fit(X, y)
        with pytest.raises(ValueError, match=r"set_predict_request\(return_std=True\)"):
            neg_nll_scorer(pipe, X, y)
        pipe[-1].set_predict_request(return_std=True)
        assert neg_nll_scorer(pipe, X, y) == pytest.approx(-nll(y, X[:, 0], X[:, 1]))


def test_routing_sample_weight_reaches_a_scorer_that_requests_it(oracle_data):
    X, y = oracle_data
    w = np.random.default_rng(2).uniform(0, 3, size=len(y))
    cv = KFold(2)
    with sklearn.config_context(enable_metadata_routing=True):
        est = Oracle().set_fit_request(sample_weight=True)
        scorer = make_uncertainty_scorer("nll").set_score_request(sample_weight=True)
        result = cross_validate(
            est, X, y, cv=cv, scoring={"nll": scorer}, params={"sample_weight": w}
        )
        for fold, (_, test) in enumerate(cv.split(X)):
            expected = -nll(y[test], X[test, 0], X[test, 1], sample_weight=w[test])
            assert result["test_nll"][fold] == pytest.approx(expected)
        # left unset, passing sample_weight is an error, as for scikit-learn's scorers
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            cross_validate(
                est, X, y, cv=cv, scoring={"nll": make_uncertainty_scorer("nll")},
                params={"sample_weight": w},
            )


# --------------------------------------------------- with SculptRegressor, for real
def _sculpt(**kwargs):
    params = dict(distribution="laplace", max_epochs=8, batch_size=128, lr=3e-3,
                  early_stopping=False, random_state=0)
    params.update(kwargs)
    return SculptRegressor(**params)


@pytest.fixture(scope="module")
def small_data():
    X, y, _ = make_heteroscedastic(n_samples=400, random_state=0)
    return X, y


@pytest.mark.parametrize("routing", [False, True], ids=["routing-off", "routing-on"])
@pytest.mark.parametrize("in_pipeline", [False, True], ids=["bare", "pipeline"])
def test_model_selection_with_sculpt_regressor(small_data, in_pipeline, routing):
    X, y = small_data
    with sklearn.config_context(enable_metadata_routing=routing):
        reg = _sculpt()
        if in_pipeline:
            if routing:
                reg.set_predict_request(return_std=True)
            est, prefix = make_pipeline(StandardScaler(), reg), "sculptregressor__"
        else:
            est, prefix = reg, ""

        search = GridSearchCV(
            est, {f"{prefix}n_layers": [1, 2]}, scoring=neg_nll_scorer, cv=2, refit=False,
            error_score="raise",
        ).fit(X, y)
        scores = search.cv_results_["mean_test_score"]
        assert np.all(np.isfinite(scores)) and scores.shape == (2,)

        cv = KFold(2)
        # params={}: scikit-learn 1.6.0's cross_validate fails on the default
        # params=None when routing is enabled (fixed in 1.6.1).
        result = cross_validate(
            est, X, y, cv=cv, return_estimator=True, error_score="raise",
            scoring={"nll": neg_nll_scorer, "crps": neg_crps_scorer,
                     "interval": interval_score_scorer, "r2": "r2"},
            params={},
        )
        for fold, (_, test) in enumerate(cv.split(X)):
            fitted = result["estimator"][fold]
            mean, std = fitted.predict(X[test], return_std=True)
            family = {"distribution": "laplace"}
            assert result["test_nll"][fold] == pytest.approx(-nll(y[test], mean, std, **family))
            assert result["test_crps"][fold] == pytest.approx(
                -crps(y[test], mean, std, **family)
            )
            assert result["test_interval"][fold] == pytest.approx(
                -interval_score(y[test], mean, std, **family)
            )


def test_selecting_by_nll_picks_the_calibrated_model_where_r2_cannot():
    """Scaling the std leaves the mean, hence R^2, unchanged: R^2 ties and keeps the
    first candidate (over-confident), the NLL picks the calibrated one."""
    X, y, _ = make_heteroscedastic(n_samples=800, random_state=3)
    X_test, y_test, _ = make_heteroscedastic(n_samples=2000, random_state=4)
    est = make_pipeline(StandardScaler(), Miscalibrated(_sculpt(
        distribution="normal", loss="nll", max_epochs=25, early_stopping=True,
        n_iter_no_change=10,
    )))
    grid = {"miscalibrated__factor": [0.3, 1.0, 3.0]}
    by_r2 = GridSearchCV(est, grid, scoring="r2", cv=2, refit=False).fit(X, y)
    by_nll = GridSearchCV(est, grid, scoring=neg_nll_scorer, cv=2).fit(X, y)

    r2 = by_r2.cv_results_["mean_test_score"]
    assert r2 == pytest.approx(np.full(3, r2[0]))  # a tie by construction
    assert by_r2.best_params_ == {"miscalibrated__factor": 0.3}
    assert by_nll.best_params_ == {"miscalibrated__factor": 1.0}

    calibrated = by_nll.best_estimator_
    # the model R^2 picked: the same fitted steps with the std factor R^2 kept
    factor = by_r2.best_params_["miscalibrated__factor"]
    picked_by_r2 = Pipeline([calibrated.steps[0], ("m", _refactored(calibrated[-1], factor))])
    errors = {
        name: calibration_error(y_test, *model.predict(X_test, return_std=True))
        for name, model in (("nll", calibrated), ("r2", picked_by_r2))
    }
    assert errors["nll"] < 0.05
    assert errors["r2"] > 3 * errors["nll"]


def _refactored(fitted, factor):
    """A fitted Miscalibrated sharing ``fitted``'s model, with another factor."""
    other = Miscalibrated(fitted.estimator, factor=factor)
    other.estimator_ = fitted.estimator_
    return other


def test_scorers_pickle(oracle_data):
    import pickle

    X, y = oracle_data
    est = Oracle().fit(X, y)
    for scorer in (neg_nll_scorer, neg_crps_scorer, interval_score_scorer):
        assert pickle.loads(pickle.dumps(scorer))(est, X, y) == scorer(est, X, y)


def test_grid_search_forwards_sample_weight_to_the_scorer_without_routing(oracle_data):
    from sklearn.model_selection._search import BaseSearchCV

    if not hasattr(BaseSearchCV, "_check_scorers_accept_sample_weight"):
        pytest.skip("this scikit-learn does not forward sample_weight to scorers")
    X, y = oracle_data
    w = np.random.default_rng(3).uniform(0, 3, size=len(y))
    cv = KFold(2)
    search = GridSearchCV(Oracle(), {"factor": [0.5, 1.0]}, scoring=neg_nll_scorer, cv=cv)
    search.fit(X, y, sample_weight=w)
    for fold, (_, test) in enumerate(cv.split(X)):
        for i, factor in enumerate([0.5, 1.0]):
            expected = -nll(y[test], X[test, 0], factor * X[test, 1], sample_weight=w[test])
            assert search.cv_results_[f"split{fold}_test_score"][i] == pytest.approx(expected)


# ------------------------------------------- isotonic recalibration: what it predicts
@pytest.fixture
def isotonic_fit():
    """An isotonic RecalibratedRegressor on uniform noise (the Normal family misfits it)."""
    rng = np.random.default_rng(0)
    n = 400
    mean = rng.normal(size=n)
    std = rng.uniform(0.5, 2.0, size=n)
    X = np.column_stack([mean, std])
    y = mean + std * rng.uniform(-2.5, 2.5, size=n)
    est = RecalibratedRegressor(Oracle().fit(X, y), method="isotonic", cv="prefit")
    return est.fit(X[:200], y[:200]), X[200:], y[200:]


def _recalibrated_crps_by_integral(est, X, y):
    """CRPS = integral of (F(t) - 1{t >= y})^2 dt with F = map(Phi((t - mean) / std))."""
    calibrator = est.calibrators_[0]
    knots_x = np.concatenate([[0.0], calibrator.X_thresholds_, [1.0]])
    knots_y = np.concatenate([[0.0], calibrator.y_thresholds_, [1.0]])
    mean, std = X[:, 0], X[:, 1]
    t = mean[:, None] + std[:, None] * np.linspace(-12.0, 12.0, 24001)[None, :]
    cdf = np.interp(stats.norm.cdf((t - mean[:, None]) / std[:, None]), knots_x, knots_y)
    integrand = (cdf - (t >= y[:, None])) ** 2
    return np.mean(np.trapezoid(integrand, t, axis=1))


def test_isotonic_crps_scorer_scores_the_recalibrated_distribution(isotonic_fit):
    est, X, y = isotonic_fit
    expected = _recalibrated_crps_by_integral(est, X, y)
    # the closed form of the base family at the recalibrated std is ~1% off here
    mean, std = est.predict(X, return_std=True)
    assert crps(y, mean, std) != pytest.approx(expected, rel=3e-3)
    assert -neg_crps_scorer(est, X, y) == pytest.approx(expected, rel=1e-3)
    in_pipeline = make_pipeline(FunctionTransformer(), est)
    assert -neg_crps_scorer(in_pipeline, X, y) == pytest.approx(expected, rel=1e-3)


def test_isotonic_interval_scorers_use_the_recalibrated_interval(isotonic_fit):
    est, X, y = isotonic_fit
    lower, upper = est.predict_interval(X, confidence_level=0.8)
    alpha = 0.2
    inside = np.mean((y >= lower) & (y <= upper))
    score = np.mean(
        (upper - lower)
        + 2 / alpha * np.maximum(lower - y, 0)
        + 2 / alpha * np.maximum(y - upper, 0)
    )
    scorer = make_uncertainty_scorer
    assert scorer("coverage", greater_is_better=True, confidence_level=0.8)(
        est, X, y
    ) == pytest.approx(inside)
    assert -scorer("interval_width", confidence_level=0.8)(est, X, y) == pytest.approx(
        np.mean(upper - lower)
    )
    assert -scorer("interval_score", confidence_level=0.8)(est, X, y) == pytest.approx(score)


@pytest.mark.parametrize("metric", ["nll", "calibration_error", "miscalibration_area"])
def test_isotonic_density_scorers_refuse_with_advice(isotonic_fit, metric):
    est, X, y = isotonic_fit
    with pytest.raises(ValueError, match="neg_crps_scorer.*method='scale'"):
        make_uncertainty_scorer(metric)(est, X, y)
    # a family given on purpose is scored as asked
    mean, std = est.predict(X, return_std=True)
    fixed = make_uncertainty_scorer(metric, distribution="normal")(est, X, y)
    assert fixed == pytest.approx(-getattr(metrics, metric)(y, mean, std))


def test_isotonic_evaluate_uncertainty_needs_a_family(isotonic_fit):
    est, X, y = isotonic_fit
    with pytest.raises(ValueError, match="evaluate_uncertainty.*distribution"):
        evaluate_uncertainty(est, X, y)
    assert np.isfinite(evaluate_uncertainty(est, X, y, distribution="normal")["nll"])
