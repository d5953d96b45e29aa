"""The base of the output families: the mean-and-std parameterisation, checks, pickling.

Every family is parameterised the same way, by a prediction ``y_hat`` (the
mean) and a risk ``y_risk`` (the predictive **standard deviation**, in the
units of ``y``). The classes are used as classes, never instantiated::

    loss = Normal.loss_function(y, y_hat, y_risk)
    draws = Normal.sample((y_hat, y_risk))

A location-scale family implements its standard member (mean 0, std 1) and
inherits the rest from :class:`SculptDistribution`; each family lives in a file
of its own beside this one (``normal.py``, ``laplace.py``, ``studentt.py``,
``lognormal.py``, ``gamma.py``) and :mod:`.distributions` registers them by name.
This module imports no family.
"""

from __future__ import annotations

import copyreg
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["SculptDistribution", "check_probability", "check_shapes", "weighted_mean"]


def check_shapes(y: Tensor, y_hat: Tensor, y_risk: Tensor) -> None:
    if y.shape != y_hat.shape or y_risk.shape != y_hat.shape:
        raise ValueError(
            f"y, y_hat and y_risk must have the same shape; got y {tuple(y.shape)}, "
            f"y_hat {tuple(y_hat.shape)} and y_risk {tuple(y_risk.shape)}. "
            "Broadcasting is refused on purpose (a (n,) target against (n, 1) "
            "predictions silently becomes (n, n)): reshape y with "
            "y.view_as(y_hat) or y.reshape(-1, 1)."
        )


def check_probability(q: Tensor | float, like: Tensor | None = None) -> Tensor:
    if not isinstance(q, Tensor):
        # A writable copy: torch warns on read-only NumPy arrays (pandas 3 hands them out).
        # In the dtype of the parameters (``like``), so float64 levels stay exact.
        dtype = torch.get_default_dtype() if like is None else like.dtype
        q = torch.as_tensor(np.array(q, dtype=np.float64), dtype=dtype)
    if not bool(torch.all((q > 0) & (q < 1))):
        raise ValueError(
            "Quantile levels must lie strictly between 0 and 1; "
            f"got values in [{float(q.min())}, {float(q.max())}]."
        )
    return q


class _FamilyMeta(type):
    """Metaclass of the families: readable repr, and pickling of ``with_df`` classes."""

    def __repr__(cls) -> str:
        return f"sculpt.{cls.__qualname__}"


def _reduce_family(cls: type) -> Any:
    """Pickle a family by name, or through the factory that made it (``with_df``).

    A family made at run time (``StudentT.with_df(3)``) records how to make it
    again in ``_made_by``, a ``(factory, args)`` pair; every other family is
    pickled by reference, as any class.
    """
    made_by = cls.__dict__.get("_made_by")
    return made_by if made_by is not None else cls.__qualname__


copyreg.pickle(_FamilyMeta, _reduce_family)


class SculptDistribution(metaclass=_FamilyMeta):
    """Base class of the output families; use a subclass as a class.

    Subclasses implement the standardised family (location 0, standard
    deviation 1) through :meth:`_standard_log_prob`, :meth:`_standard_cdf`,
    :meth:`_standard_icdf`, :meth:`_standard_rsample` and, where a closed
    form exists, :meth:`_standard_crps`. Everything here maps ``(y_hat,
    y_risk)`` onto that standard family, so ``y_risk`` is the standard
    deviation for every family.

    Attributes
    ----------
    name : str
        The name accepted by ``SculptRegressor(distribution=...)``.
    has_crps : bool
        Whether a closed-form CRPS exists for the family.
    crps_trainable : bool
        Whether that CRPS has gradients in both ``y_hat`` and ``y_risk``, so
        that it can be a training loss (``loss="crps"``).
    location_scale : bool
        Whether the family is ``y_hat + y_risk * Z`` for one standard ``Z``:
        then quantiles, intervals and standardised residuals need only the
        standard family. False for the positive families.
    positive : bool
        Whether the support is ``y > 0``; the mean then goes through
        :meth:`mean_link`.
    """

    name: str = "base"
    has_crps: bool = False
    crps_trainable: bool = True
    location_scale: bool = True
    positive: bool = False

    @classmethod
    def mean_link(cls, raw: Tensor) -> Tensor:
        """Map a model's unconstrained output to a valid mean (identity here).

        :class:`~sculpt_sklearn.sculpt.Wrapper` applies it to the model's
        prediction, so ``wrapped(x) == mean_link(model(x))``; families whose
        mean must be positive override it.

        Parameters
        ----------
        raw : Tensor
            The model's output.

        Returns
        -------
        Tensor
            The mean, the shape of ``raw``.
        """
        return raw

    def __init__(self) -> None:  # pragma: no cover - guard
        raise TypeError(
            f"{type(self).__name__} is used as a class, not instantiated: call "
            f"{type(self).__name__}.loss_function(y, y_hat, y_risk) or pass the "
            f"class itself to sculpt.Wrapper(distribution={type(self).__name__})."
        )

    # -- the standard family (mean 0, std 1); implemented by subclasses ------
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
    def _standard_rsample(cls, shape: torch.Size, like: Tensor) -> Tensor:
        raise NotImplementedError

    @classmethod
    def _standard_crps(cls, z: Tensor) -> Tensor:
        raise NotImplementedError(
            f"The scoring rule CRPS has no closed form implemented for the "
            f"{cls.__name__} distribution; use loss='nll' or 'beta_nll', or a "
            "family with a closed form (Normal, Laplace, StudentT, LogNormal, Gamma)."
        )

    @classmethod
    def torch_distribution(cls, y_hat: Tensor, y_risk: Tensor) -> torch.distributions.Distribution:
        """The equivalent ``torch.distributions`` object.

        Parameters
        ----------
        y_hat : Tensor
            Predicted mean.
        y_risk : Tensor
            Predicted standard deviation, same shape as ``y_hat``, positive.

        Returns
        -------
        torch.distributions.Distribution
            With ``mean == y_hat`` and ``stddev == y_risk``; it offers
            ``loc``, ``scale``, ``rsample``, ``log_prob``, ``cdf``, ``icdf``.
        """
        raise NotImplementedError

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (vectorised).

        Parameters
        ----------
        y_hat, y_risk : array-like
            Predicted mean and standard deviation, broadcastable.

        Returns
        -------
        scipy.stats frozen distribution
            With ``mean() == y_hat`` and ``std() == y_risk``.
        """
        raise NotImplementedError

    # -- the public class-level API ------------------------------------------
    @classmethod
    def log_prob(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise log density of ``y``.

        Parameters
        ----------
        y, y_hat, y_risk : Tensor
            Target, predicted mean and predicted standard deviation, all of
            the same shape.

        Returns
        -------
        Tensor
            ``log p(y | y_hat, y_risk)``, the shape of ``y``.
        """
        check_shapes(y, y_hat, y_risk)
        return cls._standard_log_prob((y - y_hat) / y_risk) - torch.log(y_risk)

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

        The numbers compare directly with published NLL tables.

        Parameters
        ----------
        y : Tensor
            Targets, the shape of ``y_hat``.
        y_hat : Tensor
            Predicted mean.
        y_risk : Tensor
            Predicted standard deviation, positive, the shape of ``y_hat``.
        sample_weight : Tensor of shape (n,), optional
            Per-row weights; the result is the weighted mean over rows.

        Returns
        -------
        Tensor
            A scalar: the (weighted) mean NLL over all elements.
        """
        return weighted_mean(cls.nll(y, y_hat, y_risk), sample_weight)

    @classmethod
    def cdf(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Cumulative distribution function at ``y``."""
        check_shapes(y, y_hat, y_risk)
        return cls._standard_cdf((y - y_hat) / y_risk)

    @classmethod
    def icdf(cls, q: Tensor | float, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Quantile function; ``q`` must lie in (0, 1) (checked).

        Parameters
        ----------
        q : Tensor or float
            Quantile level(s), broadcastable against ``y_hat``.
        y_hat, y_risk : Tensor
            Predicted mean and standard deviation.

        Returns
        -------
        Tensor
            The ``q``-quantile of each predicted distribution.
        """
        q = check_probability(q, like=y_hat)
        q = q.to(dtype=y_hat.dtype, device=y_hat.device)
        return y_hat + y_risk * cls._standard_icdf(q)

    @classmethod
    def crps(cls, y: Tensor, y_hat: Tensor, y_risk: Tensor) -> Tensor:
        """Element-wise continuous ranked probability score (closed form).

        Raises
        ------
        NotImplementedError
            When the family has no closed form.
        """
        check_shapes(y, y_hat, y_risk)
        return y_risk * cls._standard_crps((y - y_hat) / y_risk)

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
            Predicted mean and standard deviation of the same shape.
        sample_shape : tuple of int, default=()
            Leading shape of the draws, as in ``torch.distributions``.

        Returns
        -------
        Tensor of shape ``sample_shape + y_hat.shape``
            ``y_hat + y_risk * eps`` with ``eps`` from the standard family.
        """
        y_hat, y_risk = params
        if y_hat.shape != y_risk.shape:
            raise ValueError(
                f"y_hat {tuple(y_hat.shape)} and y_risk {tuple(y_risk.shape)} must "
                "have the same shape; pass the pair returned by "
                "model(x, return_risk=True)."
            )
        shape = torch.Size(sample_shape) + y_hat.shape
        return y_hat + y_risk * cls._standard_rsample(shape, y_hat)

    rsample = sample


def weighted_mean(values: Tensor, sample_weight: Tensor | None) -> Tensor:
    """Mean over all elements; with ``sample_weight``, the weighted mean over rows.

    ``sum_i w_i * mean_j values[i, j] / sum_i w_i``: weights of one are the plain
    mean, and scaling all weights changes nothing.
    """
    if sample_weight is None:
        return values.mean()
    w = sample_weight.reshape((-1,) + (1,) * (values.ndim - 1))
    per_row = values.numel() // max(values.shape[0], 1) if values.ndim else 1
    return (values * w).sum() / (sample_weight.sum() * per_row)
