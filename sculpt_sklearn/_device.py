"""Where the estimator trains: the parameter's constraint, the device check and the
random streams to fork."""

from __future__ import annotations

from typing import Any

import torch
from sklearn.utils._param_validation import Options
from torch import nn

__all__ = ["DEVICE_TYPES", "DeviceConstraint", "check_device", "rng_devices"]

#: The kinds of torch device the estimator trains on.
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


class DeviceConstraint(Options):
    """The ``device`` parameter's entry in the constraint table.

    Satisfied by a :class:`torch.device` or a string torch parses as one of
    :data:`DEVICE_TYPES` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``,
    ``"xpu"``); scikit-learn's parameter validation then refuses anything else
    (``"gpu"``) with a message that lists what is accepted, before torch is
    asked. (It extends scikit-learn's ``Options``, whose instances the
    constraint table accepts, to device strings with an index.)
    """

    def __init__(self) -> None:
        super().__init__(object, set(DEVICE_TYPES))

    def is_satisfied_by(self, val: Any) -> bool:
        if isinstance(val, torch.device):
            return val.type in DEVICE_TYPES
        if not isinstance(val, str):
            return False
        try:
            return torch.device(val).type in DEVICE_TYPES
        except (RuntimeError, ValueError):
            return False

    def __str__(self) -> str:
        return ("a torch device: 'cpu', 'cuda', 'cuda:<index>' (e.g. 'cuda:1'), 'mps' or "
                "'xpu', or a torch.device of one of them")


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
