"""Numerical safety and persistence (issue 7)."""

import io
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=300, random_state=0)


class PoisonWeights(Callback):
    """Set the first layer's weights to NaN at the end of ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                next(net.module_.parameters()).fill_(float("nan"))


class Interrupt(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 3:
            raise KeyboardInterrupt


def test_risk_has_a_positive_floor_on_noise_free_data():
    y = X @ np.arange(1.0, 5.0)
    reg = SculptRegressor(max_epochs=30, early_stopping=False, loss="nll", random_state=0)
    risk = reg.fit(X, y).predict(X, return_risk=True)[1]
    assert np.all(risk >= 1e-4 * y.std() * (1 - 1e-6))
    assert np.all(np.isfinite(risk))


def test_divergence_without_checkpoint_raises_with_epoch_and_advice():
    reg = SculptRegressor(max_epochs=10, early_stopping=False, callbacks=[PoisonWeights(2)],
                          random_state=0)
    with pytest.raises(ValueError, match=r"diverged.*epoch 3.*Lower lr"):
        reg.fit(X, Y)


def test_divergence_with_early_stopping_restores_best_weights_and_warns():
    reg = SculptRegressor(max_epochs=10, callbacks=[PoisonWeights(4)], random_state=0)
    with pytest.warns(RuntimeWarning, match=r"diverged at epoch 5.*best weights"):
        reg.fit(X, Y)
    mean, risk = reg.predict(X, return_risk=True)
    assert np.all(np.isfinite(mean)) and np.all(risk > 0)
    assert reg.score(X, Y) > 0


def test_predict_never_returns_nan():
    reg = SculptRegressor(max_epochs=3, random_state=0).fit(X, Y)
    with torch.no_grad():
        next(reg.module_.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite predictions"):
        reg.predict(X)


def test_keyboard_interrupt_keeps_a_usable_model_and_warns():
    reg = SculptRegressor(max_epochs=50, callbacks=[Interrupt()], random_state=0)
    with pytest.warns(RuntimeWarning, match="interrupted.*after 3 epoch"):
        reg.fit(X, Y)
    assert reg.n_iter_ == 3
    assert np.all(np.isfinite(reg.predict(X)))


def test_early_stopping_is_not_reported_as_an_interrupt():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = SculptRegressor(max_epochs=300, n_iter_no_change=2, lr=1e-2,
                              random_state=0).fit(X, Y)
    assert reg.n_iter_ < 300


def test_save_params_load_params_with_weights_only(tmp_path):
    reg = SculptRegressor(MLP, max_epochs=5, module__hidden_layer_sizes=(16,), random_state=0)
    reg.fit(X, Y)
    path = tmp_path / "weights.pt"
    reg.save_params(path)
    # The file is plain data: loadable by torch's safe loader.
    state = torch.load(path, weights_only=True)
    assert set(state) >= {"module", "y_loc", "y_scale"}
    loaded = SculptRegressor(MLP, module__hidden_layer_sizes=(16,)).load_params(path)
    np.testing.assert_array_equal(loaded.predict(X, return_risk=True)[1],
                                  reg.predict(X, return_risk=True)[1])
    assert loaded.n_features_in_ == 4


def test_default_model_on_a_raw_frame_round_trips_through_a_weights_file(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = pd.Categorical(rng.choice(["red", "blue"], len(frame)))
    frame["text"] = rng.choice(["u", "v", None], len(frame))
    frame.loc[::7, "a"] = np.nan
    reg = SculptRegressor(max_epochs=3, random_state=0).fit(frame, Y)
    path = tmp_path / "weights.pt"
    reg.save_params(path)
    torch.load(path, weights_only=True)  # plain data, encoder included
    loaded = SculptRegressor().load_params(path)
    for a, b in zip(reg.predict(frame, return_risk=True, return_std=True),
                    loaded.predict(frame, return_risk=True, return_std=True), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="built-in model"):
        SculptRegressor(MLP).load_params(path)


def test_load_params_into_other_architecture_is_refused(tmp_path):
    reg = SculptRegressor(max_epochs=2, random_state=0).fit(X, Y)
    buffer = io.BytesIO()
    reg.save_params(buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="same parameters"):
        SculptRegressor(module__d_block=32).load_params(buffer)


def test_load_params_refuses_other_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not written by SculptRegressor.save_params"):
        SculptRegressor().load_params(path)


def test_pickled_model_predicts_on_the_device_of_its_weights():
    reg = SculptRegressor(max_epochs=2, random_state=0).fit(X, Y)
    restored = pickle.loads(pickle.dumps(reg))
    restored.set_params(device="cuda")  # a parameter no longer matching the weights
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
