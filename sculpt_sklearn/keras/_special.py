"""Special functions in ``keras.ops``, which has ``erf`` and ``erfinv`` but no gamma family.

- :func:`lgamma`: log of the gamma function (Lanczos, g=7, n=9), differentiable.
- :func:`student_t_cdf`: CDF of Student's t with a fixed ``df``, from the regularised
  incomplete beta function (continued fraction, Numerical Recipes ``betacf``); its
  gradient is the density (``keras.ops.custom_gradient``).
- :func:`student_t_icdf`: its quantile function (Newton's method on ``log F``).
- :func:`gammainc` / :func:`log_gammainc`: the regularised lower and upper incomplete
  gamma functions, or their logs (series below ``x = a + 1``, continued fraction above;
  Numerical Recipes ``gser`` / ``gcf``), without gradient.
- :func:`gamma_icdf`: the quantile function of the unit-scale gamma (Newton's method
  on the log-concave ``log P`` or ``log Q`` in ``log x``).

Scalars enter through ``ops.where`` or arithmetic, never ``ops.maximum``/``ops.minimum``,
which return float32 for float64 tensors on Keras 3.15's torch backend. Loops
are ``keras.ops.while_loop`` that stop when every element has converged to the
dtype's precision (about 1e-15 relative in float64, against ``scipy.special``; the
tests check 1e-6), so one code path serves eager and traced (TensorFlow graph, JAX
jit) execution.
"""

from __future__ import annotations

import math
from typing import Any

from keras import ops

__all__ = [
    "gamma_icdf",
    "gammainc",
    "lgamma",
    "log_gammainc",
    "student_t_cdf",
    "student_t_icdf",
]

Tensor = Any

_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
#: Guard against division by zero in the continued fractions (Lentz's method).
_TINY = 1e-30
#: The most loop iterations: enough for Student-t df up to about 1e5 and gamma shapes
#: up to about 1e6 (iterations grow as their square root).
_MAX_ITERATIONS = 10_000


def _eps(x: Tensor) -> float:
    """Convergence tolerance for the dtype of ``x``: a few units in the last place.

    Not one: a continued fraction's factor can settle one ulp above 1 (1.2e-7 in
    float32) and never come closer.
    """
    dtype = ops.dtype(x)
    if dtype == "float64":
        return 1e-15
    if dtype in ("float16", "bfloat16"):
        return 4e-3
    return 5e-7


def lgamma(x: Tensor) -> Tensor:
    """``log(Gamma(x))`` for ``x > 0`` (Lanczos approximation), differentiable.

    Parameters
    ----------
    x : tensor
        Positive values.

    Returns
    -------
    tensor
        The shape and dtype of ``x``; relative error about 1e-15 in float64.
    """
    small = x < 0.5
    # lgamma(x) = lgamma(x + 1) - log(x) keeps the series' argument >= 0.5.
    z = ops.where(small, x + 1.0, x) - 1.0
    series = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + float(i))
    t = z + (_LANCZOS_G + 0.5)
    value = _HALF_LOG_2PI + (z + 0.5) * ops.log(t) - t + ops.log(series)
    return ops.where(small, value - ops.log(ops.where(small, x, 1.0)), value)


def _guard(v: Tensor) -> Tensor:
    return ops.where(ops.abs(v) < _TINY, _TINY, v)


def _betacf(a: float, b: float, x: Tensor) -> Tensor:
    """Continued fraction of the incomplete beta function (converges for x < (a+1)/(a+b+2))."""
    eps = _eps(x)
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = ops.ones_like(x)
    d = 1.0 / _guard(1.0 - qab * x / qap)

    def cond(m: Tensor, c: Tensor, d: Tensor, h: Tensor, delta: Tensor) -> Tensor:
        return ops.any(ops.abs(delta - 1.0) > eps)

    def body(m: Tensor, c: Tensor, d: Tensor, h: Tensor, delta: Tensor) -> tuple:
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / _guard(1.0 + aa * d)
        c = _guard(1.0 + aa / c)
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / _guard(1.0 + aa * d)
        c = _guard(1.0 + aa / c)
        delta = d * c
        return m + 1.0, c, d, h * delta, delta

    one = ops.ones_like(x)
    _, _, _, h, _ = ops.while_loop(
        cond, body, (one, c, d, d, 2.0 * one), maximum_iterations=_MAX_ITERATIONS
    )
    return h


def _student_t_tail(t: Tensor, df: float) -> Tensor:
    """``P(T <= -|t|)`` for Student's t with ``df`` degrees of freedom.

    ``0.5 * I_x(df/2, 1/2)`` with ``x = df / (df + t**2)``; ``1 - x`` is computed as
    ``t**2 / (df + t**2)`` so that small ``|t|`` keeps its precision.
    """
    a, b = 0.5 * df, 0.5
    t2 = t * t
    x = df / (df + t2)
    y = t2 / (df + t2)
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # The continued fraction converges for x < (a + 1) / (a + b + 2); above it,
    # I_x(a, b) = 1 - I_{1-x}(b, a).
    flip = x > (a + 1.0) / (a + b + 2.0)
    x_safe = ops.where(flip, 0.0, x)
    y_safe = ops.where(flip, y, 0.0)
    direct = _betacf(a, b, x_safe)
    flipped = _betacf(b, a, y_safe)
    log_x = ops.log(ops.where(x > 0, x, 1.0))
    log_y = ops.log(ops.where(y > 0, y, 1.0))
    front = ops.exp(a * log_x + b * log_y - log_beta)
    front = ops.where(y > 0, front, 0.0)
    front = ops.where(x > 0, front, 0.0)
    incomplete = ops.where(flip, 1.0 - front / b * flipped, front / a * direct)
    return 0.5 * incomplete


def student_t_log_pdf(t: Tensor, df: float) -> Tensor:
    """Log density of the unscaled Student-t with ``df`` degrees of freedom."""
    log_norm = (
        math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    )
    return log_norm - 0.5 * (df + 1.0) * ops.log1p(t * t / df)


def student_t_cdf(t: Tensor, df: float) -> Tensor:
    """CDF of the unscaled Student-t; its gradient is the density.

    Parameters
    ----------
    t : tensor
        Points.
    df : float
        Degrees of freedom (``> 0``).

    Returns
    -------
    tensor
        ``P(T <= t)``, the shape of ``t``.
    """

    @ops.custom_gradient
    def cdf(t: Tensor) -> tuple[Tensor, Any]:
        tail = _student_t_tail(ops.stop_gradient(t), df)
        value = ops.where(t > 0, 1.0 - tail, tail)

        def grad(*args: Any, upstream: Tensor | None = None) -> Tensor:
            # TensorFlow and JAX pass the upstream gradient positionally, torch by name.
            if upstream is None:
                (upstream,) = args
            return upstream * ops.exp(student_t_log_pdf(t, df))

        return value, grad

    return cdf(t)


def student_t_icdf(q: Tensor, df: float) -> Tensor:
    """Quantile function of the unscaled Student-t (no gradient in ``q``).

    Newton's method on ``log F(t) = log p`` for the lower tail ``p = min(q, 1 - q)``,
    started at the normal quantile (which lies between the root and 0, since the t
    is more spread out than the normal); the upper half follows by symmetry.

    Parameters
    ----------
    q : tensor
        Levels in (0, 1).
    df : float
        Degrees of freedom.

    Returns
    -------
    tensor
        The quantiles, the shape of ``q``.
    """
    q = ops.stop_gradient(q)
    eps = _eps(q)
    p = ops.where(q < 0.5, q, 1.0 - q)
    log_p = ops.log(p)
    start = math.sqrt(2.0) * ops.erfinv(2.0 * p - 1.0)

    def cond(t: Tensor, step: Tensor) -> Tensor:
        return ops.any(ops.abs(step) > 100.0 * eps * ops.where(ops.abs(t) > 1.0, ops.abs(t), 1.0))

    def body(t: Tensor, step: Tensor) -> tuple:
        tail = _student_t_tail(t, df)  # t <= 0 here, so the tail is F(t)
        # log F(t) - log p over d log F / dt = f(t) / F(t).
        step = (ops.log(tail) - log_p) * tail / ops.exp(student_t_log_pdf(t, df))
        step = ops.where(p < 0.5, step, 0.0)
        t = t - step
        return ops.where(t < 0, t, 0.0), step

    t, _ = ops.while_loop(
        cond, body, (start, ops.ones_like(start)), maximum_iterations=200
    )
    return ops.where(q > 0.5, -t, t)


def gammainc(a: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    """Regularised lower and upper incomplete gamma functions ``P(a, x)``, ``Q(a, x)``.

    No gradient (``ops.stop_gradient`` on both arguments), as torch has none in ``a``.

    Parameters
    ----------
    a : tensor
        Shapes, positive.
    x : tensor
        Points, ``>= 0``; the shape of ``a``.

    Returns
    -------
    P, Q : tensor
        ``P + Q = 1``; each computed where it is the small one, so tails keep
        their relative precision.
    """
    log_lower, log_upper = log_gammainc(a, x)
    return ops.exp(log_lower), ops.exp(log_upper)


def log_gammainc(a: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(log P(a, x), log Q(a, x))``, finite where ``P`` or ``Q`` underflow (no gradient).

    The series gives ``log P`` and the continued fraction ``log Q`` directly (both are
    ``log(front) + log(sum)``); the other is ``log1p(-exp(.))`` of it.
    """
    a = ops.stop_gradient(a)
    x = ops.stop_gradient(ops.where(x > 0, x, 0.0))
    eps = _eps(x)
    series = x < a + 1.0
    log_front = -x + a * ops.log(ops.where(x > 0, x, 1.0)) - lgamma(a)

    # Series: P = front * sum_n x^n / (a (a+1) ... (a+n)).
    xs = ops.where(series, x, 0.0)

    def s_cond(ap: Tensor, term: Tensor, total: Tensor) -> Tensor:
        return ops.any(ops.abs(term) > ops.abs(total) * eps)

    def s_body(ap: Tensor, term: Tensor, total: Tensor) -> tuple:
        ap = ap + 1.0
        term = term * xs / ap
        return ap, term, total + term

    _, _, total = ops.while_loop(
        s_cond, s_body, (a, 1.0 / a, 1.0 / a), maximum_iterations=_MAX_ITERATIONS
    )

    # Continued fraction (modified Lentz): Q = front * h.
    xc = ops.where(series, a + 2.0, x)
    b0 = xc + 1.0 - a
    d0 = 1.0 / _guard(b0)

    def c_cond(i: Tensor, b: Tensor, c: Tensor, d: Tensor, h: Tensor, delta: Tensor) -> Tensor:
        return ops.any(ops.abs(delta - 1.0) > eps)

    def c_body(i: Tensor, b: Tensor, c: Tensor, d: Tensor, h: Tensor, delta: Tensor) -> tuple:
        an = -i * (i - a)
        b = b + 2.0
        d = 1.0 / _guard(an * d + b)
        c = _guard(b + an / c)
        delta = d * c
        return i + 1.0, b, c, d, h * delta, delta

    one = ops.ones_like(x)
    _, _, _, _, h, _ = ops.while_loop(
        c_cond,
        c_body,
        (one, b0, one / _TINY, d0, d0, 2.0 * one),
        maximum_iterations=_MAX_ITERATIONS,
    )
    log_p_series = log_front + ops.log(total)
    log_q_fraction = log_front + ops.log(h)
    log_lower = ops.where(series, log_p_series, ops.log1p(-ops.exp(log_q_fraction)))
    log_upper = ops.where(series, ops.log1p(-ops.exp(log_p_series)), log_q_fraction)
    zero = x <= 0
    return ops.where(zero, float("-inf"), log_lower), ops.where(zero, 0.0, log_upper)


def gamma_icdf(q: Tensor, a: Tensor) -> Tensor:
    """Quantile function of the gamma with shape ``a`` and scale 1 (no gradient).

    The log of a gamma variable has a log-concave density, so ``log P`` and ``log Q``
    are concave in ``u = log x``, and Newton's method on them converges monotonically
    from the side it starts on: below the root for ``q <= 1/2`` (from ``x`` with
    ``P(a, x) <= x**a / Gamma(a + 1) = q``) and above it for ``q > 1/2`` (from the
    sub-gamma tail bound ``Q(a, a + sqrt(2 a s) + s) <= exp(-s)``, ``s = -log(1 - q)``).

    Parameters
    ----------
    q : tensor
        Levels in (0, 1).
    a : tensor
        Shapes, positive; the shape of ``q``.

    Returns
    -------
    tensor
        The quantiles.
    """
    q = ops.stop_gradient(q)
    a = ops.stop_gradient(a)
    eps = _eps(q)
    lower_half = q <= 0.5
    log_target = ops.log(ops.where(lower_half, q, 1.0 - q))
    u_low = (ops.log(q) + lgamma(a + 1.0)) / a
    s = -ops.log1p(-ops.where(lower_half, 0.5, q))
    u_high = ops.log(a + ops.sqrt(2.0 * a * s) + s)
    start = ops.where(lower_half, u_low, u_high)

    def cond(u: Tensor, step: Tensor) -> Tensor:
        return ops.any(ops.abs(step) > 100.0 * eps)

    def body(u: Tensor, step: Tensor) -> tuple:
        x = ops.exp(u)
        log_lower, log_upper = log_gammainc(a, x)
        log_tail = ops.where(lower_half, log_lower, log_upper)
        # d log P / du = x f(x) / P and d log Q / du = -x f(x) / Q, in logs: the
        # tail may be far below the smallest float at the start.
        log_xf = a * u - x - lgamma(a)
        slope = ops.exp(log_xf - log_tail)
        slope = ops.where(lower_half, slope, -slope)
        step = (log_tail - log_target) / slope
        return u - step, step

    u, _ = ops.while_loop(cond, body, (start, ops.ones_like(start)), maximum_iterations=200)
    return ops.exp(u)
