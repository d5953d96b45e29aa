"""Training objectives: per-element losses of (y, mean, std) for a family.

Each objective returns an element-wise loss of the shape of ``y``; the
caller reduces it (with row weights when given).

- ``nll``: the negative log-likelihood.
- ``beta_nll``: NLL weighted by ``stop_grad(std) ** (2 * beta)`` (Seitzer et
  al., "On the Pitfalls of Heteroscedastic Uncertainty Estimation with
  Probabilistic Neural Networks", ICLR 2022). ``beta=0`` is the NLL and
  ``beta=1`` gives the mean the gradient of the MSE.
- ``crps``: the closed-form continuous ranked probability score.
- ``faithful``: squared error for the mean plus the NLL with the mean
  detached (Stirn et al., "Faithful Heteroscedastic Regression with Neural
  Networks", AISTATS 2023); the risk head reads detached features, so the
  risk never bends the mean's representation.
- ``sample``: the base criterion on a reparameterised draw (the Sculpt seed's
  training mode B). With any convex criterion (MSE, L1, Huber) Jensen's
  inequality makes ``risk = 0`` optimal, e.g. for MSE
  ``E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2``: the risk
  collapses to its floor. It learns a useful risk only with a criterion that
  rewards spread, which no point-prediction loss does.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from .sculpt.distributions import SculptDistribution

__all__ = ["OBJECTIVES", "objective_loss", "uses_detached_features"]

OBJECTIVES = ("nll", "beta_nll", "crps", "faithful", "sample")


def uses_detached_features(loss: str) -> bool:
    """Whether the objective needs the risk head to read detached features."""
    return loss == "faithful"


def objective_loss(
    loss: str,
    distribution: type[SculptDistribution],
    y: Tensor,
    mean: Tensor,
    std: Tensor,
    *,
    beta: float = 0.5,
    criterion: Callable[[Tensor, Tensor], Tensor] | nn.Module | None = None,
) -> Tensor:
    """Element-wise training loss.

    Parameters
    ----------
    loss : {"nll", "beta_nll", "crps", "faithful", "sample"}
        The objective.
    distribution : SculptDistribution subclass
        The output family.
    y, mean, std : Tensor
        Targets, predicted means and standard deviations, of one shape.
    beta : float
        Exponent of ``beta_nll``.
    criterion : callable, optional
        Element-wise base criterion (``reduction="none"``), used by
        ``"sample"``.

    Returns
    -------
    Tensor
        The loss of each element, the shape of ``y``.
    """
    if loss == "nll":
        return distribution.nll(y, mean, std)
    if loss == "beta_nll":
        nll = distribution.nll(y, mean, std)
        return nll if beta == 0 else nll * std.detach() ** (2.0 * beta)
    if loss == "crps":
        return distribution.crps(y, mean, std)
    if loss == "faithful":
        return (y - mean) ** 2 + distribution.nll(y, mean.detach(), std)
    if loss == "sample":
        if criterion is None:
            raise ValueError("loss='sample' needs a base criterion.")
        return criterion(distribution.sample((mean, std)), y)
    raise ValueError(f"Unknown objective {loss!r}; choose one of {OBJECTIVES}.")
