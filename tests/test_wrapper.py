"""The Sculpt wrapper: prediction path unchanged, risk head built at wrap time."""

import copy
import pickle

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from sculpt_sklearn import sculpt
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.sculpt import Laplace, Normal, StudentT, Wrapper


class Block(nn.Module):
    """A residual-free block: linear then activation."""

    def __init__(self, width_in, width_out):
        super().__init__()
        self.linear = nn.Linear(width_in, width_out)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.linear(x))


class NestedNet(nn.Module):
    """Linear layers nested two levels deep, the output layer at the top."""

    def __init__(self, n_in=5, width=16, n_out=1):
        super().__init__()
        self.body = nn.Sequential(Block(n_in, width), Block(width, width))
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        return self.out(self.body(x))


class TwoHeadNet(nn.Module):
    """The prediction comes from ``mean_head``; ``aux_head`` is registered last."""

    def __init__(self, n_in=5, width=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, width), nn.ReLU())
        self.mean_head = nn.Linear(width, 1)
        self.aux_head = nn.Linear(width, 4)
        self.last_aux = None

    def forward(self, x):
        h = self.body(x)
        self.last_aux = self.aux_head(h)  # e.g. an auxiliary output kept aside
        return self.mean_head(h)


class NoLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, padding=1)

    def forward(self, x):
        return self.conv(x.unsqueeze(1)).squeeze(1)


def sequential(n_in=5, n_out=1, width=16):
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, n_out))


MODELS = {
    "sequential": lambda: sequential(),
    "nested": lambda: NestedNet(),
    "three_outputs": lambda: sequential(n_out=3),
    "nested_three_outputs": lambda: NestedNet(n_out=3),
}


@pytest.fixture
def x():
    return torch.randn(32, 5, generator=torch.Generator().manual_seed(0))


# -- the prediction path and the risk -------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("distribution", [Normal, Laplace, StudentT.with_df(3), "laplace"])
def test_wrapping_keeps_output_and_adds_positive_risk(name, distribution, x):
    torch.manual_seed(0)
    model = MODELS[name]()
    with torch.no_grad():
        before = model(x)
    wrapped = Wrapper(distribution, n_layers=3)(model)
    assert isinstance(wrapped, sculpt.SculptModule)
    assert wrapped.model is model
    assert wrapped.distribution is sculpt.get_distribution(distribution)
    with torch.no_grad():
        y_hat = wrapped(x)
        y_hat2, y_risk = wrapped(x, return_risk=True)
    assert isinstance(y_hat, torch.Tensor)  # not a tuple without return_risk
    assert torch.equal(y_hat, before)
    assert torch.equal(y_hat2, before)
    assert y_risk.shape == y_hat.shape
    assert torch.isfinite(y_risk).all()
    assert (y_risk > 0).all()
    # A fresh head predicts a standard deviation near one.
    assert torch.allclose(y_risk, torch.ones_like(y_risk), atol=0.5)


def test_keyword_and_positional_forms_agree(x):
    torch.manual_seed(0)
    a = Wrapper(Normal, 3)(sequential())
    torch.manual_seed(0)
    b = Wrapper(distribution=Normal, n_layers=3)(sequential())
    ra = a(x, return_risk=True)[1]
    rb = b(x, return_risk=True)[1]
    assert torch.equal(ra, rb)


def test_risk_depends_on_the_input(x):
    torch.manual_seed(0)
    wrapped = Wrapper(Normal, n_layers=2)(sequential())
    with torch.no_grad():
        for p in wrapped.risk_head.parameters():
            p.normal_()
        _, risk = wrapped(x, return_risk=True)
    assert risk.std() > 0


def test_risk_floor_holds():
    wrapped = Wrapper(Normal, n_layers=1, min_risk=0.05)(sequential())
    with torch.no_grad():
        wrapped.risk_head.net[-1].bias.fill_(-100.0)
        _, risk = wrapped(torch.randn(10, 5), return_risk=True)
    assert torch.all(risk >= 0.05)


# -- parameters and training right after wrapping --------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_parameters_include_the_original_ones_and_train_at_once(name, x):
    torch.manual_seed(0)
    model = MODELS[name]()
    wrapped = Wrapper(Normal, n_layers=2)(model)
    ids = {id(p) for p in wrapped.parameters()}
    assert {id(p) for p in model.parameters()} <= ids
    assert {id(p) for p in wrapped.risk_head.parameters()} <= ids
    n_model = sum(1 for _ in model.parameters())
    n_head = sum(1 for _ in wrapped.risk_head.parameters())
    assert len(ids) == n_model + n_head

    # No dry call: the optimizer is made straight away.
    optimizer = torch.optim.Adam(wrapped.parameters(), lr=1e-2)
    model_before = [p.detach().clone() for p in model.parameters()]
    head_before = [p.detach().clone() for p in wrapped.risk_head.parameters()]
    y_hat, y_risk = wrapped(x, return_risk=True)
    y = torch.randn_like(y_hat)
    loss = nn.functional.mse_loss(y_hat, y) + Normal.loss_function(y, y_hat, y_risk)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    for p, p0 in zip(model.parameters(), model_before, strict=True):
        assert not torch.equal(p, p0)
    for p, p0 in zip(wrapped.risk_head.parameters(), head_before, strict=True):
        assert not torch.equal(p, p0)


@pytest.mark.parametrize("n_layers", [1, 2, 3, 5])
def test_n_layers_sets_the_depth_of_the_risk_head(n_layers):
    wrapped = Wrapper(Normal, n_layers=n_layers)(NestedNet(width=8))
    linears = [m for m in wrapped.risk_head.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == n_layers
    assert linears[0].in_features == 8  # reads the input of the output layer
    assert linears[-1].out_features == 1


def test_hidden_sets_the_head_width():
    wrapped = Wrapper(Normal, n_layers=3, hidden=7)(sequential(n_out=2))
    linears = [m for m in wrapped.risk_head.modules() if isinstance(m, nn.Linear)]
    assert [lin.out_features for lin in linears] == [7, 7, 2]


# -- choosing the layer -----------------------------------------------------------


def test_layer_picks_the_named_linear_when_the_last_one_is_wrong(x):
    torch.manual_seed(0)
    model = TwoHeadNet()
    # The last registered nn.Linear is aux_head, whose width does not match.
    default = Wrapper(Normal)(model)
    assert default.layer_name == "aux_head"
    with pytest.raises(RuntimeError, match="layer="):
        default(x, return_risk=True)

    torch.manual_seed(0)
    model = TwoHeadNet()
    with torch.no_grad():
        before = model(x)
    wrapped = Wrapper(Normal, layer="mean_head")(model)
    assert wrapped.layer_name == "mean_head"
    y_hat, y_risk = wrapped(x, return_risk=True)
    assert torch.equal(y_hat, before)
    assert y_risk.shape == (32, 1)
    assert wrapped.risk_head.net[0].in_features == 16


def test_layer_accepts_a_nested_name(x):
    wrapped = Wrapper(Normal, layer="body.1.linear")(NestedNet(width=16))
    assert wrapped.layer_name == "body.1.linear"
    assert wrapped.risk_head.net[0].in_features == 16
    assert wrapped.risk_head.net[-1].out_features == 16


def test_a_layer_not_called_in_forward_gets_a_clear_error(x):
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(5, 1)
            self.spare = nn.Linear(5, 1)

        def forward(self, x):
            return self.used(x)

    wrapped = Wrapper(Normal)(Unused())
    assert torch.equal(wrapped(x), wrapped.model(x))  # prediction still works
    with pytest.raises(RuntimeError, match="did not call"):
        wrapped(x, return_risk=True)


# -- clear errors ---------------------------------------------------------------


def test_model_without_linear_names_the_layer_option():
    with pytest.raises(ValueError, match="layer=") as info:
        Wrapper(Normal)(NoLinear())
    assert "Conv1d" in str(info.value)


@pytest.mark.parametrize(
    ("layer", "match"), [("nope", "not a submodule"), ("1", "not an nn.Linear"), ("", "not")]
)
def test_bad_layer_name(layer, match):
    with pytest.raises(ValueError, match=match):
        Wrapper(Normal, layer=layer)(sequential())


def test_bad_layer_name_lists_the_linear_layers():
    with pytest.raises(ValueError, match=r"'0'.*'2'"):
        Wrapper(Normal, layer="out")(sequential())


@pytest.mark.parametrize("n_layers", [0, -1, 2.5, "3", None, True])
def test_bad_n_layers(n_layers):
    with pytest.raises(ValueError, match="n_layers"):
        Wrapper(Normal, n_layers=n_layers)


@pytest.mark.parametrize(
    "distribution", [torch.distributions.Normal, "cauchy", None, nn.Linear, 1.0]
)
def test_non_sculpt_distribution(distribution):
    with pytest.raises(ValueError, match=r"distribution|Normal"):
        Wrapper(distribution)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": 0},
        {"hidden": 2.0},
        {"min_risk": 0.0},
        {"min_risk": -1.0},
        {"min_risk": float("inf")},
    ],
)
def test_bad_head_options(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Wrapper(Normal, **kwargs)


@pytest.mark.parametrize("not_a_module", [lambda x: x, "model", nn.Linear, None])
def test_wrapping_a_non_module(not_a_module):
    with pytest.raises(TypeError, match=r"nn\.Module"):
        Wrapper(Normal)(not_a_module)


# -- detached features ------------------------------------------------------------


@pytest.mark.parametrize("detach", [True, False])
def test_detach_features_keeps_the_risk_loss_off_the_model(detach, x):
    torch.manual_seed(0)
    model = NestedNet()
    wrapped = Wrapper(Normal, n_layers=2, detach_features=detach)(model)
    y_hat, y_risk = wrapped(x, return_risk=True)
    y = torch.randn_like(y_hat)
    # Only the risk carries gradient: the mean is detached.
    Normal.loss_function(y, y_hat.detach(), y_risk).backward()
    body_grads = [p.grad for p in model.body.parameters()]
    if detach:
        assert all(g is None or torch.count_nonzero(g) == 0 for g in body_grads)
    else:
        assert any(g is not None and torch.count_nonzero(g) > 0 for g in body_grads)
    head_grads = [p.grad for p in wrapped.risk_head.parameters()]
    assert all(g is not None for g in head_grads)
    assert all(torch.count_nonzero(g) > 0 for g in head_grads)


def test_detach_features_leaves_the_mean_gradient_alone(x):
    torch.manual_seed(0)
    model = NestedNet()
    wrapped = Wrapper(Normal, detach_features=True)(model)
    y_hat, _ = wrapped(x, return_risk=True)
    nn.functional.mse_loss(y_hat, torch.zeros_like(y_hat)).backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0 for p in model.parameters())


# -- copies -----------------------------------------------------------------------


def perturb_head(module):
    with torch.no_grad():
        for p in module.risk_head.parameters():
            p.add_(0.3 * torch.randn_like(p))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("distribution", [Normal, StudentT.with_df(3)])
def test_copies_give_identical_outputs_and_capture_their_own_features(how, distribution):
    torch.manual_seed(0)
    wrapped = Wrapper(distribution, n_layers=2)(NestedNet(n_out=2))
    perturb_head(wrapped)
    x1 = torch.randn(16, 5)
    x2 = torch.randn(16, 5) + 2.0
    with torch.no_grad():
        mean1, risk1 = wrapped(x1, return_risk=True)
        mean2, risk2 = wrapped(x2, return_risk=True)
    assert not torch.allclose(risk1, risk2)

    other = copy.deepcopy(wrapped) if how == "deepcopy" else pickle.loads(pickle.dumps(wrapped))
    assert other.distribution is distribution
    assert other.model is not wrapped.model
    with torch.no_grad():
        # Interleaved calls: each module's hook must write into that module.
        out_copy = other(x1, return_risk=True)
        out_orig = wrapped(x2, return_risk=True)
        out_copy2 = other(x2, return_risk=True)
    assert torch.equal(out_copy[0], mean1) and torch.equal(out_copy[1], risk1)
    assert torch.equal(out_orig[0], mean2) and torch.equal(out_orig[1], risk2)
    assert torch.equal(out_copy2[1], risk2)

    # The copy is independent: changing it leaves the original as it was.
    perturb_head(other)
    with torch.no_grad():
        nn.init.zeros_(other.model.out.weight)
        assert torch.equal(wrapped(x1, return_risk=True)[1], risk1)
        assert torch.equal(wrapped(x1), mean1)
        assert not torch.equal(other(x1, return_risk=True)[1], risk1)


def test_no_hook_or_feature_state_outlives_a_call(x):
    model = sequential()
    wrapped = Wrapper(Normal)(model)
    wrapped(x, return_risk=True)
    # The output layer keeps one stateless capture hook (a module-level function);
    # no other layer gets one, and no tensor stays behind on the module.
    hooks = {name: list(m._forward_pre_hooks.values()) for name, m in model.named_modules()}
    assert [name for name, h in hooks.items() if h] == [wrapped.layer_name]
    assert len(hooks[wrapped.layer_name]) == 1
    assert not any(isinstance(v, torch.Tensor) for v in vars(wrapped).values())
    clone = pickle.loads(pickle.dumps(wrapped))
    torch.testing.assert_close(clone(x, return_risk=True)[1], wrapped(x, return_risk=True)[1])


class PausingNet(nn.Module):
    """``sequential()`` with a callback after its output layer, before it returns."""

    def __init__(self):
        super().__init__()
        self.net = sequential()
        self.after_output = None

    def forward(self, x):
        out = self.net(x)
        if self.after_output is not None:
            self.after_output()
        return out


def test_a_module_pickles_while_another_call_is_inside_its_forward(x):
    # A Dask worker pickles the estimator for a peer while its own thread predicts
    # with it; a hook registered for the duration of each call made that pickle
    # fail ("Can't pickle local object") and the Dask computation hang.
    torch.manual_seed(0)
    model = PausingNet()
    wrapped = Wrapper(Normal, n_layers=2)(model)
    with torch.no_grad():
        expected = wrapped(x, return_risk=True)
    pickled = []
    # model.net holds the output layer (model itself holds this test's callback).
    model.after_output = lambda: pickled.append(pickle.dumps(model.net))
    with torch.no_grad():
        got = wrapped(x, return_risk=True)
    assert len(pickled) == 1
    torch.testing.assert_close(got[1], expected[1])


@pytest.mark.parametrize("nested", [False, True], ids=["other-thread", "same-thread"])
def test_concurrent_calls_on_one_module_each_read_their_own_features(x, nested):
    # Call A pauses after the output layer; call B, on other rows, runs to the end
    # meanwhile (in another thread, or nested in A). A's risk must come from A's
    # rows: with a shared hook, B's output layer also wrote into A's features.
    import threading

    torch.manual_seed(0)
    model = PausingNet()
    wrapped = Wrapper(Normal, n_layers=2)(model)
    x_b = x[:7] + 3.0
    with torch.no_grad():
        expected_a = wrapped(x, return_risk=True)[1]
        expected_b = wrapped(x_b, return_risk=True)[1]
    results = {}

    def call_b():
        model.after_output = None
        with torch.no_grad():
            results["b"] = wrapped(x_b, return_risk=True)[1]

    def pause_a():
        if nested:
            call_b()
        else:
            thread = threading.Thread(target=call_b)
            thread.start()
            thread.join()

    model.after_output = pause_a
    with torch.no_grad():
        results["a"] = wrapped(x, return_risk=True)[1]
    torch.testing.assert_close(results["a"], expected_a)
    torch.testing.assert_close(results["b"], expected_b)


def test_an_output_layer_replaced_after_wrapping_is_still_read(x):
    # The capture hook lives on the layer; a new layer under the same name gets
    # one on its first return_risk call, so the risk head still reads its input.
    torch.manual_seed(0)
    model = sequential()
    wrapped = Wrapper(Normal, n_layers=2)(model)
    with torch.no_grad():
        risk_before = wrapped(x, return_risk=True)[1]
        model[2] = nn.Linear(16, 1)
        y_hat, risk = wrapped(x, return_risk=True)
        torch.testing.assert_close(y_hat, model(x))
    torch.testing.assert_close(risk, risk_before)


def test_two_wrappers_of_one_model_do_not_interfere(x):
    model = sequential()
    torch.manual_seed(0)
    first = Wrapper(Normal, n_layers=1)(model)
    torch.manual_seed(1)
    second = Wrapper(Normal, n_layers=2)(model)
    alone = first(x, return_risk=True)[1]
    second(x[:3], return_risk=True)
    torch.testing.assert_close(first(x, return_risk=True)[1], alone)


# -- lazy layers ------------------------------------------------------------------


def test_uninitialised_lazy_last_layer_needs_a_dry_call(x):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.LazyLinear(2))
    with pytest.raises(ValueError, match="lazy"):
        Wrapper(Normal)(model)
    with torch.no_grad():
        before = model(x)  # the dry call sets the input width
    wrapped = Wrapper(Normal, n_layers=2)(model)
    y_hat, y_risk = wrapped(x, return_risk=True)
    assert torch.equal(y_hat, before)
    assert y_risk.shape == (32, 2)
    assert wrapped.risk_head.net[0].in_features == 16


# -- training: the seed's two modes ----------------------------------------------


def standardised_data(n_train, n_test):
    X, y, _ = make_heteroscedastic(n_samples=n_train, random_state=0)
    X_test, _, std_test = make_heteroscedastic(n_samples=n_test, random_state=1)
    scale = y.std()
    y = (y - y.mean()) / scale
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return as_tensor(X), as_tensor(y).reshape(-1, 1), as_tensor(X_test), std_test, scale


def mlp(width=32):
    return nn.Sequential(
        nn.Linear(4, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    )


def test_mode_a_recovers_the_noise_level():
    """Mode A, ``loss = mse(y_hat, y) + Normal.loss_function(y, y_hat, y_risk)``.

    On held-out rows the predicted risk ranks rows as the true noise std does.
    """
    X, y, X_test, std_test, scale = standardised_data(4000, 1000)
    torch.manual_seed(0)
    dist = Normal
    wrapped = Wrapper(dist, n_layers=2)(mlp())
    optimizer = torch.optim.Adam(wrapped.parameters(), lr=5e-3)
    for _ in range(200):
        optimizer.zero_grad()
        y_hat, y_risk = wrapped(X, return_risk=True)
        loss = nn.functional.mse_loss(y_hat, y) + dist.loss_function(y, y_hat, y_risk)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        _, risk = wrapped(X_test, return_risk=True)
    rho = spearmanr(risk.numpy().ravel(), std_test).statistic
    assert rho >= 0.9
    # Back in the units of y, the level is right too.
    ratio = np.median(risk.numpy().ravel() * scale / std_test)
    assert 0.7 < ratio < 1.4


def test_mode_b_with_mse_collapses_the_risk():
    """Mode B, ``loss = mse(dist.sample((y_hat, y_risk)), y)``, drives risk to its floor.

    With ``eps`` of mean 0 and variance 1, the expected loss of one row is
    ``E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2``: the risk only
    adds to the squared error, so minimising it pushes the risk toward
    ``min_risk`` whatever the noise. Sampling through the reparameterisation
    trick does train the risk (the gradients reach it) - toward zero.
    """
    X, y, X_test, _, _ = standardised_data(1000, 500)
    torch.manual_seed(0)
    dist = Normal
    wrapped = Wrapper(dist, n_layers=2)(mlp())
    with torch.no_grad():
        _, initial = wrapped(X_test, return_risk=True)
    assert 0.5 < float(initial.median()) < 1.5
    optimizer = torch.optim.Adam(wrapped.parameters(), lr=5e-3)
    for _ in range(200):
        optimizer.zero_grad()
        y_hat, y_risk = wrapped(X, return_risk=True)
        loss = nn.functional.mse_loss(dist.sample((y_hat, y_risk)), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        _, final = wrapped(X_test, return_risk=True)
    assert float(final.median()) < float(initial.median()) / 50
    assert float(final.max()) < float(initial.median()) / 10
