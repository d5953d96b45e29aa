"""The risk heads: small networks that map features to a positive standard deviation.

:class:`RiskHead` serves a plain model (features ``(batch, d)``);
:class:`EnsembleRiskHead` serves an efficient ensemble (features ``(batch, k, d)``)
with one independent head per member, built from ``tabm.LinearEnsemble`` layers.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["RiskHead", "EnsembleRiskHead"]

# softplus(_INIT_BIAS) == 1: a new head predicts a standard deviation of one.
_INIT_BIAS = math.log(math.expm1(1.0))


def _init_last_(layer: nn.Module) -> None:
    """Small weights and a bias that softplus maps to one."""
    with torch.no_grad():
        layer.weight.mul_(0.1)
        layer.bias.fill_(_INIT_BIAS)


class RiskHead(nn.Module):
    """Maps features to a positive standard deviation.

    Parameters
    ----------
    in_features : int
        Width of the features it reads.
    out_features : int
        Number of outputs (one risk per predicted column).
    n_layers : int
        Number of linear layers (``n_layers - 1`` hidden layers with ReLU).
    hidden : int, optional
        Width of the hidden layers; defaults to ``in_features``.
    min_risk : float
        Floor added after the softplus, so the risk is always ``> min_risk``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_layers: int = 3,
        hidden: int | None = None,
        min_risk: float = 1e-6,
    ) -> None:
        super().__init__()
        hidden = in_features if hidden is None else hidden
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers - 1):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        last = nn.Linear(width, out_features)
        _init_last_(last)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.min_risk = float(min_risk)

    def forward(self, features: Tensor) -> Tensor:
        """Risk (standard deviation) for each row of ``features``."""
        return nn.functional.softplus(self.net(features)) + self.min_risk


class EnsembleRiskHead(nn.Module):
    """One risk head per ensemble member, all computed in one pass.

    Each of the ``n_layers`` layers is a ``tabm.LinearEnsemble`` (member ``j``
    has its own weights ``weight[j]`` and ``bias[j]``), with ReLU between
    them, so member ``j``'s risk depends on member ``j``'s features and on
    head ``j``'s parameters only.

    Parameters
    ----------
    in_features : int
        Width of each member's features.
    out_features : int
        Number of outputs per member.
    k : int
        Number of members.
    n_layers : int
        Number of layers of each member's head.
    hidden : int, optional
        Width of the hidden layers; defaults to ``in_features``.
    min_risk : float
        Floor added after the softplus.

    Notes
    -----
    Shapes: features ``(batch, k, in_features)`` -> risk
    ``(batch, k, out_features)``. Needs the ``tabm`` package.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        k: int,
        n_layers: int = 3,
        hidden: int | None = None,
        min_risk: float = 1e-6,
    ) -> None:
        try:
            from tabm import LinearEnsemble
        except ImportError as exc:  # pragma: no cover - tabm is a dependency
            raise ImportError(
                "A model with a member axis gets one risk head per member, built from "
                "tabm.LinearEnsemble: install the tabm package (pip install tabm)."
            ) from exc
        super().__init__()
        hidden = in_features if hidden is None else hidden
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers - 1):
            layers += [LinearEnsemble(width, hidden, k=k), nn.ReLU()]
            width = hidden
        last = LinearEnsemble(width, out_features, k=k)
        _init_last_(last)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.k = int(k)
        self.min_risk = float(min_risk)

    def forward(self, features: Tensor) -> Tensor:
        """Risk of each member, ``(batch, k, out_features)``, from ``(batch, k, d)`` features."""
        return nn.functional.softplus(self.net(features)) + self.min_risk
