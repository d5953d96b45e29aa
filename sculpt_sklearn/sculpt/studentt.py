"""Student's t output family, parameterised by its mean and standard deviation.

``df`` is a class attribute (default 5); :meth:`StudentT.with_df` makes a
family with another one, pickled by its ``df``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
from scipy import special, stats
from torch import Tensor

from ._base import SculptDistribution, _FamilyMeta

__all__ = ["StudentT"]


def _t_log_pdf(t: Tensor, nu: float) -> Tensor:
    """Log density of the unscaled Student-t with ``nu`` degrees of freedom."""
    log_norm = math.lgamma((nu + 1.0) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(nu * math.pi)
    return log_norm - 0.5 * (nu + 1.0) * torch.log1p(t * t / nu)


class _StudentTCdf(torch.autograd.Function):
    """CDF of Student's t with ``df`` degrees of freedom.

    torch has no regularised incomplete beta function, so the value comes
    from ``scipy.special.stdtr`` and the gradient is the density.
    """

    @staticmethod
    def forward(ctx: Any, t: Tensor, df: float) -> Tensor:
        ctx.save_for_backward(t)
        ctx.df = df
        values = special.stdtr(df, t.detach().cpu().double().numpy())
        return torch.as_tensor(values, dtype=t.dtype, device=t.device)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None]:
        (t,) = ctx.saved_tensors
        nu = ctx.df
        log_pdf = _t_log_pdf(t, nu)
        return grad_output * torch.exp(log_pdf), None


class StudentT(SculptDistribution):
    """Student-t output with ``df`` degrees of freedom and standard deviation ``y_risk``.

    ``df`` is a class attribute (default 5) and must exceed 2 so that the
    standard deviation exists; :meth:`with_df` makes a family with another
    ``df``: ``sculpt.StudentT.with_df(3.0)``.
    """

    name = "studentt"
    has_crps = True
    df: float = 5.0

    @classmethod
    def with_df(cls, df: float) -> type[StudentT]:
        """A Student-t family with ``df`` degrees of freedom (``df > 2``).

        The same ``df`` always gives the same class, and the class pickles.
        """
        df = float(df)
        if not df > 2.0 or not math.isfinite(df):
            raise ValueError(
                f"StudentT needs df > 2 so that the standard deviation (the risk) "
                f"exists; got df={df}. Use df=3 for heavy tails or Normal for df=inf."
            )
        return _student_t_family(df)

    @classmethod
    def _s(cls) -> float:
        """Scale of the standard (std 1) Student-t."""
        return math.sqrt((cls.df - 2.0) / cls.df)

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        s = cls._s()
        return _t_log_pdf(z / s, cls.df) - math.log(s)

    @classmethod
    def _t_cdf(cls, t: Tensor) -> Tensor:
        """CDF of the unscaled t_nu, differentiable in ``t``."""
        return _StudentTCdf.apply(t, cls.df)

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return cls._t_cdf(z / cls._s())

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        values = special.stdtrit(cls.df, q.detach().cpu().numpy()) * cls._s()
        return torch.as_tensor(values, dtype=q.dtype, device=q.device)

    @classmethod
    def _standard_rsample(cls, shape: torch.Size, like: Tensor) -> Tensor:
        nu = cls.df
        normal = torch.randn(shape, dtype=like.dtype, device=like.device)
        chi2 = torch.distributions.Chi2(
            torch.tensor(nu, dtype=like.dtype, device=like.device)
        ).sample(shape)
        return normal * torch.rsqrt(chi2 / nu) * cls._s()

    @classmethod
    def _standard_crps(cls, z: Tensor) -> Tensor:
        # CRPS of the standard t_nu at t (Jordan et al. 2019, scoringRules crps_t),
        # rescaled to the std-1 family: CRPS(s * T, z) = s * CRPS(T, z / s).
        nu = cls.df
        s = cls._s()
        t = z / s
        log_pdf = _t_log_pdf(t, nu)
        cdf = cls._t_cdf(t)
        # const = 2 sqrt(nu) B(1/2, nu - 1/2) / ((nu - 1) B(1/2, nu/2)^2).
        log_beta_half_nu_m_half = math.lgamma(0.5) + math.lgamma(nu - 0.5) - math.lgamma(nu)
        log_beta_half_nu2 = math.lgamma(0.5) + math.lgamma(nu / 2.0) - math.lgamma(nu / 2.0 + 0.5)
        const = (
            2.0
            * math.sqrt(nu)
            * math.exp(log_beta_half_nu_m_half - 2.0 * log_beta_half_nu2)
            / (nu - 1.0)
        )
        value = (
            t * (2.0 * cdf - 1.0)
            + 2.0 * torch.exp(log_pdf) * (nu + t * t) / (nu - 1.0)
            - const
        )
        return s * value

    @classmethod
    def torch_distribution(cls, y_hat: Tensor, y_risk: Tensor) -> torch.distributions.StudentT:
        df = torch.full_like(y_hat, cls.df)
        return torch.distributions.StudentT(df, y_hat, y_risk * cls._s(), validate_args=False)

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        return stats.t(df=cls.df, loc=np.asarray(y_hat), scale=np.asarray(y_risk) * cls._s())


@functools.cache
def _student_t_family(df: float) -> type[StudentT]:
    if df == StudentT.df:
        return StudentT
    name = f"StudentT(df={df:g})"
    return _FamilyMeta(name, (StudentT,), {
        "df": df, "__module__": __name__, "__qualname__": name,
        "_made_by": (_student_t_family, (df,)),  # how pickle makes it again
    })
