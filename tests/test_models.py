"""The built-in tabular modules: TabMModule over numerical embeddings, compute_bins, MLP."""

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

import sculpt_sklearn
from sculpt_sklearn import sculpt
from sculpt_sklearn.models import MLP, TabMModule, compute_bins

SMALL = {"k": 4, "d_block": 16, "n_blocks": 1, "d_embedding": 4}


def mixed_x(n=40, n_num=3, cards=(3, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    num = torch.randn(n, n_num, generator=g)
    cat = [torch.randint(0, c, (n, 1), generator=g).float() for c in cards]
    return torch.cat([num, *cat], dim=1)


def build(n_num, cards, embeddings="piecewise", n_outputs=1, **kwargs):
    x = mixed_x(n_num=n_num, cards=cards)
    bins = compute_bins(x[:, :n_num], n_bins=8) if n_num and embeddings == "piecewise" else None
    model = TabMModule(n_num + len(cards), n_outputs, cat_cardinalities=cards,
                       embeddings=embeddings, bins=bins, **{**SMALL, **kwargs})
    return model, x


CASES = {
    "numeric": (3, ()),
    "categorical": (0, (3, 5)),
    "mixed": (3, (3, 5)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("embeddings", ["piecewise", "periodic", "none"])
@pytest.mark.parametrize("arch_type", ["tabm", "tabm-mini", "tabm-packed"])
def test_output_shapes(case, embeddings, arch_type):
    n_num, cards = CASES[case]
    torch.manual_seed(0)
    model, x = build(n_num, cards, embeddings, n_outputs=2, arch_type=arch_type)
    out = model(x)
    assert out.shape == (40, 4, 2)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert model.k == 4 and (model.n_num, model.n_cat) == (n_num, len(cards))


@pytest.mark.parametrize("case", sorted(CASES))
def test_float64_input_and_float64_state(case):
    n_num, cards = CASES[case]
    torch.manual_seed(0)
    model, x = build(n_num, cards)
    model.eval()
    with torch.no_grad():
        ref = model(x)
        # A float32 module casts float64 input down.
        torch.testing.assert_close(model(x.double()), ref)
        # As predict does: every floating parameter and buffer in float64.
        state = {name: t.double() if t.is_floating_point() else t
                 for name, t in list(model.named_parameters()) + list(model.named_buffers())}
        out = torch.func.functional_call(model, state, (x.double(),))
        assert out.dtype == torch.float64
        torch.testing.assert_close(out, ref.double(), rtol=1e-5, atol=1e-5)
        assert model.double()(x.double()).dtype == torch.float64


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_reach_every_parameter(case):
    n_num, cards = CASES[case]
    torch.manual_seed(0)
    model, x = build(n_num, cards)
    model(x).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    # The piecewise part starts at zero (version "B") and still gets a gradient.
    if n_num:
        assert model.tabm.num_module.linear.weight.grad.abs().sum() > 0


def test_wrapper_gives_tabm_module_per_member_heads():
    torch.manual_seed(0)
    model, x = build(3, (3, 5), n_outputs=2)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
    assert wrapped.layer_name == "tabm.output"
    assert wrapped.n_members == 4
    assert isinstance(wrapped.risk_head, sculpt.EnsembleRiskHead)
    mu_k, sigma_k = wrapped(x, return_members=True)
    mean, risk = wrapped(x, return_risk=True)
    assert mu_k.shape == sigma_k.shape == (40, 4, 2)
    assert mean.shape == risk.shape == (40, 2)


def test_state_dict_round_trip_with_the_same_bins():
    torch.manual_seed(0)
    model, x = build(3, (3,))
    model.eval()
    clone_ = TabMModule(4, cat_cardinalities=(3,), bins=model.bins, **SMALL)
    clone_.load_state_dict(model.state_dict())
    clone_.eval()
    with torch.no_grad():
        assert torch.equal(clone_(x), model(x))
    assert any(key.endswith("num_module.impl.weight") for key in model.state_dict())


# -- compute_bins -------------------------------------------------------------------------


def test_compute_bins_on_constant_tiny_and_few_valued_columns():
    x = np.array([[3.0, 0.0, 1.0, 5.0], [3.0, 1.0, 2.0, np.nan], [3.0, 0.0, 4.0, 7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bins = compute_bins(x, n_bins=48)
    assert [b.tolist() for b in bins] == [[2.5, 3.5], [0.0, 1.0], [1.0, 2.0, 4.0], [5.0, 7.0]]
    assert all(b.dtype == torch.float32 for b in bins)
    # One row, and an all-NaN column, still give two edges.
    assert [len(b) for b in compute_bins(np.array([[1.0, np.nan]]))] == [2, 2]
    # Usable as they are, constant column included.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = TabMModule(4, bins=bins, **SMALL)
    assert torch.isfinite(model(torch.tensor(np.nan_to_num(x), dtype=torch.float32))).all()


def test_compute_bins_are_quantiles():
    x = np.arange(101, dtype=float)[:, None]
    (edges,) = compute_bins(x, n_bins=4)
    np.testing.assert_allclose(edges.numpy(), np.quantile(x[:, 0], [0, 0.25, 0.5, 0.75, 1.0]))
    assert [len(b) for b in compute_bins(torch.randn(1000, 2), n_bins=48)] == [49, 49]


@pytest.mark.parametrize("bad", [1, 0, True, 2.5])
def test_compute_bins_rejects_bad_n_bins(bad):
    with pytest.raises(ValueError, match="n_bins"):
        compute_bins(np.zeros((5, 1)), n_bins=bad)


def test_compute_bins_rejects_non_matrices():
    with pytest.raises(ValueError, match="2-D"):
        compute_bins(np.zeros(5))


# -- argument errors ---------------------------------------------------------------------


def test_piecewise_without_bins_says_to_compute_them():
    with pytest.raises(ValueError, match="compute_bins"):
        TabMModule(3)
    # No numeric column: no bins needed.
    TabMModule(2, cat_cardinalities=(2, 3), **SMALL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"embeddings": "plr"}, "embeddings"),
        ({"arch_type": "mlp"}, "arch_type"),
        ({"k": 0}, "k"),
        ({"dropout": 1.0}, "dropout"),
        ({"cat_cardinalities": 3}, "sequence"),
        ({"cat_cardinalities": (2, 0)}, "cat_cardinalities"),
        ({"cat_cardinalities": (2, 2, 2, 2)}, "n_features"),
        ({"bins": [torch.tensor([0.0, 1.0])]}, "3 numeric columns"),
        ({"bins": [torch.tensor([1.0, 0.0])] * 3}, "increasing"),
    ],
)
def test_bad_arguments(kwargs, match):
    kwargs = {"bins": compute_bins(torch.randn(10, 3)), **kwargs}
    with pytest.raises(ValueError, match=match):
        TabMModule(3, **kwargs)


def test_wrong_input_width_and_bad_codes():
    model, x = build(3, (3, 5))
    with pytest.raises(ValueError, match=r"\(batch, 5\)"):
        model(x[:, :4])
    bad = x.clone()
    bad[0, 4] = 5.0
    with pytest.raises(ValueError, match="column 4"):
        model(bad)
    bad[0, 4] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(bad)


def test_public_names():
    assert sculpt_sklearn.TabMModule is TabMModule
    assert sculpt_sklearn.MLP is MLP


# -- a tiny training run --------------------------------------------------------------------


def test_tiny_training_learns_the_mean_and_the_noise():
    """1-D heteroscedastic data: members trained on the mean of their own NLLs."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 512
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    noise = 0.05 + 0.4 * np.abs(x[:, 0])
    y = np.sin(2.0 * x[:, 0]) + noise * rng.normal(size=n)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)[:, None]
    model = TabMModule(1, bins=compute_bins(x, n_bins=16), k=4, d_block=32, n_blocks=2,
                       d_embedding=8, dropout=0.0)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
    optimizer = torch.optim.AdamW(wrapped.parameters(), lr=3e-3)

    def loss():
        mu_k, sigma_k = wrapped(xt, return_members=True)
        return sculpt.Normal.loss_function(yt.unsqueeze(1).expand_as(mu_k), mu_k, sigma_k)

    with torch.no_grad():
        start = float(loss())
    for _ in range(300):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    wrapped.eval()
    with torch.no_grad():
        end = float(loss())
        _, risk = wrapped(xt, return_risk=True)
    # The true model's NLL on these rows is 0.44 (training NLL may go a little below).
    assert end < start - 0.5
    assert end < 0.7
    rho = spearmanr(risk[:, 0].numpy(), noise).statistic
    assert rho > 0.8


# -- mixed precision (issue 23) ----------------------------------------------------------


def _mixed_model(mixed):
    torch.manual_seed(0)
    x = torch.cat([torch.randn(64, 3), torch.randint(0, 4, (64, 1)).float()], dim=1)
    return x, TabMModule(4, cat_cardinalities=[4], k=4, bins=compute_bins(x[:, :3]),
                         dropout=0.0, mixed_precision=mixed)


def test_mixed_precision_rounds_the_blocks_in_training_only():
    x, model = _mixed_model(True)
    _, plain = _mixed_model(False)
    plain.load_state_dict(model.state_dict())
    model.train()
    plain.train()
    out, reference = model(x), plain(x)
    # Training: the blocks' products in bfloat16 (8 bits of mantissa), the output float32.
    assert out.dtype == torch.float32 and not torch.equal(out, reference)
    torch.testing.assert_close(out, reference, rtol=0.05, atol=0.05)
    out.sum().backward()  # gradients reach every parameter, in float32
    assert all(p.grad is not None and p.grad.dtype == torch.float32
               for p in model.parameters() if p.requires_grad)
    model.eval()
    plain.eval()
    with torch.no_grad():  # prediction: full precision, the same numbers
        torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)


def test_mixed_precision_training_stays_close_to_float32(rng):
    from sculpt_sklearn import SculptRegressor
    from sculpt_sklearn.datasets import make_heteroscedastic

    X, y, _ = make_heteroscedastic(n_samples=600, random_state=0)
    fits = {mixed: SculptRegressor(max_epochs=20, n_networks=1, module__mixed_precision=mixed,
                                   random_state=0).fit(X, y) for mixed in (False, True)}
    mean32, std32 = fits[False].predict(X, return_std=True)
    mean16, std16 = fits[True].predict(X, return_std=True)
    # The same training run up to bfloat16's rounding: close, not equal.
    assert not np.array_equal(mean16, mean32)
    assert np.sqrt(np.mean((mean16 - mean32) ** 2)) < 0.1 * np.std(y)
    np.testing.assert_allclose(np.median(std16 / std32), 1.0, atol=0.1)


def test_the_rule_turns_mixed_precision_on_where_the_cpu_has_native_bfloat16(monkeypatch):
    from sculpt_sklearn import _defaults

    for native in (True, False):
        monkeypatch.setattr(_defaults, "cpu_has_native_bf16", lambda n=native: n)
        kwargs = _defaults.tabm_module_kwargs(np.zeros((10, 1)), 1, [], 10, {})
        assert kwargs["mixed_precision"] is native
    explicit = _defaults.tabm_module_kwargs(np.zeros((10, 1)), 1, [], 10,
                                            {"mixed_precision": False})
    assert explicit["mixed_precision"] is False
