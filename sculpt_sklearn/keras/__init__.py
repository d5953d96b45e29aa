"""The Sculpt wrapper for Keras 3 models (TensorFlow, JAX or PyTorch backend).

The same surface as :mod:`sculpt_sklearn.sculpt`, written with ``keras.ops`` and
``keras.random`` only::

    from sculpt_sklearn import keras as sculpt
    wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(keras_model)
    y_hat, y_risk = wrapped(x, return_risk=True)       # risk: std in y's units
    loss = original_loss(y, y_hat) + sculpt.Normal.loss_function(y, y_hat, y_risk)
    y_sampled = sculpt.Normal.sample((y_hat, y_risk), seed=0)

    wrapped.compile(optimizer="adam", loss="mse", metrics=[sculpt.NLL()])
    wrapped.fit(x, y)                                  # the distribution loss is added

Needs ``keras>=3`` (``pip install sculpt-sklearn[keras]``) and one backend;
``import sculpt_sklearn`` never imports this module.
"""

from __future__ import annotations

try:
    import keras as _keras
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sculpt_sklearn.keras needs Keras 3: pip install 'sculpt-sklearn[keras]' (and a "
        "backend: tensorflow, jax, or torch with KERAS_BACKEND=torch)."
    ) from exc

if int(_keras.__version__.split(".")[0]) < 3:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"sculpt_sklearn.keras needs Keras 3 (keras.ops); Keras {_keras.__version__} is "
        "installed: pip install 'keras>=3'."
    )

from .distributions import Laplace, Normal, SculptDistribution
from .heads import RiskHead
from .metrics import NLL, Coverage, RiskMetric
from .model import SculptModel
from .positive import Gamma, LogNormal
from .registry import DISTRIBUTIONS, get_distribution
from .studentt import StudentT
from .wrapper import Wrapper

__all__ = [
    "DISTRIBUTIONS",
    "NLL",
    "Coverage",
    "Gamma",
    "Laplace",
    "LogNormal",
    "Normal",
    "RiskHead",
    "RiskMetric",
    "SculptDistribution",
    "SculptModel",
    "StudentT",
    "Wrapper",
    "get_distribution",
]
