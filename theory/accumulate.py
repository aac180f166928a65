"""Exact moments of the "accumulate" loop (all past data kept) for a fitted Gaussian.

Loop (toolkit indexing): generation 0 fits the ``n`` real points from ``N(μ0, Σ0)``; each
generation ``t ≥ 1`` draws ``m = n_synthetic`` new points from the previous fit
``N(μ_{t−1}, τΣ_{t−1})`` and refits on *all* points drawn so far, a pool of
``N_t = n + t·m`` points, with the pooled mean and ``Σ_t = W_t / D(N_t)`` (``W`` the pooled
scatter matrix, ``D(N) = N`` for MLE, ``N − 1`` unbiased). Generation ``t`` is the ``(t+1)``-th
fit; Kazdan et al. (2025) and Gerstgrasser et al. (2024) call it iteration ``t + 1``.

Exact recursion (derived; the Kazdan/Gerstgrasser MLE ``m = n`` case is in the reference notes
§6, §9 rows 6–7). With ``ȳ`` the mean of the ``m`` new points, the pooled scatter gains the
new points' own scatter plus the between-group term:

.. math::
    W_t = W_{t-1} + W_{\\text{new}} + \\frac{N_{t-1} m}{N_t}(ȳ-μ_{t-1})(ȳ-μ_{t-1})^⊤,
    \\qquad E[W_t\\mid\\text{past}] = W_{t-1} + τΣ_{t-1}\\Big[(m-1) + \\frac{N_{t-1}}{N_t}\\Big]

so ``E Σ_t = E Σ_{t−1} · [D_{t−1} + τ(m − 1 + N_{t−1}/N_t)] / D_t`` and, since
``μ_t = μ_{t−1} + (m/N_t)(ȳ − μ_{t−1})``,
``E‖μ_t − μ0‖² = E‖μ_{t−1} − μ0‖² + m τ tr EΣ_{t−1} / N_t²``. All expected matrices are
scalar multiples of Σ0, so the matrix versions are ``factor · Σ0``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from theory._special import (
    as_output,
    check_estimator,
    check_int_array,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "accumulate_cov_factor",
    "accumulate_cov_factor_limit",
    "accumulate_cov_limit",
    "accumulate_mean_error2",
    "accumulate_mean_error2_bound",
    "accumulate_mean_error2_known_cov",
]

_CHUNK = 1 << 18


def _params(n, n_synthetic, estimator, temperature):
    estimator = check_estimator(estimator)
    n = check_positive_int("n", n, minimum=2)
    m = n if n_synthetic is None else check_positive_int("n_synthetic", n_synthetic, minimum=1)
    tau = check_positive_float("temperature", temperature)
    return n, m, tau, (1.0 if estimator == "unbiased" else 0.0)


def _log_factor_terms(k, n, m, tau, ddof):
    """``log(E Σ_k / E Σ_{k−1})`` for generations ``k ≥ 1`` (float array)."""
    n_prev = n + (k - 1.0) * m
    n_k = n_prev + m
    d_k = n_k - ddof
    ratio = n_prev / n_k
    # factor − 1 = [(τ − 1)(m − 1 + N_{k−1}/N_k) − m/N_k] / D_k   (D_k − D_{k−1} = m)
    return np.log1p(((tau - 1.0) * (m - 1.0 + ratio) - m / n_k) / d_k)


def _scan(t, n, m, tau, ddof, trace0):
    """Return ``(log E Σ_t/Σ0, E‖μ_t − μ0‖²)`` at the requested generations (chunked scan)."""
    t = check_int_array("t", t, minimum=0)
    flat = t.ravel()
    log_c0 = math.log1p(-1.0 / n) if ddof == 0.0 else 0.0
    mean0 = trace0 / n
    t_max = int(flat.max())
    log_out = np.empty(flat.shape)
    mean_out = np.empty(flat.shape)
    order = np.argsort(flat, kind="stable")
    sorted_t = flat[order]
    # values at generation 0
    pos = 0
    log_prev, mean_prev = log_c0, mean0  # running values at generation `done`
    done = 0
    while pos < sorted_t.size and sorted_t[pos] == 0:
        log_out[order[pos]], mean_out[order[pos]] = log_c0, mean0
        pos += 1
    while done < t_max:
        k = np.arange(done + 1, min(done + _CHUNK, t_max) + 1, dtype=np.float64)
        logs = log_prev + np.cumsum(_log_factor_terms(k, n, m, tau, ddof))
        prev_logs = np.concatenate([[log_prev], logs[:-1]])  # log EΣ_{k−1}/Σ0
        n_k = n + k * m
        increments = m * tau * trace0 * np.exp(prev_logs) / (n_k * n_k)
        means = mean_prev + np.cumsum(increments)
        last = int(k[-1])
        while pos < sorted_t.size and sorted_t[pos] <= last:
            i = int(sorted_t[pos]) - done - 1
            log_out[order[pos]], mean_out[order[pos]] = logs[i], means[i]
            pos += 1
        log_prev, mean_prev, done = logs[-1], means[-1], last
    return log_out.reshape(t.shape), mean_out.reshape(t.shape)


def accumulate_cov_factor(t, n, *, n_synthetic=None, estimator, temperature=1.0):
    """``E Σ_t / Σ0`` of the accumulate loop (a scalar factor; the matrix is ``factor·Σ0``).

    .. math:: \\frac{EΣ_t}{Σ_0} = \\frac{n-1}{D(n)}\\prod_{k=1}^{t}
              \\frac{D_{k-1} + τ(m - 1 + N_{k-1}/N_k)}{D_k}, \\quad N_k = n + km

    MLE, ``m = n``, τ = 1: ``∏_{k=1}^{t+1}(1 − 1/(n k²)) → sin(π/√n)/(π/√n)`` (Kazdan et al.
    2025 code; their iteration ``t+1``). Unbiased, ``m = n``: ``∏_{k=2}^{t+1}(1 − 1/(k(kn−1)))``.
    Source: derived (reference notes §6). Cost O(max t) (chunked).

    Args:
        t: generation(s) ``≥ 0``.
        n: real points (fit 0), ``≥ 2``.
        n_synthetic: new synthetic points per generation ``m ≥ 1`` (default ``n``).
        estimator: ``"mle"`` or ``"unbiased"``.
        temperature: sampling bias ``τ > 0``.

    Returns:
        ``E Σ_t / Σ0`` (shape of ``t``).
    """
    n, m, tau, ddof = _params(n, n_synthetic, estimator, temperature)
    logs, _ = _scan(t, n, m, tau, ddof, 1.0)
    return as_output(np.exp(logs))


def accumulate_mean_error2(t, n, trace0, *, n_synthetic=None, estimator, temperature=1.0):
    """``E‖μ_t − μ0‖²`` of the accumulate loop.

    .. math:: M_t = M_{t-1} + m τ \\operatorname{tr}(EΣ_{t-1}) / N_t^2, \\qquad
              M_0 = \\operatorname{tr}Σ_0/n

    MLE, ``m = n``, τ = 1: ``(trΣ0/n) Σ_{k=1}^{t+1} k^{−2} ∏_{j<k}(1 − 1/(n j²))
    ≤ (π²/6) trΣ0/n`` (Gerstgrasser et al. 2024, Kazdan et al. 2025; see
    :func:`accumulate_mean_error2_bound`). Source: derived (reference notes §6).

    Args:
        t: generation(s) ``≥ 0``; n: real points ``≥ 2``; trace0: ``tr Σ0 > 0``;
        n_synthetic: ``m ≥ 1`` (default ``n``); estimator; temperature ``τ > 0``.
    """
    n, m, tau, ddof = _params(n, n_synthetic, estimator, temperature)
    trace0 = check_positive_float("trace0", trace0)
    _, means = _scan(t, n, m, tau, ddof, trace0)
    return as_output(means)


def accumulate_mean_error2_bound(n, trace0):
    """Generation-free bound ``(π²/6) trΣ0 / n`` on ``E‖μ_t − μ0‖²`` under accumulate.

    Valid for ``m = n`` synthetic points per generation, ``τ ≤ 1`` and either estimator:
    then every factor of :func:`accumulate_cov_factor` is ``≤ 1``, so ``tr EΣ_{k} ≤ trΣ0``
    and ``M_t ≤ (trΣ0/n) Σ_{k≥1} 1/k²`` (Gerstgrasser et al. 2024; Kazdan et al. 2025).

    Args:
        n: real points ``≥ 1``; trace0: ``tr Σ0 > 0``.
    """
    n = check_positive_int("n", n, minimum=1)
    trace0 = check_positive_float("trace0", trace0)
    return math.pi**2 / 6.0 * trace0 / n


def accumulate_cov_limit(n):
    """``lim_t E Σ_t / Σ0 = sin(π/√n)/(π/√n)`` for MLE, ``m = n``, τ = 1.

    From ``∏_{k≥1}(1 − x/k²) = sin(π√x)/(π√x)`` with ``x = 1/n`` (Euler); no collapse
    (Kazdan et al. 2025; reference notes §6). For other settings see
    :func:`accumulate_cov_factor_limit`.

    Args:
        n: real points per generation ``≥ 1``.
    """
    n = check_positive_int("n", n, minimum=1)
    return float(np.sinc(1.0 / math.sqrt(n)))


def accumulate_cov_factor_limit(n, *, n_synthetic=None, estimator):
    """``lim_t E Σ_t / Σ0`` of the accumulate loop at τ = 1, any ``m`` and estimator.

    Each factor is ``1 − m/(N_k D_k)``, a ratio of quadratics in ``k``; with
    ``∏_{k≥1} (k−r₁)(k−r₂)/((k+p)(k+q)) = Γ(1+p)Γ(1+q)/(Γ(1−r₁)Γ(1−r₂))`` (valid since
    ``−r₁ − r₂ = p + q``):

    * MLE: ``p = q = n/m``, ``r = −n/m ± 1/√m``;
    * unbiased: ``p = n/m``, ``q = (n−1)/m``, ``r = (−(2n−1) ± √(1+4m))/(2m)``;

    times the generation-0 factor ``(n−1)/D(n)``. MLE ``m = n`` reduces to
    :func:`accumulate_cov_limit`. For τ < 1 the limit is 0 and for τ > 1 it is ∞.
    Source: derived.

    Args:
        n: real points ``≥ 2``; n_synthetic: ``m ≥ 1`` (default ``n``); estimator.
    """
    n, m, _, ddof = _params(n, n_synthetic, estimator, 1.0)
    if ddof == 0.0:
        p = q = n / m
        disc = 1.0 / math.sqrt(m)
        r1, r2 = -n / m + disc, -n / m - disc
        log_c0 = math.log1p(-1.0 / n)
    else:
        p, q = n / m, (n - 1.0) / m
        root = math.sqrt(1.0 + 4.0 * m)
        r1, r2 = (-(2.0 * n - 1.0) + root) / (2.0 * m), (-(2.0 * n - 1.0) - root) / (2.0 * m)
        log_c0 = 0.0
    log_limit = (
        special.gammaln(1.0 + p)
        + special.gammaln(1.0 + q)
        - special.gammaln(1.0 - r1)
        - special.gammaln(1.0 - r2)
    )
    return float(math.exp(log_c0 + log_limit))


def accumulate_mean_error2_known_cov(t, n, trace0, *, n_synthetic=None, temperature=1.0):
    """``E‖μ_t − μ0‖²`` under accumulate when only the mean is fitted (covariance fixed Σ0).

    Synthetic points are drawn from ``N(μ_{t−1}, τΣ0)``:

    .. math:: M_t = \\frac{\\operatorname{tr}Σ_0}{n} + \\sum_{k=1}^{t}
              \\frac{mτ\\operatorname{tr}Σ_0}{(n+km)^2}
              = \\operatorname{tr}Σ_0\\Big[\\frac1n + \\frac{τ}{m}
              \\big(ψ'(1+\\tfrac nm) - ψ'(1+\\tfrac nm+t)\\big)\\Big]

    ``m = n``, τ = 1: ``(trΣ0/n) Σ_{k=1}^{t+1} 1/k² → (π²/6) trΣ0/n`` (Dey & Donoho 2024
    augment ratio; Gerstgrasser et al. 2024). Source: derived.

    Args:
        t: generation(s) ``≥ 0``; n: real points ``≥ 1``; trace0: ``tr Σ0 > 0``;
        n_synthetic: ``m ≥ 1`` (default ``n``); temperature ``τ > 0``.
    """
    n = check_positive_int("n", n, minimum=1)
    m = n if n_synthetic is None else check_positive_int("n_synthetic", n_synthetic, minimum=1)
    tau = check_positive_float("temperature", temperature)
    trace0 = check_positive_float("trace0", trace0)
    t = check_int_array("t", t, minimum=0).astype(np.float64)
    base = 1.0 + n / m
    tail = special.polygamma(1, base) - special.polygamma(1, base + t)
    return as_output(trace0 * (1.0 / n + tau / m * tail))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
