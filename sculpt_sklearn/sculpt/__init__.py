"""The torch-level Sculpt API: wrap a model so that it also returns its risk.

Usable without scikit-learn::

    from sculpt_sklearn import sculpt
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(model)
    y_hat, y_risk = wrapped(x, return_risk=True)
    loss = sculpt.Normal.loss_function(y, y_hat, y_risk)

Risk is the predictive standard deviation, in the units of ``y``, for every
family. A model whose output layer is an ensemble layer (TabM and other
efficient ensembles, output ``(batch, k, out)``) gets one risk head per member;
``wrapped(x, return_members=True)`` gives the members' ``(mu_k, sigma_k)``, and
:func:`mixture_moments` / :func:`mixture_nll` turn them into the mixture's
aleatoric and epistemic parts and its exact NLL. :class:`Pool` puts several
wrapped models side by side as one ensemble (a deep ensemble).

For positive targets, :class:`LogNormal` and :class:`Gamma` keep the same
parameterisation (``y_hat`` the mean, ``y_risk`` the standard deviation); the
wrapper passes the model's output through the family's ``mean_link`` (softplus) so
that the mean is positive.
"""

from ._base import SculptDistribution
from .distributions import DISTRIBUTIONS, get_distribution
from .gamma import Gamma
from .laplace import Laplace
from .lognormal import LogNormal
from .mixture import mixture_moments, mixture_nll
from .normal import Normal
from .pool import Pool
from .studentt import StudentT
from .wrapper import EnsembleRiskHead, RiskHead, SculptModule, Wrapper

__all__ = [
    "Wrapper",
    "SculptModule",
    "RiskHead",
    "EnsembleRiskHead",
    "Pool",
    "mixture_moments",
    "mixture_nll",
    "SculptDistribution",
    "Normal",
    "Laplace",
    "StudentT",
    "LogNormal",
    "Gamma",
    "get_distribution",
    "DISTRIBUTIONS",
]
