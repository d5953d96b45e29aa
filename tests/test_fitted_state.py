"""Fitted state is the truth (issue 22): every verb answers from what the model was fitted
with, a warm start refuses a changed structure, and a call that fails changes nothing."""

import io
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import NaNGradientsAt
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from sculpt_sklearn import MLP, SculptRegressor, sculpt
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=300, random_state=0)
FAST = {"max_epochs": 3, "random_state": 0}


# -- 1. every verb branches on fitted state, not on parameters ------------------------


def test_changing_module_after_fit_changes_no_prediction_and_no_saved_file():
    reg = SculptRegressor(**FAST).fit(X, Y)  # the built-in model: encodes its input
    before = reg.predict(X, return_risk=True, return_std=True)
    reg.set_params(module=MLP)
    check_is_fitted(reg)
    for a, b in zip(reg.predict(X, return_risk=True, return_std=True), before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reg.predict_uncertainty(X).epistemic,
                                  reg.set_params(module=None).predict_uncertainty(X).epistemic)
    reg.set_params(module=MLP)
    buffer = io.BytesIO()
    reg.save_params(buffer)  # the fitted model's file, with its encoder
    buffer.seek(0)
    np.testing.assert_array_equal(SculptRegressor().load_params(buffer).predict(X), before[0])


def test_a_users_module_keeps_its_input_path_after_set_params_module_none():
    reg = SculptRegressor(MLP, **FAST).fit(X, Y)
    before = reg.predict(X)
    reg.set_params(module=None)
    np.testing.assert_array_equal(reg.predict(X), before)


def test_sklearn_is_fitted_follows_the_trained_net():
    reg = SculptRegressor(**FAST)
    assert not reg.__sklearn_is_fitted__()
    reg.fit(X, Y)
    assert reg.__sklearn_is_fitted__()


# -- 2. a warm start honours training parameters and refuses a new structure ----------


@pytest.mark.parametrize(
    ("fitted", "changed", "name"),
    [
        ({}, {"distribution": "laplace"}, "distribution"),
        ({"module": MLP}, {"module__hidden_layer_sizes": (8,)}, "module__hidden_layer_sizes"),
        ({}, {"module": MLP}, "module"),
        ({}, {"module__d_block": 64}, "module__d_block"),
        ({"module": MLP}, {"n_layers": 3}, "n_layers"),
        ({"module": MLP}, {"risk_hidden": 7}, "risk_hidden"),
        ({"module": MLP}, {"layer": "net.0"}, "layer"),
        ({}, {"n_networks": 1}, "n_networks"),
        ({}, {"categorical_features": [0]}, "categorical_features"),
        ({}, {"max_discrete_levels": 0}, "max_discrete_levels"),
        ({"module": MLP}, {"loss": "faithful"}, "loss"),
    ],
)
def test_warm_start_refuses_a_changed_structure_and_names_the_parameter(fitted, changed, name):
    reg = SculptRegressor(warm_start=True, **fitted, **FAST).fit(X, Y)
    weights = {k: v.clone() for k, v in reg.module_.state_dict().items()}
    reg.set_params(**changed)
    with pytest.raises(ValueError, match=rf"{name} is now .*warm_start=False"):
        reg.fit(X, Y)
    for key, value in reg.module_.state_dict().items():  # nothing trained
        torch.testing.assert_close(value, weights[key], rtol=0, atol=0)


def test_a_warm_start_keeps_the_fitted_structure_where_parameters_say_auto():
    reg = SculptRegressor(distribution="laplace", n_layers=2, warm_start=True, **FAST)
    reg.fit(X, Y)
    reg.set_params(distribution="auto", n_layers="auto", max_epochs=1)
    reg.fit(X, Y)  # "auto" continues what was fitted, as load_params takes the file's
    assert reg.distribution_ is sculpt.Laplace and reg.n_iter_ == 4
    reg.set_params(distribution="Laplace", module__k=16)  # the same as fitted: no change
    reg.fit(X, Y)
    assert reg.n_iter_ == 5


def test_partial_fit_refuses_a_changed_structure_too():
    reg = SculptRegressor(MLP, random_state=0).partial_fit(X, Y)
    reg.set_params(distribution="laplace")
    with pytest.raises(ValueError, match="distribution is now .*partial_fit.*warm_start=False"):
        reg.partial_fit(X, Y)


def test_warm_start_rebuilds_an_optimizer_whose_class_or_arguments_changed():
    reg = SculptRegressor(MLP, warm_start=True, early_stopping=False, **FAST).fit(X, Y)
    reg.set_params(weight_decay=0.25)
    reg.fit(X, Y)
    assert {g["weight_decay"] for g in reg.net_.optimizer_.param_groups} == {0.25}
    reg.set_params(optimizer=torch.optim.SGD, optimizer__momentum=0.5, weight_decay=0.0)
    reg.fit(X, Y)
    assert isinstance(reg.net_.optimizer_, torch.optim.SGD)
    assert {g["momentum"] for g in reg.net_.optimizer_.param_groups} == {0.5}


# -- 3. devices are validated with the parameters -------------------------------------


@pytest.mark.parametrize("device", ["gpu", "cuda:x", 3, "meta"])
def test_an_unknown_device_is_refused_with_what_is_accepted(device):
    with pytest.raises(InvalidParameterError, match=r"'device' parameter.*'cpu', 'cuda'"):
        SculptRegressor(device=device, **FAST).fit(X, Y)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "cuda:1", "mps"])
def test_torch_device_names_pass_the_parameter_check(device):
    SculptRegressor(device=device)._validate_params()


# -- 4. one vocabulary of uncertainty for every estimator -----------------------------


@pytest.fixture(scope="module")
def uncertainty_estimators():
    base = SculptRegressor(n_networks=2, max_epochs=8, random_state=0)
    return {
        "sculpt": SculptRegressor(n_networks=2, max_epochs=8, random_state=0).fit(X, Y),
        "scale": RecalibratedRegressor(base, random_state=0).fit(X, Y),
        "isotonic": RecalibratedRegressor(base, method="isotonic", random_state=0).fit(X, Y),
        "isotonic_positive": RecalibratedRegressor(
            SculptRegressor(MLP, distribution="gamma", **FAST), method="isotonic",
            random_state=0).fit(X, np.exp(Y / 4)),
    }


@pytest.mark.parametrize("name", ["sculpt", "scale", "isotonic", "isotonic_positive"])
def test_predict_keywords_mean_the_same_for_every_estimator(uncertainty_estimators, name):
    est = uncertainty_estimators[name]
    mean = est.predict(X)
    m1, risk = est.predict(X, return_risk=True)
    m2, std = est.predict(X, return_std=True)
    triple = est.predict(X, return_risk=True, return_std=True)
    assert len(triple) == 3  # (mean, risk, std), in that order
    for a, b in zip(triple, (mean, risk, std), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m1, mean)
    np.testing.assert_array_equal(m2, mean)
    assert risk.shape == std.shape == mean.shape
    assert np.all(risk > 0) and np.all(risk <= std * (1 + 1e-12))
    # The risk is the aleatoric part: a fraction of the total, as the wrapped model splits it.
    inner = est if name == "sculpt" else est.estimator_
    parts = inner.predict_uncertainty(X)
    np.testing.assert_allclose(risk / std, parts.aleatoric / parts.total, rtol=1e-10)


def test_return_risk_of_a_wrapped_model_without_risk_is_refused():
    from sklearn.linear_model import BayesianRidge

    est = RecalibratedRegressor(BayesianRidge(), random_state=0).fit(X, Y)
    with pytest.raises(TypeError, match="return_risk.*return_std=True"):
        est.predict(X, return_risk=True)
    assert len(est.predict(X, return_std=True)) == 2


# -- 5. nothing of a diverged fit's training run is pickled ---------------------------




def test_a_diverged_pool_pickles_without_its_validation_rows_or_weight_copies():
    params = {"module": MLP, "n_networks": 2, "max_epochs": 8, "random_state": 0}
    reg = SculptRegressor(callbacks=[NaNGradientsAt(5)], **params)
    with pytest.warns(RuntimeWarning, match="diverged"):
        reg.fit(X, Y)
    clean = SculptRegressor(callbacks=[NaNGradientsAt(100)], **params).fit(X, Y)
    stopper = dict(pickle.loads(pickle.dumps(reg)).net_.callbacks_)["early_stopping"]
    assert getattr(stopper, "valid", None) is None
    assert not getattr(stopper, "_valid_predictions", [])
    assert stopper.best_states_ == [None, None]
    # Same architecture, same size: no copy of the weights or of the rows rides along.
    assert len(pickle.dumps(reg)) < 1.05 * len(pickle.dumps(clean))


# -- 6. load_params is all or nothing -------------------------------------------------


def _fitted_attributes(reg):
    return {k: v for k, v in vars(reg).items() if k.endswith("_") and not k.startswith("__")}


@pytest.mark.parametrize(
    ("saver", "loader"),
    [
        # Weights of another width: refused when they are loaded, after the net is built.
        (dict(module=MLP, module__hidden_layer_sizes=(8,)), dict(module=MLP)),
        # Constructor arguments that contradict the file: refused while resolving.
        (dict(), dict(module__d_block=64)),
    ],
)
def test_a_failed_load_params_leaves_the_estimator_as_it_was(saver, loader):
    buffer = io.BytesIO()
    SculptRegressor(**saver, **FAST).fit(X[:, :4], 100 * Y).save_params(buffer)
    reg = SculptRegressor(**loader, **FAST).fit(X, Y)
    before = _fitted_attributes(reg)
    prediction = reg.predict(X)
    buffer.seek(0)
    with pytest.raises(ValueError, match="same parameters"):
        reg.load_params(buffer)
    assert _fitted_attributes(reg).keys() == before.keys()
    for name, value in before.items():
        assert _fitted_attributes(reg)[name] is value, name
    np.testing.assert_array_equal(reg.predict(X), prediction)


# -- 7. a weights file names no class --------------------------------------------------


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _strings(value)


def test_a_weights_file_holds_the_encoder_as_plain_data_without_class_names():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    frame["city"] = rng.choice(["a", "b", None], len(frame))
    frame.loc[::9, "x0"] = np.nan
    frame["level"] = rng.integers(0, 4, len(frame))
    reg = SculptRegressor(**FAST).fit(frame, Y)
    buffer = io.BytesIO()
    reg.save_params(buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    names = [s for s in _strings(state) if "sklearn" in s or "sculpt_sklearn." in s]
    assert names == []
    buffer.seek(0)
    loaded = SculptRegressor().load_params(buffer)
    np.testing.assert_array_equal(loaded.predict(frame), reg.predict(frame))


# -- a fit that fails changes nothing ---------------------------------------------------


def test_a_failed_fit_keeps_the_fitted_model_and_its_input_schema():
    reg = SculptRegressor(**FAST).fit(X, Y)
    prediction = reg.predict(X)
    bad_y = np.full(50, np.nan)
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(X[:50, :3], bad_y)  # fails after X's width was read
    assert reg.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(reg.predict(X), prediction)
