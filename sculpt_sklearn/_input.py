"""Input validation for the estimator: scikit-learn's checks, with advice first.

scikit-learn's messages are precise but long (the NaN one runs to two URLs);
a user reads the first sentence, so the sentence that says what to do comes
first and scikit-learn's text follows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    check_consistent_length,
    validate_data,
)

__all__ = ["raw_table", "target_2d", "validate_fit_input", "validate_input",
           "validate_sample_weight", "validate_validation_data"]

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


def validate_fit_input(
    estimator: Any, X: Any, y: Any, *, builtin: bool, reset: bool, min_samples: int
) -> tuple[Any, np.ndarray]:
    """``fit``'s X and y: the raw table for the built-in model, else a float32 array.

    Parameters
    ----------
    estimator : SculptRegressor
        Sets (``reset=True``) or checks ``n_features_in_`` and ``feature_names_in_``.
    X, y : array-like
        As given to ``fit``.
    builtin : bool
        Whether the model is the built-in one (which encodes a raw table itself).
    reset : bool
        True for a fresh fit, False for one that continues a fitted model.
    min_samples : int
        Fewest rows accepted.

    Returns
    -------
    X : ndarray or DataFrame
    y : ndarray
    """
    if not builtin:
        return validate_input(
            validate_data, estimator, X, y, reset=reset, dtype=np.float32, multi_output=True,
            y_numeric=True, ensure_min_samples=min_samples,
        )
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


def target_2d(y: Any) -> np.ndarray:
    """``y`` as a float64 array of shape ``(n_samples, n_outputs)``.

    Raises
    ------
    ValueError
        When ``y`` does not hold numbers (a text target), with what to do.
    """
    try:
        y2d = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"y must hold numbers ({exc}); encode a text target as numbers first."
        ) from exc
    return y2d.reshape(-1, 1) if y2d.ndim == 1 else y2d


def validate_sample_weight(sample_weight: Any, X: Any) -> np.ndarray | None:
    """``fit``'s ``sample_weight``: float64, non-negative, one per row, not all zero.

    ``None`` stays ``None`` (every row weighs the same).
    """
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.any(sample_weight):  # scikit-learn 1.6 lets all-zero weights through
        raise ValueError(
            "sample_weight must contain at least one non-zero weight; all "
            f"{sample_weight.size} are zero. Give the rows to train on a positive weight."
        )
    return sample_weight


@contextmanager
def _about(name: str) -> Iterator[None]:
    """Name the argument a ValueError is about (scikit-learn's say X, y or sample_weight)."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"In {name}: {exc}") from exc


def validate_validation_data(
    estimator: Any, X_val: Any, y_val: Any, sample_weight_val: Any, *, n_outputs: int,
    builtin: bool,
) -> tuple[Any, np.ndarray, np.ndarray | None] | None:
    """Check the validation rows given to ``fit``, as ``X`` and ``y`` are checked.

    ``X_val`` goes through the input path of ``X`` with ``reset=False`` (the
    width and the column names seen in ``fit``; the raw table for the
    built-in model, which allows NaN and categories, a float32 array for a
    user's module, which does not). ``y_val`` must be numeric and finite with
    ``n_outputs`` outputs; ``sample_weight_val`` non-negative, one per row.
    ``builtin`` says whether the model is the built-in one.

    Returns
    -------
    (X_val, y_val, sample_weight_val) or None
        ``None`` when no validation data was given; else the checked table
        (not yet encoded), ``y_val`` as a float64 array of shape
        ``(n_val, n_outputs)`` and the float64 weights (or None).
    """
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError(
                "sample_weight_val was given without X_val and y_val; it weights the "
                "validation rows you pass, so pass X_val and y_val too, or drop it."
            )
        return None
    if y_val is None:
        raise ValueError(
            "X_val was given but y_val was not; pass both (the validation rows and their "
            "targets), or neither to let early_stopping hold out validation_fraction."
        )
    if X_val is None:
        raise ValueError(
            "y_val was given but X_val was not; pass both (the validation rows and their "
            "targets), or neither to let early_stopping hold out validation_fraction."
        )
    with _about("X_val"):
        if builtin:
            X_val = raw_table(estimator, X_val, reset=False)
        else:
            X_val = validate_input(validate_data, estimator, X_val, reset=False,
                                   dtype=np.float32)
    with _about("y_val"):
        y_val = validate_input(_check_y, y_val, multi_output=True, y_numeric=True,
                               estimator=estimator)
    y2d = np.asarray(y_val, dtype=np.float64)
    y2d = y2d.reshape(-1, 1) if y2d.ndim == 1 else y2d
    if y2d.shape[1] != n_outputs:
        raise ValueError(
            f"y_val has {y2d.shape[1]} output(s) but y has {n_outputs}; pass y_val with "
            "the columns of y."
        )
    try:
        check_consistent_length(X_val, y2d)
    except ValueError as exc:
        raise ValueError(
            f"X_val and y_val need one row per validation sample. ({exc})"
        ) from exc
    if X_val.shape[0] < 1:
        raise ValueError("X_val has no rows; pass at least one validation row, or none.")
    if sample_weight_val is not None:
        if np.size(sample_weight_val) and not np.any(sample_weight_val):
            raise ValueError(
                "Every X_val row has sample_weight_val 0, so there is nothing to validate "
                "on; give some of these rows a positive weight, or drop sample_weight_val."
            )
        with _about("sample_weight_val"):
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=np.float64, ensure_non_negative=True
            )
    return X_val, y2d, sample_weight_val
