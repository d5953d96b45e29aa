"""One way from user arrays to tensors (without PyTorch's read-only warning), and
one way to run a module for inference without leaving a trace on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["as_tensor", "evaluating"]


def as_tensor(
    array: Any, dtype: torch.dtype = torch.float64, device: str | torch.device | None = None
) -> Tensor:
    """A tensor made from any array-like, sharing memory only when that is safe.

    ``torch.as_tensor`` and ``torch.from_numpy`` warn "The given NumPy array
    is not writable" on read-only arrays (pandas 3 hands them out under
    copy-on-write, and a Series inside a scorer is one), because the tensor
    would share memory it may not write. Such arrays, and arrays that are
    not C-contiguous (torch refuses negative strides), are copied; writable
    C-contiguous arrays are shared, so the common case costs no copy.

    Parameters
    ----------
    array : array-like
        The values; anything :func:`numpy.asarray` accepts.
    dtype : torch.dtype, default=torch.float64
        The tensor's dtype.
    device : str or torch.device, default=None
        The tensor's device; None for the CPU.

    Returns
    -------
    Tensor
        The values as a tensor of ``dtype`` on ``device``.
    """
    array = np.asarray(array)
    if not (array.flags.writeable and array.flags.c_contiguous):
        # A writable C-ordered copy: also what torch needs for negative strides.
        array = np.array(array, order="C", copy=True)
    return torch.as_tensor(array, dtype=dtype, device=device)


@contextmanager
def evaluating(module: torch.nn.Module) -> Iterator[None]:
    """Run ``module`` in eval mode without gradients; its mode is restored afterwards.

    Eval mode and ``no_grad`` leave no trace: BatchNorm's running statistics
    and dropout's random draws are untouched, and a module that was training
    goes on training (also when the body raises).
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)
