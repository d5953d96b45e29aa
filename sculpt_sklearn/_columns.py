"""Column access and column kinds of a raw table (NumPy array or pandas DataFrame).

What :class:`~sculpt_sklearn._preprocess.TabularPreprocessor` needs to read a
table as it comes: one column at a time as float64 or as an object array with
one missing marker, which columns hold numbers, and which columns
``categorical_features`` designates.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["as_categories", "as_table", "categorical_mask", "column", "column_ids", "dtype_of",
           "holds_numbers", "label", "string_columns", "to_float"]

#: ``pandas.api.types.infer_dtype`` results of object columns that hold only numbers.
NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"})


def column_ids(idx: np.ndarray, names: Any) -> list[str] | list[int]:
    """Input columns by name when ``fit`` got string column names, else by position."""
    return [names[j] if names is not None else int(j) for j in idx]


def as_table(X: Any) -> pd.DataFrame | np.ndarray:
    """X as a DataFrame or a 2-D ndarray, without copying a DataFrame."""
    if sparse.issparse(X):
        raise TypeError(
            "The built-in model does not take sparse X; densify it (X.toarray()) "
            "or pass your own module."
        )
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if not isinstance(X, np.ndarray) and array.dtype.kind in "US":
        array = np.asarray(X, dtype=object)  # keep numbers as numbers in mixed lists
    if array.ndim != 2:
        raise ValueError(
            f"Expected a 2-D X (n_samples, n_features), got {array.ndim} dimension(s); "
            "reshape a single feature with X.reshape(-1, 1)."
        )
    return array


def string_columns(X: pd.DataFrame | np.ndarray) -> list[str] | None:
    """The column names of a DataFrame whose names are all strings, else None."""
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        return list(X.columns)
    return None


def label(j: int, names: Any) -> str:
    """Column ``j`` as an error message names it: its name in quotes, or its position."""
    return repr(names[j]) if names is not None else str(int(j))


def dtype_of(X: pd.DataFrame | np.ndarray, j: int) -> Any:
    """The dtype of column ``j`` (a DataFrame's own, or the array's)."""
    return X.dtypes.iloc[j] if isinstance(X, pd.DataFrame) else X.dtype


def column(X: pd.DataFrame | np.ndarray, j: int) -> np.ndarray:
    """Column ``j`` as float64 (numeric dtypes, NaN missing) or as an object array.

    The object array is a copy: pandas 3 hands out read-only arrays.
    """
    if isinstance(X, pd.DataFrame):
        series = X.iloc[:, j]
        if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
            series.dtype, pd.CategoricalDtype
        ):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.array(series.to_numpy(dtype=object, na_value=np.nan), dtype=object)
    else:
        values = X[:, j]
        if values.dtype.kind in "biuf":
            return values.astype(np.float64)
        values = values.astype(object)
    values[pd.isna(values)] = np.nan  # None, pd.NA, NaT: one missing marker
    return values


def holds_numbers(values: np.ndarray) -> bool:
    """Whether every non-missing value of the column is a real number."""
    if values.dtype != object:
        return True
    return pd.api.types.infer_dtype(values, skipna=True) in NUMBER_KINDS


def to_float(values: np.ndarray, label: str) -> np.ndarray:
    """A column of numbers as float64; a value that is not a number is refused."""
    if values.dtype != object:
        return values
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"Column {label} was numeric in fit but holds values that are not numbers; "
            "pass the same kind of values as in fit."
        ) from None


def as_categories(values: np.ndarray, numbers: bool) -> np.ndarray:
    """Floats for a column of numbers, strings otherwise; NaN stays the missing marker."""
    if numbers:  # a string unseen in fit becomes missing, as any unseen category
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        ).astype(object)
    out = values.astype(object)
    present = ~pd.isna(out)
    out[present] = out[present].astype(str)
    return out


# -- categorical_features -----------------------------------------------------------------


def categorical_mask(X: pd.DataFrame | np.ndarray, spec: Any, names: Any) -> np.ndarray:
    """The boolean mask of the categorical columns that ``spec`` designates."""
    p = X.shape[1]
    if spec is None:
        return np.zeros(p, dtype=bool)
    if isinstance(spec, str):
        if spec != "from_dtype":
            raise ValueError(
                f"categorical_features={spec!r} is not understood; use 'from_dtype', None, "
                "or a list of column indices, column names or a boolean mask."
            )
        return np.array([categorical_dtype(X, j) for j in range(p)], dtype=bool)
    if isinstance(spec, Integral) or np.ndim(spec) != 1:
        raise ValueError(
            f"categorical_features must be 'from_dtype', None or a 1-D array-like, got {spec!r}."
        )
    spec = np.asarray(spec)
    mask = np.zeros(p, dtype=bool)
    if spec.size == 0:
        return mask
    if spec.dtype.kind == "b":
        if spec.size != p:
            raise ValueError(
                f"categorical_features as a boolean mask has {spec.size} entries but X has "
                f"{p} columns; give one entry per column."
            )
        return spec.copy()
    if spec.dtype.kind in "iu":
        bad = spec[(spec < 0) | (spec >= p)]
        if bad.size:
            raise ValueError(
                f"categorical_features holds indices {bad.tolist()} outside [0, {p - 1}]; "
                "give column positions of X."
            )
        mask[spec] = True
        return mask
    if spec.dtype.kind in "UO" and all(isinstance(s, str) for s in spec):
        if names is None:
            raise ValueError(
                "categorical_features given as column names needs X as a pandas DataFrame "
                "with string column names; give column positions for other inputs."
            )
        unknown = [str(s) for s in spec if s not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names {unknown} that are not columns of X; "
                f"the columns are {names}."
            )
        mask[[names.index(s) for s in spec]] = True
        return mask
    raise ValueError(
        "categorical_features must hold integer indices, column names or booleans, "
        f"got an array of dtype {spec.dtype}."
    )


def categorical_dtype(X: pd.DataFrame | np.ndarray, j: int) -> bool:
    """``from_dtype``: category / string columns, and object columns not all numbers."""
    dtype = dtype_of(X, j)
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if dtype.kind in "biuf" or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_string_dtype(dtype)
    ):
        return False
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return not holds_numbers(column(X, j))
    if pd.api.types.is_string_dtype(dtype) or dtype.kind in "US":
        return True
    raise ValueError(
        f"Column {label(j, string_columns(X))} has dtype {dtype}, which is neither numeric "
        "nor categorical; convert it to numbers or list it in categorical_features."
    )
