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

from .sculpt.distributions import SculptDistribution

__all__ = ["FORMAT", "describe_distribution", "read_params", "write_params"]

#: Version of the file layout.
FORMAT = 2


def describe_distribution(family: type[SculptDistribution]) -> dict[str, Any]:
    """The family as plain data: its name, and ``df`` for a Student-t."""
    df = getattr(family, "df", None)
    return {"name": family.name, "df": None if df is None else float(df)}


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


def as_array(t: torch.Tensor) -> np.ndarray:
    """A saved tensor as a float64 NumPy array."""
    return t.double().numpy()
