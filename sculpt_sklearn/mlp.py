"""Compatibility alias: :class:`MLP` now lives in :mod:`sculpt_sklearn.models`."""

from .models import MLP

__all__ = ["MLP"]
