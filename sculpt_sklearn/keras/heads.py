"""The risk head: a few Dense layers that map features to a positive standard deviation."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

__all__ = ["RiskHead"]

# softplus(_INIT_BIAS) == 1: a new head predicts a standard deviation of one.
_INIT_BIAS = math.log(math.expm1(1.0))


@keras.saving.register_keras_serializable(package="sculpt_sklearn")
class RiskHead(layers.Layer):
    """Maps features to a positive standard deviation, as the torch ``RiskHead``.

    ``n_layers`` Dense layers (ReLU between them), then ``softplus(.) + min_risk``.
    The last layer starts with small weights (torch's default initialisation times
    0.1) and the bias ``log(e - 1)``, so a new head predicts a standard deviation of
    about one.

    Parameters
    ----------
    units : int
        Number of outputs (one risk per predicted column).
    n_layers : int, default=3
        Number of Dense layers.
    hidden : int, optional
        Width of the hidden layers; default: the width of the features.
    min_risk : float, default=1e-6
        Floor added after the softplus, so the risk is always ``> min_risk``.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``).

    Notes
    -----
    Shapes: features ``(..., d)`` -> risk ``(..., units)``. The Dense layers are made
    in :meth:`build`, where ``d`` is known.
    """

    def __init__(
        self,
        units: int,
        n_layers: int = 3,
        hidden: int | None = None,
        min_risk: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.n_layers = int(n_layers)
        self.hidden = None if hidden is None else int(hidden)
        self.min_risk = float(min_risk)
        self.dense_layers: list[layers.Dense] = []

    def build(self, input_shape: tuple) -> None:
        """Make the Dense layers for features of width ``input_shape[-1]``."""
        width = int(input_shape[-1])
        hidden = width if self.hidden is None else self.hidden
        shape = tuple(input_shape)
        for i in range(self.n_layers - 1):
            dense = layers.Dense(hidden, activation="relu", dtype=self.dtype_policy,
                                 name=f"hidden_{i}")
            dense.build(shape)
            shape = (*shape[:-1], hidden)
            self.dense_layers.append(dense)
        # torch's nn.Linear default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times 0.1.
        last = layers.Dense(
            self.units,
            kernel_initializer=keras.initializers.VarianceScaling(
                scale=0.01 / 3.0, mode="fan_in", distribution="uniform"
            ),
            bias_initializer=keras.initializers.Constant(_INIT_BIAS),
            dtype=self.dtype_policy,
            name="risk",
        )
        last.build(shape)
        self.dense_layers.append(last)

    def call(self, features: Any) -> Any:
        """Risk (standard deviation) for each row of ``features``."""
        h = features
        for dense in self.dense_layers:
            h = dense(h)
        return ops.softplus(h) + self.min_risk

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``input_shape`` with the last dimension ``units``."""
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments (the Dense layers are rebuilt from them)."""
        config = super().get_config()
        config.update(
            units=self.units, n_layers=self.n_layers, hidden=self.hidden,
            min_risk=self.min_risk,
        )
        return config
