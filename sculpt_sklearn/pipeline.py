"""A scikit-learn Pipeline that also forwards the uncertainty verbs.

:class:`sklearn.pipeline.Pipeline` forwards ``predict`` (and
``predict_proba``, ``score``, ...) to its final step, but not the methods
that only a probabilistic regressor has. With it, an interval needs two
steps::

    lower, upper = model[-1].predict_interval(model[:-1].transform(X))

The :class:`Pipeline` here is scikit-learn's, plus ``predict_interval``,
``predict_quantiles``, ``predict_dist``, ``predict_uncertainty`` and
``sample``: each transforms ``X`` through the steps before the last and
calls the final step's method of the same name with the same arguments.
Each exists only when the final step has it, as scikit-learn does for
``predict_proba``. :func:`make_pipeline` mirrors
:func:`sklearn.pipeline.make_pipeline`.

Examples
--------
>>> from sklearn.preprocessing import StandardScaler
>>> from sculpt_sklearn import MLP, SculptRegressor
>>> from sculpt_sklearn.datasets import make_heteroscedastic
>>> from sculpt_sklearn.pipeline import make_pipeline
>>> X, y, _ = make_heteroscedastic(n_samples=200, random_state=0)
>>> model = make_pipeline(StandardScaler(), SculptRegressor(MLP, max_epochs=3, random_state=0))
>>> lower, upper = model.fit(X, y).predict_interval(X[:3], confidence_level=0.9)
>>> lower.shape
(3,)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn import pipeline as _sk_pipeline
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["Pipeline", "make_pipeline"]


def _final_step_has(name: str) -> Callable[[Pipeline], bool]:
    """``available_if`` check: the final step has the method ``name``.

    The final step's own ``AttributeError`` propagates, so ``hasattr`` is
    False and the message names the step's class (as in scikit-learn).
    """

    def check(self: Pipeline) -> bool:
        getattr(self.steps[-1][1], name)
        return True

    return check


class Pipeline(_sk_pipeline.Pipeline):
    """scikit-learn's Pipeline, with the uncertainty verbs of its final step.

    A subclass of :class:`sklearn.pipeline.Pipeline` with the same
    parameters and behaviour (``fit``, ``predict``, ``score``, slicing,
    ``clone``, ``get_params`` / ``set_params``, searches, pickling), plus
    ``predict_interval``, ``predict_quantiles``, ``predict_dist``,
    ``predict_uncertainty`` and ``sample``. Each transforms ``X`` with the
    ``transform`` of every step before the last (``"passthrough"`` and
    ``None`` steps are skipped) and returns what the final step's method of
    the same name returns for the transformed ``X`` and the other
    arguments, unchanged. Each is available only when the final step has
    that method: a :class:`~sculpt_sklearn.SculptRegressor` has all five; a
    :class:`~sculpt_sklearn.calibration.RecalibratedRegressor` has
    ``predict_interval`` and ``predict_quantiles``, and ``predict_dist``
    with ``method="scale"``; a plain ``Ridge`` has none.

    Parameters
    ----------
    steps : list of tuples
        ``(name, estimator)`` pairs, as for :class:`sklearn.pipeline.Pipeline`.
    transform_input : list of str, default=None
        As for :class:`sklearn.pipeline.Pipeline` (scikit-learn >= 1.6).
    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers, as for
        :class:`sklearn.pipeline.Pipeline`.
    verbose : bool, default=False
        Print the time each step takes to fit.

    See Also
    --------
    make_pipeline : build one without naming the steps.
    sklearn.pipeline.Pipeline : the parent class, for everything else.

    Notes
    -----
    The keyword arguments of the verbs go to the final step only; the
    transformers' ``transform`` is called with ``X`` alone, also with
    scikit-learn's metadata routing enabled (routing knows only
    scikit-learn's own method names).
    """

    def _transform_before_final(self, X: Any) -> Any:
        """``X`` through the ``transform`` of every step before the final one."""
        check_is_fitted(self)
        Xt = X
        for _, step in self.steps[:-1]:
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                Xt = step.transform(Xt)
        return Xt

    @available_if(_final_step_has("predict_interval"))
    def predict_interval(self, X: Any, *args: Any, **params: Any) -> tuple[Any, Any]:
        """Transform ``X``, then the final step's ``predict_interval``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        *args, **params
            Passed to the final step's ``predict_interval`` as they are, e.g.
            ``confidence_level=0.9`` or several levels
            ``confidence_level=[0.5, 0.9]``.

        Returns
        -------
        lower, upper : ndarray
            What the final step returns, e.g. for a
            :class:`~sculpt_sklearn.SculptRegressor` each of the shape of
            ``predict(X)`` for one level, with a last axis of levels for
            several.
        """
        return self.steps[-1][1].predict_interval(self._transform_before_final(X), *args, **params)

    @available_if(_final_step_has("predict_quantiles"))
    def predict_quantiles(self, X: Any, *args: Any, **params: Any) -> Any:
        """Transform ``X``, then the final step's ``predict_quantiles``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        *args, **params
            Passed to the final step's ``predict_quantiles`` as they are,
            e.g. ``quantiles=[0.05, 0.5, 0.95]``.

        Returns
        -------
        ndarray
            What the final step returns: ``(n_samples, n_quantiles)``, or
            ``(n_samples, n_outputs, n_quantiles)`` for 2-D ``y``, for the
            estimators of this package.
        """
        return self.steps[-1][1].predict_quantiles(self._transform_before_final(X), *args, **params)

    @available_if(_final_step_has("predict_dist"))
    def predict_dist(self, X: Any, *args: Any, **params: Any) -> Any:
        """Transform ``X``, then the final step's ``predict_dist``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        *args, **params
            Passed to the final step's ``predict_dist`` as they are.

        Returns
        -------
        scipy.stats frozen distribution
            What the final step returns: for the estimators of this package,
            one distribution per row (and output), vectorised.
        """
        return self.steps[-1][1].predict_dist(self._transform_before_final(X), *args, **params)

    @available_if(_final_step_has("predict_uncertainty"))
    def predict_uncertainty(self, X: Any, *args: Any, **params: Any) -> Bunch:
        """Transform ``X``, then the final step's ``predict_uncertainty``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        *args, **params
            Passed to the final step's ``predict_uncertainty`` as they are.

        Returns
        -------
        Bunch
            What the final step returns: for a
            :class:`~sculpt_sklearn.SculptRegressor`, ``mean``,
            ``aleatoric``, ``epistemic`` and ``total``.
        """
        return self.steps[-1][1].predict_uncertainty(
            self._transform_before_final(X), *args, **params
        )

    @available_if(_final_step_has("sample"))
    def sample(self, X: Any, *args: Any, **params: Any) -> Any:
        """Transform ``X``, then the final step's ``sample``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples_X, n_features)
            Input of the first step.
        *args, **params
            Passed to the final step's ``sample`` as they are, e.g.
            ``n_samples=100, random_state=0``.

        Returns
        -------
        ndarray
            What the final step returns: for a
            :class:`~sculpt_sklearn.SculptRegressor`, ``(n_samples_X,
            n_samples)`` or ``(n_samples_X, n_outputs, n_samples)``.
        """
        return self.steps[-1][1].sample(self._transform_before_final(X), *args, **params)


def make_pipeline(
    *steps: Any, memory: Any = None, transform_input: list[str] | None = None,
    verbose: bool = False,
) -> Pipeline:
    """Build a :class:`Pipeline` from estimators, naming them after their types.

    The same as :func:`sklearn.pipeline.make_pipeline` (same arguments, same
    step names), but the result is this module's :class:`Pipeline`, which
    also forwards the uncertainty verbs.

    Parameters
    ----------
    *steps : list of estimators
        The transformers and the final estimator, in order.
    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers, as in scikit-learn.
    transform_input : list of str, default=None
        Fit arguments other than ``X`` to transform through the steps
        (metadata routing; scikit-learn >= 1.6).
    verbose : bool, default=False
        Print the time each step takes to fit.

    Returns
    -------
    Pipeline
        A :class:`sculpt_sklearn.pipeline.Pipeline`.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sculpt_sklearn import SculptRegressor
    >>> from sculpt_sklearn.pipeline import make_pipeline
    >>> make_pipeline(StandardScaler(), SculptRegressor())
    Pipeline(steps=[('standardscaler', StandardScaler()),
                    ('sculptregressor', SculptRegressor())])
    """
    # scikit-learn names the steps; only public API is used, and transform_input
    # is passed only when set, so an older scikit-learn without it still works.
    extra = {} if transform_input is None else {"transform_input": transform_input}
    named = _sk_pipeline.make_pipeline(*steps, memory=memory, verbose=verbose, **extra)
    return Pipeline(named.steps, memory=memory, verbose=verbose, **extra)
