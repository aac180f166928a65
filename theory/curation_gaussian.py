"""K-choice curation on Gaussian and Gaussian-mixture models (Ferbach et al., NeurIPS 2024).

Two different dynamics are computed here and must not be confused (reference notes §5):

* **nonparametric** (infinite capacity, the setting of the paper's theorems): the curated law
  itself is the next model. At K = ∞ the tilt p e^r/E_p[e^r] keeps Gaussians Gaussian for
  linear and quadratic rewards, and keeps mixtures mixtures (components move and reweight).
* **Gaussian family** (maximum-likelihood projection onto {N(μ, Σ)}, i.e. moment matching of
  the curated law): at finite K the curated law is not Gaussian, and the projected map is

      μ_{t+1} = μ_t + Σ_t a m_K(s_t)/s_t,
      Σ_{t+1} = Σ_t − (1 − v_K(s_t)) Σ_t a aᵀ Σ_t / s_t²,        s_t² = aᵀ Σ_t a,

  with m_K(s), v_K(s) the mean and variance of the kept draw when one of K i.i.d. N(0, 1)
  draws u_k is kept with probabilities softmax(s u) (:func:`selection_moments`).

Rewards are given by their parameters: linear r(x) = aᵀx + b (``direction`` a, ``offset`` b);
quadratic r(x) = −½(x − c)ᵀA(x − c) (``center`` c, ``matrix`` A, symmetric PSD).

Papers: Ferbach et al. 2024 (arXiv 2407.09499), Lemma 2.1 (tilt), Theorem 2.2 (parametric
stability); reference notes ``references/ferbach2024.md`` §5 ([D] derivations).
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from scipy import special as sps

from theory.curation_discrete import (
    _check_ratio,
    _lse,
    check_curation_k,
    curated_law,
    tilt_power,
)

__all__ = [
    "gaussian_family_curation_step",
    "gaussian_family_curation_trajectory",
    "gaussian_mixed_tilt_fixed_point",
    "gaussian_mixed_tilt_step",
    "flat_top_log_mgf_1d",
    "gmm_linear_tilt",
    "gmm_quadratic_tilt",
    "linear_log_mgf",
    "linear_tilt",
    "mean_only_curation_step",
    "mean_only_fixed_point",
    "nonparametric_linear_mixed_tilt",
    "quadratic_expected_reward",
    "quadratic_log_mgf",
    "quadratic_tilt",
    "replicator_weights",
    "selection_moments",
    "thm22_rho",
]

#: half-width of the standard-normal grid of :func:`selection_moments` (φ(12) ≈ 2·10⁻³²)
SELECTION_HALF_WIDTH = 12.0
_SELECTION_MAX_STEP = 0.4


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _vector(name, v, d=None) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric vector: {exc}") from None
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1 or (d is not None and a.size != d):
        want = f"({d},)" if d is not None else "(d,)"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _matrix(name, m, d, *, psd_only=False) -> np.ndarray:
    try:
        a = np.asarray(m, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric matrix: {exc}") from None
    if a.ndim == 0 and d == 1:
        a = a.reshape(1, 1)
    if a.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    scale = max(float(np.max(np.abs(a))), np.finfo(np.float64).tiny)
    if np.max(np.abs(a - a.T)) > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric")
    a = 0.5 * (a + a.T)
    eig = np.linalg.eigvalsh(a)
    if psd_only:
        if eig[0] < -1e-12 * max(abs(eig[-1]), 1.0):
            raise ValueError(f"{name} must be positive semi-definite (eigenvalue {eig[0]:.3g})")
    elif eig[0] <= 0:
        raise ValueError(f"{name} must be positive definite (eigenvalue {eig[0]:.3g})")
    return a


def _gaussian(mean, cov, name="") -> tuple[np.ndarray, np.ndarray]:
    mu = _vector(f"{name}mean", mean)
    return mu, _matrix(f"{name}cov", cov, mu.size)


def _direction(direction, d) -> np.ndarray:
    a = _vector("direction", direction, d)
    if not np.any(a != 0):
        raise ValueError("direction must be non-zero")
    return a


def _steps(t) -> float:
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
        raise ValueError(f"t must be a finite number >= 0, got {t!r}")
    return float(t)


def _generations(generations) -> int:
    if isinstance(generations, bool) or not isinstance(generations, numbers.Integral) \
            or generations < 0:
        raise ValueError(f"generations must be an integer >= 0, got {generations!r}")
    return int(generations)


# --------------------------------------------------------------------------------------------
# K = ∞ tilts (Lemma 2.1) and Gaussian moments of the reward
# --------------------------------------------------------------------------------------------


def linear_tilt(mean, cov, direction, t=1) -> tuple[np.ndarray, np.ndarray]:
    """t rounds of the K = ∞ pure loop for r(x) = aᵀx + b: N(μ, Σ) ↦ N(μ + tΣa, Σ)
    (notes §5.1 [D]; equals the RLHF optimum p_0 e^{t r}/Z, β = 1/t)."""
    mu, cov = _gaussian(mean, cov)
    a = _direction(direction, mu.size)
    return mu + _steps(t) * cov @ a, cov.copy()


def quadratic_tilt(mean, cov, center, matrix, t=1) -> tuple[np.ndarray, np.ndarray]:
    """t rounds of the K = ∞ pure loop for r(x) = −½(x−c)ᵀA(x−c) (notes §5.2 [D]):
    Σ_t⁻¹ = Σ⁻¹ + tA and μ_t = Σ_t(Σ⁻¹μ + tAc), computed as Σ_t = (I + tΣA)⁻¹Σ and
    μ_t = (I + tΣA)⁻¹(μ + tΣAc) (no inverse of Σ; A may be singular)."""
    mu, cov = _gaussian(mean, cov)
    d = mu.size
    c = _vector("center", center, d)
    a = _matrix("matrix", matrix, d, psd_only=True)
    tt = _steps(t)
    m = np.eye(d) + tt * cov @ a
    cov_t = np.linalg.solve(m, cov)
    return np.linalg.solve(m, mu + tt * cov @ a @ c), 0.5 * (cov_t + cov_t.T)


def linear_log_mgf(mean, cov, direction, offset=0.0, scale=1.0) -> float:
    """log E_{N(μ,Σ)}[e^{β r}] = β(aᵀμ + b) + β² aᵀΣa/2 for r = aᵀx + b, β = ``scale``."""
    mu, cov = _gaussian(mean, cov)
    a = _direction(direction, mu.size)
    beta = float(scale)
    return beta * (float(a @ mu) + float(offset)) + 0.5 * beta**2 * float(a @ cov @ a)


def quadratic_log_mgf(mean, cov, center, matrix, scale=1.0) -> float:
    """log E_{N(μ,Σ)}[e^{β r}] for r = −½(x−c)ᵀA(x−c), β = ``scale`` ≥ 0 (notes §5.2 [D]):
    −½ log det(I + βΣA) − ½ β (μ−c)ᵀ (I + βAΣ)⁻¹ A (μ−c). Valid for singular A; β = 2 gives
    E[e^{2r}] (Var[e^r] for Lemma 2.2)."""
    mu, cov = _gaussian(mean, cov)
    d = mu.size
    c = _vector("center", center, d)
    a = _matrix("matrix", matrix, d, psd_only=True)
    beta = float(scale)
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
    delta = mu - c
    sign, logdet = np.linalg.slogdet(np.eye(d) + beta * cov @ a)
    quad = float(delta @ np.linalg.solve(np.eye(d) + beta * a @ cov, a @ delta))
    return -0.5 * logdet - 0.5 * beta * quad


def quadratic_expected_reward(mean, cov, center, matrix) -> float:
    """E_{N(μ,Σ)}[r] = −½[(μ−c)ᵀA(μ−c) + tr(AΣ)] for r = −½(x−c)ᵀA(x−c)."""
    mu, cov = _gaussian(mean, cov)
    d = mu.size
    delta = mu - _vector("center", center, d)
    a = _matrix("matrix", matrix, d, psd_only=True)
    return -0.5 * (float(delta @ a @ delta) + float(np.trace(a @ cov)))


def flat_top_log_mgf_1d(mean, std, center, radius, slope, scale=1.0) -> float:
    """log E_{N(μ,σ²)}[e^{β r}] for the flat-top reward r(x) = −γ max(0, |x − c| − R) in 1-D,
    β = ``scale`` ≥ 0, γ = ``slope`` (notes §5.2, flat-top variant; [D]):

        E[e^{βr}] = P(|X − c| ≤ R) + e^{β(c+R−μ) + β²σ²/2} Φ̄(b₊ + βσ)
                    + e^{β(μ−c+R) + β²σ²/2} Φ(b₋ − βσ),   b± = (c ± R − μ)/σ,

    summed in log space (log Φ by ``log_ndtr``). r_* = 0 on B = [c − R, c + R], so with
    K = ∞ Theorem 2.1's distance is KL(p_*‖p_t) = log E[e^{t r}] − log P₀(B)."""
    vals = {"mean": mean, "std": std, "center": center, "radius": radius, "slope": slope,
            "scale": scale}
    for name, v in vals.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite real number, got {v!r}")
    if std <= 0 or radius <= 0 or slope <= 0 or scale < 0:
        raise ValueError("std, radius and slope must be > 0 and scale >= 0")
    b_hi = (center + radius - mean) / std
    b_lo = (center - radius - mean) / std
    beta = float(scale) * float(slope)
    log_mid = math.log(sps.ndtr(b_hi) - sps.ndtr(b_lo)) if b_lo < 0 else \
        math.log(sps.ndtr(-b_lo) - sps.ndtr(-b_hi))
    bs = beta * std
    return float(np.logaddexp(log_mid, np.logaddexp(_log_tail(b_hi, bs), _log_tail(-b_lo, bs))))


def _log_tail(b, bs):
    """log[e^{bs·b + bs²/2} Φ̄(b + bs)]. For z = b + bs ≥ 0 it is −b²/2 + log(½ erfcx(z/√2))
    (Φ̄(z) = ½ erfcx(z/√2) e^{−z²/2}): the huge terms bs²/2 − z²/2 cancel exactly in algebra
    instead of in floating point."""
    z = b + bs
    if z >= 0:
        return -0.5 * b * b + math.log(0.5 * float(sps.erfcx(z / math.sqrt(2.0))))
    return bs * b + 0.5 * bs * bs + float(sps.log_ndtr(-z))


# --------------------------------------------------------------------------------------------
# finite K: the kept draw of K standard normals
# --------------------------------------------------------------------------------------------


def selection_moments(s, curation_k) -> tuple[float, float]:
    """(m_K(s), v_K(s)): mean and variance of the kept draw when one of K i.i.d. N(0, 1) draws
    u_1..u_K is kept with probabilities softmax(s·u) (notes §5.1 [D]).

    The kept draw has density φ(u) H^K(u) with H^K the curation operator of N(0, 1) for the
    reward s·u. Computed exactly on a discretised normal: atoms on the grid u_i = ih,
    |u_i| ≤ 12, with masses ∝ φ(u_i), and H^K by the Laplace route of
    :func:`theory.curation_discrete.log_curation_operator`. Every integral involved is a
    trapezoidal sum of φ(u) times a function analytic in the strip |Im u| < π/(2s); on the line
    Im u = a = min(π/(4s), 2π/h) the Gaussian factor grows by e^{a²/2}, so the discretisation
    error is of order e^{a²/2 − 2πa/h}. With h = min(0.4, 1/(8s)) the exponent is
    π²/(32s²) − 4π² ≤ −36.3 for s ≥ 5/16 and decreases as s decreases below 5/16: the error is
    below 2·10⁻¹⁶ for every s, i.e. at float64 rounding (checked by halving h, by the closed
    K = 2 route and by Monte Carlo in the tests). K = 1 and s = 0 give (0, 1); K = ∞ gives the
    tilt (s, 1).
    Limits [D]: m_K(s)/s → (K−1)/K and (1 − v_K(s))/s² → (K−1)/K² as s → 0.
    """
    k = check_curation_k(curation_k)
    if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s) or s < 0:
        raise ValueError(f"s must be a finite number >= 0, got {s!r}")
    s = float(s)
    if k == 1 or s == 0.0:
        return 0.0, 1.0
    if k == math.inf:
        return s, 1.0
    return _selection_moments(s, k)


@functools.lru_cache(maxsize=4096)
def _selection_moments(s: float, k: int) -> tuple[float, float]:
    h = min(_SELECTION_MAX_STEP, 1.0 / (8.0 * s))
    half = int(math.ceil(SELECTION_HALF_WIDTH / h))
    u = h * np.arange(-half, half + 1)
    w = np.exp(-0.5 * u * u)
    w /= w.sum()
    q = curated_law(w, s * u, k, method="laplace")
    m = float(q @ u)
    return m, float(q @ (u - m) ** 2)


def gaussian_family_curation_step(mean, cov, direction, curation_k):
    """One step of the Gaussian-family (moment-matched) curated loop, linear reward
    r = aᵀx (+ b, irrelevant): μ' = μ + Σa m_K(s)/s, Σ' = Σ − (1 − v_K(s)) ΣaaᵀΣ/s² (notes §5.1
    [D]). K = ∞ is the exact tilt N(μ + Σa, Σ)."""
    mu, cov = _gaussian(mean, cov)
    a = _direction(direction, mu.size)
    sa = cov @ a
    s2 = float(a @ sa)
    s = math.sqrt(s2)
    m, v = selection_moments(s, curation_k)
    new_cov = cov - (1.0 - v) * np.outer(sa, sa) / s2
    return mu + sa * (m / s), 0.5 * (new_cov + new_cov.T)


def gaussian_family_curation_trajectory(mean, cov, direction, curation_k, generations):
    """(means (T+1, d), covs (T+1, d, d)) of the Gaussian-family curated loop.

    Consequences [D] (notes §5.1, checked by the claims): for finite K the variance along a
    collapses, 1/s_t² − 1/s_{t−1}² → (K−1)/K², so s_t² ≈ K²/((K−1)t), and the expected reward
    grows logarithmically, aᵀ(μ_t − μ_{t−1}) ≈ K/t, i.e. aᵀμ_t ≈ K log t + C. K = ∞: constant
    variance and linear growth aᵀμ_t = aᵀμ_0 + t s_0²."""
    mu, cov = _gaussian(mean, cov)
    a = _direction(direction, mu.size)
    k = check_curation_k(curation_k)
    steps = _generations(generations)
    means = np.empty((steps + 1, mu.size))
    covs = np.empty((steps + 1, mu.size, mu.size))
    means[0], covs[0] = mu, cov
    for t in range(steps):
        means[t + 1], covs[t + 1] = gaussian_family_curation_step(means[t], covs[t], a, k)
    return means, covs


# --------------------------------------------------------------------------------------------
# mixed loops (real data): Gaussian family at K = ∞, mean-only family at any K
# --------------------------------------------------------------------------------------------


def gaussian_mixed_tilt_step(mean, cov, direction, data_mean, data_cov, synthetic_ratio):
    """Gaussian-family mixed loop at K = ∞ (notes §5.1 [D]), w = 1/(1+λ): moment matching of
    w N(μ_d, Σ_d) + (1−w) N(μ + Σa, Σ):
    μ' = w μ_d + (1−w)(μ + Σa),
    Σ' = w(Σ_d + (μ_d − μ')(·)ᵀ) + (1−w)(Σ + (μ + Σa − μ')(·)ᵀ)."""
    mu, cov = _gaussian(mean, cov)
    mu_d, cov_d = _gaussian(data_mean, data_cov, "data_")
    if mu_d.size != mu.size:
        raise ValueError(f"data_mean must have shape ({mu.size},), got {mu_d.shape}")
    a = _direction(direction, mu.size)
    lam = _check_ratio(synthetic_ratio)
    w = 1.0 / (1.0 + lam) if lam != math.inf else 0.0
    tilted = mu + cov @ a
    new_mu = w * mu_d + (1 - w) * tilted
    e_d, e_s = mu_d - new_mu, tilted - new_mu
    new_cov = w * (cov_d + np.outer(e_d, e_d)) + (1 - w) * (cov + np.outer(e_s, e_s))
    return new_mu, 0.5 * (new_cov + new_cov.T)


def gaussian_mixed_tilt_fixed_point(data_mean, data_cov, direction, synthetic_ratio):
    """Fixed point of :func:`gaussian_mixed_tilt_step` (notes §5.1 [D]):
    μ* = μ_d + λΣ*a, Σ* = Σ_d + λ(1+λ)(Σ*a)(Σ*a)ᵀ, Σ*a = Σ_d a/(1 − λ(1+λ)s*),
    s* = aᵀΣ*a = [1 − √(1 − 4λ(1+λ)s_d)]/(2λ(1+λ)), s_d = aᵀΣ_d a.

    It exists iff 4λ(1+λ)s_d ≤ 1; otherwise the variance along a diverges and a ValueError says
    so. λ = 0 gives the data law."""
    mu_d, cov_d = _gaussian(data_mean, data_cov, "data_")
    a = _direction(direction, mu_d.size)
    lam = _check_ratio(synthetic_ratio)
    if lam == math.inf:
        raise ValueError("synthetic_ratio must be finite: without real data the K = inf loop "
                         "moves the mean by Sigma a each generation (no fixed point)")
    kappa = lam * (1.0 + lam)
    sa_d = cov_d @ a
    s_d = float(a @ sa_d)
    if kappa == 0.0:
        return mu_d.copy(), cov_d.copy()
    disc = 1.0 - 4.0 * kappa * s_d
    if disc < 0:
        raise ValueError(
            f"no fixed point: 4 lambda (1+lambda) a^T Sigma_d a = {4 * kappa * s_d:.6g} > 1 "
            "(the variance along a diverges)")
    s_star = 2.0 * s_d / (1.0 + math.sqrt(disc))  # = [1 − √disc]/(2κ), without cancellation
    b = sa_d / (1.0 - kappa * s_star)
    cov_star = cov_d + kappa * np.outer(b, b)
    return mu_d + lam * b, 0.5 * (cov_star + cov_star.T)


def mean_only_curation_step(theta, sigma2, direction, data_mean, curation_k, synthetic_ratio):
    """Mean-only Gaussian family N(θ, σ²I), linear reward, mixed loop, any K (notes §5.1 [D]):
    θ' = w μ_d + (1−w)(θ + σ² a m_K(s)/s), s = σ‖a‖, w = 1/(1+λ). An affine map with
    contraction factor exactly λ/(1+λ) (Theorem 2.2 with α = 1/σ², L = 0)."""
    th = _vector("theta", theta)
    mu_d = _vector("data_mean", data_mean, th.size)
    a = _direction(direction, th.size)
    if not (isinstance(sigma2, numbers.Real) and math.isfinite(sigma2) and sigma2 > 0):
        raise ValueError(f"sigma2 must be a finite number > 0, got {sigma2!r}")
    lam = _check_ratio(synthetic_ratio)
    w = 1.0 / (1.0 + lam) if lam != math.inf else 0.0
    s = math.sqrt(float(sigma2)) * float(np.linalg.norm(a))
    m, _ = selection_moments(s, curation_k)
    return w * mu_d + (1 - w) * (th + float(sigma2) * a * (m / s))


def mean_only_fixed_point(sigma2, direction, data_mean, curation_k, synthetic_ratio):
    """θ* = μ_d + λσ² a m_K(s)/s, the fixed point of :func:`mean_only_curation_step` (not the
    data mean: notes §2, Theorem 2.2 discussion)."""
    mu_d = _vector("data_mean", data_mean)
    a = _direction(direction, mu_d.size)
    lam = _check_ratio(synthetic_ratio)
    if lam == math.inf:
        raise ValueError("synthetic_ratio must be finite (no fixed point without real data)")
    if not (isinstance(sigma2, numbers.Real) and math.isfinite(sigma2) and sigma2 > 0):
        raise ValueError(f"sigma2 must be a finite number > 0, got {sigma2!r}")
    s = math.sqrt(float(sigma2)) * float(np.linalg.norm(a))
    m, _ = selection_moments(s, curation_k)
    return mu_d + lam * float(sigma2) * a * (m / s)


def thm22_rho(synthetic_ratio, alpha, eps, lipschitz) -> float:
    """Theorem 2.2's rate ρ = λ(α + εL)/(α + λ(α − εL)) ([P?]: the definitions of ε and θ*
    behind it are not verified). Raises ValueError when an assumption fails: Lε < α and
    λ < α/(2Lε) (equivalent to ρ < 1)."""
    lam = _check_ratio(synthetic_ratio)
    vals = {"alpha": alpha, "eps": eps, "lipschitz": lipschitz}
    for name, v in vals.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or v < 0 or (name == "alpha" and v == 0):
            low = "> 0" if name == "alpha" else ">= 0"
            raise ValueError(f"{name} must be a finite number {low}, got {v!r}")
    el = float(eps) * float(lipschitz)
    if not el < alpha:
        raise ValueError(f"Theorem 2.2 assumes L eps < alpha; got L eps = {el!r}, "
                         f"alpha = {alpha!r}")
    if lam == math.inf or not 2.0 * lam * el < alpha:
        raise ValueError(f"Theorem 2.2 assumes synthetic_ratio < alpha/(2 L eps); got "
                         f"synthetic_ratio = {lam!r}, alpha/(2 L eps) = "
                         f"{(alpha / (2 * el)) if el > 0 else math.inf!r}")
    return lam * (alpha + el) / (alpha + lam * (alpha - el))


# --------------------------------------------------------------------------------------------
# Gaussian mixtures (notes §5.3)
# --------------------------------------------------------------------------------------------


def _mixture(weights, means, covs):
    w = np.asarray(weights, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    cv = np.asarray(covs, dtype=np.float64)
    if w.ndim != 1 or mu.ndim != 2 or mu.shape[0] != w.size or cv.shape != (w.size,
                                                                            mu.shape[1],
                                                                            mu.shape[1]):
        raise ValueError(f"weights (m,), means (m, d), covs (m, d, d) expected, got "
                         f"{w.shape}, {mu.shape}, {cv.shape}")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and abs(w.sum() - 1) <= 1e-9):
        raise ValueError("weights must be finite, non-negative and sum to 1")
    for j in range(w.size):
        _gaussian(mu[j], cv[j], f"component {j} ")
    return w / w.sum(), mu, cv


def _normalise_log(logw):
    return np.exp(logw - _lse(logw))


def gmm_linear_tilt(weights, means, covs, direction, t=1):
    """t rounds of the K = ∞ pure loop on Σ_j π_j N(μ_j, Σ_j), r = aᵀx (notes §5.3 [D]):
    p_0 e^{t r}/Z = Σ_j π_j' N(μ_j + tΣ_j a, Σ_j), π_j' ∝ π_j exp(t aᵀμ_j + t² aᵀΣ_j a/2).
    Returns (weights, means, covs)."""
    w, mu, cv = _mixture(weights, means, covs)
    a = _direction(direction, mu.shape[1])
    tt = _steps(t)
    sa = cv @ a  # (m, d)
    logw = np.log(np.where(w > 0, w, 1.0)) + tt * (mu @ a) + 0.5 * tt**2 * (sa @ a)
    logw = np.where(w > 0, logw, -np.inf)
    return _normalise_log(logw), mu + tt * sa, cv.copy()


def gmm_quadratic_tilt(weights, means, covs, center, matrix, t=1):
    """t rounds of the K = ∞ pure loop on a Gaussian mixture, r = −½(x−c)ᵀA(x−c): each
    component by :func:`quadratic_tilt`, weights ∝ π_j E_{N_j}[e^{t r}]."""
    w, mu, cv = _mixture(weights, means, covs)
    tt = _steps(t)
    out_mu, out_cv, logw = np.empty_like(mu), np.empty_like(cv), np.empty(w.size)
    for j in range(w.size):
        out_mu[j], out_cv[j] = quadratic_tilt(mu[j], cv[j], center, matrix, tt)
        logw[j] = (math.log(w[j]) + quadratic_log_mgf(mu[j], cv[j], center, matrix, tt)
                   if w[j] > 0 else -np.inf)
    return _normalise_log(logw), out_mu, out_cv


def replicator_weights(weights0, log_fitness, t):
    """Discrete replicator dynamics π_{t}(j) ∝ π_0(j) Z_j^t (notes §5.3 [D]): the K = ∞ loop on
    mixture weights with fixed, well-separated components (fitness Z_j = E_{N_j}[e^r]); the
    K = ∞ discrete loop with rewards log Z_j (:func:`theory.curation_discrete.tilt_power`)."""
    return tilt_power(weights0, log_fitness, t)


def nonparametric_linear_mixed_tilt(s2, synthetic_ratio, generations):
    """Exact nonparametric K = ∞ mixed loop for a linear reward and p_data = N(μ_d, Σ_d)
    (notes §5.1 [D]): p_t = Σ_k π_t(k) N(μ_d + kΣ_d a, Σ_d) with π_0 = δ_0 and

        π_{t+1}(0) = w,   π_{t+1}(k+1) = (1−w) π_t(k) e^{k s²} / Σ_j π_t(j) e^{j s²},

    w = 1/(1+λ), s² = aᵀΣ_d a. Returns (weights (T+1, T+1) over k, E_{p_t}[k] (T+1,));
    E_{p_t}[r] = aᵀμ_d + s² E_{p_t}[k] grows linearly with slope → λ/(1+λ)·s² (no
    stationary law: an unbounded reward breaks stability at K = ∞ even with real data)."""
    if not (isinstance(s2, numbers.Real) and math.isfinite(s2) and s2 > 0):
        raise ValueError(f"s2 must be a finite number > 0, got {s2!r}")
    lam = _check_ratio(synthetic_ratio)
    if lam == math.inf:
        raise ValueError("synthetic_ratio must be finite (mixed loop)")
    steps = _generations(generations)
    w = 1.0 / (1.0 + lam)
    ks = np.arange(steps + 1, dtype=np.float64)
    logw = np.full((steps + 1, steps + 1), -np.inf)
    logw[0, 0] = 0.0
    for t in range(steps):
        tilted = logw[t] + ks * float(s2)
        tilted -= _lse(tilted)
        logw[t + 1, 0] = math.log(w) if w > 0 else -np.inf
        logw[t + 1, 1:] = (math.log1p(-w) if w < 1 else -np.inf) + tilted[:-1]
    weights = np.exp(logw)
    return weights, weights @ ks


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
