"""What the displays share: lazy matplotlib, axes, legend, the name of a model."""

from __future__ import annotations

from typing import Any


def _pyplot(caller: str) -> Any:
    """Import matplotlib.pyplot lazily, with an error that says what to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, an optional dependency: "
            "pip install sculpt-sklearn[plot]"
        ) from exc
    return plt


def _axes(caller: str, ax: Any) -> Any:
    plt = _pyplot(caller)
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _legend(ax: Any) -> None:
    """A legend, when something drawn has a label."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")


def _name(estimator: Any, name: str | None) -> str:
    if name is not None:
        return name
    if hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return type(estimator).__name__
