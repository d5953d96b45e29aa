"""The Gamma family of positive targets, parameterised by its mean and std."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import special, stats
from torch import Tensor

from ._base import check_probability, check_shapes
from ._positive import PositiveFamily

__all__ = ["Gamma"]


class Gamma(PositiveFamily):
    """Gamma output with mean ``y_hat`` and standard deviation ``y_risk``.

    ``shape = (y_hat / y_risk)**2`` and ``scale = y_risk**2 / y_hat``; the
    support is ``y > 0``. The CDF and CRPS run in torch but have no gradient
    in ``y_hat`` and ``y_risk`` (they raise when one is asked for), and the
    quantile function comes from ``scipy.special.gammaincinv`` without
    gradient: train it with ``loss="nll"``, ``"beta_nll"``, ``"faithful"``
    or ``"sample"`` (its draws are reparameterised).
    """

    name = "gamma"
    has_crps = True
    crps_trainable = False

    @classmethod
    def shape_scale(cls, y_hat: Tensor, y_risk: Tensor) -> tuple[Tensor, Tensor]:
        """``(shape, scale)`` of the gamma with mean ``y_hat`` and std ``y_risk``.

        Parameters
        ----------
        y_hat, y_risk : Tensor
            Mean and standard deviation, positive, of one shape.

        Returns
        -------
        shape, scale : Tensor
        """
        ratio = y_hat / y_risk
        return ratio * ratio, y_risk * y_risk / y_hat

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
        k, theta = cls.shape_scale(y_hat, y_risk)
        positive = y > 0
        y_safe = torch.where(positive, y, torch.ones_like(y))
        value = (k - 1.0) * torch.log(y_safe) - y_safe / theta - torch.lgamma(k) - k * torch.log(theta)
        return torch.where(positive, value, torch.full_like(value, -math.inf))

    @classmethod
    def _regularised_gamma(cls, a: Tensor, y: Tensor, theta: Tensor) -> Tensor:
        return torch.special.gammainc(a, (y / theta).clamp_min(0.0))

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y`` (0 where ``y <= 0``).

        Raises
        ------
        NotImplementedError
            When a gradient in ``y_hat`` or ``y_risk`` would be needed.
        """
        check_shapes(y, y_hat, y_risk)
        cls._require_grad_free("cdf", y_hat, y_risk)
        k, theta = cls.shape_scale(y_hat, y_risk)
        return cls._regularised_gamma(k, y, theta)

    @classmethod
    def icdf(cls, q: Tensor | float, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function, from ``scipy.special.gammaincinv`` (no gradient).

        Parameters
        ----------
        q : Tensor or float
            Quantile level(s) in (0, 1) (checked), broadcastable against ``y_hat``.
        y_hat, y_risk : Tensor
            Predicted mean and standard deviation.

        Returns
        -------
        Tensor
            The ``q``-quantile of each predicted distribution (detached).
        """
        q = check_probability(q, like=y_hat).to(dtype=y_hat.dtype, device=y_hat.device)
        k, theta = (t.detach() for t in cls.shape_scale(y_hat, y_risk))
        k_np, theta_np = k.cpu().double().numpy(), theta.cpu().double().numpy()
        values = special.gammaincinv(k_np, q.detach().cpu().double().numpy()) * theta_np
        return torch.as_tensor(values, dtype=y_hat.dtype, device=y_hat.device)

    @classmethod
    def crps(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise CRPS, closed form (Scheuerer & Moeller 2015); no gradient.

        ``y (2 F_k(y) - 1) - m (2 F_{k+1}(y) - 1) - scale / B(1/2, k)``, with
        ``F_a`` the gamma CDF of shape ``a`` and the predicted scale, and
        ``m = k * scale = y_hat``.

        Raises
        ------
        NotImplementedError
            When a gradient in ``y_hat`` or ``y_risk`` would be needed
            (``loss="crps"`` is not available for Gamma).
        """
        check_shapes(y, y_hat, y_risk)
        cls._require_grad_free("crps", y_hat, y_risk)
        k, theta = cls.shape_scale(y_hat, y_risk)
        f_k = cls._regularised_gamma(k, y, theta)
        f_k1 = cls._regularised_gamma(k + 1.0, y, theta)
        log_beta = math.lgamma(0.5) + torch.lgamma(k) - torch.lgamma(k + 0.5)
        return y * (2.0 * f_k - 1.0) - y_hat * (2.0 * f_k1 - 1.0) - theta * torch.exp(-log_beta)

    @classmethod
    def _rsample(cls, y_hat: Tensor, y_risk: Tensor, shape: torch.Size) -> Tensor:
        return cls.torch_distribution(y_hat, y_risk).rsample(shape)

    @classmethod
    def torch_distribution(cls, y_hat: Tensor, y_risk: Tensor) -> torch.distributions.Gamma:
        """The equivalent ``torch.distributions.Gamma`` (``mean == y_hat``, ``stddev == y_risk``)."""
        k, theta = cls.shape_scale(y_hat, y_risk)
        return torch.distributions.Gamma(k, 1.0 / theta, validate_args=False)

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        """Frozen ``scipy.stats.gamma`` with ``mean() == y_hat`` and ``std() == y_risk``."""
        y_hat, y_risk = np.asarray(y_hat, dtype=np.float64), np.asarray(y_risk, dtype=np.float64)
        return stats.gamma(a=(y_hat / y_risk) ** 2, scale=y_risk**2 / y_hat)
