"""Saving a wrapped Keras model: ``wrapped.save("m.keras")`` and ``keras.models.load_model``.

Runs under the torch backend (main suite) and the TensorFlow backend (make test-keras).
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras_helpers import Subclassed, to_numpy  # noqa: E402

from sculpt_sklearn import keras as sculpt  # noqa: E402


def sequential():
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(2)])


def functional():
    inputs = keras.Input((5,))
    h = keras.layers.Dense(16, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2)(h))


def subclassed():
    model = Subclassed(n_out=2)
    model(np.zeros((1, 5), dtype="float32"))
    return model


MODELS = {"sequential": sequential, "functional": functional, "subclassed": subclassed}


@pytest.fixture(scope="module")
def data():
    gen = np.random.default_rng(0)
    X = gen.normal(size=(64, 5)).astype("float32")
    y = (np.abs(X[:, :2]) + 0.5).astype("float32")  # positive, for every family
    return X, y


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("family", [sculpt.Normal, sculpt.StudentT.with_df(3), sculpt.Gamma])
def test_save_and_load_give_identical_predictions_and_risk(name, family, data, tmp_path):
    X, y = data
    keras.utils.set_random_seed(0)
    wrapped = sculpt.Wrapper(family, n_layers=2, hidden=8, min_risk=1e-3)(MODELS[name]())
    wrapped.compile(optimizer="adam", loss="mse", scale=0.5,
                    metrics=["mae", sculpt.NLL(), sculpt.Coverage(0.8)])
    wrapped.fit(X, y, batch_size=32, epochs=2, verbose=0)  # trained head, optimizer state
    y_hat, y_risk = (to_numpy(t) for t in wrapped(X, return_risk=True))
    path = tmp_path / "m.keras"
    wrapped.save(path)

    loaded = keras.models.load_model(path)
    assert isinstance(loaded, sculpt.SculptModel)
    assert loaded.distribution is family
    assert (loaded.n_layers, loaded.hidden, loaded.min_risk) == (2, 8, 1e-3)
    # A subclassed model's layers get new names on loading; the head reads the same one.
    last = loaded.model.out if name == "subclassed" else loaded.model.layers[-1]
    assert loaded.layer_name == last.name
    got_hat, got_risk = (to_numpy(t) for t in loaded(X, return_risk=True))
    np.testing.assert_array_equal(got_hat, y_hat)
    np.testing.assert_array_equal(got_risk, y_risk)
    np.testing.assert_array_equal(to_numpy(loaded(X)), y_hat)

    # The compiled loss (scale included) and the metrics come back too.
    expected = wrapped.evaluate(X, y, batch_size=64, verbose=0, return_dict=True)
    got = loaded.evaluate(X, y, batch_size=64, verbose=0, return_dict=True)
    assert set(got) == {"loss", "mae", "nll", "coverage"}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6)
    loaded.fit(X, y, batch_size=32, epochs=1, verbose=0)  # training goes on


def test_an_uncompiled_model_round_trips(data, tmp_path):
    X, _ = data
    wrapped = sculpt.Wrapper("laplace", n_layers=1, detach_features=True)(sequential())
    for variable in wrapped.risk_head.trainable_variables:
        variable.assign(np.random.default_rng(1).normal(size=variable.shape))
    wrapped.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.distribution is sculpt.Laplace and loaded.detach_features
    np.testing.assert_array_equal(to_numpy(loaded(X, return_risk=True)[1]),
                                  to_numpy(wrapped(X, return_risk=True)[1]))


def test_mode_sample_is_restored(data, tmp_path):
    X, y = data
    wrapped = sculpt.Wrapper(sculpt.Normal)(sequential())
    wrapped.compile(optimizer="adam", loss="mse", mode="sample")
    wrapped.fit(X, y, batch_size=32, epochs=1, verbose=0)  # builds the optimizer's state
    wrapped.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_compile_config()["mode"] == "sample"
    loaded.fit(X, y, batch_size=32, epochs=1, verbose=0)
