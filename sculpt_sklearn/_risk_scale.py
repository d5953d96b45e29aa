"""One factor per output that rescales the predicted standard deviation.

Maximum likelihood on held-out rows: used by ``RecalibratedRegressor(method="scale")``
and by ``SculptRegressor(calibrate_risk=True)`` on its early-stopping rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from .sculpt.distributions import Normal, SculptDistribution

__all__ = ["fit_risk_scale", "fit_risk_scale_rows"]


def _rms(z: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """Root mean square per output, floored so that its log is finite."""
    tiny = np.sqrt(np.finfo(np.float64).tiny)
    return np.maximum(np.sqrt(np.average(z**2, axis=0, weights=sample_weight)), tiny)


def _minimise_on_log_scale(objective: Callable[[float], float], start: float) -> float:
    """The factor ``s`` minimising ``objective(log s)``, searched within e^+-10 of ``start``."""
    center = float(np.log(start))
    result = minimize_scalar(
        objective, bounds=(center - 10.0, center + 10.0), method="bounded",
        options={"xatol": 1e-10},
    )
    return float(np.exp(result.x))


def fit_risk_scale(
    z: np.ndarray, sample_weight: np.ndarray | None, family: type[SculptDistribution]
) -> np.ndarray:
    """Maximum-likelihood factor of the standard deviation, per output.

    ``z`` (n, k) are the standardised residuals ``(y - mean) / std``. For
    Normal the maximiser is ``sqrt(mean(z^2))``; other families are fitted
    on the log of the factor with a bounded scalar search around it.
    """
    rms = _rms(z, sample_weight)
    if family is Normal:
        return rms
    standard = family.scipy_distribution(0.0, 1.0)
    scales = np.empty(z.shape[1])
    for j in range(z.shape[1]):

        def objective(log_s: float, zj: np.ndarray = z[:, j]) -> float:
            log_density = standard.logpdf(zj * np.exp(-log_s))
            return float(-np.average(log_density, weights=sample_weight) + log_s)

        scales[j] = _minimise_on_log_scale(objective, rms[j])
    return scales


def fit_risk_scale_rows(
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    sample_weight: np.ndarray | None,
    family: type[SculptDistribution],
) -> np.ndarray:
    """Maximum-likelihood factor of the standard deviation, per output, from rows.

    ``y``, ``mean`` and ``std`` are (n, k). A location-scale family needs only
    the standardised residuals (:func:`fit_risk_scale`); for the others
    (LogNormal, Gamma) the factor ``s`` maximises the likelihood of ``y``
    under the family with mean ``mean`` and standard deviation ``s * std``,
    found on ``log s`` by a bounded scalar search.
    """
    z = (y - mean) / std
    if family.location_scale:
        return fit_risk_scale(z, sample_weight, family)
    rms = _rms(z, sample_weight)
    scales = np.empty(y.shape[1])
    for j in range(y.shape[1]):

        def objective(log_s: float, j: int = j) -> float:
            dist = family.scipy_distribution(mean[:, j], std[:, j] * np.exp(log_s))
            return float(-np.average(dist.logpdf(y[:, j]), weights=sample_weight))

        scales[j] = _minimise_on_log_scale(objective, rms[j])
    return scales
