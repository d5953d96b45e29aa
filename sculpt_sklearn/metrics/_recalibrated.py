"""Scores of a model whose predictive distribution is known only by its quantiles.

``RecalibratedRegressor(method="isotonic")`` keeps its base family as
``distribution_`` but predicts another distribution: the base CDF passed
through an isotonic map, with its own (possibly asymmetric) quantiles. The
closed-form scores of the family would judge a distribution it does not
predict, so the scorers read its quantiles instead: the CRPS by the
quantile (pinball) form of the score, the interval metrics from its
recalibrated interval. A score that needs the density (NLL, or the
reliability curve of the family) is refused with what to use instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight

from .._predictive import check_confidence_level
from ._regression import (
    _inside,
    _interval_scores,
    _mean,
    _quantile_crps,
    _width,
    coverage,
    crps,
    interval_score,
    interval_width,
)

__all__ = ["quantile_only_model", "refusal", "score_by_quantiles"]

#: Levels of the midpoint rule of the quantile form of the CRPS (error ~1e-6 relative).
_N_CRPS_LEVELS = 512

_FROM_INTERVAL: dict[Callable[..., Any], Callable[..., np.ndarray]] = {
    coverage: _inside,
    interval_width: _width,
    interval_score: _interval_scores,
}


def quantile_only_model(estimator: Any) -> Any | None:
    """The model that ends ``estimator`` if it predicts a distribution known by its quantiles only.

    Such a model keeps a base family as ``distribution_`` and has
    ``predict_quantiles``, but no ``predict_dist``: what it predicts is not
    that family (``RecalibratedRegressor(method="isotonic")``, whose
    ``predict_dist`` is only available with ``method="scale"``).

    Parameters
    ----------
    estimator : fitted estimator
        Possibly a Pipeline; its last step is looked at.

    Returns
    -------
    estimator or None
    """
    while isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    if (hasattr(estimator, "distribution_") and hasattr(estimator, "predict_quantiles")
            and not hasattr(estimator, "predict_dist")):
        return estimator
    return None


def _quantiles(estimator: Any, X: Any, levels: np.ndarray) -> np.ndarray:
    """Predicted quantiles (n, k, L), through the transforms of a Pipeline."""
    while isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    q = np.asarray(estimator.predict_quantiles(X, levels), dtype=np.float64)
    return q[:, None, :] if q.ndim == 2 else q


def refusal(metric: Callable[..., Any], estimator: Any) -> ValueError:
    """The error for a score that needs a density the model does not have."""
    name = getattr(metric, "__name__", repr(metric))
    model = quantile_only_model(estimator)
    family = model.distribution_.__name__
    kind = ("RecalibratedRegressor(method='isotonic')"
            if type(model).__name__ == "RecalibratedRegressor" else type(model).__name__)
    return ValueError(
        f"{name} would score the base family {family} (distribution_), but "
        f"{kind} predicts the recalibrated distribution "
        "of its quantiles (predict_quantiles), which has another shape and no closed-form "
        "density. Score it with neg_crps_scorer, interval_score_scorer or "
        "make_uncertainty_scorer('coverage' / 'interval_width'), which use its recalibrated "
        "quantiles; or recalibrate with method='scale', which keeps the family so that every "
        "metric applies; or pass distribution=... to make_uncertainty_scorer to score a "
        "family on purpose."
    )


def score_by_quantiles(
    metric: Callable[..., Any],
    estimator: Any,
    X: Any,
    y_true: Any,
    sample_weight: Any = None,
    confidence_level: float = 0.9,
    multioutput: Any = "uniform_average",
) -> float | np.ndarray:
    """``metric`` of the distribution that ``estimator`` predicts, from its quantiles.

    Parameters
    ----------
    metric : callable
        :func:`crps`, :func:`coverage`, :func:`interval_width` or
        :func:`interval_score`; another metric gets a ValueError that says
        what to use.
    estimator : fitted estimator
        A model for which :func:`quantile_only_model` is not None.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features.
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    confidence_level : float, default=0.9
        Level of the interval metrics.
    multioutput : {"raw_values", "uniform_average"} or array-like, default="uniform_average"
        How to combine outputs.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The metric, as the closed-form metric would return it.
    """
    if metric is not crps and metric not in _FROM_INTERVAL:
        raise refusal(metric, estimator)
    y = check_array(y_true, ensure_2d=False, dtype=np.float64, input_name="y_true")
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, y, dtype=np.float64, ensure_non_negative=True
        )
    if metric is crps:
        levels = (np.arange(_N_CRPS_LEVELS) + 0.5) / _N_CRPS_LEVELS
        values = _quantile_crps(y, _quantiles(estimator, X, levels), levels)
    else:
        level = check_confidence_level(confidence_level)
        bounds = _quantiles(estimator, X, np.array([0.5 - level / 2.0, 0.5 + level / 2.0]))
        values = _FROM_INTERVAL[metric](y, bounds[..., 0], bounds[..., 1], level)
    return _mean(values, sample_weight, multioutput)
