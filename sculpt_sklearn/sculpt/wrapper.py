"""The Sculpt wrapper: give any regression module a risk output.

``Wrapper(Normal, n_layers=3)(model)`` returns a :class:`SculptModule`. Its
``forward(x)`` is the model's own forward; ``forward(x, return_risk=True)``
also returns the predictive standard deviation, computed by a small head that
reads the features feeding the model's last ``nn.Linear``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .distributions import Normal, SculptDistribution, get_distribution

__all__ = ["Wrapper", "SculptModule", "RiskHead"]

# softplus(_INIT_BIAS) == 1: a new head predicts a standard deviation of one.
_INIT_BIAS = math.log(math.expm1(1.0))


class RiskHead(nn.Module):
    """Maps features to a positive standard deviation.

    Parameters
    ----------
    in_features : int
        Width of the features it reads.
    out_features : int
        Number of outputs (one risk per predicted column).
    n_layers : int
        Number of linear layers (``n_layers - 1`` hidden layers with ReLU).
    hidden : int, optional
        Width of the hidden layers; defaults to ``in_features``.
    min_risk : float
        Floor added after the softplus, so the risk is always ``> min_risk``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_layers: int = 3,
        hidden: int | None = None,
        min_risk: float = 1e-6,
    ) -> None:
        super().__init__()
        hidden = in_features if hidden is None else hidden
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers - 1):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        last = nn.Linear(width, out_features)
        with torch.no_grad():
            last.weight.mul_(0.1)
            last.bias.fill_(_INIT_BIAS)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.min_risk = float(min_risk)

    def forward(self, features: Tensor) -> Tensor:
        """Risk (standard deviation) for each row of ``features``."""
        return nn.functional.softplus(self.net(features)) + self.min_risk


def _find_last_linear(model: nn.Module, layer: str | None) -> tuple[str, nn.Linear]:
    """The layer whose input the risk head reads."""
    named = dict(model.named_modules())
    if layer is not None:
        if layer not in named:
            linears = [n for n, m in named.items() if isinstance(m, nn.Linear)]
            raise ValueError(
                f"layer={layer!r} is not a submodule of {type(model).__name__}; "
                f"its nn.Linear layers are {linears or 'none'}."
            )
        module = named[layer]
        if not isinstance(module, nn.Linear):
            raise ValueError(
                f"layer={layer!r} is a {type(module).__name__}, not an nn.Linear; the risk "
                "head reads the input of a linear layer, so name one."
            )
        return layer, module
    linears = [(n, m) for n, m in named.items() if isinstance(m, nn.Linear)]
    if not linears:
        kinds = sorted({type(m).__name__ for n, m in named.items() if n})
        raise ValueError(
            f"No nn.Linear layer found in {type(model).__name__} (it holds: "
            f"{', '.join(kinds) or 'no submodules'}). The risk head reads the features "
            "that feed the model's last linear layer: give the model one, or name the "
            "layer explicitly with Wrapper(..., layer='name.of.layer')."
        )
    return linears[-1]


class SculptModule(nn.Module):
    """A model that also returns its risk; made by :class:`Wrapper`.

    Parameters
    ----------
    model : nn.Module
        The wrapped model; its parameters are used as they are.
    distribution : SculptDistribution subclass
        The output family (used by training code through :attr:`distribution`).
    n_layers : int
        Depth of the risk head.
    layer : str, optional
        Name of the ``nn.Linear`` whose input the risk head reads; default:
        the last ``nn.Linear`` in ``model.named_modules()`` order.
    hidden : int, optional
        Width of the risk head's hidden layers (default: the features' width).
    detach_features : bool
        If True the risk head reads detached features, so the risk loss does
        not change the model's representation (the "faithful" objective).
    min_risk : float
        Floor of the risk.

    Attributes
    ----------
    model : nn.Module
        The original model.
    risk_head : RiskHead
        The head that computes the risk.
    layer_name : str
        The name of the linear layer the head reads from.
    """

    def __init__(
        self,
        model: nn.Module,
        distribution: type[SculptDistribution] = Normal,
        n_layers: int = 3,
        layer: str | None = None,
        hidden: int | None = None,
        detach_features: bool = False,
        min_risk: float = 1e-6,
    ) -> None:
        super().__init__()
        self.distribution = distribution
        self.detach_features = bool(detach_features)
        self.model = model
        self.layer_name, linear = _find_last_linear(model, layer)
        if isinstance(linear, nn.modules.lazy.LazyModuleMixin) and linear.has_uninitialized_params():
            raise ValueError(
                f"The layer {self.layer_name!r} is a lazy layer whose input width is not "
                "known yet: call the model once on an example batch before wrapping it."
            )
        self.risk_head = RiskHead(
            linear.in_features, linear.out_features, n_layers=n_layers, hidden=hidden,
            min_risk=min_risk,
        )
    def forward(self, x: Any, *args: Any, return_risk: bool = False, **kwargs: Any) -> Any:
        """Run the model; optionally also return the risk.

        Parameters
        ----------
        x : Tensor
            The model's input.
        *args, **kwargs
            Passed on to the model's forward.
        return_risk : bool, default=False
            Also return the risk.

        Returns
        -------
        y_hat : Tensor
            The model's prediction.
        y_risk : Tensor
            The predictive standard deviation, shape of ``y_hat``, positive.
            Only returned when ``return_risk`` is True.
        """
        if not return_risk:
            return self.model(x, *args, **kwargs)
        # The features are caught by a hook that lives for this call only, so
        # copies, pickles and several wrappers of one model never share state.
        captured: list[Tensor] = []
        layer = self.model.get_submodule(self.layer_name)
        handle = layer.register_forward_pre_hook(lambda module, inputs: captured.append(inputs[0]))
        try:
            y_hat = self.model(x, *args, **kwargs)
        finally:
            handle.remove()
        if not captured:
            raise RuntimeError(
                f"The model's forward did not call the layer {self.layer_name!r}, so "
                "there are no features for the risk head; name the layer that computes "
                "the output with Wrapper(..., layer='name.of.layer')."
            )
        features = captured[-1]
        if self.detach_features:
            features = features.detach()
        y_risk = self.risk_head(features)
        if y_risk.shape != y_hat.shape:
            if y_risk.numel() != y_hat.numel():
                raise RuntimeError(
                    f"The risk head gives shape {tuple(y_risk.shape)} but the model returns "
                    f"{tuple(y_hat.shape)}: the model changes the output of "
                    f"{self.layer_name!r} after it. Name the linear layer that produces "
                    "the output with Wrapper(..., layer='name.of.layer')."
                )
            y_risk = y_risk.reshape(y_hat.shape)
        return y_hat, y_risk


class Wrapper:
    """Wrap a model so that it also predicts its risk.

    Parameters
    ----------
    distribution : SculptDistribution subclass or str, default=Normal
        The output family, as a class (``sculpt.Normal``) or its name.
    n_layers : int, default=3
        Number of layers of the risk head (at least 1).
    layer : str, optional
        Name (as in ``model.named_modules()``) of the ``nn.Linear`` whose input
        the risk head reads; default: the model's last ``nn.Linear``.
    hidden : int, optional
        Width of the head's hidden layers; default: the features' width.
    detach_features : bool, default=False
        Let the risk head read detached features ("faithful" training).
    min_risk : float, default=1e-6
        Floor of the predicted standard deviation.

    Examples
    --------
    >>> from torch import nn
    >>> from sculpt_sklearn import sculpt
    >>> model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 1))
    >>> wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=3)(model)
    >>> import torch
    >>> y_hat, y_risk = wrapped(torch.zeros(4, 8), return_risk=True)
    >>> tuple(y_risk.shape)
    (4, 1)
    """

    def __init__(
        self,
        distribution: type[SculptDistribution] | str = Normal,
        n_layers: int = 3,
        *,
        layer: str | None = None,
        hidden: int | None = None,
        detach_features: bool = False,
        min_risk: float = 1e-6,
    ) -> None:
        self.distribution = get_distribution(distribution)
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(
                f"n_layers is the number of layers of the risk head and must be an "
                f"integer >= 1; got {n_layers!r}."
            )
        if hidden is not None and (not isinstance(hidden, int) or hidden < 1):
            raise ValueError(f"hidden must be a positive integer or None; got {hidden!r}.")
        if not (min_risk > 0 and math.isfinite(min_risk)):
            raise ValueError(f"min_risk must be a positive finite float; got {min_risk!r}.")
        self.n_layers = n_layers
        self.layer = layer
        self.hidden = hidden
        self.detach_features = detach_features
        self.min_risk = min_risk

    def __call__(self, model: nn.Module) -> SculptModule:
        """Wrap ``model``; returns a :class:`SculptModule` with all parameters built."""
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"Wrapper(...) is called on a torch.nn.Module; got {type(model).__name__}."
            )
        return SculptModule(
            model,
            distribution=self.distribution,
            n_layers=self.n_layers,
            layer=self.layer,
            hidden=self.hidden,
            detach_features=self.detach_features,
            min_risk=self.min_risk,
        )

    def __repr__(self) -> str:
        return f"Wrapper(distribution={self.distribution!r}, n_layers={self.n_layers})"
