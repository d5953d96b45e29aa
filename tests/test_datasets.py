"""make_heteroscedastic: shapes, seeds, and a noise level that is the true one."""

import numpy as np
import pytest
from scipy import stats

from sculpt_sklearn.datasets import make_heteroscedastic

DISTRIBUTIONS = ["normal", "laplace", "studentt"]


def documented_mean(X):
    """The mean function as the docstring states it."""
    n_features = X.shape[1]
    return 2.0 * np.sin(X[:, 0]) + X[:, 1] ** 2 / 2.0 + X[:, 2:].sum(axis=1) / np.sqrt(n_features)


@pytest.mark.parametrize("n_samples", [1, 7, 500])
@pytest.mark.parametrize("n_features", [2, 3, 10])
def test_shapes_and_dtypes(n_samples, n_features):
    X, y, std = make_heteroscedastic(n_samples, n_features, random_state=0)
    assert X.shape == (n_samples, n_features)
    assert y.shape == (n_samples,)
    assert std.shape == (n_samples,)
    for a in (X, y, std):
        assert a.dtype == np.float64
        assert np.isfinite(a).all()
    assert np.all((X >= -2.0) & (X <= 2.0))


def test_numpy_integers_are_accepted():
    X, _, _ = make_heteroscedastic(np.int64(20), np.int32(3), random_state=0)
    assert X.shape == (20, 3)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_random_state_makes_the_draw_reproducible(distribution):
    a = make_heteroscedastic(200, distribution=distribution, random_state=3)
    b = make_heteroscedastic(200, distribution=distribution, random_state=3)
    c = make_heteroscedastic(200, distribution=distribution, random_state=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    d = make_heteroscedastic(200, distribution=distribution, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a[1], d[1])


@pytest.mark.parametrize("noise", [0.5, 1.0, 3.0])
def test_std_follows_the_documented_formula_and_range(noise):
    X, _, std = make_heteroscedastic(20_000, 3, noise=noise, random_state=0)
    expected = noise * (0.1 + 0.45 * (X[:, 0] + 2.0) / 4.0 + 0.45 * np.abs(X[:, 1]) / 2.0)
    np.testing.assert_allclose(std, expected, rtol=1e-12)
    assert std.min() >= 0.1 * noise - 1e-12
    assert std.max() <= 1.0 * noise + 1e-12
    # The range is actually spanned, not just bounded.
    assert std.min() < 0.15 * noise
    assert std.max() > 0.95 * noise


def test_zero_noise_gives_the_mean_function():
    X, y, std = make_heteroscedastic(300, 5, noise=0.0, random_state=0)
    np.testing.assert_array_equal(std, np.zeros(300))
    np.testing.assert_allclose(y, documented_mean(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_empirical_residual_std_in_bins_matches_returned_std(distribution):
    X, y, std = make_heteroscedastic(
        200_000, 4, noise=2.0, distribution=distribution, random_state=0
    )
    residual = y - documented_mean(X)
    edges = np.quantile(std, np.linspace(0.0, 1.0, 11))
    bins = np.clip(np.searchsorted(edges, std, side="right") - 1, 0, 9)
    # Student-t with 3 degrees of freedom has no fourth moment, so its sample
    # std converges slowly: a looser bound.
    tol = 0.08 if distribution == "studentt" else 0.03
    empirical, expected = [], []
    for b in range(10):
        in_bin = bins == b
        assert in_bin.sum() > 15_000
        empirical.append(np.sqrt(np.mean(residual[in_bin] ** 2)))
        expected.append(np.sqrt(np.mean(std[in_bin] ** 2)))
    np.testing.assert_allclose(empirical, expected, rtol=tol)
    # Increasing with the returned std, over a wide range.
    assert np.all(np.diff(empirical) > 0)
    assert empirical[-1] / empirical[0] > 3.0


@pytest.mark.parametrize(("distribution", "excess_kurtosis"), [("normal", 0.0), ("laplace", 3.0)])
def test_standardised_noise_has_the_family_shape(distribution, excess_kurtosis):
    X, y, std = make_heteroscedastic(200_000, 2, distribution=distribution, random_state=1)
    eps = (y - documented_mean(X)) / std
    assert abs(eps.mean()) < 0.01
    assert abs(eps.std() - 1.0) < 0.01
    assert abs(stats.kurtosis(eps) - excess_kurtosis) < 0.3


def test_studentt_noise_is_heavy_tailed():
    X, y, std = make_heteroscedastic(200_000, 2, distribution="studentt", random_state=1)
    eps = (y - documented_mean(X)) / std
    # Standardised t_3: P(|eps| > 3) is several times the Gaussian 0.27%.
    expected = 2 * stats.t(3).sf(3.0 * np.sqrt(3.0))
    assert abs(np.mean(np.abs(eps) > 3.0) - expected) < 0.002
    assert expected > 3 * 2 * stats.norm.sf(3.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": -5}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": "10"}, "n_samples"),
        ({"n_features": 1}, "n_features"),
        ({"n_features": 0}, "n_features"),
        ({"n_features": 3.0}, "n_features"),
        ({"noise": -1.0}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": float("inf")}, "noise"),
        ({"distribution": "cauchy"}, "distribution"),
        ({"distribution": "Normal "}, "distribution"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_heteroscedastic(**kwargs)
