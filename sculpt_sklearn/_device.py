"""Where the estimator trains: the device check and the random streams to fork."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["check_device", "rng_devices"]


def check_device(device: Any, fitted_module: nn.Module | None = None) -> None:
    """Refuse a device that does not exist, or that the fitted weights are not on.

    Parameters
    ----------
    device : str or torch.device
        The estimator's ``device`` parameter.
    fitted_module : nn.Module, optional
        The module whose training continues (``warm_start``, ``partial_fit``):
        its weights must already be on ``device``.

    Raises
    ------
    ValueError
        When ``device`` is CUDA and torch sees no GPU, or when it is not the
        device of ``fitted_module``'s weights.
    """
    wanted = torch.device(device)
    if wanted.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available "
            "(torch.cuda.is_available() is False); install a CUDA build of torch or "
            "use device='cpu'."
        )
    if fitted_module is None:
        return
    current = next(fitted_module.parameters()).device
    if current.type != wanted.type or (
        wanted.index is not None and current.index != wanted.index
    ):
        raise ValueError(
            f"The fitted weights are on {current}, but device={device!r}; "
            f"call set_params(device='{current}') to continue training there, or "
            "set warm_start=False to start over on the new device."
        )


def rng_devices(device: Any) -> list[int]:
    """The CUDA devices whose random state :func:`torch.random.fork_rng` must fork.

    Training and building seed torch inside ``fork_rng`` so that the global
    random state is left untouched; on CPU that needs no CUDA device.
    """
    wanted = torch.device(device)
    return [wanted.index or 0] if wanted.type == "cuda" else []
