"""torch's intra-op threads for one call of fit or predict: ``n_threads``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["available_cores", "torch_threads"]


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[int]:
    """Run the body with ``n_threads`` torch threads; put the previous number back after.

    ``None`` leaves torch's number as it is (``torch.get_num_threads()``:
    ``OMP_NUM_THREADS``, or the physical cores; under joblib's workers, their
    share), ``-1`` is every core this process may use. Yields the number used.
    """
    before = torch.get_num_threads()
    wanted = before if n_threads is None else available_cores() if n_threads == -1 else n_threads
    if wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
