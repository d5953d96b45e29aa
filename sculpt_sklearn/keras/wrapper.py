"""The Sculpt wrapper for Keras models: ``Wrapper(Normal, n_layers=3)(model)``."""

from __future__ import annotations

import math

import keras

from .distributions import Normal, SculptDistribution
from .model import SculptModel
from .registry import get_distribution

__all__ = ["Wrapper"]


class Wrapper:
    """Wrap a Keras model so that it also predicts its risk.

    Parameters
    ----------
    distribution : SculptDistribution subclass or str, default=Normal
        The output family, as a class of :mod:`sculpt_sklearn.keras` (``Normal``) or
        its name.
    n_layers : int, default=3
        Number of Dense layers of the risk head (at least 1).
    layer : str or keras.layers.Dense, optional
        The Dense layer whose input the risk head reads (its name or the layer);
        default: the model's last Dense layer.
    hidden : int, optional
        Width of the head's hidden layers; default: the features' width.
    detach_features : bool, default=False
        Let the risk head read the features through ``stop_gradient``.
    min_risk : float, default=1e-6
        Floor of the predicted standard deviation.

    Notes
    -----
    The model must be built (its last Dense layer knows its input width): a
    ``Sequential`` or functional model that starts with ``keras.Input``, or any model
    after ``model.build(...)`` or one call. The wrapped model's weights are then all
    made at wrap time.

    Examples
    --------
    >>> import keras
    >>> from sculpt_sklearn import keras as sculpt
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"),
    ...                           keras.layers.Dense(1)])
    >>> wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(model)
    >>> y_hat, y_risk = wrapped(keras.ops.zeros((4, 8)), return_risk=True)
    >>> tuple(y_risk.shape)
    (4, 1)
    """

    def __init__(
        self,
        distribution: type[SculptDistribution] | str = Normal,
        n_layers: int = 3,
        *,
        layer: str | keras.layers.Layer | None = None,
        hidden: int | None = None,
        detach_features: bool = False,
        min_risk: float = 1e-6,
    ) -> None:
        self.distribution = get_distribution(distribution)
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(
                f"n_layers is the number of layers of the risk head and must be an "
                f"integer >= 1; got {n_layers!r}."
            )
        if hidden is not None and (
            isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1
        ):
            raise ValueError(f"hidden must be a positive integer or None; got {hidden!r}.")
        if not (isinstance(min_risk, (int, float)) and min_risk > 0 and math.isfinite(min_risk)):
            raise ValueError(f"min_risk must be a positive finite float; got {min_risk!r}.")
        self.n_layers = n_layers
        self.layer = layer
        self.hidden = hidden
        self.detach_features = detach_features
        self.min_risk = float(min_risk)

    def __call__(self, model: keras.Model) -> SculptModel:
        """Wrap ``model``; returns a :class:`SculptModel` with all weights built."""
        if not isinstance(model, keras.Model):
            raise TypeError(
                "Wrapper(...) is called on a keras.Model (Sequential, functional or "
                f"subclassed); got {type(model).__name__}. A torch nn.Module takes "
                "sculpt_sklearn.sculpt.Wrapper."
            )
        return SculptModel(
            model,
            distribution=self.distribution,
            n_layers=self.n_layers,
            layer=self.layer,
            hidden=self.hidden,
            detach_features=self.detach_features,
            min_risk=self.min_risk,
        )

    def __repr__(self) -> str:
        return f"Wrapper(distribution={self.distribution!r}, n_layers={self.n_layers})"
