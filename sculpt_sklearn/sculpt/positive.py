"""Output families of positive targets: :class:`LogNormal` and :class:`Gamma`.

They keep the package's parameterisation: ``y_hat`` is the distribution's
**mean** and ``y_risk`` its **standard deviation**, both in the units of
``y``. Neither is a location-scale family, so each maps ``(mean, std)`` to its
own parameters and overrides the methods that
:class:`~sculpt_sklearn.sculpt.SculptDistribution` builds on a standard
family:

- LogNormal: ``sigma_log**2 = log(1 + (std / mean)**2)`` and
  ``mu = log(mean) - sigma_log**2 / 2`` (``log y ~ N(mu, sigma_log**2)``).
- Gamma: ``shape = (mean / std)**2`` and ``scale = std**2 / mean``.

The mean must be positive, and a model's output is not: :meth:`mean_link`
(``softplus(raw) + 1e-8``) maps it, and :class:`~sculpt_sklearn.sculpt.Wrapper`
applies it to the model's prediction for these families.

Closed-form CRPS: LogNormal (Baran & Lerch 2015), Gamma (Scheuerer & Moeller
2015). torch has no derivative of the regularised incomplete gamma function
in its shape argument, so Gamma's CDF and CRPS have no gradient in ``y_hat``
and ``y_risk`` (``loss="crps"`` is refused for it) and its quantile function
comes from scipy, without gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import special, stats
from torch import Tensor

from .distributions import SculptDistribution, _check_probability, _check_shapes

__all__ = ["LogNormal", "Gamma"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
#: Floor of the mean link, in the units of the model's output (the scaled target).
MIN_MEAN = 1e-8


def _phi(x: Tensor) -> Tensor:
    """Standard normal CDF."""
    return 0.5 * (1.0 + torch.erf(x / _SQRT2))


class _PositiveFamily(SculptDistribution):
    """Shared behaviour of the families on ``y > 0`` (not location-scale)."""

    location_scale = False
    positive = True

    @classmethod
    def mean_link(cls, raw: Tensor) -> Tensor:
        """``softplus(raw) + 1e-8``: a positive mean from an unconstrained output.

        Softplus is ``exp(raw)`` for small means and ``raw`` for large ones,
        so it never overflows; the floor keeps the mean above zero in
        float32. It trained as well as or better than a clamped exp link on
        positive heteroscedastic toys (mean NLL over 3 seeds; see the user
        guide, "Positive targets").

        Parameters
        ----------
        raw : Tensor
            The model's output.

        Returns
        -------
        Tensor
            The mean, positive, the shape of ``raw``.
        """
        return torch.nn.functional.softplus(raw) + MIN_MEAN

    @classmethod
    def _require_grad_free(cls, what: str, *tensors: Tensor) -> None:
        """Refuse a computation whose gradient torch cannot give."""
        if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
            raise NotImplementedError(
                f"{cls.__name__}.{what} has no gradient in y_hat and y_risk: torch has no "
                "derivative of the regularised incomplete gamma function in its shape "
                "argument. Train with loss='nll' or 'beta_nll' (or 'sample': Gamma draws "
                "are reparameterised), and evaluate it under torch.no_grad() or on "
                "detached tensors."
            )

    @classmethod
    def _check_params(cls, y_hat: Tensor, y_risk: Tensor) -> None:
        if y_hat.shape != y_risk.shape:
            raise ValueError(
                f"y_hat {tuple(y_hat.shape)} and y_risk {tuple(y_risk.shape)} must "
                "have the same shape; pass the pair returned by "
                "model(x, return_risk=True)."
            )

    @classmethod
    def sample(
        cls,
        params: tuple[Tensor, Tensor],
        sample_shape: torch.Size | tuple[int, ...] = (),
    ) -> Tensor:
        """Reparameterised draws; gradients reach both ``y_hat`` and ``y_risk``.

        Parameters
        ----------
        params : tuple (y_hat, y_risk)
            Predicted mean and standard deviation of the same shape, positive.
        sample_shape : tuple of int, default=()
            Leading shape of the draws, as in ``torch.distributions``.

        Returns
        -------
        Tensor of shape ``sample_shape + y_hat.shape``
            Positive draws.
        """
        y_hat, y_risk = params
        cls._check_params(y_hat, y_risk)
        return cls._rsample(y_hat, y_risk, torch.Size(sample_shape))

    rsample = sample

    @classmethod
    def _rsample(cls, y_hat: Tensor, y_risk: Tensor, shape: torch.Size) -> Tensor:
        raise NotImplementedError


class LogNormal(_PositiveFamily):
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
        _check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        w = (log_y - mu) / s
        value = -0.5 * w * w - torch.log(s) - _LOG_SQRT_2PI - log_y
        return torch.where(positive, value, torch.full_like(value, -math.inf))

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y`` (0 where ``y <= 0``)."""
        _check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        return torch.where(positive, _phi((log_y - mu) / s), torch.zeros_like(y))

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
        q = _check_probability(q, like=y_hat).to(dtype=y_hat.dtype, device=y_hat.device)
        mu, s = cls.log_params(y_hat, y_risk)
        return torch.exp(mu + s * _SQRT2 * torch.erfinv(2.0 * q - 1.0))

    @classmethod
    def crps(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise CRPS, closed form (Baran & Lerch 2015), differentiable.

        ``y (2 Phi(w) - 1) - 2 m (Phi(w - s) + Phi(s / sqrt(2)) - 1)`` with
        ``w = (log y - mu) / s``, ``s = sigma_log`` and ``m = y_hat``; for
        ``y <= 0``, ``Phi(w) = Phi(w - s) = 0``.
        """
        _check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive = y > 0
        log_y = torch.log(torch.where(positive, y, torch.ones_like(y)))
        w = (log_y - mu) / s
        zero = torch.zeros_like(w)
        cdf_w = torch.where(positive, _phi(w), zero)
        cdf_w_s = torch.where(positive, _phi(w - s), zero)
        return y * (2.0 * cdf_w - 1.0) - 2.0 * y_hat * (cdf_w_s + _phi(s / _SQRT2) - 1.0)

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


class Gamma(_PositiveFamily):
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
        _check_shapes(y, y_hat, y_risk)
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
        _check_shapes(y, y_hat, y_risk)
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
        q = _check_probability(q, like=y_hat).to(dtype=y_hat.dtype, device=y_hat.device)
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
        _check_shapes(y, y_hat, y_risk)
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
