"""Self-correcting loops: Gillman et al. 2024 (ICML) and its γ = 0 case, Bertrand et al. 2024.

The ideal corrector of strength γ ∈ [0, ∞] (Gillman et al. 2024, Def. 4.1, eq. 4) is

    π_γ p_θ = (p_θ + γ p_θ*)/(1 + γ),

and one generation of the loop with synthetic ratio λ (⌊λn⌋ synthetic per n real points) is
the (local) maximizer of H(θ, θ') = E_{p_data} log p_θ' + λ E_{π_γ p_θ} log p_θ' (eq. 5, 10).
This module holds, as pure functions:

* Lemma A.2 and the mixing inequality of Prop. A.5's proof (densities and CDFs on a grid; an
  exact 1-D Wasserstein-1 distance by quadrature of ∫|F − G|);
* the exact infinite-sample map π_γG_λ^∞ for the Gaussian class (reference notes §4.2:
  k = λ/((1+λ)(1+γ)), the k(1−k)δδᵀ covariance term, the closed-form t-step iterate), the
  generic moment-matching map for any p_data given its first two moments, the exact
  expectation of the finite-sample pooled MLE, and Jacobians by JAX automatic
  differentiation compared with Lemma A.7;
* a 1-D logistic location model, where α, L and ε of Assumption 4.2 are all finite and
  non-zero (the Gaussian class has A = C exactly; this model does not);
* the bounds as functions of their constants: ρ(λ) (eq. 38), the stability condition
  (eq. 40–41), λ_max(γ), Theorem A.8 (eq. 37, 39), Theorem 4.3 (eq. 7, with
  τ_n(δ) = ε_OPT + (a/√n)√log(b/δ), eq. 6/44), Prop. B.2's constant, Prop. A.5(B)'s
  condition; each raises ``ValueError`` naming the assumption that fails;
* the model constants (α, L, ε) with ε = W₁(p_θ*, p_data), exact in 1-D and labelled as an
  upper bound where it is one;
* the mean-only mix loop with the corrector: the exact AR(1) coefficients and E‖θ_t − µ*‖²
  for the deterministic and the random corrector split (reference notes §4.3, derived);
* :func:`fit_tau_n`, the fit of Assumption 4.2(3)'s constants (a, b, ε_OPT) to simulated
  one-step errors.

Parametrization of the Gaussian class: θ = (µ, vech Σ), vech = the lower-triangular entries
of Σ row by row (``numpy.tril_indices``); norms of θ are Euclidean in this parametrization.

References:
    Gillman, Freeman, Aggarwal, Hsu, Luo, Tian, Sun (2024), "Self-Correcting Self-Consuming
    Loops for Generative Model Training", ICML, arXiv:2402.07087 v3.
    Bertrand, Bose, Duplessis, Jiralerspong, Gidel (2024), "On the Stability of Iterative
    Retraining of Generative Models on their own Data", ICLR, arXiv:2310.00429.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, optimize, special
from scipy import stats as st

from theory import linalg
from theory._special import check_positive_float, check_positive_int

__all__ = [
    "LogisticLocation",
    "ModelConstants",
    "MeanLoopCoefficients",
    "Misspecification",
    "TauFit",
    "contraction_bound",
    "corrected_cdf",
    "corrected_density",
    "corrected_mix_mean_error2_known_cov",
    "corrected_mix_mean_error2_stationary",
    "corrected_population_iterate",
    "corrected_population_map",
    "expected_loglik_gaussian",
    "fit_tau_n",
    "gaussian_alpha",
    "implicit_map_jacobian",
    "lambda_max",
    "law_cdf",
    "law_pdf",
    "lemma_a7_jacobian",
    "lemma_a7_matrices",
    "logistic_cross_hessian",
    "logistic_location",
    "logistic_location_map",
    "logistic_location_objective",
    "mean_loop_coefficients",
    "misspecification_w1",
    "model_constants",
    "moment_matching_map",
    "pooled_mle_expectation",
    "population_contraction",
    "population_map_jacobian",
    "prop_a5_margin",
    "prop_b2_constant",
    "rho",
    "stability_condition",
    "target_weight",
    "tau_n",
    "theorem_4_3_bound",
    "theorem_a8_bound",
    "theta_from_gaussian",
    "theta_to_gaussian",
    "w1_1d",
]


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _check_gamma(gamma) -> float:
    """γ ∈ [0, ∞] (``inf`` allowed: the corrector returns p_θ*)."""
    if isinstance(gamma, bool | np.bool_) or not isinstance(gamma, numbers.Real):
        raise ValueError(f"correction_strength must be a real number in [0, inf], got {gamma!r}")
    g = float(gamma)
    if math.isnan(g) or g < 0.0:
        raise ValueError(f"correction_strength must be a real number in [0, inf], got {gamma!r}")
    return g


def _check_lambda(lam, *, positive=False) -> float:
    bound = "> 0" if positive else ">= 0"
    if isinstance(lam, bool | np.bool_) or not isinstance(lam, numbers.Real):
        raise ValueError(f"synthetic_ratio must be a finite real number {bound}, got {lam!r}")
    v = float(lam)
    if not math.isfinite(v) or v < 0.0 or (positive and v == 0.0):
        raise ValueError(f"synthetic_ratio must be a finite real number {bound}, got {lam!r}")
    return v


def _check_constants(alpha, eps, lipschitz) -> tuple[float, float, float]:
    a = check_positive_float("alpha", alpha)
    e = check_positive_float("eps", eps, allow_zero=True)
    L = check_positive_float("lipschitz", lipschitz, allow_zero=True)
    return a, e, L


def _check_unit_interval(name, value) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number in (0, 1), got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a real number in (0, 1), got {value!r}")
    return v


def target_weight(correction_strength) -> float:
    """Weight of p_θ* in π_γ p_θ: γ/(1+γ) (1 for γ = ∞). Gillman et al. 2024, Def. 4.1."""
    g = _check_gamma(correction_strength)
    return 1.0 if math.isinf(g) else g / (1.0 + g)


# --------------------------------------------------------------------------------------------
# Def. 4.1 / Lemma A.2: the corrected density and CDF
# --------------------------------------------------------------------------------------------


def corrected_density(p, p_star, correction_strength):
    """π_γ p = (p + γ p*)/(1 + γ), pointwise (Gillman et al. 2024, Def. 4.1, eq. 4 / 52).

    Args:
        p: values of p_θ (densities on a grid, or CDF values: the map is linear), any shape.
        p_star: values of p_θ*, broadcastable with ``p``.
        correction_strength: γ ∈ [0, ∞]; γ = ∞ returns ``p_star``.

    Returns:
        float64 array. Lemma A.2(3): |π_γp − p*| = |p − p*|/(1+γ) and
        |π_γp − p| = γ|p − p*|/(1+γ) pointwise.
    """
    g = _check_gamma(correction_strength)
    p = np.asarray(p, dtype=np.float64)
    p_star = np.asarray(p_star, dtype=np.float64)
    if math.isinf(g):
        return np.broadcast_to(p_star, np.broadcast_shapes(p.shape, p_star.shape)).copy()
    return (p + g * p_star) / (1.0 + g)


def law_pdf(law):
    """Numpy density of a 1-D law: a :mod:`theory.laws` law (Gaussian, Gaussian mixture,
    Student-t) or any object with a ``pdf`` method (e.g. a frozen ``scipy.stats`` law)."""
    return _law_fn(law, "pdf")


def law_cdf(law):
    """Numpy CDF of a 1-D law (see :func:`law_pdf` for what a law may be)."""
    return _law_fn(law, "cdf")


def _law_fn(law, which):
    kind = getattr(law, "kind", None)
    if kind is not None and getattr(law, "dim", 1) != 1:
        raise ValueError(f"law must be one-dimensional, got dim={law.dim}")
    if kind == "gaussian":
        return _gauss_fn(np.asarray(law.mean), np.sqrt(np.asarray(law.cov)[0]), np.ones(1),
                         which)
    if kind == "gaussian_mixture":
        return _gauss_fn(np.asarray(law.means)[:, 0], np.sqrt(np.asarray(law.covs)[:, 0, 0]),
                         np.asarray(law.weights), which)
    if kind == "student_t":
        nu, loc, sc = law.df, law.loc[0], math.sqrt(law.scale[0][0])
        if which == "cdf":
            return lambda x: special.stdtr(nu, (np.asarray(x, dtype=np.float64) - loc) / sc)
        return lambda x: st.t.pdf(x, nu, loc=loc, scale=sc)
    if hasattr(law, which):
        return getattr(law, which)
    raise TypeError(
        f"law must be a theory.laws law or have a {which}() method, got {type(law).__name__}"
    )


def _gauss_fn(mu, sd, w, which):
    """Vectorized Gaussian-mixture pdf/cdf through scipy.special (no frozen-law overhead)."""

    def fn(x):
        z = (np.asarray(x, dtype=np.float64)[..., None] - mu) / sd
        comp = special.ndtr(z) if which == "cdf" else np.exp(-0.5 * z * z) / (
            sd * math.sqrt(2.0 * math.pi))
        return comp @ w

    return fn


def corrected_cdf(cdf_p, cdf_star, correction_strength):
    """CDF of π_γ p: x ↦ (F_p(x) + γ F*(x))/(1 + γ) (a mixture of CDFs)."""
    g = _check_gamma(correction_strength)
    if not (callable(cdf_p) and callable(cdf_star)):
        raise TypeError("cdf_p and cdf_star must be callables")
    return lambda x: corrected_density(cdf_p(x), cdf_star(x), g)


def w1_1d(cdf_a, cdf_b, *, bulk, points=4001, full_output=False):
    """Exact 1-D Wasserstein-1 distance W₁ = ∫|F_a(x) − F_b(x)| dx, by quadrature.

    The real line is cut at the sign changes of F_a − F_b (located on a grid of ``points``
    over ``bulk`` and refined by Brent's method); on each piece F_a − F_b has one sign and is
    integrated by adaptive quadrature (``scipy.integrate.quad``; the two outer pieces reach
    ±∞). Valid for laws with a finite first moment whose CDFs do not cross outside ``bulk``.

    Args:
        cdf_a, cdf_b: vectorized CDFs (callables), or 1-D laws accepted by :func:`law_cdf`.
        bulk: (lo, hi), an interval holding every crossing of the CDFs (e.g. the means
            ± 40 standard deviations).
        points: grid size used to locate crossings (≥ 3).
        full_output: also return the summed quadrature error estimate.

    Returns:
        W₁ (float), or ``(W₁, abserr)`` with ``full_output``.
    """
    fa = cdf_a if callable(cdf_a) else law_cdf(cdf_a)
    fb = cdf_b if callable(cdf_b) else law_cdf(cdf_b)
    try:
        lo, hi = (float(v) for v in bulk)
    except (TypeError, ValueError):
        raise ValueError(f"bulk must be a pair (lo, hi) of finite numbers, got {bulk!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bulk must be a pair (lo, hi) of finite numbers with lo < hi, "
                         f"got {bulk!r}")
    points = check_positive_int("points", points, minimum=3)

    def diff(x):
        return np.asarray(fa(x), dtype=np.float64) - np.asarray(fb(x), dtype=np.float64)

    grid = np.linspace(lo, hi, points)
    vals = diff(grid)
    if np.max(np.abs(vals)) == 0.0:  # equal CDFs on the bulk (which holds every crossing)
        return (0.0, 0.0) if full_output else 0.0
    # sign changes at the level of rounding (both CDFs ≈ 0 or ≈ 1 in the tails) are not
    # crossings: skipping them changes the integral by < 1e-13·(hi − lo)
    noise = 1e-13
    roots = []
    for j in range(points - 1):
        if max(abs(vals[j]), abs(vals[j + 1])) <= noise:
            continue
        if vals[j] == 0.0:
            roots.append(grid[j])
        elif vals[j] * vals[j + 1] < 0.0:
            roots.append(optimize.brentq(lambda x: float(diff(x)), grid[j], grid[j + 1],
                                         xtol=1e-14, rtol=4 * np.finfo(float).eps))
    edges = [-np.inf, *roots, np.inf]
    total, err = 0.0, 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        val, e = integrate.quad(lambda x: float(diff(x)), a, b, epsabs=1e-13, epsrel=1e-10,
                                limit=500)
        total += abs(val)
        err += e
    return (total, err) if full_output else total


# --------------------------------------------------------------------------------------------
# parametrization of the Gaussian class
# --------------------------------------------------------------------------------------------


def theta_from_gaussian(mean, cov):
    """θ = (µ, vech Σ), vech = lower-triangular entries row by row; shape (d + d(d+1)/2,)."""
    mean = jnp.asarray(mean)
    cov = jnp.asarray(cov)
    d = mean.shape[-1]
    rows, cols = np.tril_indices(d)
    return jnp.concatenate([mean, cov[..., rows, cols]], axis=-1)


def theta_to_gaussian(theta, dim):
    """Inverse of :func:`theta_from_gaussian`: (µ, Σ) with Σ symmetric."""
    theta = jnp.asarray(theta)
    d = check_positive_int("dim", dim)
    p = d + d * (d + 1) // 2
    if theta.shape[-1] != p:
        raise ValueError(f"theta must have {p} entries for dim={d}, got {theta.shape[-1]}")
    rows, cols = np.tril_indices(d)
    mean = theta[..., :d]
    low = jnp.zeros(theta.shape[:-1] + (d, d), theta.dtype).at[..., rows, cols].set(theta[..., d:])
    cov = low + jnp.swapaxes(low, -1, -2) - low * jnp.eye(d, dtype=theta.dtype)
    return mean, cov


# --------------------------------------------------------------------------------------------
# the exact infinite-sample map for the Gaussian class (reference notes §4.1–4.2)
# --------------------------------------------------------------------------------------------


def population_contraction(synthetic_ratio, correction_strength):
    """k = λ/((1+λ)(1+γ)): the contraction factor of π_γG_λ^∞ for the Gaussian class.

    Derived (reference notes §4.2): the mixture weight of p_θ in
    q = [p_data + (λ/(1+γ)) p_θ + (λγ/(1+γ)) p_θ*]/(1+λ). k = 0 for γ = ∞.
    """
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    return 0.0 if math.isinf(g) else lam / ((1.0 + lam) * (1.0 + g))


def _weights(lam, g):
    """(w_data, w_model, w_target) of the mixture q; traced-safe when lam, g are arrays."""
    w_data = 1.0 / (1.0 + lam)
    if isinstance(g, float) and math.isinf(g):
        return w_data, 0.0 * w_data, lam / (1.0 + lam)
    w_model = lam / ((1.0 + lam) * (1.0 + g))
    return w_data, w_model, lam * g / ((1.0 + lam) * (1.0 + g))


def _mix_moments(weights, means, covs):
    """Mean and covariance of Σ_j w_j q_j from the components' moments (§4.1)."""
    mean = sum(w * m for w, m in zip(weights, means, strict=True))
    cov = sum(w * (c + jnp.einsum("...i,...j->...ij", m - mean, m - mean))
              for w, m, c in zip(weights, means, covs, strict=True))
    return mean, 0.5 * (cov + jnp.swapaxes(cov, -1, -2))


def _hyper(synthetic_ratio, correction_strength):
    lam = synthetic_ratio
    g = correction_strength
    if isinstance(lam, numbers.Real):
        lam = _check_lambda(lam)
    if isinstance(g, numbers.Real):
        g = _check_gamma(g)
    return lam, g


def moment_matching_map(mean, cov, data_mean, data_cov, target_mean, target_cov,
                        synthetic_ratio, correction_strength):
    """One step of π_γG_λ^∞ for the Gaussian class, for any p_data with finite 2nd moments.

    The maximizer of E_{p_data} log p_θ' + λ E_{π_γ p_θ} log p_θ' over Gaussians is moment
    matching to q = [p_data + (λ/(1+γ)) p_θ + (λγ/(1+γ)) p_θ*]/(1+λ) (reference notes §4.1,
    derived): µ' = Σ_j w_j m_j, Σ' = Σ_j w_j (S_j + (m_j − µ')(m_j − µ')ᵀ). Only p_data's
    first two moments enter. With θ* = (data_mean, data_cov) — the Gaussian class's best fit —
    this is :func:`corrected_population_map`; other targets are allowed here to expose what
    the map does when the corrector does not pull toward θ*.

    All array arguments broadcast over leading axes; jittable and differentiable in every
    array argument (λ, γ may be traced scalars; γ = ∞ only as a Python float).

    Returns:
        (µ', Σ').
    """
    lam, g = _hyper(synthetic_ratio, correction_strength)
    w = _weights(lam, g)
    arrs = [jnp.asarray(a) for a in (mean, data_mean, target_mean)]
    covs = [jnp.asarray(a) for a in (cov, data_cov, target_cov)]
    return _mix_moments((w[1], w[0], w[2]), arrs, covs)


def corrected_population_map(mean, cov, target_mean, target_cov, synthetic_ratio,
                             correction_strength):
    """π_γG_λ^∞ for the Gaussian class with θ* = (µ*, Σ*) = p_data's moments (§4.2, derived):

        µ' = µ* + k(µ − µ*),
        Σ' = Σ* + k(Σ − Σ*) + k(1 − k) δδᵀ,    δ = µ − µ*,  k = λ/((1+λ)(1+γ)).

    ε (the misspecification) does not enter: the map depends on p_data only through θ*.
    Broadcasts over leading axes; jittable and differentiable.
    """
    lam, g = _hyper(synthetic_ratio, correction_strength)
    if isinstance(g, float) and math.isinf(g):
        k = 0.0 * lam
    else:
        k = lam / ((1.0 + lam) * (1.0 + g))
    return _k_map(jnp.asarray(mean), jnp.asarray(cov), jnp.asarray(target_mean),
                  jnp.asarray(target_cov), k)


@jax.jit
def _k_map(mean, cov, tm, tc, k):
    delta = mean - tm
    new_mean = tm + k * delta
    new_cov = tc + k * (cov - tc) + k * (1.0 - k) * jnp.einsum("...i,...j->...ij", delta, delta)
    return new_mean, new_cov


def corrected_population_iterate(t, mean0, cov0, target_mean, target_cov, synthetic_ratio,
                                 correction_strength):
    """θ_t^∞ after t steps of :func:`corrected_population_map`, in closed form (§4.2, derived):

        µ_t = µ* + k^t δ₀,   Σ_t = Σ* + k^t (Σ₀ − Σ*) + k^t (1 − k^t) δ₀δ₀ᵀ.

    Args:
        t: non-negative integer or integer array (a leading axis is added for an array).
        mean0, cov0: θ₀ = (µ₀, Σ₀), shapes (d,), (d, d).
        target_mean, target_cov: θ*.
        synthetic_ratio, correction_strength: λ ≥ 0, γ ∈ [0, ∞].

    Returns:
        (µ_t, Σ_t) as numpy float64 arrays, shapes ``t.shape + (d,)`` and ``t.shape + (d, d)``.
    """
    k = population_contraction(synthetic_ratio, correction_strength)
    tt = np.asarray(t)
    if tt.dtype.kind not in "iu" or np.any(tt < 0):
        raise ValueError(f"t must be a non-negative integer (array), got {t!r}")
    m0, c0, tm, tc = (np.asarray(a, dtype=np.float64) for a in (mean0, cov0, target_mean,
                                                                 target_cov))
    kt = np.power(k, tt.astype(np.float64))[..., None]
    delta = m0 - tm
    mean_t = tm + kt * delta
    kt2 = kt[..., None]
    cov_t = tc + kt2 * (c0 - tc) + kt2 * (1.0 - kt2) * np.outer(delta, delta)
    return mean_t, cov_t


def pooled_mle_expectation(mean, cov, data_mean, data_cov, target_mean, target_cov, *,
                           n_real, n_synthetic, correction_strength, real="sampled"):
    """Exact E[µ̂], E[Σ̂] of one finite-sample step π_γG^n(θ): pooled MLE on n real points and
    m synthetic points drawn i.i.d. from π_γ p_θ (random corrector membership).

    Derived: with (m_π, S_π) the moments of π_γ p_θ, N = n + m and x̄ the pooled mean,
    E x̄ = (n m_d + m m_π)/N and E Σ̂ = [n(S_d + m_d m_dᵀ) + m(S_π + m_π m_πᵀ)]/N − E x̄ E x̄ᵀ
    − Cov x̄, with Cov x̄ = (n S_d + m S_π)/N² when the real points are drawn from p_data
    (``real="sampled"``) and m S_π/N² when they are held fixed with sample moments
    (data_mean, data_cov) (``real="fixed"``). As n, m → ∞ with m/n = λ this tends to
    :func:`moment_matching_map` (the O(1/N) term is the MLE's bias).
    """
    n = check_positive_int("n_real", n_real)
    m = check_positive_int("n_synthetic", n_synthetic, minimum=0)
    g = _check_gamma(correction_strength)
    if real not in ("sampled", "fixed"):
        raise ValueError(f"real must be 'sampled' or 'fixed', got {real!r}")
    tw = 1.0 if math.isinf(g) else g / (1.0 + g)
    arr = [np.asarray(a, dtype=np.float64) for a in (mean, cov, data_mean, data_cov,
                                                     target_mean, target_cov)]
    mu, c, md, sd, mt, ct = arr
    m_pi, s_pi = _mix_moments((1.0 - tw, tw), [jnp.asarray(mu), jnp.asarray(mt)],
                              [jnp.asarray(c), jnp.asarray(ct)])
    m_pi, s_pi = np.asarray(m_pi), np.asarray(s_pi)
    big = float(n + m)
    ex = (n * md + m * m_pi) / big
    second = (n * (sd + np.outer(md, md)) + m * (s_pi + np.outer(m_pi, m_pi))) / big
    var_xbar = ((n * sd if real == "sampled" else 0.0) + m * s_pi) / big**2
    return ex, second - np.outer(ex, ex) - var_xbar


# --------------------------------------------------------------------------------------------
# Lemma A.7: Hessians and Jacobians by automatic differentiation (Gaussian class)
# --------------------------------------------------------------------------------------------


def expected_loglik_gaussian(theta_prime, mean, cov):
    """E_{x∼q}[log N(x; µ', Σ')] for any q with mean ``mean`` and covariance ``cov``:

        −½[d log 2π + log det Σ' + tr(Σ'⁻¹(S + (m − µ')(m − µ')ᵀ))].

    ``theta_prime`` = (µ', vech Σ'). Depends on q only through its first two moments, which is
    why A = C for the Gaussian class (Lemma A.7 with A⁻¹C = I). Differentiable (JAX).
    """
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    d = mean.shape[-1]
    mu_p, cov_p = theta_to_gaussian(theta_prime, d)
    diff = mean - mu_p
    second = cov + jnp.outer(diff, diff)
    chol = linalg.cholesky(cov_p)
    logdet = linalg.cholesky_logdet(chol)
    return -0.5 * (d * jnp.log(2.0 * jnp.pi) + logdet
                   + jnp.trace(linalg.cho_solve(chol, second), axis1=-2, axis2=-1))


def _moments_args(target_mean, target_cov, data_mean, data_cov):
    tm = jnp.asarray(target_mean, dtype=jnp.float64)
    tc = jnp.asarray(target_cov, dtype=jnp.float64)
    if tm.ndim != 1 or tc.shape != (tm.shape[0], tm.shape[0]):
        raise ValueError(f"target_mean/target_cov must have shapes (d,), (d, d), got "
                         f"{tm.shape}, {tc.shape}")
    dm = tm if data_mean is None else jnp.asarray(data_mean, dtype=jnp.float64)
    dc = tc if data_cov is None else jnp.asarray(data_cov, dtype=jnp.float64)
    if dm.shape != tm.shape or dc.shape != tc.shape:
        raise ValueError("data_mean/data_cov must have the shapes of target_mean/target_cov")
    return tm, tc, dm, dc


def _weights_array(lam, g):
    """[w_data, w_model, w_target, λ, target weight of π_γ] as a float64 array (traced by the
    jitted kernels below; γ = ∞ is resolved here, in Python)."""
    w_d, w_m, w_t = _weights(lam, g)
    tw = 1.0 if math.isinf(g) else g / (1.0 + g)
    return jnp.asarray([w_d, w_m, w_t, lam, tw], dtype=jnp.float64)


def _cross_loglik(th, tp):
    d = _dim_of(th)
    m, s = theta_to_gaussian(th, d)
    return expected_loglik_gaussian(tp, m, s)


def _dim_of(theta):
    """d from the length p = d + d(d+1)/2 of θ (static under jit)."""
    p = theta.shape[-1]
    d = int(round((-3 + math.sqrt(9 + 8 * p)) / 2))
    if d + d * (d + 1) // 2 != p:
        raise ValueError(f"theta has {p} entries, not d + d(d+1)/2 for any d")
    return d


@jax.jit
def _a7_kernel(tm, tc, dm, dc):
    theta_star = theta_from_gaussian(tm, tc)
    a = jax.hessian(lambda tp: expected_loglik_gaussian(tp, dm, dc))(theta_star)
    c = jax.hessian(lambda tp: expected_loglik_gaussian(tp, tm, tc))(theta_star)
    b = jax.jacfwd(jax.grad(_cross_loglik, argnums=1), argnums=0)(theta_star, theta_star)
    return a, b, c


def lemma_a7_matrices(target_mean, target_cov, data_mean=None, data_cov=None):
    """A, B, C of Gillman et al. 2024, Lemma A.7, for the Gaussian class, by JAX autodiff:

        A = ∇²_{θ'θ'} E_{p_data}[log p_θ'] at θ*,
        B = ∇²_{θθ'} E_{x∼p_θ}[log p_θ'(x)] at (θ*, θ*),
        C = ∇²_{θ'θ'} E_{x∼p_θ*}[log p_θ'(x)] at θ*  (minus the Fisher information).

    p_data enters through its moments (default: θ*, i.e. the Gaussian class's best fit).
    Lemma A.7-II states B = −C.

    Returns:
        (A, B, C) as numpy arrays of shape (p, p), p = d + d(d+1)/2.
    """
    a, b, c = _a7_kernel(*_moments_args(target_mean, target_cov, data_mean, data_cov))
    # b[i, j] = ∂θ'_i ∂θ_j; Lemma A.7 writes ∇²_{θ,θ'}, the same matrix up to transposition
    return np.asarray(a), np.asarray(b.T), np.asarray(c)


def lemma_a7_jacobian(a, c, synthetic_ratio, correction_strength):
    """J(π_γG_λ^∞)(θ*) = (I + λA⁻¹C)⁻¹ (λ/(1+γ)) A⁻¹C — Gillman et al. 2024, Lemma A.7-II,
    eq. 23 (any model class; A, C from :func:`lemma_a7_matrices` or the logistic model)."""
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    c = np.atleast_2d(np.asarray(c, dtype=np.float64))
    if a.shape != c.shape or a.shape[0] != a.shape[1]:
        raise ValueError(f"A and C must be square matrices of one shape, got {a.shape}, {c.shape}")
    r = np.linalg.solve(a, c)
    scale = 0.0 if math.isinf(g) else lam / (1.0 + g)
    return np.linalg.solve(np.eye(a.shape[0]) + lam * r, scale * r)


def _map_theta_w(theta, dm, dc, tm, tc, w):
    d = tm.shape[-1]
    mean, cov = theta_to_gaussian(theta, d)
    m, c = _mix_moments((w[1], w[0], w[2]), [mean, dm, tm], [cov, dc, tc])
    return theta_from_gaussian(m, c)


_jac_kernel = jax.jit(jax.jacfwd(_map_theta_w, argnums=0))


@jax.jit
def _implicit_kernel(theta, dm, dc, tm, tc, w):
    lam, tw = w[3], w[4]

    def h2(th, tp):
        return (1.0 - tw) * _cross_loglik(th, tp) + tw * expected_loglik_gaussian(tp, tm, tc)

    def h(th, tp):
        return expected_loglik_gaussian(tp, dm, dc) + lam * h2(th, tp)

    g_theta = _map_theta_w(theta, dm, dc, tm, tc, w)
    hess = jax.hessian(h, argnums=1)(theta, g_theta)
    mixed = jax.jacfwd(jax.grad(h2, argnums=1), argnums=0)(theta, g_theta)  # ∂θ'_i ∂θ_j
    return -linalg.solve(hess, lam * mixed)


def population_map_jacobian(theta, target_mean, target_cov, synthetic_ratio,
                            correction_strength, data_mean=None, data_cov=None):
    """∂θ'/∂θ of the exact map θ ↦ π_γG_λ^∞(θ) in θ = (µ, vech Σ), by ``jax.jacfwd`` of the
    moment-matching map (p_data's moments default to θ*). At θ = θ* it equals k·I (reference
    notes §4.2), and Lemma A.7's formula with A⁻¹C = I."""
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    tm, tc, dm, dc = _moments_args(target_mean, target_cov, data_mean, data_cov)
    theta = jnp.asarray(theta, dtype=jnp.float64)
    return np.asarray(_jac_kernel(theta, dm, dc, tm, tc, _weights_array(lam, g)))


def implicit_map_jacobian(theta, target_mean, target_cov, synthetic_ratio, correction_strength,
                          data_mean=None, data_cov=None):
    """Lemma A.7-I (eq. 22) at any θ: J = −(∇²_{θ'θ'}H(θ, g(θ)))⁻¹ · λ∇²_{θθ'}H₂(θ, g(θ)),

    H(θ, θ') = E_{p_data} log p_θ' + λ H₂(θ, θ'), H₂ = E_{π_γ p_θ} log p_θ', g(θ) the exact
    map. Hessians by JAX autodiff of the closed-form expected log-likelihoods; an independent
    route to :func:`population_map_jacobian` (implicit function theorem vs the explicit map).
    """
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    tm, tc, dm, dc = _moments_args(target_mean, target_cov, data_mean, data_cov)
    theta = jnp.asarray(theta, dtype=jnp.float64)
    return np.asarray(_implicit_kernel(theta, dm, dc, tm, tc, _weights_array(lam, g)))


def gaussian_alpha(target_mean, target_cov, data_mean=None, data_cov=None):
    """α of Assumption 4.2(2) for the full Gaussian class: −λ_max(A), A the Hessian of
    E_{p_data} log p_θ at θ* in θ = (µ, vech Σ) (autodiff). Positive: A ≺ 0."""
    a, _, _ = lemma_a7_matrices(target_mean, target_cov, data_mean, data_cov)
    return float(-np.max(np.linalg.eigvalsh(0.5 * (a + a.T))))


# --------------------------------------------------------------------------------------------
# bounds as functions of their constants
# --------------------------------------------------------------------------------------------


def rho(synthetic_ratio, alpha, eps, lipschitz):
    """ρ(λ) = λ(α + εL)/(α − λ(α + εL)) — Gillman et al. 2024, eq. 38 (Bertrand et al. 2024).

    Raises:
        ValueError: when λ(1 + εL/α) ≥ 1, where the Neumann-series step of Theorem A.8's
            proof (‖(I + λA⁻¹C)⁻¹‖ ≤ 1/(1 − λ‖A⁻¹C‖)) fails and ρ is not a bound.
    """
    lam = _check_lambda(synthetic_ratio)
    a, e, L = _check_constants(alpha, eps, lipschitz)
    beta = a + e * L
    if lam * beta >= a:
        raise ValueError(
            f"rho needs λ(1 + εL/α) < 1 (Neumann series in Theorem A.8's proof), got "
            f"λ(1 + εL/α) = {lam * beta / a:.6g}"
        )
    return lam * beta / (a - lam * beta)


def contraction_bound(synthetic_ratio, correction_strength, alpha, eps, lipschitz):
    """ρ(λ)/(1+γ), the bound on ‖∇π_γG_λ^∞(θ*)‖ of Theorem A.8 (eq. 37); 0 for γ = ∞.
    Raises like :func:`rho` when λ(1 + εL/α) ≥ 1."""
    g = _check_gamma(correction_strength)
    r = rho(synthetic_ratio, alpha, eps, lipschitz)
    return 0.0 if math.isinf(g) else r / (1.0 + g)


def stability_condition(synthetic_ratio, correction_strength, alpha, eps, lipschitz) -> bool:
    """λ(1 + εL/α) < (1+γ)/(2+γ) — Gillman et al. 2024, Theorem A.8 / eq. 41 (γ = ∞: < 1;
    γ = 0: Bertrand et al.'s λ(1 + εL/α) < 1/2). Equivalent to ρ(λ)/(1+γ) < 1 whenever
    λ(1 + εL/α) < 1 (eq. 40–41)."""
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    a, e, L = _check_constants(alpha, eps, lipschitz)
    rhs = 1.0 if math.isinf(g) else (1.0 + g) / (2.0 + g)
    return bool(lam * (1.0 + e * L / a) < rhs)


def lambda_max(correction_strength, alpha, eps, lipschitz):
    """Largest admissible λ: (1+γ)/((2+γ)(1 + εL/α)); γ = ∞ gives 1/(1 + εL/α) = 2·λ_max(0)
    (Gillman et al. 2024, §4 after Theorem 4.3; Conjecture 4.7's partial evidence)."""
    g = _check_gamma(correction_strength)
    a, e, L = _check_constants(alpha, eps, lipschitz)
    frac = 1.0 if math.isinf(g) else (1.0 + g) / (2.0 + g)
    return frac / (1.0 + e * L / a)


def _require_stability(lam, g, a, e, L, what):
    if not stability_condition(lam, g, a, e, L):
        rhs = "1" if math.isinf(g) else f"(1+γ)/(2+γ) = {(1.0 + g) / (2.0 + g):.6g}"
        raise ValueError(
            f"{what} assumes the stability condition λ(1 + εL/α) < (1+γ)/(2+γ), but "
            f"λ(1 + εL/α) = {lam * (1.0 + e * L / a):.6g} ≥ {rhs}"
        )


def _check_t(t, minimum):
    tt = np.asarray(t)
    if tt.dtype.kind not in "iu" or tt.size == 0 or np.any(tt < minimum):
        raise ValueError(f"t must be an integer (array) >= {minimum}, got {t!r}")
    return tt.astype(np.float64)


def theorem_a8_bound(t, dist0, synthetic_ratio, correction_strength, alpha, eps, lipschitz):
    """(ρ(λ)/(1+γ))^t ‖θ₀ − θ*‖ — Gillman et al. 2024, Theorem A.8, eq. 39 (infinite
    sampling; θ₀ close enough to θ*). Raises ValueError when the stability condition fails."""
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    a, e, L = _check_constants(alpha, eps, lipschitz)
    d0 = check_positive_float("dist0", dist0, allow_zero=True)
    _require_stability(lam, g, a, e, L, "Theorem A.8")
    tt = _check_t(t, 0)
    q = contraction_bound(lam, g, a, e, L)
    out = np.power(q, tt) * d0
    return float(out) if out.ndim == 0 else out


def tau_n(n, delta, a, b, eps_opt):
    """τ_n(δ) = ε_OPT + (a/√n)·√log(b/δ) — Assumption 4.2(3), eq. 6/43 (Bertrand et al.'s
    Assumption 3 at γ = 0). Requires δ ∈ (0, 1), a, ε_OPT ≥ 0 and b > δ (log(b/δ) > 0).
    ``n`` and ``delta`` broadcast."""
    nn = np.asarray(n, dtype=np.float64)
    dd = np.asarray(delta, dtype=np.float64)
    if np.any(~np.isfinite(nn)) or np.any(nn < 1):
        raise ValueError(f"n must be >= 1, got {n!r}")
    if np.any(~(dd > 0.0)) or np.any(~(dd < 1.0)):
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    a = check_positive_float("a", a, allow_zero=True)
    b = check_positive_float("b", b)
    e = check_positive_float("eps_opt", eps_opt, allow_zero=True)
    if np.any(b <= dd):
        raise ValueError(f"tau_n needs b > delta so that log(b/δ) > 0, got b={b}, delta={delta!r}")
    out = e + a / np.sqrt(nn) * np.sqrt(np.log(b / dd))
    return float(out) if out.ndim == 0 else out


def theorem_4_3_bound(t, n, delta, dist0, synthetic_ratio, correction_strength, alpha, eps,
                      lipschitz, a, b, eps_opt, *, terms="paper"):
    """Right-hand side of Gillman et al. 2024, Theorem 4.3 / A.11, eq. 7:

        τ_n(δ/t) Σ_{i=0}^{t} (ρ(λ)/(1+γ))^i + (ρ(λ)/(1+γ))^t ‖θ₀ⁿ − θ*‖,

    holding with probability ≥ 1 − δ for each fixed t ≥ 1 (a union bound over the t steps).
    γ = 0 is Bertrand et al. 2024's finite-sample theorem; γ = ∞ gives τ_n(δ/t) (Example
    4.6). ``terms="proof"`` sums i = 0 … t − 1, what iterating the one-step recurrence
    (eq. 46) gives; the printed Σ_{i=0}^{t} is looser.

    Raises:
        ValueError: when the stability condition λ(1 + εL/α) < (1+γ)/(2+γ) fails, or the
            τ_n arguments are outside their range.
    """
    lam = _check_lambda(synthetic_ratio, positive=True)
    g = _check_gamma(correction_strength)
    al, e, L = _check_constants(alpha, eps, lipschitz)
    _require_stability(lam, g, al, e, L, "Theorem 4.3")
    if terms not in ("paper", "proof"):
        raise ValueError(f"terms must be 'paper' or 'proof', got {terms!r}")
    tt = _check_t(t, 1)
    d0 = np.asarray(dist0, dtype=np.float64)
    if np.any(~np.isfinite(d0)) or np.any(d0 < 0):
        raise ValueError(f"dist0 must be finite and >= 0, got {dist0!r}")
    dlt = _check_unit_interval("delta", delta)
    q = contraction_bound(lam, g, al, e, L)
    upper = tt + 1.0 if terms == "paper" else tt
    geometric = upper if q == 1.0 else (1.0 - np.power(q, upper)) / (1.0 - q)
    tau = tau_n(n, dlt / tt, a, b, eps_opt)
    out = tau * geometric + np.power(q, tt) * d0
    return float(out) if np.ndim(out) == 0 else out


def prop_b2_constant(lipschitz_b, synthetic_ratio, correction_strength, alpha, eps, lipschitz):
    """c = 2B + ρ(λ)(2+γ)/(1+γ) — Gillman et al. 2024, Prop. B.2 (eq. 49): with Bertrand's
    Assumption B.1 and ‖G_λⁿ(θ) − G_λⁿ(θ*)‖ < B‖θ − θ*‖, w.p. 1 − δ,
    ‖π_γG_λⁿ(θ) − π_γG_λ^∞(θ)‖ ≤ c·d_U + τ_n(δ) on U. γ = ∞ gives 2B + ρ(λ)."""
    big_b = check_positive_float("lipschitz_b", lipschitz_b, allow_zero=True)
    g = _check_gamma(correction_strength)
    r = rho(synthetic_ratio, alpha, eps, lipschitz)
    frac = 1.0 if math.isinf(g) else (2.0 + g) / (1.0 + g)
    return 2.0 * big_b + r * frac


def prop_a5_margin(synthetic_ratio, correction_strength, alpha, eps, lipschitz, d_u):
    """−α(1+λ) + λL(d_U/(1+γ) + ε): Prop. A.5(B)'s sufficient condition for a unique local
    maximizer of H(θ, ·) near θ* is that this is < 0 (d_U = sup_U W(p_θ*, p_θ)).

    Raises:
        ValueError: when εL ≥ α (Prop. A.5(B) assumes εL < α).
    """
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    a, e, L = _check_constants(alpha, eps, lipschitz)
    du = check_positive_float("d_u", d_u, allow_zero=True)
    if e * L >= a:
        raise ValueError(f"Prop. A.5(B) assumes εL < α, got εL = {e * L:.6g} >= α = {a:.6g}")
    shrink = 0.0 if math.isinf(g) else du / (1.0 + g)
    return -a * (1.0 + lam) + lam * L * (shrink + e)


# --------------------------------------------------------------------------------------------
# model constants α, L, ε
# --------------------------------------------------------------------------------------------


class Misspecification(NamedTuple):
    value: float  # ε, or an upper bound on it
    exact: bool  # True when value is W₁ itself
    method: str  # how it was computed


class ModelConstants(NamedTuple):
    alpha: float  # Assumption 4.2(2): E_{p_data}∇²log p_θ at θ* ⪯ −αI
    lipschitz: float  # Assumption 4.2(1): x ↦ ∇²_θ log p_θ(x) is L-Lipschitz
    eps: float  # ε = W₁(p_θ*, p_data) (or an upper bound, see eps_exact)
    eps_exact: bool
    eps_method: str


def _gauss_w2(m1, c1, m2, c2):
    from theory.distances import gaussian_w2

    return float(gaussian_w2(jnp.asarray(m1), jnp.asarray(c1), jnp.asarray(m2), jnp.asarray(c2)))


def misspecification_w1(model_mean, model_cov, data_law):
    """ε = W₁(N(model_mean, model_cov), p_data) — Gillman et al. 2024, eq. 2/12.

    The paper calls ε a W₂ distance but its proofs use Kantorovich–Rubinstein duality, a W₁
    argument; W₁ ≤ W₂, so a W₂ value is a valid (conservative) upper bound.

    * d = 1: exact W₁ by :func:`w1_1d` (``exact=True``).
    * d ≥ 2, Gaussian p_data: W₁ = ‖Δµ‖ exactly when the covariances are equal (a
      translation), else the closed-form W₂ (upper bound).
    * d ≥ 2, Gaussian mixture Σ_j w_j N(µ_j, Σ_j): W₁ ≤ W₂ ≤ (Σ_j w_j W₂²(N, N_j))^{1/2}
      (mixing the optimal couplings of the components).
    * d ≥ 2, Student-t loc + S^{1/2}z·s, s = √(ν/w), w ~ χ²_ν: the coupling with
      µ + Σ^{1/2}z (same z) gives W₂² ≤ ‖loc − µ‖² + E[s²] tr S − 2E[s] tr(S^{1/2}Σ^{1/2}) + tr Σ,
      E s² = ν/(ν−2), E s = √(ν/2) Γ((ν−1)/2)/Γ(ν/2).

    Returns:
        :class:`Misspecification` (value, exact, method).
    """
    m = np.atleast_1d(np.asarray(model_mean, dtype=np.float64))
    c = np.atleast_2d(np.asarray(model_cov, dtype=np.float64))
    kind = getattr(data_law, "kind", None)
    if kind not in ("gaussian", "gaussian_mixture", "student_t"):
        raise TypeError(f"data_law must be a theory.laws law, got {type(data_law).__name__}")
    d = data_law.dim
    if m.shape != (d,) or c.shape != (d, d):
        raise ValueError(f"model_mean/model_cov must have shapes ({d},), ({d}, {d})")
    if np.linalg.eigvalsh(c)[0] <= 0:
        raise ValueError("model_cov must be positive definite")
    if d == 1:
        model = st.norm(m[0], math.sqrt(c[0, 0]))
        dm, dc = data_law.moments
        sd = max(math.sqrt(c[0, 0]), math.sqrt(dc[0, 0]))
        lo = min(m[0], dm[0]) - 40.0 * sd
        hi = max(m[0], dm[0]) + 40.0 * sd
        return Misspecification(w1_1d(model.cdf, law_cdf(data_law), bulk=(lo, hi)), True,
                                "exact 1-D W1 by quadrature of |F - G|")
    if kind == "gaussian":
        dm, dc = data_law.moments
        if np.allclose(dc, c, rtol=0.0, atol=0.0):
            return Misspecification(float(np.linalg.norm(dm - m)), True,
                                    "equal covariances: W1 = |mean difference|")
        return Misspecification(_gauss_w2(m, c, dm, dc), False, "W2 closed form (W1 <= W2)")
    if kind == "gaussian_mixture":
        w = np.asarray(data_law.weights)
        sq = sum(wj * _gauss_w2(m, c, np.asarray(mj), np.asarray(cj)) ** 2
                 for wj, mj, cj in zip(w, data_law.means, data_law.covs, strict=True))
        return Misspecification(math.sqrt(sq), False,
                                "W1 <= W2 <= sqrt(sum_j w_j W2^2(N, N_j)) (mixed couplings)")
    nu = data_law.df
    loc = np.asarray(data_law.loc)
    s = np.asarray(data_law.scale)
    from theory.distances import sqrtm_psd

    rs = np.asarray(sqrtm_psd(jnp.asarray(s)))
    rc = np.asarray(sqrtm_psd(jnp.asarray(c)))
    e_s2 = nu / (nu - 2.0)
    e_s = math.sqrt(nu / 2.0) * math.exp(special.gammaln((nu - 1.0) / 2.0)
                                         - special.gammaln(nu / 2.0))
    sq = float(np.sum((loc - m) ** 2) + e_s2 * np.trace(s) - 2.0 * e_s * np.trace(rs @ rc)
               + np.trace(c))
    return Misspecification(math.sqrt(max(sq, 0.0)), False,
                            "W1 <= W2 <= shared-z coupling bound (closed form)")


def model_constants(model, data_law, *, model_cov=None):
    """(α, L, ε) of Assumption 4.2 and eq. 2 for a model class and p_data.

    * ``"gaussian_mean"`` (N(µ, Σ₀), Σ₀ = ``model_cov`` known): ∇²_µ log p = −Σ₀⁻¹ for every
      x, so L = 0 exactly and α = λ_min(Σ₀⁻¹); θ* = E_{p_data}x and ε = W₁(N(θ*, Σ₀), p_data)
      (:func:`misspecification_w1`).
    * ``"logistic_location"`` (1-D): see :func:`logistic_location`.
    * ``"gaussian"`` (mean and covariance fitted): raises ``ValueError``: ∇²_θ log p_θ(x) is a
      quadratic polynomial in x, so no finite L makes x ↦ ∇²_θ log p_θ(x) Lipschitz on ℝ^d
      (Assumption 4.2(1) fails globally). α alone is :func:`gaussian_alpha`.
    """
    if model == "gaussian":
        raise ValueError(
            "model='gaussian': Assumption 4.2(1) fails globally — ∇²_θ log N(x; µ, Σ) is "
            "quadratic in x, so no finite Lipschitz constant L exists on R^d; restrict x to a "
            "bounded domain, use model='gaussian_mean' (L = 0), or use gaussian_alpha() for α"
        )
    if model == "gaussian_mean":
        if model_cov is None:
            raise ValueError("model='gaussian_mean' needs model_cov (the known covariance Σ0)")
        c = np.atleast_2d(np.asarray(model_cov, dtype=np.float64))
        eig = np.linalg.eigvalsh(c)
        if eig[0] <= 0:
            raise ValueError("model_cov must be positive definite")
        mean, _ = data_law.moments
        mis = misspecification_w1(mean, c, data_law)
        return ModelConstants(float(1.0 / eig[-1]), 0.0, mis.value, mis.exact, mis.method)
    if model == "logistic_location":
        ll = logistic_location(data_law)
        return ModelConstants(ll.alpha, ll.lipschitz, ll.eps, True, "exact 1-D W1 by quadrature")
    raise ValueError(
        f"model must be 'gaussian_mean', 'logistic_location' or 'gaussian', got {model!r}"
    )


# --------------------------------------------------------------------------------------------
# a 1-D logistic location model: α, L, ε all finite and non-zero
# --------------------------------------------------------------------------------------------

# p_θ(x) = f(x − θ), f(u) = e^{−u}/(1 + e^{−u})² (standard logistic density).
# ∂_θ' log p_θ'(x) = tanh((x − θ')/2); ∂²_θ' log p_θ'(x) = −2 f(x − θ').
# x ↦ −2f(x − θ) is L-Lipschitz with L = 2 sup|f'| = 1/(3√3) (Assumption 4.2(1), globally).
LOGISTIC_L = 1.0 / (3.0 * math.sqrt(3.0))
# C = ∇²_θ' E_{p_θ*} log p_θ' = −2∫f² = −1/3 (Fisher information 1/3).
LOGISTIC_C = -1.0 / 3.0


def _logistic_pdf(u):
    """f(u) = σ(u)(1 − σ(u)), the standard logistic density."""
    e = special.expit(np.asarray(u, dtype=np.float64))
    return e * (1.0 - e)


_SINH_U = np.arange(-14.0, 14.0 + 1e-9, 0.02)
_SINH_X = np.sinh(_SINH_U)
_SINH_W = np.cosh(_SINH_U) * 0.02


def _expect(pdf, fn, centre=0.0, scale=1.0):
    """∫ fn(x) pdf(x) dx by the trapezoidal rule after x = centre + scale·sinh(u), u ∈ [−14, 14],
    step 0.02 (``fn`` and ``pdf`` vectorized). For integrands analytic in a strip around the
    real axis the rule converges geometrically; the sinh map reaches |x| ≈ 6·10⁵·scale, so
    polynomial (Student-t) tails are covered too. Agreement with adaptive quadrature
    (``scipy.integrate.quad``) to ~1e-13 is checked in the tests.
    """
    x = centre + scale * _SINH_X
    return float(np.sum(fn(x) * pdf(x) * (scale * _SINH_W)))


def _score_data(pdf, theta_p, centre, scale):
    return _expect(pdf, lambda x: np.tanh((x - theta_p) / 2.0), centre, scale)


def _score_logistic(theta, theta_p):
    """E_{x∼p_θ} tanh((x − θ')/2) = E_f tanh((u + θ − θ')/2)."""
    s = theta - theta_p
    return _expect(_logistic_pdf, lambda u: np.tanh((u + s) / 2.0), -s, 1.0)


def logistic_cross_hessian():
    """B = ∇²_{θ,θ'} E_{x∼p_θ} log p_θ'(x) at θ = θ' for the logistic location class (Lemma
    A.7's B), by differentiating the cross-expectation under the integral: ∂_θ p_θ =
    p_θ ∂_θ log p_θ and ∂_θ log p_θ(x) = ∂_θ' log p_θ'(x)|_{θ'=θ} = tanh((x − θ)/2), so
    B = E_{p_θ}[tanh²((x − θ)/2)] = E_f tanh²(u/2) (the same for every θ: a location family),
    computed by quadrature (:func:`_expect`). Closed form (checked in the tests): with
    s = σ(u), f(u) du = ds and tanh(u/2) = 2s − 1, so B = ∫₀¹ (2s − 1)² ds = 1/3 = −C.
    """
    return _expect(_logistic_pdf, lambda u: np.tanh(u / 2.0) ** 2, 0.0, 1.0)


class LogisticLocation(NamedTuple):
    theta_star: float  # argmax_θ E_{p_data} log f(x − θ)
    a: float  # A = −2 E_{p_data} f(x − θ*)
    b: float  # B = E_f tanh²(u/2) by quadrature (= 1/3 = −C)
    c: float  # C = −1/3
    alpha: float  # −A
    lipschitz: float  # 1/(3√3)
    eps: float  # W₁(p_θ*, p_data), exact


def logistic_location(data_law):
    """θ*, A, B, C, α, L, ε for the logistic location class p_θ(x) = f(x − θ) and a 1-D
    p_data (Gillman et al. 2024, Assumption 4.2 and Lemma A.7 on a model where A ≠ C).

    f is the standard logistic density; ∂²_θ log p_θ(x) = −2f(x − θ), so L = 2 sup|f'| =
    1/(3√3) holds globally, A = −2E_{p_data} f(x − θ*), C = −2∫f² = −1/3, B by quadrature of
    the differentiated cross-expectation (:func:`logistic_cross_hessian`; = 1/3 = −C),
    α = −A, ε = W₁(p_θ*, p_data) exactly (1-D quadrature). θ* solves
    E_{p_data} tanh((x − θ)/2) = 0 (unique: the score is strictly decreasing in θ).
    """
    pdf = law_pdf(data_law)
    m, c = data_law.moments
    centre, sd = float(m[0]), math.sqrt(float(c[0, 0]))
    theta_star = optimize.brentq(lambda th: _score_data(pdf, th, centre, sd),
                                 centre - 20.0 * sd - 20.0, centre + 20.0 * sd + 20.0,
                                 xtol=1e-14, rtol=4 * np.finfo(float).eps)
    ef = _expect(pdf, lambda x: _logistic_pdf(x - theta_star), centre, sd)
    a = -2.0 * ef
    spread = max(sd, math.pi / math.sqrt(3.0))
    eps = w1_1d(lambda x: special.expit(np.asarray(x, dtype=np.float64) - theta_star),
                law_cdf(data_law),
                bulk=(min(centre, theta_star) - 40 * spread, max(centre, theta_star) + 40 * spread))
    return LogisticLocation(float(theta_star), float(a), logistic_cross_hessian(), LOGISTIC_C,
                            float(-a),
                            LOGISTIC_L, float(eps))


def logistic_location_map(theta, data_law, synthetic_ratio, correction_strength, *,
                          theta_star=None):
    """π_γG_λ^∞(θ) for the logistic location class: the unique root θ' of

        E_{p_data} tanh((x − θ')/2) + (λ/(1+γ)) E_{p_θ} tanh(·) + (λγ/(1+γ)) E_{p_θ*} tanh(·) = 0

    (the derivative of H(θ, ·), strictly decreasing in θ'), by Brent's method to 1e-14.
    """
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    pdf = law_pdf(data_law)
    m, c = data_law.moments
    centre, sd = float(m[0]), math.sqrt(float(c[0, 0]))
    ts = logistic_location(data_law).theta_star if theta_star is None else float(theta_star)
    w_d, w_m, w_t = _weights(lam, g)

    def score(tp):
        out = w_d * _score_data(pdf, tp, centre, sd) + w_m * _score_logistic(theta, tp)
        if w_t:
            out += w_t * _score_logistic(ts, tp)
        return out

    span = 20.0 * sd + 20.0 + abs(theta - centre) + abs(ts - centre)
    return float(optimize.brentq(score, centre - span, centre + span, xtol=1e-14,
                                 rtol=4 * np.finfo(float).eps))


def logistic_location_objective(theta, theta_prime, data_law, synthetic_ratio,
                                correction_strength, *, theta_star, gradient=False):
    """H(θ, θ') = E_{p_data} log f(x − θ') + λ E_{π_γ p_θ} log f(x − θ') for the logistic
    location class (Gillman et al. 2024, eq. 10–11; log f(u) = −|u| − 2 log(1 + e^{−|u|})),
    by the same quadrature as :func:`logistic_location_map`, whose root it maximizes.
    ``gradient=True`` returns (H, ∂H/∂θ'), ∂H/∂θ' = the score of :func:`logistic_location_map`
    times (1 + λ)."""
    lam = _check_lambda(synthetic_ratio)
    g = _check_gamma(correction_strength)
    pdf = law_pdf(data_law)
    m, c = data_law.moments
    tp = float(theta_prime)

    def logf(u):
        return -np.abs(u) - 2.0 * np.log1p(np.exp(-np.abs(u)))

    h1 = _expect(pdf, lambda x: logf(x - tp), float(m[0]), math.sqrt(float(c[0, 0])))
    tw = 1.0 if math.isinf(g) else g / (1.0 + g)
    model = _expect(_logistic_pdf, lambda u: logf(u + float(theta) - tp), 0.0, 1.0)
    target = _expect(_logistic_pdf, lambda u: logf(u + float(theta_star) - tp), 0.0, 1.0)
    h = h1 + lam * ((1.0 - tw) * model + tw * target)
    if not gradient:
        return h
    sd = math.sqrt(float(c[0, 0]))
    grad = _score_data(pdf, tp, float(m[0]), sd) + lam * (
        (1.0 - tw) * _score_logistic(float(theta), tp) + tw * _score_logistic(float(theta_star),
                                                                               tp))
    return h, grad


# --------------------------------------------------------------------------------------------
# the mean-only mix loop with the corrector (reference notes §4.3, derived)
# --------------------------------------------------------------------------------------------


class MeanLoopCoefficients(NamedTuple):
    """e_{t+1} = (n u + M₁ e_t + ξ_t)/N with e = θ − µ*, u = x̄ − µ*, N = n + m,
    ξ_t ~ N(0, m Σ₀), M₁ the number of model (uncorrected) synthetic points."""

    kappa: float  # E[M₁]/N   (deterministic: k_n = m₁/N)
    kappa2: float  # E[M₁²]/N²
    real_weight: float  # n/N
    noise: float  # m/N² (times Σ₀)
    model_points: float  # m₁ (deterministic) or E M₁ = m/(1+γ) (random)


def _model_points_det(m, g):
    """m₁ = round(m/(1+γ)) (Python's round, as the engine), 0 for γ = ∞."""
    return 0 if math.isinf(g) else int(round(m / (1.0 + g)))


def mean_loop_coefficients(n, n_synthetic, correction_strength, *, split="random"):
    """Coefficients of the exact recursion of the mean-only mix loop with the corrector.

    Derived (reference notes §4.3). Real data: n points from N(µ*, Σ₀), fixed; each
    generation draws m synthetic points; the corrector sends m₂ of them to N(µ*, Σ₀) — the
    last m − round(m/(1+γ)) (``split="deterministic"``) or each independently with probability
    γ/(1+γ) (``"random"``, M₁ ~ Bin(m, 1/(1+γ))). The pooled mean gives
    θ_{t+1} − µ* = (n u + M₁(θ_t − µ*) + ξ_t)/N. Deterministic: θ_{t+1} − c = k_n(θ_t − c) + η_t,
    k_n = m₁/N, c = (n x̄ + m₂µ*)/(n + m₂).
    """
    n = check_positive_int("n", n)
    m = check_positive_int("n_synthetic", n_synthetic, minimum=0)
    g = _check_gamma(correction_strength)
    if split not in ("random", "deterministic"):
        raise ValueError(f"split must be 'random' or 'deterministic', got {split!r}")
    big = float(n + m)
    if split == "deterministic":
        m1 = float(_model_points_det(m, g))
        k = m1 / big
        return MeanLoopCoefficients(k, k * k, n / big, m / big**2, m1)
    q = 0.0 if math.isinf(g) else 1.0 / (1.0 + g)
    em1 = m * q
    em1_2 = m * q * (1.0 - q) + em1**2
    return MeanLoopCoefficients(em1 / big, em1_2 / big**2, n / big, m / big**2, em1)


def corrected_mix_mean_error2_known_cov(t, n, trace0, *, n_synthetic, correction_strength,
                                        split="random"):
    """E‖θ_t − µ*‖² of the mean-only mix loop with the corrector (known Σ₀, tr Σ₀ = trace0).

    Derived from :func:`mean_loop_coefficients` (κ = E M₁/N, κ₂ = E M₁²/N², r = n/N,
    v = tr Σ₀/n, s = m tr Σ₀/N²). With a_t = E[e_t·u] and b_t = E‖e_t‖², a₀ = b₀ = v:

        a_{t+1} = r v + κ a_t,
        b_{t+1} = r² v + 2 r κ a_t + κ₂ b_t + s,

    so a_t = A + κ^t (v − A), A = r v/(1 − κ), and
    b_t = B + κ₂^t (v − B) + d (κ^t − κ₂^t)/(κ − κ₂), B = (r² v + 2rκA + s)/(1 − κ₂),
    d = 2 r κ (v − A). Deterministic split: κ₂ = κ² = k_n², and B is the notes' stationary
    n tr Σ₀/(n + m₂)² + m tr Σ₀/(N²(1 − k_n²)). γ = 0 gives
    :func:`theory.mix.mix_mean_error2_known_cov`.

    Args:
        t: generation(s) ≥ 0 (integer or integer array; generation 0 is the real-data fit).
        n: real points; trace0: tr Σ₀ > 0; n_synthetic: m ≥ 0; correction_strength: γ.
        split: ``"random"`` (the engine's default, the law π_γ p_θ) or ``"deterministic"``.
    """
    tt = _check_t(t, 0)
    tr0 = check_positive_float("trace0", trace0)
    co = mean_loop_coefficients(n, n_synthetic, correction_strength, split=split)
    v = tr0 / float(n)
    r, k, k2, s = co.real_weight, co.kappa, co.kappa2, co.noise * tr0
    big_a = r * v / (1.0 - k)
    big_b = (r * r * v + 2.0 * r * k * big_a + s) / (1.0 - k2)
    d = 2.0 * r * k * (v - big_a)
    if k == k2:  # only when κ = κ₂ = 0 (no model points): d = 0
        cross = np.zeros_like(tt)
    else:
        cross = d * (np.power(k, tt) - np.power(k2, tt)) / (k - k2)
    out = big_b + np.power(k2, tt) * (v - big_b) + cross
    return float(out) if out.ndim == 0 else out


def corrected_mix_mean_error2_stationary(n, trace0, *, n_synthetic, correction_strength,
                                         split="random"):
    """lim_t E‖θ_t − µ*‖² of :func:`corrected_mix_mean_error2_known_cov` (B there).

    Deterministic split (reference notes §4.3): n tr Σ₀/(n + m₂)² + m tr Σ₀/((n+m)²(1 − k_n²)).
    Random split (derived): (r² v + 2rκ·rv/(1−κ) + m tr Σ₀/N²)/(1 − κ₂). Both decrease in γ.
    """
    tr0 = check_positive_float("trace0", trace0)
    co = mean_loop_coefficients(n, n_synthetic, correction_strength, split=split)
    v = tr0 / float(n)
    r, k, k2, s = co.real_weight, co.kappa, co.kappa2, co.noise * tr0
    return (r * r * v + 2.0 * r * k * r * v / (1.0 - k) + s) / (1.0 - k2)


# --------------------------------------------------------------------------------------------
# Assumption 4.2(3): fitting τ_n to simulated one-step errors
# --------------------------------------------------------------------------------------------


class TauFit(NamedTuple):
    a: float
    b: float
    eps_opt: float
    r2: float  # coefficient of determination of the least-squares fit of the quantiles
    max_rel_residual: float  # max |fit − quantile|/quantile over the (n, δ) grid
    inflation: float  # factor applied to a so that the fit dominates the upper quantiles
    quantiles: np.ndarray  # (len(n_values), len(deltas)) empirical (1 − δ)-quantiles
    upper_quantiles: np.ndarray  # the same, upper confidence bounds (order statistics)


def _upper_order_index(r, delta, confidence):
    """Smallest j (1-based) with P(X_(j) < q_{1−δ}) ≤ confidence for R i.i.d. continuous draws:
    X_(j) < q iff K ≥ j, K ~ Bin(R, 1 − δ) the count below the quantile."""
    j = int(st.binom.isf(confidence, r, 1.0 - delta)) + 1
    return min(max(j, 1), r)


def fit_tau_n(errors, n_values, deltas, *, conservative=True, confidence=1e-6):
    """Fit Assumption 4.2(3)'s τ_n(δ) = ε_OPT + (a/√n)√log(b/δ) to one-step errors.

    ``errors[i]`` holds i.i.d. draws of sup_{θ∈U} ‖π_γG_λⁿ(θ) − π_γG_λ^∞(θ)‖ at n = n_values[i]
    (simulated over a grid of U; one draw per replicate). For every (n, δ) the empirical
    (1 − δ)-quantile q̂ is computed; (ε_OPT ≥ 0, a ≥ 0, b ≥ 1) minimize Σ(q̂ − τ_n(δ))²
    (for fixed b the problem is a non-negative linear least squares in (ε_OPT, a); b by a
    bounded scalar search on log b ∈ [0, log 1e6]).

    With ``conservative=True`` the slope a is then inflated (never deflated) until τ_n(δ) ≥
    the upper confidence bound of every quantile on the grid (the order statistic X_(j) with
    P(X_(j) < q_{1−δ}) ≤ ``confidence``), so that the fitted constants satisfy the
    assumption at the grid points with probability ≥ 1 − (grid size)·confidence.

    Returns:
        :class:`TauFit`.
    """
    n_arr = np.asarray(n_values, dtype=np.float64)
    if n_arr.ndim != 1 or n_arr.size < 1 or np.any(n_arr < 1):
        raise ValueError(f"n_values must be a 1-D array of sizes >= 1, got {n_values!r}")
    d_arr = np.asarray(deltas, dtype=np.float64)
    if d_arr.ndim != 1 or d_arr.size < 1 or np.any(~(d_arr > 0)) or np.any(~(d_arr < 1)):
        raise ValueError(f"deltas must be a 1-D array of values in (0, 1), got {deltas!r}")
    if n_arr.size * d_arr.size < 3:
        raise ValueError("need at least 3 (n, delta) pairs to fit 3 constants")
    confidence = _check_unit_interval("confidence", confidence)
    samples = [np.sort(np.asarray(e, dtype=np.float64).ravel()) for e in errors]
    if len(samples) != n_arr.size:
        raise ValueError(f"errors must have one sample per n ({n_arr.size}), got {len(samples)}")
    for e in samples:
        if e.size < 10 or not np.all(np.isfinite(e)) or np.any(e < 0):
            raise ValueError("each errors sample needs >= 10 finite non-negative values")
    q = np.empty((n_arr.size, d_arr.size))
    qu = np.empty_like(q)
    for i, e in enumerate(samples):
        r = e.size
        for j, dl in enumerate(d_arr):
            if r * dl < 1.0:
                raise ValueError(f"delta={dl} is too small for {r} samples (need R·δ >= 1)")
            q[i, j] = np.quantile(e, 1.0 - dl)
            qu[i, j] = e[_upper_order_index(r, dl, confidence) - 1]
    nn, dd = np.meshgrid(n_arr, d_arr, indexing="ij")
    y = q.ravel()

    def solve(log_b):
        x = np.sqrt(np.maximum(log_b - np.log(dd.ravel()), 0.0)) / np.sqrt(nn.ravel())
        design = np.stack([np.ones_like(x), x], axis=1)
        coef, _ = optimize.nnls(design, y)
        return coef, float(np.sum((design @ coef - y) ** 2)), x

    res = optimize.minimize_scalar(lambda lb: solve(lb)[1], bounds=(0.0, math.log(1e6)),
                                   method="bounded", options={"xatol": 1e-10})
    log_b = float(res.x)
    (e_opt, a), sse, x = solve(log_b)
    fit = e_opt + a * x
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    max_rel = float(np.max(np.abs(fit - y) / np.maximum(y, 1e-300)))
    a_out, inflation = float(a), 1.0
    if conservative:
        # the smallest a' ≥ a with ε_OPT + a'x ≥ every upper quantile (x > 0 since b ≥ 1 > δ)
        a_out = float(max(a, np.max((qu.ravel() - e_opt) / x)))
        inflation = a_out / a if a > 0 else (1.0 if a_out == 0 else math.inf)
    return TauFit(a_out, float(math.exp(log_b)), float(e_opt), float(r2), max_rel,
                  float(inflation), q, qu)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
