"""Recalibration of predicted uncertainty on held-out rows.

A model can rank its rows by risk well and still be over- or
under-confident overall: its 90% intervals cover 70% or 99% of new
targets. :class:`RecalibratedRegressor` wraps any regressor whose
``predict(X, return_std=True)`` returns ``(mean, std)`` and fixes this with
rows the model did not train on, by one of two methods:

- ``"scale"``: one factor per output multiplies the predicted standard
  deviation, fitted by maximum likelihood (closed form for Normal:
  ``s^2 = mean(((y - mean) / std)^2)``). The family stays the same, so
  ``predict_dist`` and every metric work as before.
- ``"isotonic"``: Kuleshov, Fenner & Ermon, "Accurate Uncertainties for
  Deep Learning Using Calibrated Regression" (ICML 2018). An isotonic
  regression maps the predicted CDF level of each held-out target to the
  share of targets at or below it; quantiles and intervals are read at the
  recalibrated levels. It also fixes the shape (too light or too heavy
  tails), not only the scale.
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, get_tags

from ._predictive import central_intervals as _central_intervals
from ._predictive import check_confidence_levels as _check_confidence_levels
from ._predictive import check_positive_target as _check_positive_target
from ._predictive import check_predictions as _check_predictions
from ._predictive import check_quantile_levels as _check_quantile_levels
from ._predictive import estimator_distribution as _estimator_distribution
from ._predictive import predict_with_std as _predict_with_std
from ._predictive import predicted_cdf as _predicted_cdf
from ._risk_scale import fit_risk_scale_rows as _fit_scale
from .sculpt.distributions import SculptDistribution

__all__ = ["RecalibratedRegressor"]

#: Quadrature points of the moments of the isotonic-recalibrated family.
_N_QUADRATURE = 4096
#: The same, per row, for the families that are not location-scale (LogNormal, Gamma).
_N_ROW_QUADRATURE = 512
#: Rows per block of that per-row quadrature.
_ROW_BLOCK = 2048
#: Recalibrated CDF levels are kept inside [_EPS, 1 - _EPS] so quantiles stay finite.
_EPS = 1e-9


class RecalibratedRegressor(RegressorMixin, BaseEstimator):
    """Recalibrate a regressor's predicted uncertainty on held-out rows.

    Parameters
    ----------
    estimator : estimator object
        A regressor whose ``predict(X, return_std=True)`` returns ``(y_mean,
        y_std)``: a :class:`~sculpt_sklearn.SculptRegressor`, a Pipeline
        ending in one, a ``GaussianProcessRegressor``... Its family is
        ``estimator.distribution_`` (the last step's for a Pipeline), or
        Normal when it has none.
    method : {"scale", "isotonic"}, default="scale"
        ``"scale"``: multiply the standard deviation by one factor per
        output, fitted by maximum likelihood on the held-out rows.
        ``"isotonic"``: Kuleshov et al. (2018), an isotonic map from
        predicted CDF levels to observed frequencies, applied to quantiles
        and intervals.
    calibration_fraction : float, default=0.2
        Share of the rows given to ``fit`` that is held out for
        recalibration (the rest trains a clone of ``estimator``). Unused
        when ``cv="prefit"``.
    cv : None or "prefit", default=None
        ``None``: split the rows as above. ``"prefit"``: ``estimator`` is
        already fitted and used as is; every row given to ``fit`` is a
        recalibration row, so pass a held-out set the model never saw.
        (Wrapping the fitted model in :class:`sklearn.frozen.FrozenEstimator`
        with ``cv=None`` works too and keeps it from being refitted.)
    random_state : int, RandomState instance or None, default=None
        Seed of the split into training and recalibration rows.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted wrapped estimator (``estimator`` itself when
        ``cv="prefit"``).
    distribution_ : SculptDistribution subclass
        The family of the wrapped estimator.
    n_outputs_ : int
        Number of targets.
    scale_ : ndarray of shape (n_outputs,)
        ``method="scale"``: the factor of the standard deviation.
    calibrators_ : list of IsotonicRegression
        ``method="isotonic"``: one map per output from predicted CDF level
        to observed frequency.
    std_factor_ : ndarray of shape (n_outputs,) or None
        ``method="isotonic"``: the factor that ``predict(X,
        return_std=True)`` applies to the standard deviation (see
        :meth:`predict`). None for the positive families (LogNormal, Gamma),
        which are not location-scale: there the factor depends on the row and
        is computed at predict time.
    n_features_in_ : int
        Number of features seen by the wrapped estimator.

    See Also
    --------
    sculpt_sklearn.metrics.calibration_error : judge the calibration.

    Notes
    -----
    Recalibration needs rows the model did not train on: the residuals of
    training rows are smaller than those of new rows, and recalibrating on
    them makes a model more over-confident, not less.

    References
    ----------
    V. Kuleshov, N. Fenner and S. Ermon, "Accurate Uncertainties for Deep
    Learning Using Calibrated Regression", ICML 2018.

    Examples
    --------
    >>> from sculpt_sklearn import SculptRegressor
    >>> from sculpt_sklearn.calibration import RecalibratedRegressor
    >>> from sculpt_sklearn.datasets import make_heteroscedastic
    >>> X, y, _ = make_heteroscedastic(n_samples=300, random_state=0)
    >>> reg = RecalibratedRegressor(
    ...     SculptRegressor(max_epochs=5, random_state=0), random_state=0
    ... ).fit(X, y)
    >>> lower, upper = reg.predict_interval(X[:2], confidence_level=0.9)
    >>> bool((lower < upper).all())
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "method": [StrOptions({"scale", "isotonic"})],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "cv": [None, StrOptions({"prefit"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        *,
        method: str = "scale",
        calibration_fraction: float = 0.2,
        cv: str | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.calibration_fraction = calibration_fraction
        self.cv = cv
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.target_tags.single_output = inner.target_tags.single_output
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    @property
    def n_features_in_(self) -> int:
        """Number of features seen by the wrapped estimator."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} has no n_features_in_ before fit."
            ) from exc
        return self.estimator_.n_features_in_

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RecalibratedRegressor:
        """Fit the wrapped estimator (unless prefit) and the recalibration.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, passed to the wrapped estimator as they are.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, given to the wrapped estimator's ``fit`` on the
            training rows and used in the recalibration on the others.

        Returns
        -------
        self : RecalibratedRegressor
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if self.cv == "prefit":
            try:
                check_is_fitted(self.estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "cv='prefit' uses the estimator as it is, but it is not fitted: fit it "
                    "on training rows first and pass held-out rows here, or use cv=None to "
                    "split the rows given to fit."
                ) from exc
            self.estimator_ = self.estimator
            X_cal, y_cal, w_cal = X, y, sample_weight
        else:
            arrays = [X, y] if sample_weight is None else [X, y, sample_weight]
            parts = train_test_split(
                *arrays, test_size=self.calibration_fraction, random_state=self.random_state
            )
            X_fit, X_cal, y_fit, y_cal = parts[:4]
            w_cal = None if sample_weight is None else parts[5]
            fit_params = {} if sample_weight is None else {"sample_weight": parts[4]}
            self.estimator_ = clone(self.estimator).fit(X_fit, y_fit, **fit_params)
        y_mean, y_std = _predict_with_std(self.estimator_, X_cal)
        y_cal, y_mean, y_std, w_cal = _check_predictions(y_cal, y_mean, y_std, w_cal)
        self.distribution_ = _estimator_distribution(self.estimator_)
        self.n_outputs_ = y_cal.shape[1]
        _check_positive_target(y_cal, self.distribution_, "y (the recalibration rows)")
        if self.method == "scale":
            self.scale_ = _fit_scale(y_cal, y_mean, y_std, w_cal, self.distribution_)
        else:
            levels = _predicted_cdf(self.distribution_, y_cal, y_mean, y_std)
            self.calibrators_ = _fit_isotonic(levels, w_cal)
            self.std_factor_ = np.array([
                _isotonic_rms(calibrator, self.distribution_) for calibrator in self.calibrators_
            ]) if self.distribution_.location_scale else None
        return self

    # --------------------------------------------------------------- predict
    def _std_factor(self) -> np.ndarray:
        return self.scale_ if self.method == "scale" else self.std_factor_

    def predict(
        self, X: Any, return_risk: bool = False, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, ...]:
        """Predict the mean and, on request, the recalibrated risk and total std.

        The keywords mean what they mean for
        :meth:`SculptRegressor.predict <sculpt_sklearn.SculptRegressor.predict>`:
        ``return_std`` the **total** predictive standard deviation (what
        intervals and NLL use), ``return_risk`` the **aleatoric** part.

        The mean is the wrapped estimator's. With ``method="scale"`` the total
        standard deviation is the wrapped one times ``scale_``: the exact
        standard deviation of the recalibrated distribution. With
        ``method="isotonic"`` it is the wrapped one times ``std_factor_``,
        the root mean square about the predicted mean of the recalibrated
        distribution (computed by quadrature): the best single scale, but
        intervals and quantiles from :meth:`predict_interval` and
        :meth:`predict_quantiles` are the recalibrated ones, and they can
        be asymmetric. For the positive families (LogNormal, Gamma) that
        root mean square depends on the row and is computed per row
        (quadrature on 512 levels). The risk is the wrapped estimator's
        aleatoric std rescaled by the same factor as the total, row by row:
        recalibration says how wrong the total was, not how to split it, so
        the split (``risk / std``) stays the wrapped model's.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        return_risk : bool, default=False
            Also return the recalibrated aleatoric standard deviation. Needs
            a wrapped estimator whose ``predict`` takes ``return_risk`` (a
            :class:`~sculpt_sklearn.SculptRegressor` or a Pipeline ending in
            one).
        return_std : bool, default=False
            Also return the recalibrated total standard deviation.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted means.
        y_risk : ndarray, same shape as ``y_mean``
            Recalibrated aleatoric standard deviations. Only returned when
            ``return_risk`` is True.
        y_std : ndarray, same shape as ``y_mean``
            Recalibrated total standard deviations. Only returned when
            ``return_std`` is True (after ``y_risk`` when both are asked).

        Raises
        ------
        TypeError
            With ``return_risk=True`` when the wrapped estimator does not
            predict a risk.
        """
        check_is_fitted(self)
        if not (return_std or return_risk):
            return self.estimator_.predict(X)
        if return_risk:
            y_mean, y_risk, y_std = self._predict_risk_and_std(X)
        else:
            y_mean, y_std = _predict_with_std(self.estimator_, X)
            y_risk = None
        y_std = np.asarray(y_std)
        if self.method == "isotonic" and not self.distribution_.location_scale:
            total = self._isotonic_std_rows(np.asarray(y_mean), y_std)
            factor = total / y_std
        else:
            factor = self._std_factor()
            total = y_std * factor
        out = [y_mean]
        if return_risk:
            out.append(np.asarray(y_risk) * factor)
        if return_std:
            out.append(total)
        return tuple(out)

    def _predict_risk_and_std(self, X: Any) -> tuple[Any, Any, Any]:
        """The wrapped estimator's ``(mean, risk, std)``, or an error that says what to do."""
        name = type(self.estimator_).__name__
        try:
            out = self.estimator_.predict(X, return_risk=True, return_std=True)
        except TypeError as exc:
            if "return_risk" not in str(exc):
                raise
            raise TypeError(
                f"return_risk=True asks for the recalibrated aleatoric std, but the wrapped "
                f"{name}.predict does not take return_risk (it predicts no risk); ask for "
                f"return_std=True, the recalibrated total std. Original error: {exc}"
            ) from exc
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TypeError(
                f"{name}.predict(X, return_risk=True, return_std=True) must return "
                f"(y_mean, y_risk, y_std); got {type(out).__name__}."
            )
        return out

    def _recalibrated_levels(self, j: int, levels: np.ndarray) -> np.ndarray:
        """The base CDF levels whose recalibrated levels are ``levels``, output ``j``."""
        if self.method == "scale":
            return levels
        return np.clip(_inverse(self.calibrators_[j], levels), _EPS, 1.0 - _EPS)

    def _family_quantiles(
        self, y_mean: np.ndarray, y_std: np.ndarray, levels: np.ndarray
    ) -> np.ndarray:
        """Recalibrated quantiles row by row through the family's own quantile function.

        For the families that are not location-scale; shape ``y_mean.shape + (L,)``.
        """
        mean2d = y_mean.reshape(len(y_mean), -1)
        std2d = y_std.reshape(len(y_std), -1)
        if self.method == "scale":
            std2d = std2d * self.scale_
        out = np.empty((*mean2d.shape, levels.size))
        for j in range(mean2d.shape[1]):
            dist = self.distribution_.scipy_distribution(mean2d[:, j, None], std2d[:, j, None])
            out[:, j, :] = dist.ppf(self._recalibrated_levels(j, levels)[None, :])
        return out[:, 0, :] if y_mean.ndim == 1 else out

    def _isotonic_std_rows(self, y_mean: np.ndarray, y_std: np.ndarray) -> np.ndarray:
        """Root mean square about the mean of each row's recalibrated distribution.

        Midpoint quadrature over the recalibrated levels, row by row (the
        families that are not location-scale, where it depends on the row).
        """
        u = (np.arange(_N_ROW_QUADRATURE) + 0.5) / _N_ROW_QUADRATURE
        mean2d = y_mean.reshape(len(y_mean), -1)
        std2d = y_std.reshape(len(y_std), -1)
        out = np.empty(mean2d.shape)
        for start in range(0, len(mean2d), _ROW_BLOCK):
            rows = slice(start, start + _ROW_BLOCK)
            q = self._family_quantiles(mean2d[rows], std2d[rows], u)
            q = q if q.ndim == 3 else q[:, None, :]
            out[rows] = np.sqrt(np.mean((q - mean2d[rows, :, None]) ** 2, axis=-1))
        return out.reshape(y_mean.shape)

    def _standard_quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Recalibrated standard quantiles, shape (n_outputs, n_levels)."""
        standard = self.distribution_.scipy_distribution(0.0, 1.0)
        if self.method == "scale":
            return self.scale_[:, None] * standard.ppf(levels)[None, :]
        recalibrated = np.stack([_inverse(c, levels) for c in self.calibrators_])
        return standard.ppf(np.clip(recalibrated, _EPS, 1.0 - _EPS))

    def predict_quantiles(self, X: Any, quantiles: Any) -> np.ndarray:
        """Recalibrated quantiles of each row's predictive distribution.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        quantiles : array-like of shape (n_quantiles,)
            Levels, each strictly between 0 and 1.

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles) or (n_samples, n_outputs, n_quantiles)
            The quantiles; 3-D when the wrapped estimator predicts 2-D.
        """
        check_is_fitted(self)
        levels = _check_quantile_levels(quantiles)
        y_mean, y_std = _predict_with_std(self.estimator_, X)
        return self._quantiles(np.asarray(y_mean), np.asarray(y_std), levels)

    def _quantiles(self, y_mean: np.ndarray, y_std: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Recalibrated quantiles at ``levels`` from the wrapped (mean, std)."""
        if not self.distribution_.location_scale:
            return self._family_quantiles(y_mean, y_std, levels)
        z = self._standard_quantiles(levels)
        if y_mean.ndim == 1:
            return y_mean[:, None] + y_std[:, None] * z[0][None, :]
        return y_mean[:, :, None] + y_std[:, :, None] * z[None, :, :]

    def predict_interval(
        self, X: Any, confidence_level: float | Any = 0.9
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recalibrated central prediction interval of each row, at one or several levels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        confidence_level : float or array-like of shape (n_levels,), default=0.9
            Probability inside the interval, strictly between 0 and 1; or a
            1-D list of such levels, e.g. ``[0.5, 0.8, 0.9]``.

        Returns
        -------
        lower, upper : ndarray
            Bounds at the recalibrated levels ``0.5 -+ confidence_level / 2``.
            For a float ``confidence_level``: in the shape of ``predict(X)``.
            For a list of levels: that shape plus a last axis of the levels
            in the order given, ``(n_samples, n_levels)`` or ``(n_samples,
            n_outputs, n_levels)``; ``lower[..., i]`` equals the one-level
            call at ``confidence_level[i]``.
        """
        levels = _check_confidence_levels(confidence_level)
        check_is_fitted(self)
        y_mean, y_std = _predict_with_std(self.estimator_, X)
        y_mean, y_std = np.asarray(y_mean), np.asarray(y_std)

        def bounds_at(level: float) -> tuple[np.ndarray, np.ndarray]:
            bounds = self._quantiles(y_mean, y_std, np.array([0.5 - level / 2.0, 0.5 + level / 2.0]))
            return bounds[..., 0], bounds[..., 1]

        return _central_intervals(bounds_at, levels)

    def _has_parametric_dist(self) -> bool:
        return self.method == "scale"

    @available_if(_has_parametric_dist)
    def predict_dist(self, X: Any) -> Any:
        """The recalibrated predictive distribution as a frozen scipy.stats object.

        Only with ``method="scale"``, where the recalibrated distribution is
        the same family with a scaled standard deviation.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.

        Returns
        -------
        scipy.stats frozen distribution
            Vectorised over rows, in the shape of ``predict(X)``.
        """
        y_mean, y_std = self.predict(X, return_std=True)
        return self.distribution_.scipy_distribution(y_mean, y_std)


# ------------------------------------------------------------------ fitting helpers
def _fit_isotonic(
    predicted_levels: np.ndarray, sample_weight: np.ndarray | None
) -> list[IsotonicRegression]:
    """Per output, isotonic map from predicted CDF level (n, k) to observed frequency."""
    calibrators = []
    for j in range(predicted_levels.shape[1]):
        levels = predicted_levels[:, j]
        order = np.argsort(levels, kind="stable")
        w = np.ones(levels.size) if sample_weight is None else sample_weight[order]
        frequency = np.cumsum(w) / np.sum(w)
        calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        calibrators.append(calibrator.fit(levels[order], frequency, sample_weight=w))
    return calibrators


def _knots(calibrator: IsotonicRegression) -> tuple[np.ndarray, np.ndarray]:
    """The map's knots with the ends (0, 0) and (1, 1) added."""
    x = np.concatenate([[0.0], calibrator.X_thresholds_, [1.0]])
    y = np.concatenate([[0.0], calibrator.y_thresholds_, [1.0]])
    return x, y


def _inverse(calibrator: IsotonicRegression, levels: np.ndarray) -> np.ndarray:
    """Predicted CDF level whose recalibrated frequency is ``levels``.

    The map is piecewise linear between its knots; where it is flat the
    inverse takes the middle of the flat stretch.
    """
    x, y = _knots(calibrator)
    y_unique, group = np.unique(y, return_inverse=True)
    x_mean = np.bincount(group, weights=x) / np.bincount(group)
    return np.interp(levels, y_unique, x_mean)


def _isotonic_rms(calibrator: IsotonicRegression, family: type[SculptDistribution]) -> float:
    """Root mean square of the recalibrated standard family (midpoint quadrature)."""
    u = (np.arange(_N_QUADRATURE) + 0.5) / _N_QUADRATURE
    standard = family.scipy_distribution(0.0, 1.0)
    q = standard.ppf(np.clip(_inverse(calibrator, u), _EPS, 1.0 - _EPS))
    return float(np.sqrt(np.mean(q**2)))
