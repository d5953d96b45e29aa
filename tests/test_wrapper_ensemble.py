"""The Sculpt wrapper on efficient ensembles (a member axis), and the mixture helpers."""

import copy
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
import tabm
import torch
from scipy import special, stats
from torch import nn

from sculpt_sklearn import sculpt
from sculpt_sklearn.sculpt import Laplace, Normal, StudentT, Wrapper, mixture_moments, mixture_nll

K = 4


class MemberLinear(nn.Module):
    """A hand-made ensemble layer: k independent linear maps, (batch, k, i) -> (batch, k, o)."""

    def __init__(self, k, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, in_features, out_features) / in_features**0.5)
        self.bias = nn.Parameter(torch.zeros(k, out_features))

    @property
    def k(self):
        return self.weight.shape[0]

    @property
    def in_features(self):
        return self.weight.shape[1]

    @property
    def out_features(self):
        return self.weight.shape[2]

    def forward(self, x):
        return torch.einsum("bki,kio->bko", x, self.weight) + self.bias


class HandEnsemble(nn.Module):
    """A shared body, a per-member scaling, then a per-member output layer."""

    def __init__(self, n_in=5, width=16, n_out=1, k=K):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, width), nn.ReLU())
        self.scale = nn.Parameter(torch.randn(k, width))
        self.out = MemberLinear(k, width, n_out)

    def forward(self, x):
        h = self.body(x).unsqueeze(1) * self.scale  # (batch, k, width)
        return self.out(h)


class ReducedEnsemble(HandEnsemble):
    """Averages its members itself: the wrapper cannot read members from it."""

    def forward(self, x):
        return super().forward(x).mean(dim=1)


def tabm_model(n_in=5, n_out=1, k=K):
    return tabm.TabM.make(n_num_features=n_in, d_out=n_out, k=k, d_block=16, dropout=0.0)


MODELS = {
    "tabm": lambda n_out: tabm_model(n_out=n_out),
    "tabm_packed": lambda n_out: tabm.TabM.make(
        n_num_features=5, d_out=n_out, k=K, d_block=16, dropout=0.0, arch_type="tabm-packed"),
    "hand": lambda n_out: HandEnsemble(n_out=n_out),
}


@pytest.fixture
def x():
    return torch.randn(32, 5, generator=torch.Generator().manual_seed(0))


# -- shapes and the prediction path ------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("n_out", [1, 3])
def test_ensemble_shapes_and_mean_of_the_original_output(name, n_out, x):
    torch.manual_seed(0)
    model = MODELS[name](n_out)
    with torch.no_grad():
        before = model(x)
    assert before.shape == (32, K, n_out)
    wrapped = Wrapper(Normal, n_layers=2)(model)
    assert wrapped.n_members == K
    assert isinstance(wrapped.risk_head, sculpt.EnsembleRiskHead)
    with torch.no_grad():
        y_hat = wrapped(x)
        mean, risk = wrapped(x, return_risk=True)
        mu_k, sigma_k = wrapped(x, return_members=True)
    assert isinstance(y_hat, torch.Tensor)
    assert y_hat.shape == mean.shape == risk.shape == (32, n_out)
    assert mu_k.shape == sigma_k.shape == (32, K, n_out)
    torch.testing.assert_close(y_hat, before.mean(dim=1), rtol=0, atol=0)
    torch.testing.assert_close(mean, before.mean(dim=1), rtol=0, atol=0)
    assert torch.equal(mu_k, before)
    assert (sigma_k > 0).all()
    # The aleatoric std of the mixture: sqrt(mean_k sigma_k^2), computed here by hand.
    expected = np.sqrt((sigma_k.numpy() ** 2).mean(axis=1))
    np.testing.assert_allclose(risk.numpy(), expected, rtol=1e-6)
    # A fresh head predicts a standard deviation near one for every member.
    assert torch.allclose(sigma_k, torch.ones_like(sigma_k), atol=0.5)


def test_the_risk_head_reads_the_ensemble_output_layer():
    model = tabm_model()
    wrapped = Wrapper(Normal, n_layers=3, hidden=7)(model)
    assert wrapped.layer_name == "output"
    layers = [m for m in wrapped.risk_head.net if isinstance(m, tabm.LinearEnsemble)]
    assert len(layers) == 3
    assert [(m.k, m.in_features, m.out_features) for m in layers] == [(K, 16, 7), (K, 7, 7),
                                                                        (K, 7, 1)]


def test_layer_can_name_an_ensemble_layer_explicitly(x):
    model = HandEnsemble()
    wrapped = Wrapper(Normal, layer="out")(model)
    assert wrapped.layer_name == "out" and wrapped.n_members == K
    # Naming a plain nn.Linear gives a plain head, as before.
    plain = Wrapper(Normal, layer="body.0")(HandEnsemble())
    assert plain.n_members == 1 and isinstance(plain.risk_head, sculpt.RiskHead)


def test_one_member_tabm_is_still_an_ensemble(x):
    wrapped = Wrapper(Normal)(tabm_model(k=1))
    assert wrapped.n_members == 1
    mean, risk = wrapped(x, return_risk=True)
    assert mean.shape == risk.shape == (32, 1)
    mu_k, _ = wrapped(x, return_members=True)
    assert mu_k.shape == (32, 1, 1)


def test_a_model_that_reduces_its_members_gets_a_clear_error(x):
    wrapped = Wrapper(Normal)(ReducedEnsemble())
    for kwargs in ({}, {"return_risk": True}, {"return_members": True}):
        with pytest.raises(RuntimeError, match="unreduced"):
            wrapped(x, **kwargs)


def test_float64_ensemble(x):
    wrapped = Wrapper(Normal)(tabm_model()).double()
    mean, risk = wrapped(x.double(), return_risk=True)
    assert mean.dtype == risk.dtype == torch.float64


# -- parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_parameters_are_the_original_ones_plus_the_heads_and_train_at_once(name, x):
    torch.manual_seed(0)
    model = MODELS[name](1)
    wrapped = Wrapper(Normal, n_layers=2)(model)
    ids = [id(p) for p in wrapped.parameters()]
    model_ids = {id(p) for p in model.parameters()}
    head_ids = {id(p) for p in wrapped.risk_head.parameters()}
    assert set(ids) == model_ids | head_ids and len(ids) == len(model_ids) + len(head_ids)
    assert wrapped.model is model

    optimizer = torch.optim.Adam(wrapped.parameters(), lr=1e-2)  # no dry call
    before = [p.detach().clone() for p in wrapped.parameters()]
    mu_k, sigma_k = wrapped(x, return_members=True)
    y = torch.randn(32, 1, generator=torch.Generator().manual_seed(1))
    loss = Normal.loss_function(y.unsqueeze(1).expand_as(mu_k), mu_k, sigma_k)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    changed = [not torch.equal(p, p0) for p, p0 in zip(wrapped.parameters(), before, strict=True)]
    assert all(changed)


def test_per_member_heads_are_independent(x):
    torch.manual_seed(0)
    wrapped = Wrapper(Normal, n_layers=3, detach_features=True)(tabm_model())
    j = 2
    _, sigma_k = wrapped(x, return_members=True)
    sigma_k[:, j].sum().backward()
    head_params = list(wrapped.risk_head.parameters())
    assert head_params and all(p.shape[0] == K for p in head_params)
    for p in head_params:
        grad = p.grad
        assert grad[j].abs().sum() > 0
        others = torch.cat([grad[:j], grad[j + 1:]])
        assert torch.count_nonzero(others) == 0


def test_copies_and_pickles_give_identical_outputs(x):
    torch.manual_seed(0)
    wrapped = Wrapper(Laplace, n_layers=2)(tabm_model()).eval()
    with torch.no_grad():
        ref = wrapped(x, return_members=True)
        for other in (copy.deepcopy(wrapped), pickle.loads(pickle.dumps(wrapped))):
            out = other(x, return_members=True)
            assert all(torch.equal(a, b) for a, b in zip(ref, out, strict=True))


# -- a plain model with the member vocabulary ---------------------------------------


def test_plain_model_members_are_a_single_member(x):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
    wrapped = Wrapper(Normal)(model)
    assert wrapped.n_members == 1
    with torch.no_grad():
        y_hat, y_risk = wrapped(x, return_risk=True)
        mu_k, sigma_k = wrapped(x, return_members=True)
        assert torch.equal(wrapped(x), model(x))
    assert mu_k.shape == sigma_k.shape == (32, 1, 2)
    assert torch.equal(mu_k[:, 0], y_hat) and torch.equal(sigma_k[:, 0], y_risk)


def test_sculpt_wraps_plain_models_without_tabm_installed():
    code = (
        "import sys; sys.modules['tabm'] = None; "
        "import torch; from torch import nn; from sculpt_sklearn import sculpt; "
        "w = sculpt.Wrapper(sculpt.Normal)(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))); "
        "print(tuple(w(torch.zeros(2, 3), return_risk=True)[1].shape))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "(2, 1)"


# -- mixture helpers against independent formulas -------------------------------------


def members(shape=(50, 6, 2), seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=shape) * 2.0
    sigma = rng.uniform(0.2, 1.5, size=shape)
    return mu, sigma


def test_mixture_moments_against_numpy():
    mu, sigma = members()
    mean, alea, epi = mixture_moments(torch.tensor(mu), torch.tensor(sigma))
    np.testing.assert_allclose(mean.numpy(), mu.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(alea.numpy(), np.sqrt((sigma**2).mean(axis=1)), rtol=1e-12)
    np.testing.assert_allclose(epi.numpy(), mu.std(axis=1, ddof=0), rtol=1e-12)
    # Law of total variance: the mixture's variance E[Y^2] - E[Y]^2 from its moments.
    second = (sigma**2 + mu**2).mean(axis=1)
    total_var = second - mu.mean(axis=1) ** 2
    np.testing.assert_allclose(alea.numpy() ** 2 + epi.numpy() ** 2, total_var, rtol=1e-10)


def test_mixture_moments_along_another_axis():
    mu, sigma = members(shape=(6, 10))
    mean, alea, epi = mixture_moments(torch.tensor(mu), torch.tensor(sigma), dim=0)
    np.testing.assert_allclose(epi.numpy(), mu.std(axis=0), rtol=1e-12)
    assert mean.shape == alea.shape == (10,)


def test_one_member_has_zero_epistemic_and_finite_gradients():
    mu = torch.randn(8, 1, 1, requires_grad=True)
    sigma = torch.rand(8, 1, 1) + 0.5
    _, alea, epi = mixture_moments(mu, sigma)
    assert torch.count_nonzero(epi) == 0
    total = torch.sqrt(alea**2 + epi**2)
    total.sum().backward()
    assert torch.isfinite(mu.grad).all()


def _scipy_member_logpdf(family, y, mu, sigma):
    if family is Normal:
        return stats.norm.logpdf(y, loc=mu, scale=sigma)
    if family is Laplace:
        return stats.laplace.logpdf(y, loc=mu, scale=sigma / math.sqrt(2.0))
    df = family.df
    return stats.t.logpdf(y, df=df, loc=mu, scale=sigma * math.sqrt((df - 2.0) / df))


@pytest.mark.parametrize("family", [Normal, Laplace, StudentT, StudentT.with_df(3.0)])
def test_mixture_nll_against_scipy(family):
    mu, sigma = members()
    y = np.random.default_rng(1).normal(size=(50, 2)) * 2.0
    logpdf = _scipy_member_logpdf(family, y[:, None, :], mu, sigma)
    expected = -(special.logsumexp(logpdf, axis=1) - np.log(mu.shape[1]))
    got = mixture_nll(family, torch.tensor(y), torch.tensor(mu), torch.tensor(sigma))
    assert got.shape == (50, 2)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_mixture_nll_of_one_member_is_the_members_nll():
    mu, sigma = members(shape=(20, 1, 1))
    y = np.random.default_rng(2).normal(size=(20, 1))
    got = mixture_nll("normal", torch.tensor(y), torch.tensor(mu), torch.tensor(sigma))
    np.testing.assert_allclose(got.numpy(), -stats.norm.logpdf(y, mu[:, 0], sigma[:, 0]),
                               rtol=1e-12)


def test_mixture_helpers_check_shapes():
    mu = torch.zeros(4, 3, 1)
    with pytest.raises(ValueError, match="same shape"):
        mixture_moments(mu, torch.ones(4, 3, 2))
    with pytest.raises(ValueError, match="shape"):
        mixture_nll(Normal, torch.zeros(4), mu, torch.ones_like(mu))
    with pytest.raises(ValueError, match="dim"):
        mixture_moments(mu, torch.ones_like(mu), dim=3)
