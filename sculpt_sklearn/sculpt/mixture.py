"""The mixture of ensemble members: its moments and its exact NLL.

Member ``j`` predicts ``(mu_j, sigma_j)`` (mean and standard deviation) of one
family. The ensemble's predictive distribution is the equal-weight mixture
``p(y) = (1/k) sum_j p_j(y)``; by the law of total variance its variance is
``mean_j sigma_j**2`` (aleatoric) plus ``var_j mu_j`` (epistemic).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .distributions import SculptDistribution, get_distribution

__all__ = ["aleatoric_std", "mixture_moments", "mixture_nll"]


def _check_members(mu_k: Tensor, sigma_k: Tensor, dim: int) -> None:
    if mu_k.shape != sigma_k.shape:
        raise ValueError(
            f"mu_k {tuple(mu_k.shape)} and sigma_k {tuple(sigma_k.shape)} must have the "
            "same shape; pass the pair returned by wrapped(x, return_members=True)."
        )
    if not -mu_k.ndim <= dim < mu_k.ndim:
        raise ValueError(
            f"dim={dim} is not an axis of the members' tensors of shape "
            f"{tuple(mu_k.shape)}; the member axis is 1 for wrapped(x, return_members=True)."
        )


def aleatoric_std(sigma_k: Tensor, dim: int = 1) -> Tensor:
    """The aleatoric std of the equal-weight mixture, ``sqrt(mean_k sigma_k**2)``.

    The one formula the wrapper, :class:`~sculpt_sklearn.sculpt.Pool` and
    :func:`mixture_moments` report as the risk of an ensemble.

    Parameters
    ----------
    sigma_k : Tensor
        Members' standard deviations, e.g. ``(batch, k, out)``.
    dim : int, default=1
        The member axis.

    Returns
    -------
    Tensor
        ``sigma_k``'s shape without ``dim``.
    """
    return sigma_k.square().mean(dim=dim).sqrt()


def mixture_moments(
    mu_k: Tensor, sigma_k: Tensor, dim: int = 1, weights: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Mean, aleatoric std and epistemic std of a mixture of the members.

    Parameters
    ----------
    mu_k : Tensor
        Members' means, e.g. ``(batch, k, out)``.
    sigma_k : Tensor
        Members' standard deviations, the shape of ``mu_k``, positive.
    dim : int, default=1
        The member axis.
    weights : Tensor, optional
        Non-negative mixture weights of the members, broadcastable to
        ``mu_k`` (e.g. ``(batch, k, 1)``: one mixture per row), normalised
        along ``dim``; every row needs a positive weight. Default: equal
        weights.

    Returns
    -------
    mean : Tensor
        ``sum_k w_k mu_k``; ``mu_k``'s shape without ``dim``.
    aleatoric : Tensor
        ``sqrt(sum_k w_k sigma_k**2)``.
    epistemic : Tensor
        The (weighted) population standard deviation of the members' means,
        ``sqrt(sum_k w_k (mu_k - mean)**2)``; zero for one member, with a zero
        (not NaN) gradient there.

    Notes
    -----
    The total std is ``sqrt(aleatoric**2 + epistemic**2)`` (law of total
    variance).
    """
    _check_members(mu_k, sigma_k, dim)
    if weights is None:
        mean = mu_k.mean(dim=dim)
        aleatoric = aleatoric_std(sigma_k, dim)
        var = (mu_k - mean.unsqueeze(dim)).square().mean(dim=dim)
    else:
        weights = torch.broadcast_to(weights, mu_k.shape)
        weights = weights / weights.sum(dim=dim, keepdim=True)
        mean = (weights * mu_k).sum(dim=dim)
        aleatoric = (weights * sigma_k.square()).sum(dim=dim).sqrt()
        var = (weights * (mu_k - mean.unsqueeze(dim)).square()).sum(dim=dim)
    # sqrt has an infinite derivative at 0 (e.g. one member): take it where var > 0 only.
    positive = var > 0
    epistemic = torch.where(positive, torch.where(positive, var, 1.0).sqrt(), 0.0)
    return mean, aleatoric, epistemic


def mixture_nll(
    distribution: type[SculptDistribution] | str,
    y: Tensor,
    mu_k: Tensor,
    sigma_k: Tensor,
    dim: int = 1,
) -> Tensor:
    """Element-wise negative log-likelihood of the equal-weight mixture.

    ``-log((1/k) sum_j p_j(y)) = -logsumexp_j log p_j(y) + log k``, with
    ``p_j`` the family's density with mean ``mu_k[j]`` and std ``sigma_k[j]``.

    Parameters
    ----------
    distribution : SculptDistribution subclass or str
        The members' family (``sculpt.Normal``, ``"laplace"``, ...).
    y : Tensor
        Targets, the shape of ``mu_k`` without the member axis, e.g. ``(batch, out)``.
    mu_k, sigma_k : Tensor
        Members' means and standard deviations, e.g. ``(batch, k, out)``.
    dim : int, default=1
        The member axis.

    Returns
    -------
    Tensor
        The NLL of each element of ``y`` (constants included); take ``.mean()``
        for the number published tables report.
    """
    family = get_distribution(distribution)
    _check_members(mu_k, sigma_k, dim)
    dim = dim % mu_k.ndim
    expected = mu_k.shape[:dim] + mu_k.shape[dim + 1:]
    if y.shape != expected:
        raise ValueError(
            f"y has shape {tuple(y.shape)} but the members' tensors {tuple(mu_k.shape)} "
            f"without their member axis {dim} have shape {tuple(expected)}: pass y of "
            "that shape (e.g. y.reshape(-1, 1) for one output)."
        )
    log_p = family.log_prob(y.unsqueeze(dim).expand_as(mu_k), mu_k, sigma_k)
    return math.log(mu_k.shape[dim]) - torch.logsumexp(log_p, dim=dim)
