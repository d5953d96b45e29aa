"""Backend glue for the Keras tests, which run under the torch backend (main suite)
and the TensorFlow backend (``make test-keras``): gradients and the seed's custom loop,
written once per backend as a user would write them."""

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()


@keras.saving.register_keras_serializable(package="sculpt_tests")
class Subclassed(keras.Model):
    """A subclassed model ending in a Dense layer, with Dense layers inside a block."""

    def __init__(self, width=16, n_out=1, **kwargs):
        super().__init__(**kwargs)
        self.width, self.n_out = width, n_out
        self.body = keras.Sequential([keras.layers.Dense(width, activation="tanh"),
                                      keras.layers.Dense(width, activation="tanh")])
        self.out = keras.layers.Dense(n_out)

    def call(self, x):
        return self.out(self.body(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "n_out": self.n_out}


def to_numpy(x):
    if BACKEND == "torch":  # keras.ops.convert_to_numpy warns under NumPy 2 (np.array(tensor))
        return x.detach().cpu().numpy()
    return np.asarray(keras.ops.convert_to_numpy(x))


def gradients(fn, *arrays):
    """Gradients of ``sum(fn(*tensors))`` with respect to each input, as NumPy arrays
    (zeros where the output does not depend on an input)."""
    if BACKEND == "torch":
        import torch

        tensors = [torch.tensor(np.asarray(a), requires_grad=True) for a in arrays]
        total = torch.sum(fn(*tensors))
        if not total.requires_grad:  # no input reaches the output
            return [np.zeros_like(a) for a in arrays]
        total.backward()
        return [np.zeros_like(a) if t.grad is None else t.grad.numpy()
                for a, t in zip(arrays, tensors, strict=True)]
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(np.asarray(a)) for a in arrays]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            total = tf.reduce_sum(fn(*tensors))
        grads = tape.gradient(total, tensors)
        return [np.zeros_like(a) if g is None else g.numpy() for a, g in zip(arrays, grads, strict=True)]
    if BACKEND == "jax":
        import jax

        grad = jax.grad(lambda *a: jax.numpy.sum(fn(*a)), argnums=tuple(range(len(arrays))))
        return [np.asarray(g) for g in grad(*[np.asarray(a) for a in arrays])]
    pytest.skip(f"no gradient helper for the {BACKEND} backend")


def custom_loop(wrapped, dist, x, y, *, steps, lr, mode):
    """The Sculpt seed's training loop, as a user of this backend writes it.

    ``mode="A"``: ``loss = original_loss(y_hat, y) + dist.loss_function(y, y_hat, y_risk)``;
    ``mode="B"``: ``loss = original_loss(dist.sample((y_hat, y_risk)), y)``.
    Full-batch Adam; returns nothing (the weights are trained in place).
    """
    if BACKEND == "torch":
        import torch

        x, y = torch.as_tensor(x), torch.as_tensor(y)
        original_loss = torch.nn.MSELoss()
        optimizer = torch.optim.Adam(wrapped.parameters(), lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            y_hat, y_risk = wrapped(x, return_risk=True)
            if mode == "A":
                loss = original_loss(y_hat, y) + dist.loss_function(y, y_hat, y_risk)
            else:
                y_sampled = dist.sample((y_hat, y_risk))
                loss = original_loss(y_sampled, y)
            loss.backward()
            optimizer.step()
        return
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x, y = tf.constant(x), tf.constant(y)

        def original_loss(y_hat, y):
            return tf.reduce_mean(tf.square(y_hat - y))

        optimizer = keras.optimizers.Adam(learning_rate=lr)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                y_hat, y_risk = wrapped(x, return_risk=True)
                if mode == "A":
                    loss = original_loss(y_hat, y) + dist.loss_function(y, y_hat, y_risk)
                else:
                    y_sampled = dist.sample((y_hat, y_risk))
                    loss = original_loss(y_sampled, y)
            grads = tape.gradient(loss, wrapped.trainable_variables)
            optimizer.apply_gradients(zip(grads, wrapped.trainable_variables, strict=True))

        for _ in range(steps):
            step()
        return
    pytest.skip(f"the seed's custom loop is written for torch and tensorflow, not {BACKEND}")
