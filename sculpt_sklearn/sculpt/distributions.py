"""The registry of output families: each by its names, and the lookup by name or class.

Each family lives in a file of its own over the shared base
(:mod:`._base`): :mod:`.normal`, :mod:`.laplace`, :mod:`.studentt`,
:mod:`.lognormal` and :mod:`.gamma`. This module imports them (downwards only)
and maps the names ``SculptRegressor(distribution=...)`` accepts to them.
"""

from __future__ import annotations

import torch

from ._base import SculptDistribution
from .gamma import Gamma
from .laplace import Laplace
from .lognormal import LogNormal
from .normal import Normal
from .studentt import StudentT

__all__ = [
    "SculptDistribution",
    "Normal",
    "Laplace",
    "StudentT",
    "LogNormal",
    "Gamma",
    "get_distribution",
    "DISTRIBUTIONS",
]

DISTRIBUTIONS: dict[str, type[SculptDistribution]] = {
    "normal": Normal,
    "gaussian": Normal,
    "laplace": Laplace,
    "studentt": StudentT,
    "student_t": StudentT,
    "t": StudentT,
    "lognormal": LogNormal,
    "log_normal": LogNormal,
    "gamma": Gamma,
}

_FAMILY_NAMES = "'normal', 'laplace', 'studentt', 'lognormal', 'gamma'"
_FAMILY_CLASSES = (
    "sculpt.Normal, sculpt.Laplace, sculpt.StudentT, sculpt.LogNormal, sculpt.Gamma"
)


def get_distribution(distribution: str | type[SculptDistribution]) -> type[SculptDistribution]:
    """Resolve a distribution given as a sculpt class or by name.

    Parameters
    ----------
    distribution : str or SculptDistribution subclass
        ``"normal"``, ``"laplace"``, ``"studentt"``, ``"lognormal"``,
        ``"gamma"`` (case-insensitive), or one of the classes in
        :mod:`sculpt_sklearn.sculpt`.

    Returns
    -------
    type
        The distribution class.

    Raises
    ------
    ValueError
        For an unknown name or an object that is not a sculpt distribution.
    """
    if isinstance(distribution, str):
        key = distribution.strip().lower().replace("-", "_")
        if key in DISTRIBUTIONS:
            return DISTRIBUTIONS[key]
        raise ValueError(
            f"Unknown distribution {distribution!r}; choose one of "
            f"{_FAMILY_NAMES} (the last two for positive targets), or pass a class "
            "such as sculpt.Normal."
        )
    if isinstance(distribution, type) and issubclass(distribution, SculptDistribution):
        if distribution is SculptDistribution:
            raise ValueError(f"SculptDistribution is the abstract base; pass one of "
                             f"{_FAMILY_CLASSES}.")
        return distribution
    if isinstance(distribution, type) and issubclass(distribution, torch.distributions.Distribution):
        raise ValueError(
            f"{distribution.__name__} is a torch.distributions class; pass the sculpt "
            f"family instead ({_FAMILY_CLASSES}), which is "
            "parameterised by the mean and the standard deviation."
        )
    raise ValueError(
        f"distribution must be a sculpt distribution class ({_FAMILY_CLASSES}) "
        f"or its name as a string; got {distribution!r}."
    )
