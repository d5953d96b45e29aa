"""Row weights: one weighted-mean convention, checked up front, fixed across a stream (issue 11)."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.model_selection import train_test_split
from torch import nn

from sculpt_sklearn import SculptRegressor, sculpt
from sculpt_sklearn._net import batch_mean
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=300, random_state=0)


def test_zero_weight_validation_rows_are_refused_before_training():
    rng = np.random.default_rng(0)
    w = np.zeros(300)
    w[rng.choice(300, 5, replace=False)] = 1.0
    reg = SculptRegressor(max_epochs=3, random_state=0, n_networks=1)  # one hold-out
    n_valid = math.ceil(0.1 * 300)
    # Pick a seed whose validation rows all have weight 0.
    for seed in range(50):
        reg.set_params(random_state=seed)
        from sklearn.utils import check_random_state

        inner = int(check_random_state(seed).randint(2**31 - 1))
        _, idx = train_test_split(np.arange(300), test_size=n_valid, random_state=inner)
        if w[idx].sum() == 0:
            break
    with pytest.raises(ValueError, match="Every validation row has sample_weight 0"):
        reg.fit(X, Y, sample_weight=w)
    assert not hasattr(reg, "n_iter_") or reg.n_iter_ == 0


def test_few_nonzero_validation_weights_leave_the_risk_uncalibrated():
    w = np.ones(300)
    w[::2] = 0.0  # about 15 non-zero weights among the 30 validation rows: below 20
    reg = SculptRegressor(max_epochs=5, random_state=0, n_networks=1).fit(X, Y, sample_weight=w)
    np.testing.assert_array_equal(reg.risk_scale_, [1.0])


def test_validation_loss_is_the_weighted_mean_nll_of_the_validation_rows():
    w = np.random.default_rng(1).uniform(0.1, 5.0, size=300)
    reg = SculptRegressor(max_epochs=5, n_iter_no_change=100, loss="nll", calibrate_risk=False,
                          distribution="normal",
                          random_state=0, n_networks=1).fit(X, Y, sample_weight=w)
    n_valid = math.ceil(0.1 * 300)
    _, idx = train_test_split(np.arange(300), test_size=n_valid, random_state=reg._seed)
    mean, std = reg.predict(X[idx], return_std=True)
    z_nll = -stats.norm.logpdf(Y[idx], mean, std) - np.log(reg.y_scale_[0])
    best = min(reg.history_[:, "valid_loss"])
    assert np.average(z_nll, weights=w[idx]) == pytest.approx(best, rel=1e-4, abs=1e-4)


def test_batch_losses_average_to_loss_function_over_the_set():
    g = torch.Generator().manual_seed(0)
    y, mu = torch.randn(64, 1, generator=g), torch.randn(64, 1, generator=g)
    sd = torch.rand(64, 1, generator=g) + 0.5
    w = torch.rand(64, generator=g) * 3
    full = sculpt.Normal.loss_function(y, mu, sd, sample_weight=w)
    wn = w * (64 / w.sum())
    nll = sculpt.Normal.nll(y, mu, sd)
    parts = [batch_mean(nll[i:i + 16], wn[i:i + 16]) for i in range(0, 64, 16)]
    torch.testing.assert_close(torch.stack(parts).mean(), full)


def test_partial_fit_weights_compare_across_chunks():
    heavy = SculptRegressor(random_state=0, lr=1e-3)
    light = SculptRegressor(random_state=0, lr=1e-3)
    heavy.partial_fit(X[:150], Y[:150], sample_weight=np.ones(150))
    light.partial_fit(X[:150], Y[:150], sample_weight=np.ones(150))
    # Second chunk: 100x the weight must train differently from weight 1.
    heavy.partial_fit(X[150:], Y[150:], sample_weight=np.full(150, 100.0))
    light.partial_fit(X[150:], Y[150:], sample_weight=np.ones(150))
    assert heavy.history_[-1, "train_loss"] == pytest.approx(
        100 * light.history_[-1, "train_loss"], rel=0.5)
    assert not np.allclose(heavy.predict(X[:20]), light.predict(X[:20]))


class CountingMSE(nn.MSELoss):
    pass


def test_criterion_instance_with_mean_reduction_still_weights_rows():
    w = np.ones(300)
    w[:150] = 0.0
    user = nn.MSELoss()  # reduction="mean"
    kwargs = dict(loss="sample", max_epochs=3, early_stopping=False, random_state=0)
    a = SculptRegressor(criterion=user, **kwargs).fit(X, Y, sample_weight=w)
    b = SculptRegressor(criterion=nn.MSELoss, **kwargs).fit(X, Y, sample_weight=w)
    assert user.reduction == "mean"  # the user's object is not changed
    np.testing.assert_allclose(a.predict(X[:10]), b.predict(X[:10]), rtol=1e-6)
