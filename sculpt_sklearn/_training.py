"""One call of training: the validation split, the epochs, divergence, risk calibration.

The functions here act on a net and return what the estimator records; the
estimator decides when to call them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._data import TensorData, as_tensor
from ._device import rng_devices
from ._net import SculptNet, TrainingDiverged, predictive_mean_std
from ._risk_scale import MIN_SHAPE_ROWS, choose_shape_and_scale, fit_risk_scale_rows
from ._stopping import NetworkEarlyStopping
from ._tensor import evaluating
from .sculpt.distributions import SculptDistribution

__all__ = ["TrainingOutcome", "draw_seed", "fit_calibration", "given_validation", "held_epoch",
           "network_weights", "normalise_weights", "restore_after_divergence",
           "split_validation", "stream_weight_unit", "train_net", "training_and_validation"]

#: Fewest held-out rows with non-zero weight on which calibrate_risk fits its factor.
MIN_CALIBRATION_ROWS = 20


def draw_seed(random_state: Any) -> int:
    """One seed from ``random_state`` (an int gives the same seed every time)."""
    return int(check_random_state(random_state).randint(2**31 - 1))


class TrainingOutcome(NamedTuple):
    """What one call of :func:`train_net` did."""

    #: Epochs trained in this call.
    epochs: int
    #: The epoch (1-based, numbered as in the net's history) whose weights the net holds.
    best_epoch: int
    #: Whether the user interrupted it (KeyboardInterrupt), not early stopping.
    interrupted: bool
    #: Whether it stopped because ``max_time`` ran out.
    out_of_time: bool


def train_net(
    net: SculptNet, train: TensorData, valid: TensorData | None, *, epochs: int,
    stop_early: bool, seed: int, device: Any,
) -> TrainingOutcome:
    """Train ``net`` for up to ``epochs`` epochs, seeded, and restore after a divergence.

    With ``stop_early`` the validation rows are skorch's validation set
    (:func:`skorch.helper.predefined_split`) for the early-stopping callback;
    the split is removed afterwards, so the fitted net holds no rows. torch's
    global random state is left as it was; the seed drives dropout and the
    batch order.
    """
    epochs_before = len(net.history)
    net.interrupted_ = False
    restored = None
    net.train_split = predefined_split(valid) if stop_early and valid is not None else None
    try:
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(int(seed))
            net.generator.manual_seed(int(seed))
            net.partial_fit(train, epochs=epochs)
    except TrainingDiverged as exc:
        restored = restore_after_divergence(net, exc)
    finally:
        net.train_split = None
    budget = dict(net.callbacks_).get("time_budget")
    return TrainingOutcome(len(net.history) - epochs_before, held_epoch(net, restored),
                           net.interrupted_, bool(getattr(budget, "exhausted_", False)))


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


def given_validation(
    X: np.ndarray, z: np.ndarray, weight: np.ndarray | None, device: Any, *,
    early_stopping: bool, calibrate_risk: bool,
) -> TensorData | None:
    """The validation rows passed to ``fit`` (encoded, target standardised), or None.

    Their weights are normalised to mean one on their own, as those of a
    random split. ``None`` (with a UserWarning) when this call would use them
    for nothing: neither early stopping nor the risk calibration, or only the
    calibration and too few rows for it (:data:`MIN_CALIBRATION_ROWS`).
    """
    n_used = len(z) if weight is None else int(np.count_nonzero(weight))
    if not early_stopping and not calibrate_risk:
        warnings.warn(
            "X_val and y_val were passed to fit, but early_stopping=False and "
            "calibrate_risk=False, so they are not used; set early_stopping=True to stop "
            "on them or calibrate_risk=True to calibrate the risk on them.",
            UserWarning, stacklevel=5,
        )
        return None
    if calibrate_risk and n_used < MIN_CALIBRATION_ROWS:
        use = "early stopping only" if early_stopping else "nothing"
        warnings.warn(
            f"calibrate_risk needs at least {MIN_CALIBRATION_ROWS} validation rows with "
            f"non-zero weight, but X_val has {n_used}; the risk is not calibrated "
            f"(risk_scale_ is 1) and X_val is used for {use}. Pass more validation rows.",
            UserWarning, stacklevel=5,
        )
        if not early_stopping:
            return None
    w = None if weight is None else as_tensor(weight, torch.float32, device)
    valid = TensorData(as_tensor(X, torch.float32, device), as_tensor(z, torch.float32, device),
                       w)
    valid.sample_weight = normalise_weights(valid.sample_weight, "X_val")
    return valid


def split_validation(
    data: TensorData, fraction: float, seed: int, n_networks: int = 1
) -> tuple[TensorData, TensorData]:
    """Hold out ``ceil(fraction * n)`` rows at random (seeded); weights renormalised per part.

    With ``n_networks > 1`` each network holds out its own rows, disjoint
    from the others' as far as the rows allow (consecutive blocks of one
    seeded permutation, wrapping around when ``n_networks`` blocks are more
    than the rows): the training set is every row some network trains on,
    with each network's weight per row in ``networks`` (0 on its own
    hold-out, and normalised so that every network's weights, times the row
    weights, have mean one over the set); the validation set is every
    held-out row, with ``networks`` marking which networks held it out and
    score it.
    """
    n = len(data)
    n_valid = math.ceil(fraction * n)
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of {n} rows, which "
            "leaves no training or validation rows; pass more rows or set "
            "early_stopping=False."
        )
    if n_networks == 1:
        idx_train, idx_valid = train_test_split(np.arange(n), test_size=n_valid,
                                                random_state=seed)
        held = None
    else:
        order = np.random.RandomState(seed).permutation(n)
        held = np.zeros((n, n_networks), dtype=bool)
        for p in range(n_networks):
            held[order[(p * n_valid + np.arange(n_valid)) % n], p] = True
        idx_train = np.flatnonzero(~held.all(axis=1))
        idx_valid = np.flatnonzero(held.any(axis=1))
    device = data.X.device
    train = data.subset(torch.as_tensor(idx_train, device=device))
    valid = data.subset(torch.as_tensor(idx_valid, device=device))
    train.sample_weight = normalise_weights(train.sample_weight, "training")
    valid.sample_weight = normalise_weights(valid.sample_weight, "validation")
    if held is not None:
        train.networks = network_weights(~held[idx_train], train.sample_weight, device)
        valid.networks = torch.as_tensor(held[idx_valid], dtype=torch.float32, device=device)
        if valid.sample_weight is not None:
            p = _network_without_weight(valid.networks * valid.sample_weight[:, None])
            if p is not None:
                raise ValueError(
                    f"Every validation row of network {p} has sample_weight 0, so it cannot "
                    "stop early; give more rows a positive weight, set n_networks=1 or "
                    "early_stopping=False."
                )
    return train, valid


def network_weights(
    trains: np.ndarray, sample_weight: torch.Tensor | None, device: Any
) -> torch.Tensor:
    """Each network's weight per training row, ``(n, n_networks)``.

    ``trains[i, p]`` says whether network ``p`` trains on row ``i``; its
    column is scaled so that, times the row weights, its mean over the rows
    is one: each network's batch loss then estimates the weighted mean loss
    over its own rows (:func:`normalise_weights`).
    """
    weight = torch.as_tensor(trains, dtype=torch.float32, device=device)
    rows = weight if sample_weight is None else weight * sample_weight[:, None]
    p = _network_without_weight(rows)
    if p is not None:
        raise ValueError(
            f"Every row network {p} trains on has sample_weight 0, so it has nothing to "
            "fit on; give more rows a positive weight, or set n_networks=1."
        )
    return weight * (len(weight) / rows.sum(dim=0))


def _network_without_weight(rows: torch.Tensor) -> int | None:
    """The first network (column of ``rows``, weights per row) whose weights are all 0."""
    empty = (rows.sum(dim=0) > 0).logical_not().nonzero()
    return int(empty[0, 0]) if len(empty) else None


def training_and_validation(
    data: TensorData, valid: TensorData | None, *, early_stopping: bool, fraction: float,
    seed: int, n_networks: int = 1,
) -> tuple[TensorData, TensorData | None]:
    """The rows of one call of ``fit``: ``(train, valid)``.

    The validation rows given to ``fit`` (``valid``, from
    :func:`given_validation`) leave every row of ``data`` to training;
    otherwise early stopping holds out a random ``fraction``
    (:func:`split_validation`; one per network), and without it nothing is
    held out. The training weights are normalised to mean one in every case.
    Networks trained side by side share the given validation rows, or, with
    nothing held out, train on every row: they then differ by their initial
    weights alone.
    """
    if valid is None and early_stopping:
        return split_validation(data, fraction, seed, n_networks)
    data.sample_weight = normalise_weights(data.sample_weight, "training")
    return data, valid


def stream_weight_unit(weight: torch.Tensor | None) -> float:
    """The first ``partial_fit`` chunk's mean weight: the unit of the whole stream.

    Every later chunk's weights are divided by it, so a chunk weighted 100
    counts 100 times one weighted 1 (1 when the first chunk has no weights).
    """
    if weight is None:
        return 1.0
    total = float(weight.sum())
    if not total > 0:
        raise ValueError(
            "The first partial_fit chunk has sample_weight 0 on every row; its "
            "mean weight is the unit of the whole stream, so give some rows a "
            "positive weight."
        )
    return total / len(weight)


def early_stopper(net: SculptNet) -> EarlyStopping | NetworkEarlyStopping | None:
    """The net's early-stopping callback (one for the pool of networks), if any."""
    for name, cb in net.callbacks_:
        if name == "early_stopping" and isinstance(cb, (EarlyStopping, NetworkEarlyStopping)):
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
    net.training_networks = None
    advice = (
        "Likely causes: a learning rate too high for this data, unscaled inputs "
        "(put a StandardScaler before the estimator) or extreme outliers in y. "
        "Lower lr, set max_grad_norm=1.0, or use loss='beta_nll'."
    )
    if isinstance(stopper, NetworkEarlyStopping):
        restored = stopper.restore_all(net)
    else:
        best = getattr(stopper, "best_model_weights_", None) if stopper else None
        if best is not None:
            net.module_.load_state_dict(best)
        restored = best is not None
    if not restored:
        raise ValueError(
            f"Training diverged: the {exc.name} became NaN or infinite at epoch "
            f"{exc.epoch}. {advice}"
        ) from exc
    net.initialize_optimizer()
    warnings.warn(
        f"Training diverged at epoch {exc.epoch} ({exc.name} became non-finite); the "
        f"best weights seen before (epoch {stopper.best_epoch_}) were restored and the "
        f"optimizer was reset. {advice}",
        RuntimeWarning,
        stacklevel=5,
    )
    return int(stopper.best_epoch_)


def held_epoch(net: SculptNet, restored: int | None) -> int:
    """The epoch of ``net.history`` (1-based) whose weights the module holds now.

    ``restored`` is the epoch :func:`restore_after_divergence` loaded, if any;
    else early stopping's best epoch (its weights are loaded at the end of
    training), else the last epoch.
    """
    if restored is not None:
        return restored
    stopper = early_stopper(net)
    if stopper is not None and getattr(stopper, "best_epoch_", 0) > 0:
        return int(stopper.best_epoch_)
    return len(net.history)


def fit_calibration(
    net: SculptNet, valid: TensorData, distribution: type[SculptDistribution], n_outputs: int,
    *, choose_shape: bool = False,
) -> tuple[np.ndarray, type[SculptDistribution]]:
    """The factor of the total std on the held-out rows, and the predictive family.

    The factor is the maximum-likelihood one (ones if fewer than
    :data:`MIN_CALIBRATION_ROWS` rows with non-zero weight). With
    ``choose_shape`` (the built-in model's ``distribution="auto"``) and at
    least :data:`~sculpt_sklearn._risk_scale.MIN_SHAPE_ROWS` such rows, the
    Student-t's degrees of freedom (or the Normal) are chosen with it, by the
    rows' likelihood (:func:`~sculpt_sklearn._risk_scale.choose_shape_and_scale`);
    else the family is ``distribution``.

    Networks trained side by side are scored on the rows each held out, by
    their own mixture (out of fold), as the validation loss scores them. The
    estimator scales the aleatoric and the epistemic part by the factor alike,
    so the total is scaled by it and the law of total variance still holds.
    """
    weight = None if valid.sample_weight is None else valid.sample_weight.double().cpu().numpy()
    n_used = len(valid) if weight is None else int(np.count_nonzero(weight))
    if n_used < MIN_CALIBRATION_ROWS:
        return np.ones(n_outputs), distribution
    with evaluating(net.module_):
        mean, std = predictive_mean_std(*net.infer(valid.X), net.member_weights(valid.networks))
    y, mean, std = (t.double().cpu().numpy() for t in (valid.y, mean, std))
    if choose_shape and n_used >= MIN_SHAPE_ROWS:
        family, factor = choose_shape_and_scale(y, mean, std, weight)
        return factor, family
    return fit_risk_scale_rows(y, mean, std, weight, distribution), distribution
