"""The Laplace family, parameterised by its mean and standard deviation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import Tensor

from ._base import SculptDistribution

__all__ = ["Laplace"]

_SQRT2 = math.sqrt(2.0)


class Laplace(SculptDistribution):
    """Laplace output with standard deviation ``y_risk`` (scale ``y_risk / sqrt(2)``)."""

    name = "laplace"
    has_crps = True
    _B = 1.0 / _SQRT2  # scale of the standard (std 1) Laplace

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        return -torch.abs(z) / cls._B - math.log(2.0 * cls._B)

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return 0.5 - 0.5 * torch.sign(z) * torch.expm1(-torch.abs(z) / cls._B)

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        t = q - 0.5
        return -cls._B * torch.sign(t) * torch.log1p(-2.0 * torch.abs(t))

    @classmethod
    def _standard_rsample(cls, shape: torch.Size, like: Tensor) -> Tensor:
        finfo = torch.finfo(like.dtype)
        u = torch.rand(shape, dtype=like.dtype, device=like.device)
        u = u.clamp(finfo.tiny, 1.0 - finfo.eps)
        return cls._standard_icdf(u)

    @classmethod
    def _standard_crps(cls, z: Tensor) -> Tensor:
        # CRPS of Laplace(0, b) at x: |x| + b exp(-|x|/b) - 3b/4 (Jordan et al. 2019).
        b = cls._B
        a = torch.abs(z)
        return a + b * torch.exp(-a / b) - 0.75 * b

    @classmethod
    def torch_distribution(cls, y_hat: Tensor, y_risk: Tensor) -> torch.distributions.Laplace:
        return torch.distributions.Laplace(y_hat, y_risk * cls._B, validate_args=False)

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        return stats.laplace(loc=np.asarray(y_hat), scale=np.asarray(y_risk) * cls._B)
