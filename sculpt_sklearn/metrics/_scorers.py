"""Scorers of fitted estimators for model selection, and the all-metrics report.

A scorer calls ``estimator.predict(X, return_std=True)`` and scores the pair
with the estimator's own family (see :func:`make_uncertainty_scorer`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.utils.metadata_routing import MetadataRequest

from .._predictive import DistributionLike, estimator_distribution, predict_with_std
from ._calibration import calibration_error, miscalibration_area
from ._recalibrated import quantile_only_model, refusal, score_by_quantiles
from ._regression import coverage, crps, interval_score, interval_width, nll, sharpness
from ._summary import uncertainty_metrics

__all__ = [
    "UncertaintyScorer",
    "make_uncertainty_scorer",
    "evaluate_uncertainty",
]


_METRICS: dict[str, Callable[..., Any]] = {
    "nll": nll,
    "crps": crps,
    "coverage": coverage,
    "interval_width": interval_width,
    "interval_score": interval_score,
    "calibration_error": calibration_error,
    "miscalibration_area": miscalibration_area,
    "sharpness": sharpness,
}


class UncertaintyScorer:
    """A scorer ``(estimator, X, y_true, sample_weight=None) -> float`` of a metric.

    Made by :func:`make_uncertainty_scorer`; see there. It calls
    ``estimator.predict(X, return_std=True)``, which
    :func:`sklearn.metrics.make_scorer` cannot (its scorers call
    ``predict(X)`` and hand the metric only the point predictions), and
    carries its own metadata request so that ``sample_weight`` is routed to
    it when scikit-learn's metadata routing is enabled
    (``set_score_request(sample_weight=True)``, as for scikit-learn's
    scorers) and passed whenever it is given when routing is off.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_mean, y_std, **kwargs) -> float``.
    sign : {1, -1}
        ``1`` when a higher metric is better, ``-1`` to negate it.
    kwargs : dict
        Extra keyword arguments of the metric. A ``distribution`` here
        overrides the one read from the estimator.
    """

    def __init__(self, metric: Callable[..., Any], sign: int, kwargs: dict[str, Any]) -> None:
        self._metric = metric
        self._sign = sign
        self._kwargs = kwargs
        self._sample_weight_request: bool | str | None = None

    def __repr__(self) -> str:
        name = getattr(self._metric, "__name__", repr(self._metric))
        sign = ", greater_is_better=True" if self._sign > 0 else ""
        kwargs = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"make_uncertainty_scorer({name}{sign}{kwargs})"

    def _routing_repr(self) -> str:
        return repr(self)

    def _parameters(self) -> Any:
        try:
            return inspect.signature(self._metric).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            return {}

    def _accept_sample_weight(self) -> bool:
        """Whether the metric takes ``sample_weight`` (scikit-learn calls this)."""
        parameters = self._parameters()
        return "sample_weight" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )

    def __call__(
        self, estimator: Any, X: Any, y_true: Any, sample_weight: Any = None, **kwargs: Any
    ) -> float:
        """Score ``estimator`` on ``(X, y_true)``; higher is better.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``predict(X, return_std=True)`` must return ``(y_mean, y_std)``.
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the metric.
        **kwargs
            Not accepted; present so that an unexpected routed parameter
            gets a clear error.

        Returns
        -------
        float
            ``sign * metric(y_true, y_mean, y_std, ...)``.
        """
        if kwargs:
            raise TypeError(
                f"{self!r} got unexpected argument(s) {sorted(kwargs)}; it accepts only "
                "sample_weight. Pass other metric arguments to make_uncertainty_scorer."
            )
        params = dict(self._kwargs)
        if sample_weight is not None:
            if not self._accept_sample_weight():
                raise TypeError(
                    f"{self!r}: the metric does not accept sample_weight; drop it or give "
                    "the metric a sample_weight parameter."
                )
            params["sample_weight"] = sample_weight
        if "distribution" in self._parameters() and "distribution" not in params:
            if quantile_only_model(estimator) is not None:
                value = score_by_quantiles(self._metric, estimator, X, y_true, **params)
                return self._sign * float(value)
            params["distribution"] = estimator_distribution(estimator)
        y_mean, y_std = predict_with_std(estimator, X)
        return self._sign * float(self._metric(y_true, y_mean, y_std, **params))

    def set_score_request(self, *, sample_weight: bool | str | None = None) -> UncertaintyScorer:
        """Request ``sample_weight`` when metadata routing is enabled (mutates this scorer).

        As scikit-learn's scorers: ``sample_weight`` reaches the scorer in
        ``cross_validate(params=...)`` and ``GridSearchCV.fit(..., **params)``
        only once requested. The module-level scorers are shared objects;
        make a private one with :func:`make_uncertainty_scorer` before
        changing its request.

        Parameters
        ----------
        sample_weight : bool, str or None, default=None
            ``True`` to request it, ``False`` to ignore it, ``None`` to raise
            an error when it is passed, or a string alias.

        Returns
        -------
        self : UncertaintyScorer
        """
        self._sample_weight_request = sample_weight
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """The metadata this scorer requests (scikit-learn's routing protocol).

        Returns
        -------
        MetadataRequest
            ``score`` requests ``sample_weight`` as set by
            :meth:`set_score_request`.
        """
        request = MetadataRequest(owner=repr(self))
        if self._accept_sample_weight():
            request.score.add_request(param="sample_weight", alias=self._sample_weight_request)
        return request


def make_uncertainty_scorer(
    metric: str | Callable[..., Any], *, greater_is_better: bool = False, **kwargs: Any
) -> UncertaintyScorer:
    """Make a scorer of a metric on ``(y_true, y_mean, y_std)``.

    The scorer calls ``estimator.predict(X, return_std=True)`` and scores
    with the estimator's own family: ``estimator.distribution_`` (for a
    Pipeline, its last step's), or Normal when there is none. It works as
    ``GridSearchCV(scoring=...)``, in ``cross_validate(scoring={...})`` and
    with scikit-learn's metadata routing on or off. With routing on, a
    Pipeline passes ``return_std`` to its last step only when that step
    requests it: :class:`~sculpt_sklearn.SculptRegressor` does by default;
    another last step (``RecalibratedRegressor``, ``GaussianProcessRegressor``,
    ...) needs ``.set_predict_request(return_std=True)``.

    A ``RecalibratedRegressor(method="isotonic")`` predicts a recalibrated
    distribution known by its quantiles, not its base family
    ``distribution_``: for it the ``"crps"``, ``"coverage"``,
    ``"interval_width"`` and ``"interval_score"`` scorers read its
    ``predict_quantiles`` (CRPS by the quantile form of the score, 512
    levels), and the others (``"nll"``, the reliability-curve metrics)
    raise a ValueError that says what to use, unless ``distribution`` is
    given.

    Parameters
    ----------
    metric : str or callable
        A name among ``"nll"``, ``"crps"``, ``"coverage"``,
        ``"interval_width"``, ``"interval_score"``, ``"calibration_error"``,
        ``"miscalibration_area"``, ``"sharpness"``, or a callable
        ``metric(y_true, y_mean, y_std, **kwargs) -> float``; a
        ``distribution`` parameter, when it has one, is filled in from the
        estimator.
    greater_is_better : bool, default=False
        Whether a higher metric is better; when False (losses, the default)
        the scorer returns the negated metric, so that higher is always
        better for scikit-learn's model selection.
    **kwargs
        Fixed keyword arguments of the metric, e.g. ``confidence_level=0.8``
        or ``distribution="laplace"`` (which then overrides the estimator's).

    Returns
    -------
    UncertaintyScorer
        A callable ``scorer(estimator, X, y, sample_weight=None) -> float``.

    Examples
    --------
    >>> from sculpt_sklearn.metrics import make_uncertainty_scorer
    >>> make_uncertainty_scorer("interval_score", confidence_level=0.8)
    make_uncertainty_scorer(interval_score, confidence_level=0.8)
    """
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; choose one of {sorted(_METRICS)} or pass a "
                "callable metric(y_true, y_mean, y_std, **kwargs)."
            )
        metric = _METRICS[metric]
    if not callable(metric):
        raise TypeError(f"metric must be a name or a callable; got {metric!r}.")
    if "sample_weight" in kwargs:
        raise ValueError(
            "sample_weight is data, not a fixed metric argument: pass it when scoring "
            "(cross_validate(params={'sample_weight': w}) with routing enabled)."
        )
    return UncertaintyScorer(metric, 1 if greater_is_better else -1, kwargs)



def evaluate_uncertainty(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    distribution: DistributionLike | None = None,
    confidence_level: float = 0.9,
    sample_weight: Any = None,
) -> dict[str, float]:
    """All the metrics of a fitted estimator on ``(X, y)``.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``predict(X, return_std=True)`` must return ``(y_mean, y_std)``
        (a SculptRegressor, a Pipeline ending in one, ...).
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    distribution : str or SculptDistribution subclass, default=None
        Predictive family; by default the estimator's ``distribution_``
        (its last step's for a Pipeline), else Normal. Required for a
        ``RecalibratedRegressor(method="isotonic")``, whose recalibrated
        distribution has no closed-form density (see
        :func:`make_uncertainty_scorer` for the scorers that fit it).
    confidence_level : float, default=0.9
        Level of the interval metrics.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    dict of str to float
        As :func:`uncertainty_metrics`, plus ``r2`` and ``rmse`` of the mean.

    Raises
    ------
    ValueError
        For a ``RecalibratedRegressor(method="isotonic")`` without
        ``distribution``.
    """
    if distribution is None and quantile_only_model(estimator) is not None:
        raise ValueError(
            "evaluate_uncertainty reports the NLL and the reliability curve, which need a "
            f"density. {refusal(nll, estimator)}"
        )
    y_mean, y_std = predict_with_std(estimator, X)
    family = estimator_distribution(estimator) if distribution is None else distribution
    scores = uncertainty_metrics(
        y, y_mean, y_std, distribution=family, confidence_level=confidence_level,
        sample_weight=sample_weight,
    )
    return {
        "r2": float(r2_score(y, y_mean, sample_weight=sample_weight)),
        "rmse": float(root_mean_squared_error(y, y_mean, sample_weight=sample_weight)),
        **scores,
    }
