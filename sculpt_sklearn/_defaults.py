"""The ``"auto"`` rules: what the training defaults become for the data at hand.

One place for every rule on the number of rows (and the model) that the
estimator's ``"auto"`` parameters follow: the output family, the schedule
(``max_epochs``, ``batch_size``, ``lr``, ``n_iter_no_change``), the number of
networks trained side by side, and the built-in TabM's size. Each was chosen on inner
validation splits of the UCI benchmark, never on its test rows
(``docs/benchmarks.md``, "The TabM default: inner-validation study").
"""

from __future__ import annotations

import logging
from typing import Any

from .sculpt.distributions import Normal, SculptDistribution, get_distribution
from .sculpt.studentt import StudentT

__all__ = ["POOLED_MAX_ROWS", "SCHEDULE_PARAMS", "cpu_has_native_bf16", "is_auto",
           "resolve_distribution",
           "resolve_n_networks", "resolve_schedule", "tabm_module_kwargs", "tabm_schedule"]

logger = logging.getLogger(__name__)


def resolve_distribution(
    distribution: str | type[SculptDistribution], default_model: bool
) -> type[SculptDistribution]:
    """The output family: ``distribution``, or the ``"auto"`` rule.

    ``"auto"`` (any case) is Student-t with 5 degrees of freedom for the
    built-in model and Normal for a user's module (the MLP included). On
    inner validation of the UCI sets the built-in model's standardised
    residuals were heavier-tailed than a Normal's on every small set
    (kurtosis 4-14), and the Student-t family lowered its NLL on 21 of 24
    dataset-splits, on every small set's mean, and not worse on the larger
    sets (``docs/benchmarks.md``, the tenth study round). A user's module
    keeps the Normal it always had.
    """
    if is_auto(distribution):
        return StudentT if default_model else Normal
    return get_distribution(distribution)


def is_auto(value: Any) -> bool:
    """Whether a parameter value is ``"auto"`` (any case, surrounding spaces ignored)."""
    return isinstance(value, str) and value.strip().lower() == "auto"


#: The schedule parameters that "auto" resolves.
SCHEDULE_PARAMS = ("max_epochs", "batch_size", "lr", "n_iter_no_change")


def resolve_schedule(
    params: dict[str, Any], n_rows: int | None, default_model: bool = False
) -> dict[str, Any]:
    """Resolve the ``"auto"`` training parameters.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``max_epochs``, ``batch_size``, ``lr``,
        ``n_iter_no_change``), each an explicit value or ``"auto"``.
    n_rows : int or None
        Rows passed to ``fit``. ``None`` means a stream of chunks of unknown
        total size (``partial_fit``): it gets the large-data rule.
    default_model : bool, default=False
        Whether the module is the built-in TabM (its own rule) or a user's
        module / the MLP.

    Returns
    -------
    dict
        The four parameters with ``"auto"`` replaced.
    """
    if default_model:
        auto = tabm_schedule(n_rows)
    else:
        small = n_rows is not None and n_rows <= 2000
        tiny = n_rows is not None and n_rows < 1000
        auto = {
            "max_epochs": 1000 if tiny else 300,
            "batch_size": 32 if small else 64,
            "lr": 3e-3 if small else 1e-3,
            "n_iter_no_change": 50 if tiny else 20,
        }
    resolved = {name: auto[name] if params[name] == "auto" else params[name]
                for name in SCHEDULE_PARAMS}
    logger.debug("Training schedule for %s rows: %s", n_rows, resolved)
    return resolved


#: The "auto" rule of n_networks: the built-in model trains two networks side by side
#: on up to this many rows (the eighth study round, docs/benchmarks.md).
POOLED_MAX_ROWS = 2000


def resolve_n_networks(n_networks: int | str, n_rows: int | None, default_model: bool) -> int:
    """How many networks train side by side: ``n_networks``, or the ``"auto"`` rule.

    ``"auto"`` is 2 for the built-in model on at most :data:`POOLED_MAX_ROWS`
    rows and 1 otherwise (a user's module or the MLP, larger data, a
    ``partial_fit`` stream). On the small UCI sets two networks, each
    holding out its own rows, gave a lower inner-validation NLL on all four
    sets at about twice the compute; on larger data one network sees enough rows
    and the second costs as much as the first.
    """
    if n_networks != "auto":
        return int(n_networks)
    small = n_rows is not None and n_rows <= POOLED_MAX_ROWS
    return 2 if default_model and small else 1


def tabm_schedule(n_rows: int | None) -> dict[str, Any]:
    """The ``"auto"`` schedule of the built-in TabM model, by number of rows.

    Batch size grows with the rows (32 up to 1,000, 64 up to 5,000, 128 up
    to 10,000, 256 above: with 16 ms a step at batch 128 and k=16, 20,000
    rows took 1.5x NGBoost's CPU time, ``benchmarks/results/speed_defaults.md``).
    Patience is 16 epochs, except on up to 500 rows, where an epoch
    is fewer than about 16 optimizer steps: there it is 32, so that early
    stopping waits a few hundred steps (the inner-validation study in
    ``docs/benchmarks.md``, "The TabM default: inner-validation study").
    """
    n = 10**9 if n_rows is None else n_rows
    if n <= 1000:
        batch_size = 32
    elif n <= 5000:
        batch_size = 64
    elif n <= 10000:
        batch_size = 128
    else:
        batch_size = 256
    patience = 32 if n <= 500 else 16
    return {"max_epochs": 300, "batch_size": batch_size, "lr": 2e-3,
            "n_iter_no_change": patience}


def tabm_module_kwargs(
    X_encoded: Any,
    n_numeric: int,
    cat_cardinalities: list[int],
    n_rows: int | None,
    user_kwargs: dict[str, Any],
) -> dict[str, Any]:
    """Constructor arguments of the built-in :class:`TabMModule`: the user's, then the rule.

    Explicit ``module__*`` arguments win; the rest follow from the data (as
    ``tabm.TabM.make`` does): the categorical cardinalities from the encoder
    and, for piecewise-linear embeddings, the bins from the encoded training
    rows. Members: 16, and 8 above 10,000 rows (or for a stream of unknown
    length, ``n_rows=None``), where the gain of more members is small and
    their cost large (on 20,000 x 8 rows k=8 with batch 256 came within 0.005
    nats of k=16's test NLL at a quarter of its CPU time). Mixed precision
    (the blocks' products in bfloat16 in training) where the CPU computes
    bfloat16 natively (:func:`cpu_has_native_bf16`): on inner validation
    (``benchmarks/speed_study.py``, the speed study of issue 23) it changed
    the NLL by -0.003 to +0.009 on kin8nm and power at 0.7-0.9x the CPU time.
    """
    from .models import compute_bins

    large = n_rows is None or n_rows > 10000
    kwargs: dict[str, Any] = {"k": 8 if large else 16, "d_block": 128, "n_blocks": 2,
                              "mixed_precision": cpu_has_native_bf16()}
    kwargs.update(user_kwargs)
    kwargs.setdefault("cat_cardinalities", list(cat_cardinalities))
    embeddings = kwargs.get("embeddings", "piecewise")
    if n_numeric and embeddings == "piecewise" and "bins" not in kwargs:
        kwargs["bins"] = compute_bins(X_encoded[:, :n_numeric], n_bins=kwargs.get("n_bins", 48))
    return kwargs


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), per torch.

    Elsewhere bfloat16 is emulated, slower than float32, and the built-in model
    trains in float32.
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)
