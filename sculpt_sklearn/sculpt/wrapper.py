"""The Sculpt wrapper: give any regression module a risk output.

``Wrapper(Normal, n_layers=3)(model)`` returns a :class:`SculptModule`. Its
``forward(x)`` is the model's own forward; ``forward(x, return_risk=True)``
also returns the predictive standard deviation, computed by a small head that
reads the features feeding the model's output layer: its last ``nn.Linear``
or its last ensemble linear layer.

An ensemble linear layer (``tabm.LinearEnsemble``, ``tabm.LinearBatchEnsemble``
or any module with integer attributes ``k``, ``in_features`` and
``out_features``) maps ``(batch, k, in)`` to ``(batch, k, out)``: the model is
then an efficient ensemble of ``k`` members and gets one risk head per member.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from typing import Any

from torch import Tensor, nn

from .distributions import Normal, SculptDistribution, get_distribution
from .heads import EnsembleRiskHead, RiskHead
from .mixture import aleatoric_std

__all__ = ["Wrapper", "SculptModule", "RiskHead", "EnsembleRiskHead"]


# The features that feed the output layer, caught during one call of
# ``SculptModule._output_and_risk``: layer id -> the inputs seen in that call.
# A context variable, so that threads (and asyncio tasks) calling one module at
# the same time, or a call nested in another, each see only their own rows.
_CAPTURED: ContextVar[dict[int, list[Tensor]] | None] = ContextVar(
    "sculpt_captured_features", default=None
)


def _capture_input(module: nn.Module, inputs: tuple[Any, ...]) -> None:
    """Forward pre-hook of the output layer: record its input for the current call.

    Registered once per layer and kept (a module-level function, so the model
    still pickles and copies); it holds no state and does nothing outside a
    ``return_risk`` call. Registering a hook per call instead mutates a module
    that other threads may be running or pickling at that moment.
    """
    slots = _CAPTURED.get()
    if slots is not None:
        slot = slots.get(id(module))
        if slot is not None:
            slot.append(inputs[0])


def _ensure_capture_hook(layer: nn.Module) -> None:
    """Register :func:`_capture_input` on ``layer`` unless it is there already."""
    if not any(hook is _capture_input for hook in layer._forward_pre_hooks.values()):
        layer.register_forward_pre_hook(_capture_input)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ensemble_size(module: nn.Module) -> int | None:
    """``k`` if ``module`` is an ensemble linear layer, else None.

    Duck-typed on the interface tabm's ensemble layers share (``k``,
    ``in_features``, ``out_features``), so tabm is not needed to detect them.
    """
    if isinstance(module, nn.Linear):
        return None
    dims = [getattr(module, name, None) for name in ("k", "in_features", "out_features")]
    return dims[0] if all(_is_int(d) for d in dims) else None


def _is_output_layer(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or _ensemble_size(module) is not None


def _find_last_linear(model: nn.Module, layer: str | None) -> tuple[str, nn.Module]:
    """The layer whose input the risk head reads: an ``nn.Linear`` or an ensemble layer."""
    named = dict(model.named_modules())
    if layer is not None:
        if layer not in named:
            linears = [n for n, m in named.items() if _is_output_layer(m)]
            raise ValueError(
                f"layer={layer!r} is not a submodule of {type(model).__name__}; "
                f"its linear layers are {linears or 'none'}."
            )
        module = named[layer]
        if not _is_output_layer(module):
            raise ValueError(
                f"layer={layer!r} is a {type(module).__name__}, not an nn.Linear or an "
                "ensemble linear layer (with attributes k, in_features, out_features); "
                "the risk head reads the input of a linear layer, so name one."
            )
        return layer, module
    linears = [(n, m) for n, m in named.items() if _is_output_layer(m)]
    if not linears:
        kinds = sorted({type(m).__name__ for n, m in named.items() if n})
        raise ValueError(
            f"No nn.Linear layer found in {type(model).__name__} (it holds: "
            f"{', '.join(kinds) or 'no submodules'}). The risk head reads the features "
            "that feed the model's last linear layer (an nn.Linear, or an ensemble "
            "layer such as tabm.LinearEnsemble): give the model one, or name the "
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
        Name of the ``nn.Linear`` or ensemble linear layer whose input the risk
        head reads; default: the last of them in ``model.named_modules()`` order.
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
    risk_head : RiskHead or EnsembleRiskHead
        The head that computes the risk; an :class:`EnsembleRiskHead` (one head
        per member) when the layer is an ensemble layer.
    layer_name : str
        The name of the layer the head reads from.
    n_members : int
        Number of ensemble members: the layer's ``k``, or 1 for a plain model.
    n_layers : int
        Depth of the risk head.

    Notes
    -----
    The prediction is ``distribution.mean_link(model(x))``: the model's own
    output for the location-scale families (identity link), ``softplus(model(x))
    + 1e-8`` for the positive families (LogNormal, Gamma), whose mean must be
    positive.

    For an ensemble the model returns ``(batch, k, out)``; the wrapped module
    returns the members' mean ``(batch, out)`` (of the linked member means)
    and, with ``return_risk``, the aleatoric std of the mixture
    ``sqrt(mean_k sigma_k**2)``.
    ``return_members=True`` gives the per-member ``(mu_k, sigma_k)``, each
    ``(batch, k, out)``, for training and for the epistemic part.

    The risk head reads the output layer's input through a forward pre-hook
    registered on that layer once, at wrap time: a module-level function with
    no state, so the model still pickles and copies, and does nothing outside
    a ``return_risk`` call. Calls from several threads at once (a Dask worker
    predicting while it sends the model to a peer, a web server) and nested
    calls each read their own rows.
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
        self.n_layers = int(n_layers)
        self.model = model
        self.layer_name, linear = _find_last_linear(model, layer)
        if isinstance(linear, nn.modules.lazy.LazyModuleMixin) and linear.has_uninitialized_params():
            raise ValueError(
                f"The layer {self.layer_name!r} is a lazy layer whose input width is not "
                "known yet: call the model once on an example batch before wrapping it."
            )
        _ensure_capture_hook(linear)
        k = _ensemble_size(linear)
        self.is_ensemble = k is not None
        self.n_members = 1 if k is None else int(k)
        self.risk_head: RiskHead | EnsembleRiskHead
        if k is None:
            self.risk_head = RiskHead(
                linear.in_features, linear.out_features, n_layers=n_layers, hidden=hidden,
                min_risk=min_risk,
            )
        else:
            self.risk_head = EnsembleRiskHead(
                linear.in_features, linear.out_features, k=k, n_layers=n_layers,
                hidden=hidden, min_risk=min_risk,
            )

    def forward(
        self,
        x: Any,
        *args: Any,
        return_risk: bool = False,
        return_members: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Run the model; optionally also return the risk.

        Parameters
        ----------
        x : Tensor
            The model's input.
        *args, **kwargs
            Passed on to the model's forward.
        return_risk : bool, default=False
            Also return the risk.
        return_members : bool, default=False
            Return the per-member ``(mu_k, sigma_k)``, each ``(batch, k, out)``
            (``k = 1`` for a plain model); implies the risk.

        Returns
        -------
        y_hat : Tensor
            The prediction ``distribution.mean_link(model(x))`` (the members'
            mean of it for an ensemble), or ``mu_k`` with ``return_members``.
        y_risk : Tensor
            The predictive standard deviation, shape of ``y_hat``, positive:
            the aleatoric std ``sqrt(mean_k sigma_k**2)`` for an ensemble, or
            ``sigma_k`` with ``return_members``. Only returned when
            ``return_risk`` or ``return_members`` is True.
        """
        if not (return_risk or return_members):
            y_hat = self.model(x, *args, **kwargs)
            if self.is_ensemble:
                return self.distribution.mean_link(self._check_members(y_hat)).mean(dim=1)
            return self.distribution.mean_link(y_hat)
        y_hat, y_risk = self._output_and_risk(x, *args, **kwargs)
        if self.is_ensemble:
            if return_members:
                return y_hat, y_risk
            return y_hat.mean(dim=1), aleatoric_std(y_risk)
        if return_members:
            return y_hat.unsqueeze(1), y_risk.unsqueeze(1)
        return y_hat, y_risk

    def _check_members(self, y_hat: Tensor) -> Tensor:
        """Check that an ensemble's output carries its member axis, ``(batch, k, out)``."""
        if not isinstance(y_hat, Tensor) or y_hat.ndim != 3 or y_hat.shape[1] != self.n_members:
            shape = tuple(y_hat.shape) if isinstance(y_hat, Tensor) else type(y_hat).__name__
            raise RuntimeError(
                f"The layer {self.layer_name!r} is an ensemble layer with "
                f"k={self.n_members} members, so the model must return its members' "
                f"outputs, shape (batch, {self.n_members}, out); it returned {shape}. "
                "Return the ensemble layer's output unreduced (the wrapper averages the "
                "members), or name a plain nn.Linear with Wrapper(..., layer='name')."
            )
        return y_hat

    def _output_and_risk(self, x: Any, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
        """The model's output and the risk head's output, of the same shape."""
        # The features are caught by the layer's capture hook into a slot of this
        # call's context: copies, pickles, several wrappers of one model, threads
        # and nested calls never share them.
        layer = self.model.get_submodule(self.layer_name)
        _ensure_capture_hook(layer)  # a layer replaced after wrapping
        captured: list[Tensor] = []
        slots = dict(_CAPTURED.get() or {})
        slots[id(layer)] = captured
        token = _CAPTURED.set(slots)
        try:
            y_hat = self.model(x, *args, **kwargs)
        finally:
            _CAPTURED.reset(token)
        if not captured:
            raise RuntimeError(
                f"The model's forward did not call the layer {self.layer_name!r}, so "
                "there are no features for the risk head; name the layer that computes "
                "the output with Wrapper(..., layer='name.of.layer')."
            )
        features = captured[-1]
        if self.detach_features:
            features = features.detach()
        if self.is_ensemble:
            self._check_members(y_hat)
        y_hat = self.distribution.mean_link(y_hat)
        y_risk = self.risk_head(features)
        if y_risk.shape != y_hat.shape:
            if self.is_ensemble or y_risk.numel() != y_hat.numel():
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
        Name (as in ``model.named_modules()``) of the ``nn.Linear`` or ensemble
        linear layer whose input the risk head reads; default: the model's last
        one. An ensemble layer (``tabm.LinearEnsemble`` and the like) gives one
        risk head per member.
    hidden : int, optional
        Width of the head's hidden layers; default: the features' width.
    detach_features : bool, default=False
        Let the risk head read detached features ("faithful" training).
    min_risk : float, default=1e-6
        Floor of the predicted standard deviation.

    Notes
    -----
    ``wrapped(x)`` is ``link(model(x))`` with the family's
    :meth:`~sculpt_sklearn.sculpt.SculptDistribution.mean_link`: the model's
    own output for Normal, Laplace and StudentT (identity), so wrapping
    changes nothing there; ``softplus(model(x)) + 1e-8`` for the positive
    families (``sculpt.LogNormal``, ``sculpt.Gamma``), whose mean must be
    positive. For an ensemble
    the link applies to each member before the members are averaged, so
    ``return_members=True`` gives the members' positive means.

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
