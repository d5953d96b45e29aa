"""sculpt.Pool (wrapped models side by side) and weighted mixture moments."""

import copy
import pickle

import numpy as np
import pytest
import torch
from scipy import stats
from test_wrapper_ensemble import HandEnsemble
from torch import nn

from sculpt_sklearn import sculpt
from sculpt_sklearn.sculpt import Pool, Wrapper, mixture_moments


def _parts(seed=0):
    torch.manual_seed(seed)
    plain = Wrapper(sculpt.Normal, n_layers=2)(
        nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    )
    ensemble = Wrapper(sculpt.Normal, n_layers=1)(HandEnsemble(n_in=5, k=3))
    return plain, ensemble


def test_members_are_the_parts_members_in_order():
    plain, ensemble = _parts()
    pool = Pool([plain, ensemble])
    assert pool.part_sizes == [1, 3] and pool.n_members == 4 and pool.is_ensemble
    x = torch.randn(6, 5)
    mu, sigma = pool(x, return_members=True)
    mu_p, sigma_p = plain(x, return_members=True)
    mu_e, sigma_e = ensemble(x, return_members=True)
    torch.testing.assert_close(mu, torch.cat([mu_p, mu_e], dim=1))
    torch.testing.assert_close(sigma, torch.cat([sigma_p, sigma_e], dim=1))


def test_prediction_and_risk_are_those_of_the_equal_mixture_of_all_members():
    plain, ensemble = _parts(1)
    pool = Pool([plain, ensemble])
    x = torch.randn(7, 5)
    # A part of k members weighs k times a plain one: the mean over all 4 members.
    expected = (plain(x) + 3 * ensemble(x)) / 4
    torch.testing.assert_close(pool(x), expected)
    mean, risk = pool(x, return_risk=True)
    _, sigma = pool(x, return_members=True)
    torch.testing.assert_close(mean, expected)
    torch.testing.assert_close(risk, sigma.square().mean(dim=1).sqrt())


def test_gradients_reach_every_part():
    plain, ensemble = _parts(2)
    pool = Pool([plain, ensemble])
    mean, risk = pool(torch.randn(4, 5), return_risk=True)
    (mean.sum() + risk.sum()).backward()
    for part in pool.parts:
        assert all(p.grad is not None and bool(p.grad.abs().sum() > 0)
                   for p in part.parameters())


def test_pool_pickles_copies_and_reloads_its_state():
    pool = Pool(list(_parts(3)))
    x = torch.randn(5, 5)
    for other in (pickle.loads(pickle.dumps(pool)), copy.deepcopy(pool)):
        torch.testing.assert_close(other(x, return_members=True), pool(x, return_members=True))
    fresh = Pool(list(_parts(4)))
    fresh.load_state_dict(pool.state_dict())
    torch.testing.assert_close(fresh(x), pool(x))


def test_bad_parts_are_refused_with_a_reason():
    plain, _ = _parts()
    with pytest.raises(ValueError, match="at least one"):
        Pool([])
    with pytest.raises(TypeError, match="wrap it first"):
        Pool([plain, nn.Linear(5, 1)])
    laplace = Wrapper(sculpt.Laplace, n_layers=1)(nn.Linear(5, 1))
    with pytest.raises(ValueError, match="different families"):
        Pool([plain, laplace])


def _weighted_moments_by_hand(mu, sigma, w):
    """Mixture mean and variance from the mixture's first two moments (numpy)."""
    w = w / w.sum(axis=1, keepdims=True)
    mean = (w * mu).sum(axis=1)
    second = (w * (sigma**2 + mu**2)).sum(axis=1)
    return mean, (w * sigma**2).sum(axis=1), second - mean**2


def test_weighted_moments_match_the_mixture_moments_by_hand():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(6, 5, 2))
    sigma = rng.uniform(0.2, 2.0, size=(6, 5, 2))
    w = rng.uniform(0.0, 1.0, size=(6, 5, 1))
    w[0, :2] = 0.0  # some members out of a row's mixture
    mean, aleatoric, epistemic = mixture_moments(
        torch.tensor(mu), torch.tensor(sigma), weights=torch.tensor(w)
    )
    m, alea2, total2 = _weighted_moments_by_hand(mu, sigma, w)
    np.testing.assert_allclose(mean.numpy(), m, rtol=1e-12)
    np.testing.assert_allclose(aleatoric.numpy() ** 2, alea2, rtol=1e-12)
    np.testing.assert_allclose(aleatoric.numpy() ** 2 + epistemic.numpy() ** 2, total2,
                               rtol=1e-10)


def test_weighted_moments_of_a_two_normal_mixture_match_scipy_sampling_free():
    # A 0.3 / 0.7 mixture of N(0, 1) and N(2, 0.5): mean 1.4, variance
    # 0.3 * 1 + 0.7 * 0.25 + 0.3 * 0.7 * 2**2 = 1.315 (hand-derived).
    mu = torch.tensor([[[0.0], [2.0]]])
    sigma = torch.tensor([[[1.0], [0.5]]])
    mean, aleatoric, epistemic = mixture_moments(mu, sigma, weights=torch.tensor([[[0.3], [0.7]]]))
    assert float(mean) == pytest.approx(1.4)
    assert float(aleatoric**2 + epistemic**2) == pytest.approx(1.315)
    # The same variance from scipy's frozen components (law of total variance).
    parts = [stats.norm(0, 1), stats.norm(2, 0.5)]
    var = sum(p * (d.var() + d.mean() ** 2) for p, d in zip([0.3, 0.7], parts, strict=True)) - 1.4**2
    assert float(aleatoric**2 + epistemic**2) == pytest.approx(var)


def test_zero_weights_leave_those_members_out_and_equal_weights_are_the_default():
    torch.manual_seed(5)
    mu, sigma = torch.randn(4, 6, 1), torch.rand(4, 6, 1) + 0.1
    w = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 0.0]).reshape(1, 6, 1)
    for a, b in zip(mixture_moments(mu, sigma, weights=w),
                    mixture_moments(mu[:, :2], sigma[:, :2]), strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(mixture_moments(mu, sigma, weights=torch.full((1, 6, 1), 2.5)),
                    mixture_moments(mu, sigma), strict=True):
        torch.testing.assert_close(a, b)
