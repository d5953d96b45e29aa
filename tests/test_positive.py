"""Positive targets: the LogNormal and Gamma families and the estimator on them (issue 13).

References are built by hand from ``scipy.stats`` with the parameterisation
derived from "y_hat is the mean, y_risk the standard deviation", or by
numerical integration / ``properscoring``, never from the family's own
``scipy_distribution``.
"""

import copy
import math
import pickle

import numpy as np
import pandas as pd
import properscoring
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from torch import nn

from sculpt_sklearn import MLP, SculptRegressor, metrics, sculpt
from sculpt_sklearn._build import target_standardisation
from sculpt_sklearn._predictive import check_positive_target
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.sculpt import Gamma, LogNormal, get_distribution

FAMILIES = [LogNormal, Gamma]
IDS = ["lognormal", "gamma"]


def reference(family, mean, std):
    """The scipy distribution with this mean and std, derived by hand."""
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if family is LogNormal:
        s2 = np.log(1.0 + (std / mean) ** 2)
        return stats.lognorm(s=np.sqrt(s2), scale=np.exp(np.log(mean) - s2 / 2.0))
    return stats.gamma(a=(mean / std) ** 2, scale=std**2 / mean)


def inputs(seed, shape=(200,)):
    """Float64 (y, y_hat, y_risk): means over three decades, CV from 0.05 to 3."""
    gen = np.random.default_rng(seed)
    y_hat = np.exp(gen.uniform(np.log(0.01), np.log(10.0), size=shape))
    y_risk = y_hat * np.exp(gen.uniform(np.log(0.05), np.log(3.0), size=shape))
    y = y_hat * np.exp(0.5 * gen.normal(size=shape))
    return tuple(torch.tensor(a, dtype=torch.float64) for a in (y, y_hat, y_risk))


def lognormal_data(n, seed):
    """Positive heteroscedastic toy: multiplicative log-normal noise, CV from 0.1 to 0.6."""
    gen = np.random.default_rng(seed)
    X = gen.uniform(-2, 2, size=(n, 3))
    mean = np.exp(1.0 + 0.8 * X[:, 0] - 0.5 * X[:, 1] ** 2)
    cv = 0.1 + 0.5 * (X[:, 2] + 2) / 4
    s2 = np.log1p(cv**2)
    y = mean * np.exp(np.sqrt(s2) * gen.normal(size=n) - s2 / 2)
    return X.astype(np.float32), y


FIT = dict(module=MLP, max_epochs=40, random_state=0)


# -- the torch-level families ------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_log_prob_and_nll_match_scipy(family):
    y, y_hat, y_risk = inputs(0)
    ref = reference(family, y_hat.numpy(), y_risk.numpy())
    np.testing.assert_allclose(family.log_prob(y, y_hat, y_risk).numpy(), ref.logpdf(y.numpy()),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(family.nll(y, y_hat, y_risk).numpy(), -ref.logpdf(y.numpy()),
                               rtol=1e-6, atol=1e-6)
    loss = family.loss_function(y, y_hat, y_risk)
    assert abs(float(loss) + np.mean(ref.logpdf(y.numpy()))) < 1e-6


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_cdf_and_icdf_match_scipy(family):
    y, y_hat, y_risk = inputs(1)
    ref = reference(family, y_hat.numpy(), y_risk.numpy())
    np.testing.assert_allclose(family.cdf(y, y_hat, y_risk).numpy(), ref.cdf(y.numpy()),
                               atol=1e-8)
    for q in (0.01, 0.3, 0.5, 0.95):
        np.testing.assert_allclose(family.icdf(q, y_hat, y_risk).numpy(), ref.ppf(q), rtol=1e-7)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_non_positive_targets_have_zero_density(family):
    y_hat, y_risk = torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = torch.tensor([0.0, -1.0, 1.0], dtype=torch.float64)
    log_p = family.log_prob(y, y_hat, y_risk)
    assert log_p[0] == -math.inf and log_p[1] == -math.inf and torch.isfinite(log_p[2])
    np.testing.assert_array_equal(family.cdf(y, y_hat, y_risk)[:2].numpy(), [0.0, 0.0])


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_scipy_and_torch_distributions_have_the_mean_and_std(family):
    _, y_hat, y_risk = inputs(2)
    dist = family.scipy_distribution(y_hat.numpy(), y_risk.numpy())
    assert isinstance(dist.dist, type(reference(family, 1.0, 1.0).dist))
    np.testing.assert_allclose(dist.mean(), y_hat.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dist.std(), y_risk.numpy(), rtol=1e-10)
    tdist = family.torch_distribution(y_hat, y_risk)
    np.testing.assert_allclose(tdist.mean.numpy(), y_hat.numpy(), rtol=1e-10)
    np.testing.assert_allclose(tdist.stddev.numpy(), y_risk.numpy(), rtol=1e-10)


def _crps_by_integration(dist, y):
    """integral (F(t) - 1{t >= y})^2 dt over t > 0, by quadrature."""
    below = integrate.quad(lambda t: dist.cdf(t) ** 2, 0.0, y, limit=200)[0]
    above = integrate.quad(lambda t: (1.0 - dist.cdf(t)) ** 2, y, np.inf, limit=200)[0]
    return below + above


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_crps_matches_numerical_integration_and_properscoring(family):
    y, y_hat, y_risk = (t[:12] for t in inputs(3))
    with torch.no_grad():
        values = family.crps(y, y_hat, y_risk).numpy()
    for i in range(12):
        dist = reference(family, float(y_hat[i]), float(y_risk[i]))
        expected = _crps_by_integration(dist, float(y[i]))
        assert values[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    for i in range(3):
        dist = reference(family, float(y_hat[i]), float(y_risk[i]))
        expected = properscoring.crps_quadrature(float(y[i]), dist)
        assert values[i] == pytest.approx(float(expected), rel=1e-4)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_crps_of_a_non_positive_target(family):
    # CRPS(F, y) = E|X - y| - E|X - X'| / 2 = mean - y - E|X - X'| / 2 for y <= 0.
    y_hat, y_risk = torch.tensor([2.0], dtype=torch.float64), torch.tensor([1.5], dtype=torch.float64)
    dist = reference(family, 2.0, 1.5)
    with torch.no_grad():
        at_zero = float(family.crps(torch.zeros(1, dtype=torch.float64), y_hat, y_risk)[0])
        below = float(family.crps(-torch.ones(1, dtype=torch.float64), y_hat, y_risk)[0])
    assert at_zero == pytest.approx(_crps_by_integration(dist, 0.0), rel=1e-6)
    assert below == pytest.approx(at_zero + 1.0, rel=1e-9)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_sample_mean_and_std(family):
    y_hat = torch.tensor([0.5, 3.0, 20.0], dtype=torch.float64)
    y_risk = torch.tensor([0.2, 3.0, 5.0], dtype=torch.float64)
    torch.manual_seed(0)
    draws = family.sample((y_hat, y_risk), (100_000,))
    assert draws.shape == (100_000, 3) and bool((draws > 0).all())
    np.testing.assert_allclose(draws.mean(0).numpy(), y_hat.numpy(), rtol=0.02)
    np.testing.assert_allclose(draws.std(0).numpy(), y_risk.numpy(), rtol=0.05)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_gradients_reach_the_mean_and_the_risk(family):
    _, y_hat, y_risk = (t[:5] for t in inputs(4))
    y = y_hat * 1.3
    y_hat.requires_grad_(True)
    y_risk.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m, s: family.nll(y, m, s), (y_hat, y_risk))


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_reparameterised_draws_carry_the_gradient_of_the_moments(family):
    # E[x] = m and E[(x - m)^2] = s^2, so over many draws d mean(x)/dm ~ 1,
    # d mean(x)/ds ~ 0 and d mean((x - m)^2)/ds ~ 2 s.
    m = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    s = torch.tensor([0.8], dtype=torch.float64, requires_grad=True)
    torch.manual_seed(0)
    draws = family.sample((m, s), (50_000,))
    grad_m, grad_s = torch.autograd.grad(draws.mean(), (m, s), retain_graph=True)
    assert float(grad_m) == pytest.approx(1.0, abs=0.02)
    assert float(grad_s) == pytest.approx(0.0, abs=0.03)
    (grad_s,) = torch.autograd.grad(((draws - m.detach()) ** 2).mean(), (s,))
    assert float(grad_s) == pytest.approx(2 * 0.8, rel=0.05)


def test_lognormal_draws_pass_gradcheck():
    _, y_hat, y_risk = (t[:5] for t in inputs(4))
    y_hat.requires_grad_(True)
    y_risk.requires_grad_(True)

    def draw(m, s):  # one seed: the draw is then a smooth function of (m, s)
        torch.manual_seed(0)
        return LogNormal.sample((m, s))

    assert torch.autograd.gradcheck(draw, (y_hat, y_risk))


def test_lognormal_crps_and_icdf_have_gradients():
    _, y_hat, y_risk = (t[:5] for t in inputs(5))
    y = y_hat * 0.7
    y_hat.requires_grad_(True)
    y_risk.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m, s: LogNormal.crps(y, m, s), (y_hat, y_risk))
    assert torch.autograd.gradcheck(lambda m, s: LogNormal.icdf(0.8, m, s), (y_hat, y_risk))


def test_gamma_crps_refuses_a_gradient_it_cannot_give():
    y, y_hat, y_risk = (t[:5] for t in inputs(6))
    y_hat.requires_grad_(True)
    with pytest.raises(NotImplementedError, match="no gradient.*loss='nll'"):
        Gamma.crps(y, y_hat, y_risk)
    with torch.no_grad():
        assert torch.isfinite(Gamma.crps(y, y_hat, y_risk)).all()


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_icdf_checks_the_levels(family):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        family.icdf(1.0, torch.ones(2), torch.ones(2))


@pytest.mark.parametrize(("name", "family"), [
    ("lognormal", LogNormal), ("LogNormal", LogNormal), ("log_normal", LogNormal),
    ("Log-Normal", LogNormal), ("gamma", Gamma), ("GAMMA", Gamma),
])
def test_get_distribution_accepts_the_names(name, family):
    assert get_distribution(name) is family
    assert sculpt.DISTRIBUTIONS[family.name] is family


def test_unknown_name_lists_the_positive_families():
    with pytest.raises(ValueError, match="'lognormal', 'gamma'"):
        get_distribution("weibull")


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_families_pickle_and_are_exported(family):
    assert pickle.loads(pickle.dumps(family)) is family
    assert getattr(sculpt, family.__name__) is family and family.__name__ in sculpt.__all__
    assert repr(family) == f"sculpt.{family.__name__}"
    with pytest.raises(TypeError, match="used as a class"):
        family()


@settings(max_examples=40, deadline=None)
@given(
    q=st.floats(0.001, 0.999),
    mean=st.floats(1e-3, 1e3),
    cv=st.floats(0.05, 5.0),
    c=st.floats(1e-3, 1e3),
)
def test_quantile_round_trip_and_scale_equivariance(q, mean, cv, c):
    m = torch.tensor([mean], dtype=torch.float64)
    s = m * cv
    for family in FAMILIES:
        y = family.icdf(q, m, s)
        with torch.no_grad():
            assert float(family.cdf(y, m, s)) == pytest.approx(q, abs=1e-7)
        # Scaling y by c scales the mean, the std and every quantile by c.
        assert float(family.icdf(q, c * m, c * s)) == pytest.approx(c * float(y), rel=1e-7)


# -- the wrapper's mean link ------------------------------------------------


def test_wrapper_applies_the_mean_link_and_keeps_identity_for_normal():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    x = torch.randn(64, 4) * 5
    raw = model(x)
    normal = sculpt.Wrapper(sculpt.Normal)(model)
    torch.testing.assert_close(normal(x), raw)
    for family in FAMILIES:
        wrapped = sculpt.Wrapper(family)(model)
        link = nn.functional.softplus(raw) + 1e-8
        torch.testing.assert_close(wrapped(x), link)
        mean, risk = wrapped(x, return_risk=True)
        torch.testing.assert_close(mean, link)
        assert bool((mean > 0).all() and (risk > 0).all())


def test_ensemble_links_each_member_before_averaging():
    from tabm import LinearEnsemble

    class Ensemble(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 8)
            self.out = LinearEnsemble(8, 1, k=4)

        def forward(self, x):
            return self.out(torch.relu(self.body(x)).unsqueeze(1).expand(-1, 4, -1))

    torch.manual_seed(0)
    model = Ensemble()
    x = torch.randn(10, 3)
    raw = model(x)
    wrapped = sculpt.Wrapper(LogNormal, n_layers=1)(model)
    mu_k, _ = wrapped(x, return_members=True)
    link = nn.functional.softplus(raw) + 1e-8
    torch.testing.assert_close(mu_k, link)
    torch.testing.assert_close(wrapped(x), link.mean(dim=1))
    mean, _ = wrapped(x, return_risk=True)
    torch.testing.assert_close(mean, link.mean(dim=1))


# -- the estimator -----------------------------------------------------------


@pytest.mark.parametrize("distribution", ["lognormal", "gamma"])
def test_non_positive_y_is_refused_with_the_family_and_the_count(distribution):
    X, y = lognormal_data(50, 0)
    y[[3, 7]] = [0.0, -2.5]
    with pytest.raises(ValueError, match=rf"{distribution}.*2 of 50 values of y are <= 0 \(smallest -2\.5\)"):
        SculptRegressor(distribution=distribution, **FIT).fit(X, y)
    # The helper is reusable for validation targets.
    with pytest.raises(ValueError, match="values of y_val are <= 0"):
        check_positive_target(y, get_distribution(distribution), "y_val")
    check_positive_target(y, sculpt.Normal, "y_val")  # the real-line families take any y


def test_target_standardisation_scales_by_the_geometric_mean_without_shift():
    y = np.array([[1.0, 10.0], [4.0, 1000.0]])
    loc, scale = target_standardisation(y, None, None, None, LogNormal)
    np.testing.assert_array_equal(loc, [0.0, 0.0])
    np.testing.assert_allclose(scale, [2.0, 100.0])
    loc, scale = target_standardisation(y, np.array([3.0, 1.0]), None, None, Gamma)
    np.testing.assert_allclose(scale, np.exp(np.average(np.log(y), axis=0, weights=[3, 1])))
    loc, scale = target_standardisation(y, None, 0.0, 5.0, LogNormal)
    np.testing.assert_array_equal(scale, [5.0, 5.0])
    with pytest.raises(ValueError, match="positive targets.*target_loc=0"):
        target_standardisation(y, None, 1.0, 5.0, LogNormal)


def test_gamma_refuses_crps_loss():
    X, y = lognormal_data(60, 0)
    with pytest.raises(ValueError, match="loss='crps' needs the gradient"):
        SculptRegressor(distribution="gamma", loss="crps", **FIT).fit(X, y)


@pytest.fixture(scope="module")
def positive_fits():
    X, y = lognormal_data(1500, 0)
    Xt, yt = lognormal_data(2000, 1)
    fits = {d: SculptRegressor(distribution=d, **FIT).fit(X, y) for d in ("lognormal", "gamma")}
    return fits, X, y, Xt, yt


@pytest.mark.parametrize("distribution", ["lognormal", "gamma"])
def test_fit_on_positive_data_gives_positive_intervals_that_cover(positive_fits, distribution):
    fits, _, _, Xt, yt = positive_fits
    reg = fits[distribution]
    assert reg.y_loc_[0] == 0.0
    lower, upper = reg.predict_interval(Xt, confidence_level=0.9)
    assert bool((lower > 0).all())
    assert 0.86 <= np.mean((yt >= lower) & (yt <= upper)) <= 0.94
    mean, std = reg.predict(Xt, return_std=True)
    assert bool((mean > 0).all())
    assert metrics.coverage(yt, mean, std, distribution=distribution) == pytest.approx(
        np.mean((yt >= lower) & (yt <= upper)))
    # The mean and the risk follow the data: corr with the true mean; larger CV, larger risk.
    true_mean = np.exp(1.0 + 0.8 * Xt[:, 0] - 0.5 * Xt[:, 1] ** 2)
    assert np.corrcoef(np.log(mean), np.log(true_mean))[0, 1] > 0.95
    assert np.corrcoef(std / mean, Xt[:, 2])[0, 1] > 0.7


@pytest.mark.parametrize("distribution", ["lognormal", "gamma"])
def test_predict_dist_quantiles_and_sample_follow_the_family(positive_fits, distribution):
    fits, _, _, Xt, _ = positive_fits
    reg = fits[distribution]
    X = Xt[:50]
    mean, std = reg.predict(X, return_std=True)
    dist = reg.predict_dist(X)
    ref = reference(get_distribution(distribution), mean, std)
    assert dist.dist.name == ref.dist.name
    np.testing.assert_allclose(dist.mean(), mean, rtol=1e-9)
    np.testing.assert_allclose(dist.std(), std, rtol=1e-9)
    q = reg.predict_quantiles(X, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(q, ref.ppf(np.array([0.05, 0.5, 0.95])[:, None]).T, rtol=1e-9)
    draws = reg.sample(X, n_samples=4000, random_state=0)
    assert bool((draws > 0).all())
    np.testing.assert_allclose(draws.mean(axis=1), mean, rtol=0.1)


def test_save_and_load_round_trip(positive_fits, tmp_path):
    fits, _, _, Xt, _ = positive_fits
    reg = fits["lognormal"]
    path = tmp_path / "pos.pt"
    reg.save_params(path)
    loaded = SculptRegressor(distribution="lognormal", **FIT).load_params(path)
    np.testing.assert_allclose(loaded.predict(Xt[:20], return_std=True),
                               reg.predict(Xt[:20], return_std=True), rtol=1e-12)
    with pytest.raises(ValueError, match="distribution lognormal"):
        SculptRegressor(distribution="gamma", **FIT).load_params(path)
    assert pickle.loads(pickle.dumps(reg)).predict(Xt[:5]) == pytest.approx(reg.predict(Xt[:5]))


def test_scale_invariance_of_the_estimator():
    # The target is only scaled: y * c gives means and stds * c (same seed, same weights).
    X, y = lognormal_data(300, 2)
    fit = dict(FIT, max_epochs=5)
    a = SculptRegressor(distribution="lognormal", **fit).fit(X, y)
    b = SculptRegressor(distribution="lognormal", **fit).fit(X, 1000.0 * y)
    for pa, pb in zip(a.predict(X[:20], return_std=True), b.predict(X[:20], return_std=True),
                      strict=True):
        np.testing.assert_allclose(1000.0 * pa, pb, rtol=1e-4)


@pytest.mark.parametrize("method", ["scale", "isotonic"])
def test_recalibrated_regressor_with_a_positive_family(positive_fits, method):
    fits, _, _, Xt, yt = positive_fits
    # A base model whose standard deviation is twice too large: over-covering.
    base = copy.deepcopy(fits["gamma"])
    base.risk_scale_ = base.risk_scale_ * 2.0
    lower, upper = base.predict_interval(Xt[1000:], confidence_level=0.9)
    assert np.mean((yt[1000:] >= lower) & (yt[1000:] <= upper)) > 0.98
    cal = RecalibratedRegressor(base, method=method, cv="prefit").fit(Xt[:1000], yt[:1000])
    lower, upper = cal.predict_interval(Xt[1000:], confidence_level=0.9)
    assert bool((lower > 0).all() and (lower < upper).all())
    assert 0.86 <= np.mean((yt[1000:] >= lower) & (yt[1000:] <= upper)) <= 0.94
    mean, std = cal.predict(Xt[1000:1010], return_std=True)
    base_mean, base_std = base.predict(Xt[1000:1010], return_std=True)
    np.testing.assert_allclose(mean, base_mean)
    if method == "scale":
        # The quantiles are those of the family with the scaled std, per row.
        ref = reference(Gamma, base_mean, base_std * cal.scale_[0])
        np.testing.assert_allclose(cal.predict_quantiles(Xt[1000:1010], [0.1])[:, 0],
                                   ref.ppf(0.1), rtol=1e-9)
        np.testing.assert_allclose(std, base_std * cal.scale_[0])
        assert 0.35 < cal.scale_[0] < 0.7
    else:
        assert cal.std_factor_ is None
        # The isotonic std is the rms about the mean of the recalibrated quantiles.
        q = cal.predict_quantiles(Xt[1000:1010], (np.arange(4000) + 0.5) / 4000)
        np.testing.assert_allclose(std, np.sqrt(np.mean((q - mean[:, None]) ** 2, axis=1)),
                                   rtol=0.02)


def test_recalibration_refuses_non_positive_targets(positive_fits):
    fits, _, _, Xt, yt = positive_fits
    y_bad = yt[:100].copy()
    y_bad[0] = 0.0
    with pytest.raises(ValueError, match="positive targets"):
        RecalibratedRegressor(fits["lognormal"], cv="prefit").fit(Xt[:100], y_bad)


def test_metrics_take_a_positive_family_and_refuse_non_positive_means():
    gen = np.random.default_rng(0)
    mean = np.exp(gen.normal(size=300))
    std = mean * 0.5
    y = reference(LogNormal, mean, std).rvs(random_state=gen)
    ref = reference(LogNormal, mean, std)
    assert metrics.nll(y, mean, std, distribution="lognormal") == pytest.approx(
        -np.mean(ref.logpdf(y)))
    lo, hi = ref.ppf(0.05), ref.ppf(0.95)
    assert metrics.coverage(y, mean, std, distribution="lognormal") == pytest.approx(
        np.mean((y >= lo) & (y <= hi)))
    assert metrics.interval_width(y, mean, std, distribution="lognormal") == pytest.approx(
        np.mean(hi - lo))
    expected, observed = metrics.calibration_curve(y, mean, std, distribution="lognormal",
                                                   n_levels=11, kind="quantile")
    np.testing.assert_allclose(observed, [np.mean(y <= ref.ppf(p)) for p in expected])
    with pytest.raises(ValueError, match="positive mean.*1 of 300"):
        metrics.nll(y, np.where(np.arange(300) == 0, -1.0, mean), std, distribution="gamma")


@pytest.mark.slow
def test_default_tabm_model_with_lognormal_on_a_tiny_frame():
    gen = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({
        "carat": gen.uniform(0.2, 2.0, size=n),
        "cut": pd.Categorical(gen.choice(["Fair", "Good", "Ideal"], size=n)),
    })
    y = 1000 * frame["carat"].to_numpy() ** 1.5 * np.exp(0.3 * gen.normal(size=n))
    reg = SculptRegressor(distribution="lognormal", max_epochs=10, module__k=4,
                          random_state=0).fit(frame, y)
    u = reg.predict_uncertainty(frame.iloc[:20])
    assert bool((u.mean > 0).all() and (u.epistemic > 0).all())
    lower, _ = reg.predict_interval(frame.iloc[:20])
    assert bool((lower > 0).all())


def test_validation_targets_of_a_positive_family_must_be_positive():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.exp(rng.normal(size=60))
    y_val = y[:20].copy()
    y_val[3] = -1.0
    reg = SculptRegressor(module=MLP, distribution="lognormal", max_epochs=2)
    with pytest.raises(ValueError, match=r"1 of 20 values of y_val are <= 0"):
        reg.fit(X, y, X_val=X[:20], y_val=y_val)
