"""Early stopping of each network of a pool, on the validation rows it holds out.

Networks trained side by side (``n_networks > 1``) learn at different speeds.
One stopping rule for the pool would stop them all at a compromise epoch;
:class:`NetworkEarlyStopping` gives each its own, as if each were fitted
alone: after every epoch it scores each network on the rows that network
held out, keeps its best weights, and once a network has not improved for
``patience`` epochs, puts its best weights back and stops training it (the
net leaves it out of the training loss and the forward pass). Training ends
when every network has stopped.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import torch
from skorch.callbacks import Callback

from ._data import TensorData
from ._net import SculptNet, predictive_mean_std

__all__ = ["NetworkEarlyStopping", "TimeBudget", "network_losses"]


def network_losses(
    net: SculptNet, valid: TensorData, members: tuple[torch.Tensor, torch.Tensor]
) -> list[float]:
    """Each network's validation NLL: its own mixture, on the rows it scores.

    ``members`` is every member's ``(mu, sigma)`` on ``valid.X``. The rows a
    network scores are those its column of ``valid.networks`` marks (all
    rows when ``valid.networks`` is None): the weighted mean over them
    (``valid.sample_weight``); ``inf`` for a network with no such row (or
    only zero weights there).
    """
    mu, sigma = members
    family = net.module_.distribution
    losses = []
    start = 0
    for p, size in enumerate(net.module_.part_sizes):
        rows = slice(None) if valid.networks is None else valid.networks[:, p] > 0
        mean, total = predictive_mean_std(mu[rows, start:start + size],
                                          sigma[rows, start:start + size])
        nll = family.nll(valid.y[rows], mean, total).mean(dim=-1)  # per row
        if valid.sample_weight is not None:
            weight = valid.sample_weight[rows]
            total_weight = float(weight.sum())
            losses.append(float((weight * nll).sum()) / total_weight if total_weight > 0
                          else math.inf)
        else:
            losses.append(float(nll.mean()) if nll.numel() else math.inf)
        start += size
    return losses


class NetworkEarlyStopping(Callback):
    """Stop each network of a :class:`~sculpt_sklearn.sculpt.Pool` on its own.

    It reads the validation rows from skorch's own validation pass (the net's
    ``train_split``, e.g. :func:`skorch.helper.predefined_split`): the
    members' predictions of each validation batch, then ``dataset_valid`` at
    the end of the epoch.

    Parameters
    ----------
    patience : int
        Epochs without an improvement of a network's validation NLL by more
        than ``threshold`` after which it stops.
    threshold : float
        Smallest improvement that counts (absolute).

    Attributes
    ----------
    best_losses_, best_epochs_, misses_ : list
        Per network: its best validation NLL, the epoch of it (1-based, as in
        the net's history; 0 before any), and the epochs since.
    best_states_ : list of dict or None
        Per network: a copy of its weights at its best epoch, while training
        runs (None afterwards: the network holds them).
    all_stopped_ : bool
        Whether every network stopped (training then ends).

    Notes
    -----
    skorch records ``valid_loss`` (the NLL of every validation row under the
    networks that scored it: out of fold); this adds, per network,
    ``valid_loss_<p>``. ``train_loss`` is over the networks still training,
    so it steps when one stops. Neither the validation predictions nor the
    weight copies are pickled (:meth:`__getstate__`), so a model whose
    training ended early (a divergence, an interruption) carries no copy of
    the user's rows or of its weights in its pickle.
    """

    def __init__(self, patience: int, threshold: float) -> None:
        self.patience = patience
        self.threshold = threshold

    def initialize(self) -> NetworkEarlyStopping:
        self.best_losses_: list[float] = []
        self.best_epochs_: list[int] = []
        self.misses_: list[int] = []
        self.best_states_: list[dict[str, torch.Tensor] | None] = []
        self.all_stopped_ = False
        self._valid_predictions: list[tuple[torch.Tensor, torch.Tensor]] = []
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_valid_predictions"] = []
        state["best_states_"] = [None] * len(self.__dict__.get("best_states_", []))
        return state

    def on_train_begin(self, net: SculptNet, **kwargs: Any) -> None:
        n = len(net.module_.part_sizes)
        self.initialize()
        self.best_losses_ = [math.inf] * n
        self.best_epochs_ = [0] * n
        self.misses_ = [0] * n
        self.best_states_ = [None] * n
        net.training_networks = list(range(n))

    def on_batch_end(
        self, net: SculptNet, batch: Any = None, training: bool = False,
        y_pred: tuple[torch.Tensor, torch.Tensor] | None = None, **kwargs: Any,
    ) -> None:
        if not training:  # skorch's validation pass: every network's members, in order
            self._valid_predictions.append(y_pred)

    def on_epoch_end(
        self, net: SculptNet, dataset_valid: TensorData | None = None, **kwargs: Any
    ) -> None:
        if dataset_valid is None:
            raise RuntimeError(
                "NetworkEarlyStopping needs the validation rows of skorch's validation "
                "pass: give the net a train_split (e.g. skorch.helper.predefined_split)."
            )
        predictions, self._valid_predictions = self._valid_predictions, []
        members = tuple(torch.cat(part) for part in zip(*predictions, strict=True))
        losses = network_losses(net, dataset_valid, members)
        epoch = len(net.history)
        for p, loss in enumerate(losses):
            net.history.record(f"valid_loss_{p}", loss)
        for p in list(net.training_networks):
            if losses[p] < self.best_losses_[p] - self.threshold:
                self.best_losses_[p] = losses[p]
                self.best_epochs_[p] = epoch
                self.misses_[p] = 0
                self.best_states_[p] = copy.deepcopy(net.module_.parts[p].state_dict())
            elif math.isfinite(losses[p]):
                self.misses_[p] += 1
            if self.misses_[p] >= self.patience:
                self._restore(net, p)
                net.training_networks.remove(p)
        if not net.training_networks:
            self.all_stopped_ = True
            raise KeyboardInterrupt

    def on_train_end(self, net: SculptNet, **kwargs: Any) -> None:
        for p in net.training_networks or []:
            self._restore(net, p)
        net.training_networks = None
        # The weight copies do not belong in the fitted model (its pickle).
        self.best_states_ = [None] * len(self.best_states_)

    def restore_all(self, net: SculptNet) -> bool:
        """Put every network's best weights back (and drop the copies).

        Returns False, restoring nothing, if a network has none yet.
        """
        if any(state is None for state in self.best_states_):
            return False
        for p in range(len(self.best_states_)):
            self._restore(net, p)
        self.best_states_ = [None] * len(self.best_states_)
        return True

    @property
    def best_epoch_(self) -> int:
        """The latest of the networks' best epochs (0 before any)."""
        return max(self.best_epochs_, default=0)

    def _restore(self, net: SculptNet, p: int) -> None:
        if self.best_states_[p] is not None:
            net.module_.parts[p].load_state_dict(self.best_states_[p])


class TimeBudget(Callback):
    """Stop training once ``seconds`` of it have passed (``max_time``).

    Checked after every training batch, so one call of training runs at most
    one batch past the budget. It stops training as a user interruption would
    (skorch then runs ``on_train_end``: early stopping puts its best weights
    back), and the net knows it was the budget (:attr:`exhausted_`), not the
    user.

    Parameters
    ----------
    seconds : float
        Wall-clock seconds of training (from the start of the epochs; input
        encoding and building the net are not counted).

    Attributes
    ----------
    exhausted_ : bool
        Whether the last call of training ran out of time.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def initialize(self) -> TimeBudget:
        self.exhausted_ = False
        self._start = time.perf_counter()
        return self

    def on_train_begin(self, net: SculptNet, **kwargs: Any) -> None:
        self.initialize()

    def on_batch_end(self, net: SculptNet, training: bool = False, **kwargs: Any) -> None:
        if training and time.perf_counter() - self._start >= self.seconds:
            self.exhausted_ = True
            raise KeyboardInterrupt
