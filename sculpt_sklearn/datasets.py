"""Built-in noisy-label regression problems with a known noise level."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_heteroscedastic"]


def make_heteroscedastic(
    n_samples: int = 1000,
    n_features: int = 4,
    noise: float = 1.0,
    *,
    distribution: str = "normal",
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regression problem whose label noise varies from row to row.

    Features are uniform on ``[-2, 2]``. The mean is a smooth non-linear
    function of all features,
    ``f(x) = 2 sin(x_0) + x_1^2 / 2 + sum_{j>=2} x_j / sqrt(n_features)``, and
    the noise standard deviation grows with the first two features,
    ``std(x) = noise * (0.1 + 0.45 * (x_0 + 2) / 4 + 0.45 * |x_1| / 2)``, so
    it spans ``[0.1, 1.0] * noise``. The label is ``f(x) + std(x) * eps``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=4
        Number of features (at least 2).
    noise : float, default=1.0
        Scale of the noise standard deviation (``>= 0``).
    distribution : {"normal", "laplace", "studentt"}, default="normal"
        Family of ``eps`` (always standardised to mean 0, std 1; Student-t
        with 3 degrees of freedom for heavy tails).
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Noisy labels.
    noise_std : ndarray of shape (n_samples,)
        The true standard deviation of each label's noise.

    Examples
    --------
    >>> from sculpt_sklearn.datasets import make_heteroscedastic
    >>> X, y, std = make_heteroscedastic(n_samples=100, random_state=0)
    >>> X.shape, y.shape, bool((std > 0).all())
    ((100, 4), (100,), True)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    if (
        isinstance(n_features, bool)
        or not isinstance(n_features, (int, np.integer))
        or n_features < 2
    ):
        raise ValueError(f"n_features must be an integer >= 2; got {n_features!r}.")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite float >= 0; got {noise!r}.")
    rng = check_random_state(random_state)
    X = rng.uniform(-2.0, 2.0, size=(n_samples, n_features))
    mean = 2.0 * np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2
    if n_features > 2:
        mean = mean + X[:, 2:].sum(axis=1) / np.sqrt(n_features)
    std = noise * (0.1 + 0.45 * (X[:, 0] + 2.0) / 4.0 + 0.45 * np.abs(X[:, 1]) / 2.0)
    if distribution == "normal":
        eps = rng.standard_normal(n_samples)
    elif distribution == "laplace":
        eps = rng.laplace(scale=1.0 / np.sqrt(2.0), size=n_samples)
    elif distribution == "studentt":
        eps = rng.standard_t(3, size=n_samples) / np.sqrt(3.0)
    else:
        raise ValueError(
            f"distribution must be 'normal', 'laplace' or 'studentt'; got {distribution!r}."
        )
    return X, mean + std * eps, std
