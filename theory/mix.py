"""The "mix" loop (fixed real set + fresh synthetic points): closed forms.

Setting of Bertrand et al. 2024 and Gillman et al. 2024 with γ = 0: generation 0 fits the n
real points; each generation t ≥ 1 draws m = ⌊λn⌋ synthetic points from the previous fit and
refits on the *same* n real points plus these m points (pooled maximum likelihood).
"""

from __future__ import annotations

import numpy as np

from theory._special import check_positive_float, check_positive_int


def mix_mean_error2_known_cov(t, n, trace0, *, n_synthetic, temperature=1.0):
    """E‖μ_t − μ₀‖² of the mix loop when the covariance Σ₀ is known (only μ is fitted).

    Derivation (derived). With r̄ the real sample mean and k = m/(n + m), the fitted mean is
    μ_t = (n r̄ + m s̄_t)/(n + m) with s̄_t ~ N(μ_{t−1}, τΣ₀/m). The deviation δ_t = μ_t − r̄
    obeys δ_t = k(δ_{t−1} + η_t), η_t ~ N(0, τΣ₀/m) independent of r̄, δ₀ = 0, so

        E‖μ_t − μ₀‖² = tr Σ₀/n + (τ tr Σ₀/m) Σ_{j=1}^{t} k^{2j}
                     = tr Σ₀/n + (τ tr Σ₀/m) k²(1 − k^{2t})/(1 − k²).

    The synthetic data add variance around the real fit but never move its centre: the
    error stays below tr Σ₀/n + τ tr Σ₀ k²/(m(1 − k²)) — the mean-only case of the λ/(1+λ)
    contraction of Bertrand et al. 2024.

    Args:
        t: generation(s) ≥ 0 (array allowed).
        n: real points ≥ 1.
        trace0: tr Σ₀ > 0.
        n_synthetic: m ≥ 1 synthetic points per generation.
        temperature: τ > 0, synthetic points drawn from N(μ_{t−1}, τΣ₀).
    """
    n = check_positive_int("n", n, minimum=1)
    m = check_positive_int("n_synthetic", n_synthetic, minimum=1)
    trace0 = check_positive_float("trace0", trace0)
    tau = check_positive_float("temperature", temperature)
    t_arr = np.asarray(t)
    if not np.issubdtype(t_arr.dtype, np.integer) or np.any(t_arr < 0):
        raise ValueError(f"t must be a non-negative integer (array), got {t!r}")
    k2 = (m / (n + m)) ** 2
    out = trace0 / n + (tau * trace0 / m) * k2 * (1.0 - k2 ** t_arr.astype(float)) / (1.0 - k2)
    return out if np.ndim(out) else float(out)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
