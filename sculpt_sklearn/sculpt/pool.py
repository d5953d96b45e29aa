"""Several wrapped models as one ensemble: their members side by side.

``Pool([wrapped_a, wrapped_b])`` is a deep ensemble of Sculpt modules
(Lakshminarayanan et al., 2017): each part is a :class:`SculptModule` (a plain
model with one member, or an efficient ensemble such as TabM with ``k``), and
the pool's members are all of theirs, concatenated along the member axis. Its
predictive distribution is the equal-weight mixture of every member, so a part
of ``k`` members weighs ``k`` times a plain one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .mixture import aleatoric_std
from .wrapper import SculptModule

__all__ = ["Pool"]


class Pool(nn.Module):
    """Wrapped models pooled into one ensemble; the call contract of :class:`SculptModule`.

    Parameters
    ----------
    parts : sequence of SculptModule
        The wrapped models, at least one, all of the same output family
        (``Wrapper(...)(model)`` for each). They are used as they are (not
        copied): train the pool, or each part on its own.

    Attributes
    ----------
    parts : nn.ModuleList
        The wrapped models.
    distribution : SculptDistribution subclass
        Their common output family.
    part_sizes : list of int
        Members of each part (``part.n_members``), in order.
    n_members : int
        All members, ``sum(part_sizes)``.
    is_ensemble : bool
        Always True: the output carries a member axis.

    Notes
    -----
    ``pool(x)`` is the mean over all members, ``pool(x, return_risk=True)``
    also the aleatoric std of the mixture ``sqrt(mean sigma_j**2)``, and
    ``pool(x, return_members=True)`` every member's ``(mu_j, sigma_j)``,
    each ``(batch, n_members, out)``, part 0's members first: what
    :func:`mixture_moments` and :func:`mixture_nll` take. To train the parts on
    different rows, weight each member's loss by its part
    (``torch.repeat_interleave(weights, torch.tensor(pool.part_sizes), dim=1)``
    maps per-part weights ``(batch, n_parts)`` to members).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sculpt_sklearn import sculpt
    >>> wrap = sculpt.Wrapper(sculpt.Normal, n_layers=1)
    >>> pool = sculpt.Pool([wrap(nn.Linear(3, 1)) for _ in range(5)])
    >>> mu_k, sigma_k = pool(torch.zeros(8, 3), return_members=True)
    >>> tuple(mu_k.shape), pool.n_members
    ((8, 5, 1), 5)
    """

    def __init__(self, parts: Sequence[SculptModule]) -> None:
        super().__init__()
        parts = list(parts)
        if not parts:
            raise ValueError("Pool needs at least one wrapped model; got none.")
        for i, part in enumerate(parts):
            if not isinstance(part, SculptModule):
                raise TypeError(
                    f"Pool pools wrapped models: parts[{i}] is a {type(part).__name__}; "
                    "wrap it first, sculpt.Wrapper(distribution)(model)."
                )
        families = {part.distribution for part in parts}
        if len(families) > 1:
            names = sorted(repr(f) for f in families)
            raise ValueError(
                f"The parts predict different families ({', '.join(names)}); a mixture "
                "needs one family: wrap every model with the same distribution."
            )
        self.parts = nn.ModuleList(parts)
        self.distribution = parts[0].distribution
        self.part_sizes = [int(part.n_members) for part in parts]
        self.n_members = sum(self.part_sizes)
        self.is_ensemble = True

    def forward(
        self, x: Any, *args: Any, return_risk: bool = False, return_members: bool = False,
        parts: Sequence[int] | None = None, **kwargs: Any,
    ) -> Any:
        """Run every part; the members' mean, and optionally the risk or every member.

        Parameters
        ----------
        x : Tensor
            The input of every part.
        *args, **kwargs
            Passed on to every part.
        return_risk : bool, default=False
            Also return the aleatoric std of the mixture.
        return_members : bool, default=False
            Return every member's ``(mu_j, sigma_j)``, each ``(batch,
            n_members, out)``; implies the risk.
        parts : sequence of int, optional
            Run only these parts (indices into :attr:`parts`, in the order
            given): their members, their mixture. Training code uses it to
            leave out networks that have stopped; default: all.

        Returns
        -------
        y_hat : Tensor
            The mean over the members ``(batch, out)``, or ``mu_j`` with
            ``return_members``.
        y_risk : Tensor
            ``sqrt(mean_j sigma_j**2)``, or ``sigma_j`` with ``return_members``.
            Only returned when ``return_risk`` or ``return_members`` is True.
        """
        chosen = range(len(self.parts)) if parts is None else list(parts)
        if not chosen:
            raise ValueError("parts names no part of the pool; name at least one.")
        if not (return_risk or return_members):
            sizes = [self.part_sizes[i] for i in chosen]
            means = [self.parts[i](x, *args, **kwargs) for i in chosen]
            return sum(m * size for m, size in zip(means, sizes, strict=True)) / sum(sizes)
        members = [self.parts[i](x, *args, return_members=True, **kwargs) for i in chosen]
        mu = torch.cat([m for m, _ in members], dim=1)
        sigma = torch.cat([s for _, s in members], dim=1)
        if return_members:
            return mu, sigma
        return mu.mean(dim=1), aleatoric_std(sigma)

    def extra_repr(self) -> str:
        return f"part_sizes={self.part_sizes}"
