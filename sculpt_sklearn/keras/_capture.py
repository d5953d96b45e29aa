"""Finding a Keras model's output Dense layer and catching the features that feed it.

Keras has no forward hooks, so the layer's ``call`` is wrapped once, at wrap time, by
:class:`_CaptureCall`, an object that does nothing outside a ``return_risk`` call: the
wrapped model opens a slot in a context variable for the duration of its own call, and
the layer's input lands in that slot. Copies, several wrappers of one model, threads
and nested calls each see only their own rows (as the torch wrapper's pre-hook). The
layer's configuration, weights and outputs are untouched, and the wrapping works the
same in eager execution, TensorFlow graphs and JAX tracing, which all run ``call``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import keras

__all__ = ["capturing", "dense_layers", "ensure_capture", "find_output_layer"]

# Layer id -> the inputs seen by that layer during the current wrapped call.
_CAPTURED: ContextVar[dict[int, list[Any]] | None] = ContextVar(
    "sculpt_keras_captured_features", default=None
)


class _CaptureCall:
    """Stands in for a Dense layer's ``call``; records its input inside a wrapped call."""

    def __init__(self, call: Any) -> None:
        self.call = call

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        slots = _CAPTURED.get()
        if slots is not None:
            slot = slots.get(id(self.call.__self__))
            if slot is not None:
                slot.append(inputs)
        return self.call(inputs, *args, **kwargs)


def ensure_capture(layer: keras.layers.Layer) -> None:
    """Wrap ``layer.call`` with :class:`_CaptureCall` unless it is wrapped already."""
    if not isinstance(vars(layer).get("call"), _CaptureCall):
        layer.call = _CaptureCall(layer.call)


@contextmanager
def capturing(layer: keras.layers.Layer) -> Iterator[list[Any]]:
    """Collect the inputs of ``layer`` seen inside the ``with`` block (this context only)."""
    ensure_capture(layer)  # a layer replaced after wrapping
    captured: list[Any] = []
    slots = dict(_CAPTURED.get() or {})
    slots[id(layer)] = captured
    token = _CAPTURED.set(slots)
    try:
        yield captured
    finally:
        _CAPTURED.reset(token)


def _children(layer: Any) -> list[Any]:
    # A Model lists its layers (a functional model in graph order); a plain Layer that
    # holds sublayers keeps them in its tracker's list, in assignment order.
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    return list(getattr(layer, "_layers", []))


def _walk(model: Any) -> list[Any]:
    """All layers under ``model``, depth first, each once."""
    seen: set[int] = set()
    order: list[Any] = []

    def visit(layer: Any) -> None:
        for child in _children(layer):
            if id(child) in seen:
                continue
            seen.add(id(child))
            order.append(child)
            visit(child)

    visit(model)
    return order


def dense_layers(model: Any) -> list[keras.layers.Dense]:
    """The Dense layers of ``model``, in the order :func:`find_output_layer` searches.

    A functional or Sequential model in graph order; a subclassed model in the order
    its layers were assigned. The order, unlike the layers' names, survives saving.
    """
    return [lay for lay in _walk(model) if isinstance(lay, keras.layers.Dense)]


def find_output_layer(model: Any, layer: str | keras.layers.Layer | None) -> keras.layers.Dense:
    """The Dense layer whose input the risk head reads.

    Parameters
    ----------
    model : keras.Model
        The model to wrap.
    layer : str, keras.layers.Dense or None
        The layer's name, the layer itself, or None for the model's last Dense layer.

    Returns
    -------
    keras.layers.Dense
        A built Dense layer of ``model``.
    """
    everything = _walk(model)
    denses = [lay for lay in everything if isinstance(lay, keras.layers.Dense)]
    if layer is None:
        if not denses:
            kinds = sorted({type(lay).__name__ for lay in everything})
            raise ValueError(
                f"No keras.layers.Dense layer found in {type(model).__name__} (it holds: "
                f"{', '.join(kinds) or 'no layers'}). The risk head reads the features "
                "that feed the model's last Dense layer: end the model with one (e.g. "
                "keras.layers.Dense(n_outputs)), or name the Dense layer that computes "
                "the output with Wrapper(..., layer='name')."
            )
        found = denses[-1]
    elif isinstance(layer, str):
        named = [lay for lay in everything if lay.name == layer]
        if not named:
            raise ValueError(
                f"layer={layer!r} is not a layer of {type(model).__name__}; its Dense "
                f"layers are {[d.name for d in denses] or 'none'}."
            )
        if len(named) > 1:
            raise ValueError(
                f"layer={layer!r} names {len(named)} layers of {type(model).__name__}; "
                "pass the layer object itself: Wrapper(..., layer=model.get_layer(...))."
            )
        found = named[0]
    else:
        if not any(lay is layer for lay in everything):
            raise ValueError(
                f"The layer {getattr(layer, 'name', layer)!r} is not part of "
                f"{type(model).__name__}; pass one of its Dense layers or its name."
            )
        found = layer
    if not isinstance(found, keras.layers.Dense):
        raise ValueError(
            f"layer={found.name!r} is a {type(found).__name__}, not a keras.layers.Dense; "
            "the risk head reads the input of a Dense layer, so name one: "
            f"{[d.name for d in denses] or 'the model has none'}."
        )
    if not found.built:
        raise ValueError(
            f"The Dense layer {found.name!r} is not built yet, so the width of its input "
            "is unknown: build the model before wrapping it (start it with "
            "keras.Input(shape=...), call model.build((None, n_features)), or call it "
            "once on a batch)."
        )
    return found
