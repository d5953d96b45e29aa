"""Metrics against independent references: scipy.stats, properscoring, integrals, by hand."""

import math

import numpy as np
import pytest
from properscoring import crps_gaussian
from scipy import integrate, stats

from sculpt_sklearn import sculpt
from sculpt_sklearn.metrics import (
    calibration_curve,
    calibration_error,
    coverage,
    crps,
    interval_score,
    interval_width,
    miscalibration_area,
    nll,
    sharpness,
    uncertainty_metrics,
)
from sculpt_sklearn.metrics._calibration import _area_between

Z90 = 1.6448536269514722  # scipy.stats.norm.ppf(0.95), written out


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    n = 400
    y_mean = rng.normal(size=n)
    y_std = rng.uniform(0.3, 2.0, size=n)
    y_true = y_mean + y_std * rng.standard_t(4, size=n)
    return y_true, y_mean, y_std


def _scipy_reference(name, y_mean, y_std):
    """The family as scipy.stats parameterises it, mapped from (mean, std) by hand."""
    if name == "normal":
        return stats.norm(y_mean, y_std)
    if name == "laplace":
        return stats.laplace(y_mean, y_std / math.sqrt(2.0))
    df = {"studentt": 5.0, "studentt3": 3.0}[name]
    return stats.t(df, y_mean, y_std * math.sqrt((df - 2.0) / df))


FAMILIES = {
    "normal": "normal",
    "laplace": sculpt.Laplace,
    "studentt": "studentt",
    "studentt3": sculpt.StudentT.with_df(3.0),
}


# ------------------------------------------------------------------------------ NLL
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_nll_matches_scipy_logpdf(predictions, name):
    y_true, y_mean, y_std = predictions
    expected = -np.mean(_scipy_reference(name, y_mean, y_std).logpdf(y_true))
    assert nll(y_true, y_mean, y_std, distribution=FAMILIES[name]) == pytest.approx(
        expected, rel=1e-12
    )


def test_nll_is_computed_in_float64():
    # Far from zero, float32 would lose the residual entirely.
    y_mean = np.array([1e8, -3e7])
    y_std = np.array([0.5, 2.0])
    y_true = y_mean + np.array([0.25, -1.0])
    expected = -np.mean(stats.norm(y_mean, y_std).logpdf(y_true))
    assert nll(y_true, y_mean, y_std) == pytest.approx(expected, rel=1e-12)


def test_nll_known_value():
    assert nll([1.0], [1.0], [1.0]) == pytest.approx(0.5 * math.log(2 * math.pi))


def test_distribution_by_name_or_class_agree(predictions):
    assert nll(*predictions, distribution="laplace") == nll(
        *predictions, distribution=sculpt.Laplace
    )
    assert nll(*predictions, distribution="Gaussian") == nll(*predictions)


def test_unknown_distribution_is_refused(predictions):
    with pytest.raises(ValueError, match="Unknown distribution"):
        nll(*predictions, distribution="cauchy")


# ----------------------------------------------------------------------------- CRPS
def test_crps_normal_matches_properscoring(predictions):
    y_true, y_mean, y_std = predictions
    expected = np.mean(crps_gaussian(y_true, y_mean, y_std))
    assert crps(y_true, y_mean, y_std) == pytest.approx(expected, rel=1e-10)


def _crps_by_integration(dist, y):
    """CRPS(F, y) = int_{-inf}^{y} F(t)^2 dt + int_{y}^{inf} (1 - F(t))^2 dt."""
    below, _ = integrate.quad(lambda t: dist.cdf(t) ** 2, -np.inf, y, epsabs=1e-12)
    above, _ = integrate.quad(lambda t: dist.sf(t) ** 2, y, np.inf, epsabs=1e-12)
    return below + above


@pytest.mark.parametrize("name", ["normal", "laplace", "studentt", "studentt3"])
def test_crps_matches_numerical_integration(name):
    y_true = np.array([0.3, -2.0, 4.5, 1.0])
    y_mean = np.array([0.0, 0.5, 1.0, 1.0])
    y_std = np.array([1.0, 0.7, 2.0, 0.1])
    expected = np.mean([
        _crps_by_integration(_scipy_reference(name, m, s), y)
        for y, m, s in zip(y_true, y_mean, y_std, strict=True)
    ])
    got = crps(y_true, y_mean, y_std, distribution=FAMILIES[name])
    assert got == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- interval metrics
def test_coverage_by_hand():
    y_true = [0.0, 1.0, 3.0, -1.7]
    zeros, ones = np.zeros(4), np.ones(4)
    # bounds are +-1.645: 0 and 1 are inside, 3 and -1.7 are outside
    assert coverage(y_true, zeros, ones) == pytest.approx(0.5)
    assert coverage(y_true, zeros, ones, sample_weight=[1, 1, 2, 0]) == pytest.approx(0.5)
    assert coverage(y_true, zeros, ones, sample_weight=[3, 1, 0, 0]) == pytest.approx(1.0)
    # at 99% the bounds are +-2.576 and -1.7 comes inside
    assert coverage(y_true, zeros, ones, confidence_level=0.99) == pytest.approx(0.75)


def test_interval_width_by_hand():
    y_std = np.array([1.0, 2.0, 0.5])
    assert interval_width(np.zeros(3), np.zeros(3), y_std) == pytest.approx(
        2 * Z90 * y_std.mean(), rel=1e-12
    )
    # Laplace 90% interval: mean +- b log(1 / (2 * 0.05)) with b = std / sqrt(2)
    laplace = 2 * np.log(10.0) / math.sqrt(2.0) * y_std.mean()
    assert interval_width(
        np.zeros(3), np.zeros(3), y_std, distribution="laplace"
    ) == pytest.approx(laplace, rel=1e-12)


def test_interval_score_by_hand():
    y_true = np.array([0.0, 3.0, -2.0])
    y_mean = np.zeros(3)
    y_std = np.ones(3)
    width = 2 * Z90
    alpha = 0.1
    by_hand = [
        width,                                   # inside: the width only
        width + 2 / alpha * (3.0 - Z90),         # above the upper bound
        width + 2 / alpha * (-Z90 - (-2.0)),      # below the lower bound
    ]
    assert interval_score(y_true, y_mean, y_std) == pytest.approx(np.mean(by_hand), rel=1e-12)
    assert interval_score(
        y_true, y_mean, y_std, sample_weight=[0, 1, 0]
    ) == pytest.approx(by_hand[1], rel=1e-12)


def test_interval_score_prefers_the_true_scale():
    rng = np.random.default_rng(1)
    y = rng.normal(size=20000)
    scores = {
        s: interval_score(y, np.zeros_like(y), np.full_like(y, s)) for s in (0.5, 1.0, 2.0)
    }
    assert scores[1.0] < scores[0.5]
    assert scores[1.0] < scores[2.0]


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, True])
def test_bad_confidence_level(predictions, level):
    with pytest.raises(ValueError, match="confidence_level"):
        coverage(*predictions, confidence_level=level)


# ------------------------------------------------------------------ calibration
def _toolbox_mace(y_pred, y_std, y_true, num_bins=100):
    """uncertainty-toolbox's mean_absolute_calibration_error (interval, non-vectorised)."""
    exp_proportions = np.linspace(0, 1, num_bins)
    obs_proportions = []
    for p in exp_proportions:
        lower, upper = stats.norm.interval(p, loc=y_pred, scale=y_std)
        obs_proportions.append(np.mean((y_true >= lower) & (y_true <= upper)))
    return np.mean(np.abs(exp_proportions - np.array(obs_proportions))), np.array(
        obs_proportions
    )


def test_calibration_error_matches_uncertainty_toolbox_formula(predictions):
    y_true, y_mean, y_std = predictions
    expected, observed_ref = _toolbox_mace(y_mean, y_std, y_true)
    assert calibration_error(y_true, y_mean, y_std) == pytest.approx(expected, abs=1e-12)
    levels, observed = calibration_curve(y_true, y_mean, y_std)
    np.testing.assert_allclose(levels, np.linspace(0, 1, 100))
    np.testing.assert_allclose(observed, observed_ref)


def test_calibration_error_is_small_for_a_calibrated_model_and_large_otherwise():
    rng = np.random.default_rng(2)
    y_mean = rng.normal(size=20000)
    y_std = rng.uniform(0.5, 3.0, size=y_mean.size)
    y_true = rng.normal(y_mean, y_std)
    assert calibration_error(y_true, y_mean, y_std) < 0.01
    assert calibration_error(y_true, y_mean, 0.5 * y_std) > 0.15
    assert calibration_error(y_true, y_mean, 2.0 * y_std) > 0.15
    # the right family matters: Laplace noise judged as Laplace is calibrated
    y_laplace = y_mean + y_std * rng.laplace(scale=1 / math.sqrt(2), size=y_mean.size)
    assert calibration_error(y_laplace, y_mean, y_std, distribution="laplace") < 0.01
    assert calibration_error(y_laplace, y_mean, y_std) > 0.03


def test_quantile_calibration_curve_by_hand():
    y_true = np.array([-1.0, 0.5, 2.0])
    levels, observed = calibration_curve(
        y_true, np.zeros(3), np.ones(3), n_levels=3, kind="quantile"
    )
    # quantiles at levels 0, 0.5, 1 are -inf, 0, +inf
    np.testing.assert_allclose(levels, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(observed, [0.0, 1 / 3, 1.0])


def test_miscalibration_area_matches_dense_integration(predictions):
    y_true, y_mean, y_std = predictions
    for scale in (0.6, 1.0, 1.7):
        levels, observed = calibration_curve(y_true, y_mean, scale * y_std)
        fine = np.linspace(0, 1, 2_000_001)
        gap = np.abs(np.interp(fine, levels, observed) - fine)
        expected = np.sum(0.5 * (gap[1:] + gap[:-1]) * np.diff(fine))
        got = miscalibration_area(y_true, y_mean, scale * y_std)
        assert got == pytest.approx(expected, abs=1e-7)


def test_miscalibration_area_handles_crossings_by_hand():
    # A curve through (0, 0), (0.5, 0.75), (1, 0.5): one triangle-ish region
    # above the diagonal on [0, 0.5] and one crossing on [0.5, 1].
    x = np.array([0.0, 0.5, 1.0])
    d = np.array([[0.0], [0.25], [-0.5]])
    # |d| on [0, 0.5]: area 0.5 * 0.5 * 0.25; on [0.5, 1] d crosses zero at 0.5 + 0.5/3:
    # two triangles 0.5 * (1/6) * 0.25 + 0.5 * (1/3) * 0.5
    expected = 0.0625 + 0.5 * (1 / 6) * 0.25 + 0.5 * (1 / 3) * 0.5
    assert _area_between(x, d)[0] == pytest.approx(expected)


def test_sharpness_by_hand():
    y_std = np.array([1.0, 2.0, 2.0])
    assert sharpness(np.zeros(3), np.zeros(3), y_std) == pytest.approx(math.sqrt(3.0))
    assert sharpness(
        np.zeros(3), np.zeros(3), y_std, sample_weight=[2, 0, 1]
    ) == pytest.approx(math.sqrt(2.0))


# ------------------------------------------------------- weights, outputs, checks
METRICS = [nll, crps, coverage, interval_width, interval_score, calibration_error,
           miscalibration_area, sharpness]


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.__name__)
def test_integer_weights_equal_repeated_rows(predictions, metric):
    y_true, y_mean, y_std = (a[:60] for a in predictions)
    weights = np.random.default_rng(3).integers(0, 4, size=60)
    repeated = [np.repeat(a, weights) for a in (y_true, y_mean, y_std)]
    assert metric(y_true, y_mean, y_std, sample_weight=weights) == pytest.approx(
        metric(*repeated), rel=1e-10, abs=1e-12
    )


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.__name__)
def test_multi_output_is_the_mean_of_the_outputs(predictions, metric):
    y_true, y_mean, y_std = predictions
    second = (2.0 * y_true[::-1], y_mean[::-1], 0.5 * y_std[::-1])
    stacked = [np.column_stack([a, b]) for a, b in zip(predictions, second, strict=True)]
    per_output = [metric(*predictions), metric(*second)]
    assert metric(*stacked) == pytest.approx(np.mean(per_output), rel=1e-12)
    np.testing.assert_allclose(metric(*stacked, multioutput="raw_values"), per_output,
                               rtol=1e-12)
    assert metric(*stacked, multioutput=[1.0, 3.0]) == pytest.approx(
        np.average(per_output, weights=[1.0, 3.0]), rel=1e-12
    )


def test_column_vector_and_1d_agree(predictions):
    y_true, y_mean, y_std = predictions
    assert nll(y_true, y_mean[:, None], y_std[:, None]) == pytest.approx(
        nll(y_true, y_mean, y_std)
    )


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.__name__)
def test_non_positive_std_is_refused_with_advice(predictions, metric):
    y_true, y_mean, y_std = (a.copy() for a in predictions)
    y_std[3] = 0.0
    with pytest.raises(ValueError, match=r"strictly positive.*np\.maximum"):
        metric(y_true, y_mean, y_std)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_non_finite_inputs_are_refused(predictions, bad, position):
    arrays = [a.copy() for a in predictions]
    arrays[position][5] = bad
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        nll(*arrays)


def test_inconsistent_lengths_and_shapes_are_refused(predictions):
    y_true, y_mean, y_std = predictions
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        coverage(y_true[:-1], y_mean, y_std)
    with pytest.raises(ValueError, match="same shape"):
        nll(np.column_stack([y_true, y_true]), y_mean, y_std)


def test_bad_sample_weight_is_refused(predictions):
    with pytest.raises(ValueError, match="(?i)negative"):
        nll(*predictions, sample_weight=-np.ones(len(predictions[0])))
    with pytest.raises(ValueError):
        nll(*predictions, sample_weight=np.ones(3))


def test_uncertainty_metrics_matches_independent_formulas(predictions):
    # Every entry against scipy.stats / closed forms written here, for Laplace at 80%.
    y_true, y_mean, y_std = predictions
    table = uncertainty_metrics(*predictions, distribution="laplace", confidence_level=0.8)
    b = y_std / math.sqrt(2.0)  # Laplace scale of std y_std
    ref = stats.laplace(y_mean, b)
    z = np.abs(y_true - y_mean) / b
    lower, upper = ref.ppf(0.1), ref.ppf(0.9)
    inside = (y_true >= lower) & (y_true <= upper)
    levels = np.linspace(0, 1, 100)
    observed = np.array([
        np.mean((y_true >= ref.interval(p)[0]) & (y_true <= ref.interval(p)[1]))
        for p in levels
    ])
    fine = np.linspace(0, 1, 1_000_001)
    gap = np.abs(np.interp(fine, levels, observed) - fine)
    expected = {
        "nll": -np.mean(ref.logpdf(y_true)),
        # CRPS of Laplace(mu, b) at y: b * (|z| + exp(-|z|) - 3/4)
        "crps": np.mean(b * (z + np.exp(-z) - 0.75)),
        "coverage": np.mean(inside),
        "interval_width": np.mean(upper - lower),
        "interval_score": np.mean(
            (upper - lower)
            + 10.0 * np.maximum(lower - y_true, 0)
            + 10.0 * np.maximum(y_true - upper, 0)
        ),
        "calibration_error": np.mean(np.abs(observed - levels)),
        "miscalibration_area": np.sum(0.5 * (gap[1:] + gap[:-1]) * np.diff(fine)),
        "sharpness": math.sqrt(np.mean(y_std**2)),
    }
    assert set(table) == set(expected)
    for name, value in expected.items():
        assert table[name] == pytest.approx(value, rel=1e-9, abs=1e-7), name
