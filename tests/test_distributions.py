"""The torch-level output families against independent references.

Every reference below is built by hand from ``scipy.stats`` with the
parameterisation derived from "risk is the standard deviation" (Laplace
scale ``std / sqrt(2)``, Student-t scale ``std * sqrt((df - 2) / df)``), from
``properscoring`` or from numerical integration, never from the family's own
``scipy_distribution``.
"""

import math
import pickle

import numpy as np
import properscoring
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from sculpt_sklearn import sculpt
from sculpt_sklearn.sculpt import Laplace, Normal, StudentT, get_distribution

FAMILIES = [Normal, Laplace, StudentT, StudentT.with_df(3)]
FAMILY_IDS = ["normal", "laplace", "studentt5", "studentt3"]


def reference(family, mean, std):
    """The frozen scipy distribution with the given mean and std, derived by hand."""
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    if family is Normal:
        return stats.norm(loc=mean, scale=std)
    if family is Laplace:
        return stats.laplace(loc=mean, scale=std / np.sqrt(2.0))
    assert issubclass(family, StudentT)
    df = family.df
    return stats.t(df=df, loc=mean, scale=std * np.sqrt((df - 2.0) / df))


def random_inputs(seed, shape=(300,)):
    """Float64 tensors (y, y_hat, y_risk) with risks over three decades."""
    gen = np.random.default_rng(seed)
    y_hat = gen.normal(0.0, 3.0, size=shape)
    y_risk = np.exp(gen.uniform(np.log(0.01), np.log(10.0), size=shape))
    y = y_hat + y_risk * gen.standard_t(4, size=shape)
    return tuple(torch.tensor(a, dtype=torch.float64) for a in (y, y_hat, y_risk))


# -- likelihood, cdf, quantiles ----------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("shape", [(300,), (100, 3)])
def test_loss_function_is_mean_nll_with_constants(family, shape):
    y, y_hat, y_risk = random_inputs(1, shape)
    expected = -np.mean(reference(family, y_hat.numpy(), y_risk.numpy()).logpdf(y.numpy()))
    loss = family.loss_function(y, y_hat, y_risk)
    assert loss.ndim == 0
    assert abs(float(loss) - expected) < 1e-5
    np.testing.assert_allclose(
        family.nll(y, y_hat, y_risk).numpy(),
        -reference(family, y_hat.numpy(), y_risk.numpy()).logpdf(y.numpy()),
        rtol=1e-10,
        atol=1e-10,
    )


def test_normal_loss_matches_torch_gaussian_nll_loss_with_full_constant():
    y, y_hat, y_risk = random_inputs(2)
    torch_loss = torch.nn.functional.gaussian_nll_loss(y_hat, y, y_risk**2, full=True)
    assert torch.allclose(Normal.loss_function(y, y_hat, y_risk), torch_loss, atol=1e-10)


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_log_prob_and_cdf_match_scipy(family):
    y, y_hat, y_risk = random_inputs(3)
    ref = reference(family, y_hat.numpy(), y_risk.numpy())
    np.testing.assert_allclose(
        family.log_prob(y, y_hat, y_risk).numpy(), ref.logpdf(y.numpy()), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        family.cdf(y, y_hat, y_risk).numpy(), ref.cdf(y.numpy()), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_icdf_inverts_cdf_and_matches_scipy_ppf(family):
    gen = np.random.default_rng(4)
    y_hat = torch.tensor(gen.normal(size=200))
    y_risk = torch.tensor(gen.uniform(0.1, 3.0, size=200))
    y = y_hat + y_risk * torch.tensor(gen.uniform(-3.0, 3.0, size=200))
    q = family.cdf(y, y_hat, y_risk)
    assert torch.allclose(family.icdf(q, y_hat, y_risk), y, rtol=1e-7, atol=1e-7)

    levels = torch.tensor([0.01, 0.1, 0.5, 0.9, 0.99], dtype=torch.float64)
    m = torch.full((5,), 1.5, dtype=torch.float64)
    s = torch.full((5,), 0.4, dtype=torch.float64)
    np.testing.assert_allclose(
        family.icdf(levels, m, s).numpy(),
        reference(family, 1.5, 0.4).ppf(levels.numpy()),
        rtol=1e-8,
    )
    # A float level broadcasts against the parameters.
    median = family.icdf(0.5, m, s)
    assert median.shape == m.shape
    assert torch.allclose(median, m)


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize(
    "q", [0.0, 1.0, -0.1, 1.5, float("nan"), torch.tensor([0.2, 1.0]), torch.tensor([0.0, 0.5])]
)
def test_icdf_rejects_levels_outside_open_unit_interval(family, q):
    m = torch.zeros(2, dtype=torch.float64)
    s = torch.ones(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="between 0 and 1"):
        family.icdf(q, m, s)


# -- moments: sampling, torch and scipy views --------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_sample_mean_and_std_match_parameters(family):
    torch.manual_seed(0)
    n = 200_000
    y_hat = torch.tensor([-2.0, 0.0, 5.0], dtype=torch.float64)
    y_risk = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
    draws = family.sample((y_hat, y_risk), sample_shape=(n,))
    assert draws.shape == (n, 3)
    assert draws.dtype == torch.float64
    mean = draws.mean(0)
    std = draws.std(0)
    # Standard error of the mean, and of the std via the kurtosis
    # (Var(s) ~ sigma^2 (kurt_excess + 2) / (4 n)).
    assert torch.all(torch.abs(mean - y_hat) < 5 * y_risk / math.sqrt(n))
    if family.__name__.startswith("StudentT(") and family.df <= 4:
        # df=3 has no fourth moment: the sample std converges slowly, so the
        # bound is a loose relative one.
        assert torch.all(torch.abs(std / y_risk - 1) < 0.1)
    else:
        excess = float(reference(family, 0.0, 1.0).stats(moments="k"))
        se = y_risk * math.sqrt((excess + 2.0) / (4.0 * n))
        assert torch.all(torch.abs(std - y_risk) < 5 * se)


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_sample_is_reparameterised_in_both_arguments(family):
    torch.manual_seed(1)
    y_hat = torch.tensor([0.3, -1.0, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    y_risk = torch.tensor([1.0, 0.5, 2.0, 0.1], dtype=torch.float64, requires_grad=True)
    draws = family.sample((y_hat, y_risk))
    assert draws.shape == y_hat.shape
    assert draws.requires_grad
    draws.sum().backward()
    # d(y_hat + y_risk * eps) / d y_hat = 1, / d y_risk = eps.
    assert torch.allclose(y_hat.grad, torch.ones(4, dtype=torch.float64))
    eps = (draws.detach() - y_hat.detach()) / y_risk.detach()
    assert torch.allclose(y_risk.grad, eps)
    assert torch.all(y_risk.grad != 0)
    assert family.rsample is not None


def test_sample_rejects_mismatched_pair():
    with pytest.raises(ValueError, match="same shape"):
        Normal.sample((torch.zeros(5), torch.ones(5, 1)))


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_scipy_and_torch_views_have_mean_y_hat_and_std_risk(family):
    m = np.array([-1.0, 0.0, 2.5])
    s = np.array([0.2, 1.0, 4.0])
    frozen = family.scipy_distribution(m, s)
    np.testing.assert_allclose(frozen.mean(), m, atol=1e-12)
    np.testing.assert_allclose(frozen.std(), s, rtol=1e-12)
    y = np.array([-0.5, 0.3, 1.0])
    np.testing.assert_allclose(frozen.logpdf(y), reference(family, m, s).logpdf(y), rtol=1e-12)

    mt = torch.tensor(m)
    st_ = torch.tensor(s)
    dist = family.torch_distribution(mt, st_)
    assert isinstance(dist, torch.distributions.Distribution)
    assert torch.allclose(dist.stddev, st_, rtol=1e-12)
    assert torch.allclose(dist.mean, mt, atol=1e-12)
    yt = torch.tensor(y)
    assert torch.allclose(dist.log_prob(yt), family.log_prob(yt, mt, st_), atol=1e-10)


# -- CRPS ---------------------------------------------------------------------


def test_normal_crps_matches_properscoring():
    y, y_hat, y_risk = random_inputs(5)
    expected = properscoring.crps_gaussian(y.numpy(), mu=y_hat.numpy(), sig=y_risk.numpy())
    np.testing.assert_allclose(Normal.crps(y, y_hat, y_risk).numpy(), expected, rtol=1e-9)


def crps_by_quadrature(frozen, y):
    """Integral of (F(x) - 1{x >= y})^2 over the real line."""
    below, _ = integrate.quad(lambda x: frozen.cdf(x) ** 2, -np.inf, y, epsabs=1e-11)
    above, _ = integrate.quad(lambda x: frozen.sf(x) ** 2, y, np.inf, epsabs=1e-11)
    return below + above


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_crps_matches_numerical_integration(family):
    gen = np.random.default_rng(6)
    y_hat = gen.normal(size=8)
    y_risk = gen.uniform(0.2, 3.0, size=8)
    y = y_hat + y_risk * np.array([-4.0, -1.5, -0.3, 0.0, 0.2, 1.0, 2.5, 6.0])
    expected = [
        crps_by_quadrature(reference(family, m, s), yi)
        for m, s, yi in zip(y_hat, y_risk, y, strict=True)
    ]
    got = family.crps(torch.tensor(y), torch.tensor(y_hat), torch.tensor(y_risk))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-9)


def test_crps_scales_with_the_units_of_y():
    y, y_hat, y_risk = random_inputs(7)
    for family in FAMILIES:
        base = family.crps(y, y_hat, y_risk)
        scaled = family.crps(10 * y, 10 * y_hat, 10 * y_risk)
        assert torch.allclose(scaled, 10 * base, rtol=1e-9)


# -- shape checks and weights -------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
@pytest.mark.parametrize("method", ["loss_function", "log_prob", "cdf", "crps"])
def test_mismatched_shapes_are_refused_with_reshape_hint(family, method):
    y = torch.zeros(6)
    y_hat = torch.zeros(6, 1)
    y_risk = torch.ones(6, 1)
    with pytest.raises(ValueError, match="reshape"):
        getattr(family, method)(y, y_hat, y_risk)
    # The hinted fix works.
    assert torch.isfinite(getattr(family, method)(y.reshape(-1, 1), y_hat, y_risk)).all()


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_sample_weight_gives_weighted_mean(family):
    y, y_hat, y_risk = random_inputs(8, (50,))
    nll = -reference(family, y_hat.numpy(), y_risk.numpy()).logpdf(y.numpy())
    w = np.random.default_rng(8).uniform(0.0, 3.0, size=50)
    w = w / w.mean()  # weights of mean one, as the estimator passes them
    loss = family.loss_function(y, y_hat, y_risk, sample_weight=torch.tensor(w))
    assert abs(float(loss) - np.average(nll, weights=w)) < 1e-10
    assert abs(float(loss) - np.sum(w * nll) / 50) < 1e-10
    # Unit weights are no weights; a zero weight removes a row's influence.
    ones = torch.ones(50, dtype=torch.float64)
    assert torch.allclose(
        family.loss_function(y, y_hat, y_risk, sample_weight=ones),
        family.loss_function(y, y_hat, y_risk),
    )
    w0 = torch.tensor(w).clone()
    w0[0] = 0.0
    y2 = y.clone()
    y2[0] = y2[0] + 100.0
    assert torch.allclose(
        family.loss_function(y, y_hat, y_risk, sample_weight=w0),
        family.loss_function(y2, y_hat, y_risk, sample_weight=w0),
    )


def test_sample_weight_weights_rows_of_multi_output_targets():
    y, y_hat, y_risk = random_inputs(9, (40, 3))
    nll = -reference(Normal, y_hat.numpy(), y_risk.numpy()).logpdf(y.numpy())
    w = np.linspace(0.5, 1.5, 40)  # mean one
    loss = Normal.loss_function(y, y_hat, y_risk, sample_weight=torch.tensor(w))
    assert abs(float(loss) - np.average(nll, weights=np.repeat(w[:, None], 3, 1))) < 1e-10


def test_loss_gradients_reach_mean_and_risk():
    y, y_hat, y_risk = random_inputs(10)
    y_hat.requires_grad_(True)
    y_risk.requires_grad_(True)
    for family in FAMILIES:
        y_hat.grad = None
        y_risk.grad = None
        family.loss_function(y, y_hat, y_risk).backward()
        assert torch.isfinite(y_hat.grad).all() and y_hat.grad.abs().sum() > 0
        assert torch.isfinite(y_risk.grad).all() and y_risk.grad.abs().sum() > 0


def test_student_t_cdf_gradient_is_the_density():
    y, y_hat, y_risk = random_inputs(11, (20,))
    y.requires_grad_(True)
    family = StudentT.with_df(3)
    family.cdf(y, y_hat, y_risk).sum().backward()
    expected = np.exp(reference(family, y_hat.numpy(), y_risk.numpy()).logpdf(y.detach().numpy()))
    np.testing.assert_allclose(y.grad.numpy(), expected, rtol=1e-9)


# -- resolving and making families -------------------------------------------


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("normal", Normal),
        ("Normal", Normal),
        (" gaussian ", Normal),
        ("laplace", Laplace),
        ("LAPLACE", Laplace),
        ("studentt", StudentT),
        ("student-t", StudentT),
        ("student_t", StudentT),
        ("t", StudentT),
    ],
)
def test_get_distribution_accepts_names(name, family):
    assert get_distribution(name) is family


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_get_distribution_accepts_classes(family):
    assert get_distribution(family) is family


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("cauchy", "Unknown distribution"),
        ("", "Unknown distribution"),
        (torch.distributions.Normal, "torch.distributions"),
        (torch.distributions.Laplace, "torch.distributions"),
        (sculpt.SculptDistribution, "abstract"),
        (None, "sculpt distribution class"),
        (3, "sculpt distribution class"),
        (int, "sculpt distribution class"),
        (torch.distributions.Normal(0.0, 1.0), "sculpt distribution class"),
    ],
)
def test_get_distribution_refuses_unknown(bad, match):
    with pytest.raises(ValueError, match=match):
        get_distribution(bad)


def test_families_are_not_instantiated():
    with pytest.raises(TypeError, match="class"):
        Normal()


@pytest.mark.parametrize("df", [2, 1.5, 0, -3, float("inf"), float("nan")])
def test_with_df_refuses_df_without_a_std(df):
    with pytest.raises(ValueError, match="df > 2"):
        StudentT.with_df(df)


def test_with_df_is_cached_and_keeps_its_df():
    t3 = StudentT.with_df(3)
    assert t3 is StudentT.with_df(3.0)
    assert t3.df == 3.0
    assert issubclass(t3, StudentT)
    assert StudentT.with_df(5) is StudentT
    assert StudentT.with_df(10).df == 10.0
    assert "3" in repr(t3)


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_IDS)
def test_families_pickle_to_themselves(family):
    restored = pickle.loads(pickle.dumps(family))
    assert restored is family
    assert restored.df == family.df if issubclass(family, StudentT) else True
    # Inside a container, as in a pickled estimator.
    box = pickle.loads(pickle.dumps({"distribution": family, "n": 3}))
    assert box["distribution"] is family


# -- properties over generated inputs ------------------------------------------

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(
    family_index=st.integers(0, len(FAMILIES) - 1),
    ys=st.lists(finite, min_size=2, max_size=20),
    y_hat=finite,
    y_risk=positive,
)
def test_properties_cdf_monotone_crps_nonnegative_nll_finite(family_index, ys, y_hat, y_risk):
    family = FAMILIES[family_index]
    y = torch.tensor(sorted(ys), dtype=torch.float64)
    m = torch.full_like(y, y_hat)
    s = torch.full_like(y, y_risk)
    cdf = family.cdf(y, m, s)
    assert torch.all((cdf >= 0) & (cdf <= 1))
    assert torch.all(cdf[1:] >= cdf[:-1])
    # Strictly inside (0, 1) within a few standard deviations.
    near = torch.abs(y - m) <= 5 * s
    assert torch.all((cdf[near] > 0) & (cdf[near] < 1))
    assert torch.all(family.crps(y, m, s) >= 0)
    assert torch.isfinite(family.nll(y, m, s)).all()
    assert torch.isfinite(family.loss_function(y, m, s))
