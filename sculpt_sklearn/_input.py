"""Input validation for the estimator: scikit-learn's checks, with advice first.

scikit-learn's messages are precise but long (the NaN one runs to two URLs);
a user reads the first sentence, so the sentence that says what to do comes
first and scikit-learn's text follows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import _check_y, check_consistent_length, validate_data

__all__ = ["raw_table", "validate_input", "validate_raw_fit_input"]

#: Advice put before scikit-learn's input-validation errors, by what they say.
_INPUT_ADVICE = (
    (("could not convert", "Unable to convert"),
     "SculptRegressor needs numeric X and y with a custom module: encode categorical or "
     "text feature columns first (OneHotEncoder or OrdinalEncoder in a ColumnTransformer), "
     "or use the default module (module=None), which encodes them itself."),
    (("contains NaN", "contains infinity"),
     "X or y holds NaN or infinite values: impute X (a SimpleImputer in a Pipeline, or the "
     "default module, which handles missing values itself) and drop those rows of y."),
    (("dim 3", "dim 4", "dim 5"),
     "X must be 2-D (n_samples, n_features); flatten extra axes, e.g. X.reshape(len(X), -1)."),
    (("features, but", "feature names should match"),
     "Pass the same columns as in fit, in the same order."),
    (("inconsistent numbers of samples",),
     "X, y and sample_weight need one row per sample."),
    (("0 sample(s)", "1 sample(s)"),
     "fit needs at least 2 rows (and a validation row when early_stopping=True)."),
)


def validate_input(validate: Any, *args: Any, **kwargs: Any) -> Any:
    """Call scikit-learn's ``validate`` and put advice in front of its ValueError.

    Parameters
    ----------
    validate : callable
        ``sklearn.utils.validation.validate_data`` or a function like it.
    *args, **kwargs
        Passed to ``validate``.

    Returns
    -------
    Whatever ``validate`` returns.
    """
    try:
        return validate(*args, **kwargs)
    except ValueError as exc:
        message = str(exc)
        for needles, advice in _INPUT_ADVICE:
            if any(needle in message for needle in needles):
                raise ValueError(f"{advice} ({message.strip()})") from exc
        raise


def raw_table(estimator: Any, X: Any, *, reset: bool) -> Any:
    """A raw table for the built-in model: a DataFrame as it is, else a 2-D array.

    Only the shape and the column names are checked here (``validate_data``
    with ``skip_check_array``, which sets or checks ``n_features_in_`` and
    ``feature_names_in_``); the values are the input encoder's business.
    """
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "The built-in model does not take sparse X; pass a dense array or a "
            "DataFrame (X.toarray()), or use your own module."
        )
    if not hasattr(X, "iloc"):
        X = np.asarray(X)
        if X.dtype.kind not in "biufcOUSb":
            X = X.astype(object)
        if X.ndim == 1:
            raise ValueError(
                f"Expected a 2-D X, got a 1-D array of {X.shape[0]} values: Reshape your "
                "data either using X.reshape(-1, 1) if it has a single feature or "
                "X.reshape(1, -1) if it contains a single sample."
            )
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-D (n_samples, n_features); flatten extra axes, e.g. "
                f"X.reshape(len(X), -1). (Found array with dim {X.ndim}.)"
            )
    if X.shape[1] == 0:
        raise ValueError(
            f"X has no columns; pass at least one feature. (Found array with 0 "
            f"feature(s) (shape={X.shape}) while a minimum of 1 is required.)"
        )
    validate_input(validate_data, estimator, X, reset=reset, skip_check_array=True)
    return X


def validate_raw_fit_input(
    estimator: Any, X: Any, y: Any, *, reset: bool, min_samples: int
) -> tuple[Any, np.ndarray]:
    """The raw table and the validated ``y`` for the built-in model's ``fit``."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    X = raw_table(estimator, X, reset=reset)
    y = validate_input(_check_y, y, multi_output=True, y_numeric=True, estimator=estimator)
    validate_input(check_consistent_length, X, y)
    if X.shape[0] < min_samples:
        raise ValueError(
            f"fit needs at least {min_samples} rows (and a validation row when "
            f"early_stopping=True). (Found array with {X.shape[0]} sample(s) "
            f"(shape={X.shape}) while a minimum of {min_samples} is required.)"
        )
    return X, y
