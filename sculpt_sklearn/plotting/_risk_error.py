""":class:`RiskErrorDisplay`: predicted standard deviation against the RMSE of residuals, by bin."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._predictive import check_predictions as _check_predictions
from .._predictive import predict_with_std as _predict_with_std
from ._common import _axes, _legend, _name, _pyplot

__all__ = ["RiskErrorDisplay"]


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
