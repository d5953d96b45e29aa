"""The Keras families by name, and :func:`get_distribution`."""

from __future__ import annotations

from typing import Any

from .distributions import Laplace, Normal, SculptDistribution
from .positive import Gamma, LogNormal
from .studentt import StudentT

__all__ = ["DISTRIBUTIONS", "family_config", "family_from_config", "get_distribution"]

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

_FAMILY_CLASSES = "Normal, Laplace, StudentT, LogNormal, Gamma"


def get_distribution(distribution: Any) -> type[SculptDistribution]:
    """Resolve a family given as a class of :mod:`sculpt_sklearn.keras` or by name.

    Parameters
    ----------
    distribution : str or SculptDistribution subclass
        ``"normal"``, ``"laplace"``, ``"studentt"``, ``"lognormal"``, ``"gamma"``
        (case-insensitive), or one of the classes, e.g. ``StudentT.with_df(3)``.

    Returns
    -------
    type
        The family.

    Raises
    ------
    ValueError
        For an unknown name, a torch family of :mod:`sculpt_sklearn.sculpt`, or an
        object that is not a family.
    """
    if isinstance(distribution, str):
        key = distribution.strip().lower().replace("-", "_")
        if key in DISTRIBUTIONS:
            return DISTRIBUTIONS[key]
        raise ValueError(
            f"Unknown distribution {distribution!r}; choose one of 'normal', 'laplace', "
            "'studentt', 'lognormal', 'gamma' (the last two for positive targets), or "
            "pass a class such as sculpt_sklearn.keras.Normal."
        )
    if isinstance(distribution, type) and issubclass(distribution, SculptDistribution):
        if distribution is SculptDistribution:
            raise ValueError(
                f"SculptDistribution is the abstract base; pass one of {_FAMILY_CLASSES}."
            )
        return distribution
    module = getattr(distribution, "__module__", "") or ""
    if isinstance(distribution, type) and module.startswith("sculpt_sklearn.sculpt"):
        name = getattr(distribution, "__qualname__", distribution.__name__)
        raise ValueError(
            f"{name} is a torch family of sculpt_sklearn.sculpt; a Keras model takes the "
            f"family of the same name from sculpt_sklearn.keras ({_FAMILY_CLASSES}), "
            "e.g. `from sculpt_sklearn import keras as sculpt; sculpt.Normal`."
        )
    raise ValueError(
        f"distribution must be a family of sculpt_sklearn.keras ({_FAMILY_CLASSES}) or "
        f"its name as a string; got {distribution!r}."
    )


def family_config(distribution: type[SculptDistribution]) -> dict[str, Any]:
    """A JSON-able description of a family (its name, and ``df`` for Student-t)."""
    config: dict[str, Any] = {"name": distribution.name}
    if issubclass(distribution, StudentT):
        config["df"] = float(distribution.df)
    return config


def family_from_config(config: dict[str, Any] | str) -> type[SculptDistribution]:
    """The family :func:`family_config` described."""
    if isinstance(config, str):
        return get_distribution(config)
    family = get_distribution(config["name"])
    if "df" in config:
        family = StudentT.with_df(config["df"])
    return family
