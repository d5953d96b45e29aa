"""The torch-level Sculpt API: wrap a model so that it also returns its risk.

Usable without scikit-learn::

    from sculpt_sklearn import sculpt
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(model)
    y_hat, y_risk = wrapped(x, return_risk=True)
    loss = sculpt.Normal.loss_function(y, y_hat, y_risk)

Risk is the predictive standard deviation, in the units of ``y``, for every
family.
"""

from .distributions import (
    DISTRIBUTIONS,
    Laplace,
    Normal,
    SculptDistribution,
    StudentT,
    get_distribution,
)
from .wrapper import RiskHead, SculptModule, Wrapper

__all__ = [
    "Wrapper",
    "SculptModule",
    "RiskHead",
    "SculptDistribution",
    "Normal",
    "Laplace",
    "StudentT",
    "get_distribution",
    "DISTRIBUTIONS",
]
