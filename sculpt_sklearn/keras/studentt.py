"""Student's t output family, parameterised by its mean and standard deviation.

``df`` is a class attribute (default 5, as the torch family); :meth:`StudentT.with_df`
makes a family with another one. The scale is ``y_risk * sqrt((df - 2) / df)``, so
``y_risk`` is the standard deviation.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from keras import ops, random

from . import _special
from .distributions import SculptDistribution, Seed, _FamilyMeta, sub_seeds

__all__ = ["StudentT"]

Tensor = Any


class StudentT(SculptDistribution):
    """Student-t output with ``df`` degrees of freedom and standard deviation ``y_risk``.

    ``df`` is a class attribute (default 5) and must exceed 2 so that the standard
    deviation exists; :meth:`with_df` makes a family with another ``df``:
    ``StudentT.with_df(3.0)``.

    Notes
    -----
    The CDF comes from the regularised incomplete beta function and the quantile
    function from Newton's method on it (:mod:`._special`), as ``keras.ops`` has
    neither; the CDF's gradient is the density.
    """

    name = "studentt"
    df: float = 5.0

    @classmethod
    def with_df(cls, df: float) -> type[StudentT]:
        """A Student-t family with ``df`` degrees of freedom (``df > 2``).

        The same ``df`` always gives the same class.

        Parameters
        ----------
        df : float
            Degrees of freedom, ``> 2`` and finite.

        Returns
        -------
        type
            A subclass of :class:`StudentT`.
        """
        df = float(df)
        if not df > 2.0 or not math.isfinite(df):
            raise ValueError(
                f"StudentT needs df > 2 so that the standard deviation (the risk) "
                f"exists; got df={df}. Use df=3 for heavy tails or Normal for df=inf."
            )
        return _student_t_family(df)

    @classmethod
    def _s(cls) -> float:
        """Scale of the standard (std 1) Student-t."""
        return math.sqrt((cls.df - 2.0) / cls.df)

    @classmethod
    def _standard_log_prob(cls, z: Tensor) -> Tensor:
        s = cls._s()
        return _special.student_t_log_pdf(z / s, cls.df) - math.log(s)

    @classmethod
    def _standard_cdf(cls, z: Tensor) -> Tensor:
        return _special.student_t_cdf(z / cls._s(), cls.df)

    @classmethod
    def _standard_icdf(cls, q: Tensor) -> Tensor:
        return _special.student_t_icdf(q, cls.df) * cls._s()

    @classmethod
    def _standard_sample(cls, shape: tuple, dtype: str, seed: Seed) -> Tensor:
        # t = Z / sqrt(V / df) with V ~ chi2(df) = 2 * Gamma(df / 2); df is fixed, so
        # the gamma draw needs no gradient.
        normal_seed, gamma_seed = sub_seeds(seed, 2)
        nu = cls.df
        normal = random.normal(shape, dtype=dtype, seed=normal_seed)
        chi2 = 2.0 * random.gamma(shape, alpha=nu / 2.0, dtype=dtype, seed=gamma_seed)
        return normal * ops.rsqrt(chi2 / nu) * cls._s()


@functools.cache
def _student_t_family(df: float) -> type[StudentT]:
    if df == StudentT.df:
        return StudentT
    name = f"StudentT(df={df:g})"
    return _FamilyMeta(name, (StudentT,), {"df": df, "__module__": __name__, "__qualname__": name})
