"""Every metric of a predicted distribution at once."""

from __future__ import annotations

from typing import Any

from .._predictive import DistributionLike, check_predictions
from ._calibration import calibration_error, miscalibration_area
from ._regression import coverage, crps, interval_score, interval_width, nll, sharpness

__all__ = ["uncertainty_metrics"]


def uncertainty_metrics(
    y_true: Any,
    y_mean: Any,
    y_std: Any,
    *,
    distribution: DistributionLike = "normal",
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
    y_true, y_mean, y_std, sample_weight = check_predictions(
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
