"""Plots of predicted uncertainty, as scikit-learn Display objects.

Each Display follows :class:`sklearn.calibration.CalibrationDisplay`:
``__init__`` stores the computed values, :meth:`plot` draws them on a given
``ax`` (a new figure when None) and sets ``ax_``, ``figure_`` and the drawn
artists, and two class methods compute and plot in one call:
``from_estimator(estimator, X, y)`` and ``from_predictions(y_true, y_mean,
y_std)``.

- :class:`ReliabilityDisplay`: expected against observed coverage of central
  intervals, the miscalibration area shaded.
- :class:`RiskErrorDisplay`: rows binned by predicted standard deviation, the
  root mean predicted variance of each bin against the RMSE of its
  residuals; a calibrated model lies on the diagonal.
- :class:`IntervalDisplay`: prediction intervals ordered by predicted mean,
  with the observed values.

matplotlib is an optional dependency: ``pip install sculpt-sklearn[plot]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._predictions import check_confidence_level as _check_confidence_level
from ._predictions import check_predictions as _check_predictions
from ._predictions import estimator_distribution as _estimator_distribution
from ._predictions import interval as _interval
from ._predictions import observed_proportions as _observed_proportions
from ._predictions import predict_with_std as _predict_with_std
from .metrics import miscalibration_area

__all__ = ["ReliabilityDisplay", "RiskErrorDisplay", "IntervalDisplay"]


def _pyplot(caller: str) -> Any:
    """Import matplotlib.pyplot lazily, with an error that says what to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, an optional dependency: "
            "pip install sculpt-sklearn[plot]"
        ) from exc
    return plt


def _axes(caller: str, ax: Any) -> Any:
    plt = _pyplot(caller)
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _legend(ax: Any) -> None:
    """A legend, when something drawn has a label."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")


def _name(estimator: Any, name: str | None) -> str:
    if name is not None:
        return name
    if hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return type(estimator).__name__


class ReliabilityDisplay:
    """Reliability diagram: expected against observed coverage of central intervals.

    Use :meth:`from_estimator` or :meth:`from_predictions` to make one. A
    calibrated model follows the diagonal; a curve below it is
    over-confident (intervals too narrow), above it under-confident. The
    area between the curve and the diagonal (the miscalibration area) is
    shaded.

    Parameters
    ----------
    expected : ndarray of shape (n_levels,)
        Nominal coverage levels.
    observed : ndarray of shape (n_levels,)
        Observed share of targets inside the interval of each level.
    miscalibration_area : float, default=None
        Area between the curve and the diagonal, shown in the legend.
    estimator_name : str, default=None
        Name of the model, used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The reliability curve.
    fill_ : matplotlib PolyCollection or None
        The shaded miscalibration area.
    ref_line_ : matplotlib Line2D or None
        The diagonal.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.
    """

    def __init__(
        self,
        expected: np.ndarray,
        observed: np.ndarray,
        *,
        miscalibration_area: float | None = None,
        estimator_name: str | None = None,
    ) -> None:
        self.expected = expected
        self.observed = observed
        self.miscalibration_area = miscalibration_area
        self.estimator_name = estimator_name

    def plot(
        self,
        ax: Any = None,
        *,
        name: str | None = None,
        ref_line: bool = True,
        fill: bool = True,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Draw the reliability curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure and axes when None.
        name : str, default=None
            Legend label; ``estimator_name`` when None.
        ref_line : bool, default=True
            Draw the diagonal of perfect calibration.
        fill : bool, default=True
            Shade the area between the curve and the diagonal.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot` for the curve.

        Returns
        -------
        display : ReliabilityDisplay
            This object, with ``ax_``, ``figure_``, ``line_``, ``fill_`` and
            ``ref_line_`` set.
        """
        ax = _axes(f"{type(self).__name__}.plot", ax)
        name = self.estimator_name if name is None else name
        label = name
        if self.miscalibration_area is not None:
            area = f"miscalibration area {self.miscalibration_area:.3f}"
            label = area if label is None else f"{label} ({area})"
        self.ref_line_ = None
        if ref_line:
            self.ref_line_ = ax.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")[0]
        self.line_ = ax.plot(self.expected, self.observed, **{"label": label, **kwargs})[0]
        self.fill_ = None
        if fill:
            self.fill_ = ax.fill_between(
                self.expected, self.expected, self.observed,
                color=self.line_.get_color(), alpha=0.2,
            )
        ax.set(
            xlabel="Expected coverage of central intervals",
            ylabel="Observed coverage", xlim=(0, 1), ylim=(0, 1),
        )
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
        n_levels: int = 100,
        sample_weight: Any = None,
        name: str | None = None,
        ref_line: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Compute and draw the reliability curve of predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Observed targets.
        y_mean : array-like, same shape as ``y_true``
            Predicted means.
        y_std : array-like, same shape as ``y_true``
            Predicted standard deviations, strictly positive.
        distribution : str or SculptDistribution subclass, default="normal"
            Predictive family.
        n_levels : int, default=100
            Number of levels on ``[0, 1]``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        name : str, default=None
            Legend label.
        ref_line : bool, default=True
            Draw the diagonal.
        ax : matplotlib Axes, default=None
            Where to draw.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
            With multi-output targets, the curve is the mean over outputs.
        """
        _pyplot(f"{cls.__name__}.from_predictions")
        y_true, y_mean, y_std, sample_weight = _check_predictions(
            y_true, y_mean, y_std, sample_weight
        )
        expected, observed = _observed_proportions(
            y_true, y_mean, y_std, sample_weight, distribution, n_levels, "interval"
        )
        area = miscalibration_area(
            y_true, y_mean, y_std, distribution=distribution, n_levels=n_levels,
            sample_weight=sample_weight,
        )
        display = cls(
            expected, observed.mean(axis=1), miscalibration_area=area, estimator_name=name
        )
        return display.plot(ax=ax, ref_line=ref_line, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        distribution: Any = None,
        n_levels: int = 100,
        sample_weight: Any = None,
        name: str | None = None,
        ref_line: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Compute and draw the reliability curve of a fitted estimator on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``predict(X, return_std=True)`` returns ``(y_mean, y_std)``;
            a Pipeline ending in a SculptRegressor works.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        distribution : str or SculptDistribution subclass, default=None
            Predictive family; the estimator's ``distribution_`` (its last
            step's for a Pipeline) when None, else Normal.
        n_levels : int, default=100
            Number of levels on ``[0, 1]``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        name : str, default=None
            Legend label; the estimator's class name when None.
        ref_line : bool, default=True
            Draw the diagonal.
        ax : matplotlib Axes, default=None
            Where to draw.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        y_mean, y_std = _predict_with_std(estimator, X)
        family = _estimator_distribution(estimator) if distribution is None else distribution
        return cls.from_predictions(
            y, y_mean, y_std, distribution=family, n_levels=n_levels,
            sample_weight=sample_weight, name=_name(estimator, name), ref_line=ref_line,
            ax=ax, **kwargs,
        )


class RiskErrorDisplay:
    """Predicted standard deviation against observed error, in bins of rows.

    Rows (all outputs pooled) are sorted by predicted standard deviation
    and cut into bins; each bin gives one point: the root mean predicted
    variance of its rows (x) against the root mean squared error of their
    residuals (y). A calibrated model lies on the diagonal (Levi et al.,
    "Evaluating and Calibrating Uncertainty Prediction in Regression
    Tasks", 2022); points above it are over-confident.

    Parameters
    ----------
    predicted_std : ndarray of shape (n_bins,)
        Root mean predicted variance of each bin.
    rmse : ndarray of shape (n_bins,)
        Root mean squared residual of each bin.
    counts : ndarray of shape (n_bins,), default=None
        Rows in each bin.
    estimator_name : str, default=None
        Name of the model, used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The binned points, joined.
    ref_line_ : matplotlib Line2D or None
        The diagonal.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.
    """

    def __init__(
        self,
        predicted_std: np.ndarray,
        rmse: np.ndarray,
        *,
        counts: np.ndarray | None = None,
        estimator_name: str | None = None,
    ) -> None:
        self.predicted_std = predicted_std
        self.rmse = rmse
        self.counts = counts
        self.estimator_name = estimator_name

    def plot(
        self, ax: Any = None, *, name: str | None = None, ref_line: bool = True, **kwargs: Any
    ) -> RiskErrorDisplay:
        """Draw the binned points and the diagonal.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure and axes when None.
        name : str, default=None
            Legend label; ``estimator_name`` when None.
        ref_line : bool, default=True
            Draw the diagonal ``RMSE = predicted std``.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RiskErrorDisplay
            This object, with ``ax_``, ``figure_``, ``line_`` and
            ``ref_line_`` set.
        """
        ax = _axes(f"{type(self).__name__}.plot", ax)
        name = self.estimator_name if name is None else name
        self.ref_line_ = None
        if ref_line:
            top = float(max(np.max(self.predicted_std), np.max(self.rmse)))
            self.ref_line_ = ax.plot([0, top], [0, top], "k:", label="Perfectly calibrated")[0]
        style = {"marker": "o", "label": name, **kwargs}
        self.line_ = ax.plot(self.predicted_std, self.rmse, **style)[0]
        ax.set(xlabel="Predicted standard deviation (root mean variance per bin)",
               ylabel="RMSE of residuals per bin")
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
        n_bins: int = 10,
        name: str | None = None,
        ref_line: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> RiskErrorDisplay:
        """Bin predictions by standard deviation and draw them.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Observed targets.
        y_mean : array-like, same shape as ``y_true``
            Predicted means.
        y_std : array-like, same shape as ``y_true``
            Predicted standard deviations, strictly positive.
        n_bins : int, default=10
            Number of bins of equal count (the last ones may hold one row
            more).
        name : str, default=None
            Legend label.
        ref_line : bool, default=True
            Draw the diagonal.
        ax : matplotlib Axes, default=None
            Where to draw.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RiskErrorDisplay
        """
        _pyplot(f"{cls.__name__}.from_predictions")
        y_true, y_mean, y_std, _ = _check_predictions(y_true, y_mean, y_std)
        std = y_std.ravel()
        squared_error = ((y_true - y_mean) ** 2).ravel()
        if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
            raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}.")
        if n_bins > std.size:
            raise ValueError(
                f"n_bins={n_bins} is more than the {std.size} predictions; use fewer bins."
            )
        bins = np.array_split(np.argsort(std, kind="stable"), n_bins)
        predicted = np.array([np.sqrt(np.mean(std[b] ** 2)) for b in bins])
        rmse = np.array([np.sqrt(np.mean(squared_error[b])) for b in bins])
        counts = np.array([b.size for b in bins])
        display = cls(predicted, rmse, counts=counts, estimator_name=name)
        return display.plot(ax=ax, ref_line=ref_line, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        n_bins: int = 10,
        name: str | None = None,
        ref_line: bool = True,
        ax: Any = None,
        **kwargs: Any,
    ) -> RiskErrorDisplay:
        """Bin a fitted estimator's predictions on ``(X, y)`` and draw them.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``predict(X, return_std=True)`` returns ``(y_mean, y_std)``.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        n_bins : int, default=10
            Number of bins of equal count.
        name : str, default=None
            Legend label; the estimator's class name when None.
        ref_line : bool, default=True
            Draw the diagonal.
        ax : matplotlib Axes, default=None
            Where to draw.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RiskErrorDisplay
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        y_mean, y_std = _predict_with_std(estimator, X)
        return cls.from_predictions(
            y, y_mean, y_std, n_bins=n_bins, name=_name(estimator, name), ref_line=ref_line,
            ax=ax, **kwargs,
        )


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
