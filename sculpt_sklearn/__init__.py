"""sculpt-sklearn: scikit-learn regression that predicts its own risk.

``SculptRegressor`` wraps a PyTorch module through skorch, trains it with a
distribution loss and returns ``predict(X, return_risk=True) -> (mean, risk)``,
where the risk is the predictive standard deviation in the units of ``y``.
The torch-level API lives in :mod:`sculpt_sklearn.sculpt`.
"""

from . import datasets, sculpt
from .mlp import MLP
from .regressor import SculptRegressor

__version__ = "0.1.0.dev0"

__all__ = ["SculptRegressor", "MLP", "sculpt", "datasets", "__version__"]
