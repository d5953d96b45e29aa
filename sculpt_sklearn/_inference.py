"""The forward pass at prediction time: batches, dtype, members, no module copy.

Prediction runs the trained module through ``torch.func.functional_call``
with its parameters cast to the prediction dtype, so the module itself is
never copied or changed. float64 is the default (predictions agree across
batch sizes to 1e-12); modules that cast their own input (``x.float()``)
cannot run in float64 and get float32 (see :func:`resolve_predict_dtype`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from ._tensor import evaluating
from .sculpt.mixture import mixture_moments

__all__ = ["deduct_member_spread", "member_moments", "mixture_prediction",
           "resolve_predict_dtype"]

#: Rows per forward pass at prediction time.
PREDICT_BATCH = 8192

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _run(module: nn.Module, state: dict[str, torch.Tensor], x: torch.Tensor) -> tuple:
    """Members' means and standard deviations, each (batch, k, n_outputs)."""
    n = x.shape[0]
    mu, sigma = torch.func.functional_call(module, state, (x,), {"return_members": True})
    return mu.reshape(n, mu.shape[1], -1), sigma.reshape(n, sigma.shape[1], -1)


def _state(module: nn.Module, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {
        name: t.to(dtype) if t.is_floating_point() else t
        for name, t in list(module.named_parameters()) + list(module.named_buffers())
    }


def resolve_predict_dtype(module: nn.Module, probe: np.ndarray, requested: str) -> str:
    """The dtype predictions run in: ``requested``, or for ``"auto"`` float64 if it works.

    ``"auto"`` runs the module on a few rows in float64 (eval mode, no
    gradient); a module that fails there or does not return float64 (it casts
    its input) predicts in float32.
    """
    device = next(module.parameters()).device
    if requested != "auto":
        return requested
    if device.type == "mps":  # no float64 on Apple GPUs
        return "float32"
    try:
        with evaluating(module):
            x = torch.tensor(probe, dtype=torch.float64, device=device)
            mu, sigma = _run(module, _state(module, torch.float64), x)
        ok = mu.dtype == torch.float64 and sigma.dtype == torch.float64
    except (RuntimeError, TypeError):
        ok = False
    return "float64" if ok else "float32"


def _batches(module: nn.Module, X: np.ndarray, dtype_name: str) -> Iterator[tuple]:
    """``(start, stop, mu_k, sigma_k)`` per batch of rows, in eval mode, without gradients."""
    device = next(module.parameters()).device
    dtype = _DTYPES[dtype_name]
    state = _state(module, dtype)
    with evaluating(module):
        for start in range(0, X.shape[0], PREDICT_BATCH):
            stop = min(start + PREDICT_BATCH, X.shape[0])
            xb = torch.tensor(X[start:stop], dtype=dtype, device=device)
            try:
                mu, sigma = _run(module, state, xb)
            except RuntimeError as exc:
                if dtype_name == "float64" and "dtype" in str(exc).lower():
                    raise ValueError(
                        f"The module cannot run in float64 at predict time ({exc}); "
                        "set predict_dtype='float32' (or 'auto')."
                    ) from exc
                raise
            yield start, stop, mu, sigma


def mixture_prediction(
    module: nn.Module, X: np.ndarray, dtype_name: str, n_outputs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The members' mixture mean, aleatoric and epistemic std, in standardised units.

    Reduced over the members batch by batch (:func:`sculpt.mixture_moments`),
    so memory grows with the outputs, not with ``k`` times them.

    Parameters
    ----------
    module : SculptModule
        The trained module.
    X : ndarray of shape (n_samples, n_features)
        Encoded input.
    dtype_name : {"float64", "float32"}
        The dtype of the forward pass.
    n_outputs : int

    Returns
    -------
    mean, aleatoric, epistemic : ndarray of shape (n_samples, n_outputs), float64
    """
    out = tuple(np.empty((X.shape[0], n_outputs), dtype=np.float64) for _ in range(3))
    for start, stop, mu, sigma in _batches(module, X, dtype_name):
        for target, part in zip(out, mixture_moments(mu, sigma), strict=True):
            target[start:stop] = part.cpu().numpy()
    return out


def member_moments(
    module: nn.Module, X: np.ndarray, dtype_name: str, n_outputs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every member's mean and standard deviation, in standardised units.

    For studies of the members themselves (``benchmarks/mixture_nll.py``);
    prediction uses :func:`mixture_prediction`.

    Returns
    -------
    mu, sigma : ndarray of shape (n_samples, k, n_outputs), float64
    """
    parts = [(mu.cpu().numpy(), sigma.cpu().numpy())
             for _, _, mu, sigma in _batches(module, X, dtype_name)]
    if not parts:
        return np.empty((0, 1, n_outputs)), np.empty((0, 1, n_outputs))
    mu, sigma = (np.concatenate(p).astype(np.float64) for p in zip(*parts, strict=True))
    return mu, sigma


def deduct_member_spread(
    aleatoric: np.ndarray, epistemic: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Move the members' spread out of the aleatoric part; the total is unchanged.

    A member's risk head fits its own residuals ``(y - mu_k)**2``: the noise,
    the members' mean's error and the member's deviation ``mu_k - mean``, so
    ``mean(sigma_k**2)`` holds ``var(mu_k)`` once, and the law of total
    variance adds it again. Returns ``sqrt(max(aleatoric**2 - epistemic**2,
    floor**2))`` and the epistemic std that keeps ``aleatoric**2 +
    epistemic**2`` (``sqrt(2) * epistemic`` where the floor is not reached).

    Parameters
    ----------
    aleatoric, epistemic : ndarray
        ``sqrt(mean(sigma_k**2))`` and ``std(mu_k)``, of one shape.
    floor : float
        The smallest aleatoric std returned (the risk's floor).

    Returns
    -------
    aleatoric, epistemic : ndarray
    """
    total2 = aleatoric**2 + epistemic**2
    corrected2 = np.maximum(aleatoric**2 - epistemic**2, floor**2)
    return np.sqrt(corrected2), np.sqrt(np.maximum(total2 - corrected2, 0.0))
