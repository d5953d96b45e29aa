"""The built-in multilayer perceptron used when ``SculptRegressor(module=None)``."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["MLP"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


class MLP(nn.Module):
    """A plain feed-forward network ending in an ``nn.Linear``.

    Its parameters are set through the estimator with the ``module__``
    prefix, e.g. ``SculptRegressor(module__hidden_layer_sizes=(128, 128))``.
    ``n_features`` and ``n_outputs`` are filled in by the estimator.

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int, default=1
        Output width.
    hidden_layer_sizes : sequence of int, default=(64, 64)
        Width of each hidden layer, as in scikit-learn's ``MLPRegressor``.
    activation : {"relu", "gelu", "silu", "tanh", "elu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}; got {activation!r}."
            )
        if isinstance(hidden_layer_sizes, int):
            hidden_layer_sizes = (hidden_layer_sizes,)
        sizes = [int(h) for h in hidden_layer_sizes]
        if any(h < 1 for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers; got {hidden_layer_sizes!r}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
        layers: list[nn.Module] = []
        width = n_features
        for h in sizes:
            layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Predictions of shape ``(n, n_outputs)``."""
        return self.layers(x)
