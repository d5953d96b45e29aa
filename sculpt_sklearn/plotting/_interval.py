""":class:`IntervalDisplay`: prediction intervals ordered by predicted mean, with the observed values."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._predictive import check_confidence_level as _check_confidence_level
from .._predictive import check_predictions as _check_predictions
from .._predictive import estimator_distribution as _estimator_distribution
from .._predictive import interval as _interval
from .._predictive import predict_with_std as _predict_with_std
from ._common import _axes, _legend, _name, _pyplot

__all__ = ["IntervalDisplay"]


class IntervalDisplay:
    """Prediction intervals ordered by predicted mean, with the observed values.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Observed targets.
    y_mean : ndarray of shape (n_samples,)
        Predicted means.
    lower, upper : ndarray of shape (n_samples,)
        Interval bounds.
    confidence_level : float, default=None
        Level of the intervals, shown in the legend.
    estimator_name : str, default=None
        Name of the model, used in the legend.

    Attributes
    ----------
    order_ : ndarray of shape (n_shown,)
        Indices of the rows drawn, in drawing order (ascending predicted
        mean).
    intervals_ : matplotlib LineCollection
        One vertical segment per interval.
    mean_line_ : matplotlib Line2D
        The predicted means.
    observed_line_ : matplotlib Line2D
        The observed values.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.
    """

    def __init__(
        self,
        y_true: np.ndarray,
        y_mean: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        *,
        confidence_level: float | None = None,
        estimator_name: str | None = None,
    ) -> None:
        self.y_true = y_true
        self.y_mean = y_mean
        self.lower = lower
        self.upper = upper
        self.confidence_level = confidence_level
        self.estimator_name = estimator_name

    def plot(
        self, ax: Any = None, *, name: str | None = None, n_max: int | None = 200
    ) -> IntervalDisplay:
        """Draw the intervals, means and observed values.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure and axes when None.
        name : str, default=None
            Title; ``estimator_name`` when None.
        n_max : int or None, default=200
            Draw at most this many rows, evenly spread over the ordering
            (all rows when None). The legend's share of targets inside
            their interval counts every row.

        Returns
        -------
        display : IntervalDisplay
            This object, with ``ax_``, ``figure_``, ``order_``,
            ``intervals_``, ``mean_line_`` and ``observed_line_`` set.
        """
        ax = _axes(f"{type(self).__name__}.plot", ax)
        name = self.estimator_name if name is None else name
        order = np.argsort(self.y_mean, kind="stable")
        if n_max is not None and order.size > n_max:
            order = order[np.linspace(0, order.size - 1, n_max).round().astype(int)]
        self.order_ = order
        x = np.arange(order.size)
        inside = (self.y_true >= self.lower) & (self.y_true <= self.upper)
        level = "" if self.confidence_level is None else f"{self.confidence_level:.0%} "
        self.intervals_ = ax.vlines(
            x, self.lower[order], self.upper[order], color="tab:blue", alpha=0.4,
            label=f"{level}prediction interval",
        )
        self.mean_line_ = ax.plot(
            x, self.y_mean[order], linestyle="none", marker="_", color="tab:blue",
            label="predicted mean",
        )[0]
        self.observed_line_ = ax.plot(
            x, self.y_true[order], linestyle="none", marker=".", color="tab:orange",
            label=f"observed ({np.mean(inside):.1%} inside)",
        )[0]
        ax.set(xlabel="Rows, ordered by predicted mean", ylabel="Target")
        if name is not None:
            ax.set_title(name)
        _legend(ax)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_mean: Any,
        y_std: Any,
        *,
        distribution: Any = "normal",
        confidence_level: float = 0.9,
        name: str | None = None,
        n_max: int | None = 200,
        ax: Any = None,
    ) -> IntervalDisplay:
        """Draw the central intervals of the predicted distributions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            Observed targets (one output; pass ``y[:, j]`` for output ``j``).
        y_mean : array-like of shape (n_samples,)
            Predicted means.
        y_std : array-like of shape (n_samples,)
            Predicted standard deviations, strictly positive.
        distribution : str or SculptDistribution subclass, default="normal"
            Predictive family.
        confidence_level : float, default=0.9
            Probability inside each interval.
        name : str, default=None
            Title.
        n_max : int or None, default=200
            Draw at most this many rows.
        ax : matplotlib Axes, default=None
            Where to draw.

        Returns
        -------
        display : IntervalDisplay
        """
        _pyplot(f"{cls.__name__}.from_predictions")
        level = _check_confidence_level(confidence_level)
        y_true, y_mean, y_std, _ = _check_predictions(y_true, y_mean, y_std)
        _check_one_output(y_true)
        lower, upper = _interval(y_mean, y_std, distribution, level)
        display = cls(
            y_true[:, 0], y_mean[:, 0], lower[:, 0], upper[:, 0], confidence_level=level,
            estimator_name=name,
        )
        return display.plot(ax=ax, n_max=n_max)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        confidence_level: float = 0.9,
        distribution: Any = None,
        name: str | None = None,
        n_max: int | None = 200,
        ax: Any = None,
    ) -> IntervalDisplay:
        """Draw a fitted estimator's prediction intervals on ``(X, y)``.

        The intervals come from ``estimator.predict_interval(X,
        confidence_level)`` when the estimator has it (a SculptRegressor, a
        RecalibratedRegressor), else from ``predict(X, return_std=True)``
        and the family (a Pipeline).

        Parameters
        ----------
        estimator : fitted estimator
            A regressor that predicts a standard deviation.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Targets (one output).
        confidence_level : float, default=0.9
            Probability inside each interval.
        distribution : str or SculptDistribution subclass, default=None
            Predictive family when intervals come from the standard
            deviation; the estimator's ``distribution_`` when None.
        name : str, default=None
            Title; the estimator's class name when None.
        n_max : int or None, default=200
            Draw at most this many rows.
        ax : matplotlib Axes, default=None
            Where to draw.

        Returns
        -------
        display : IntervalDisplay
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        level = _check_confidence_level(confidence_level)
        name = _name(estimator, name)
        if hasattr(estimator, "predict_interval") and distribution is None:
            y_mean = estimator.predict(X)
            lower, upper = estimator.predict_interval(X, confidence_level=level)
            arrays = [np.asarray(a, dtype=np.float64) for a in (y, y_mean, lower, upper)]
            if any(a.ndim == 2 and a.shape[1] != 1 for a in arrays):
                _check_one_output(arrays[0].reshape(arrays[0].shape[0], -1))
            y, y_mean, lower, upper = (a.reshape(-1) for a in arrays)
            display = cls(y, y_mean, lower, upper, confidence_level=level, estimator_name=name)
            return display.plot(ax=ax, n_max=n_max)
        y_mean, y_std = _predict_with_std(estimator, X)
        family = _estimator_distribution(estimator) if distribution is None else distribution
        return cls.from_predictions(
            y, y_mean, y_std, distribution=family, confidence_level=level, name=name,
            n_max=n_max, ax=ax,
        )


def _check_one_output(y: np.ndarray) -> None:
    if y.shape[1] != 1:
        raise ValueError(
            f"IntervalDisplay draws one output; got {y.shape[1]}. Pass one column, "
            "e.g. y[:, 0] with y_mean[:, 0] and y_std[:, 0]."
        )
