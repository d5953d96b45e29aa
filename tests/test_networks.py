"""n_networks: networks trained side by side, each on its own hold-out (a deep ensemble)."""

import copy
import io

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from sculpt_sklearn import MLP, SculptRegressor, sculpt
from sculpt_sklearn._data import TensorData
from sculpt_sklearn._defaults import POOLED_MAX_ROWS, resolve_n_networks
from sculpt_sklearn._net import SculptNet
from sculpt_sklearn._stopping import NetworkEarlyStopping, network_losses
from sculpt_sklearn._training import split_validation
from sculpt_sklearn.datasets import make_heteroscedastic

MLP_FAST = dict(module=MLP, module__hidden_layer_sizes=(16,), max_epochs=25,
                n_iter_no_change=4, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=240, n_features=3, random_state=0)
    return X, y


def test_auto_is_two_networks_for_the_built_in_model_on_small_data_only():
    assert resolve_n_networks("auto", POOLED_MAX_ROWS, default_model=True) == 2
    assert resolve_n_networks("auto", POOLED_MAX_ROWS + 1, default_model=True) == 1
    assert resolve_n_networks("auto", None, default_model=True) == 1  # a stream
    assert resolve_n_networks("auto", 100, default_model=False) == 1
    assert resolve_n_networks(3, 10**6, default_model=False) == 3


def test_the_default_model_pools_two_networks_of_its_own(data):
    X, y = data
    reg = SculptRegressor(max_epochs=4, random_state=0).fit(X, y)
    assert reg.n_networks_ == 2
    assert isinstance(reg.module_, sculpt.Pool) and reg.module_.part_sizes == [16, 16]
    first, second = (dict(p.named_parameters()) for p in reg.module_.parts)
    assert not torch.equal(first["model.tabm.output.weight"], second["model.tabm.output.weight"])
    mlp = SculptRegressor(**MLP_FAST).fit(X, y)
    assert mlp.n_networks_ == 1 and isinstance(mlp.module_, sculpt.SculptModule)


def test_each_network_holds_out_its_own_rows_and_trains_on_the_rest():
    n, fraction = 50, 0.1
    data = TensorData(torch.randn(n, 2), torch.randn(n, 1), torch.rand(n) + 0.5)
    train, valid = split_validation(data, fraction, seed=3, n_networks=3)
    n_valid = 5  # ceil(0.1 * 50)
    # Disjoint hold-outs of n_valid rows each; every row trains some network.
    assert len(train) == n and len(valid) == 3 * n_valid
    assert valid.networks.sum(dim=0).tolist() == [n_valid] * 3
    assert valid.networks.sum(dim=1).tolist() == [1.0] * len(valid)
    # A network has weight 0 on exactly the training rows it holds out (matched by X).
    for p in range(3):
        held = valid.X[valid.networks[:, p] > 0]
        is_held = (train.X[:, None, :] == held[None]).all(-1).any(-1)
        assert torch.equal(train.networks[:, p] == 0, is_held)
        # Its weights times the row weights have mean one over the training rows.
        assert float((train.networks[:, p] * train.sample_weight).mean()) == pytest.approx(1.0)


def test_more_hold_outs_than_rows_allow_wrap_around_and_still_train():
    data = TensorData(torch.randn(6, 2), torch.randn(6, 1))
    train, valid = split_validation(data, 0.5, seed=0, n_networks=3)
    assert valid.networks.sum(dim=0).tolist() == [3.0, 3.0, 3.0]
    assert bool((train.networks > 0).any(dim=0).all())  # every network trains on rows


def _pool_net(k_sizes=(2, 3), seed=0):
    torch.manual_seed(seed)
    from test_wrapper_ensemble import HandEnsemble

    parts = [sculpt.Wrapper(sculpt.Normal, n_layers=1)(HandEnsemble(n_in=2, k=k))
             for k in k_sizes]
    net = SculptNet(sculpt.Pool(parts), nn.MSELoss, sculpt_loss="nll")
    net.initialize()
    return net


def test_a_network_gets_no_gradient_from_rows_it_holds_out():
    net = _pool_net()
    X, y = torch.randn(8, 2), torch.randn(8, 1)
    networks = torch.tensor([[0.0, 1.0]] * 8)  # network 0 holds out every row
    loss = net.get_loss(net.infer(X), (y, None, networks), training=True)
    loss.backward()
    first, second = net.module_.parts
    assert all(p.grad is None or not bool(p.grad.any()) for p in first.parameters())
    assert any(p.grad is not None and bool(p.grad.any()) for p in second.parameters())


def test_training_loss_is_each_networks_weighted_mean_averaged_over_members():
    net = _pool_net(seed=1)
    X, y = torch.randn(6, 2), torch.randn(6, 1)
    networks = torch.rand(6, 2)
    mu, sigma = net.infer(X)
    loss = net.get_loss((mu, sigma), (y, None, networks), training=True).item()
    # By hand: each member's Normal NLL (scipy) times its network's row weight.
    nll = -stats.norm.logpdf(y.numpy()[:, None, :], mu.detach().numpy(), sigma.detach().numpy())
    w = np.repeat(networks.numpy(), [2, 3], axis=1)[:, :, None]
    assert loss == pytest.approx(float((nll * w).mean()), rel=1e-5)


def test_validation_rows_are_scored_out_of_fold_by_the_networks_that_held_them_out():
    net = _pool_net(seed=2)
    net.module_.eval()
    X, y = torch.randn(10, 2), torch.randn(10, 1)
    w = torch.rand(10) + 0.2
    networks = torch.tensor([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 6)
    with torch.no_grad():
        mu, sigma = net.infer(X)
        loss = net.get_loss((mu, sigma), (y, w, networks), training=False)
    mu, sigma, yy = mu.numpy(), sigma.numpy(), y.numpy()[:, 0]
    by_hand = []
    for row in range(10):
        members = slice(0, 2) if row < 4 else slice(2, 5)  # its own network's members
        m, s = mu[row, members, 0], sigma[row, members, 0]
        mean = m.mean()
        var = (s**2 + m**2).mean() - mean**2
        by_hand.append(-stats.norm.logpdf(yy[row], mean, np.sqrt(var)))
    by_hand, w = np.array(by_hand), w.numpy()
    # batch_mean's convention: mean of weight * loss (weights normalised per set upstream).
    assert float(loss) == pytest.approx(np.mean(w * by_hand), rel=1e-5)
    # The per-network losses of the stopping rule: the same rows, network by network.
    valid = TensorData(X, y, torch.tensor(w), networks)
    own = network_losses(net, valid, (torch.tensor(mu), torch.tensor(sigma)))
    # Each network's own weighted mean over its rows.
    expected = [np.average(by_hand[:4], weights=w[:4]), np.average(by_hand[4:], weights=w[4:])]
    assert own == pytest.approx(expected, rel=1e-5)


def _held_out_members(reg, X, y):
    """The validation rows a fit of an MLP pool held out (same seed, same split), and
    every member's (mu, sigma) on them, in standardised units."""
    z = (y - reg.y_loc_) / reg.y_scale_
    rows = TensorData(torch.as_tensor(X, dtype=torch.float32),
                      torch.as_tensor(z[:, None], dtype=torch.float32))
    _, valid = split_validation(rows, reg.validation_fraction, reg._seed,
                                n_networks=reg.n_networks_)
    reg.module_.eval()
    with torch.no_grad():
        return valid, reg.net_.infer(valid.X)


def test_each_network_stops_on_its_own_and_keeps_its_best_weights(data):
    X, y = data
    reg = SculptRegressor(n_networks=2, **{**MLP_FAST, "max_epochs": 200}).fit(X, y)
    stopper = dict(reg.net_.callbacks_)["early_stopping"]
    assert isinstance(stopper, NetworkEarlyStopping) and stopper.all_stopped_
    history = reg.history_
    for p in (0, 1):
        losses = history[:, f"valid_loss_{p}"]
        best = stopper.best_epochs_[p]
        # Its best epoch is where its own validation loss was lowest (to within tol) ...
        assert losses[best - 1] <= min(losses) + reg.tol
        # ... it trained patience epochs more, then held its best weights, untouched,
        # while the other network went on.
        stopped = best + reg.n_iter_no_change
        assert stopped <= len(history)
        np.testing.assert_array_equal(losses[stopped:], losses[best - 1])
    assert stopper.best_epochs_[0] != stopper.best_epochs_[1]  # each on its own
    assert reg.best_epoch_ == max(stopper.best_epochs_)
    # Nothing of the training run stays in the fitted model: rows, weight copies.
    assert reg.net_.training_networks is None and reg.net_.train_split is None
    assert stopper._valid_predictions == [] and stopper.best_states_ == [None, None]
    # The weights held are each network's best: its out-of-fold loss, recomputed on
    # the rows the fit held out (same seed, same split), is its best loss.
    valid, members = _held_out_members(reg, X, y)
    assert network_losses(reg.net_, valid, members) == pytest.approx(stopper.best_losses_,
                                                                     rel=1e-5)


def test_two_mlp_networks_disagree_where_one_has_no_epistemic_part(data):
    X, y = data
    one = SculptRegressor(**MLP_FAST).fit(X, y).predict_uncertainty(X[:20])
    two = SculptRegressor(n_networks=2, **MLP_FAST).fit(X, y).predict_uncertainty(X[:20])
    assert np.all(one.epistemic == 0)
    assert np.all(two.epistemic > 0)
    np.testing.assert_allclose(two.total**2, two.aleatoric**2 + two.epistemic**2, rtol=1e-10)


def test_save_and_load_a_pool_round_trip_and_refuse_another_count(data):
    X, y = data
    reg = SculptRegressor(n_networks=2, **MLP_FAST).fit(X, y)
    buffer = io.BytesIO()
    reg.save_params(buffer)
    for n_networks in ("auto", 2):
        buffer.seek(0)
        loaded = SculptRegressor(n_networks=n_networks, **MLP_FAST).load_params(buffer)
        assert loaded.n_networks_ == 2
        np.testing.assert_array_equal(loaded.predict(X[:7]), reg.predict(X[:7]))
    buffer.seek(0)
    with pytest.raises(ValueError, match="n_networks=2"):
        SculptRegressor(n_networks=1, **MLP_FAST).load_params(buffer)


def test_a_module_instance_cannot_start_several_networks(data):
    X, y = data
    reg = SculptRegressor(module=MLP(3), n_networks=2, max_epochs=2)
    with pytest.raises(ValueError, match="pass its class"):
        reg.fit(X, y)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two"])
def test_bad_n_networks_is_refused(data, bad):
    X, y = data
    with pytest.raises(InvalidParameterError, match="n_networks"):
        SculptRegressor(n_networks=bad, **MLP_FAST).fit(X, y)


def test_n_networks_is_a_parameter_and_given_rows_train_every_network(data):
    X, y = data
    reg = SculptRegressor(n_networks=3, **MLP_FAST)
    assert clone(reg).get_params()["n_networks"] == 3
    fitted = copy.deepcopy(reg).fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    assert fitted.module_.part_sizes == [1, 1, 1]
    # Every row of X trains (no hold-out), and every network is scored on all of X_val.
    for epoch in fitted.history_:
        batches = epoch["batches"]
        assert sum(b.get("train_batch_size", 0) for b in batches) == 200
        assert sum(b.get("valid_batch_size", 0) for b in batches) == 40
    stopper = dict(fitted.net_.callbacks_)["early_stopping"]
    assert len(stopper.best_losses_) == 3
    assert np.all(np.isfinite(fitted.predict(X)))


def test_risk_is_calibrated_on_the_out_of_fold_rows_of_each_network(data):
    X, y = data
    params = dict(n_networks=2, **MLP_FAST)
    raw = SculptRegressor(calibrate_risk=False, **params).fit(X, y)
    reg = SculptRegressor(**params).fit(X, y)  # the same training, then the factor
    valid, members = _held_out_members(raw, X, y)
    mu, sigma = (t.double().numpy()[:, :, 0] for t in members)
    # Each held-out row by its own network's (one-member) predictive, by hand.
    own = valid.networks.numpy().astype(bool)
    mean, std = mu[own], sigma[own]
    factor = np.sqrt(np.mean(((valid.y.double().numpy()[:, 0] - mean) / std) ** 2))
    np.testing.assert_allclose(reg.risk_scale_, [factor], rtol=1e-4)


def test_a_network_without_weighted_rows_is_refused_before_training():
    n = 40
    data = TensorData(torch.randn(n, 2), torch.randn(n, 1))
    _, valid = split_validation(data, 0.1, seed=0, n_networks=2)
    # Zero weight on exactly the rows network 1 holds out: it could never stop early.
    held = (data.X[:, None, :] == valid.X[valid.networks[:, 1] > 0][None]).all(-1).any(-1)
    weighted = TensorData(data.X, data.y, (~held).float())
    with pytest.raises(ValueError, match="validation row of network 1 has sample_weight 0"):
        split_validation(weighted, 0.1, seed=0, n_networks=2)
    # Zero weight on every row a network trains on.
    weighted = TensorData(data.X, data.y, held.float())
    with pytest.raises(ValueError, match="Every row network 1 trains on has sample_weight 0"):
        split_validation(weighted, 0.1, seed=0, n_networks=2)
