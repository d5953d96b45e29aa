"""The LogNormal family of positive targets, parameterised by its mean and std."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import Tensor

from ._base import check_probability, check_shapes
from ._positive import PositiveFamily, normal_cdf

__all__ = ["LogNormal"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


class LogNormal(PositiveFamily):
    """Log-normal output with mean ``y_hat`` and standard deviation ``y_risk``.

    ``log y ~ N(mu, sigma_log**2)`` with ``sigma_log**2 = log(1 + (y_risk /
    y_hat)**2)`` and ``mu = log(y_hat) - sigma_log**2 / 2``; the support is
    ``y > 0`` (a ``y <= 0`` has density 0: log density ``-inf``).
    """

    name = "lognormal"
    has_crps = True

    @classmethod
    def log_params(cls, y_hat: Tensor, y_risk: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, sigma_log)``: the mean and standard deviation of ``log y``.

        Parameters
        ----------
        y_hat, y_risk : Tensor
            Mean and standard deviation of ``y``, positive, of one shape.

        Returns
        -------
        mu, sigma_log : Tensor
        """
        ratio = y_risk / y_hat
        var_log = torch.log1p(ratio * ratio)
        return torch.log(y_hat) - 0.5 * var_log, var_log.sqrt()

    @classmethod
    def log_prob(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise log density of ``y`` (``-inf`` where ``y <= 0``).

        Parameters
        ----------
        y, y_hat, y_risk : Tensor
            Target, predicted mean and predicted standard deviation, one shape.

        Returns
        -------
        Tensor
            ``log p(y | y_hat, y_risk)``, the shape of ``y``.
        """
        check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        w = (log_y - mu) / s
        value = -0.5 * w * w - torch.log(s) - _LOG_SQRT_2PI - log_y
        return torch.where(positive, value, torch.full_like(value, -math.inf))

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y`` (0 where ``y <= 0``)."""
        check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        return torch.where(positive, normal_cdf((log_y - mu) / s), torch.zeros_like(y))

    @classmethod
    def icdf(cls, q: Tensor | float, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function ``exp(mu + sigma_log * Phi^-1(q))``; ``q`` in (0, 1) (checked).

        Parameters
        ----------
        q : Tensor or float
            Quantile level(s), broadcastable against ``y_hat``.
        y_hat, y_risk : Tensor
            Predicted mean and standard deviation.

        Returns
        -------
        Tensor
            The ``q``-quantile of each predicted distribution, differentiable.
        """
        q = check_probability(q, like=y_hat).to(dtype=y_hat.dtype, device=y_hat.device)
        mu, s = cls.log_params(y_hat, y_risk)
        return torch.exp(mu + s * _SQRT2 * torch.erfinv(2.0 * q - 1.0))

    @classmethod
    def crps(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise CRPS, closed form (Baran & Lerch 2015), differentiable.

        ``y (2 Phi(w) - 1) - 2 m (Phi(w - s) + Phi(s / sqrt(2)) - 1)`` with
        ``w = (log y - mu) / s``, ``s = sigma_log`` and ``m = y_hat``; for
        ``y <= 0``, ``Phi(w) = Phi(w - s) = 0``.
        """
        check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        w = (log_y - mu) / s
        zero = torch.zeros_like(w)
        cdf_w = torch.where(positive, normal_cdf(w), zero)
        cdf_w_s = torch.where(positive, normal_cdf(w - s), zero)
        return y * (2.0 * cdf_w - 1.0) - 2.0 * y_hat * (cdf_w_s + normal_cdf(s / _SQRT2) - 1.0)

    @classmethod
    def _rsample(cls, y_hat: Tensor, y_risk: Tensor, shape: torch.Size) -> Tensor:
        mu, s = cls.log_params(y_hat, y_risk)
        eps = torch.randn(shape + y_hat.shape, dtype=y_hat.dtype, device=y_hat.device)
        return torch.exp(mu + s * eps)

    @classmethod
    def torch_distribution(
        cls, y_hat: Tensor, y_risk: Tensor
    ) -> torch.distributions.LogNormal:
        """The equivalent ``torch.distributions.LogNormal`` (``mean == y_hat``, ``stddev == y_risk``)."""
        mu, s = cls.log_params(y_hat, y_risk)
        return torch.distributions.LogNormal(mu, s, validate_args=False)

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        """Frozen ``scipy.stats.lognorm`` with ``mean() == y_hat`` and ``std() == y_risk``."""
        y_hat, y_risk = np.asarray(y_hat, dtype=np.float64), np.asarray(y_risk, dtype=np.float64)
        var_log = np.log1p((y_risk / y_hat) ** 2)
        return stats.lognorm(s=np.sqrt(var_log), scale=y_hat * np.exp(-0.5 * var_log))
