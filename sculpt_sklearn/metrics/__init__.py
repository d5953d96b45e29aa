"""Scores of predictive distributions, and scorers for model selection.

Every metric takes ``(y_true, y_mean, y_std)``: the observed targets, the
predicted means and the predicted standard deviations (the *risk*), all of
shape ``(n_samples,)`` or ``(n_samples, n_outputs)``. ``distribution``
names the predictive family (``"normal"`` by default, or a class from
:mod:`sculpt_sklearn.sculpt`), so that a Laplace or Student-t model is judged
by its own density rather than by a Gaussian with the same standard
deviation. Multi-output arrays give one value per output, averaged (see
``multioutput``).

===========================  ===========================================  ======
metric                       what it measures                             better
===========================  ===========================================  ======
:func:`nll`                  negative log-likelihood (log score)          lower
:func:`crps`                 continuous ranked probability score          lower
:func:`coverage`             share of ``y`` inside the central interval   target
:func:`interval_width`       mean width of the central interval           lower
:func:`interval_score`       width plus penalty for misses (G&R 2007)     lower
:func:`calibration_error`    mean abs. expected - observed coverage       lower
:func:`miscalibration_area`  area between reliability curve and diagonal  lower
:func:`sharpness`            root mean predicted variance                 lower
===========================  ===========================================  ======

The scorers (:data:`neg_nll_scorer`, :data:`neg_crps_scorer`,
:data:`interval_score_scorer` and :func:`make_uncertainty_scorer`) plug these
into ``GridSearchCV(scoring=...)`` and ``cross_validate``; higher is better.
"""

from ._calibration import calibration_curve, calibration_error, miscalibration_area
from ._regression import coverage, crps, interval_score, interval_width, nll, sharpness
from ._scorers import UncertaintyScorer, evaluate_uncertainty, make_uncertainty_scorer
from ._summary import uncertainty_metrics

#: Negated mean NLL under the estimator's family; higher is better.
neg_nll_scorer = make_uncertainty_scorer(nll)
#: Negated mean CRPS under the estimator's family; higher is better.
neg_crps_scorer = make_uncertainty_scorer(crps)
#: Negated mean interval score of the central 90% interval; higher is better.
interval_score_scorer = make_uncertainty_scorer(interval_score)

__all__ = [
    "nll",
    "crps",
    "coverage",
    "interval_width",
    "interval_score",
    "calibration_curve",
    "calibration_error",
    "miscalibration_area",
    "sharpness",
    "uncertainty_metrics",
    "evaluate_uncertainty",
    "UncertaintyScorer",
    "make_uncertainty_scorer",
    "neg_nll_scorer",
    "neg_crps_scorer",
    "interval_score_scorer",
]
