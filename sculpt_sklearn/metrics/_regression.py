"""Scores of a predicted distribution: NLL, CRPS, intervals and sharpness.

See :mod:`sculpt_sklearn.metrics` for the conventions shared by every metric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._predictive import (
    DistributionLike,
    check_confidence_level,
    check_predictions,
    interval,
    resolve_family,
)
from .._tensor import as_tensor

__all__ = ["nll", "crps", "coverage", "interval_width", "interval_score", "sharpness"]


def _aggregate(per_output: np.ndarray, multioutput: Any) -> float | np.ndarray:
    """Combine one value per output as scikit-learn's regression metrics do."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        if multioutput == "uniform_average":
            return float(np.mean(per_output))
        raise ValueError(
            "multioutput must be 'raw_values', 'uniform_average' or an array of "
            f"output weights; got {multioutput!r}."
        )
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != per_output.shape:
        raise ValueError(
            f"multioutput weights have shape {weights.shape} but there are "
            f"{per_output.shape[0]} output(s)."
        )
    return float(np.average(per_output, weights=weights))


def _mean(values: np.ndarray, sample_weight: np.ndarray | None, multioutput: Any) -> Any:
    """Row-weighted mean per output, then aggregated over outputs."""
    return _aggregate(np.average(values, axis=0, weights=sample_weight), multioutput)


def _inside(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray, *_: Any) -> np.ndarray:
    """1.0 where ``y_true`` lies in ``[lower, upper]``, else 0.0."""
    return ((y_true >= lower) & (y_true <= upper)).astype(np.float64)


def _width(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray, *_: Any) -> np.ndarray:
    """The width of each interval (``y_true`` is not used)."""
    return upper - lower


def _interval_scores(
    y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
) -> np.ndarray:
    """Gneiting & Raftery's interval score of each row at ``level``."""
    alpha = 1.0 - level
    return (
        (upper - lower)
        + (2.0 / alpha) * np.maximum(lower - y_true, 0.0)
        + (2.0 / alpha) * np.maximum(y_true - upper, 0.0)
    )


def _quantile_crps(y_true: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """CRPS of each row from its quantiles at midpoint ``levels`` (n, k, L).

    ``CRPS(F, y) = 2 * integral over u of pinball_u(y, F^-1(u))``
    (Gneiting & Raftery 2007, Laio & Tamea 2007), by the midpoint rule.
    """
    error = y_true[..., None] - quantiles
    return 2.0 * np.mean(error * (levels - (error < 0)), axis=-1)


def _torch_elementwise(
    method: Callable[..., torch.Tensor], *arrays: np.ndarray
) -> np.ndarray:
    """``method`` applied to the arrays as float64 tensors, back as an array."""
    tensors = [as_tensor(a, torch.float64) for a in arrays]
    with torch.no_grad():
        return method(*tensors).numpy()


def nll(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Mean negative log-likelihood of ``y_true`` under the predicted distributions.

    The exact log density of the family, constants included (the numbers
    compare with published NLL tables), computed in float64.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets.
    y_mean : array-like, same shape as ``y_true``
        Predicted means.
    y_std : array-like, same shape as ``y_true``
        Predicted standard deviations, strictly positive.
    distribution : str or SculptDistribution subclass, default="normal"
        Predictive family, e.g. ``"laplace"`` or ``sculpt.StudentT.with_df(3)``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the average.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs: one value per output, their mean, or a
        weighted mean with these weights.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The (weighted) mean NLL; lower is better.

    Examples
    --------
    >>> from sculpt_sklearn.metrics import nll
    >>> round(nll([0.0], [0.0], [1.0]), 4)  # log(sqrt(2 pi))
    0.9189
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    values = _torch_elementwise(resolve_family(distribution, y_mean).nll, y_true, y_mean, y_std)
    return _mean(values, sample_weight, multioutput)


def crps(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Mean continuous ranked probability score (closed form of the family).

    ``CRPS(F, y) = integral of (F(t) - 1{t >= y})^2 dt``, in the units of
    ``y``; it reduces to the absolute error for a point prediction
    (Gneiting & Raftery 2007).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets.
    y_mean : array-like, same shape as ``y_true``
        Predicted means.
    y_std : array-like, same shape as ``y_true``
        Predicted standard deviations, strictly positive.
    distribution : str or SculptDistribution subclass, default="normal"
        Predictive family; it must have a closed-form CRPS.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the average.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The (weighted) mean CRPS; lower is better.

    Raises
    ------
    NotImplementedError
        When the family has no closed-form CRPS.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    values = _torch_elementwise(resolve_family(distribution, y_mean).crps, y_true, y_mean, y_std)
    return _mean(values, sample_weight, multioutput)


def coverage(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    confidence_level: float = 0.9,
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Share of targets inside the central prediction interval.

    The interval of each row holds ``confidence_level`` of its predicted
    distribution's mass, with equal tails; bounds count as inside. A
    calibrated model's coverage is close to ``confidence_level``.

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
    confidence_level : float, default=0.9
        Probability inside the interval, strictly between 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The observed coverage, in ``[0, 1]``.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    lower, upper = interval(y_mean, y_std, distribution, confidence_level)
    return _mean(_inside(y_true, lower, upper), sample_weight, multioutput)


def interval_width(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    confidence_level: float = 0.9,
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Mean width of the central prediction interval (its sharpness).

    ``y_true`` is only checked for consistency; the width depends on the
    predictions alone. Read it next to :func:`coverage`: narrow intervals
    are good only when they still cover.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets (checked, not used).
    y_mean : array-like, same shape as ``y_true``
        Predicted means.
    y_std : array-like, same shape as ``y_true``
        Predicted standard deviations, strictly positive.
    distribution : str or SculptDistribution subclass, default="normal"
        Predictive family.
    confidence_level : float, default=0.9
        Probability inside the interval, strictly between 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The mean width, in the units of ``y``.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    lower, upper = interval(y_mean, y_std, distribution, confidence_level)
    return _mean(_width(y_true, lower, upper), sample_weight, multioutput)


def interval_score(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
    confidence_level: float = 0.9,
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Mean interval score of the central interval (Gneiting & Raftery 2007, eq. 43).

    With ``alpha = 1 - confidence_level`` and bounds ``[l, u]``, the score of
    a row is ``(u - l) + (2 / alpha) * (l - y) * 1{y < l} + (2 / alpha) *
    (y - u) * 1{y > u}``: the width, plus a penalty for each miss that
    grows with its distance. It is a proper score for the two quantiles.

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
    confidence_level : float, default=0.9
        Probability inside the interval, strictly between 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The mean interval score, in the units of ``y``; lower is better.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    level = check_confidence_level(confidence_level)
    lower, upper = interval(y_mean, y_std, distribution, level)
    return _mean(_interval_scores(y_true, lower, upper, level), sample_weight, multioutput)


def sharpness(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    sample_weight: Any = None,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """Root mean predicted variance, ``sqrt(mean(y_std ** 2))``.

    How concentrated the predictions are, in the units of ``y``, whatever
    the targets (``y_true`` and ``y_mean`` are only checked for
    consistency). Smaller is sharper, which is good only for a calibrated
    model. As uncertainty-toolbox's ``sharpness``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets (checked, not used).
    y_mean : array-like, same shape as ``y_true``
        Predicted means (checked, not used).
    y_std : array-like, same shape as ``y_true``
        Predicted standard deviations, strictly positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The root mean variance.
    """
    y_true, y_mean, y_std, sample_weight = check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    per_output = np.sqrt(np.average(y_std**2, axis=0, weights=sample_weight))
    return _aggregate(per_output, multioutput)
