"""``save_params`` / ``load_params``: weights files readable with ``weights_only=True``.

The file holds tensors, numbers and strings only, so loading it cannot run
code. It records what the weights mean (the output family with Student-t's
``df``, the training objective, the target scaling, the encoder of the
default model's input) so that loading into an estimator that would read
them differently is refused instead of giving wrong intervals and NLL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .sculpt.distributions import SculptDistribution, get_distribution

__all__ = ["FORMAT", "check_module_kind", "check_saved_networks", "describe_distribution",
           "fitted_state", "read_params", "restore_fitted_attributes", "saved_family",
           "write_params"]

#: Version of the file layout.
FORMAT = 2


def describe_distribution(family: type[SculptDistribution]) -> dict[str, Any]:
    """The family as plain data: its name, and ``df`` for a Student-t."""
    df = getattr(family, "df", None)
    return {"name": family.name, "df": None if df is None else float(df)}


def saved_family(state: dict[str, Any]) -> type[SculptDistribution]:
    """The output family a weights file names (what ``distribution="auto"`` loads as).

    Raises
    ------
    ValueError
        For a family that is not one of the library's (a user's own class):
        the estimator must then name it.
    """
    saved = state["distribution"]
    try:
        family = get_distribution(saved["name"])
    except ValueError:
        raise ValueError(
            f"The saved weights were trained for the distribution {saved['name']!r}, which "
            "is not one of the library's families; create the estimator with that class as "
            "distribution=... to load them."
        ) from None
    if saved["df"] is not None and float(getattr(family, "df", saved["df"])) != saved["df"]:
        family = family.with_df(saved["df"])
    return family


def write_params(f: Any, payload: dict[str, Any]) -> None:
    """Save ``payload`` (tensors, numbers, strings, lists, dicts) with its format tag."""
    torch.save({"format": FORMAT, **payload}, f)


def read_params(f: Any) -> dict[str, Any]:
    """Read a file written by :func:`write_params`; refuse anything else."""
    state = torch.load(f, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            "This file was not written by SculptRegressor.save_params (or by another "
            "version of it); save the weights again with save_params."
        )
    return state


def check_compatible(state: dict[str, Any], distribution: dict[str, Any], loss: str) -> None:
    """Refuse weights trained for another output family or objective."""
    saved = state["distribution"]
    if saved != distribution:
        def show(d: dict[str, Any]) -> str:
            return d["name"] + ("" if d["df"] is None else f"(df={d['df']:g})")

        raise ValueError(
            f"The saved weights were trained for distribution {show(saved)}, but this "
            f"estimator has {show(distribution)}: its risk head would be read as another "
            "family's standard deviation (wrong intervals and NLL). Create the estimator "
            f"with distribution={saved['name']!r}"
            + ("" if saved["df"] is None else f" (sculpt.StudentT.with_df({saved['df']:g}))")
            + "."
        )
    if state["loss"] != loss:
        raise ValueError(
            f"The saved weights were trained with loss={state['loss']!r}, but this "
            f"estimator has loss={loss!r}; create it with loss={state['loss']!r}."
        )


def _same(a: Any, b: Any) -> bool:
    """Whether two constructor arguments are equal (sequences compared as lists)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except (TypeError, RuntimeError, ValueError):
        return False


def check_saved_arguments(saved: dict[str, Any], given: dict[str, Any]) -> None:
    """Refuse ``module__*`` parameters that contradict the saved module's arguments."""
    clash = sorted(k for k in saved if k in given and not _same(saved[k], given[k]))
    if clash:
        made_with = ", ".join(f"module__{k}={saved[k]!r}" for k in clash)
        raise ValueError(
            f"The saved weights were made with {made_with}, which this estimator's "
            "parameters contradict; create the estimator with the same parameters as the "
            "one that saved them."
        )


def check_saved_networks(state: dict[str, Any], n_networks: int | str) -> int:
    """The saved number of networks (1 in files written before it was saved).

    Refuses an estimator whose ``n_networks`` names another number; ``"auto"``
    takes the file's.
    """
    saved = int(state.get("n_networks", 1))
    if n_networks != "auto" and int(n_networks) != saved:
        raise ValueError(
            f"The saved weights are those of {saved} network(s), but this estimator has "
            f"n_networks={n_networks}; create it with n_networks={saved} (or 'auto')."
        )
    return saved


def as_array(t: torch.Tensor) -> np.ndarray:
    """A saved tensor as a float64 NumPy array."""
    return t.double().numpy()


# -- the built-in model's input encoder as plain data ---------------------------------
#: Classes an encoder state may name; nothing else is ever built from a file.
_ENCODER_CLASSES = {
    "sculpt_sklearn._preprocess.TabularPreprocessor",
    "sklearn.preprocessing._data.QuantileTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
}


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def to_plain(obj: Any) -> Any:
    """``obj`` as tensors, numbers, strings, lists and dicts (``weights_only``-safe).

    Handles the fitted scikit-learn objects of the input encoder (by their
    pickled state), NumPy arrays (numeric as tensors, text and object as
    lists), NumPy scalars and dtypes.
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
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        return {"__dtype__": np.dtype(obj).str, "instance": isinstance(obj, np.dtype)}
    if isinstance(obj, (list, tuple)):
        items = [to_plain(v) for v in obj]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        return {"__dict__": [[to_plain(k), to_plain(v)] for k, v in obj.items()]}
    name = _qualname(obj)
    if name in _ENCODER_CLASSES:
        return {"__object__": name, "state": to_plain(obj.__getstate__())}
    raise TypeError(f"Cannot store a {name} in a weights file.")


def from_plain(data: Any) -> Any:
    """Inverse of :func:`to_plain`; builds only the allow-listed encoder classes."""
    if isinstance(data, list):
        return [from_plain(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__ndarray__" in data:
        return data["__ndarray__"].numpy().copy()
    if "__ndarray_list__" in data:
        return np.asarray([from_plain(v) for v in data["__ndarray_list__"]], dtype=data["dtype"])
    if "__dtype__" in data:
        dtype = np.dtype(data["__dtype__"])
        return dtype if data["instance"] else dtype.type
    if "__tuple__" in data:
        return tuple(from_plain(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {from_plain(k): from_plain(v) for k, v in data["__dict__"]}
    if "__object__" in data:
        name = data["__object__"]
        if name not in _ENCODER_CLASSES:
            raise ValueError(f"The weights file names a class {name!r} that is not allowed.")
        import importlib

        module_name, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module_name), cls_name)
        obj = cls.__new__(cls)
        obj.__setstate__(from_plain(data["state"]))
        return obj
    raise ValueError("Unrecognised entry in a weights file.")


def fitted_state(est: Any) -> dict[str, Any]:
    """What :meth:`SculptRegressor.save_params` writes: weights and what they mean.

    Tensors, numbers, strings, lists and dicts only (the default model's
    encoder through :func:`to_plain`), so that ``weights_only=True`` reads it.
    """
    names = getattr(est, "feature_names_in_", None)
    return {
        "module": {k: v.detach().cpu() for k, v in est.net_.module_.state_dict().items()},
        "distribution": describe_distribution(est.distribution_),
        "loss": est.loss,
        "y_loc": torch.as_tensor(est.y_loc_),
        "y_scale": torch.as_tensor(est.y_scale_),
        "risk_scale": torch.as_tensor(est.risk_scale_),
        "y_ndim": 1 if est._y_1d else 2,
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_iter": int(est.n_iter_),
        "best_epoch": int(getattr(est, "best_epoch_", est.n_iter_)),
        "predict_dtype": est.predict_dtype_,
        "module_init": est._module_init,
        "n_networks": int(est.n_networks_),
        "encoder": to_plain(est.preprocessor_) if est.module is None else None,
    }


def check_module_kind(state: dict[str, Any], module: Any) -> None:
    """Refuse weights of the built-in model for a user's module, and the reverse."""
    saved_builtin = state["encoder"] is not None
    if (module is None) == saved_builtin:
        return
    raise ValueError(
        "The saved weights are those of "
        + ("the built-in model (module=None)" if saved_builtin else "a user's module")
        + ", but this estimator has "
        + ("module=None" if module is None else f"module={module!r}")
        + "; create it with the same module as the one that saved them."
    )


def restore_fitted_attributes(est: Any, state: dict[str, Any]) -> None:
    """Set the fitted attributes a loaded file records (after the weights are in)."""
    est.n_features_in_ = state["n_features_in"]
    if state["feature_names_in"] is not None:
        est.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
    est.risk_scale_ = as_array(state["risk_scale"])
    est.n_iter_ = state["n_iter"]
    est.best_epoch_ = state.get("best_epoch", state["n_iter"])
    est.predict_dtype_ = state["predict_dtype"]
