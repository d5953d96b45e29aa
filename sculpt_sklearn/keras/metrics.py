"""Metrics of the predicted distribution, for ``wrapped.compile(metrics=[...])``.

A Keras metric sees ``(y_true, y_pred)`` only; these also need the risk, so the
wrapped model (:class:`~sculpt_sklearn.keras.SculptModel`) feeds them from its
``compute_loss``, where the prediction and the risk of one forward pass meet, through
:meth:`RiskMetric.update_risk_state`. They are reported as ``nll`` and ``coverage``
(``val_nll`` and ``val_coverage`` on validation data), averaged over the epoch.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["NLL", "Coverage", "RiskMetric"]

Tensor = Any


class RiskMetric(keras.metrics.Mean):
    """Base class: the mean over elements of a function of ``(y, y_hat, y_risk)``.

    Parameters
    ----------
    name : str
        The name in the training logs.
    dtype : str, optional
        The dtype of the metric's state.
    """

    def values(self, distribution: Any, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise values to average; implemented by subclasses."""
        raise NotImplementedError

    def update_risk_state(
        self,
        distribution: Any,
        y: Tensor,
        y_hat: Tensor,
        y_risk: Tensor,
        sample_weight: Tensor | None = None,
    ) -> None:
        """Accumulate a batch.

        Parameters
        ----------
        distribution : SculptDistribution subclass
            The wrapped model's family.
        y, y_hat, y_risk : tensor
            Targets, predicted means and standard deviations, of one shape.
        sample_weight : tensor, optional
            Row weights, as Keras passes them.
        """
        y_hat, y_risk = ops.stop_gradient(y_hat), ops.stop_gradient(y_risk)
        values = self.values(distribution, y, y_hat, y_risk)
        super().update_state(values, sample_weight=sample_weight)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Refused: a ``(y_true, y_pred)`` pair carries no risk."""
        raise TypeError(
            f"{type(self).__name__} needs the predicted risk, which (y_true, y_pred) does "
            "not carry: pass it to compile(metrics=[...]) of a model made by "
            "sculpt_sklearn.keras.Wrapper, which feeds it, or call "
            "update_risk_state(distribution, y, y_hat, y_risk)."
        )


@keras.saving.register_keras_serializable(package="sculpt_sklearn")
class NLL(RiskMetric):
    """Mean negative log-likelihood under the model's family, constants included.

    The number the model's ``loss_function`` gives, so it compares with published NLL
    tables (and with the loss when the compiled loss is None and ``scale=1``).

    Parameters
    ----------
    name : str, default="nll"
        The name in the training logs.
    dtype : str, optional
        The dtype of the metric's state.
    """

    def __init__(self, name: str = "nll", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def values(self, distribution: Any, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        return distribution.nll(y, y_hat, y_risk)


@keras.saving.register_keras_serializable(package="sculpt_sklearn")
class Coverage(RiskMetric):
    """Fraction of targets inside the central predictive interval.

    ``y`` is inside when ``(1 - c) / 2 <= F(y) <= (1 + c) / 2``, with ``F`` the
    predicted CDF and ``c`` the confidence level: the same rows as
    ``icdf((1 - c) / 2) <= y <= icdf((1 + c) / 2)``. A calibrated model covers ``c``.

    Parameters
    ----------
    confidence_level : float, default=0.9
        The interval's probability, in (0, 1).
    name : str, default="coverage"
        The name in the training logs.
    dtype : str, optional
        The dtype of the metric's state.
    """

    def __init__(
        self, confidence_level: float = 0.9, name: str = "coverage", dtype: str | None = None
    ) -> None:
        confidence_level = float(confidence_level)
        if not 0.0 < confidence_level < 1.0:
            raise ValueError(
                f"confidence_level must lie strictly between 0 and 1; got {confidence_level}."
            )
        super().__init__(name=name, dtype=dtype)
        self.confidence_level = confidence_level

    def values(self, distribution: Any, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        level = distribution.cdf(y, y_hat, y_risk)
        low, high = (1.0 - self.confidence_level) / 2.0, (1.0 + self.confidence_level) / 2.0
        return ops.cast((level >= low) & (level <= high), ops.dtype(y_hat))

    def get_config(self) -> dict[str, Any]:
        """The metric's arguments, ``confidence_level`` included."""
        config = super().get_config()
        config["confidence_level"] = self.confidence_level
        return config
