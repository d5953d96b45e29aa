"""sculpt-sklearn: scikit-learn regression that predicts its own risk.

``SculptRegressor`` wraps a PyTorch module through skorch, trains it with a
distribution loss and returns ``predict(X, return_risk=True) -> (mean, risk)``,
where the risk is the predictive standard deviation in the units of ``y``.
The torch-level API lives in :mod:`sculpt_sklearn.sculpt`; the same surface for
Keras 3 models in :mod:`sculpt_sklearn.keras` (the ``keras`` extra).

Only the torch-level layer is imported eagerly: ``from sculpt_sklearn import
sculpt`` needs neither scikit-learn nor skorch. The other names load on first
use; ``sculpt_sklearn.keras`` (which needs Keras) only when it is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import sculpt

__version__ = "0.1.0.dev0"

#: Public name -> the submodule that defines it (None: the name is a submodule).
_LAZY: dict[str, str | None] = {
    "SculptRegressor": "regressor",
    "MLP": "models",
    "TabMModule": "models",
    "RecalibratedRegressor": "calibration",
    "datasets": None,
    "metrics": None,
    "calibration": None,
    "plotting": None,
    "models": None,
    "pipeline": None,
    # Not in __all__: ``from sculpt_sklearn import *`` must not need Keras.
    "keras": None,
}

__all__ = ["SculptRegressor", "RecalibratedRegressor", "MLP", "TabMModule", "sculpt", "datasets", "metrics", "calibration",
           "plotting", "pipeline", "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name = _LAZY[name]
    if module_name is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
