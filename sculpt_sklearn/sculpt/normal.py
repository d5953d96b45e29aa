"""The Normal family: ``y ~ N(y_hat, y_risk**2)``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import Tensor

from ._base import SculptDistribution

__all__ = ["Normal"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


class Normal(SculptDistribution):
    """Gaussian output: ``y ~ N(y_hat, y_risk**2)``."""

    name = "normal"
    has_crps = True

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        return -0.5 * z * z - _LOG_SQRT_2PI

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return 0.5 * (1.0 + torch.erf(z / _SQRT2))

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        return _SQRT2 * torch.erfinv(2.0 * q - 1.0)

    @classmethod
    def _standard_rsample(cls, shape: torch.Size, like: Tensor) -> Tensor:
        return torch.randn(shape, dtype=like.dtype, device=like.device)

    @classmethod
    def _standard_crps(cls, z: Tensor) -> Tensor:
        # Gneiting & Raftery (2007), eq. 21.
        pdf = torch.exp(cls._standard_log_prob(z))
        return z * (2.0 * cls._standard_cdf(z) - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi)

    @classmethod
    def torch_distribution(cls, y_hat: Tensor, y_risk: Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(y_hat, y_risk, validate_args=False)

    @classmethod
    def scipy_distribution(cls, y_hat: Any, y_risk: Any) -> Any:
        return stats.norm(loc=np.asarray(y_hat), scale=np.asarray(y_risk))
