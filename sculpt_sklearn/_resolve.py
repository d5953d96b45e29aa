"""The estimator's parameters resolved once per call of training, into one frozen value.

:func:`resolve_params` turns ``get_params()`` (``"auto"`` values, names of
families, ``module__*`` groups) into a :class:`ResolvedParams`: the family, the
number of networks, the module's constructor arguments, the schedule, the
optimizer's and the criterion's arguments. The net is built from it fully
configured (:mod:`._build`), and it is kept with the fitted model.

A call that continues a model (a warm start, a later ``partial_fit``) or loads
one (``load_params``) passes what that model is, a :class:`Reference`: its
structure then wins over the ``"auto"`` rules, and a parameter that names
another structure is refused with an error that names it, since the weights
belong to the structure they were trained in. Training parameters (``lr``,
``max_epochs``, ``batch_size``, ...) always take their current values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._build import build_criterion
from ._defaults import (
    is_auto,
    resolve_distribution,
    resolve_n_networks,
    resolve_schedule,
    tabm_module_kwargs,
)
from ._objectives import uses_detached_features
from ._optimizer import optimizer_kwargs
from ._params import same_value, split_prefixed
from .sculpt.distributions import SculptDistribution

__all__ = ["Reference", "ResolvedParams", "resolve_params"]

#: Stands for a value a reference does not know (a weights file stores no class).
UNKNOWN = None


def describe_family(family: type[SculptDistribution]) -> str:
    """The family as a message names it: ``normal``, ``studentt(df=3)``."""
    df = getattr(family, "df", None)
    return family.name + ("" if df is None else f"(df={float(df):g})")


@dataclass(frozen=True)
class Reference:
    """What a model that a call continues or loads already is.

    Attributes
    ----------
    source : {"warm_start", "partial_fit", "file"}
        Where it comes from; says what the error messages advise.
    builtin : bool
        Whether it is the built-in model (``module=None``).
    family : SculptDistribution subclass or None
        Its output family; None for a family a file names that is not one of
        the library's (the estimator must then name its class).
    family_description : str
        The family as messages name it (``studentt(df=3)``).
    n_networks : int
        Its number of networks.
    module_kwargs : dict
        The constructor arguments it was built with (a file stores them for the
        built-in model only: ``{}`` for a user's module).
    loss : str
        The objective its weights were trained with.
    schedule_rows : int or None
        The rows its ``"auto"`` schedule followed (None: the large-data rule);
        a later ``partial_fit`` keeps it.
    module, user_module_kwargs, n_layers, layer, risk_hidden, encoder
        Known for a fitted model only (``None`` from a file, where the shapes
        of the weights are checked instead).
    """

    source: str
    builtin: bool
    family: type[SculptDistribution] | None
    family_description: str
    n_networks: int
    module_kwargs: dict[str, Any]
    loss: str
    schedule_rows: int | None
    module: Any = UNKNOWN
    user_module_kwargs: dict[str, Any] | None = UNKNOWN
    n_layers: Any = UNKNOWN
    layer: Any = UNKNOWN
    risk_hidden: Any = UNKNOWN
    encoder: dict[str, Any] | None = UNKNOWN


@dataclass(frozen=True)
class ResolvedParams:
    """Every parameter of one call of training, resolved.

    The first group is the structure the weights belong to (fixed once the
    net is built); the second how they train (it may change between calls).
    Treat the dictionaries as read-only.
    """

    # -- what the weights are
    builtin: bool
    module: Any
    module_kwargs: dict[str, Any]
    user_module_kwargs: dict[str, Any]
    family: type[SculptDistribution]
    n_networks: int
    n_layers: int | str
    layer: str | None
    risk_hidden: int | None
    encoder: dict[str, Any] | None
    # -- how they train
    loss: str
    beta: float
    criterion: Any
    criterion_kwargs: dict[str, Any]
    criterion_weight: float
    max_grad_norm: float | None
    optimizer: type
    optimizer_kwargs: dict[str, Any]
    optimizer_spec: tuple
    schedule: dict[str, Any]
    schedule_rows: int | None
    use_validation: bool
    choose_shape: bool
    member_spread_correction: bool
    extrapolation_uncertainty: float
    tol: float
    max_time: float | None
    progress_bar: bool
    callbacks: list | None
    verbose: int
    device: Any

    def reference(self, source: str, n_layers: int) -> Reference:
        """This structure as the :class:`Reference` of a later call.

        ``n_layers`` is the risk head's depth as built (``"auto"`` resolved).
        """
        return Reference(
            source=source, builtin=self.builtin, family=self.family,
            family_description=describe_family(self.family), n_networks=self.n_networks,
            module_kwargs=self.module_kwargs, loss=self.loss, schedule_rows=self.schedule_rows,
            module=self.module, user_module_kwargs=self.user_module_kwargs,
            n_layers=n_layers, layer=self.layer, risk_hidden=self.risk_hidden,
            encoder=self.encoder,
        )

def encoder_params(params: dict[str, Any]) -> dict[str, Any]:
    """The built-in model's encoder parameters (what its input encoding depends on)."""
    return {"categorical_features": params["categorical_features"],
            "max_discrete_levels": params["max_discrete_levels"]}


def resolve_params(
    params: dict[str, Any],
    *,
    known_params: list[str],
    n_rows: int | None,
    incremental: bool,
    encoded: np.ndarray | None = None,
    preprocessor: Any = None,
    reference: Reference | None = None,
) -> ResolvedParams:
    """Resolve the estimator's parameters for one call of training (or a load).

    Parameters
    ----------
    params : dict
        ``get_params(deep=False)``, the prefixed ``module__*``, ``optimizer__*``
        and ``criterion__*`` parameters included.
    known_params : list of str
        The estimator's own parameter names (for "did you mean" hints).
    n_rows : int or None
        Rows passed to ``fit``; None for a ``partial_fit`` stream or a load
        (the large-data rule).
    incremental : bool
        Whether this is ``partial_fit`` (which never stops early).
    encoded : ndarray, optional
        The built-in model's encoded training rows (its bins come from them).
    preprocessor : TabularPreprocessor, optional
        The built-in model's fitted encoder (its widths and cardinalities).
    reference : Reference, optional
        The structure to continue (a fitted model) or to load (a file).

    Returns
    -------
    ResolvedParams

    Raises
    ------
    ValueError
        For a prefixed parameter no component accepts, a loss the family cannot
        train with, or a structural parameter that contradicts ``reference``.
    """
    prefixed = {k: v for k, v in params.items() if k not in known_params}
    groups = split_prefixed(prefixed, sorted(known_params))
    builtin = params["module"] is None
    family = resolve_distribution(params["distribution"], builtin)
    n_networks = resolve_n_networks(params["n_networks"], n_rows, builtin)
    schedule_rows = n_rows
    if reference is None:
        module_kwargs = dict(groups["module"])
        if builtin:
            module_kwargs = tabm_module_kwargs(
                encoded, preprocessor.n_numeric_out_, preprocessor.cat_cardinalities_,
                n_rows, module_kwargs,
            )
    else:
        _check_structure(params, groups["module"], builtin, family, reference)
        n_networks = reference.n_networks
        if reference.source != "file" or is_auto(params["distribution"]):
            family = _reference_family(reference)
        if reference.source == "file":
            module_kwargs = {**groups["module"], **reference.module_kwargs}
        else:
            module_kwargs = dict(reference.module_kwargs)
        if reference.source == "partial_fit":
            schedule_rows = reference.schedule_rows
    _check_loss(params["loss"], family)
    criterion, criterion_kwargs = build_criterion(params["criterion"], groups["criterion"])
    return ResolvedParams(
        builtin=builtin,
        module=params["module"],
        module_kwargs=module_kwargs,
        user_module_kwargs=dict(groups["module"]),
        family=family,
        n_networks=n_networks,
        n_layers=params["n_layers"],
        layer=params["layer"],
        risk_hidden=params["risk_hidden"],
        encoder=encoder_params(params) if builtin else None,
        loss=params["loss"],
        beta=params["beta"],
        criterion=criterion,
        criterion_kwargs=criterion_kwargs,
        criterion_weight=params["criterion_weight"],
        max_grad_norm=params["max_grad_norm"],
        optimizer=params["optimizer"],
        optimizer_kwargs=optimizer_kwargs(params["optimizer"], params["weight_decay"],
                                          groups["optimizer"], params["device"]),
        optimizer_spec=(params["optimizer"], params["weight_decay"], dict(groups["optimizer"])),
        schedule=resolve_schedule(params, schedule_rows, builtin),
        schedule_rows=schedule_rows,
        use_validation=params["early_stopping"] and not incremental,
        choose_shape=builtin and is_auto(params["distribution"]),
        member_spread_correction=bool(params["member_spread_correction"]),
        extrapolation_uncertainty=float(params["extrapolation_uncertainty"]),
        tol=params["tol"],
        max_time=params["max_time"],
        progress_bar=params["progress_bar"],
        callbacks=params["callbacks"],
        verbose=params["verbose"],
        device=params["device"],
    )


def _reference_family(reference: Reference) -> type[SculptDistribution]:
    if reference.family is None:
        raise ValueError(
            f"The saved weights were trained for the distribution "
            f"{reference.family_description!r}, which is not one of the library's families; "
            "create the estimator with that class as distribution=... to load them."
        )
    return reference.family


def _check_loss(loss: str, family: type[SculptDistribution]) -> None:
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


# -- structural parameters against a reference ------------------------------------------


def _check_structure(
    params: dict[str, Any], module_group: dict[str, Any], builtin: bool,
    family: type[SculptDistribution], reference: Reference,
) -> None:
    """Refuse a parameter that names another structure than ``reference``'s.

    ``family`` is ``distribution`` resolved (by the rule, for ``"auto"``).
    """
    if reference.source == "file":
        _check_file(params, module_group, builtin, family, reference)
        return
    source = reference.source
    if builtin != reference.builtin or (not builtin and params["module"] is not reference.module):
        _refuse_change("module", repr(params["module"]), reference.module, source)
    if not is_auto(params["distribution"]):
        if family is not reference.family:
            _refuse_change("distribution", repr(describe_family(family)),
                           reference.family_description, source)
    if not is_auto(params["n_networks"]) and int(params["n_networks"]) != reference.n_networks:
        _refuse_change("n_networks", repr(params["n_networks"]), reference.n_networks, source)
    _check_module_group(module_group, reference)
    if not is_auto(params["n_layers"]) and params["n_layers"] != reference.n_layers:
        _refuse_change("n_layers", repr(params["n_layers"]), reference.n_layers, source)
    for name in ("layer", "risk_hidden"):
        if params[name] != getattr(reference, name):
            _refuse_change(name, repr(params[name]), getattr(reference, name), source)
    if builtin:
        for name, fitted in reference.encoder.items():
            if not same_value(params[name], fitted):
                _refuse_change(name, repr(params[name]), fitted, source)
    if uses_detached_features(params["loss"]) != uses_detached_features(reference.loss):
        _refuse_change("loss", repr(params["loss"]), reference.loss, source,
                       why="a change to or from loss='faithful' (whose risk head reads "
                           "detached features, fixed when the net is built)")


def _check_module_group(module_group: dict[str, Any], reference: Reference) -> None:
    """``module__*`` against the fitted constructor arguments (the rule's, for TabM)."""
    given = reference.user_module_kwargs or {}
    for name in sorted(set(module_group) | set(given)):
        if name not in module_group:  # no longer given: the class default now
            _refuse_change(f"module__{name}", "unset", given[name], reference.source)
        current = module_group[name]
        fitted = reference.module_kwargs.get(name, given.get(name, _MISSING))
        if fitted is _MISSING or not same_value(current, fitted):
            _refuse_change(f"module__{name}", repr(current),
                           "its default" if fitted is _MISSING else fitted, reference.source)


_MISSING = object()


def _refuse_change(name: str, now: str, fitted: Any, source: str, why: str | None = None) -> None:
    """Raise the error of a structural parameter changed since the model was fitted.

    ``now`` is the parameter's current value as the message shows it.
    """
    what = why or f"{name} is part of the network's structure"
    if source == "warm_start":
        advice = (f"set warm_start=False to start over with the new {name}, or set it back "
                  f"with set_params({name}={fitted!r}) to continue training")
        call = "a warm start"
    else:
        advice = (f"call fit with warm_start=False to start over with the new {name}, or "
                  f"set it back with set_params({name}={fitted!r}) to continue the stream")
        call = "partial_fit"
    raise ValueError(
        f"{name} is now {now} but the model was fitted with {fitted!r}, and {call} "
        f"continues the fitted weights, which cannot change: {what}. To train with it, "
        f"{advice}."
    )


def _check_file(
    params: dict[str, Any], module_group: dict[str, Any], builtin: bool,
    family: type[SculptDistribution], reference: Reference,
) -> None:
    """A weights file's structure against the estimator that loads it."""
    if builtin != reference.builtin:
        raise ValueError(
            "The saved weights are those of "
            + ("the built-in model (module=None)" if reference.builtin else "a user's module")
            + ", but this estimator has "
            + ("module=None" if builtin else f"module={params['module']!r}")
            + "; create it with the same module as the one that saved them."
        )
    if not is_auto(params["distribution"]):
        if describe_family(family) != reference.family_description:
            name, _, df = reference.family_description.partition("(df=")
            raise ValueError(
                f"The saved weights were trained for distribution "
                f"{reference.family_description}, but this estimator has "
                f"{describe_family(family)}: its risk head would be read as another "
                "family's standard deviation (wrong intervals and NLL). Create the estimator "
                f"with distribution={name!r}"
                + (f" (sculpt.StudentT.with_df({df.rstrip(')')}))" if df else "")
                + "."
            )
    if params["loss"] != reference.loss:
        raise ValueError(
            f"The saved weights were trained with loss={reference.loss!r}, but this "
            f"estimator has loss={params['loss']!r}; create it with loss={reference.loss!r}."
        )
    clash = sorted(k for k in reference.module_kwargs
                   if k in module_group and not same_value(reference.module_kwargs[k],
                                                           module_group[k]))
    if clash:
        made_with = ", ".join(f"module__{k}={reference.module_kwargs[k]!r}" for k in clash)
        raise ValueError(
            f"The saved weights were made with {made_with}, which this estimator's "
            "parameters contradict; create the estimator with the same parameters as the "
            "one that saved them."
        )
    if not is_auto(params["n_networks"]) and int(params["n_networks"]) != reference.n_networks:
        raise ValueError(
            f"The saved weights are those of {reference.n_networks} network(s), but this "
            f"estimator has n_networks={params['n_networks']}; create it with "
            f"n_networks={reference.n_networks} (or 'auto')."
        )
