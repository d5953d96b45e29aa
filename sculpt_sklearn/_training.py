"""One call of training: the validation split, the epochs, divergence, risk calibration.

The functions here act on a fitted estimator's net (``est.net_``) and return
what the estimator records; the estimator decides when to call them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.callbacks import EarlyStopping

from ._data import TensorData
from ._net import SculptNet, TrainingDiverged, predictive_mean_std
from ._risk_scale import fit_risk_scale_rows
from .sculpt.distributions import SculptDistribution

__all__ = ["HoldOut", "fit_calibration_factor", "normalise_weights", "restore_after_divergence",
           "split_validation"]

#: Fewest held-out rows with non-zero weight on which calibrate_risk fits its factor.
MIN_CALIBRATION_ROWS = 20


class HoldOut:
    """skorch ``train_split`` that returns a fixed validation set."""

    def __init__(self, valid: TensorData) -> None:
        self.valid = valid

    def __call__(self, dataset: TensorData, y: Any = None, **fit_params: Any) -> tuple:
        return dataset, self.valid


def normalise_weights(weight: torch.Tensor | None, what: str) -> torch.Tensor | None:
    """Weights divided by their mean, so each batch loss estimates the weighted mean.

    The training loss of a batch is ``mean(w * loss)`` over its rows
    (:func:`sculpt_sklearn._net.batch_mean`); with weights of mean one over
    the set, its expectation is the weighted mean ``sum(w * loss) / sum(w)``
    of the whole set, the quantity ``Distribution.loss_function`` reports.
    """
    if weight is None:
        return None
    total = float(weight.sum())
    if not total > 0:
        raise ValueError(
            f"Every {what} row has sample_weight 0, so there is nothing to fit on; give "
            "some of these rows a positive weight"
            + (" or set early_stopping=False." if what == "validation" else ".")
        )
    return weight * (len(weight) / total)


def split_validation(
    data: TensorData, fraction: float, seed: int
) -> tuple[TensorData, TensorData]:
    """Hold out ``ceil(fraction * n)`` rows at random (seeded); weights renormalised per part."""
    n = len(data)
    n_valid = math.ceil(fraction * n)
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of {n} rows, which "
            "leaves no training or validation rows; pass more rows or set "
            "early_stopping=False."
        )
    idx_train, idx_valid = train_test_split(np.arange(n), test_size=n_valid, random_state=seed)
    train = data.subset(torch.as_tensor(idx_train, device=data.X.device))
    valid = data.subset(torch.as_tensor(idx_valid, device=data.X.device))
    train.sample_weight = normalise_weights(train.sample_weight, "training")
    valid.sample_weight = normalise_weights(valid.sample_weight, "validation")
    return train, valid


def early_stopper(net: SculptNet) -> EarlyStopping | None:
    """The net's early-stopping callback, if this call of fit uses one."""
    for name, cb in net.callbacks_:
        if name == "early_stopping" and isinstance(cb, EarlyStopping):
            return cb
    return None


def restore_after_divergence(net: SculptNet, exc: TrainingDiverged) -> int:
    """Restore the best weights seen before a divergence and reset the optimizer.

    The optimizer's running moments hold the non-finite gradients by then, so
    they are rebuilt from scratch: a later ``partial_fit`` starts clean.

    Returns
    -------
    int
        The epoch whose weights were restored.

    Raises
    ------
    ValueError
        When no earlier weights were kept (no early stopping).
    """
    stopper = early_stopper(net)
    best = getattr(stopper, "best_model_weights_", None) if stopper else None
    advice = (
        "Likely causes: a learning rate too high for this data, unscaled inputs "
        "(put a StandardScaler before the estimator) or extreme outliers in y. "
        "Lower lr, set max_grad_norm=1.0, or use loss='beta_nll'."
    )
    if best is None:
        raise ValueError(
            f"Training diverged: the {exc.name} became NaN or infinite at epoch "
            f"{exc.epoch}. {advice}"
        ) from exc
    net.module_.load_state_dict(best)
    net.initialize_optimizer()
    warnings.warn(
        f"Training diverged at epoch {exc.epoch} ({exc.name} became non-finite); the "
        f"best weights seen before (epoch {stopper.best_epoch_}) were restored and the "
        f"optimizer was reset. {advice}",
        RuntimeWarning,
        stacklevel=5,
    )
    return int(stopper.best_epoch_)


def fit_calibration_factor(
    net: SculptNet, valid: TensorData, distribution: type[SculptDistribution], n_outputs: int
) -> np.ndarray:
    """Maximum-likelihood factor of the total std on the held-out rows (ones if too few).

    The estimator scales the aleatoric and the epistemic part by it alike, so
    the total is scaled by it and the law of total variance still holds.
    """
    weight = None if valid.sample_weight is None else valid.sample_weight.double().cpu().numpy()
    n_used = len(valid) if weight is None else int(np.count_nonzero(weight))
    if n_used < MIN_CALIBRATION_ROWS:
        return np.ones(n_outputs)
    module = net.module_
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            mean, std = predictive_mean_std(*net.infer(valid.X))
    finally:
        module.train(was_training)
    y, mean, std = (t.double().cpu().numpy() for t in (valid.y, mean, std))
    return fit_risk_scale_rows(y, mean, std, weight, distribution)
