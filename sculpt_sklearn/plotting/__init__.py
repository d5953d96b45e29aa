"""Plots of predicted uncertainty, as scikit-learn Display objects.

Each Display follows :class:`sklearn.calibration.CalibrationDisplay`:
``__init__`` stores the computed values, :meth:`plot` draws them on a given
``ax`` (a new figure when None) and sets ``ax_``, ``figure_`` and the drawn
artists, and two class methods compute and plot in one call:
``from_estimator(estimator, X, y)`` and ``from_predictions(y_true, y_mean,
y_std)``.

- :class:`ReliabilityDisplay`: expected against observed coverage of central
  intervals, the miscalibration area shaded.
- :class:`RiskErrorDisplay`: rows binned by predicted standard deviation, the
  root mean predicted variance of each bin against the RMSE of its
  residuals; a calibrated model lies on the diagonal.
- :class:`IntervalDisplay`: prediction intervals ordered by predicted mean,
  with the observed values.

matplotlib is an optional dependency: ``pip install sculpt-sklearn[plot]``.
"""

from __future__ import annotations

from ._interval import IntervalDisplay
from ._reliability import ReliabilityDisplay
from ._risk_error import RiskErrorDisplay

__all__ = ["ReliabilityDisplay", "RiskErrorDisplay", "IntervalDisplay"]
