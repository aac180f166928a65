"""Probability that the fitted scale has not collapsed, and the published bounds on it.

Setting (Suresh, Thangaraj & Khandavally 2024, §5 Gaussian; Bertrand et al. 2024): 1-D
replace loop with the unbiased variance estimator, ``n`` points per fit, ``σ0 = 1`` (only
``ε/σ0`` matters). Here ``k ≥ 1`` counts **fits** (``k = 1`` is the fit on real data), i.e.
toolkit generation ``t = k − 1``, and

.. math:: σ_k^2 = σ_0^2 \\prod_{j=1}^{k} χ^2_{n-1,j}/(n-1)\\quad\\text{(independent factors).}

"Collapse" at level ε is ``σ_k ≤ ε``.
"""

from __future__ import annotations

import math

import numpy as np

from theory._special import (
    as_output,
    check_int_array,
    check_positive_float,
    check_positive_int,
    check_real_array,
    log_alpha_n,
    log_gamma_ratio_centered,
)
from theory.replace import _LogGammaSum

__all__ = [
    "bertrand_markov_bound",
    "collapse_probability",
    "fractional_markov_bound",
    "suresh_bound",
]


def _args(k, n, eps_ratio):
    k = check_int_array("k", k, minimum=1)
    n = check_positive_int("n", n, minimum=2)
    eps = check_real_array("eps_ratio", eps_ratio)
    if np.any(eps <= 0.0):
        raise ValueError(f"eps_ratio must be a finite real number > 0, got {eps_ratio!r}")
    return k, n, eps


def collapse_probability(k, n, eps_ratio):
    """Exact ``P(σ_k > ε)`` after ``k`` fits (1-D, unbiased, replace, σ0 = 1).

    ``P(σ_k > ε) = P(Σ_{j=1}^{k} log χ²_{n−1,j} > 2 log ε + k log(n−1))``, evaluated as the
    survival function of the log-χ² sum (see :func:`theory.replace.log_chi2_sum_sf`): exact
    up to ~1e-12 absolutely and ~1e-10 relatively even in the far tail (values ≪ 1e-16).
    Source: derived (reference notes §8a, "exact law for a verifier"); the quantity Suresh
    et al. 2024 bound in their Theorem 3 and estimate by simulation. Equals
    ``replace_variance_sf(ε², k − 1, n, estimator="unbiased")``.

    Args:
        k: number of fits ``≥ 1`` (toolkit generation ``k − 1``); int or integer array.
        n: points per fit ``≥ 2``.
        eps_ratio: ``ε/σ0 > 0`` (broadcast against ``k``).

    Returns:
        ``P(σ_k > ε)`` with shape ``broadcast(k, eps_ratio)``.
    """
    k, n, eps = _args(k, n, eps_ratio)
    k, eps = np.broadcast_arrays(k, eps)
    a = 0.5 * (n - 1.0)
    shift_per_fit = math.log(2.0) - math.log(n - 1.0)
    out = np.empty(k.shape)
    laws = {}
    for idx in np.ndindex(k.shape):
        kk = int(k[idx])
        if kk not in laws:
            laws[kk] = _LogGammaSum([a], [float(kk)], kk * shift_per_fit)
        _, sf = laws[kk].cdf_sf(np.array([2.0 * math.log(eps[idx])]))
        out[idx] = sf[0]
    return as_output(out)


def suresh_bound(k, n, eps_ratio):
    """Suresh et al. 2024, Theorem 3: ``P(σ_k > ε) ≤ (σ0/ε) exp(−k/(4n − 1))``.

    Source: [paper] Theorem 3 as stated in their code's docstring ([code]
    berserank/rate-of-model-collapse; reference notes §8a). ``k`` counts fits.

    Args:
        k: number of fits ``≥ 1``; n: points per fit ``≥ 2``; eps_ratio: ``ε/σ0 > 0``.
    """
    k, n, eps = _args(k, n, eps_ratio)
    return as_output(np.exp(-k / (4.0 * n - 1.0)) / eps)


def bertrand_markov_bound(k, n, eps_ratio):
    """Markov bound on ``E σ_k``: ``P(σ_k > ε) ≤ α(n)^k σ0/ε``.

    ``E σ_k = α(n)^k σ0`` (Bertrand et al. 2024, as plotted in Suresh et al.'s notebook,
    [code]); α as in :func:`theory._special.alpha_n`. ``k`` counts fits.

    Args:
        k: number of fits ``≥ 1``; n: points per fit ``≥ 2``; eps_ratio: ``ε/σ0 > 0``.
    """
    k, n, eps = _args(k, n, eps_ratio)
    return as_output(np.exp(k * log_alpha_n(n)) / eps)


def fractional_markov_bound(k, n, eps_ratio, r=0.35):
    """Markov bound on ``σ_k^{2r}``: ``P(σ_k > ε) ≤ (σ0/ε)^{2r} m_r^k``.

    ``m_r = E[(χ²_{n−1}/(n−1))^r] = Γ((n−1)/2 + r) / (Γ((n−1)/2) ((n−1)/2)^r)``. With
    ``r = 0.35`` this is the sharper curve plotted in Suresh et al.'s notebook ([code],
    reference notes §8a); any ``0 < r`` gives a valid bound. ``k`` counts fits.

    Args:
        k: number of fits ``≥ 1``; n: points per fit ``≥ 2``; eps_ratio: ``ε/σ0 > 0``;
        r: order ``> 0`` (default 0.35).
    """
    k, n, eps = _args(k, n, eps_ratio)
    r = check_positive_float("r", r)
    log_m = float(log_gamma_ratio_centered(0.5 * (n - 1.0), r).real)
    return as_output(np.exp(k * log_m - 2.0 * r * np.log(eps)))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
