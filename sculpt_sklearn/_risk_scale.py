"""One factor per output that rescales the predicted standard deviation.

Maximum likelihood on held-out rows: used by ``RecalibratedRegressor(method="scale")``
and by ``SculptRegressor(calibrate_risk=True)`` on its early-stopping rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from .sculpt.distributions import Normal, SculptDistribution, StudentT

__all__ = ["MIN_SHAPE_ROWS", "STUDENT_T_SHAPES", "choose_shape_and_scale", "fit_risk_scale",
           "fit_risk_scale_rows"]

#: The degrees of freedom the held-out rows choose among (and the Normal, df = infinity).
STUDENT_T_SHAPES = (3.0, 4.0, 5.0, 7.0, 10.0, 20.0, 50.0)
#: Fewest held-out rows with non-zero weight on which the shape is chosen.
MIN_SHAPE_ROWS = 200


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


def _mean_nll(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, weight: np.ndarray | None,
    family: type[SculptDistribution],
) -> float:
    """The (weighted) mean NLL of the rows, summed over outputs."""
    log_density = family.scipy_distribution(mean, std).logpdf(y)
    return float(-np.sum(np.average(log_density, axis=0, weights=weight)))


def choose_shape_and_scale(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, sample_weight: np.ndarray | None,
) -> tuple[type[SculptDistribution], np.ndarray]:
    """The Student-t shape (or the Normal) and the std factor the held-out rows like best.

    For each ``df`` of :data:`STUDENT_T_SHAPES` and for the Normal, the
    maximum-likelihood factor of the standard deviation (per output,
    :func:`fit_risk_scale`); the family whose rows then have the lowest mean
    NLL wins. A Student-t's standard deviation counts its tails: fitted to
    Gaussian noise by maximum likelihood, a t with 5 degrees of freedom
    reports 1.105 times the noise's std (3 df: 1.37), so the shape matters for
    what the risk says, not only for the NLL.

    Returns
    -------
    family : SculptDistribution subclass
        ``StudentT.with_df(df)`` or ``Normal``.
    factor : ndarray of shape (n_outputs,)
    """
    z = (y - mean) / std
    best: tuple[float, type[SculptDistribution], np.ndarray] | None = None
    for family in [*(StudentT.with_df(df) for df in STUDENT_T_SHAPES), Normal]:
        factor = fit_risk_scale(z, sample_weight, family)
        nll = _mean_nll(y, mean, std * factor, sample_weight, family)
        if best is None or nll < best[0]:
            best = (nll, family, factor)
    return best[1], best[2]
