"""Training state across calls: warm starts, partial_fit, divergence, the shape probe (issue 11)."""

import numpy as np
import pytest
import torch
from helpers import NaNGradientsAt
from torch import nn

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn._defaults import resolve_schedule
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=300, random_state=0)


def test_warm_start_honours_max_epochs_and_lr_set_between_fits():
    reg = SculptRegressor(max_epochs=5, lr=1e-3, early_stopping=False, warm_start=True,
                          random_state=0).fit(X, Y)
    assert reg.n_iter_ == 5
    reg.set_params(max_epochs=2, lr=0.02, batch_size=50)
    reg.fit(X, Y)
    assert reg.n_iter_ == 7  # 5 + 2, not 5 + 5
    assert [g["lr"] for g in reg.net_.optimizer_.param_groups] == [0.02]
    assert reg.net_.batch_size == 50
    # 270 training rows in batches of 50: 6 steps in the last epoch.
    assert len(reg.history_[-1, "batches"]) == 6


def test_warm_start_switches_early_stopping_and_calibration_on_and_off():
    reg = SculptRegressor(max_epochs=3, early_stopping=False, warm_start=True,
                          random_state=0).fit(X, Y)
    assert "valid_loss" not in reg.history_[-1]
    reg.set_params(early_stopping=True, n_iter_no_change=2, max_epochs=50)
    reg.fit(X, Y)
    assert "valid_loss" in reg.history_[-1]
    assert dict(reg.net_.callbacks_)["early_stopping"].patience == 2
    assert reg.risk_scale_[0] != 1.0  # calibrated on the held-out rows
    reg.set_params(early_stopping=False, max_epochs=1)
    reg.fit(X, Y)
    assert "early_stopping" not in dict(reg.net_.callbacks_)


def test_partial_fit_does_not_switch_early_stopping_off_for_a_later_fit():
    reg = SculptRegressor(max_epochs=4, warm_start=True, random_state=0)
    reg.partial_fit(X, Y)
    assert "valid_loss" not in reg.history_[-1]
    reg.fit(X, Y)
    assert "valid_loss" in reg.history_[-1]
    assert "early_stopping" in dict(reg.net_.callbacks_)




def test_divergence_recovery_resets_the_optimizer_so_training_can_continue():
    reg = SculptRegressor(max_epochs=10, callbacks=[NaNGradientsAt(4)], random_state=0)
    with pytest.warns(RuntimeWarning, match="optimizer was reset"):
        reg.fit(X, Y)
    state = reg.net_.optimizer_.state
    assert all(torch.isfinite(t).all() for s in state.values() for t in s.values()
               if isinstance(t, torch.Tensor))
    reg.set_params(callbacks=None)
    reg.partial_fit(X, Y)  # diverged at once before the fix
    assert np.isfinite(reg.predict(X)).all()


class BatchNormNet(nn.Module):
    def __init__(self, n_features, n_outputs=1):
        super().__init__()
        self.norm = nn.BatchNorm1d(n_features)
        self.out = nn.Linear(n_features, n_outputs)

    def forward(self, x):
        return self.out(self.norm(x))


def test_shape_probe_leaves_batchnorm_statistics_untouched():
    reg = SculptRegressor(BatchNormNet, max_epochs=1, early_stopping=False, batch_size=300,
                          random_state=0).fit(X, Y)
    # One epoch of one batch: exactly one update of the running statistics.
    norm = reg.module_.model.norm
    assert int(norm.num_batches_tracked) == 1
    expected = 0.9 * 0.0 + 0.1 * X.mean(axis=0)  # momentum 0.1 from zeros
    np.testing.assert_allclose(norm.running_mean.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("module", [None, MLP])
def test_partial_fit_auto_schedule_does_not_depend_on_the_first_chunk_size(module):
    big, _, _ = make_heteroscedastic(n_samples=3000, random_state=1)
    small_first = SculptRegressor(module, random_state=0).partial_fit(X[:100], Y[:100])
    large_first = SculptRegressor(module, random_state=0).partial_fit(big, big[:, 0])
    assert (small_first.net_.batch_size, small_first.net_.lr) == \
        (large_first.net_.batch_size, large_first.net_.lr)
    # The documented streaming rule is the rule of the largest data.
    rule = resolve_schedule(SculptRegressor(module).get_params(), 10**9, module is None)
    assert (small_first.net_.batch_size, small_first.net_.lr) == (rule["batch_size"], rule["lr"])
    explicit = SculptRegressor(module, batch_size=16, lr=5e-3, random_state=0).partial_fit(X, Y)
    assert (explicit.net_.batch_size, explicit.net_.lr) == (16, 5e-3)


def test_evaluating_runs_without_gradient_in_eval_mode_and_restores_the_mode():
    from sculpt_sklearn._tensor import evaluating

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    model.train()
    with evaluating(model):
        assert not model.training and not model[1].training
        assert not torch.is_grad_enabled()
        out = model(torch.randn(5, 3))
    assert model.training and model[2].training and torch.is_grad_enabled()
    assert not out.requires_grad
    with pytest.raises(RuntimeError, match="inside"), evaluating(model):  # also on errors
        raise RuntimeError("inside")
    assert model.training
    model.eval()
    with evaluating(model):
        pass
    assert not model.training  # a module in eval mode stays there
