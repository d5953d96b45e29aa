"""Calibration of a predicted distribution: reliability curve, its error and area.

See :mod:`sculpt_sklearn.metrics` for the conventions shared by every metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._predictive import DistributionLike, check_predictions, observed_proportions
from ._regression import _aggregate

__all__ = ["calibration_curve", "calibration_error", "miscalibration_area"]


def calibration_curve(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    n_levels: int = 100,
    kind: str = "interval",
    sample_weight: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected against observed coverage over a grid of levels (reliability curve).

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
        Number of levels, evenly spaced on ``[0, 1]`` (both ends included).
    kind : {"interval", "quantile"}, default="interval"
        ``"interval"``: share of targets inside the central interval of each
        level (uncertainty-toolbox's default). ``"quantile"``: share of
        targets at or below the predicted quantile of each level.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    expected : ndarray of shape (n_levels,)
        The levels.
    observed : ndarray of shape (n_levels,) or (n_levels, n_outputs)
        Observed proportion at each level; 2-D when ``y_true`` is.
    """
    one_d = np.ndim(y_true) == 1
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = observed_proportions(
        y_true, y_mean, y_std, sample_weight, distribution, n_levels, kind
    )
    return expected, observed[:, 0] if one_d else observed


def calibration_error(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    n_levels: int = 100,
    kind: str = "interval",
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Mean absolute calibration error: mean ``|expected - observed|`` coverage.

    The average over the levels of :func:`calibration_curve` of the gap
    between each level and the share of targets its interval holds; this is
    uncertainty-toolbox's "mean absolute calibration error" (0 is perfect,
    0.5 the worst).

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
        Number of levels, evenly spaced on ``[0, 1]``.
    kind : {"interval", "quantile"}, default="interval"
        Central intervals or one-sided quantiles (see :func:`calibration_curve`).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The mean absolute calibration error, in ``[0, 1]``.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = observed_proportions(
        y_true, y_mean, y_std, sample_weight, distribution, n_levels, kind
    )
    return _aggregate(np.mean(np.abs(observed - expected[:, None]), axis=0), multioutput)


def _area_between(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Exact integral of ``|d|`` over ``x`` for piecewise-linear ``d`` (L, k)."""
    h = np.diff(x)[:, None]
    d0, d1 = d[:-1], d[1:]
    same_sign = d0 * d1 >= 0
    trapezoid = 0.5 * (np.abs(d0) + np.abs(d1)) * h
    denominator = np.where(same_sign, 1.0, np.abs(d0) + np.abs(d1))
    crossing = 0.5 * (d0**2 + d1**2) / denominator * h
    return np.sum(np.where(same_sign, trapezoid, crossing), axis=0)


def miscalibration_area(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    n_levels: int = 100,
    kind: str = "interval",
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Area between the reliability curve and the diagonal.

    The curve of :func:`calibration_curve` is joined linearly between
    levels and the area is exact, crossings of the diagonal included (the
    quantity uncertainty-toolbox computes with polygons).

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
        Number of levels, evenly spaced on ``[0, 1]``.
    kind : {"interval", "quantile"}, default="interval"
        Central intervals or one-sided quantiles.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The area, in ``[0, 0.5]``; 0 is perfect.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = observed_proportions(
        y_true, y_mean, y_std, sample_weight, distribution, n_levels, kind
    )
    return _aggregate(_area_between(expected, observed - expected[:, None]), multioutput)
