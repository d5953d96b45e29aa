"""Scores of predictive distributions, and scorers for model selection.

Every metric takes ``(y_true, y_mean, y_std)``: the observed targets, the
predicted means and the predicted standard deviations (the *risk*), all of
shape ``(n_samples,)`` or ``(n_samples, n_outputs)``. ``distribution``
names the predictive family (``"normal"`` by default, or a class from
:mod:`sculpt_sklearn.sculpt`), so that a Laplace or Student-t model is judged
by its own density rather than by a Gaussian with the same standard
deviation. Multi-output arrays give one value per output, averaged (see
``multioutput``).

===========================  ===========================================  ======
metric                       what it measures                             better
===========================  ===========================================  ======
:func:`nll`                  negative log-likelihood (log score)          lower
:func:`crps`                 continuous ranked probability score          lower
:func:`coverage`             share of ``y`` inside the central interval   target
:func:`interval_width`       mean width of the central interval           lower
:func:`interval_score`       width plus penalty for misses (G&R 2007)     lower
:func:`calibration_error`    mean abs. expected - observed coverage       lower
:func:`miscalibration_area`  area between reliability curve and diagonal  lower
:func:`sharpness`            root mean predicted variance                 lower
===========================  ===========================================  ======

The scorers (:data:`neg_nll_scorer`, :data:`neg_crps_scorer`,
:data:`interval_score_scorer` and :func:`make_uncertainty_scorer`) plug these
into ``GridSearchCV(scoring=...)`` and ``cross_validate``; higher is better.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import _check_sample_weight

from .sculpt.distributions import Normal, SculptDistribution, get_distribution

__all__ = [
    "nll",
    "crps",
    "coverage",
    "interval_width",
    "interval_score",
    "calibration_curve",
    "calibration_error",
    "miscalibration_area",
    "sharpness",
    "uncertainty_metrics",
    "evaluate_uncertainty",
    "UncertaintyScorer",
    "make_uncertainty_scorer",
    "neg_nll_scorer",
    "neg_crps_scorer",
    "interval_score_scorer",
]

_DistributionLike = str | type[SculptDistribution]


# --------------------------------------------------------------------------- checks
def _check_predictions(
    y_true: Any, y_mean: Any, y_std: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate the three arrays (and weights); return them as float64 (n, k)."""
    arrays = []
    for name, values in (("y_true", y_true), ("y_mean", y_mean), ("y_std", y_std)):
        values = check_array(values, ensure_2d=False, dtype=np.float64, input_name=name)
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        elif values.ndim != 2:
            raise ValueError(
                f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); "
                f"got shape {values.shape}."
            )
        arrays.append(values)
    check_consistent_length(*arrays)
    y_true, y_mean, y_std = arrays
    if not y_true.shape == y_mean.shape == y_std.shape:
        raise ValueError(
            f"y_true, y_mean and y_std must have the same shape; got {y_true.shape}, "
            f"{y_mean.shape} and {y_std.shape}. Pass the pair returned by "
            "estimator.predict(X, return_std=True) with the matching targets."
        )
    n_bad = int(np.sum(y_std <= 0))
    if n_bad:
        raise ValueError(
            f"y_std must be strictly positive (it is a standard deviation); {n_bad} of "
            f"{y_std.size} values are <= 0 (smallest {y_std.min():g}). Check the model that "
            "produced it, or floor it, e.g. np.maximum(y_std, 1e-6 * np.std(y_true))."
        )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, y_true, dtype=np.float64, ensure_non_negative=True
        )
    return y_true, y_mean, y_std, sample_weight


def _check_confidence_level(confidence_level: Any) -> float:
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, Real)
        or not 0.0 < float(confidence_level) < 1.0
    ):
        raise ValueError(
            "confidence_level is the probability inside the interval and must lie strictly "
            f"between 0 and 1 (e.g. 0.9); got {confidence_level!r}."
        )
    return float(confidence_level)


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


def _standard(distribution: _DistributionLike) -> Any:
    """The frozen scipy.stats standard family (mean 0, std 1) of ``distribution``."""
    return get_distribution(distribution).scipy_distribution(0.0, 1.0)


def _interval(
    y_mean: np.ndarray, y_std: np.ndarray, distribution: _DistributionLike, confidence_level: Any
) -> tuple[np.ndarray, np.ndarray]:
    level = _check_confidence_level(confidence_level)
    standard = _standard(distribution)
    z_lo, z_hi = standard.ppf([0.5 - level / 2.0, 0.5 + level / 2.0])
    return y_mean + y_std * z_lo, y_mean + y_std * z_hi


def _torch_elementwise(
    method: Callable[..., torch.Tensor], *arrays: np.ndarray
) -> np.ndarray:
    tensors = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) for a in arrays]
    with torch.no_grad():
        return method(*tensors).numpy()


# -------------------------------------------------------------------------- metrics
def nll(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    values = _torch_elementwise(get_distribution(distribution).nll, y_true, y_mean, y_std)
    return _mean(values, sample_weight, multioutput)


def crps(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    values = _torch_elementwise(get_distribution(distribution).crps, y_true, y_mean, y_std)
    return _mean(values, sample_weight, multioutput)


def coverage(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    lower, upper = _interval(y_mean, y_std, distribution, confidence_level)
    inside = ((y_true >= lower) & (y_true <= upper)).astype(np.float64)
    return _mean(inside, sample_weight, multioutput)


def interval_width(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    lower, upper = _interval(y_mean, y_std, distribution, confidence_level)
    return _mean(upper - lower, sample_weight, multioutput)


def interval_score(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    alpha = 1.0 - _check_confidence_level(confidence_level)
    lower, upper = _interval(y_mean, y_std, distribution, confidence_level)
    values = (
        (upper - lower)
        + (2.0 / alpha) * np.maximum(lower - y_true, 0.0)
        + (2.0 / alpha) * np.maximum(y_true - upper, 0.0)
    )
    return _mean(values, sample_weight, multioutput)


def _observed_proportions(
    y_true: np.ndarray,
    y_mean: np.ndarray,
    y_std: np.ndarray,
    sample_weight: np.ndarray | None,
    distribution: _DistributionLike,
    n_levels: int,
    kind: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected levels (L,) and observed proportions (L, n_outputs)."""
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 2:
        raise ValueError(f"n_levels must be an integer >= 2; got {n_levels!r}.")
    if kind not in ("interval", "quantile"):
        raise ValueError(f"kind must be 'interval' or 'quantile'; got {kind!r}.")
    expected = np.linspace(0.0, 1.0, int(n_levels))
    standard = _standard(distribution)
    z = (y_true - y_mean) / y_std
    observed = np.empty((expected.size, z.shape[1]))
    for i, p in enumerate(expected):
        if kind == "interval":
            # ppf(0.5) = 0 at p = 0 and +-inf at p = 1, as in uncertainty-toolbox.
            lo, hi = standard.ppf([0.5 - p / 2.0, 0.5 + p / 2.0])
            hit = (z >= lo) & (z <= hi)
        else:
            hit = z <= standard.ppf(p)
        observed[i] = np.average(hit.astype(np.float64), axis=0, weights=sample_weight)
    return expected, observed


def calibration_curve(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = _observed_proportions(
        y_true, y_mean, y_std, sample_weight, distribution, n_levels, kind
    )
    return expected, observed[:, 0] if one_d else observed


def calibration_error(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = _observed_proportions(
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
    distribution: _DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    expected, observed = _observed_proportions(
        y_true, y_mean, y_std, sample_weight, distribution, n_levels, kind
    )
    return _aggregate(_area_between(expected, observed - expected[:, None]), multioutput)


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
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    per_output = np.sqrt(np.average(y_std**2, axis=0, weights=sample_weight))
    return _aggregate(per_output, multioutput)


def uncertainty_metrics(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: _DistributionLike = "normal",
    confidence_level: float = 0.9,
    sample_weight: Any = None,
) -> dict[str, float]:
    """All the metrics of this module at once.

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
        Level of the interval metrics.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    dict of str to float
        ``nll``, ``crps``, ``coverage``, ``interval_width``,
        ``interval_score``, ``calibration_error``, ``miscalibration_area``
        and ``sharpness``, each averaged over outputs.
    """
    y_true, y_mean, y_std, sample_weight = _check_predictions(
        y_true, y_mean, y_std, sample_weight
    )
    common = {"sample_weight": sample_weight}
    family = {"distribution": distribution, **common}
    interval = {"confidence_level": confidence_level, **family}
    args = (y_true, y_mean, y_std)
    return {
        "nll": nll(*args, **family),
        "crps": crps(*args, **family),
        "coverage": coverage(*args, **interval),
        "interval_width": interval_width(*args, **interval),
        "interval_score": interval_score(*args, **interval),
        "calibration_error": calibration_error(*args, **family),
        "miscalibration_area": miscalibration_area(*args, **family),
        "sharpness": sharpness(*args, **common),
    }


# -------------------------------------------------------------------------- scorers
def _estimator_distribution(estimator: Any) -> type[SculptDistribution]:
    """The fitted family of an estimator (the last step's for a Pipeline), else Normal."""
    while True:
        family = getattr(estimator, "distribution_", None)
        if family is not None:
            return get_distribution(family)
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        else:
            return Normal


def _predict_with_std(estimator: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``estimator.predict(X, return_std=True)`` with errors that say what to do."""
    name = type(estimator).__name__
    try:
        out = estimator.predict(X, return_std=True)
    except UnsetMetadataPassedError as exc:
        raise ValueError(
            "The uncertainty scorer calls estimator.predict(X, return_std=True). With "
            "metadata routing enabled, a Pipeline (or other meta-estimator) forwards "
            "return_std only when its final estimator requests it: call "
            "set_predict_request(return_std=True) on that estimator, e.g. "
            "make_pipeline(StandardScaler(), SculptRegressor().set_predict_request("
            f"return_std=True)). Original error: {exc}"
        ) from exc
    except TypeError as exc:
        if "return_std" not in str(exc):
            raise
        raise TypeError(
            f"{name}.predict does not accept return_std=True, which uncertainty scorers "
            "need; use an estimator that predicts a standard deviation (SculptRegressor, "
            f"GaussianProcessRegressor, BayesianRidge). Original error: {exc}"
        ) from exc
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            f"{name}.predict(X, return_std=True) must return a pair (y_mean, y_std); got "
            f"{type(out).__name__}."
        )
    return out


_METRICS: dict[str, Callable[..., Any]] = {
    "nll": nll,
    "crps": crps,
    "coverage": coverage,
    "interval_width": interval_width,
    "interval_score": interval_score,
    "calibration_error": calibration_error,
    "miscalibration_area": miscalibration_area,
    "sharpness": sharpness,
}


class UncertaintyScorer:
    """A scorer ``(estimator, X, y_true, sample_weight=None) -> float`` of a metric.

    Made by :func:`make_uncertainty_scorer`; see there. It calls
    ``estimator.predict(X, return_std=True)``, which
    :func:`sklearn.metrics.make_scorer` cannot (its scorers call
    ``predict(X)`` and hand the metric only the point predictions), and
    carries its own metadata request so that ``sample_weight`` is routed to
    it when scikit-learn's metadata routing is enabled
    (``set_score_request(sample_weight=True)``, as for scikit-learn's
    scorers) and passed whenever it is given when routing is off.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_mean, y_std, **kwargs) -> float``.
    sign : {1, -1}
        ``1`` when a higher metric is better, ``-1`` to negate it.
    kwargs : dict
        Extra keyword arguments of the metric. A ``distribution`` here
        overrides the one read from the estimator.
    """

    def __init__(self, metric: Callable[..., Any], sign: int, kwargs: dict[str, Any]) -> None:
        self._metric = metric
        self._sign = sign
        self._kwargs = kwargs
        self._sample_weight_request: bool | str | None = None

    def __repr__(self) -> str:
        name = getattr(self._metric, "__name__", repr(self._metric))
        sign = ", greater_is_better=True" if self._sign > 0 else ""
        kwargs = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"make_uncertainty_scorer({name}{sign}{kwargs})"

    def _routing_repr(self) -> str:
        return repr(self)

    def _parameters(self) -> Any:
        try:
            return inspect.signature(self._metric).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            return {}

    def _accept_sample_weight(self) -> bool:
        """Whether the metric takes ``sample_weight`` (scikit-learn calls this)."""
        parameters = self._parameters()
        return "sample_weight" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )

    def __call__(
        self, estimator: Any, X: Any, y_true: Any, sample_weight: Any = None, **kwargs: Any
    ) -> float:
        """Score ``estimator`` on ``(X, y_true)``; higher is better.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``predict(X, return_std=True)`` must return ``(y_mean, y_std)``.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the metric.
        **kwargs
            Not accepted; present so that an unexpected routed parameter
            gets a clear error.

        Returns
        -------
        float
            ``sign * metric(y_true, y_mean, y_std, ...)``.
        """
        if kwargs:
            raise TypeError(
                f"{self!r} got unexpected argument(s) {sorted(kwargs)}; it accepts only "
                "sample_weight. Pass other metric arguments to make_uncertainty_scorer."
            )
        y_mean, y_std = _predict_with_std(estimator, X)
        params = dict(self._kwargs)
        parameters = self._parameters()
        if "distribution" in parameters and "distribution" not in params:
            params["distribution"] = _estimator_distribution(estimator)
        if sample_weight is not None:
            if not self._accept_sample_weight():
                raise TypeError(
                    f"{self!r}: the metric does not accept sample_weight; drop it or give "
                    "the metric a sample_weight parameter."
                )
            params["sample_weight"] = sample_weight
        return self._sign * float(self._metric(y_true, y_mean, y_std, **params))

    def set_score_request(self, *, sample_weight: bool | str | None = None) -> UncertaintyScorer:
        """Request ``sample_weight`` when metadata routing is enabled (mutates this scorer).

        As scikit-learn's scorers: ``sample_weight`` reaches the scorer in
        ``cross_validate(params=...)`` and ``GridSearchCV.fit(..., **params)``
        only once requested. The module-level scorers are shared objects;
        make a private one with :func:`make_uncertainty_scorer` before
        changing its request.

        Parameters
        ----------
        sample_weight : bool, str or None, default=None
            ``True`` to request it, ``False`` to ignore it, ``None`` to raise
            an error when it is passed, or a string alias.

        Returns
        -------
        self : UncertaintyScorer
        """
        self._sample_weight_request = sample_weight
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """The metadata this scorer requests (scikit-learn's routing protocol).

        Returns
        -------
        MetadataRequest
            ``score`` requests ``sample_weight`` as set by
            :meth:`set_score_request`.
        """
        request = MetadataRequest(owner=repr(self))
        if self._accept_sample_weight():
            request.score.add_request(param="sample_weight", alias=self._sample_weight_request)
        return request


def make_uncertainty_scorer(
    metric: str | Callable[..., Any], *, greater_is_better: bool = False, **kwargs: Any
) -> UncertaintyScorer:
    """Make a scorer of a metric on ``(y_true, y_mean, y_std)``.

    The scorer calls ``estimator.predict(X, return_std=True)`` and scores
    with the estimator's own family: ``estimator.distribution_`` (for a
    Pipeline, its last step's), or Normal when there is none. It works as
    ``GridSearchCV(scoring=...)``, in ``cross_validate(scoring={...})`` and
    with scikit-learn's metadata routing on or off. With routing on, a
    Pipeline passes ``return_std`` to its last step only when that step asks
    for it: ``SculptRegressor().set_predict_request(return_std=True)``.

    Parameters
    ----------
    metric : str or callable
        A name among ``"nll"``, ``"crps"``, ``"coverage"``,
        ``"interval_width"``, ``"interval_score"``, ``"calibration_error"``,
        ``"miscalibration_area"``, ``"sharpness"``, or a callable
        ``metric(y_true, y_mean, y_std, **kwargs) -> float``; a
        ``distribution`` parameter, when it has one, is filled in from the
        estimator.
    greater_is_better : bool, default=False
        Whether a higher metric is better; when False (losses, the default)
        the scorer returns the negated metric, so that higher is always
        better for scikit-learn's model selection.
    **kwargs
        Fixed keyword arguments of the metric, e.g. ``confidence_level=0.8``
        or ``distribution="laplace"`` (which then overrides the estimator's).

    Returns
    -------
    UncertaintyScorer
        A callable ``scorer(estimator, X, y, sample_weight=None) -> float``.

    Examples
    --------
    >>> from sculpt_sklearn.metrics import make_uncertainty_scorer
    >>> make_uncertainty_scorer("interval_score", confidence_level=0.8)
    make_uncertainty_scorer(interval_score, confidence_level=0.8)
    """
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; choose one of {sorted(_METRICS)} or pass a "
                "callable metric(y_true, y_mean, y_std, **kwargs)."
            )
        metric = _METRICS[metric]
    if not callable(metric):
        raise TypeError(f"metric must be a name or a callable; got {metric!r}.")
    if "sample_weight" in kwargs:
        raise ValueError(
            "sample_weight is data, not a fixed metric argument: pass it when scoring "
            "(cross_validate(params={'sample_weight': w}) with routing enabled)."
        )
    return UncertaintyScorer(metric, 1 if greater_is_better else -1, kwargs)


#: Negated mean NLL under the estimator's family; higher is better.
neg_nll_scorer = make_uncertainty_scorer(nll)
#: Negated mean CRPS under the estimator's family; higher is better.
neg_crps_scorer = make_uncertainty_scorer(crps)
#: Negated mean interval score of the central 90% interval; higher is better.
interval_score_scorer = make_uncertainty_scorer(interval_score)


def evaluate_uncertainty(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    distribution: _DistributionLike | None = None,
    confidence_level: float = 0.9,
    sample_weight: Any = None,
) -> dict[str, float]:
    """All the metrics of a fitted estimator on ``(X, y)``.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``predict(X, return_std=True)`` must return ``(y_mean, y_std)``
        (a SculptRegressor, a Pipeline ending in one, ...).
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    distribution : str or SculptDistribution subclass, default=None
        Predictive family; by default the estimator's ``distribution_``
        (its last step's for a Pipeline), else Normal.
    confidence_level : float, default=0.9
        Level of the interval metrics.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    dict of str to float
        As :func:`uncertainty_metrics`, plus ``r2`` and ``rmse`` of the mean.
    """
    y_mean, y_std = _predict_with_std(estimator, X)
    family = _estimator_distribution(estimator) if distribution is None else distribution
    scores = uncertainty_metrics(
        y, y_mean, y_std, distribution=family, confidence_level=confidence_level,
        sample_weight=sample_weight,
    )
    return {
        "r2": float(r2_score(y, y_mean, sample_weight=sample_weight)),
        "rmse": float(root_mean_squared_error(y, y_mean, sample_weight=sample_weight)),
        **scores,
    }
