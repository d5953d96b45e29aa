"""The wrapped Keras model: the original model plus a risk head, trainable with ``fit``.

:class:`SculptModel` is a ``keras.Model`` made by :class:`~sculpt_sklearn.keras.Wrapper`.
``wrapped(x)`` is the model's own prediction; ``wrapped(x, return_risk=True)`` also
returns the predictive standard deviation. ``compile``/``fit``/``evaluate`` add the
family's negative log-likelihood to the user's loss in ``compute_loss`` (Keras 3's
override point), so one code path trains on every backend.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import keras
from keras import ops

from ._capture import capturing, dense_layers, ensure_capture, find_output_layer
from .distributions import shapes_agree
from .heads import RiskHead
from .metrics import RiskMetric
from .registry import family_config, family_from_config, get_distribution

__all__ = ["MODES", "SculptModel"]

Tensor = Any

#: ``compile(mode=...)``: the Sculpt seed's two training modes.
MODES = ("nll", "sample")

# The (prediction, risk) pairs of the forward passes inside one train or test step, so
# that compute_loss reads the risk of the very pass that made y_pred (matched by
# identity) instead of running the model again.
_STEP_OUTPUTS: ContextVar[list[tuple[Tensor, Tensor]] | None] = ContextVar(
    "sculpt_keras_step_outputs", default=None
)
# Set by predict(..., return_risk=True): the model's calls return (y_hat, y_risk).
_PREDICT_RISK: ContextVar[bool] = ContextVar("sculpt_keras_predict_risk", default=False)


@dataclass(frozen=True)
class _Training:
    """What ``compile`` set beyond Keras's own arguments (a plain object: not tracked)."""

    scale: float = 1.0
    mode: str = "nll"
    has_loss: bool = False
    risk_metrics: tuple[RiskMetric, ...] = field(default_factory=tuple)


def align_target(y: Tensor, y_hat: Tensor) -> Tensor:
    """``y`` in ``y_hat``'s dtype, a ``(n,)`` target made ``(n, 1)`` for ``(n, 1)`` predictions."""
    if y is None:
        raise ValueError("The distribution's loss needs targets: pass y to fit/evaluate.")
    y = ops.cast(y, ops.dtype(y_hat))
    if len(y.shape) == len(y_hat.shape) - 1 and y_hat.shape[-1] == 1:
        y = ops.expand_dims(y, -1)
    return y


@keras.saving.register_keras_serializable(package="sculpt_sklearn")
class SculptModel(keras.Model):
    """A Keras model that also returns its risk; made by :class:`Wrapper`.

    Parameters
    ----------
    model : keras.Model
        The wrapped model (Sequential, functional or subclassed); its weights are used
        as they are.
    distribution : SculptDistribution subclass or str, default="normal"
        The output family.
    n_layers : int, default=3
        Depth of the risk head.
    layer : str or keras.layers.Dense, optional
        The Dense layer whose input the risk head reads; default: the model's last.
    hidden : int, optional
        Width of the risk head's hidden layers (default: the features' width).
    detach_features : bool, default=False
        Let the risk head read the features through ``stop_gradient``, so the risk
        loss does not change the model's representation.
    min_risk : float, default=1e-6
        Floor of the risk.
    **kwargs
        Passed to ``keras.Model`` (``name``).

    Attributes
    ----------
    model : keras.Model
        The original model.
    distribution : SculptDistribution subclass
        The output family.
    risk_head : RiskHead
        The head that computes the risk; built at wrap time.
    layer_name : str
        The name of the Dense layer the head reads from.

    Notes
    -----
    The prediction is ``distribution.mean_link(model(x))``: the model's own output
    for Normal, Laplace and StudentT; ``softplus(model(x)) + 1e-8`` for the positive
    families (LogNormal, Gamma).
    """

    def __init__(
        self,
        model: keras.Model,
        distribution: Any = "normal",
        n_layers: int = 3,
        layer: str | keras.layers.Layer | None = None,
        hidden: int | None = None,
        detach_features: bool = False,
        min_risk: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.distribution = get_distribution(distribution)
        self.n_layers = int(n_layers)
        self.hidden = hidden
        self.detach_features = bool(detach_features)
        self.min_risk = float(min_risk)
        dense = find_output_layer(model, layer)
        ensure_capture(dense)
        self.layer_name = dense.name
        # Kept out of Keras's tracking (the layer is tracked, and saved, under model).
        object.__setattr__(self, "_output_layer", dense)
        self.risk_head = RiskHead(
            dense.units, n_layers=self.n_layers, hidden=hidden, min_risk=self.min_risk,
            dtype=dense.dtype_policy, name="risk_head",
        )
        self.risk_head.build((None, int(dense.kernel.shape[0])))
        # Draws of mode="sample", a state of the model (saved, and functional in JAX).
        self.seed_generator = keras.random.SeedGenerator(name="sculpt_seed")
        object.__setattr__(self, "_training", _Training())
        self._predict_risk = False
        self.built = True

    # -- the forward pass ----------------------------------------------------------
    def call(
        self, inputs: Any, training: bool | None = None, return_risk: bool = False
    ) -> Any:
        """Run the model; optionally also return the risk.

        Parameters
        ----------
        inputs : tensor or structure of tensors
            The model's input.
        training : bool, optional
            Passed to the model (dropout, batch normalisation).
        return_risk : bool, default=False
            Also return the risk.

        Returns
        -------
        y_hat : tensor
            The prediction ``distribution.mean_link(model(inputs))``.
        y_risk : tensor
            The predictive standard deviation, shape of ``y_hat``, positive. Only
            returned when ``return_risk`` is True.
        """
        step = _STEP_OUTPUTS.get()
        return_risk = return_risk or _PREDICT_RISK.get()
        if not (return_risk or step is not None):
            return self.distribution.mean_link(self._run_model(inputs, training))
        with capturing(self._output_layer) as captured:
            raw = self._run_model(inputs, training)
        if not captured:
            raise RuntimeError(
                f"The model's call did not call the layer {self.layer_name!r}, so there "
                "are no features for the risk head; name the Dense layer that computes "
                "the output with Wrapper(..., layer='name')."
            )
        features = captured[-1]
        if self.detach_features:
            features = ops.stop_gradient(features)
        y_hat = self.distribution.mean_link(raw)
        y_risk = self._match_shape(self.risk_head(features), y_hat)
        if step is not None:
            step.append((y_hat, y_risk))
        return (y_hat, y_risk) if return_risk else y_hat

    def _run_model(self, inputs: Any, training: bool | None) -> Tensor:
        out = self.model(inputs, training=training)
        if isinstance(out, (list, tuple, dict)):
            raise ValueError(
                f"The wrapped model returns a {type(out).__name__} of outputs; the Sculpt "
                "wrapper gives a risk to a model with one output tensor. Wrap a model "
                "that returns the output the risk belongs to."
            )
        return out

    def _match_shape(self, y_risk: Tensor, y_hat: Tensor) -> Tensor:
        """The risk in the prediction's shape (a model may reshape its output layer's)."""
        risk_shape, hat_shape = tuple(y_risk.shape), tuple(y_hat.shape)
        if shapes_agree(risk_shape, hat_shape):
            return y_risk
        if None in risk_shape[1:] or None in hat_shape[1:] or (
            math.prod(risk_shape[1:]) != math.prod(hat_shape[1:])
        ):
            raise RuntimeError(
                f"The risk head gives shape {risk_shape} but the model returns {hat_shape}: "
                f"the model changes the output of {self.layer_name!r} after it. Name the "
                "Dense layer that produces the output with Wrapper(..., layer='name')."
            )
        return ops.reshape(y_risk, ops.shape(y_hat))

    # -- training: compile, compute_loss ---------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        *,
        metrics: Any = None,
        scale: float = 1.0,
        mode: str = "nll",
        **kwargs: Any,
    ) -> None:
        """Configure training; the family's NLL is added to ``loss``.

        Parameters
        ----------
        optimizer : str or keras.optimizers.Optimizer, default="rmsprop"
            As ``keras.Model.compile``. The arguments after ``loss`` are keywords
            only (Keras's third positional argument is ``loss_weights``).
        loss : str, callable or keras.losses.Loss, optional
            The user's own loss on the prediction (e.g. ``"mse"``), or None for the
            distribution's loss alone.
        metrics : list, optional
            Keras metrics of the prediction, and :class:`NLL` / :class:`Coverage`,
            which also read the risk.
        scale : float, default=1.0
            Weight of the distribution's term in ``mode="nll"``.
        mode : {"nll", "sample"}, default="nll"
            ``"nll"`` (the seed's mode A): ``loss(y, y_hat) + scale *
            distribution.loss_function(y, y_hat, y_risk)``. ``"sample"`` (mode B):
            ``loss(y, distribution.sample((y_hat, y_risk)))``, reparameterised; with
            the squared error (any convex loss) it drives the risk to its floor
            (see the user guide).
        **kwargs
            Passed to ``keras.Model.compile`` (``loss_weights``, ``run_eagerly``,
            ``jit_compile``, ...).
        """
        scale = float(scale)
        if not (scale >= 0.0 and scale < float("inf")):
            raise ValueError(f"scale must be a finite number >= 0; got {scale}.")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        if mode == "sample" and loss is None:
            raise ValueError(
                "mode='sample' applies the compiled loss to a draw from the predicted "
                "distribution, so it needs one: compile(loss='mse', mode='sample')."
            )
        if mode == "sample" and scale != 1.0:
            raise ValueError(
                "scale weighs the distribution's NLL term of mode='nll'; mode='sample' "
                "has no such term. Leave scale at 1.0 or use mode='nll'."
            )
        risk_metrics: list[RiskMetric] = []
        if isinstance(metrics, (list, tuple)):
            risk_metrics = [m for m in metrics if isinstance(m, RiskMetric)]
            metrics = [m for m in metrics if not isinstance(m, RiskMetric)] or None
        elif isinstance(metrics, dict) and any(
            isinstance(m, RiskMetric) for v in metrics.values()
            for m in (v if isinstance(v, (list, tuple)) else [v])
        ):
            raise ValueError("Pass NLL and Coverage in a list: compile(metrics=[NLL(), ...]).")
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        object.__setattr__(
            self, "_training",
            _Training(scale=scale, mode=mode, has_loss=loss is not None,
                      risk_metrics=tuple(risk_metrics)),
        )

    @property
    def metrics(self) -> list[Any]:
        """Keras's metrics, then :class:`NLL` / :class:`Coverage` passed to ``compile``."""
        return [*super().metrics, *self._training.risk_metrics]

    def train_step(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's train step, with this step's forward passes recorded for ``compute_loss``."""
        token = _STEP_OUTPUTS.set([])
        try:
            return super().train_step(*args, **kwargs)
        finally:
            _STEP_OUTPUTS.reset(token)

    def test_step(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's test step, with this step's forward passes recorded for ``compute_loss``."""
        token = _STEP_OUTPUTS.set([])
        try:
            return super().test_step(*args, **kwargs)
        finally:
            _STEP_OUTPUTS.reset(token)

    def _risk_for(self, x: Any, y_pred: Tensor, training: bool) -> Tensor:
        """The risk of the forward pass that gave ``y_pred``, or of a new pass on ``x``."""
        for y_hat, y_risk in reversed(_STEP_OUTPUTS.get() or []):
            if y_hat is y_pred:
                return y_risk
        return self(x, training=training, return_risk=True)[1]

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Tensor:
        """The compiled loss plus ``scale`` times the family's NLL (``mode="nll"``),
        or the compiled loss of a reparameterised draw (``mode="sample"``).

        Also feeds the :class:`NLL` and :class:`Coverage` metrics passed to ``compile``.

        Parameters
        ----------
        x, y : tensor
            Inputs and targets of the batch.
        y_pred : tensor
            The prediction ``self(x)``.
        sample_weight : tensor, optional
            Row weights: the compiled loss uses them as Keras does, the NLL as the
            weighted mean over rows.
        training : bool, default=True
            Whether the step trains.

        Returns
        -------
        tensor
            The scalar loss.
        """
        settings = self._training
        y_risk = self._risk_for(x, y_pred, training)
        target = align_target(y, y_pred)
        for metric in settings.risk_metrics:
            metric.update_risk_state(self.distribution, target, y_pred, y_risk, sample_weight)
        if settings.mode == "sample":
            draw = self.distribution.sample((y_pred, y_risk), seed=self.seed_generator)
            return super().compute_loss(x, y, draw, sample_weight, training)
        nll = self.distribution.loss_function(target, y_pred, y_risk, sample_weight)
        if not (settings.has_loss or self.losses):
            return settings.scale * nll
        base = super().compute_loss(x, y, y_pred, sample_weight, training)
        return base + settings.scale * nll

    # -- predictions with their risk ------------------------------------------------
    def predict(self, x: Any, *args: Any, return_risk: bool = False, **kwargs: Any) -> Any:
        """``keras.Model.predict``; with ``return_risk=True``, ``(y_hat, y_risk)`` arrays.

        Parameters
        ----------
        x : array-like or dataset
            As ``keras.Model.predict``.
        *args, **kwargs
            Passed to ``keras.Model.predict`` (``batch_size``, ``verbose``, ...).
        return_risk : bool, default=False
            Also return the predictive standard deviation, batch by batch.

        Returns
        -------
        y_hat : ndarray
            The predictions.
        y_risk : ndarray
            The risk, shape of ``y_hat``. Only returned when ``return_risk`` is True.
        """
        return_risk = bool(return_risk)
        if return_risk != self._predict_risk:
            self.predict_function = None  # traced for the other output structure
            self._predict_risk = return_risk
        token = _PREDICT_RISK.set(return_risk)
        try:
            return super().predict(x, *args, **kwargs)
        finally:
            _PREDICT_RISK.reset(token)

    # -- saving -------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The wrapped model's config, the family and the head's arguments."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "model": keras.saving.serialize_keras_object(self.model),
            "distribution": family_config(self.distribution),
            "n_layers": self.n_layers,
            # The layer's position: a subclassed model's layers get new names on loading.
            "layer_index": self._layer_index(),
            "hidden": self.hidden,
            "detach_features": self.detach_features,
            "min_risk": self.min_risk,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> SculptModel:
        """Rebuild the wrapped model (weights are loaded afterwards by Keras)."""
        config = dict(config)
        model = keras.saving.deserialize_keras_object(
            config.pop("model"), custom_objects=custom_objects
        )
        distribution = family_from_config(config.pop("distribution"))
        trainable = config.pop("trainable", True)
        config["layer"] = dense_layers(model)[config.pop("layer_index")]
        wrapped = cls(model, distribution=distribution, **config)
        wrapped.trainable = trainable
        return wrapped

    def _layer_index(self) -> int:
        layers = dense_layers(self.model)
        return next(i for i, layer in enumerate(layers) if layer is self._output_layer)

    def get_compile_config(self) -> dict[str, Any]:
        """Keras's compile config plus ``scale``, ``mode`` and the risk metrics."""
        config = super().get_compile_config()
        if not config:
            return config
        settings = self._training
        config = dict(config)
        metrics = list(config.get("metrics") or [])
        metrics += [keras.saving.serialize_keras_object(m) for m in settings.risk_metrics]
        config.update(metrics=metrics or None, scale=settings.scale, mode=settings.mode)
        return config

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile from :meth:`get_compile_config`'s output (on loading a saved model)."""
        # keras.Model's own skips a model whose compile is overridden; this one knows
        # its extra arguments (scale, mode) and does what Keras's does otherwise.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

