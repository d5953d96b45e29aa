"""SculptRegressor: the estimator contract (issue 3)."""

import math
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback
from torch import nn

from sculpt_sklearn import MLP, SculptRegressor, _optimizer, sculpt
from sculpt_sklearn._defaults import resolve_schedule
from sculpt_sklearn.datasets import make_heteroscedastic

FAST = dict(max_epochs=15, n_iter_no_change=5, random_state=0)


class TwoLayerNet(nn.Module):
    """A user module whose constructor asks for the input and output widths."""

    def __init__(self, n_features, n_outputs=1, hidden=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        return self.out(self.body(x))


class LazyNet(nn.Module):
    """Lazy layers: the input width is discovered at the first call."""

    def __init__(self, hidden=8):
        super().__init__()
        self.net = nn.Sequential(nn.LazyLinear(hidden), nn.ReLU(), nn.LazyLinear(1))

    def forward(self, x):
        return self.net(x)


@pytest.fixture(scope="module")
def data():
    X, y, std = make_heteroscedastic(n_samples=400, random_state=0)
    return X, y, std


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _ = data
    return SculptRegressor(**FAST).fit(X, y)


# --------------------------------------------------------------- basic contract
def test_default_estimator_predicts_mean_and_positive_risk(fitted, data):
    X = data[0]
    mean = fitted.predict(X)
    mean2, risk = fitted.predict(X, return_risk=True)
    mean3, std = fitted.predict(X, return_std=True)
    assert mean.shape == risk.shape == (len(X),)
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(mean, mean3)
    # The default is an ensemble: the total std adds the members' spread to the risk.
    u = fitted.predict_uncertainty(X)
    np.testing.assert_array_equal(u.aleatoric, risk)
    np.testing.assert_array_equal(u.total, std)
    np.testing.assert_allclose(std**2, risk**2 + u.epistemic**2, rtol=1e-12)
    assert np.all(u.epistemic > 0) and np.all(std > risk)
    both = fitted.predict(X, return_risk=True, return_std=True)
    np.testing.assert_array_equal(both[1], risk)
    np.testing.assert_array_equal(both[2], std)
    assert np.all(risk > 0) and np.all(np.isfinite(risk))
    assert fitted.n_features_in_ == X.shape[1]
    assert fitted.n_outputs_ == 1
    # 400 rows: two TabM networks side by side (n_networks="auto"), 16 members each.
    assert isinstance(fitted.module_, sculpt.Pool) and fitted.module_.part_sizes == [16, 16]
    assert fitted.module_ is fitted.net_.module_
    assert len(fitted.history_) == fitted.n_iter_ >= 1


def test_init_sets_only_parameters():
    reg = SculptRegressor(lr=0.01, module__hidden_layer_sizes=(8,))
    public = {k for k in vars(reg) if not k.startswith("_")}
    assert public == set(SculptRegressor._parameter_constraints)
    assert not hasattr(reg, "net_")


def test_score_is_r2(fitted, data):
    from sklearn.metrics import r2_score

    X, y, _ = data
    assert fitted.score(X, y) == pytest.approx(r2_score(y, fitted.predict(X)))


def test_learns_the_noise_level(hetero_data):
    X, y, _, Xt, yt, stdt = hetero_data
    reg = make_pipeline(StandardScaler(), SculptRegressor(max_epochs=120, random_state=0))
    reg.fit(X, y)
    mean, risk = reg.predict(Xt, return_risk=True)
    assert spearmanr(risk, stdt).statistic >= 0.85
    assert 0.75 < np.median(risk / stdt) < 1.3
    assert np.sqrt(np.mean((mean - yt) ** 2)) < 1.25 * np.sqrt(np.mean(stdt**2))


def test_predict_dist_interval_and_sample_agree(fitted, data):
    X = data[0][:50]
    mean, std = fitted.predict(X, return_std=True)  # the total std, which intervals use
    dist = fitted.predict_dist(X)
    np.testing.assert_allclose(dist.mean(), mean, rtol=1e-12)
    np.testing.assert_allclose(dist.std(), std, rtol=1e-12)
    lower, upper = fitted.predict_interval(X, confidence_level=0.9)
    # The built-in model's "auto" family: Student-t, 5 degrees of freedom, whose
    # std is scale * sqrt(5 / 3), so the scale is std * sqrt(3 / 5).
    assert fitted.distribution_ is sculpt.StudentT
    z = stats.t.ppf(0.95, df=5) * math.sqrt(3 / 5)
    np.testing.assert_allclose(lower, mean - z * std, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(upper, mean + z * std, rtol=1e-9, atol=1e-12)
    l50, u50 = fitted.predict_interval(X, confidence_level=0.5)
    assert np.all(lower <= l50) and np.all(l50 < u50) and np.all(u50 <= upper)
    draws = fitted.sample(X, n_samples=4000, random_state=0)
    assert draws.shape == (50, 4000)
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=5 * std.max() / math.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=1), std, rtol=0.08)
    np.testing.assert_array_equal(draws, fitted.sample(X, n_samples=4000, random_state=0))


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, "0.9", True])
def test_predict_interval_rejects_bad_confidence_level(fitted, data, level):
    with pytest.raises(ValueError, match="between 0 and 1"):
        fitted.predict_interval(data[0][:5], confidence_level=level)


# ------------------------------------------------------------- module handling
def test_module_class_gets_widths_and_prefixed_params(data):
    X, y, _ = data
    reg = SculptRegressor(TwoLayerNet, module__hidden=7, **FAST).fit(X, y)
    body = reg.module_.model.body[0]
    assert body.in_features == X.shape[1] and body.out_features == 7
    assert reg.module_.risk_head.net[0].in_features == 7


def test_module_instance_is_copied_not_trained_in_place(data):
    X, y, _ = data
    net = TwoLayerNet(X.shape[1], hidden=5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    reg = SculptRegressor(net, **FAST).fit(X, y)
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert reg.module_.model is not net


def test_lazy_module_works(data):
    X, y, _ = data
    reg = SculptRegressor(LazyNet, **FAST).fit(X, y)
    assert reg.predict(X[:3]).shape == (3,)


def test_default_mlp_hidden_sizes(data):
    X, y, _ = data
    reg = SculptRegressor(MLP, module__hidden_layer_sizes=(9, 4), **FAST).fit(X, y)
    linears = [m for m in reg.module_.model.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [9, 4, 1]
    assert isinstance(reg.module_.model, MLP)


@pytest.mark.parametrize("distribution", ["normal", "laplace", "studentt", sculpt.Laplace,
                                          sculpt.StudentT.with_df(3)])
def test_distributions(data, distribution):
    X, y, _ = data
    reg = SculptRegressor(distribution=distribution, **FAST).fit(X, y)
    expected = sculpt.get_distribution(distribution)
    assert reg.distribution_ is expected
    _, std = reg.predict(X[:20], return_std=True)
    np.testing.assert_allclose(reg.predict_dist(X[:20]).std(), std, rtol=1e-10)


@pytest.mark.parametrize("loss", ["nll", "beta_nll", "crps", "faithful"])
def test_every_likelihood_objective_learns_the_noise_level(hetero_data, loss):
    X, y, _, Xt, _, std_t = hetero_data
    reg = SculptRegressor(MLP, loss=loss, max_epochs=60, n_iter_no_change=60,
                          random_state=0).fit(X, y)
    risk = reg.predict(Xt, return_risk=True)[1]
    assert spearmanr(risk, std_t)[0] > 0.8
    assert 0.5 < np.median(risk / std_t) < 2.0
    assert reg.module_.detach_features == (loss == "faithful")


def test_sampling_through_mse_collapses_the_risk(hetero_data):
    # The Sculpt seed's mode B: E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2,
    # minimised by risk = 0, so the risk falls to its floor while the mean trains.
    X, y, _, Xt, yt, std_t = hetero_data
    reg = SculptRegressor(MLP, loss="sample", max_epochs=60, n_iter_no_change=60,
                          calibrate_risk=False, random_state=0).fit(X, y)
    risk = reg.predict(Xt, return_risk=True)[1]
    assert np.median(risk / std_t) < 0.05
    assert reg.score(Xt, yt) > 0.3


def test_criterion_weight_adds_the_weighted_criterion_to_the_objective(data):
    X, y, _ = data
    reg = SculptRegressor(MLP, criterion_weight=2.5, max_epochs=1, random_state=0).fit(X, y)
    net = reg.net_
    xb = torch.as_tensor(X[:32], dtype=torch.float32)
    zb = torch.as_tensor((y[:32, None] - reg.y_loc_) / reg.y_scale_, dtype=torch.float32)
    with torch.no_grad():
        mu, sigma = net.infer(xb)
        with_term = net.get_loss((mu, sigma), (zb, None, None), training=True)
        net.criterion_weight = 0.0
        without = net.get_loss((mu, sigma), (zb, None, None), training=True)
    by_hand = 2.5 * torch.mean((mu[:, 0] - zb) ** 2)
    torch.testing.assert_close(with_term - without, by_hand, rtol=1e-5, atol=1e-6)


def test_crps_refused_for_a_family_without_closed_form(data):
    class NoCRPS(sculpt.Normal):
        has_crps = False

    X, y, _ = data
    with pytest.raises(ValueError, match="closed form"):
        SculptRegressor(distribution=NoCRPS, loss="crps", **FAST).fit(X, y)


# --------------------------------------------------------- prefixed parameters
def test_prefixed_params_are_real_parameters():
    reg = SculptRegressor(module__hidden_layer_sizes=(8,), optimizer__betas=(0.8, 0.9))
    params = reg.get_params()
    assert params["module__hidden_layer_sizes"] == (8,)
    assert params["optimizer__betas"] == (0.8, 0.9)
    reg.set_params(module__hidden_layer_sizes=(4,), module__dropout=0.1, lr=0.01)
    assert reg.get_params()["module__hidden_layer_sizes"] == (4,)
    assert reg.get_params()["module__dropout"] == 0.1
    cloned = clone(reg)
    assert cloned.get_params()["module__dropout"] == 0.1
    assert cloned.lr == 0.01
    assert "module__dropout=0.1" in repr(cloned)


def test_optimizer_runs_one_kernel_per_update_unless_the_user_says_otherwise(data):
    # torch picks a multi-tensor update by itself only for CUDA tensors; on the CPU the
    # fused kernel (Adam/AdamW, torch >= 2.4) or else foreach is faster than the loop.
    X, y, _ = data
    reg = SculptRegressor(**FAST).fit(X, y)
    defaults = reg.net_.optimizer_.defaults
    fused_on_cpu = _optimizer.fused_supported(torch.optim.AdamW, "cpu", {"weight_decay": 0.0})
    assert defaults.get("fused") is (True if fused_on_cpu else None)
    assert defaults.get("foreach") is (None if fused_on_cpu else True)
    # The user's choice wins, and one of the two is never set beside the other.
    reg = SculptRegressor(optimizer__foreach=False, **FAST).fit(X, y)
    assert reg.net_.optimizer_.defaults["foreach"] is False
    assert not reg.net_.optimizer_.defaults.get("fused")
    reg = SculptRegressor(optimizer__fused=False, **FAST).fit(X, y)
    assert reg.net_.optimizer_.defaults["fused"] is False
    assert reg.net_.optimizer_.defaults["foreach"] is None
    # An optimizer with foreach and no fused kernel gets foreach.
    reg = SculptRegressor(optimizer=torch.optim.RMSprop, **FAST).fit(X, y)
    assert reg.net_.optimizer_.defaults["foreach"] is True
    # An optimizer without either argument gets none.
    reg = SculptRegressor(optimizer=torch.optim.LBFGS, weight_decay=0, **FAST)
    assert "foreach" not in reg.fit(X, y).net_.optimizer_.defaults


def test_fused_support_is_tried_not_assumed():
    # A device without the kernel (or without torch support at all) answers False.
    assert _optimizer.fused_supported(torch.optim.AdamW, "no-such-device", {}) is False
    assert _optimizer.fused_supported(torch.optim.AdamW, "cpu", {"differentiable": True}) is False


def test_set_params_in_pipeline_routes_prefixed_params():
    pipe = Pipeline([("scale", StandardScaler()), ("reg", SculptRegressor())])
    pipe.set_params(reg__module__hidden_layer_sizes=(3,), reg__n_layers=1)
    assert pipe.named_steps["reg"].get_params()["module__hidden_layer_sizes"] == (3,)
    assert pipe.get_params()["reg__module__hidden_layer_sizes"] == (3,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"module__d_blok": 64}, "Did you mean module__d_block"),
        ({"modul__hidden": 3}, "Unknown parameter 'modul__hidden'"),
        ({"max_epoch": 3}, "Did you mean max_epochs"),
        ({"optimizer__betaz": (0.9, 0.9)}, "Did you mean optimizer__betas"),
        ({"optimizer__lr": 0.1}, "estimator's own parameter lr"),
    ],
)
def test_prefixed_typos_are_rejected_in_fit(data, kwargs, match):
    X, y, _ = data
    reg = SculptRegressor(**kwargs, **FAST)  # stored, not validated, in __init__
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)


def test_set_params_rejects_unknown_plain_name():
    with pytest.raises(ValueError, match="Invalid parameter"):
        SculptRegressor().set_params(max_epoch=3)


def test_module_params_with_an_instance_are_refused(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="pass the class instead"):
        SculptRegressor(TwoLayerNet(X.shape[1]), module__hidden=3, **FAST).fit(X, y)


# ---------------------------------------------------------- model selection
def test_grid_search_over_prefixed_params_in_pipeline(data):
    X, y, _ = data
    pipe = Pipeline([("scale", StandardScaler()),
                     ("reg", SculptRegressor(TwoLayerNet, max_epochs=5, random_state=0))])
    grid = GridSearchCV(
        pipe,
        {"reg__module__hidden": [8, 16], "reg__n_layers": [1, 3],
         "reg__distribution": ["normal", "laplace"]},
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    best = grid.best_estimator_.named_steps["reg"]
    assert best.module_.model.out.in_features == grid.best_params_["reg__module__hidden"]
    n_linear = sum(isinstance(m, nn.Linear) for m in best.module_.risk_head.modules())
    assert n_linear == grid.best_params_["reg__n_layers"]


def test_cross_validate_randomized_search_and_transformed_target(data):
    X, y, _ = data
    reg = SculptRegressor(max_epochs=5, random_state=0)
    scores = cross_validate(reg, X, y, cv=3)
    assert np.all(np.isfinite(scores["test_score"]))
    search = RandomizedSearchCV(reg, {"lr": [1e-3, 3e-3], "batch_size": [32, 64]}, n_iter=2,
                                cv=2, random_state=0).fit(X, y)
    assert search.best_params_["lr"] in (1e-3, 3e-3)
    ttr = TransformedTargetRegressor(regressor=reg, func=np.arcsinh, inverse_func=np.sinh)
    assert ttr.fit(X, y).predict(X[:4]).shape == (4,)


# ------------------------------------------------------------------- targets
def test_multi_output_shapes(data):
    X, y, _ = data
    Y = np.column_stack([y, -2 * y + 1, np.sin(X[:, 0])])
    reg = SculptRegressor(**FAST).fit(X, Y)
    mean, risk = reg.predict(X[:7], return_risk=True)
    assert mean.shape == risk.shape == (7, 3)
    lower, upper = reg.predict_interval(X[:7])
    assert lower.shape == upper.shape == (7, 3)
    assert reg.sample(X[:7], n_samples=5, random_state=0).shape == (7, 3, 5)
    column = SculptRegressor(**FAST).fit(X, y.reshape(-1, 1))
    assert column.predict(X[:7]).shape == (7, 1)


def test_constant_target_gives_finite_output(data):
    X = data[0]
    reg = SculptRegressor(**FAST).fit(X, np.full(len(X), 5.0))
    mean, risk = reg.predict(X[:5], return_risk=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(risk)) and np.all(risk > 0)
    np.testing.assert_allclose(mean, 5.0, atol=0.5)


# -------------------------------------------------------------- sample weights
def test_integer_weights_train_like_repeated_rows(data):
    # Full batches make one step over the weighted rows the same as one over the
    # repeated rows, so the two fits agree to float error: a weighting bug breaks it.
    X, y, _ = data
    counts = np.random.default_rng(0).integers(0, 4, size=len(X)).astype(float)
    counts[:2] = 1.0
    rep = np.repeat(np.arange(len(X)), counts.astype(int))
    kw = dict(module=MLP, max_epochs=20, early_stopping=False, batch_size=10_000,
              random_state=0)
    weighted = SculptRegressor(**kw).fit(X, y, sample_weight=counts)
    repeated = SculptRegressor(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(weighted.y_loc_, repeated.y_loc_, rtol=1e-12)
    np.testing.assert_allclose(weighted.y_scale_, repeated.y_scale_, rtol=1e-12)
    for a, b in zip(weighted.predict(X[:20], return_std=True),
                    repeated.predict(X[:20], return_std=True), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_sample_weight_moves_the_fit_toward_weighted_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 1))
    group = (np.arange(600) % 2).astype(bool)
    y = np.where(group, 3.0, -3.0) + 0.1 * rng.normal(size=600)  # same X, two labels
    w = np.where(group, 10.0, 0.1)
    reg = SculptRegressor(max_epochs=40, early_stopping=False, random_state=0)
    mean = reg.fit(X, y, sample_weight=w).predict(X)
    assert np.median(mean) > 2.0


# ----------------------------------------------------------- training knobs
def test_same_random_state_gives_identical_fits_and_keeps_global_rng(data):
    X, y, _ = data
    state = torch.get_rng_state()
    a = SculptRegressor(**FAST).fit(X, y).predict(X[:20], return_risk=True)
    b = SculptRegressor(**FAST).fit(X, y).predict(X[:20], return_risk=True)
    torch.testing.assert_close(torch.get_rng_state(), state, rtol=0, atol=0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = SculptRegressor(**{**FAST, "random_state": 1}).fit(X, y).predict(X[:20])
    assert not np.allclose(a[0], c)


def test_early_stopping_restores_the_best_weights(data):
    X, y, _ = data
    # One network, one hold-out (networks side by side: tests/test_networks.py).
    reg = SculptRegressor(max_epochs=200, n_iter_no_change=5, lr=1e-2, random_state=0,
                          distribution="normal",
                          loss="nll", calibrate_risk=False, n_networks=1).fit(X, y)
    valid = np.asarray(reg.history_[:, "valid_loss"])
    assert reg.n_iter_ < 200  # it stopped
    n_valid = math.ceil(0.1 * len(X))
    _, idx_valid = train_test_split(np.arange(len(X)), test_size=n_valid,
                                    random_state=reg._seed)
    mean, std = reg.predict(X[idx_valid], return_std=True)
    z_nll = -stats.norm.logpdf(y[idx_valid], mean, std) - np.log(reg.y_scale_[0])
    assert np.mean(z_nll) == pytest.approx(valid.min(), rel=1e-4, abs=1e-4)


def test_no_early_stopping_trains_max_epochs(data):
    X, y, _ = data
    reg = SculptRegressor(max_epochs=7, early_stopping=False, random_state=0).fit(X, y)
    assert reg.n_iter_ == 7
    assert "valid_loss" not in reg.history_[-1]


def test_warm_start_and_partial_fit_continue_training(data):
    X, y, _ = data
    reg = SculptRegressor(max_epochs=3, early_stopping=False, warm_start=True, random_state=0)
    reg.fit(X, y)
    key = "parts.1.risk_head.net.0.weight"  # the second of two networks
    first = reg.module_.state_dict()[key].clone()
    reg.fit(X, y)
    assert reg.n_iter_ == 6
    assert not torch.equal(first, reg.module_.state_dict()[key])
    streamed = SculptRegressor(random_state=0)
    for chunk in np.array_split(np.arange(len(X)), 4):
        streamed.partial_fit(X[chunk], y[chunk])
    assert streamed.n_iter_ == 4
    assert np.all(np.isfinite(streamed.predict(X)))


def test_verbose_prints_skorch_table_and_progress_bar(data, capsys):
    X, y, _ = data
    SculptRegressor(max_epochs=2, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out
    SculptRegressor(max_epochs=1, progress_bar=True, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    bar = captured.out + captured.err
    assert "it/s" in bar or "s/it" in bar, bar  # tqdm's rate: the bar was drawn
def test_user_callbacks_are_called(data):
    X, y, _ = data

    class Counter(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = Counter()
    reg = SculptRegressor(max_epochs=3, early_stopping=False, callbacks=[counter],
                          random_state=0).fit(X, y)
    assert dict(reg.net_.callbacks_)["user_0"].epochs == 3


class GradNorms(Callback):
    """Record the total gradient norm after each training step."""

    def initialize(self):
        self.norms = []
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            grads = [p.grad for p in net.module_.parameters() if p.grad is not None]
            self.norms.append(float(torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g) for g in grads]))))


@pytest.mark.parametrize("limit", [None, 0.05])
def test_gradient_clipping_bounds_every_step(data, limit):
    X, y, _ = data
    reg = SculptRegressor(max_grad_norm=limit, callbacks=[GradNorms()], **FAST).fit(X, y)
    norms = np.asarray(dict(reg.net_.callbacks_)["user_0"].norms)
    assert norms.size > 10
    if limit is None:
        assert norms.max() > 0.05  # so the clipped run below has something to clip
    else:
        assert norms.max() <= limit * (1 + 1e-4)


# ------------------------------------------------------------------- pandas
def test_dataframe_feature_names_and_warning(data):
    X, y, _ = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reg = SculptRegressor(**FAST).fit(df, pd.Series(y))
    np.testing.assert_array_equal(reg.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = reg.predict(X)
    np.testing.assert_allclose(reg.predict(df), from_array, rtol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(df[df.columns[::-1]])


def test_column_transformer_with_categorical_column_and_no_warnings():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "size": rng.uniform(1, 3, size=n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
    })
    y = df["x"] * 2 + (df["colour"] == "red") * 3 + rng.normal(size=n) * df["size"]
    pre = ColumnTransformer([
        ("num", StandardScaler(), ["x", "size"]),
        ("cat", OneHotEncoder(sparse_output=False), ["colour"]),
    ]).set_output(transform="pandas")
    pipe = make_pipeline(pre, SculptRegressor(**FAST))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(df, y)
        mean, risk = pipe.predict(df, return_risk=True)
    assert mean.shape == risk.shape == (n,)
    assert list(pipe[-1].feature_names_in_)[:2] == ["num__x", "num__size"]


def test_read_only_float32_input_gives_no_warning(data):
    X, y, _ = data
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X32.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = SculptRegressor(**FAST).fit(X32, y)
        reg.predict(X32)


# -------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trips(fitted, data, tmp_path):
    X = data[0][:50]
    expected = fitted.predict(X, return_risk=True)
    restored = pickle.loads(pickle.dumps(fitted))
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    for model in (restored, loaded):
        got = model.predict(X, return_risk=True)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_predict_in_float64_is_batch_invariant(fitted, data):
    X = data[0]
    full = fitted.predict(X, return_risk=True)
    parts = [fitted.predict(X[i:i + 7], return_risk=True) for i in range(0, len(X), 7)]
    np.testing.assert_allclose(np.concatenate([p[0] for p in parts]), full[0], rtol=1e-12)
    np.testing.assert_allclose(np.concatenate([p[1] for p in parts]), full[1], rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device(data):
    X, y, _ = data
    reg = SculptRegressor(device="cuda", **FAST).fit(X, y)
    assert reg.predict(X[:5]).shape == (5,)


def test_predict_quantiles_match_the_predictive_distribution(fitted, data):
    X = data[0][:20]
    q = fitted.predict_quantiles(X, [0.05, 0.5, 0.95])
    assert q.shape == (20, 3)
    dist = fitted.predict_dist(X)
    for j, level in enumerate([0.05, 0.5, 0.95]):
        np.testing.assert_allclose(q[:, j], dist.ppf(level), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        fitted.predict_quantiles(X, [0.5, 1.0])


def test_pipeline_forwards_return_std_with_metadata_routing_on(data):
    import sklearn

    X, y, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), SculptRegressor(**FAST)).fit(X, y)
        mean, std = pipe.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,)


def test_risk_hidden_sets_the_head_width(data):
    X, y, _ = data
    reg = SculptRegressor(TwoLayerNet, risk_hidden=11, n_layers=3, **FAST).fit(X, y)
    widths = [m.out_features for m in reg.module_.risk_head.modules() if isinstance(m, nn.Linear)]
    assert widths == [11, 11, 1]


def test_fixed_target_standardisation(data):
    X, y, _ = data
    reg = SculptRegressor(target_loc=10.0, target_scale=2.0, **FAST).fit(X, y)
    np.testing.assert_array_equal(reg.y_loc_, [10.0])
    np.testing.assert_array_equal(reg.y_scale_, [2.0])
    streamed = SculptRegressor(target_loc=y.mean(), target_scale=y.std(), random_state=0)
    streamed.partial_fit(X[:50], y[:50])
    assert streamed.y_loc_[0] == pytest.approx(y.mean())
    with pytest.raises(ValueError, match="both target_loc and target_scale"):
        SculptRegressor(target_loc=1.0, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="target_scale finite and > 0"):
        SculptRegressor(target_loc=0.0, target_scale=0.0, **FAST).fit(X, y)


def test_continuing_on_another_device_is_refused(data):
    X, y, _ = data
    reg = SculptRegressor(max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    reg.set_params(device="mps")  # a valid device, but not the weights'
    with pytest.raises(ValueError, match="fitted weights are on cpu"):
        reg.fit(X, y)


def test_calibrate_risk_is_the_likelihood_factor_on_held_out_rows(data):
    X, y, _ = data
    raw = SculptRegressor(calibrate_risk=False, n_networks=1, distribution="normal",
                          **FAST).fit(X, y)
    reg = SculptRegressor(n_networks=1, distribution="normal", **FAST).fit(X, y)
    _, idx_valid = train_test_split(np.arange(len(X)), test_size=math.ceil(0.1 * len(X)),
                                    random_state=reg._seed)
    mean, std = raw.predict(X[idx_valid], return_std=True)
    factor = np.sqrt(np.mean(((y[idx_valid] - mean) / std) ** 2))  # Normal MLE, by hand
    np.testing.assert_allclose(reg.risk_scale_, [factor], rtol=1e-4)
    np.testing.assert_allclose(reg.predict(X[:9], return_std=True)[1],
                               factor * raw.predict(X[:9], return_std=True)[1], rtol=1e-4)
    few = SculptRegressor(n_networks=1, **FAST).fit(X[:100], y[:100])  # 10 rows: no factor
    np.testing.assert_array_equal(few.risk_scale_, [1.0])


@pytest.mark.parametrize(
    ("n_rows", "expected"),
    [(300, (1000, 32, 3e-3, 50)), (1500, (300, 32, 3e-3, 20)), (2500, (300, 64, 1e-3, 20))],
)
def test_auto_training_parameters_of_a_plain_module_follow_the_number_of_rows(n_rows, expected):
    X, y, _ = make_heteroscedastic(n_samples=n_rows, random_state=0)
    reg = SculptRegressor(MLP, max_epochs=1, random_state=0).fit(X, y)
    _, batch_size, lr, patience = expected
    assert (reg.net_.batch_size, reg.net_.lr) == (batch_size, lr)
    assert dict(reg.net_.callbacks_)["early_stopping"].patience == patience
    schedule = resolve_schedule(SculptRegressor(MLP).get_params(), n_rows)
    assert tuple(schedule[k] for k in ("max_epochs", "batch_size", "lr", "n_iter_no_change")) \
        == expected


@pytest.mark.parametrize("n_rows", [300, 2500])
def test_the_default_model_trains_with_its_own_rule_for_its_rows(n_rows):
    X, y, _ = make_heteroscedastic(n_samples=n_rows, random_state=0)
    reg = SculptRegressor(max_epochs=1, random_state=0).fit(X, y)
    rule = resolve_schedule(SculptRegressor().get_params(), n_rows, default_model=True)
    assert (reg.net_.batch_size, reg.net_.lr) == (rule["batch_size"], rule["lr"])
    assert dict(reg.net_.callbacks_)["early_stopping"].patience == rule["n_iter_no_change"]
