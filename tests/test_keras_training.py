"""Training a wrapped Keras model: the seed's custom loop and compile/fit.

The data is make_heteroscedastic's toy with a known noise std (as the torch layer's
test_mode_a_recovers_the_noise_level). The NLL, coverage and MSE references are
computed here from the predictions with scipy/NumPy, not with the library. Runs under
the torch backend (main suite: a plain torch loop) and the TensorFlow backend (make
test-keras: a tf.GradientTape loop).
"""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras_helpers import custom_loop, to_numpy  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from sculpt_sklearn import keras as sculpt  # noqa: E402
from sculpt_sklearn.datasets import make_heteroscedastic  # noqa: E402


@pytest.fixture(scope="module")
def data():
    """Standardised training rows, and test rows with their true noise std (same units)."""
    X, y, _ = make_heteroscedastic(n_samples=4000, random_state=0)
    X_test, y_test, std_test = make_heteroscedastic(n_samples=1000, random_state=1)
    center, scale = y.mean(), y.std()
    y = ((y - center) / scale).astype("float32").reshape(-1, 1)
    y_test = ((y_test - center) / scale).astype("float32").reshape(-1, 1)
    return X.astype("float32"), y, X_test.astype("float32"), y_test, std_test / scale


def mlp(width=32):
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(width, activation="tanh"),
        keras.layers.Dense(width, activation="tanh"),
        keras.layers.Dense(1),
    ])


def predictions(wrapped, X):
    y_hat, y_risk = wrapped(X, return_risk=True)
    return to_numpy(y_hat).astype(np.float64), to_numpy(y_risk).astype(np.float64)


def heldout_nll(wrapped, X, y):
    """Mean Gaussian NLL of ``y`` under the wrapped model's predictions (scipy)."""
    mean, risk = predictions(wrapped, X)
    return -float(np.mean(stats.norm.logpdf(y, loc=mean, scale=risk)))


def noise_recovery(wrapped, X_test, std_test):
    """Median ratio of predicted risk to true noise std, and their rank correlation."""
    _, risk = predictions(wrapped, X_test)
    risk = risk.ravel()
    return float(np.median(risk / std_test)), float(spearmanr(risk, std_test).statistic)



# -- the seed's usage, verbatim, in the backend's own loop ------------------------------


def test_the_seeds_mode_a_lowers_the_nll_and_recovers_the_noise_std(data):
    """``loss = original_loss(y_hat, y) + dist.loss_function(y, y_hat, y_risk)``.

    Acceptance: the NLL falls and, on held-out rows, the median ratio of predicted
    risk to true noise std is within 15% of one (the torch layer's loop gives 0.97).
    """
    X, y, X_test, y_test, std_test = data
    keras.utils.set_random_seed(0)
    dist = sculpt.Normal
    wrapper = sculpt.Wrapper(sculpt.Normal, n_layers=3)
    wrapped = wrapper(mlp())
    before = heldout_nll(wrapped, X_test, y_test)
    custom_loop(wrapped, dist, X, y, steps=200, lr=5e-3, mode="A")
    after = heldout_nll(wrapped, X_test, y_test)
    ratio, rho = noise_recovery(wrapped, X_test, std_test)
    print(f"mode A loop: NLL {before:.3f} -> {after:.3f}, median risk ratio {ratio:.3f}, "
          f"Spearman {rho:.3f}")
    assert after < before - 0.5
    assert 0.85 < ratio < 1.15
    assert rho >= 0.9


def test_the_seeds_mode_b_trains_the_mean_and_collapses_the_risk(data):
    """``loss = original_loss(dist.sample((y_hat, y_risk)), y)``, with the squared error.

    ``E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2``: the risk only adds to
    the loss, so it is driven to its floor (docs: objectives, the torch layer's
    test_mode_b_with_mse_collapses_the_risk). The mean trains; the NLL rises.
    """
    X, y, X_test, y_test, _ = data
    keras.utils.set_random_seed(0)
    dist = sculpt.Normal
    wrapped = sculpt.Wrapper(dist, n_layers=3)(mlp())
    mean0, risk0 = predictions(wrapped, X_test)
    nll0 = heldout_nll(wrapped, X_test, y_test)
    custom_loop(wrapped, dist, X, y, steps=200, lr=5e-3, mode="B")
    mean1, risk1 = predictions(wrapped, X_test)
    assert np.mean((mean1 - y_test) ** 2) < 0.5 * np.mean((mean0 - y_test) ** 2)
    assert np.median(risk1) < np.median(risk0) / 20
    assert heldout_nll(wrapped, X_test, y_test) > nll0


# -- compile and fit ----------------------------------------------------------------


def test_fit_adds_the_nll_to_the_users_loss_and_recovers_the_noise_std(data):
    X, y, X_test, y_test, std_test = data
    keras.utils.set_random_seed(0)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(mlp())
    wrapped.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse",
                    metrics=[sculpt.NLL(), sculpt.Coverage(0.9)])
    before = heldout_nll(wrapped, X_test, y_test)
    history = wrapped.fit(X, y, batch_size=256, epochs=15, verbose=0,
                          validation_data=(X_test, y_test)).history
    assert history["nll"][-1] < history["nll"][0]
    assert history["val_nll"][-1] < history["val_nll"][0]
    assert heldout_nll(wrapped, X_test, y_test) < before - 0.5
    ratio, rho = noise_recovery(wrapped, X_test, std_test)
    print(f"fit: NLL {before:.3f} -> {history['val_nll'][-1]:.3f}, median risk ratio "
          f"{ratio:.3f}, Spearman {rho:.3f}")
    assert 0.85 < ratio < 1.15
    assert rho >= 0.9

    # evaluate's loss and metrics, against the predictions scored here.
    results = wrapped.evaluate(X_test, y_test, batch_size=len(X_test), verbose=0,
                               return_dict=True)
    mean, risk = wrapped.predict(X_test, return_risk=True, batch_size=len(X_test), verbose=0)
    mean, risk = mean.astype(np.float64), risk.astype(np.float64)
    nll = -np.mean(stats.norm.logpdf(y_test, mean, risk))
    z = stats.norm.ppf(0.95)
    coverage = np.mean(np.abs(y_test - mean) <= z * risk)
    mse = np.mean((y_test - mean) ** 2)
    assert results["nll"] == pytest.approx(nll, abs=1e-4)
    assert abs(results["coverage"] - coverage) <= 1.0 / len(y_test)
    assert results["loss"] == pytest.approx(mse + nll, abs=1e-4)


def test_fit_without_a_loss_trains_the_nll_alone(data):
    X, y, X_test, y_test, _ = data
    keras.utils.set_random_seed(0)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(mlp())
    wrapped.compile(optimizer=keras.optimizers.Adam(2e-3), metrics=[sculpt.NLL()])
    before = heldout_nll(wrapped, X_test, y_test)
    wrapped.fit(X, y[:, 0], batch_size=256, epochs=3, verbose=0)  # a (n,) target works
    results = wrapped.evaluate(X_test, y_test, batch_size=len(X_test), verbose=0,
                               return_dict=True)
    assert results["loss"] == pytest.approx(results["nll"], abs=1e-6)
    assert results["nll"] == pytest.approx(heldout_nll(wrapped, X_test, y_test), abs=1e-4)
    assert results["nll"] < before


def test_scale_weighs_the_distribution_term(data):
    _, _, X_test, y_test, _ = data
    wrapped = sculpt.Wrapper(sculpt.Normal)(mlp())
    wrapped.compile(optimizer="adam", loss="mse", scale=0.25)
    loss = wrapped.evaluate(X_test, y_test, batch_size=len(X_test), verbose=0)
    mean, risk = predictions(wrapped, X_test)
    nll = -np.mean(stats.norm.logpdf(y_test, mean, risk))
    assert loss == pytest.approx(np.mean((y_test - mean) ** 2) + 0.25 * nll, abs=1e-4)


def test_sample_weight_gives_the_weighted_mean_nll(data):
    _, _, X_test, y_test, _ = data
    wrapped = sculpt.Wrapper(sculpt.Laplace)(mlp())
    wrapped.compile(optimizer="adam")
    w = np.random.default_rng(0).uniform(0.0, 2.0, size=len(y_test))
    loss = wrapped.evaluate(X_test, y_test, sample_weight=w, batch_size=len(X_test), verbose=0)
    mean, risk = predictions(wrapped, X_test)
    nll = -stats.laplace.logpdf(y_test, mean, risk / math.sqrt(2.0)).ravel()
    assert loss == pytest.approx(np.sum(w * nll) / np.sum(w), abs=1e-4)


def test_fit_mode_sample_trains_the_mean_and_collapses_the_risk(data):
    """The seed's mode B in fit: the compiled loss of a reparameterised draw."""
    X, y, X_test, y_test, _ = data
    keras.utils.set_random_seed(0)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(mlp())
    wrapped.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse", mode="sample")
    mean0, risk0 = predictions(wrapped, X_test)
    wrapped.fit(X, y, batch_size=500, epochs=25, verbose=0)
    mean1, risk1 = predictions(wrapped, X_test)
    assert np.mean((mean1 - y_test) ** 2) < 0.5 * np.mean((mean0 - y_test) ** 2)
    assert np.median(risk1) < np.median(risk0) / 20


@pytest.mark.parametrize("family", [sculpt.Laplace, sculpt.StudentT.with_df(4),
                                    sculpt.LogNormal, sculpt.Gamma])
@pytest.mark.parametrize("mode", ["nll", "sample"])
def test_every_family_trains_with_fit(family, mode):
    """Both modes run for every family (positive targets for the positive families)."""
    gen = np.random.default_rng(0)
    X = gen.uniform(-2, 2, size=(1000, 4)).astype("float32")
    y = (np.exp(0.5 * X[:, :1]) * (1 + 0.3 * gen.normal(size=(1000, 1))) ** 2 + 0.05)
    y = y.astype("float32") if family.positive else np.log(y).astype("float32")
    keras.utils.set_random_seed(0)
    wrapped = sculpt.Wrapper(family, n_layers=2)(mlp(16))
    wrapped.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse", mode=mode,
                    metrics=[sculpt.NLL()])
    history = wrapped.fit(X, y, batch_size=250, epochs=4, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0]
    if mode == "nll":
        assert history["nll"][-1] < history["nll"][0]


def test_fit_trains_the_original_weights_and_predictions_stay_the_models(data):
    X, y, X_test, _, _ = data
    model = mlp()
    before = [w.numpy().copy() for w in model.trainable_weights]
    wrapped = sculpt.Wrapper(sculpt.Normal)(model)
    wrapped.compile(optimizer="adam", loss="mse")
    wrapped.fit(X[:512], y[:512], batch_size=256, epochs=1, verbose=0)
    assert all(not np.array_equal(w.numpy(), b) for w, b in
               zip(model.trainable_weights, before, strict=True))
    np.testing.assert_array_equal(to_numpy(wrapped(X_test)), to_numpy(model(X_test)))


def test_predict_with_and_without_the_risk(data):
    _, _, X_test, _, _ = data
    wrapped = sculpt.Wrapper(sculpt.Normal)(mlp())
    mean, risk = predictions(wrapped, X_test)
    plain = wrapped.predict(X_test, batch_size=300, verbose=0)
    both = wrapped.predict(X_test, return_risk=True, batch_size=300, verbose=0)
    again = wrapped.predict(X_test, batch_size=300, verbose=0)
    # float32, batched in a traced function against one eager call: rounding apart.
    np.testing.assert_allclose(plain, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both[0], mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both[1], risk, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(again, plain)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "mixed"}, "mode must be one of"),
        ({"mode": "sample"}, "needs one"),
        ({"loss": "mse", "mode": "sample", "scale": 2.0}, "no such term"),
        ({"scale": -1.0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"metrics": {"out": [sculpt.NLL()]}}, "in a list"),
    ],
)
def test_compile_refuses(kwargs, match):
    wrapped = sculpt.Wrapper(sculpt.Normal)(mlp())
    with pytest.raises(ValueError, match=match):
        wrapped.compile(optimizer="adam", **kwargs)


def test_risk_metrics_refuse_a_plain_update():
    with pytest.raises(TypeError, match="risk"):
        sculpt.NLL().update_state(np.zeros((2, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="confidence_level"):
        sculpt.Coverage(1.0)
