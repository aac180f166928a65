"""Helpers of paper_checks.claims.gillman2024 that carry derived values (Corollary 4.5,
Example 4.6): the control-variate slope and the RHS of eq. 7 with the exact per-γ τ_n."""

import math

import numpy as np
import pytest
from scipy import stats

import theory  # noqa: F401  (float64)
from paper_checks.claims import gillman2024 as gl
from theory import correction as cr


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 3.0, math.inf])
def test_conditional_slope_reproduces_the_unconditional_error(gamma):
    """E(θ_t − µ*)² = P_t·E u² + Q_t with E u² = 1/n and Q_{t+1} = κ₂Q_t + s, Q₀ = 0 (the part
    of the recursion that does not depend on u): it must equal the library's closed form."""
    ts = np.arange(gl.MEAN_T + 1)
    p = gl.conditional_u2_slope(gamma, ts)
    co = cr.mean_loop_coefficients(gl.MEAN_N, gl.MEAN_M, gamma)
    q, qs = 0.0, [0.0]
    for _ in ts[1:]:
        q = co.kappa2 * q + co.noise
        qs.append(q)
    want = cr.corrected_mix_mean_error2_known_cov(ts, gl.MEAN_N, 1.0, n_synthetic=gl.MEAN_M,
                                                  correction_strength=gamma)
    np.testing.assert_allclose(p / gl.MEAN_N + np.array(qs), want, rtol=1e-12, atol=0)
    if math.isinf(gamma):  # θ_t = (Σx + Σz)/N: slope (n/N)² for t ≥ 1
        np.testing.assert_allclose(p[1:], (gl.MEAN_N / (gl.MEAN_N + gl.MEAN_M)) ** 2,
                                   rtol=1e-15)


@pytest.mark.parametrize("t", [1, 10, 50])
def test_exact_tau_rhs_at_gamma_zero(t):
    """At γ = 0 there is no membership noise: the sup error is |A|, A ~ N(0, 1/N), so
    τ_n(δ/t) = z_{1 − δ/(2t)}/√N and RHS = τ Σ_{i≤t} q^i + q^t‖θ₀ − θ*‖, q = ρ = λ/(1 − λ)."""
    big = gl.MEAN_N + gl.MEAN_M
    tau = stats.norm.isf(gl.DELTA / (2 * t)) / math.sqrt(big)
    q = gl.MEAN_LAMBDA / (1 - gl.MEAN_LAMBDA)
    want = tau * sum(q**i for i in range(t + 1)) + q**t * gl._COR_D0
    assert gl.rhs_per_gamma_exact_tau(t, 0.0) == pytest.approx(want, rel=1e-10)
    # dropping the membership term changes nothing at γ = 0 and lowers τ_n at γ > 0
    assert gl.rhs_per_gamma_exact_tau(t, 0.0, membership=False) == pytest.approx(want,
                                                                                 rel=1e-10)
    assert (gl.rhs_per_gamma_exact_tau(t, 1.0, membership=False)
            < gl.rhs_per_gamma_exact_tau(t, 1.0))
