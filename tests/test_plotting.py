"""Display objects: the drawn data (lines, collections), not pixels."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from helpers import Oracle  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from sculpt_sklearn.metrics import calibration_curve, miscalibration_area  # noqa: E402
from sculpt_sklearn.plotting import (  # noqa: E402
    IntervalDisplay,
    ReliabilityDisplay,
    RiskErrorDisplay,
)

Z90 = 1.6448536269514722




@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 2000
    mean = rng.normal(size=n)
    std = rng.uniform(0.5, 2.0, size=n)
    y = rng.normal(mean, std)
    return np.column_stack([mean, std]), y


# ------------------------------------------------------------------------- reliability
def test_reliability_from_predictions_draws_the_curve_area_and_diagonal(data):
    X, y = data
    mean, std = X[:, 0], 0.5 * X[:, 1]  # over-confident
    fig, ax = plt.subplots()
    display = ReliabilityDisplay.from_predictions(y, mean, std, n_levels=21, ax=ax, name="m")
    expected, observed = calibration_curve(y, mean, std, n_levels=21)
    assert display.ax_ is ax and display.figure_ is fig
    np.testing.assert_allclose(display.line_.get_xdata(), expected)
    np.testing.assert_allclose(display.line_.get_ydata(), observed)
    np.testing.assert_allclose(display.ref_line_.get_xdata(), [0, 1])
    assert display.fill_ in ax.collections
    area = miscalibration_area(y, mean, std, n_levels=21)
    assert display.miscalibration_area == pytest.approx(area)
    assert display.line_.get_label() == f"m (miscalibration area {area:.3f})"
    # over-confident: the curve lies below the diagonal between the ends
    assert np.all(observed[1:-1] < expected[1:-1])


def test_reliability_from_estimator_uses_the_pipeline_family(data):
    X, y = data
    pipe = make_pipeline(FunctionTransformer(), Oracle(distribution="laplace")).fit(X, y)
    display = ReliabilityDisplay.from_estimator(pipe, X, y, n_levels=11, ref_line=False,
                                                fill=False)
    _, laplace = calibration_curve(y, X[:, 0], X[:, 1], n_levels=11, distribution="laplace")
    _, normal = calibration_curve(y, X[:, 0], X[:, 1], n_levels=11)
    np.testing.assert_allclose(display.line_.get_ydata(), laplace)
    assert not np.allclose(laplace, normal)
    assert display.ref_line_ is None and display.fill_ is None
    assert display.line_.get_label().startswith("Oracle")


def test_reliability_plot_again_on_another_ax(data):
    X, y = data
    display = ReliabilityDisplay.from_predictions(y, X[:, 0], X[:, 1])
    _, ax = plt.subplots()
    display.plot(ax=ax, name="again", color="red")
    assert display.ax_ is ax
    assert display.line_.get_color() == "red"
    assert display.line_.get_label().startswith("again")


# ---------------------------------------------------------------------- risk vs error
def test_risk_error_bins_by_hand():
    y_std = np.array([4.0, 1.0, 2.0, 3.0])
    y_mean = np.zeros(4)
    y_true = np.array([1.0, 2.0, -3.0, 4.0])
    display = RiskErrorDisplay.from_predictions(y_true, y_mean, y_std, n_bins=2)
    # sorted by std: rows 1, 2 | rows 3, 0
    np.testing.assert_allclose(display.line_.get_xdata(),
                               [np.sqrt((1 + 4) / 2), np.sqrt((9 + 16) / 2)])
    np.testing.assert_allclose(display.line_.get_ydata(),
                               [np.sqrt((4 + 9) / 2), np.sqrt((16 + 1) / 2)])
    np.testing.assert_array_equal(display.counts, [2, 2])
    top = max(display.predicted_std.max(), display.rmse.max())
    np.testing.assert_allclose(display.ref_line_.get_xdata(), [0, top])
    np.testing.assert_allclose(display.ref_line_.get_ydata(), [0, top])


def test_risk_error_calibrated_model_lies_on_the_diagonal(data):
    X, y = data
    pipe = make_pipeline(FunctionTransformer(), Oracle()).fit(X, y)
    _, ax = plt.subplots()
    display = RiskErrorDisplay.from_estimator(pipe, X, y, n_bins=5, ax=ax)
    np.testing.assert_allclose(display.rmse, display.predicted_std, rtol=0.12)
    assert display.line_ in ax.lines and len(display.line_.get_xdata()) == 5
    over = RiskErrorDisplay.from_predictions(y, X[:, 0], 0.5 * X[:, 1], n_bins=5)
    assert np.all(over.rmse > 1.6 * over.predicted_std)


def test_risk_error_bad_bins(data):
    X, y = data
    with pytest.raises(ValueError, match="n_bins"):
        RiskErrorDisplay.from_predictions(y[:3], X[:3, 0], X[:3, 1], n_bins=5)


# -------------------------------------------------------------------------- intervals
def test_interval_display_orders_by_mean_and_draws_bounds():
    y_mean = np.array([3.0, 1.0, 2.0])
    y_std = np.array([1.0, 2.0, 0.5])
    y_true = np.array([3.5, 10.0, 2.0])
    display = IntervalDisplay.from_predictions(y_true, y_mean, y_std, name="m")
    np.testing.assert_array_equal(display.order_, [1, 2, 0])
    np.testing.assert_allclose(display.mean_line_.get_ydata(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(display.observed_line_.get_ydata(), [10.0, 2.0, 3.5])
    segments = display.intervals_.get_segments()
    lows = [s[0][1] for s in segments]
    highs = [s[1][1] for s in segments]
    np.testing.assert_allclose(lows, [1 - 2 * Z90, 2 - 0.5 * Z90, 3 - Z90])
    np.testing.assert_allclose(highs, [1 + 2 * Z90, 2 + 0.5 * Z90, 3 + Z90])
    assert "66.7% inside" in display.observed_line_.get_label()
    assert display.ax_.get_title() == "m"


def test_interval_display_subsamples_and_uses_predict_interval(data):
    X, y = data

    class WithInterval(Oracle):
        def predict_interval(self, X, confidence_level=0.9):
            mean = self.predict(X)
            return mean - 1.0, mean + 2.0

    est = WithInterval().fit(X, y)
    display = IntervalDisplay.from_estimator(est, X, y, n_max=50)
    assert display.order_.size == 50
    assert np.all(np.diff(X[display.order_, 0]) >= 0)
    segments = display.intervals_.get_segments()
    np.testing.assert_allclose([s[0][1] for s in segments], X[display.order_, 0] - 1.0)
    np.testing.assert_allclose([s[1][1] for s in segments], X[display.order_, 0] + 2.0)


def test_interval_display_refuses_several_outputs(data):
    _, y = data
    two = np.column_stack([y, y])
    with pytest.raises(ValueError, match="one output"):
        IntervalDisplay.from_predictions(two, two, np.ones_like(two))


# ------------------------------------------------------------------- with the package
def test_displays_from_a_fitted_sculpt_regressor():
    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    reg = SculptRegressor(max_epochs=3, early_stopping=False, random_state=0).fit(X, y)
    _, axes = plt.subplots(1, 3)
    ReliabilityDisplay.from_estimator(reg, X, y, ax=axes[0])
    RiskErrorDisplay.from_estimator(reg, X, y, ax=axes[1])
    display = IntervalDisplay.from_estimator(reg, X, y, ax=axes[2])
    lower, _ = reg.predict_interval(X)
    np.testing.assert_allclose([s[0][1] for s in display.intervals_.get_segments()],
                               lower[display.order_])
    assert all(ax.has_data() for ax in axes)


def test_missing_matplotlib_gets_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sculpt-sklearn\[plot\]"):
        ReliabilityDisplay.from_predictions([0.0, 1.0], [0.0, 0.0], [1.0, 1.0])
