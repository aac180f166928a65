"""Exact mean error of the accumulate-subsample loop with a known covariance.

Setting (Kazdan et al. 2025's "accumulate-subsample"; Dey & Donoho 2024's "subsample"
workflow): only the mean is fitted, the covariance is fixed at the truth's Σ₀. Fit 1
(toolkit generation 0) is the mean of n real points. Before fit g ≥ 2 a batch of m points is
drawn from N(e_{g−1}, Σ₀) and added to the pool (n + (g−1)m points); fit g is the mean of n
points drawn uniformly without replacement from the pool.

Derivation (derived, not in the papers). Write every pooled point as x_i (1-D, Σ₀ = 1; the
d-dimensional error is tr Σ₀ times the 1-D one, coordinates decoupling in the eigenbasis of
Σ₀). The selection is independent of the values, so for any fixed point i and fit g,

    E[x_i e_g] = (1/N_g) Σ_{q ∈ pool_g} E[x_i x_q],     (P(q ∈ S_g) = n/N_g)
    E[e_g²]   = (1/n²)[(n/N_g) Σ_i E x_i² + n(n−1)/(N_g(N_g−1)) Σ_{i≠k} E x_i x_k].

Let G_{jl} be E[x_i x_k] for i ∈ batch j, k ∈ batch l, i ≠ k. Then G_{11} = 0 (real points,
μ₀ = 0), G_{jj} = E e_{j−1}² for j ≥ 2, every point has E x_i² = G_{jj} + v_j, and for j < l,
G_{jl} = E[x_i e_{l−1}] = (1/N_{l−1})(Σ_{m<l} s_m G_{jm} + v_j), s_m the batch sizes and v_j
a point's own noise variance (1 for real points, τ for synthetic ones at temperature τ). This is an
O(g³) exact recursion; as n → ∞ with m = n the scaled error n E e_g² tends to the
Gaussian-process limit v_g of :func:`theory.subsample_risk_ratio` (→ π²/2 − 2).
"""

from __future__ import annotations

import numpy as np

from theory._special import check_positive_float, check_positive_int


def accumulate_subsample_mean_error2_known_cov(
    t: int, n: int, trace0: float, *, n_synthetic: int | None = None, temperature: float = 1.0
) -> np.ndarray:
    """E‖μ_s − μ₀‖² for s = 0 … t, accumulate-subsample loop, covariance known.

    Args:
        t: last generation (≥ 0); generation s has had s + 1 fits.
        n: real points, also the subsample size of every fit (≥ 1).
        trace0: tr Σ₀ (> 0).
        n_synthetic: points added to the pool per generation (default n, ≥ 1).
        temperature: τ > 0; synthetic batches are drawn from N(e_{g−1}, τΣ₀), so a
            synthetic point's own variance is τ instead of 1 in the recursion.

    Returns:
        Array of shape ``(t + 1,)``.
    """
    t = check_positive_int("t", t, minimum=0)
    n = check_positive_int("n", n, minimum=1)
    m = n if n_synthetic is None else check_positive_int("n_synthetic", n_synthetic, minimum=1)
    trace0 = check_positive_float("trace0", trace0)
    tau = check_positive_float("temperature", temperature)
    g_max = t + 1
    sizes = np.array([n] + [m] * (g_max - 1), dtype=np.float64)
    own = np.array([1.0] + [tau] * (g_max - 1))  # a point's own noise variance per batch
    G = np.zeros((g_max, g_max))  # G[j, l], batches 0-indexed
    err = np.zeros(g_max)
    for g in range(g_max):  # fit g (0-indexed) uses batches 0..g
        if g > 0:
            # batch g was drawn from fit g-1: within-batch and cross moments
            G[g, g] = err[g - 1]
            n_prev = sizes[:g].sum()
            for j in range(g):
                G[j, g] = G[g, j] = (sizes[:g] @ G[j, :g] + own[j]) / n_prev
        s = sizes[: g + 1]
        N = s.sum()
        diag_sum = s @ (np.diag(G)[: g + 1] + own[: g + 1])
        off = s @ G[: g + 1, : g + 1] @ s - s @ np.diag(G)[: g + 1]  # Σ_{i≠k} E x_i x_k
        if N > 1:
            err[g] = (n / N * diag_sum + n * (n - 1) / (N * (N - 1)) * off) / n**2
        else:
            err[g] = diag_sum / n**2
    return trace0 * err


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
