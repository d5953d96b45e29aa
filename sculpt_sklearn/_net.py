"""The skorch ``NeuralNet`` subclass that trains a :class:`SculptModule`.

It overrides skorch's override points only: ``infer`` (ask the module for
its risk), ``get_loss`` (the sculpt objective; the NLL when not training, so
``valid_loss`` is the validation NLL), and ``get_dataset``/``get_iterator``
(slice pre-built tensors instead of collating rows).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from torch import Tensor

from ._data import BatchIterator, TensorData
from ._objectives import objective_loss
from .sculpt.mixture import mixture_moments

__all__ = ["SculptNet", "DivergenceGuard", "TrainingDiverged", "batch_mean", "predictive_mean_std"]


def batch_mean(values: Tensor, weight: Tensor | None) -> Tensor:
    """Mean loss of a batch, rows weighted by ``weight``.

    The one weighting convention of the package: a loss over a set of rows is
    the weighted mean ``sum(w * loss) / sum(w)`` of that set
    (``Distribution.loss_function``). The estimator normalises the weights of
    the training rows and of the validation rows to mean one, each set on its
    own (:func:`sculpt_sklearn._training.normalise_weights`), and a batch then
    divides by its number of rows rather than by its weight sum: each step is
    an unbiased estimate of the training set's weighted mean, a batch of
    zero-weight rows is a zero step, and skorch's size-weighted average of the
    batch losses over a pass is exactly the weighted mean of the set.
    """
    if weight is None:
        return values.mean()
    return (values * weight.reshape(-1, *([1] * (values.ndim - 1)))).mean()


def predictive_mean_std(
    mu_k: Tensor, sigma_k: Tensor, member_weight: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The moment-matched predictive distribution: the mixture's mean and total std.

    ``total**2 = aleatoric**2 + epistemic**2`` over the members (axis 1),
    mixed in proportion to ``member_weight`` (``(n, k, 1)``; equal weights when
    None); this is what the validation loss, the risk calibration and
    ``predict_dist`` use.
    """
    mean, aleatoric, epistemic = mixture_moments(mu_k, sigma_k, weights=member_weight)
    return mean, (aleatoric.square() + epistemic.square()).sqrt()


class TrainingDiverged(FloatingPointError):
    """Raised inside the training loop when the loss stops being finite."""

    def __init__(self, epoch: int, name: str) -> None:
        super().__init__(f"{name} became non-finite at epoch {epoch}")
        self.epoch = epoch
        self.name = name


class DivergenceGuard(Callback):
    """Stop training the epoch a loss stops being finite."""

    def on_epoch_end(self, net: NeuralNet, **kwargs: Any) -> None:
        row = net.history[-1]
        for name in ("train_loss", "valid_loss"):
            value = row.get(name)
            if value is not None and not math.isfinite(value):
                raise TrainingDiverged(len(net.history), name)


class SculptNet(NeuralNet):
    """A skorch net whose module returns ``(mean, std)`` and trains on a sculpt loss.

    Parameters
    ----------
    module : SculptModule
        The wrapped module (an instance).
    sculpt_loss : str
        The training objective (see :mod:`sculpt_sklearn._objectives`).
    beta : float
        Exponent of ``beta_nll``.
    criterion_weight : float
        Weight of the base criterion on the mean, added to the objective
        (the seed's training mode A).
    max_grad_norm : float or None
        Clip the gradient norm to this value when set.
    generator : torch.Generator
        Source of the batch permutations.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    #: The networks of a pool that still train (indices), set by the per-network early
    #: stopping while it runs; None: every network (and any module that is no pool).
    training_networks: list[int] | None = None

    def __init__(
        self,
        module: Any,
        criterion: Any,
        *,
        sculpt_loss: str = "nll",
        beta: float = 0.5,
        criterion_weight: float = 0.0,
        max_grad_norm: float | None = None,
        generator: torch.Generator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(module, criterion, **kwargs)
        self.sculpt_loss = sculpt_loss
        self.beta = beta
        self.criterion_weight = criterion_weight
        self.max_grad_norm = max_grad_norm
        self.generator = generator

    def __getstate__(self) -> dict[str, Any]:
        # `module` and `module_` are one object here; skorch maps only `module_`
        # (a CUDA-dependent attribute) to the CPU when a GPU pickle is loaded on a
        # CPU-only machine, so store the module once, as `module_`.
        state = super().__getstate__()
        if state.get("module") is self.__dict__.get("module_"):
            state["module"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if self.module is None:
            self.module = self.module_

    def get_default_callbacks(self) -> list[tuple[str, Any]]:
        # skorch's PrintLog formats a table every epoch even when nothing is
        # printed; leave it out at verbose=0.
        callbacks = super().get_default_callbacks()
        if not self.verbose:
            callbacks = [(name, cb) for name, cb in callbacks if name != "print_log"]
        return callbacks

    def _set_training(self, training: bool = True) -> None:
        # skorch calls this before every batch and it walks every submodule;
        # switch only when the mode changes.
        if (self.module_.training != training
                or getattr(self.criterion_, "training", training) != training):
            super()._set_training(training)

    def fit_loop(self, X: Any, y: Any = None, epochs: int | None = None, **fit_params: Any) -> Any:
        # skorch ends training on KeyboardInterrupt and keeps the weights; record
        # whether it came from the user rather than from EarlyStopping.
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not self._stopped_early()
            raise

    def _stopped_early(self) -> bool:
        for _, cb in self.callbacks_:
            if isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience:
                return True
            if getattr(cb, "all_stopped_", False):  # NetworkEarlyStopping
                return True
            if getattr(cb, "exhausted_", False):  # TimeBudget
                return True
        return False

    def get_dataset(self, X: Any, y: Any = None) -> TensorData:
        if not isinstance(X, TensorData):
            raise TypeError("SculptNet trains on TensorData built by SculptRegressor.")
        return X

    def get_iterator(self, dataset: TensorData, training: bool = False) -> BatchIterator:
        batch_size = self.batch_size if self.batch_size > 0 else len(dataset)
        return BatchIterator(dataset, batch_size, shuffle=training, generator=self.generator)

    def infer(self, x: Tensor, **fit_params: Any) -> tuple[Tensor, Tensor]:
        """Every member's mean and std, each ``(n, k, n_outputs)`` (``k = 1``: a plain model).

        In training mode, a pool runs only the networks in
        :attr:`training_networks` (those that have not stopped), when set.
        """
        if self.training_networks is not None and self.module_.training:
            fit_params = {**fit_params, "parts": self.training_networks}
        mu, sigma = self.module_(x, return_members=True, **fit_params)
        n, k = mu.shape[0], mu.shape[1]
        return mu.reshape(n, k, -1), sigma.reshape(n, k, -1)

    def member_weights(
        self, networks: Tensor | None, parts: list[int] | None = None
    ) -> Tensor | None:
        """Per-network weights ``(n, n_networks)`` as per-member ones ``(n, k, 1)``.

        A pool's members are its networks' members in order
        (:attr:`sculpt.Pool.part_sizes`); with ``parts``, only those networks'
        columns and members (the ones still training). None stays None (every
        member alike).
        """
        if networks is None:
            return None
        sizes = getattr(self.module_, "part_sizes", None)
        if sizes is None or len(sizes) != networks.shape[1]:
            raise RuntimeError(
                f"Rows are weighted for {networks.shape[1]} networks, but the module is "
                f"not a pool of that many (part_sizes={sizes})."
            )
        if parts is not None:
            sizes = [sizes[i] for i in parts]
            networks = networks[:, parts]
        counts = torch.as_tensor(sizes, device=networks.device)
        return torch.repeat_interleave(networks, counts, dim=1).unsqueeze(-1)

    def get_loss(
        self,
        y_pred: tuple[Tensor, Tensor],
        y_true: tuple[Tensor, Tensor | None, Tensor | None],
        X: Any = None,
        training: bool = False,
    ) -> Tensor:
        """The objective in training (each member on its own loss, averaged over members);
        out of training the NLL of the predictive distribution, the family with the
        mixture's mean and total std (moment matching), as ``predict`` reports it.

        With networks trained side by side (``y_true[2]``, see
        :class:`~sculpt_sklearn._data.TensorData`), a member's training loss on a
        row is weighted by its network's weight for the row (0 where the network
        holds the row out), networks that have stopped (not in
        :attr:`training_networks`) have no loss, and a validation row is scored by
        the mixture of the networks that held it out only.
        """
        mu_k, sigma_k = y_pred
        y, weight, networks = y_true
        distribution = self.module_.distribution
        if not training:
            mean, total = predictive_mean_std(mu_k, sigma_k, self.member_weights(networks))
            return batch_mean(distribution.nll(y, mean, total), weight)
        members = self.member_weights(networks, self.training_networks)
        y_k = y.unsqueeze(1).expand_as(mu_k)
        per_member = objective_loss(
            self.sculpt_loss, distribution, y_k, mu_k, sigma_k, beta=self.beta,
            criterion=self._criterion,
        )
        if self.criterion_weight:
            per_member = per_member + self.criterion_weight * self._criterion(mu_k, y_k)
        if members is not None:
            per_member = per_member * members
        return batch_mean(per_member, weight)

    def _criterion(self, prediction: Tensor, target: Tensor) -> Tensor:
        """The base criterion, element-wise (row weights apply to its output)."""
        out = self.criterion_(prediction, target)
        if out.shape != target.shape:
            raise ValueError(
                f"The criterion {type(self.criterion_).__name__} returned shape "
                f"{tuple(out.shape)} for targets of shape {tuple(target.shape)}: it must give "
                "one loss per element (reduction='none') so that sample_weight applies. "
                "Pass a criterion class, or an instance whose forward returns element-wise "
                "losses."
            )
        return out

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        step = super().train_step_single(batch, **fit_params)
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.module_.parameters(), self.max_grad_norm)
        return step
