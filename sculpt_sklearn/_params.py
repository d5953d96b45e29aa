"""skorch-style prefixed parameters (``module__hidden``) as real estimator parameters.

scikit-learn rebuilds an estimator from ``get_params()`` (``clone``) and
routes ``set_params(reg__module__hidden=...)`` through pipelines, so the
prefixed keyword arguments must be parameters like any other. They are
stored as given (no validation in ``__init__`` or ``set_params``, as
scikit-learn requires) and checked once, in ``fit``, with a "did you mean"
for typos.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

__all__ = ["PREFIXES", "PrefixedParamsMixin", "accepted_kwargs", "check_kwargs_for", "same_value",
           "split_prefixed"]

#: Components whose constructor arguments can be set with ``<prefix>__<name>``.
PREFIXES = ("module", "optimizer", "criterion")


class PrefixedParamsMixin:
    """Store ``prefix__name`` keyword arguments and expose them as parameters.

    The arguments live in ``self._prefixed_params`` (a private attribute,
    so scikit-learn's checks do not count it as state set in ``__init__``).
    """

    _prefixed_params: dict[str, Any]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get parameters, the prefixed ones (``module__hidden``) included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)  # type: ignore[misc]
        params.update(self._prefixed_params)
        return params

    def set_params(self, **params: Any) -> PrefixedParamsMixin:
        """Set parameters, prefixed ones (``module__hidden=128``) included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self
        """
        own = BaseEstimator.get_params(self, deep=False)  # type: ignore[arg-type]
        plain = {}
        for key, value in params.items():
            head, sep, _ = key.partition("__")
            if sep and (head in PREFIXES or head not in own):
                self._prefixed_params[key] = value
            else:
                plain[key] = value
        if plain:
            super().set_params(**plain)  # type: ignore[misc]
        return self


def accepted_kwargs(factory: Any) -> set[str] | None:
    """Keyword names a callable accepts, or None if it takes ``**kwargs``."""
    target = factory.__init__ if isinstance(factory, type) else factory
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    names = set()
    for name, p in signature.parameters.items():
        if p.kind is p.VAR_KEYWORD:
            return None
        if name != "self" and p.kind is not p.VAR_POSITIONAL:
            names.add(name)
    return names


def check_kwargs_for(prefix: str, factory: Any, kwargs: dict[str, Any]) -> None:
    """Raise a ValueError naming ``prefix__x`` arguments that ``factory`` rejects."""
    accepted = accepted_kwargs(factory)
    if accepted is None:
        return
    for name in kwargs:
        if name not in accepted:
            close = difflib.get_close_matches(name, sorted(accepted), n=1)
            hint = f" Did you mean {prefix}__{close[0]}?" if close else ""
            raise ValueError(
                f"{prefix}__{name} is not an argument of {getattr(factory, '__name__', factory)}; "
                f"it accepts {sorted(accepted)}.{hint}"
            )


def split_prefixed(
    prefixed: dict[str, Any], known_params: list[str]
) -> dict[str, dict[str, Any]]:
    """Group ``prefix__name`` arguments by prefix; reject unknown prefixes."""
    groups: dict[str, dict[str, Any]] = {p: {} for p in PREFIXES}
    for key, value in prefixed.items():
        head, sep, name = key.partition("__")
        if not sep or head not in PREFIXES or not name:
            candidates = [f"{p}__{name or '...'}" for p in PREFIXES] + known_params
            close = difflib.get_close_matches(key, candidates, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ValueError(
                f"Unknown parameter {key!r}. Prefixed parameters start with one of "
                f"{', '.join(p + '__' for p in PREFIXES)}.{hint}"
            )
        groups[head][name] = value
    return groups


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal.

    Sequences and NumPy arrays are compared element by element (a tuple equals
    the list of its items), tensors with :func:`torch.equal`; values that
    cannot be compared are different.
    """
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(b, np.ndarray):
        b = b.tolist()
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and bool(torch.equal(a, b)))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except (TypeError, RuntimeError, ValueError):
        return False
