"""Special functions and input validation shared by the closed forms in :mod:`theory`.

Everything here is float64 numpy/scipy. The log-gamma increments are computed without the
catastrophic cancellation of ``gammaln(a + δ) - gammaln(a)`` at large ``a`` (that difference
loses ~``a·log(a)·1e-16`` absolutely, i.e. 1e-8 at ``a = 5e6``), because the collapse laws
multiply such increments by the number of fits.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

__all__ = [
    "alpha_n",
    "check_estimator",
    "check_int_array",
    "check_positive_float",
    "check_positive_int",
    "check_real_array",
    "digamma_minus_log",
    "fit_divisor",
    "log_alpha_n",
    "log_gamma_ratio",
    "log_gamma_ratio_centered",
]

ESTIMATORS = ("mle", "unbiased")

# Stirling threshold: below it the argument is shifted up with Γ(z+1) = zΓ(z).
_STIRLING_MIN = 12.0
# b_k = B_{2k} / (2k (2k-1)), k = 1..8 (Bernoulli numbers B_2 ... B_16).
_STIRLING_COEFFS = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
)
# Coefficients of ψ(a) - log(a) = -1/(2a) - Σ_k B_{2k} / (2k a^{2k}).
_DIGAMMA_COEFFS = (
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
    -3617.0 / 8160.0,
)


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def check_estimator(estimator) -> str:
    """Validate the covariance estimator name.

    Args:
        estimator: ``"mle"`` (divide the scatter by N) or ``"unbiased"`` (divide by N − 1).

    Returns:
        The estimator name.

    Raises:
        ValueError: naming ``estimator`` and the allowed values.
    """
    if not isinstance(estimator, str) or estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS!r}, got {estimator!r}")
    return estimator


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Validate an integer argument ``value >= minimum`` (integral floats are accepted).

    Raises:
        ValueError: naming ``name`` and the allowed range, for non-integers, booleans, NaN,
        infinities and values below ``minimum``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    fv = float(value)
    if not math.isfinite(fv) or fv != math.floor(fv) or fv < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(fv)


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """Validate a finite real argument ``value > 0`` (``>= 0`` with ``allow_zero``).

    Raises:
        ValueError: naming ``name`` and the allowed range (NaN and infinities are rejected).
    """
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number {bound}, got {value!r}")
    fv = float(value)
    if not math.isfinite(fv) or fv < 0.0 or (fv == 0.0 and not allow_zero):
        raise ValueError(f"{name} must be a finite real number {bound}, got {value!r}")
    return fv


def check_int_array(name: str, value, minimum: int = 0) -> np.ndarray:
    """Validate an integer (or integer array) argument with every entry ``>= minimum``.

    Returns:
        An ``int64`` array of the same shape (0-d for a scalar).

    Raises:
        ValueError: naming ``name`` for non-integral, non-finite or too small entries.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name} must be integer(s) >= {minimum}, got {value!r}") from exc
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be integer(s) >= {minimum}, got {value!r}")
    if arr.size == 0:
        raise ValueError(f"{name} must be a non-empty integer array, got {value!r}")
    farr = arr.astype(np.float64)
    if not np.all(np.isfinite(farr)) or np.any(farr != np.floor(farr)) or np.any(farr < minimum):
        raise ValueError(f"{name} must be integer(s) >= {minimum}, got {value!r}")
    return farr.astype(np.int64)


def check_real_array(name: str, value, *, allow_inf: bool = False) -> np.ndarray:
    """Validate a real array argument: float64, no NaN (and no infinities unless ``allow_inf``).

    Raises:
        ValueError: naming ``name``.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be real number(s), got {value!r}") from exc
    if np.any(np.isnan(arr)) or (not allow_inf and not np.all(np.isfinite(arr))):
        kind = "non-NaN" if allow_inf else "finite"
        raise ValueError(f"{name} must be {kind} real number(s), got {value!r}")
    return arr


def fit_divisor(n_points, estimator):
    """Divisor of the scatter matrix in a covariance fit on ``n_points`` points.

    ``D(N) = N`` for ``"mle"`` and ``D(N) = N − 1`` for ``"unbiased"``.

    Args:
        n_points: number of points in the fit (int or integer array, N ≥ 1; N ≥ 2 when
            ``estimator="unbiased"``).
        estimator: ``"mle"`` or ``"unbiased"``.

    Returns:
        ``D(N)`` as float64 (array if ``n_points`` is an array).
    """
    estimator = check_estimator(estimator)
    minimum = 2 if estimator == "unbiased" else 1
    n = check_int_array("n_points", n_points, minimum=minimum).astype(np.float64)
    out = n - 1.0 if estimator == "unbiased" else n
    return float(out) if out.ndim == 0 else out


def as_output(arr):
    """Return a Python float for 0-d results and a float64 array otherwise."""
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------------------------
# special functions
# --------------------------------------------------------------------------------------------


def _log1p_complex(w):
    """``log(1 + w)`` for complex ``w`` with ``Re w > -1``, accurate for small ``|w|``."""
    w = np.asarray(w, dtype=np.complex128)
    x, y = w.real, w.imag
    real = 0.5 * np.log1p(x * (2.0 + x) + y * y)
    imag = np.arctan2(y, 1.0 + x)
    return real + 1j * imag


def _stirling_increment(a, delta):
    """``log Γ(a+δ) − log Γ(a) − δ log a`` for ``a ≥ 12``, ``Re(a+δ) ≥ 12`` (complex)."""
    w = delta / a
    lw = _log1p_complex(w)
    z = a + delta
    out = (a - 0.5) * lw + delta * lw - delta
    inv_z = 1.0 / z
    inv_a = 1.0 / a
    inv_z2 = inv_z * inv_z
    inv_a2 = inv_a * inv_a
    pz, pa = inv_z, inv_a
    for b in _STIRLING_COEFFS:
        out = out + b * (pz - pa)
        pz = pz * inv_z2
        pa = pa * inv_a2
    return out


def log_gamma_ratio_centered(a, delta):
    """``log Γ(a + δ) − log Γ(a) − δ log a`` without cancellation (complex or real ``δ``).

    Stirling's series (8 terms) on ``a, a+δ ≥ 12`` after shifting with ``Γ(z+1) = zΓ(z)``;
    ``log(1 + δ/(a+j))`` is evaluated with a complex ``log1p``. Absolute error is about
    ``1e-16·|δ|``, independent of ``a`` (scipy's ``loggamma(a+δ) − loggamma(a)`` loses
    ``1e-16·a·log a``).

    Args:
        a: real array, ``a > 0``.
        delta: real or complex array broadcastable with ``a``, ``Re(a + δ) > 0``.

    Returns:
        complex128 array (take ``.real`` for real ``δ``).
    """
    a = np.asarray(a, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.complex128)
    a, delta = np.broadcast_arrays(a, delta)
    low = np.minimum(a, a + delta.real)
    shift = np.ceil(np.clip(_STIRLING_MIN - low, 0.0, None))
    big = a + shift
    out = _stirling_increment(big, delta) + delta * (np.log(big) - np.log(a))
    n_max = int(shift.max()) if shift.size else 0
    if n_max:
        # Σ_{j<N} log(1 + δ/(a+j)) = log ∏(1 + δ/(a+j)): one complex log instead of N.
        # The product p is kept with full relative accuracy, and q = p − 1 is accumulated as
        # q ← q + w(1 + q) so that products near 1 (small δ) lose nothing either.
        p = np.ones(delta.shape, dtype=np.complex128)
        q = np.zeros(delta.shape, dtype=np.complex128)
        for j in range(n_max):
            w = np.where(shift > j, delta / (a + j), 0.0)
            q = q + w * (1.0 + q)
            p = p * (1.0 + w)
        near_one = np.abs(q) < 0.5
        safe_p = np.where(near_one, 1.0, p)
        out = out - np.where(near_one, _log1p_complex(np.where(near_one, q, 0.0)), np.log(safe_p))
    return out


def log_gamma_ratio(a, delta):
    """``log Γ(a + δ) − log Γ(a)`` for real ``a > 0`` and real or complex ``δ``.

    Principal branch for complex ``δ`` matches ``scipy.special.loggamma`` differences up to
    multiples of 2πi (irrelevant under ``exp``). See :func:`log_gamma_ratio_centered`.
    """
    a = np.asarray(a, dtype=np.float64)
    return log_gamma_ratio_centered(a, delta) + np.asarray(delta) * np.log(a)


def digamma_minus_log(a):
    """``ψ(a) − log a`` (< 0), accurate for large ``a`` (asymptotic series for a ≥ 12)."""
    a = np.asarray(a, dtype=np.float64)
    safe = np.maximum(a, _STIRLING_MIN)
    inv = 1.0 / safe
    inv2 = inv * inv
    series = np.zeros_like(safe)
    p = inv2.copy()
    for b in _DIGAMMA_COEFFS:
        series = series + b * p
        p = p * inv2
    large = -0.5 * inv - series
    small = special.digamma(np.minimum(a, _STIRLING_MIN)) - np.log(np.minimum(a, _STIRLING_MIN))
    return np.where(a >= _STIRLING_MIN, large, small)


def log_alpha_n(n):
    """``log α(n)`` with ``α(n) = E√χ²_{n−1} / √(n−1) = √(2/(n−1)) Γ(n/2)/Γ((n−1)/2)``.

    Computed as ``log Γ(a + ½) − log Γ(a) − ½ log a`` with ``a = (n−1)/2`` through
    :func:`log_gamma_ratio_centered` (absolute error ~1e-16 for any n).

    Args:
        n: sample size per fit, integer (array) ``n ≥ 2``.
    """
    n = check_int_array("n", n, minimum=2).astype(np.float64)
    a = 0.5 * (n - 1.0)
    return as_output(log_gamma_ratio_centered(a, 0.5).real)


def alpha_n(n):
    """Bias factor of the sample standard deviation, ``α(n) = E√χ²_{n−1} / √(n−1) < 1``.

    .. math:: α(n) = \\sqrt{2/(n-1)}\\,Γ(n/2)/Γ((n-1)/2)

    With the unbiased variance estimator, ``E σ̂ = α(n) σ`` (Bertrand et al. 2024; Suresh et
    al. 2024, §5). Stable for ``n`` up to 1e7 and beyond (see :func:`log_alpha_n`).

    Args:
        n: sample size, integer (array) ``n ≥ 2``.

    Returns:
        ``α(n)`` as float (or float64 array).
    """
    return as_output(np.exp(log_alpha_n(n)))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
