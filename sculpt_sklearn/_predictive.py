"""Checks and shared steps on predicted ``(mean, std)`` pairs.

Used by :mod:`sculpt_sklearn.metrics`, :mod:`sculpt_sklearn.plotting`,
:mod:`sculpt_sklearn.calibration` and the regressor, so that none of them
reaches into another's private helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.validation import _check_sample_weight

from .sculpt.distributions import Normal, SculptDistribution, get_distribution

__all__ = [
    "DistributionLike",
    "check_confidence_level",
    "check_confidence_levels",
    "central_intervals",
    "check_positive_target",
    "check_quantile_levels",
    "check_predictions",
    "predicted_cdf",
    "resolve_family",
    "estimator_distribution",
    "interval",
    "observed_proportions",
    "predict_with_std",
    "standard_family",
]

#: A family by name (``"laplace"``) or as a class (``sculpt.StudentT.with_df(3)``).
DistributionLike = str | type[SculptDistribution]


def check_predictions(
    y_true: Any, y_mean: Any, y_std: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate the three arrays (and weights); return them as float64 (n, k).

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, predicted means and predicted standard deviations.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, non-negative.

    Returns
    -------
    y_true, y_mean, y_std : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    """
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


def check_confidence_level(confidence_level: Any) -> float:
    """``confidence_level`` as a float strictly inside (0, 1), else a clear error.

    Parameters
    ----------
    confidence_level : float
        Probability inside a central interval.

    Returns
    -------
    float
    """
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


def check_confidence_levels(confidence_level: Any) -> float | list[float]:
    """One confidence level, or several, checked.

    Parameters
    ----------
    confidence_level : float or array-like of shape (n_levels,)
        A probability strictly between 0 and 1, or a non-empty 1-D list of
        them.

    Returns
    -------
    float or list of float
        A float for a scalar (0-d) input, as :func:`check_confidence_level`;
        otherwise the levels in the order given.
    """
    if isinstance(confidence_level, (bool, Real, str, bytes)):
        return check_confidence_level(confidence_level)
    try:
        levels = np.asarray(confidence_level)
    except (TypeError, ValueError):  # ragged nested lists
        levels = np.asarray(confidence_level, dtype=object)
    if levels.ndim == 0:
        return check_confidence_level(levels.item())
    hint = "e.g. 0.9 or [0.5, 0.8, 0.9]"
    if levels.ndim != 1 or levels.size == 0:
        got = "an empty list" if levels.size == 0 else f"an array of shape {levels.shape}"
        raise ValueError(
            "confidence_level must be a probability strictly between 0 and 1, or a non-empty "
            f"1-D list of them ({hint}); got {got}."
        )
    if levels.dtype.kind not in "iuf":
        raise ValueError(
            "confidence_level must be a probability strictly between 0 and 1, or a 1-D list "
            f"of numbers ({hint}); got {confidence_level!r}."
        )
    levels = levels.astype(np.float64)
    bad = ~((levels > 0.0) & (levels < 1.0))
    if bad.any():
        raise ValueError(
            "Each confidence_level is the probability inside an interval and must lie "
            f"strictly between 0 and 1 ({hint}); got {levels[bad].tolist()} in "
            f"{levels.tolist()}."
        )
    return [float(level) for level in levels]


def central_intervals(
    bounds_at: Callable[[float], tuple[np.ndarray, np.ndarray]],
    confidence_level: float | list[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Central interval bounds at one level, or stacked over several on a last axis.

    Parameters
    ----------
    bounds_at : callable
        ``bounds_at(level) -> (lower, upper)`` for one level (a float).
    confidence_level : float or list of float
        As returned by :func:`check_confidence_levels`.

    Returns
    -------
    lower, upper : ndarray
        ``bounds_at(confidence_level)`` for a float. For a list, each of the
        shape of one level's bound plus a last axis of length ``n_levels``,
        in the order given: ``lower[..., i]`` is ``bounds_at(level_i)[0]``
        exactly.
    """
    if isinstance(confidence_level, float):
        return bounds_at(confidence_level)
    pairs = [bounds_at(level) for level in confidence_level]
    lower = np.stack([np.asarray(pair[0]) for pair in pairs], axis=-1)
    upper = np.stack([np.asarray(pair[1]) for pair in pairs], axis=-1)
    return lower, upper


def check_quantile_levels(quantiles: Any) -> np.ndarray:
    """Quantile levels as a non-empty 1-D float64 array, each strictly in (0, 1).

    Parameters
    ----------
    quantiles : float or array-like of shape (n_quantiles,)

    Returns
    -------
    ndarray of shape (n_quantiles,)

    Raises
    ------
    ValueError
        For an empty list, a 2-D array, or a level outside (0, 1).
    """
    levels = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(
            "quantiles must be a level or a 1-D list of levels strictly between 0 and 1 "
            f"(e.g. [0.05, 0.5, 0.95]); got {quantiles!r}."
        )
    return levels


def check_positive_target(y: Any, family: type[SculptDistribution], what: str = "y") -> None:
    """Refuse targets outside a positive family's support (``y <= 0``).

    Does nothing for the families on the whole real line.

    Parameters
    ----------
    y : ndarray
        Targets (any shape), float.
    family : SculptDistribution subclass
        The output family.
    what : str, default="y"
        The argument's name in the message (``"y_val"`` for validation targets).

    Raises
    ------
    ValueError
        When the family is positive and some ``y <= 0``.
    """
    if not family.positive:
        return
    y = np.asarray(y, dtype=np.float64)
    bad = ~(y > 0)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        raise ValueError(
            f"distribution={family.name!r} ({family.__name__}) is for positive targets, "
            f"but {n_bad} of {y.size} values of {what} are <= 0 (smallest {np.min(y):g}). "
            "Drop or fix those rows, shift the target (y + c) yourself if 0 means "
            "'nothing', or use a family on the whole real line (distribution='normal', "
            "'laplace', 'studentt')."
        )


def resolve_family(distribution: DistributionLike, y_mean: Any) -> type[SculptDistribution]:
    """The family of ``distribution``, after checking that the means fit its support.

    Parameters
    ----------
    distribution : str or SculptDistribution subclass
    y_mean : ndarray
        Predicted means.

    Returns
    -------
    SculptDistribution subclass

    Raises
    ------
    ValueError
        When the family is positive and some predicted mean is <= 0.
    """
    family = get_distribution(distribution)
    if family.positive:
        y_mean = np.asarray(y_mean, dtype=np.float64)
        n_bad = int(np.count_nonzero(~(y_mean > 0)))
        if n_bad:
            raise ValueError(
                f"The {family.__name__} family has a positive mean, but {n_bad} of "
                f"{y_mean.size} predicted means are <= 0 (smallest {np.min(y_mean):g}). "
                "Pass the means of a model fitted with this family, or score with a "
                "family on the whole real line (distribution='normal')."
            )
    return family


def predicted_cdf(
    family: type[SculptDistribution], y_true: np.ndarray, y_mean: np.ndarray, y_std: np.ndarray
) -> np.ndarray:
    """The predicted CDF at each target (the probability integral transform).

    Parameters
    ----------
    family : SculptDistribution subclass
    y_true, y_mean, y_std : ndarray of one shape

    Returns
    -------
    ndarray in the shape of ``y_true``, in [0, 1]
    """
    if family.location_scale:
        return standard_family(family).cdf((y_true - y_mean) / y_std)
    return family.scipy_distribution(y_mean, y_std).cdf(y_true)


def standard_family(distribution: DistributionLike) -> Any:
    """The frozen scipy.stats standard family (mean 0, std 1) of ``distribution``.

    Only for location-scale families (``family.location_scale``); the positive
    families have no standard member.

    Parameters
    ----------
    distribution : str or SculptDistribution subclass

    Returns
    -------
    scipy.stats frozen distribution
    """
    return get_distribution(distribution).scipy_distribution(0.0, 1.0)


def interval(
    y_mean: np.ndarray, y_std: np.ndarray, distribution: DistributionLike, confidence_level: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Central interval holding ``confidence_level`` of each predicted distribution.

    Parameters
    ----------
    y_mean, y_std : ndarray
        Predicted means and standard deviations, same shape.
    distribution : str or SculptDistribution subclass
    confidence_level : float

    Returns
    -------
    lower, upper : ndarray in the shape of ``y_mean``
    """
    level = check_confidence_level(confidence_level)
    family = resolve_family(distribution, y_mean)
    levels = [0.5 - level / 2.0, 0.5 + level / 2.0]
    if not family.location_scale:
        dist = family.scipy_distribution(y_mean, y_std)
        return dist.ppf(levels[0]), dist.ppf(levels[1])
    z_lo, z_hi = standard_family(family).ppf(levels)
    return y_mean + y_std * z_lo, y_mean + y_std * z_hi


def observed_proportions(
    y_true: np.ndarray,
    y_mean: np.ndarray,
    y_std: np.ndarray,
    sample_weight: np.ndarray | None,
    distribution: DistributionLike,
    n_levels: int,
    kind: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected levels and the share of targets inside each level's interval.

    Parameters
    ----------
    y_true, y_mean, y_std : ndarray of shape (n_samples, n_outputs)
        As returned by :func:`check_predictions`.
    sample_weight : ndarray of shape (n_samples,) or None
    distribution : str or SculptDistribution subclass
    n_levels : int
        Number of levels, evenly spaced on ``[0, 1]``; at least 2.
    kind : {"interval", "quantile"}
        Central intervals, or one-sided quantiles.

    Returns
    -------
    expected : ndarray of shape (n_levels,)
    observed : ndarray of shape (n_levels, n_outputs)
    """
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) or n_levels < 2:
        raise ValueError(f"n_levels must be an integer >= 2; got {n_levels!r}.")
    if kind not in ("interval", "quantile"):
        raise ValueError(f"kind must be 'interval' or 'quantile'; got {kind!r}.")
    expected = np.linspace(0.0, 1.0, int(n_levels))
    family = resolve_family(distribution, y_mean)
    # Through the predicted CDF at each target (the PIT), for every family:
    # y <= F^-1(p) iff F(y) <= p, so no quantile is computed per level.
    u = predicted_cdf(family, y_true, y_mean, y_std)
    observed = np.empty((expected.size, u.shape[1]))
    for i, p in enumerate(expected):
        hit = (u >= 0.5 - p / 2.0) & (u <= 0.5 + p / 2.0) if kind == "interval" else u <= p
        observed[i] = np.average(hit.astype(np.float64), axis=0, weights=sample_weight)
    return expected, observed


def estimator_distribution(estimator: Any) -> type[SculptDistribution]:
    """The fitted family of an estimator (the last step's for a Pipeline), else Normal.

    Parameters
    ----------
    estimator : fitted estimator

    Returns
    -------
    SculptDistribution subclass
    """
    while True:
        family = getattr(estimator, "distribution_", None)
        if family is not None:
            return get_distribution(family)
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        else:
            return Normal


def predict_with_std(estimator: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``estimator.predict(X, return_std=True)`` with errors that say what to do.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like or DataFrame of shape (n_samples, n_features)

    Returns
    -------
    y_mean, y_std : array-like
        What the estimator returned.
    """
    name = type(estimator).__name__
    try:
        out = estimator.predict(X, return_std=True)
    except UnsetMetadataPassedError as exc:
        raise ValueError(
            "The uncertainty scorer calls estimator.predict(X, return_std=True). With "
            "metadata routing enabled, a Pipeline (or other meta-estimator) forwards "
            "return_std only when its final estimator requests it. SculptRegressor requests "
            "it by default; another final estimator (RecalibratedRegressor, "
            "GaussianProcessRegressor, ...) needs set_predict_request(return_std=True), e.g. "
            "make_pipeline(StandardScaler(), "
            "GaussianProcessRegressor().set_predict_request(return_std=True)). "
            f"Original error: {exc}"
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
