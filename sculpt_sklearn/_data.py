"""Tensors built once per fit, and the batches sliced from them.

skorch's default path builds a ``Dataset`` and a ``DataLoader`` that index
one row at a time and collate; on small tabular models that costs more than
the training step itself. Here the whole training set is one tensor on the
training device and a batch is an index slice of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ._tensor import as_tensor

__all__ = ["TensorData", "BatchIterator", "as_tensor"]


class TensorData(Dataset):
    """Features, targets, optional row weights and network weights, of equal length.

    Parameters
    ----------
    X : Tensor of shape (n, n_features)
    y : Tensor of shape (n, n_outputs)
    sample_weight : Tensor of shape (n,), optional
        Row weights.
    networks : Tensor of shape (n, n_networks), optional
        For a pool of networks trained side by side (``n_networks > 1``):
        in a training set, the weight of each row in each network's loss (0
        where the network holds the row out); in a validation set, which
        networks score each row (1) and which trained on it (0). None: every
        network trains on (or scores) every row.

    A batch is ``(X, (y, sample_weight, networks))``.
    """

    def __init__(
        self, X: Tensor, y: Tensor, sample_weight: Tensor | None = None,
        networks: Tensor | None = None,
    ) -> None:
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.networks = networks

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(
        self, index: int | slice | Tensor
    ) -> tuple[Tensor, tuple[Tensor, Tensor | None, Tensor | None]]:
        w = None if self.sample_weight is None else self.sample_weight[index]
        nets = None if self.networks is None else self.networks[index]
        return self.X[index], (self.y[index], w, nets)

    def subset(self, index: Tensor) -> TensorData:
        """The rows at ``index``, as a new :class:`TensorData`."""
        X, (y, w, nets) = self[index]
        return TensorData(X, y, w, nets)


class BatchIterator:
    """Iterate over a :class:`TensorData` in batches of index slices.

    Each pass draws a new permutation from its own generator when
    ``shuffle`` is true, so training is reproducible without touching the
    global random state.

    Parameters
    ----------
    data : TensorData
    batch_size : int
    shuffle : bool
    generator : torch.Generator, optional
        Source of the permutations (required when ``shuffle``).
    """

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        shuffle: bool,
        generator: torch.Generator | None = None,
    ) -> None:
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, tuple[Tensor, Tensor | None, Tensor | None]]]:
        n = len(self.data)
        if not self.shuffle:
            for start in range(0, n, self.batch_size):
                yield self.data[start : start + self.batch_size]
            return
        order = torch.randperm(n, generator=self.generator).to(self.data.X.device)
        for start in range(0, n, self.batch_size):
            yield self.data[order[start : start + self.batch_size]]
