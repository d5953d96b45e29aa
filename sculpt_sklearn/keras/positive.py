"""Output families of positive targets: :class:`LogNormal` and :class:`Gamma`.

As the torch families of :mod:`sculpt_sklearn.sculpt.positive`: ``y_hat`` is the
distribution's **mean** and ``y_risk`` its **standard deviation**, both in the units of
``y``.

- LogNormal: ``sigma_log**2 = log(1 + (std / mean)**2)`` and
  ``mu = log(mean) - sigma_log**2 / 2`` (``log y ~ N(mu, sigma_log**2)``).
- Gamma: ``shape = (mean / std)**2`` and ``scale = std**2 / mean``.

The mean must be positive and a model's output is not: :meth:`mean_link`
(``softplus(raw) + 1e-8``) maps it, and :class:`~sculpt_sklearn.keras.Wrapper` applies
it to the model's prediction for these families.

Gamma's CDF and quantile function have no gradient (as in the torch family: no
backend differentiates the incomplete gamma function in its shape). Its draws are
reparameterised: Marsaglia and Tsang's method on the shape boosted by 3, then
``G(k) = G(k + 3) * prod_i U_i ** (1 / (k + i))``; the gradient flows through the
accepted proposal (Naesseth et al., AISTATS 2017, without their correction term, whose
size the boost makes small: measured below 0.1% on ``d E[x] / d k`` for ``k >= 0.1``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from keras import ops, random

from . import _special
from .distributions import (
    SculptDistribution,
    Seed,
    check_shapes,
    probability,
    sub_seeds,
)

__all__ = ["Gamma", "LogNormal"]

Tensor = Any

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
#: Floor of the mean link, in the units of the model's output (as the torch family).
MIN_MEAN = 1e-8
#: Gamma draws: shape boost and Marsaglia-Tsang proposals per draw (acceptance is
#: above 98% for shapes >= 3, so all proposals fail with probability below 1e-10).
_BOOST = 3
_PROPOSALS = 6


def _phi(x: Tensor) -> Tensor:
    """Standard normal CDF."""
    return 0.5 * (1.0 + ops.erf(x / _SQRT2))


def _log_positive(y: Tensor) -> tuple[Tensor, Tensor]:
    """``(y > 0, log y)`` with ``log 1`` where ``y <= 0``, so no NaN leaks into gradients."""
    positive = y > 0
    return positive, ops.log(ops.where(positive, y, 1.0))


class _PositiveFamily(SculptDistribution):
    """Shared behaviour of the families on ``y > 0`` (not location-scale)."""

    location_scale = False
    positive = True

    @classmethod
    def mean_link(cls, raw: Tensor) -> Tensor:
        """``softplus(raw) + 1e-8``: a positive mean from an unconstrained output.

        Parameters
        ----------
        raw : tensor
            The model's output.

        Returns
        -------
        tensor
            The mean, positive, the shape of ``raw``.
        """
        return ops.softplus(raw) + MIN_MEAN

class LogNormal(_PositiveFamily):
    """Log-normal output with mean ``y_hat`` and standard deviation ``y_risk``.

    ``log y ~ N(mu, sigma_log**2)`` with ``sigma_log**2 = log(1 + (y_risk /
    y_hat)**2)`` and ``mu = log(y_hat) - sigma_log**2 / 2``; the support is ``y > 0``
    (a ``y <= 0`` has density 0: log density ``-inf``).
    """

    name = "lognormal"

    @classmethod
    def log_params(cls, y_hat: Tensor, y_risk: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, sigma_log)``: the mean and standard deviation of ``log y``.

        Parameters
        ----------
        y_hat, y_risk : tensor
            Mean and standard deviation of ``y``, positive, of one shape.

        Returns
        -------
        mu, sigma_log : tensor
        """
        ratio = y_risk / y_hat
        var_log = ops.log1p(ratio * ratio)
        return ops.log(y_hat) - 0.5 * var_log, ops.sqrt(var_log)

    @classmethod
    def log_prob(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise log density of ``y`` (``-inf`` where ``y <= 0``)."""
        check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive, log_y = _log_positive(y)
        w = (log_y - mu) / s
        value = -0.5 * w * w - ops.log(s) - _LOG_SQRT_2PI - log_y
        return ops.where(positive, value, float("-inf"))

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y`` (0 where ``y <= 0``)."""
        check_shapes(y, y_hat, y_risk)
        mu, s = cls.log_params(y_hat, y_risk)
        positive, log_y = _log_positive(y)
        return ops.where(positive, _phi((log_y - mu) / s), 0.0)

    @classmethod
    def icdf(cls, q: Any, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function ``exp(mu + sigma_log * Phi^-1(q))``, differentiable.

        Parameters
        ----------
        q : float, array-like or tensor
            Level(s) in (0, 1), broadcastable against ``y_hat``.
        y_hat, y_risk : tensor
            Predicted mean and standard deviation.

        Returns
        -------
        tensor
            The ``q``-quantile of each predicted distribution.
        """
        q = probability(q, like=y_hat)
        mu, s = cls.log_params(y_hat, y_risk)
        return ops.exp(mu + s * _SQRT2 * ops.erfinv(2.0 * q - 1.0))

    @classmethod
    def _sample(cls, y_hat: Tensor, y_risk: Tensor, shape: tuple, seed: Seed) -> Tensor:
        mu, s = cls.log_params(y_hat, y_risk)
        eps = random.normal(shape, dtype=ops.dtype(y_hat), seed=sub_seeds(seed, 1)[0])
        return ops.exp(mu + s * eps)


class Gamma(_PositiveFamily):
    """Gamma output with mean ``y_hat`` and standard deviation ``y_risk``.

    ``shape = (y_hat / y_risk)**2`` and ``scale = y_risk**2 / y_hat``; the support is
    ``y > 0``. The CDF and the quantile function have no gradient in ``y_hat`` and
    ``y_risk``; train with the NLL or with draws (which are reparameterised).
    """

    name = "gamma"

    @classmethod
    def shape_scale(cls, y_hat: Tensor, y_risk: Tensor) -> tuple[Tensor, Tensor]:
        """``(shape, scale)`` of the gamma with mean ``y_hat`` and std ``y_risk``.

        Parameters
        ----------
        y_hat, y_risk : tensor
            Mean and standard deviation, positive, of one shape.

        Returns
        -------
        shape, scale : tensor
        """
        ratio = y_hat / y_risk
        return ratio * ratio, y_risk * y_risk / y_hat

    @classmethod
    def log_prob(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise log density of ``y`` (``-inf`` where ``y <= 0``)."""
        check_shapes(y, y_hat, y_risk)
        k, theta = cls.shape_scale(y_hat, y_risk)
        positive, log_y = _log_positive(y)
        y_safe = ops.where(positive, y, 1.0)
        value = (k - 1.0) * log_y - y_safe / theta - _special.lgamma(k) - k * ops.log(theta)
        return ops.where(positive, value, float("-inf"))

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y`` (0 where ``y <= 0``); no gradient."""
        check_shapes(y, y_hat, y_risk)
        k, theta = cls.shape_scale(y_hat, y_risk)
        lower, _ = _special.gammainc(k, y / theta)
        return lower

    @classmethod
    def icdf(cls, q: Any, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function (Newton's method on the incomplete gamma); no gradient.

        Parameters
        ----------
        q : float, array-like or tensor
            Level(s) in (0, 1), broadcastable against ``y_hat``.
        y_hat, y_risk : tensor
            Predicted mean and standard deviation.

        Returns
        -------
        tensor
            The ``q``-quantile of each predicted distribution.
        """
        q = probability(q, like=y_hat)
        k, theta = cls.shape_scale(ops.stop_gradient(y_hat), ops.stop_gradient(y_risk))
        shape = ops.shape(k + q)
        q, k = ops.broadcast_to(q, shape), ops.broadcast_to(k, shape)
        return _special.gamma_icdf(q, k) * theta

    @classmethod
    def _sample(cls, y_hat: Tensor, y_risk: Tensor, shape: tuple, seed: Seed) -> Tensor:
        k, theta = cls.shape_scale(y_hat, y_risk)
        k = ops.broadcast_to(k, shape)
        return _standard_gamma(k, seed) * theta


def _standard_gamma(k: Tensor, seed: Seed) -> Tensor:
    """Unit-scale gamma draws of shape ``k``, differentiable in ``k``.

    Marsaglia and Tsang (2000) on ``a = k + 3``, with a fixed number of proposals per
    element (the first accepted one is kept), then ``prod_i U_i ** (1 / (k + i))``
    brings the shape back to ``k``.
    """
    dtype = ops.dtype(k)
    shape = tuple(ops.shape(k))
    normal_seed, uniform_seed, boost_seed = sub_seeds(seed, 3)
    d = k + (_BOOST - 1.0 / 3.0)
    c = 1.0 / ops.sqrt(9.0 * d)
    eps = random.normal((_PROPOSALS, *shape), dtype=dtype, seed=normal_seed)
    u = random.uniform((_PROPOSALS, *shape), dtype=dtype, seed=uniform_seed)
    v = (1.0 + c * eps) ** 3
    v_safe = ops.where(v > 0, v, 1.0)
    accept = (v > 0) & (ops.log(u) < 0.5 * eps * eps + d - d * v_safe + d * ops.log(v_safe))
    draw = d * v_safe[_PROPOSALS - 1]
    for i in range(_PROPOSALS - 2, -1, -1):
        draw = ops.where(accept[i], d * v_safe[i], draw)
    tiny = float(np.finfo(dtype).tiny)
    boost = random.uniform((_BOOST, *shape), minval=tiny, maxval=1.0, dtype=dtype, seed=boost_seed)
    for i in range(_BOOST):
        draw = draw * ops.exp(ops.log(boost[i]) / (k + float(i)))
    return draw
