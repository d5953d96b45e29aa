""":class:`ReliabilityDisplay`: expected against observed coverage of central intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._predictive import check_predictions as _check_predictions
from .._predictive import estimator_distribution as _estimator_distribution
from .._predictive import observed_proportions as _observed_proportions
from .._predictive import predict_with_std as _predict_with_std
from ..metrics import miscalibration_area
from ._common import _axes, _legend, _name, _pyplot

__all__ = ["ReliabilityDisplay"]


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
