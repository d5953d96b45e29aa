"""The Keras wrapper: prediction path unchanged, risk head built at wrap time.

Runs under the torch backend (main suite) and the TensorFlow backend (make test-keras).
"""

import threading

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras import layers  # noqa: E402
from keras_helpers import Subclassed, gradients, to_numpy  # noqa: E402

from sculpt_sklearn import keras as sculpt  # noqa: E402


def sequential(n_out=1, width=16):
    return keras.Sequential([keras.Input((5,)), layers.Dense(width, activation="relu"),
                             layers.Dense(n_out)])


def functional(n_out=1, width=16):
    inputs = keras.Input((5,))
    h = layers.Dense(width, activation="tanh")(inputs)
    h = layers.Dense(width, activation="tanh")(h)
    return keras.Model(inputs, layers.Dense(n_out)(h))


def subclassed(n_out=1):
    model = Subclassed(n_out=n_out)
    model(np.zeros((1, 5), dtype="float32"))  # builds it
    return model


MODELS = {
    "sequential": sequential,
    "functional": functional,
    "subclassed": subclassed,
    "sequential_three_outputs": lambda: sequential(n_out=3),
    "subclassed_three_outputs": lambda: subclassed(n_out=3),
}


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(32, 5)).astype("float32")


# -- the prediction path and the risk -------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("distribution", [sculpt.Normal, sculpt.Laplace,
                                          sculpt.StudentT.with_df(3), "laplace"])
def test_wrapping_keeps_output_and_adds_positive_risk(name, distribution, x):
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    before = to_numpy(model(x))
    wrapped = sculpt.Wrapper(distribution, n_layers=3)(model)
    assert isinstance(wrapped, sculpt.SculptModel)
    assert wrapped.model is model
    assert wrapped.distribution is sculpt.get_distribution(distribution)
    y_hat = wrapped(x)
    y_hat2, y_risk = wrapped(x, return_risk=True)
    assert not isinstance(y_hat, tuple)
    np.testing.assert_array_equal(to_numpy(y_hat), before)
    np.testing.assert_array_equal(to_numpy(y_hat2), before)
    risk = to_numpy(y_risk)
    assert risk.shape == before.shape
    assert np.all(np.isfinite(risk)) and np.all(risk > 0)
    # A fresh head predicts a standard deviation near one.
    np.testing.assert_allclose(risk, 1.0, atol=0.5)


@pytest.mark.parametrize("family", [sculpt.LogNormal, sculpt.Gamma])
def test_positive_families_link_the_mean(family, x):
    model = sequential()
    raw = to_numpy(model(x))
    y_hat = to_numpy(sculpt.Wrapper(family)(model)(x))
    np.testing.assert_allclose(y_hat, np.logaddexp(0.0, raw) + 1e-8, rtol=1e-6)
    assert np.all(y_hat > 0)


def test_keyword_and_positional_forms_agree(x):
    keras.utils.set_random_seed(0)
    a = sculpt.Wrapper(sculpt.Normal, 3)(sequential())
    keras.utils.set_random_seed(0)
    b = sculpt.Wrapper(distribution=sculpt.Normal, n_layers=3)(sequential())
    np.testing.assert_array_equal(to_numpy(a(x, return_risk=True)[1]),
                                  to_numpy(b(x, return_risk=True)[1]))


def test_risk_depends_on_the_input_and_keeps_its_floor(x):
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2, min_risk=0.05)(sequential())
    for variable in wrapped.risk_head.trainable_variables:
        variable.assign(np.random.default_rng(1).normal(size=variable.shape))
    assert to_numpy(wrapped(x, return_risk=True)[1]).std() > 0
    wrapped.risk_head.dense_layers[-1].bias.assign(np.full((1,), -100.0))
    assert np.all(to_numpy(wrapped(x, return_risk=True)[1]) >= 0.05)


# -- weights right after wrapping ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_weights_are_the_original_ones_plus_the_head_and_exist_at_once(name):
    model = MODELS[name]()
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
    ids = [id(v) for v in wrapped.trainable_weights]
    assert len(ids) == len(set(ids))
    assert {id(v) for v in model.trainable_weights} <= set(ids)
    assert {id(v) for v in wrapped.risk_head.trainable_weights} <= set(ids)
    assert len(ids) == len(model.trainable_weights) + 2 * 2  # two Dense layers, kernel + bias
    assert wrapped.built and wrapped.count_params() > model.count_params()


@pytest.mark.parametrize("n_layers", [1, 2, 3, 5])
def test_n_layers_sets_the_depth_of_the_risk_head(n_layers):
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=n_layers)(subclassed(n_out=2))
    dense = wrapped.risk_head.dense_layers
    assert len(dense) == n_layers
    assert dense[0].kernel.shape[0] == 16  # reads the input of the output layer
    assert dense[-1].units == 2


def test_hidden_sets_the_head_width():
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3, hidden=7)(sequential(n_out=2))
    assert [d.units for d in wrapped.risk_head.dense_layers] == [7, 7, 2]


# -- choosing the layer -----------------------------------------------------------------


@keras.saving.register_keras_serializable(package="sculpt_tests")
class TwoHeads(keras.Model):
    """The prediction comes from ``mean``; ``aux``, registered last, is kept aside."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = layers.Dense(16, activation="relu", name="body")
        self.mean = layers.Dense(1, name="mean")
        self.aux = layers.Dense(4, name="aux")

    def call(self, x):
        h = self.body(x)
        self.last_aux = self.aux(h)  # e.g. an auxiliary output kept aside
        return self.mean(h)


def test_layer_picks_the_named_dense_when_the_last_one_is_wrong(x):
    model = TwoHeads()
    before = to_numpy(model(x))
    default = sculpt.Wrapper(sculpt.Normal)(model)
    assert default.layer_name == "aux"
    with pytest.raises(RuntimeError, match="layer="):
        default(x, return_risk=True)
    for layer in ("mean", model.mean):
        wrapped = sculpt.Wrapper(sculpt.Normal, layer=layer)(model)
        assert wrapped.layer_name == "mean"
        y_hat, y_risk = wrapped(x, return_risk=True)
        np.testing.assert_array_equal(to_numpy(y_hat), before)
        assert tuple(y_risk.shape) == (32, 1)


def test_a_functional_model_is_searched_in_graph_order(x):
    inputs = keras.Input((5,))
    h = layers.Dense(16, activation="relu")(inputs)
    model = keras.Model(inputs, layers.Dense(1, name="out")(h))
    model.spare = layers.Dense(4, name="spare")  # an attribute, not in the graph
    model.spare.build((None, 16))
    assert sculpt.Wrapper(sculpt.Normal)(model).layer_name == "out"


def test_a_dense_layer_followed_by_more_layers_gets_a_clear_error(x):
    model = keras.Sequential([keras.Input((5,)), layers.Dense(6), layers.Reshape((2, 3)),
                              layers.Dense(4)])
    wrapped = sculpt.Wrapper(sculpt.Normal, layer=model.layers[0])(model)
    with pytest.raises(RuntimeError, match="changes the output"):
        wrapped(x, return_risk=True)


def test_a_model_without_a_dense_layer_gets_an_error_that_says_what_to_pass():
    model = keras.Sequential([keras.Input((5, 1)), layers.Conv1D(1, 3, padding="same"),
                              layers.Flatten()])
    with pytest.raises(ValueError, match="layer=") as info:
        sculpt.Wrapper(sculpt.Normal)(model)
    assert "Conv1D" in str(info.value) and "Dense" in str(info.value)


@pytest.mark.parametrize(("layer", "match"), [("nope", "not a layer"),
                                              ("flatten", "not a keras.layers.Dense")])
def test_bad_layer_names(layer, match):
    model = keras.Sequential([keras.Input((5,)), layers.Flatten(name="flatten"),
                              layers.Dense(1, name="out")])
    with pytest.raises(ValueError, match=match):
        sculpt.Wrapper(sculpt.Normal, layer=layer)(model)


def test_a_layer_from_another_model_is_refused():
    with pytest.raises(ValueError, match="not part of"):
        sculpt.Wrapper(sculpt.Normal, layer=sequential().layers[-1])(sequential())


def test_an_unbuilt_model_gets_an_error_that_says_how_to_build_it():
    model = keras.Sequential([layers.Dense(8), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"not built.*keras\.Input"):
        sculpt.Wrapper(sculpt.Normal)(model)
    model.build((None, 5))
    assert sculpt.Wrapper(sculpt.Normal)(model).risk_head.dense_layers[0].kernel.shape[0] == 8


@pytest.mark.parametrize("n_layers", [0, -1, 2.5, "3", None, True])
def test_bad_n_layers(n_layers):
    with pytest.raises(ValueError, match="n_layers"):
        sculpt.Wrapper(sculpt.Normal, n_layers=n_layers)


@pytest.mark.parametrize("kwargs", [{"hidden": 0}, {"hidden": 2.0}, {"min_risk": 0.0},
                                    {"min_risk": -1.0}, {"min_risk": float("inf")}])
def test_bad_head_options(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        sculpt.Wrapper(sculpt.Normal, **kwargs)


@pytest.mark.parametrize("not_a_model", [lambda x: x, "model", layers.Dense(1), None])
def test_wrapping_a_non_model(not_a_model):
    with pytest.raises(TypeError, match=r"keras\.Model"):
        sculpt.Wrapper(sculpt.Normal)(not_a_model)


# -- detached features, copies of the features ------------------------------------------


@pytest.mark.parametrize("detach", [True, False])
def test_detach_features_keeps_the_risk_loss_off_the_model(detach, x):
    keras.utils.set_random_seed(0)
    model = sequential()
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2, detach_features=detach)(model)
    first = model.layers[0]

    def risk_with_kernel(kernel):
        # The first layer's kernel as an input (stateless), so its gradient can be taken.
        with keras.StatelessScope(state_mapping=[(first.kernel, kernel)]):
            return wrapped(x, return_risk=True)[1]

    # The risk depends on the first layer only through the features that feed the
    # output layer; with detach_features the head reads them through stop_gradient.
    (grad,) = gradients(risk_with_kernel, first.kernel.numpy())
    assert (np.count_nonzero(grad) == 0) == detach
    (grad_head,) = gradients(
        lambda k: _with(wrapped, wrapped.risk_head.dense_layers[0].kernel, k, x),
        wrapped.risk_head.dense_layers[0].kernel.numpy(),
    )
    assert np.count_nonzero(grad_head) > 0


def _with(wrapped, variable, value, x):
    with keras.StatelessScope(state_mapping=[(variable, value)]):
        return wrapped(x, return_risk=True)[1]


def test_two_wrappers_of_one_model_do_not_interfere(x):
    model = sequential()
    keras.utils.set_random_seed(0)
    first = sculpt.Wrapper(sculpt.Normal, n_layers=1)(model)
    keras.utils.set_random_seed(1)
    second = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
    alone = to_numpy(first(x, return_risk=True)[1])
    second(x[:3], return_risk=True)
    np.testing.assert_array_equal(to_numpy(first(x, return_risk=True)[1]), alone)


def test_calls_from_another_thread_read_their_own_features(x):
    """A call that runs while another is inside the model reads its own rows only."""

    @keras.saving.register_keras_serializable(package="sculpt_tests")
    class Pausing(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.net = sequential()
            self.after_output = None

        def call(self, inputs):
            out = self.net(inputs)
            if self.after_output is not None:
                self.after_output()
            return out

    model = Pausing()
    model(x)
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
    x_b = x[:7] + 3.0
    expected_a = to_numpy(wrapped(x, return_risk=True)[1])
    expected_b = to_numpy(wrapped(x_b, return_risk=True)[1])
    results = {}

    def call_b():
        model.after_output = None
        results["b"] = to_numpy(wrapped(x_b, return_risk=True)[1])

    def pause_a():
        thread = threading.Thread(target=call_b)
        thread.start()
        thread.join()

    model.after_output = pause_a
    results["a"] = to_numpy(wrapped(x, return_risk=True)[1])
    np.testing.assert_array_equal(results["a"], expected_a)
    np.testing.assert_array_equal(results["b"], expected_b)


def test_wrapping_leaves_the_dense_layer_and_the_model_alone(x):
    model = sequential()
    config = model.layers[-1].get_config()
    before = to_numpy(model(x))
    sculpt.Wrapper(sculpt.Normal)(model)
    assert model.layers[-1].get_config() == config
    np.testing.assert_array_equal(to_numpy(model(x)), before)
