"""Output families of the Keras wrapper, in ``keras.ops`` and ``keras.random`` only.

The same parameterisation as the torch families of :mod:`sculpt_sklearn.sculpt`: a
prediction ``y_hat`` (the mean) and a risk ``y_risk`` (the predictive **standard
deviation**, in the units of ``y``). The classes are used as classes, never
instantiated::

    loss = Normal.loss_function(y, y_hat, y_risk)
    draws = Normal.sample((y_hat, y_risk), seed=0)

Each location-scale family maps ``(y_hat, y_risk)`` onto its standard member (mean 0,
standard deviation 1): Laplace scale is ``std / sqrt(2)``, Student-t scale is
``std * sqrt((df - 2) / df)``. Student-t lives in :mod:`.studentt`, the families of
positive targets (``LogNormal``, ``Gamma``) in :mod:`.positive`; the registry and
:func:`get_distribution` in :mod:`.registry`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from keras import ops, random

__all__ = ["Laplace", "Normal", "SculptDistribution"]

Tensor = Any
Seed = Any  # None, an int or a keras.random.SeedGenerator

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


def _static_shape(x: Tensor) -> tuple:
    return tuple(getattr(x, "shape", ()))


def shapes_agree(a: tuple, b: tuple) -> bool:
    """Equal static shapes; an unknown (None) dimension agrees with any."""
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b, strict=True))


def check_shapes(y: Tensor, y_hat: Tensor, y_risk: Tensor) -> None:
    """Refuse ``y``, ``y_hat`` and ``y_risk`` of different shapes (no broadcasting)."""
    shapes = [_static_shape(t) for t in (y, y_hat, y_risk)]
    if not (shapes_agree(shapes[0], shapes[1]) and shapes_agree(shapes[2], shapes[1])):
        raise ValueError(
            f"y, y_hat and y_risk must have the same shape; got y {shapes[0]}, y_hat "
            f"{shapes[1]} and y_risk {shapes[2]}. Broadcasting is refused on purpose (a "
            "(n,) target against (n, 1) predictions silently becomes (n, n)): reshape y "
            "with keras.ops.reshape(y, (-1, 1))."
        )


def check_params(y_hat: Tensor, y_risk: Tensor) -> None:
    """Refuse a ``(y_hat, y_risk)`` pair of different shapes."""
    a, b = _static_shape(y_hat), _static_shape(y_risk)
    if not shapes_agree(a, b):
        raise ValueError(
            f"y_hat {a} and y_risk {b} must have the same shape; pass the pair returned "
            "by wrapped(x, return_risk=True)."
        )


def probability(q: Any, like: Tensor) -> Tensor:
    """Quantile levels as a tensor of ``like``'s dtype; NumPy input checked in (0, 1).

    A tensor ``q`` cannot be checked inside a traced function; there, levels outside
    (0, 1) give NaN.
    """
    dtype = ops.dtype(like)
    if not ops.is_tensor(q):
        values = np.asarray(q, dtype=np.float64)
        if not np.all((values > 0) & (values < 1)):
            raise ValueError(
                "Quantile levels must lie strictly between 0 and 1; "
                f"got values in [{values.min()}, {values.max()}]."
            )
        return ops.convert_to_tensor(values, dtype=dtype)
    q = ops.cast(q, dtype)
    return ops.where((q > 0) & (q < 1), q, float("nan"))


def sub_seeds(seed: Seed, n: int) -> list[Seed]:
    """``n`` seeds for ``n`` independent draws from one ``seed`` argument.

    A ``SeedGenerator`` (or None, Keras's global one) advances on every draw, so it
    serves as it is; an integer gives ``n`` distinct integers, none shared with the
    draws of another integer seed.
    """
    if seed is None or isinstance(seed, random.SeedGenerator):
        return [seed] * n
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            "seed must be None, an integer or a keras.random.SeedGenerator; got "
            f"{seed!r}. Inside a jitted function (JAX) pass a SeedGenerator."
        )
    return [(int(seed) * 8 + i) % (2**31 - 1) for i in range(n)]


def draw_shape(sample_shape: Sequence[int], like: Tensor) -> tuple:
    """``sample_shape + like.shape``, with the batch dimension dynamic where it is."""
    return tuple(int(s) for s in sample_shape) + tuple(ops.shape(like))


def weighted_mean(values: Tensor, sample_weight: Tensor | None) -> Tensor:
    """Mean over all elements; with ``sample_weight``, the weighted mean over rows.

    ``sum_i w_i * mean_j values[i, j] / sum_i w_i``, as the torch families'
    ``loss_function``: weights of one give the plain mean, and scaling all weights
    changes nothing. Weights of the shape of ``values`` weigh each element.
    """
    dtype = ops.dtype(values)
    if sample_weight is None:
        # Not ops.mean: on Keras 3.15's torch backend it sums float64 in float32.
        return ops.sum(values) / ops.cast(ops.size(values), dtype)
    w = ops.cast(sample_weight, dtype)
    w = ops.reshape(w, tuple(ops.shape(w)) + (1,) * (len(values.shape) - len(w.shape)))
    w = ops.broadcast_to(w, ops.shape(values))
    return ops.sum(w * values) / ops.sum(w)


class _FamilyMeta(type):
    """Metaclass of the families: a readable repr."""

    def __repr__(cls) -> str:
        return f"sculpt_sklearn.keras.{cls.__qualname__}"


class SculptDistribution(metaclass=_FamilyMeta):
    """Base class of the Keras output families; use a subclass as a class.

    Subclasses implement the standard member of the family (mean 0, standard
    deviation 1) through :meth:`_standard_log_prob`, :meth:`_standard_cdf`,
    :meth:`_standard_icdf` and :meth:`_standard_sample`; everything here maps
    ``(y_hat, y_risk)`` onto it, so ``y_risk`` is the standard deviation for every
    family. The positive families override the public methods instead.

    Attributes
    ----------
    name : str
        The family's name, as :func:`~sculpt_sklearn.keras.get_distribution` takes it.
    location_scale : bool
        Whether the family is ``y_hat + y_risk * Z`` for one standard ``Z``.
    positive : bool
        Whether the support is ``y > 0``; the mean then goes through
        :meth:`mean_link`.
    """

    name: str = "base"
    location_scale: bool = True
    positive: bool = False

    def __init__(self) -> None:
        raise TypeError(
            f"{type(self).__name__} is used as a class, not instantiated: call "
            f"{type(self).__name__}.loss_function(y, y_hat, y_risk) or pass the class "
            f"itself to sculpt_sklearn.keras.Wrapper({type(self).__name__})."
        )

    @classmethod
    def mean_link(cls, raw: Tensor) -> Tensor:
        """Map a model's unconstrained output to a valid mean (identity here).

        :class:`~sculpt_sklearn.keras.Wrapper` applies it to the model's prediction,
        so ``wrapped(x) == mean_link(model(x))``.

        Parameters
        ----------
        raw : tensor
            The model's output.

        Returns
        -------
        tensor
            The mean, the shape of ``raw``.
        """
        return raw

    # -- the standard member (mean 0, std 1); implemented by subclasses -----------
    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        raise NotImplementedError

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        raise NotImplementedError

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        raise NotImplementedError

    @classmethod
    def _standard_sample(cls, shape: tuple, dtype: str, seed: Seed) -> Tensor:
        raise NotImplementedError

    # -- the public class-level API -------------------------------------------------
    @classmethod
    def log_prob(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise log density of ``y``.

        Parameters
        ----------
        y, y_hat, y_risk : tensor
            Target, predicted mean and predicted standard deviation, of one shape.

        Returns
        -------
        tensor
            ``log p(y | y_hat, y_risk)``, the shape of ``y``.
        """
        check_shapes(y, y_hat, y_risk)
        return cls._standard_log_prob((y - y_hat) / y_risk) - ops.log(y_risk)

    @classmethod
    def nll(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise negative log-likelihood, constants included."""
        return -cls.log_prob(y, y_hat, y_risk)

    @classmethod
    def loss_function(
        cls,
        y: Tensor,
        y_hat: Tensor,
        y_risk: Tensor,
        sample_weight: Tensor | None = None,
    ) -> Tensor:
        """Mean negative log-likelihood (constants included).

        The numbers compare directly with published NLL tables and equal the torch
        family's :meth:`sculpt_sklearn.sculpt.SculptDistribution.loss_function`.

        Parameters
        ----------
        y : tensor
            Targets, the shape of ``y_hat``.
        y_hat : tensor
            Predicted mean.
        y_risk : tensor
            Predicted standard deviation, positive, the shape of ``y_hat``.
        sample_weight : tensor of shape (n,), optional
            Per-row weights; the result is the weighted mean over rows (weights of
            ``y``'s shape weigh each element).

        Returns
        -------
        tensor
            A scalar: the (weighted) mean NLL over all elements.
        """
        return weighted_mean(cls.nll(y, y_hat, y_risk), sample_weight)

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y``."""
        check_shapes(y, y_hat, y_risk)
        return cls._standard_cdf((y - y_hat) / y_risk)

    @classmethod
    def icdf(cls, q: Any, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function.

        Parameters
        ----------
        q : float, array-like or tensor
            Level(s) in (0, 1), broadcastable against ``y_hat``; checked unless a
            tensor (then levels outside (0, 1) give NaN).
        y_hat, y_risk : tensor
            Predicted mean and standard deviation.

        Returns
        -------
        tensor
            The ``q``-quantile of each predicted distribution, differentiable in
            ``y_hat`` and ``y_risk``.
        """
        q = probability(q, like=y_hat)
        return y_hat + y_risk * cls._standard_icdf(q)

    @classmethod
    def sample(
        cls,
        params: tuple[Tensor, Tensor],
        sample_shape: Sequence[int] = (),
        seed: Seed = None,
    ) -> Tensor:
        """Reparameterised draws; gradients reach both ``y_hat`` and ``y_risk``.

        Parameters
        ----------
        params : tuple (y_hat, y_risk)
            Predicted mean and standard deviation of the same shape.
        sample_shape : tuple of int, default=()
            Leading shape of the draws, as in ``torch.distributions``.
        seed : None, int or keras.random.SeedGenerator, default=None
            The draws' seed; None uses Keras's global generator (set by
            ``keras.utils.set_random_seed``); inside a jitted function (JAX) pass a
            ``SeedGenerator``.

        Returns
        -------
        tensor of shape ``sample_shape + y_hat.shape``
            ``y_hat + y_risk * eps`` with ``eps`` from the standard member for the
            location-scale families; the positive families' own draws.
        """
        y_hat, y_risk = params
        check_params(y_hat, y_risk)
        return cls._sample(y_hat, y_risk, draw_shape(sample_shape, y_hat), seed)

    rsample = sample

    @classmethod
    def _sample(cls, y_hat: Tensor, y_risk: Tensor, shape: tuple, seed: Seed) -> Tensor:
        """Draws of shape ``shape``; the positive families override it."""
        return y_hat + y_risk * cls._standard_sample(shape, ops.dtype(y_hat), seed)


class Normal(SculptDistribution):
    """Gaussian output: ``y ~ N(y_hat, y_risk**2)``."""

    name = "normal"

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        return -0.5 * z * z - _LOG_SQRT_2PI

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return 0.5 * (1.0 + ops.erf(z / _SQRT2))

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        return _SQRT2 * ops.erfinv(2.0 * q - 1.0)

    @classmethod
    def _standard_sample(cls, shape: tuple, dtype: str, seed: Seed) -> Tensor:
        return random.normal(shape, dtype=dtype, seed=sub_seeds(seed, 1)[0])


class Laplace(SculptDistribution):
    """Laplace output with standard deviation ``y_risk`` (scale ``y_risk / sqrt(2)``)."""

    name = "laplace"
    _B = 1.0 / _SQRT2  # scale of the standard (std 1) Laplace

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        return -ops.abs(z) / cls._B - math.log(2.0 * cls._B)

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return 0.5 - 0.5 * ops.sign(z) * ops.expm1(-ops.abs(z) / cls._B)

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        t = q - 0.5
        return -cls._B * ops.sign(t) * ops.log1p(-2.0 * ops.abs(t))

    @classmethod
    def _standard_sample(cls, shape: tuple, dtype: str, seed: Seed) -> Tensor:
        tiny = float(np.finfo(dtype).tiny)
        eps = float(np.finfo(dtype).eps)
        u = random.uniform(shape, minval=tiny, maxval=1.0 - eps, dtype=dtype,
                           seed=sub_seeds(seed, 1)[0])
        return cls._standard_icdf(u)
