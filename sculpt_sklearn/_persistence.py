"""``save_params`` / ``load_params``: weights files readable with ``weights_only=True``.

The file holds tensors, numbers, strings, lists and dicts only, so loading it
cannot run code, and it names no class: the built-in model's input encoder is
stored as its fitted arrays (:meth:`TabularPreprocessor.fitted_state`) and
rebuilt from them, so a scikit-learn that moves its classes still loads it. It
records what the weights mean (the output family with Student-t's ``df``, the
training objective, the target scaling, the number of networks, the built-in
model's constructor arguments) as a :class:`~sculpt_sklearn._resolve.Reference`,
which the estimator's parameters are resolved against, so that loading into an
estimator that would read the weights differently is refused instead of giving
wrong intervals and NLL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._preprocess import TabularPreprocessor
from ._resolve import Reference, ResolvedParams, describe_family
from .sculpt.distributions import SculptDistribution, get_distribution

__all__ = ["FORMAT", "SavedModel", "read_params", "write_params"]

#: Version of the file layout (3: the encoder as plain arrays, no class names).
FORMAT = 3

#: What every file holds, beside ``format``.
_KEYS = ("module", "distribution", "predictive_distribution", "loss", "y_loc", "y_scale", "risk_scale", "y_ndim",
         "n_features_in", "feature_names_in", "n_iter", "best_epoch", "predict_dtype",
         "module_init", "n_networks", "encoder")


def _describe(family: type[SculptDistribution]) -> dict[str, Any]:
    """A family as plain data: its name, how messages show it, and a Student-t's df."""
    df = getattr(family, "df", None)
    return {"name": family.name, "description": describe_family(family),
            "df": None if df is None else float(df)}


def _family_from_name(description: dict[str, Any]) -> type[SculptDistribution] | None:
    """The library's family a file names (with its ``df``), or None for a user's own."""
    try:
        family = get_distribution(description["name"])
    except ValueError:
        return None
    df = description["df"]
    if df is not None and float(getattr(family, "df", df)) != df:
        family = family.with_df(df)
    return family


# -- plain data ---------------------------------------------------------------------------


def to_plain(obj: Any) -> Any:
    """``obj`` as tensors, numbers, strings, lists and dicts (``weights_only``-safe).

    NumPy arrays become tensors (numbers) or lists (text and objects), NumPy
    scalars Python numbers, tuples and dicts tagged lists; anything else is
    refused.
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biuf":
            return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(obj).copy())}
        return {"__ndarray_list__": [to_plain(v) for v in obj.tolist()],
                "dtype": "object" if obj.dtype.kind == "O" else str(obj.dtype)}
    if isinstance(obj, (list, tuple)):
        items = [to_plain(v) for v in obj]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        return {"__dict__": [[to_plain(k), to_plain(v)] for k, v in obj.items()]}
    raise TypeError(f"Cannot store a {type(obj).__qualname__} in a weights file.")


def from_plain(data: Any) -> Any:
    """Inverse of :func:`to_plain`."""
    if isinstance(data, list):
        return [from_plain(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__ndarray__" in data:
        return data["__ndarray__"].numpy().copy()
    if "__ndarray_list__" in data:
        return np.asarray([from_plain(v) for v in data["__ndarray_list__"]], dtype=data["dtype"])
    if "__tuple__" in data:
        return tuple(from_plain(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {from_plain(k): from_plain(v) for k, v in data["__dict__"]}
    raise ValueError("Unrecognised entry in a weights file; save the model again.")


# -- writing ------------------------------------------------------------------------------


def write_params(f: Any, est: Any) -> None:
    """Save a fitted estimator's weights and what they mean (``torch.save``)."""
    resolved: ResolvedParams = est._resolved
    family = resolved.family
    names = getattr(est, "feature_names_in_", None)
    preprocessor = getattr(est, "preprocessor_", None)
    torch.save({
        "format": FORMAT,
        "module": {k: v.detach().cpu() for k, v in est.net_.module_.state_dict().items()},
        "distribution": _describe(family),
        # What the held-out rows chose for prediction (the built-in model's "auto").
        "predictive_distribution": _describe(est.distribution_),
        "loss": resolved.loss,
        "y_loc": torch.as_tensor(est.y_loc_),
        "y_scale": torch.as_tensor(est.y_scale_),
        "risk_scale": torch.as_tensor(est.risk_scale_),
        "y_ndim": 1 if est._y_1d else 2,
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_iter": int(est.n_iter_),
        "best_epoch": int(est.best_epoch_),
        "predict_dtype": est.predict_dtype_,
        # The built-in model's resolved arguments (the row rule's k, the bins, the
        # cardinalities) travel with the file, so loading rebuilds it alike.
        "module_init": dict(resolved.module_kwargs) if resolved.builtin else {},
        "n_networks": int(resolved.n_networks),
        "encoder": None if preprocessor is None else to_plain(preprocessor.fitted_state()),
    }, f)


# -- reading ------------------------------------------------------------------------------


class SavedModel:
    """A weights file, read and checked: what it is and the fitted values it holds.

    Parameters
    ----------
    state : dict
        What :func:`torch.load` returned.

    Attributes
    ----------
    reference : Reference
        The structure its weights belong to (what the loading estimator's
        parameters are resolved against).
    weights : dict of Tensor
        The module's state dict.
    preprocessor : TabularPreprocessor or None
        The built-in model's input encoder.
    predictive_family : SculptDistribution subclass or None
        The family it predicts with (``distribution_``); None for a user's own
        family, which the loading estimator names.
    n_features_in, feature_names_in, y_loc, y_scale, risk_scale, y_1d, n_iter,
    best_epoch, predict_dtype
        The fitted values it records.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        description = state["distribution"]
        encoder = state["encoder"]
        self.reference = Reference(
            source="file",
            builtin=encoder is not None,
            family=_family_from_name(description),
            family_description=description["description"],
            n_networks=int(state["n_networks"]),
            module_kwargs=dict(state["module_init"]),
            loss=state["loss"],
            schedule_rows=None,
        )
        self.predictive_family = _family_from_name(state["predictive_distribution"])
        self.weights = state["module"]
        self.preprocessor = (None if encoder is None
                             else TabularPreprocessor.from_fitted_state(from_plain(encoder)))
        self.n_features_in = int(state["n_features_in"])
        names = state["feature_names_in"]
        self.feature_names_in = None if names is None else np.asarray(names, dtype=object)
        self.y_loc, self.y_scale, self.risk_scale = (
            state[k].double().numpy() for k in ("y_loc", "y_scale", "risk_scale"))
        self.y_1d = state["y_ndim"] == 1
        self.n_iter = int(state["n_iter"])
        self.best_epoch = int(state["best_epoch"])
        self.predict_dtype = state["predict_dtype"]

    @property
    def input_width(self) -> int:
        """The width of the module's input (the encoded table's, for the built-in model)."""
        if self.preprocessor is None:
            return self.n_features_in
        return self.preprocessor.n_numeric_out_ + len(self.preprocessor.cat_cardinalities_)


def read_params(f: Any) -> SavedModel:
    """Read a file written by :func:`write_params`; refuse anything else.

    Raises
    ------
    ValueError
        For a file of another kind, or of another version of the layout.
    """
    state = torch.load(f, map_location="cpu", weights_only=True)
    if (not isinstance(state, dict) or state.get("format") != FORMAT
            or any(key not in state for key in _KEYS)):
        raise ValueError(
            "This file was not written by SculptRegressor.save_params (or by another "
            "version of it); save the weights again with save_params."
        )
    return SavedModel(state)
