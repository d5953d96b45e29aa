"""From estimator parameters to a torch module, a skorch net and its callbacks.

Everything here reads the estimator's parameters and returns new objects; it
sets no estimator attribute. The ``"auto"`` rules it applies live in
:mod:`sculpt_sklearn._defaults`.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, ProgressBar
from torch import nn

from ._data import as_tensor
from ._defaults import resolve_schedule
from ._net import DivergenceGuard, SculptNet
from ._objectives import uses_detached_features
from ._optimizer import optimizer_kwargs
from ._params import accepted_kwargs, check_kwargs_for
from ._stopping import NetworkEarlyStopping
from ._tensor import evaluating
from .sculpt.distributions import SculptDistribution
from .sculpt.pool import Pool
from .sculpt.wrapper import SculptModule

__all__ = [
    "INPUT_WIDTH_NAMES",
    "target_standardisation",
    "OUTPUT_WIDTH_NAMES",
    "build_callbacks",
    "build_criterion",
    "check_loss_for_family",
    "configure_net",
    "build_module",
    "build_networks",
    "build_net",
]

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
    user_callbacks: list | None, per_network: bool = False,
) -> list[tuple[str, Any]]:
    """The net's callbacks for one call of fit (early stopping only when asked).

    ``per_network``: the module is a pool of networks trained side by side,
    each stopped on its own (:class:`NetworkEarlyStopping`, which also records
    the validation loss, so it comes before the divergence guard that reads it).
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
    if progress_bar:
        callbacks.append(("progress_bar", ProgressBar()))
    for i, cb in enumerate(user_callbacks or []):
        callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))
    return callbacks


def build_net(
    module: SculptModule,
    *,
    criterion: Any,
    criterion_kwargs: dict[str, Any],
    optimizer: type,
    optimizer_kwargs: dict[str, Any],
    schedule: dict[str, Any],
    callbacks: list[tuple[str, Any]],
    loss: str,
    beta: float,
    criterion_weight: float,
    max_grad_norm: float | None,
    device: Any,
    verbose: int,
) -> SculptNet:
    """A :class:`SculptNet` around ``module``, not yet initialised."""
    return SculptNet(
        module,
        criterion,
        sculpt_loss=loss,
        beta=beta,
        criterion_weight=criterion_weight,
        max_grad_norm=max_grad_norm,
        generator=torch.Generator(),
        optimizer=optimizer,
        lr=schedule["lr"],
        max_epochs=schedule["max_epochs"],
        batch_size=schedule["batch_size"],
        train_split=None,
        callbacks=callbacks,
        device=device,
        verbose=verbose,
        **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
    )


def configure_net(
    net: SculptNet,
    params: dict[str, Any],
    optimizer_params: dict[str, Any],
    *,
    n_rows: int | None,
    default_model: bool,
    use_validation: bool,
    current_optimizer: tuple,
) -> tuple:
    """Push the estimator's current training parameters into ``net`` before training.

    Called before every call of training, so that parameters changed with
    ``set_params`` take effect on a warm start or the next ``partial_fit``.
    The ``"auto"`` schedule follows ``n_rows`` (:func:`resolve_schedule`).
    The optimizer is rebuilt only when its class, weight decay or
    ``optimizer__*`` arguments changed (rebuilding resets its moments).

    Parameters
    ----------
    net : SculptNet
        The initialised net.
    params : dict
        The estimator's ``get_params(deep=False)``.
    optimizer_params : dict
        The ``optimizer__*`` arguments, without the prefix.
    n_rows : int or None
        Rows the schedule is resolved for.
    default_model : bool
        Whether the module is the built-in TabM.
    use_validation : bool
        Whether this call stops early (adds the early-stopping callback).
    current_optimizer : tuple
        The ``(optimizer, weight_decay, optimizer_params)`` the net was built
        or last configured with.

    Returns
    -------
    tuple
        The optimizer specification now in use (pass it back next time).
    """
    schedule = resolve_schedule(params, n_rows, default_model)
    spec = (params["optimizer"], params["weight_decay"], dict(optimizer_params))
    if spec != current_optimizer:
        kwargs = optimizer_kwargs(params["optimizer"], params["weight_decay"], optimizer_params,
                                  params["device"])
        net.set_params(
            optimizer=params["optimizer"], **{f"optimizer__{k}": v for k, v in kwargs.items()}
        )
    net.set_params(
        lr=schedule["lr"], batch_size=schedule["batch_size"],
        max_epochs=schedule["max_epochs"], verbose=params["verbose"],
    )
    net.sculpt_loss = params["loss"]
    net.beta = params["beta"]
    net.criterion_weight = params["criterion_weight"]
    net.max_grad_norm = params["max_grad_norm"]
    net.callbacks = build_callbacks(
        early_stopping=use_validation, patience=schedule["n_iter_no_change"],
        tol=params["tol"], progress_bar=params["progress_bar"],
        user_callbacks=params["callbacks"], per_network=isinstance(net.module_, Pool),
    )
    net.initialize_callbacks()
    return spec


def check_loss_for_family(loss: str, family: type[SculptDistribution]) -> None:
    """Refuse ``loss="crps"`` for a family without a (trainable) closed-form CRPS."""
    if loss != "crps":
        return
    if not family.has_crps:
        raise ValueError(
            f"loss='crps' has no closed form for {family!r}; use loss='nll'."
        )
    if not family.crps_trainable:
        raise ValueError(
            f"loss='crps' needs the gradient of the CRPS, which {family!r} "
            "does not have in torch (for Gamma: no derivative of the incomplete gamma "
            "function in its shape); train with loss='nll', 'beta_nll' or 'sample', or "
            "use distribution='lognormal' with loss='crps'."
        )
