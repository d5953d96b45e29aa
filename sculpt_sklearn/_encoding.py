"""The built-in model's fitted column maps, applied from plain arrays.

:class:`~sculpt_sklearn._preprocess.TabularPreprocessor` learns its maps with
scikit-learn (the quantiles of a
:class:`~sklearn.preprocessing.QuantileTransformer`) and NumPy, and keeps only
plain arrays and lists: a weights file then stores numbers and strings, never
a scikit-learn class by its (private, movable) module path, and loading it
rebuilds the same encoder in any version of scikit-learn. The functions here
apply those arrays as scikit-learn's transformers do (tested against them):

- :func:`normal_quantile_codes`: ``QuantileTransformer(output_distribution="normal")``;
- :func:`fit_categories` / :func:`category_codes`: ``OrdinalEncoder`` with missing
  values and unknown categories coded -1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["category_codes", "fit_categories", "normal_quantile_codes"]

#: scikit-learn's ``BOUNDS_THRESHOLD`` of the quantile map (``sklearn.preprocessing._data``).
BOUNDS_THRESHOLD = 1e-7


def normal_quantile_codes(
    X: np.ndarray, quantiles: np.ndarray, references: np.ndarray
) -> np.ndarray:
    """Map each column to the standard normal by its fitted quantiles.

    The forward map of ``QuantileTransformer(output_distribution="normal")``
    with its fitted ``quantiles_`` and ``references_``: linear interpolation
    of the quantile level (averaged over both directions, so that repeated
    quantiles map to their middle), the levels beyond the fitted range set to
    0 and 1, then the normal quantile function, clipped so that it stays
    finite. NaN stays NaN.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Values.
    quantiles : ndarray of shape (n_quantiles, n_features)
        The fitted quantiles of each column (``QuantileTransformer.quantiles_``).
    references : ndarray of shape (n_quantiles,)
        Their levels (``QuantileTransformer.references_``).

    Returns
    -------
    ndarray of shape (n_samples, n_features), float64
    """
    out = np.array(X, dtype=np.float64, copy=True)
    clip_min = stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1))
    clip_max = stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1)))
    for j in range(out.shape[1]):
        col, q = out[:, j], quantiles[:, j]
        with np.errstate(invalid="ignore"):
            below = col - BOUNDS_THRESHOLD < q[0]
            above = col + BOUNDS_THRESHOLD > q[-1]
        finite = ~np.isnan(col)
        values = col[finite]
        col[finite] = 0.5 * (
            np.interp(values, q, references)
            - np.interp(-values, -q[::-1], -references[::-1])
        )
        col[above] = 1.0
        col[below] = 0.0
        with np.errstate(invalid="ignore"):
            out[:, j] = np.clip(stats.norm.ppf(col), clip_min, clip_max)
    return out


def fit_categories(block: np.ndarray) -> list[list]:
    """The sorted observed categories of each column (missing values left out).

    Parameters
    ----------
    block : ndarray of object, shape (n_samples, n_columns)
        Each column all floats or all strings, with NaN (or None) missing.

    Returns
    -------
    list of list
        Per column, its distinct non-missing values in sorted order, as
        ``OrdinalEncoder.categories_`` has them (without its trailing NaN).
    """
    return [sorted({v for v in block[:, j] if not pd.isna(v)}) for j in range(block.shape[1])]


def category_codes(block: np.ndarray, categories: list[list]) -> np.ndarray:
    """Each value's position among its column's categories, plus one; 0 if missing or unseen.

    Parameters
    ----------
    block : ndarray of object, shape (n_samples, n_columns)
        As :func:`fit_categories` takes it.
    categories : list of list
        What :func:`fit_categories` returned.

    Returns
    -------
    ndarray of shape (n_samples, n_columns), float64
        ``OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
        encoded_missing_value=-1).transform(block) + 1``.
    """
    out = np.zeros(block.shape, dtype=np.float64)
    for j, levels in enumerate(categories):
        position = {value: i for i, value in enumerate(levels)}
        out[:, j] = [0 if pd.isna(v) else position.get(v, -1) + 1 for v in block[:, j]]
    return out
