"""Exact moment recursion of the "fresh data" loop (new real data every generation).

Loop (toolkit indexing; Alemohammad et al. 2024, "fresh data loop", §3 and Appendix): generation
0 fits ``n_initial`` real points (``n_initial = n_real`` unless given); each generation
``t ≥ 1`` pools ``n_r = n_real`` fresh points from the truth ``N(μ0, Σ0)`` with
``n_s = n_synthetic`` points from the previous fit ``N(μ_{t−1}, τΣ_{t−1})`` and fits the
pooled mean and ``Σ_t = W/D(N)``, ``N = n_r + n_s`` (``D(N) = N`` MLE, ``N − 1`` unbiased).
MAD calls generation 0 "t = 1" (their ``n_ini = n_initial``).

With ``M_t = E‖μ_t − μ0‖²``, ``C_t = tr EΣ_t`` and ``c0 = tr Σ0`` (derived; reference notes §2
"Fresh-data loop", generalised here to either estimator):

.. math::
    M_t = \\frac{n_r c_0 + n_s^2 M_{t-1} + n_s τ C_{t-1}}{N^2},\\qquad
    C_t = \\frac{(n_r - 1 + n_s/N)c_0 + τ(n_s - 1 + n_r/N) C_{t-1} + (n_r n_s/N) M_{t-1}}{D(N)}

from ``μ_t − μ0 = [n_r(r̄ − μ0) + n_s(s̄ − μ_{t−1}) + n_s(μ_{t−1} − μ0)]/N`` and the pooled
scatter ``W = W_r + W_s + (n_r n_s/N)(r̄ − s̄)(r̄ − s̄)ᵀ``. The same recursion holds for the
matrices ``E(μ_t − μ0)(μ_t − μ0)ᵀ`` and ``EΣ_t`` with ``c0`` replaced by ``Σ0``; since the
initial values are multiples of Σ0, those matrices are ``(M_t/c0) Σ0`` and ``(C_t/c0) Σ0``.
"""

from __future__ import annotations

import numpy as np

from theory._special import (
    check_estimator,
    check_int_array,
    check_positive_float,
    check_positive_int,
)

__all__ = ["fresh_fixed_point", "fresh_moments", "fresh_recursion_matrix"]


def _params(n_real, n_synthetic, trace0, estimator, temperature):
    estimator = check_estimator(estimator)
    n_r = check_positive_int("n_real", n_real, minimum=0)
    n_s = check_positive_int("n_synthetic", n_synthetic, minimum=0)
    tau = check_positive_float("temperature", temperature)
    trace0 = check_positive_float("trace0", trace0)
    if n_r + n_s < 2:
        raise ValueError(
            f"n_real + n_synthetic must be >= 2 for a covariance fit, got {n_r} + {n_s}"
        )
    return estimator, n_r, n_s, tau, trace0


def fresh_recursion_matrix(n_real, n_synthetic, trace0, *, estimator, temperature=1.0):
    """Affine map ``x_t = A x_{t−1} + b`` of the fresh-data loop, ``x = (M, C)``.

    .. math::
        A = \\begin{pmatrix} n_s^2/N^2 & τ n_s/N^2 \\\\ n_r n_s/(N D) & τ(n_s - 1 + n_r/N)/D
            \\end{pmatrix},\\quad
        b = c_0\\begin{pmatrix} n_r/N^2 \\\\ (n_r - 1 + n_s/N)/D \\end{pmatrix}

    Source: derived (see the module docstring).

    Args:
        n_real: fresh real points per generation ``n_r ≥ 0``.
        n_synthetic: synthetic points per generation ``n_s ≥ 0`` (``n_r + n_s ≥ 2``).
        trace0: ``c0 = tr Σ0 > 0``.
        estimator: ``"mle"`` or ``"unbiased"``.
        temperature: sampling bias ``τ > 0``.

    Returns:
        ``(A, b)``: a ``(2, 2)`` and a ``(2,)`` float64 array.
    """
    estimator, n_r, n_s, tau, c0 = _params(n_real, n_synthetic, trace0, estimator, temperature)
    big_n = float(n_r + n_s)
    div = big_n - 1.0 if estimator == "unbiased" else big_n
    a = np.array(
        [
            [n_s**2 / big_n**2, tau * n_s / big_n**2],
            [n_r * n_s / (big_n * div), tau * (n_s - 1.0 + n_r / big_n) / div],
        ]
    )
    b = c0 * np.array([n_r / big_n**2, (n_r - 1.0 + n_s / big_n) / div])
    return a, b


def fresh_moments(t, n_real, n_synthetic, trace0, *, estimator, temperature=1.0, n_initial=None):
    """``(M_t, C_t) = (E‖μ_t − μ0‖², tr EΣ_t)`` of the fresh-data loop at generation(s) ``t``.

    Start ``M_0 = c0/n_initial``, ``C_0 = c0 (n_initial − 1)/D(n_initial)``, then the affine
    recursion of :func:`fresh_recursion_matrix`, evaluated by powers of the 3×3 augmented
    matrix (exact, ``O(log t)`` per generation; all entries are non-negative, so no
    cancellation). Source: derived (reference notes §2; MAD fresh-data loop).

    Args:
        t: generation(s) ``≥ 0`` (int or integer array; e.g. ``np.arange(T + 1)``).
        n_real: fresh real points per generation ``n_r ≥ 0``.
        n_synthetic: synthetic points per generation ``n_s ≥ 0`` (``n_r + n_s ≥ 2``).
        trace0: ``tr Σ0 > 0``.
        estimator: ``"mle"`` or ``"unbiased"``.
        temperature: sampling bias ``τ > 0``.
        n_initial: real points of generation 0 (``≥ 2``, default ``n_real``).

    Returns:
        ``(M_t, C_t)``: two floats, or two arrays with the shape of ``t``.
    """
    estimator, n_r, n_s, tau, c0 = _params(n_real, n_synthetic, trace0, estimator, temperature)
    if n_initial is None:
        if n_r < 2:
            raise ValueError(f"n_initial (default n_real) must be >= 2, got n_real={n_r}")
        n0 = n_r
    else:
        n0 = check_positive_int("n_initial", n_initial, minimum=2)
    t = check_int_array("t", t, minimum=0)
    a, b = fresh_recursion_matrix(n_r, n_s, c0, estimator=estimator, temperature=tau)
    aug = np.zeros((3, 3))
    aug[:2, :2] = a
    aug[:2, 2] = b
    aug[2, 2] = 1.0
    div0 = n0 - 1.0 if estimator == "unbiased" else float(n0)
    x0 = np.array([c0 / n0, c0 * (n0 - 1.0) / div0, 1.0])
    flat = t.ravel()
    out_m = np.empty(flat.shape)
    out_c = np.empty(flat.shape)
    cache = {}
    for i, ti in enumerate(flat):
        key = int(ti)
        if key not in cache:
            cache[key] = np.linalg.matrix_power(aug, key) @ x0
        out_m[i], out_c[i] = cache[key][0], cache[key][1]
    if t.ndim == 0:
        return float(out_m[0]), float(out_c[0])
    return out_m.reshape(t.shape), out_c.reshape(t.shape)


def fresh_fixed_point(n_real, n_synthetic, trace0, *, estimator, temperature=1.0):
    """Stationary ``(M*, C*)`` of the fresh-data recursion, by a 2×2 linear solve.

    ``(I − A) x* = b`` with ``(A, b)`` from :func:`fresh_recursion_matrix`; it does not depend
    on ``n_initial`` (MAD 2024, Eq. (3): ``lim E dist = WD(n_r, n_s, λ)``). The recursion
    converges to it from any start iff the spectral radius of ``A`` is ``< 1``. Source:
    derived (reference notes §2).

    Args:
        n_real, n_synthetic, trace0, estimator, temperature: as :func:`fresh_moments`.

    Returns:
        ``(M*, C*)`` as floats.

    Raises:
        ValueError: if ``ρ(A) ≥ 1`` (e.g. ``n_real = 0``, or τ too large): no fixed point.
    """
    a, b = fresh_recursion_matrix(
        n_real, n_synthetic, trace0, estimator=estimator, temperature=temperature
    )
    rho = float(np.max(np.abs(np.linalg.eigvals(a))))
    if rho >= 1.0:
        raise ValueError(
            "no fixed point: the fresh-data recursion has spectral radius "
            f"{rho:.6g} >= 1 for n_real={n_real}, n_synthetic={n_synthetic}, "
            f"temperature={temperature}"
        )
    x = np.linalg.solve(np.eye(2) - a, b)
    return float(x[0]), float(x[1])


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
