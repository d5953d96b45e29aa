"""From resolved parameters to a torch module, a skorch net and its callbacks.

Everything here reads a :class:`~sculpt_sklearn._resolve.ResolvedParams`
(the ``"auto"`` rules are already applied, :mod:`sculpt_sklearn._defaults`)
and returns new objects or configures a net; it sets no estimator attribute.
The net is built fully configured (:func:`build_net`), and a call that
continues it applies the training parameters of its own resolution
(:func:`configure_training`).
"""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, ProgressBar
from torch import nn

from ._data import as_tensor
from ._device import rng_devices
from ._net import DivergenceGuard, SculptNet
from ._objectives import uses_detached_features
from ._params import accepted_kwargs, check_kwargs_for
from ._stopping import NetworkEarlyStopping, TimeBudget
from ._tensor import evaluating
from .models import TabMModule
from .sculpt.distributions import SculptDistribution
from .sculpt.pool import Pool
from .sculpt.wrapper import SculptModule

if TYPE_CHECKING:
    from ._resolve import ResolvedParams

__all__ = [
    "INPUT_WIDTH_NAMES",
    "MIN_RISK",
    "OUTPUT_WIDTH_NAMES",
    "build_callbacks",
    "build_criterion",
    "build_module",
    "build_net",
    "build_networks",
    "configure_training",
    "risk_head_depth",
    "target_standardisation",
]

#: Floor of the predicted standard deviation, in units of the standardised target.
MIN_RISK = 1e-4

#: Constructor arguments filled in with the input width, in order of preference.
INPUT_WIDTH_NAMES = ("n_features", "in_features", "in_dim", "input_dim", "n_inputs",
                     "input_size", "d_in", "n_in")
#: Constructor arguments filled in with the number of outputs.
OUTPUT_WIDTH_NAMES = ("n_outputs", "out_features", "out_dim", "output_dim", "output_size",
                      "d_out", "n_out")


def target_standardisation(
    y2d: np.ndarray, sample_weight: np.ndarray | None, target_loc: Any, target_scale: Any,
    family: type[SculptDistribution] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(loc, scale)`` per output: the given statistics, or the (weighted) data's own.

    A constant target gets a scale of 1 instead of a division by zero. For a
    positive family (``family.positive``: LogNormal, Gamma) the target is
    scaled, never shifted, so that it stays positive: ``loc`` is 0 and
    ``scale`` the (weighted) geometric mean of ``y``, which centres ``log(y /
    scale)`` at 0 (a typical scaled target is 1, the order of the mean
    link's output at initialisation), is robust to a long right tail
    (prices, counts) where the arithmetic mean is pulled up, and scales with
    ``y`` (so ``y * c`` gives means and risks ``* c``).
    """
    positive = family is not None and family.positive
    if (target_loc is None) != (target_scale is None):
        raise ValueError(
            "Set both target_loc and target_scale (to fix the target standardisation) "
            "or neither (to compute it from the data)."
        )
    if target_loc is not None:
        loc, scale = (
            np.broadcast_to(np.asarray(v, dtype=np.float64), (y2d.shape[1],)).copy()
            for v in (target_loc, target_scale)
        )
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError(
                "target_loc must be finite and target_scale finite and > 0; got "
                f"{target_loc!r} and {target_scale!r}."
            )
        if positive and np.any(loc != 0):
            raise ValueError(
                f"target_loc={target_loc!r}, but the {family.__name__} family is for "
                "positive targets: the target is only scaled (a shift would move part of "
                "it below 0). Set target_loc=0 with your target_scale, or leave both "
                "unset (the scale is then the geometric mean of y)."
            )
        return loc, scale
    if positive:
        log_mean = np.average(np.log(y2d), axis=0, weights=sample_weight)
        return np.zeros(y2d.shape[1]), np.exp(log_mean)
    loc = np.average(y2d, axis=0, weights=sample_weight)
    scale = np.sqrt(np.average((y2d - loc) ** 2, axis=0, weights=sample_weight))
    constant = scale <= 1e3 * np.finfo(np.float64).eps * np.maximum(np.abs(loc), 1e-300)
    return loc, np.where(constant | ~np.isfinite(scale), 1.0, scale)


def _fill_widths(spec: type, kwargs: dict[str, Any], n_features: int, n_outputs: int) -> None:
    """Fill the first accepted input/output width argument the user did not set."""
    accepted = accepted_kwargs(spec)
    if accepted is None:  # **kwargs: only the conventional names
        accepted = {"n_features", "n_outputs"}
    for names, value in ((INPUT_WIDTH_NAMES, n_features), (OUTPUT_WIDTH_NAMES, n_outputs)):
        present = [name for name in names if name in accepted]
        if present and not any(name in kwargs for name in present):
            kwargs[present[0]] = value


def _missing_arguments(spec: type, kwargs: dict[str, Any]) -> list[str]:
    try:
        signature = inspect.signature(spec.__init__)
    except (TypeError, ValueError):
        return []
    return [
        name for name, p in signature.parameters.items()
        if name != "self" and p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name not in kwargs
    ]


def instantiate_module(
    spec: Any, module_kwargs: dict[str, Any], n_features: int, n_outputs: int
) -> nn.Module:
    """The user's module: a class built with ``module__*`` arguments, or a copied instance."""
    if isinstance(spec, nn.Module):
        if module_kwargs:
            raise ValueError(
                f"module__{next(iter(module_kwargs))} sets a constructor argument, but "
                "module is an instance; pass the class instead, e.g. "
                f"module={type(spec).__name__}."
            )
        return copy.deepcopy(spec)
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        check_kwargs_for("module", spec, module_kwargs)
        kwargs = dict(module_kwargs)
        _fill_widths(spec, kwargs, n_features, n_outputs)
        missing = _missing_arguments(spec, kwargs)
        if missing:
            hints = ", ".join(f"module__{name}=..." for name in missing)
            raise ValueError(
                f"{spec.__name__}() needs the argument(s) {missing}, which the estimator "
                f"cannot fill in: pass them as SculptRegressor({hints}). (The input width "
                f"is filled in for an argument named one of {list(INPUT_WIDTH_NAMES)}, the "
                f"output width for one of {list(OUTPUT_WIDTH_NAMES)}.)"
            )
        return spec(**kwargs)
    raise TypeError(
        f"module must be None, a torch.nn.Module subclass or an instance; got {spec!r}."
    )


def check_module_output(module: nn.Module, rows: Any, n_outputs: int, device: Any) -> int:
    """Run the module on a few rows in eval mode: initialises lazy layers, checks the shape.

    Eval mode and ``no_grad`` leave no trace: BatchNorm's running statistics
    and dropout's random draws are untouched. Returns the output's number of
    dimensions (3 for an ensemble's ``(n, k, n_outputs)``).
    """
    probe = as_tensor(rows, torch.float32, device)
    try:
        with evaluating(module):
            out = module(probe)
    except Exception as exc:
        raise ValueError(
            f"The module's forward failed on a batch of shape {tuple(probe.shape)} "
            f"({type(exc).__name__}: {exc}). It must take a float32 tensor "
            "(n_samples, n_features) and return (n_samples, n_outputs) (or "
            "(n_samples, k, n_outputs) for an ensemble of k members)."
        ) from exc
    n = probe.shape[0]
    ok = isinstance(out, torch.Tensor) and (
        tuple(out.shape) == (n, n_outputs)
        or (out.ndim == 3 and out.shape[0] == n and out.shape[2] == n_outputs)
        or (n_outputs == 1 and tuple(out.shape) == (n,))
    )
    if not ok:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"The module returned {got} for {n} rows, but y has {n_outputs} "
            f"output(s): it must return a tensor of shape ({n}, {n_outputs}). "
            "Give its last layer n_outputs units (accept an n_outputs argument to "
            "have it filled in)."
        )
    return out.ndim


def build_module(
    module: nn.Module,
    *,
    distribution: type[SculptDistribution],
    probe: Any,
    n_outputs: int,
    n_layers: int | str,
    layer: str | None,
    risk_hidden: int | None,
    loss: str,
    min_risk: float,
    device: Any,
) -> SculptModule:
    """Check ``module`` on a probe batch and wrap it with a risk head.

    ``n_layers="auto"`` is 1 for an ensemble (a per-member linear head, as
    parameter-efficient as the members' own output layer) and 2 otherwise.
    """
    module = module.to(device)
    ndim = check_module_output(module, probe, n_outputs, device)
    if n_layers == "auto":
        n_layers = 1 if ndim == 3 else 2
    wrapped = SculptModule(
        module,
        distribution=distribution,
        n_layers=n_layers,
        layer=layer,
        hidden=risk_hidden,
        detach_features=uses_detached_features(loss),
        min_risk=min_risk,
    )
    return wrapped.to(device)


def build_networks(
    spec: Any, module_kwargs: dict[str, Any], n_networks: int, **wrap: Any
) -> SculptModule | Pool:
    """``n_networks`` modules built from ``spec``, each wrapped; pooled when more than one.

    Each network is built afresh from the class (its own initial weights,
    drawn in turn from torch's seeded generator) and wrapped by
    :func:`build_module` with ``wrap`` (``distribution``, ``probe``,
    ``n_outputs``, ``n_layers``, ``layer``, ``risk_hidden``, ``loss``,
    ``min_risk``, ``device``); one network is returned as it is, so that
    ``n_networks=1`` builds exactly what a single module always did.
    """
    if n_networks > 1 and isinstance(spec, nn.Module):
        raise ValueError(
            f"n_networks={n_networks} trains that many networks, each from its own "
            "initial weights, but module is an instance, which every network would copy; "
            f"pass its class (module={type(spec).__name__}, with module__* arguments) or "
            "set n_networks=1."
        )
    networks = [
        build_module(
            instantiate_module(spec, module_kwargs, n_features=wrap["probe"].shape[1],
                               n_outputs=wrap["n_outputs"]),
            **wrap,
        )
        for _ in range(n_networks)
    ]
    return networks[0] if n_networks == 1 else Pool(networks)


def build_criterion(
    criterion: Any, criterion_kwargs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The base criterion (class or instance) and its skorch keyword arguments.

    The criterion must give one loss per element so that row weights apply:
    a class is built with ``reduction="none"``; an instance with another
    reduction is copied with ``reduction="none"`` (the user's object is left
    as it is).
    """
    criterion = nn.MSELoss if criterion is None else criterion
    kwargs = dict(criterion_kwargs)
    if isinstance(criterion, type):
        check_kwargs_for("criterion", criterion, kwargs)
        kwargs.setdefault("reduction", "none")
        if kwargs["reduction"] != "none":
            raise ValueError(
                f"criterion__reduction={kwargs['reduction']!r}: the criterion must give one "
                "loss per element so that sample_weight applies; leave reduction unset."
            )
        return criterion, kwargs
    if kwargs:
        raise ValueError(
            f"criterion__{next(iter(kwargs))} sets a constructor argument, but criterion is "
            f"an instance; pass the class instead, e.g. criterion={type(criterion).__name__}."
        )
    if getattr(criterion, "reduction", "none") != "none":
        criterion = copy.deepcopy(criterion)
        criterion.reduction = "none"
    return criterion, kwargs


def build_callbacks(
    *, early_stopping: bool, patience: int, tol: float, progress_bar: bool,
    user_callbacks: list | None, per_network: bool = False, max_time: float | None = None,
) -> list[tuple[str, Any]]:
    """The net's callbacks for one call of fit (early stopping only when asked).

    ``per_network``: the module is a pool of networks trained side by side,
    each stopped on its own (:class:`NetworkEarlyStopping`). ``max_time``: a
    :class:`TimeBudget` of that many seconds of training.
    """
    callbacks: list[tuple[str, Any]] = [("divergence_guard", DivergenceGuard())]
    if early_stopping and per_network:
        callbacks.insert(0, ("early_stopping", NetworkEarlyStopping(patience, tol)))
    elif early_stopping:
        callbacks.append((
            "early_stopping",
            EarlyStopping(monitor="valid_loss", patience=patience, threshold=tol,
                          threshold_mode="abs", lower_is_better=True, load_best=True),
        ))
    if max_time is not None:
        callbacks.append(("time_budget", TimeBudget(max_time)))
    if progress_bar:
        callbacks.append(("progress_bar", ProgressBar()))
    for i, cb in enumerate(user_callbacks or []):
        callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))
    return callbacks


def _training_settings(resolved: ResolvedParams, pooled: bool) -> dict[str, Any]:
    """The net's settings of how it trains, from one resolution of the parameters."""
    schedule = resolved.schedule
    return {
        "lr": schedule["lr"],
        "max_epochs": schedule["max_epochs"],
        "batch_size": schedule["batch_size"],
        "verbose": resolved.verbose,
        "sculpt_loss": resolved.loss,
        "beta": resolved.beta,
        "criterion_weight": resolved.criterion_weight,
        "max_grad_norm": resolved.max_grad_norm,
        "callbacks": build_callbacks(
            early_stopping=resolved.use_validation, patience=schedule["n_iter_no_change"],
            tol=resolved.tol, progress_bar=resolved.progress_bar,
            user_callbacks=resolved.callbacks, per_network=pooled, max_time=resolved.max_time,
        ),
    }


def _prefixed(prefix: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}__{k}": v for k, v in kwargs.items()}


def build_net(
    resolved: ResolvedParams, probe: Any, *, n_outputs: int, seed: int
) -> SculptNet:
    """A fresh, initialised :class:`SculptNet` with its module, optimizer and callbacks.

    The networks are built under ``torch.manual_seed(seed)`` inside
    :func:`torch.random.fork_rng` (the global random state is left as it
    was); ``probe`` (a few encoded rows) initialises lazy layers and checks
    the module's output.
    """
    with torch.random.fork_rng(devices=rng_devices(resolved.device)):
        torch.manual_seed(seed)
        module = build_networks(
            TabMModule if resolved.builtin else resolved.module, resolved.module_kwargs,
            resolved.n_networks, distribution=resolved.family, probe=probe,
            n_outputs=n_outputs, n_layers=resolved.n_layers, layer=resolved.layer,
            risk_hidden=resolved.risk_hidden, loss=resolved.loss, min_risk=MIN_RISK,
            device=resolved.device,
        )
    net = SculptNet(
        module,
        resolved.criterion,
        generator=torch.Generator(),
        optimizer=resolved.optimizer,
        train_split=None,
        device=resolved.device,
        **_prefixed("criterion", resolved.criterion_kwargs),
        **_prefixed("optimizer", resolved.optimizer_kwargs),
        **_training_settings(resolved, pooled=isinstance(module, Pool)),
    )
    return net.initialize()


def configure_training(
    net: SculptNet, resolved: ResolvedParams, previous: ResolvedParams
) -> None:
    """Apply a call's training parameters to the net it continues (warm start, partial_fit).

    The schedule, the objective's settings and the callbacks take their new
    values; the optimizer is rebuilt (which resets its moments) only when its
    class, ``weight_decay`` or ``optimizer__*`` arguments changed, the
    criterion only when it or its ``criterion__*`` arguments changed.
    """
    settings = _training_settings(resolved, pooled=isinstance(net.module_, Pool))
    # skorch's set_params takes ``criterion_weight`` for a ``criterion__`` argument and
    # initialises the callbacks before replacing them: set those as attributes.
    for name in ("callbacks", "sculpt_loss", "beta", "criterion_weight", "max_grad_norm"):
        setattr(net, name, settings.pop(name))
    net.set_params(**settings)
    net.initialize_callbacks()
    if resolved.optimizer_spec != previous.optimizer_spec:
        _replace_component(net, "optimizer", resolved.optimizer, resolved.optimizer_kwargs)
        net.initialize_optimizer()
    if (resolved.criterion is not previous.criterion
            or resolved.criterion_kwargs != previous.criterion_kwargs):
        _replace_component(net, "criterion", resolved.criterion, resolved.criterion_kwargs)
        net.initialize_criterion()


def risk_head_depth(module: SculptModule | Pool) -> int:
    """The risk head's number of layers as built (``n_layers="auto"`` resolved)."""
    part = module.parts[0] if isinstance(module, Pool) else module
    return part.n_layers


def _replace_component(net: SculptNet, name: str, spec: Any, kwargs: dict[str, Any]) -> None:
    """Set a component's class and ``<name>__*`` arguments on the net (not yet rebuilt)."""
    for key in [k for k in vars(net) if k.startswith(f"{name}__")]:
        delattr(net, key)
    setattr(net, name, spec)
    for key, value in _prefixed(name, kwargs).items():
        setattr(net, key, value)


