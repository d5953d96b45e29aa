"""The Keras families (sculpt_sklearn.keras) against scipy.stats and the torch families.

References: scipy distributions built here by hand from "y_hat is the mean, y_risk the
standard deviation", and the torch families of sculpt_sklearn.sculpt, reached through
their public names. Values in float64; every backend Keras offers has it. The file runs
under the torch backend (main suite) and the TensorFlow backend (make test-keras).
"""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import torch  # noqa: E402
from keras import ops  # noqa: E402
from keras_helpers import gradients, to_numpy  # noqa: E402
from scipy import special, stats  # noqa: E402

from sculpt_sklearn import keras as ksculpt  # noqa: E402
from sculpt_sklearn import sculpt as tsculpt  # noqa: E402

# (name, df): the Keras and the torch family are looked up by the same name and df.
CASES = [
    ("normal", None),
    ("laplace", None),
    ("studentt", 3.0),
    ("studentt", 5.0),
    ("studentt", 30.0),
    ("lognormal", None),
    ("gamma", None),
]
IDS = ["normal", "laplace", "t3", "t5", "t30", "lognormal", "gamma"]
TOL = dict(rtol=1e-6, atol=1e-6)


def families(name, df):
    """The Keras and the torch family of one name (and df)."""
    if df is not None:
        return ksculpt.StudentT.with_df(df), tsculpt.StudentT.with_df(df)
    return ksculpt.get_distribution(name), tsculpt.get_distribution(name)


def reference(name, df, mean, std):
    """The scipy distribution with this mean and standard deviation, derived by hand."""
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if name == "normal":
        return stats.norm(loc=mean, scale=std)
    if name == "laplace":
        return stats.laplace(loc=mean, scale=std / math.sqrt(2.0))
    if name == "studentt":
        return stats.t(df=df, loc=mean, scale=std * math.sqrt((df - 2.0) / df))
    if name == "lognormal":
        s2 = np.log1p((std / mean) ** 2)
        return stats.lognorm(s=np.sqrt(s2), scale=np.exp(np.log(mean) - s2 / 2.0))
    return stats.gamma(a=(mean / std) ** 2, scale=std**2 / mean)


def inputs(name, seed, n=300):
    """Float64 (y, y_hat, y_risk) over a wide range, tails included.

    Positive families: means over three decades, coefficients of variation from 0.05
    to 3 (gamma shapes from 0.1 to 400).
    """
    gen = np.random.default_rng(seed)
    if name in ("lognormal", "gamma"):
        y_hat = np.exp(gen.uniform(np.log(0.01), np.log(10.0), size=n))
        y_risk = y_hat * np.exp(gen.uniform(np.log(0.05), np.log(3.0), size=n))
        y = y_hat * np.exp(0.7 * gen.normal(size=n))
    else:
        y_hat = gen.normal(0.0, 3.0, size=n)
        y_risk = np.exp(gen.uniform(np.log(0.05), np.log(5.0), size=n))
        y = y_hat + y_risk * gen.standard_t(3, size=n) * 2.0
    return y, y_hat, y_risk


def as_keras(*arrays):
    return [ops.convert_to_tensor(np.asarray(a, dtype=np.float64)) for a in arrays]


def as_torch(*arrays):
    return [torch.tensor(np.asarray(a, dtype=np.float64)) for a in arrays]


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_log_prob_nll_and_loss_equal_scipy_and_torch(name, df):
    kfam, tfam = families(name, df)
    y, y_hat, y_risk = inputs(name, 0)
    ref = reference(name, df, y_hat, y_risk).logpdf(y)
    log_prob = to_numpy(kfam.log_prob(*as_keras(y, y_hat, y_risk)))
    assert log_prob.dtype == np.float64
    np.testing.assert_allclose(log_prob, ref, **TOL)
    np.testing.assert_allclose(log_prob, tfam.log_prob(*as_torch(y, y_hat, y_risk)).numpy(),
                               **TOL)
    np.testing.assert_allclose(to_numpy(kfam.nll(*as_keras(y, y_hat, y_risk))), -ref, **TOL)
    loss = float(to_numpy(kfam.loss_function(*as_keras(y, y_hat, y_risk))))
    assert abs(loss + np.mean(ref)) < 1e-6
    assert abs(loss - float(tfam.loss_function(*as_torch(y, y_hat, y_risk)))) < 1e-6
    # The mean itself in float64 (ops.mean of Keras 3.15's torch backend sums in float32).
    assert abs(loss - float(np.mean(-log_prob))) <= 1e-12 * max(1.0, abs(loss))


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_weighted_loss_equals_torch(name, df):
    kfam, tfam = families(name, df)
    y, y_hat, y_risk = (a.reshape(100, 3) for a in inputs(name, 1))
    w = np.random.default_rng(2).uniform(0.0, 3.0, size=100)
    got = float(to_numpy(kfam.loss_function(*as_keras(y, y_hat, y_risk),
                                            sample_weight=as_keras(w)[0])))
    expected = float(tfam.loss_function(*as_torch(y, y_hat, y_risk),
                                        sample_weight=as_torch(w)[0]))
    by_hand = np.sum(w * (-reference(name, df, y_hat, y_risk).logpdf(y)).mean(1)) / w.sum()
    assert abs(got - expected) < 1e-6
    assert abs(got - by_hand) < 1e-6


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_cdf_equals_scipy_and_torch(name, df):
    kfam, tfam = families(name, df)
    y, y_hat, y_risk = inputs(name, 3)
    cdf = to_numpy(kfam.cdf(*as_keras(y, y_hat, y_risk)))
    np.testing.assert_allclose(cdf, reference(name, df, y_hat, y_risk).cdf(y), **TOL)
    with torch.no_grad():
        np.testing.assert_allclose(cdf, tfam.cdf(*as_torch(y, y_hat, y_risk)).numpy(), **TOL)


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_icdf_equals_scipy_and_torch(name, df):
    kfam, tfam = families(name, df)
    _, y_hat, y_risk = inputs(name, 4)
    ref = reference(name, df, y_hat, y_risk)
    levels = np.random.default_rng(5).uniform(size=y_hat.shape)
    levels[:6] = [1e-6, 1e-3, 0.5, 0.999, 1 - 1e-6, 0.25]
    for q in (levels, 0.05, 0.95):
        got = to_numpy(kfam.icdf(q, *as_keras(y_hat, y_risk)))
        np.testing.assert_allclose(got, ref.ppf(q), **TOL)
        with torch.no_grad():
            np.testing.assert_allclose(got, tfam.icdf(q, *as_torch(y_hat, y_risk)).numpy(),
                                       **TOL)


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5])
def test_icdf_refuses_levels_outside_the_open_unit_interval(name, df, q):
    kfam, _ = families(name, df)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        kfam.icdf(q, *as_keras([1.0], [1.0]))


@pytest.mark.parametrize("name", ["lognormal", "gamma"])
def test_non_positive_targets_have_zero_density(name):
    kfam, _ = families(name, None)
    y, y_hat, y_risk = as_keras([0.0, -1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    log_p = to_numpy(kfam.log_prob(y, y_hat, y_risk))
    assert log_p[0] == -math.inf and log_p[1] == -math.inf and np.isfinite(log_p[2])
    np.testing.assert_array_equal(to_numpy(kfam.cdf(y, y_hat, y_risk))[:2], [0.0, 0.0])


# -- draws ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_sample_has_the_mean_std_and_distribution(name, df):
    kfam, _ = families(name, df)
    n = 100_000
    if name in ("lognormal", "gamma"):
        y_hat, y_risk = [0.5, 2.0, 10.0], [0.2, 2.0, 30.0]  # gamma shapes 6.25, 1, 1/9
    else:
        y_hat, y_risk = [-2.0, 0.0, 5.0], [0.5, 1.0, 3.0]
    draws = to_numpy(kfam.sample(as_keras(y_hat, y_risk), sample_shape=(n,), seed=0))
    assert draws.shape == (n, 3) and draws.dtype == np.float64
    for j in range(3):
        ref = reference(name, df, y_hat[j], y_risk[j])
        col = draws[:, j]
        # Standard error of the mean; of the std through the kurtosis,
        # Var(s) ~ sigma^2 (kurt_excess + 2) / (4 n), where the eighth moment exists.
        assert abs(col.mean() - y_hat[j]) < 5 * y_risk[j] / math.sqrt(n)
        if not (name == "studentt" and df <= 8):
            excess = float(ref.stats(moments="k"))
            se = y_risk[j] * math.sqrt((excess + 2.0) / (4.0 * n))
            assert abs(col.std() - y_risk[j]) < 5 * se
        # Kolmogorov-Smirnov at level 1e-3: D < sqrt(-log(5e-4) / 2) / sqrt(n).
        statistic = stats.kstest(col, ref.cdf).statistic
        assert statistic < math.sqrt(-math.log(5e-4) / 2.0) / math.sqrt(n)


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_sample_is_reparameterised(name, df):
    """d E[x] / d y_hat = 1 and d E[x^2] / d y_risk = 2 y_risk, draw by draw.

    Each draw has its own copy of the parameters, so the gradients come back draw by
    draw and their mean is checked within 5 standard errors. Exact for the location-
    scale families (d x / d y_hat = 1, d x / d y_risk = eps).
    """
    kfam, _ = families(name, df)
    n = 50_000
    mean, std = (2.0, 1.5) if name in ("lognormal", "gamma") else (0.5, 2.0)
    y_hat, y_risk = np.full(n, mean), np.full(n, std)

    def first(m, s):
        return kfam.sample((m, s), seed=1)

    def second(m, s):
        return kfam.sample((m, s), seed=1) ** 2

    d_mean, _ = gradients(first, y_hat, y_risk)
    _, d_std = gradients(second, y_hat, y_risk)
    for values, target in ((d_mean, 1.0), (d_std, 2.0 * std)):
        assert np.all(np.isfinite(values))
        assert abs(values.mean() - target) < 5 * values.std() / math.sqrt(n) + 1e-12
    if kfam.location_scale:
        np.testing.assert_allclose(d_mean, 1.0)


def test_sample_seed_repeats_and_changes():
    y_hat, y_risk = as_keras([0.0, 1.0], [1.0, 2.0])
    a = to_numpy(ksculpt.StudentT.sample((y_hat, y_risk), (5,), seed=3))
    b = to_numpy(ksculpt.StudentT.sample((y_hat, y_risk), (5,), seed=3))
    c = to_numpy(ksculpt.StudentT.sample((y_hat, y_risk), (5,), seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    generator = keras.random.SeedGenerator(0)
    d = to_numpy(ksculpt.Normal.sample((y_hat, y_risk), (5,), seed=generator))
    e = to_numpy(ksculpt.Normal.sample((y_hat, y_risk), (5,), seed=generator))
    assert not np.allclose(d, e)  # a generator advances


def test_student_t_cdf_gradient_is_the_density():
    t3 = ksculpt.StudentT.with_df(3)
    y, y_hat, y_risk = inputs("studentt", 6, n=50)
    d_y, d_hat, d_risk = gradients(lambda a, b, c: t3.cdf(a, b, c), y, y_hat, y_risk)
    pdf = reference("studentt", 3.0, y_hat, y_risk).pdf(y)
    np.testing.assert_allclose(d_y, pdf, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d_hat, -pdf, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d_risk, -pdf * (y - y_hat) / y_risk, rtol=1e-6, atol=1e-9)


def test_loss_gradients_reach_mean_and_risk():
    y, y_hat, y_risk = inputs("normal", 7, n=20)
    d_hat, d_risk = gradients(
        lambda m, s: ksculpt.Normal.nll(as_keras(y)[0], m, s), y_hat, y_risk
    )
    np.testing.assert_allclose(d_hat, -(y - y_hat) / y_risk**2, rtol=1e-9)
    np.testing.assert_allclose(d_risk, 1.0 / y_risk - (y - y_hat) ** 2 / y_risk**3, rtol=1e-9)


# -- clear errors, names ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["log_prob", "cdf", "loss_function"])
def test_mismatched_shapes_are_refused_with_a_reshape_hint(method):
    y = ops.zeros((5,))
    y_hat, y_risk = ops.zeros((5, 1)), ops.ones((5, 1))
    with pytest.raises(ValueError, match="reshape"):
        getattr(ksculpt.Normal, method)(y, y_hat, y_risk)


def test_sample_refuses_a_mismatched_pair():
    with pytest.raises(ValueError, match="same shape"):
        ksculpt.Normal.sample((ops.zeros((5,)), ops.ones((5, 1))))


@pytest.mark.parametrize("seed", [1.5, "0", True])
def test_sample_refuses_a_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        ksculpt.Normal.sample((ops.zeros((2,)), ops.ones((2,))), seed=seed)


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_names_resolve_as_the_torch_registry(name, df):
    kfam, tfam = families(name, df)
    assert kfam.name == tfam.name
    assert ksculpt.get_distribution(name.upper()) is ksculpt.get_distribution(name)
    assert ksculpt.get_distribution(kfam) is kfam


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("cauchy", "Unknown distribution"),
        (tsculpt.Normal, "torch family"),
        (tsculpt.StudentT.with_df(3), "torch family"),
        (ksculpt.SculptDistribution, "abstract"),
        (1.0, "distribution must be"),
    ],
)
def test_get_distribution_refuses(bad, match):
    with pytest.raises(ValueError, match=match):
        ksculpt.get_distribution(bad)


def test_families_are_not_instantiated():
    with pytest.raises(TypeError, match="used as a class"):
        ksculpt.Normal()


@pytest.mark.parametrize("df", [2.0, 1.0, float("inf"), float("nan")])
def test_with_df_refuses_df_without_a_std(df):
    with pytest.raises(ValueError, match="df > 2"):
        ksculpt.StudentT.with_df(df)


def test_with_df_is_cached_and_keeps_its_df():
    assert ksculpt.StudentT.with_df(3) is ksculpt.StudentT.with_df(3.0)
    assert ksculpt.StudentT.with_df(5) is ksculpt.StudentT
    assert ksculpt.StudentT.with_df(7).df == 7.0
    assert "df=7" in repr(ksculpt.StudentT.with_df(7))


def test_gamma_cdf_and_icdf_have_no_gradient():
    y, y_hat, y_risk = inputs("gamma", 8, n=20)
    for fn in (lambda m, s: ksculpt.Gamma.cdf(as_keras(y)[0], m, s),
               lambda m, s: ksculpt.Gamma.icdf(0.3, m, s)):
        for grad in gradients(fn, y_hat, y_risk):
            np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize(("name", "df"), CASES, ids=IDS)
def test_float32_cdf_and_icdf_converge(name, df):
    """The special functions' loops stop at float32 precision (a tolerance below one
    ulp of 1 made the continued fractions run to their iteration cap)."""
    kfam, _ = families(name, df)
    y, y_hat, y_risk = (a.astype(np.float32) for a in inputs(name, 9, n=50))
    ref = reference(name, df, y_hat.astype(np.float64), y_risk.astype(np.float64))
    as32 = [ops.convert_to_tensor(a) for a in (y, y_hat, y_risk)]
    cdf = to_numpy(kfam.cdf(*as32))
    assert cdf.dtype == np.float32
    atol = 1e-5
    if name == "gamma":
        # P(k, x) = exp(-x + k log x - lgamma(k)) * series: float32 rounds each term of
        # the exponent, so the error grows with their size (k up to 400 here).
        y64, m, s = (a.astype(np.float64) for a in (y, y_hat, y_risk))
        k, x = (m / s) ** 2, y64 * m / s**2
        terms = np.abs(x) + np.abs(k * np.log(x)) + np.abs(special.gammaln(k))
        atol = 1e-5 + 8 * np.finfo(np.float32).eps * terms
    assert np.all(np.abs(cdf - ref.cdf(y.astype(np.float64))) <= atol)
    q = np.linspace(0.01, 0.99, 50)
    got = to_numpy(kfam.icdf(q, *as32[1:]))
    np.testing.assert_allclose(got, ref.ppf(q), rtol=2e-4, atol=1e-5)
