"""Projection strength γ of a point-wise corrector (Gillman et al. 2024, App. C): the maths.

Gillman et al. (ICML 2024) correct synthetic data with the ideal corrector

    π_γ p_θ = (p_θ + γ p_θ*)/(1 + γ) = (1 − t) p_θ + t p_θ*,   t = γ/(1 + γ)   (Def. 4.1, eq. 4)

and call a point-wise map Π a *valid point-wise correction* with *projection strength* γ when
the empirical CDF of Π(X^n), X^n ~ p_θ^n, converges uniformly to the CDF of π_γ p_θ
(Def. C.2, eq. 51; Def. C.4). For a practical corrector the law of the corrected points is in
general not of the form π_γ p_θ; its *effective strength* γ_eff is the γ whose π_γ p_θ is
closest to that law. This module estimates γ_eff from corrected points when
p_θ = N(μ, Σ) and p_θ* = N(μ*, Σ*) (δ = μ − μ*), and gives the laws needed to check Def. C.2
for the histogram correctors of Example C.6:

* :func:`moment_strength` — moment estimators (unbiased on the weight scale t for π_γ p_θ):
  ``"mean"``: E_{π_γ}[u·(x − μ*)] = (1 − t)‖δ‖ along u = δ/‖δ‖, so the per-replicate
  t_r = 1 − u·(x̄_r − μ*)/‖δ‖;  ``"second"``: E_{π_γ}‖x − μ*‖² = (1 − t)(tr Σ + ‖δ‖²) + t tr Σ*,
  so t_r = 1 − (mean_i ‖x_ri − μ*‖² − tr Σ*)/(tr Σ + ‖δ‖² − tr Σ*) (the variance route when
  μ = μ*). t̂ = mean_r t_r with the between-replicate standard error (points of one corrector
  application may be dependent; replicates are independent); γ̂ = t̂/(1 − t̂) with the
  delta-method standard error se(t̂)/(1 − t̂)².
* :func:`distributional_strength` — minimum-distance estimator in 1-D: along a direction u the
  projected law of π_γ p_θ has CDF F_t = (1 − t)F + tF*, with F, F* the projected Gaussian
  CDFs; t̂ minimises the Cramér–von Mises or Kolmogorov–Smirnov distance between the pooled
  empirical CDF and F_t over t ∈ [0, 1] (the range of Def. C.2), with a bootstrap standard
  error that resamples whole replicates.
* :func:`histogram_mixture_cdf` — the law of the valid histogram corrector given the synthetic
  points: (1 − t)H + tF*, H the CDF of the histogram density (uniform within a bin).
* :func:`clipped_histogram_mixture_cdf` — the law of the points accepted by the rejection
  sampler of the authors' Gaussian-toy code, ∝ min(f, Mφ) with f = (1 − t)h + tφ, φ the density
  of p_θ*, and envelope M = [(1 − t) max h + t φ(μ*)]/φ(μ*) (not a bound on f/φ in general).
* :func:`clipped_mixture_cdf`, :func:`clipped_mixture_limit` — its limit when the histogram
  tends to p_θ (bins shrinking), and the sup-distance of that limit to π_γ p_θ: zero iff the
  envelope is valid.

References:
    Gillman, Freeman, Aggarwal, Hsu, Luo, Tian, Sun (2024), "Self-Correcting Self-Consuming
    Loops for Generative Model Training", ICML 2024, Def. 4.1, App. C (Def. C.1, C.2, C.4,
    Remark C.5, Example C.6); the authors' code, ``exp_scripts/gaussian_toy_example.py``.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr as _jndtr
from scipy import special

__all__ = [
    "ClippedLimit",
    "StrengthEstimate",
    "clipped_histogram_mixture_cdf",
    "clipped_mixture_cdf",
    "clipped_mixture_limit",
    "distributional_strength",
    "histogram_mixture_cdf",
    "mixture_cdf",
    "mixture_weight",
    "moment_strength",
    "projection_direction",
    "strength_from_weight",
]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# γ ↔ t
# --------------------------------------------------------------------------------------------


def _check_gamma(name: str, gamma) -> float:
    if isinstance(gamma, bool | np.bool_) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, inf], got {gamma!r}")
    g = float(gamma)
    if math.isnan(g) or g < 0.0:
        raise ValueError(f"{name} must be a real number in [0, inf], got {gamma!r}")
    return g


def mixture_weight(gamma) -> float:
    """Weight t = γ/(1 + γ) of p_θ* in π_γ p_θ (Gillman et al. 2024, eq. 4); t(∞) = 1.

    Raises:
        ValueError: for γ < 0 or NaN; TypeError for non-real γ.
    """
    g = _check_gamma("gamma", gamma)
    return 1.0 if math.isinf(g) else g / (1.0 + g)


def strength_from_weight(weight) -> float:
    """γ = t/(1 − t), the inverse of :func:`mixture_weight`; t = 1 gives ``inf``.

    Raises:
        ValueError: for t outside [0, 1] or NaN.
    """
    if isinstance(weight, bool | np.bool_) or not isinstance(weight, numbers.Real):
        raise TypeError(f"weight must be a real number in [0, 1], got {weight!r}")
    t = float(weight)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"weight must be a real number in [0, 1], got {weight!r}")
    return math.inf if t == 1.0 else t / (1.0 - t)


def _jnp_weight(gamma):
    """Traced t(γ): γ/(1+γ), 1 at +inf, NaN for γ < 0 or NaN (never a valid-looking number)."""
    g = jnp.asarray(gamma)
    t = jnp.where(jnp.isinf(g), jnp.ones_like(g), g / (1.0 + g))
    return jnp.where(g >= 0, t, jnp.nan)


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _gaussian(mean_name, mean, cov_name, cov, dim=None):
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    if mean.ndim != 1 or (dim is not None and mean.shape[0] != dim):
        want = f"({dim},)" if dim is not None else "(d,)"
        raise ValueError(f"{mean_name} must have shape {want}, got {mean.shape}")
    d = mean.shape[0]
    cov = np.asarray(cov, dtype=np.float64).reshape((d, d)) if np.size(cov) == d * d else None
    if cov is None:
        raise ValueError(f"{cov_name} must have shape ({d}, {d})")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        raise ValueError(f"{mean_name} and {cov_name} must be finite")
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=0.0):
        raise ValueError(f"{cov_name} must be symmetric")
    if np.linalg.eigvalsh(cov)[0] < 0.0:
        raise ValueError(f"{cov_name} must be positive semi-definite")
    return mean, cov


def _samples(samples, d):
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2 and d == 1:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] != d:
        raise ValueError(
            f"samples must have shape (replicates, m, {d}) (or (replicates, m) when d = 1), "
            f"got {np.shape(samples)}")
    if x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"samples need at least 2 replicates of at least 1 point, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite (a corrector that failed returns NaN)")
    return x


def projection_direction(mean, cov, target_mean, target_cov) -> np.ndarray:
    """Unit direction along which p_θ = N(μ, Σ) and p_θ* = N(μ*, Σ*) are compared.

    u = δ/‖δ‖ with δ = μ − μ* when δ ≠ 0; otherwise the eigenvector of Σ − Σ* with the largest
    |eigenvalue| (so that the projected variances differ).

    Raises:
        ValueError: if p_θ = p_θ*: then π_γ p_θ = p_θ* for every γ and γ is not identifiable
            (Gillman et al. 2024, Remark C.5 assigns γ = ∞ to this case).
    """
    mean, cov = _gaussian("mean", mean, "cov", cov)
    target_mean, target_cov = _gaussian("target_mean", target_mean, "target_cov", target_cov,
                                        dim=mean.shape[0])
    delta = mean - target_mean
    norm = float(np.linalg.norm(delta))
    if norm > 0.0:
        return delta / norm
    w, v = np.linalg.eigh(cov - target_cov)
    i = int(np.argmax(np.abs(w)))
    if w[i] == 0.0:
        raise ValueError("p_θ = p_θ* (equal means and covariances): the projection strength γ "
                         "is not identifiable (Gillman et al. 2024, Remark C.5)")
    return v[:, i]


# --------------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------------


class StrengthEstimate(NamedTuple):
    """An estimate of the projection strength and of the mixture weight t = γ/(1+γ)."""

    gamma: float  # γ̂ = t̂/(1 − t̂) (inf when t̂ ≥ 1; negative when t̂ < 0)
    gamma_se: float  # se(t̂)/(1 − t̂)² (delta method); inf when t̂ ≥ 1
    weight: float  # t̂
    weight_se: float  # standard error of t̂
    replicates: int  # R, independent corrector applications
    method: str  # "mean", "second", "cvm" or "ks"


def _estimate(t_hat, t_se, replicates, method) -> StrengthEstimate:
    t_hat, t_se = float(t_hat), float(t_se)
    if t_hat >= 1.0:
        return StrengthEstimate(math.inf, math.inf, t_hat, t_se, replicates, method)
    return StrengthEstimate(t_hat / (1.0 - t_hat), t_se / (1.0 - t_hat) ** 2, t_hat, t_se,
                            replicates, method)


def moment_strength(samples, mean, cov, target_mean, target_cov, *,
                    moment: str = "mean") -> StrengthEstimate:
    """Moment estimate of γ_eff from R independent corrector applications.

    With p_θ = N(μ, Σ), p_θ* = N(μ*, Σ*), δ = μ − μ* and the corrected points x_ri
    (r = 1..R replicates, i = 1..m points), π_γ p_θ has (Gillman et al. 2024, eq. 4)

        E[x] = (1 − t)μ + tμ*                               ("mean", needs δ ≠ 0)
        E‖x − μ*‖² = (1 − t)(tr Σ + ‖δ‖²) + t tr Σ*          ("second", needs tr Σ + ‖δ‖² ≠ tr Σ*)

    so each replicate gives an unbiased t_r (module docstring); t̂ = mean t_r, se(t̂) = sd(t_r)/√R,
    γ̂ = t̂/(1 − t̂) and se(γ̂) = se(t̂)/(1 − t̂)² (delta method). For π_γ p_θ itself t̂ is unbiased
    for t and asymptotically normal; t̂ outside [0, 1] is returned as is (γ̂ < 0 means the
    corrected points moved away from p_θ*, t̂ ≥ 1 gives γ̂ = inf).

    Args:
        samples: corrected points, shape (R, m, d) (or (R, m) when d = 1), R ≥ 2.
        mean, cov: the model p_θ the uncorrected points were drawn from.
        target_mean, target_cov: p_θ*.
        moment: ``"mean"`` or ``"second"``.

    Raises:
        ValueError: bad shapes, or the moment carries no information on γ (δ = 0 for
            ``"mean"``; tr Σ + ‖δ‖² = tr Σ* for ``"second"``).
    """
    mean, cov = _gaussian("mean", mean, "cov", cov)
    d = mean.shape[0]
    target_mean, target_cov = _gaussian("target_mean", target_mean, "target_cov", target_cov,
                                        dim=d)
    x = _samples(samples, d)
    delta = mean - target_mean
    if moment == "mean":
        norm = float(np.linalg.norm(delta))
        if norm == 0.0:
            raise ValueError("moment='mean' needs mean != target_mean: with μ = μ* the mean of "
                             "π_γ p_θ does not depend on γ (use moment='second')")
        s = (x.mean(axis=1) - target_mean) @ (delta / norm) / norm
    elif moment == "second":
        denom = float(np.trace(cov) + delta @ delta - np.trace(target_cov))
        if denom == 0.0:
            raise ValueError("moment='second' needs tr Σ + ‖μ − μ*‖² != tr Σ*: otherwise the "
                             "second moment about μ* of π_γ p_θ does not depend on γ")
        q = np.mean(np.sum((x - target_mean) ** 2, axis=-1), axis=1)
        s = (q - np.trace(target_cov)) / denom
    else:
        raise ValueError(f"moment must be 'mean' or 'second', got {moment!r}")
    t_r = 1.0 - s
    r = t_r.shape[0]
    return _estimate(t_r.mean(), t_r.std(ddof=1) / math.sqrt(r), r, moment)


def _cvm_weight(f, a, w):
    """argmin_{t∈[0,1]} Σ ω_i (f_i + t a_i − e_i)², e_i the mid-step of the weighted ECDF."""
    total = w.sum()
    c = np.cumsum(w)
    e = (c - 0.5 * w) / total
    om = w / total
    den = float(np.sum(om * a * a))
    if den == 0.0:
        raise ValueError("the projected CDFs of p_θ and p_θ* coincide at the sample points: "
                         "the weight t is not identifiable")
    return float(np.clip(np.sum(om * a * (e - f)) / den, 0.0, 1.0))


def _ks_weight(f, a, w, iterations: int = 44):
    """argmin_{t∈[0,1]} sup_v |F_t(v) − Φ_n(v)| by bisection on a subgradient.

    sup_v |F_t − Φ_n| = max_i max(f_i + t a_i − C_{i−1}, C_i − f_i − t a_i) (points sorted,
    C the weighted ECDF) is convex and piecewise linear in t; the sign of the slope of the
    active line tells on which side the minimum lies. 44 halvings of [0, 1] reach 6e-14.
    """
    total = w.sum()
    c = np.cumsum(w) / total
    p0 = f - (c - w / total)
    q0 = c - f
    lo, hi = 0.0, 1.0
    for _ in range(iterations):
        t = 0.5 * (lo + hi)
        p = p0 + t * a
        q = q0 - t * a
        i, j = int(np.argmax(p)), int(np.argmax(q))
        slope = a[i] if p[i] >= q[j] else -a[j]
        if slope > 0:
            hi = t
        else:
            lo = t
    return 0.5 * (lo + hi)


def distributional_strength(samples, mean, cov, target_mean, target_cov, *,
                            distance: str = "cvm", direction=None, bootstrap: int = 200,
                            seed: int = 0) -> StrengthEstimate:
    """Minimum-distance estimate of γ_eff in one dimension, with a bootstrap standard error.

    The corrected points are projected on a unit direction u (default
    :func:`projection_direction`). Under π_γ p_θ the projection has CDF

        F_t(v) = (1 − t) Φ((v − u·μ)/√(uᵀΣu)) + t Φ((v − u·μ*)/√(uᵀΣ*u)),   t = γ/(1+γ),

    and t̂ = argmin_{t∈[0,1]} D(Φ_N, F_t) with Φ_N the empirical CDF of all R·m projected points
    and D the Cramér–von Mises distance Σ_i (F_t(v_(i)) − (i − ½)/N)² (quadratic in t: closed
    form, then clipped to [0, 1]) or the Kolmogorov–Smirnov distance sup_v |F_t − Φ_N| (convex
    in t: bisection). Bootstrap: ``bootstrap`` resamples of the R replicates with replacement
    (the points of one replicate stay together, so within-replicate dependence is kept); the
    standard error is the standard deviation of the resampled t̂. γ̂ and its standard error
    follow as in :func:`moment_strength`. Near t = 0 or 1 the clipped estimate is not normal:
    read its standard error as a scale only.

    Args:
        samples: corrected points, shape (R, m, d) (or (R, m) when d = 1), R ≥ 2.
        mean, cov, target_mean, target_cov: p_θ and p_θ*.
        distance: ``"cvm"`` or ``"ks"``.
        direction: optional projection direction (d,), normalised here.
        bootstrap: number of bootstrap resamples (≥ 2).
        seed: seed of the bootstrap resampling (NumPy ``default_rng``).
    """
    mean, cov = _gaussian("mean", mean, "cov", cov)
    d = mean.shape[0]
    target_mean, target_cov = _gaussian("target_mean", target_mean, "target_cov", target_cov,
                                        dim=d)
    x = _samples(samples, d)
    if distance not in ("cvm", "ks"):
        raise ValueError(f"distance must be 'cvm' or 'ks', got {distance!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, numbers.Integral) or bootstrap < 2:
        raise ValueError(f"bootstrap must be an integer >= 2, got {bootstrap!r}")
    if direction is None:
        u = projection_direction(mean, cov, target_mean, target_cov)
    else:
        u = np.asarray(direction, dtype=np.float64).reshape(-1)
        if u.shape != (d,) or not np.all(np.isfinite(u)) or np.linalg.norm(u) == 0.0:
            raise ValueError(f"direction must be a finite non-zero vector of shape ({d},)")
        u = u / np.linalg.norm(u)
    sd, sd_star = math.sqrt(float(u @ cov @ u)), math.sqrt(float(u @ target_cov @ u))
    if sd == 0.0 or sd_star == 0.0:
        raise ValueError("p_θ and p_θ* must have positive variance along the projection "
                         "direction")
    r, m = x.shape[:2]
    v = (x @ u).reshape(-1)
    order = np.argsort(v, kind="stable")
    v = v[order]
    rep = np.repeat(np.arange(r), m)[order]
    f = special.ndtr((v - u @ mean) / sd)
    a = special.ndtr((v - u @ target_mean) / sd_star) - f
    fit = _cvm_weight if distance == "cvm" else _ks_weight
    t_hat = fit(f, a, np.ones_like(v))
    rng = np.random.default_rng(seed)
    boot = np.empty(bootstrap)
    for b in range(bootstrap):
        counts = rng.multinomial(r, np.full(r, 1.0 / r)).astype(np.float64)
        boot[b] = fit(f, a, counts[rep])
    return _estimate(t_hat, boot.std(ddof=1), r, distance)


# --------------------------------------------------------------------------------------------
# laws (1-D, jax.numpy: traceable, broadcast over leading axes of v)
# --------------------------------------------------------------------------------------------


def _norm_cdf(v, loc, scale):
    return _jndtr((v - loc) / scale)


def mixture_cdf(v, mean, sd, target_mean, target_sd, gamma):
    """CDF of π_γ p_θ in 1-D: (1 − t)Φ((v − μ)/σ) + tΦ((v − μ*)/σ*), t = γ/(1+γ) (eq. 4).

    ``gamma`` may be traced; γ = inf gives p_θ*; γ < 0 or NaN gives NaN.
    """
    t = _jnp_weight(gamma)
    return (1.0 - t) * _norm_cdf(v, mean, sd) + t * _norm_cdf(v, target_mean, target_sd)


def histogram_mixture_cdf(v, lo, width, probs, target_mean, target_sd, gamma):
    """CDF of (1 − t)H + t N(μ*, σ*²): the law of the valid histogram corrector's output.

    H is the histogram law of the synthetic points (Gillman et al. 2024, Example C.6, with the
    empirical law replaced by its histogram as in the authors' code): bin b = [lo + b·w,
    lo + (b+1)·w) has probability ``probs[b]`` (its share of the points) and the law is uniform
    inside it, so H(v) = Σ_b probs[b]·clip((v − lo − b·w)/w, 0, 1).

    Evaluated in O(1) per point after a cumulative sum over the bins: with
    u = (v − lo)/w and b = min(⌊u⌋, B − 1), H(v) = 0 for u ≤ 0, Σ_{c<b} probs[c] +
    probs[b]·(u − b) for 0 < u < B, and Σ probs for u ≥ B.

    Args:
        v: points (any shape).
        lo, width: left edge and bin width (> 0), scalars.
        probs: (B,) bin probabilities.
        target_mean, target_sd, gamma: p_θ* = N(μ*, σ*²) and γ (traceable).
    """
    t = _jnp_weight(gamma)
    probs = jnp.asarray(probs)
    nbins = probs.shape[-1]
    v = jnp.asarray(v)
    u = (v - lo) / width
    b = jnp.clip(jnp.floor(u), 0, nbins - 1).astype(jnp.int32)
    cum = jnp.concatenate([jnp.zeros((1,), probs.dtype), jnp.cumsum(probs)])
    inside = cum[b] + probs[b] * jnp.clip(u - b, 0.0, 1.0)
    h = jnp.where(u <= 0, 0.0, jnp.where(u >= nbins, cum[-1], inside))
    return (1.0 - t) * h + t * _norm_cdf(v, target_mean, target_sd)


def _min_integral(l, r, a, kappa, c, s):
    """∫_l^r min(a, κφ(v)) dv, φ the N(c, s²) density, a ≤ κφ(c); 0 when a = 0 or κ = 0.

    min = a where φ > a/κ, i.e. on (c − ρ, c + ρ) with ρ = s√(2 log(κφ(c)/a)), κφ elsewhere.
    """
    pos = (a > 0) & (kappa > 0)
    ratio = jnp.where(pos, kappa / (s * _SQRT_2PI) / jnp.where(pos, a, 1.0), 1.0)
    rho = s * jnp.sqrt(2.0 * jnp.log(jnp.maximum(ratio, 1.0)))
    il = jnp.clip(c - rho, l, r)
    ir = jnp.clip(c + rho, l, r)
    inner = ir - il
    mass = _norm_cdf(r, c, s) - _norm_cdf(l, c, s)
    inner_mass = _norm_cdf(ir, c, s) - _norm_cdf(il, c, s)
    return jnp.where(pos, a * inner + kappa * (mass - inner_mass), 0.0)


def clipped_histogram_mixture_cdf(v, lo, width, heights, target_mean, target_sd, gamma):
    """CDF of the law ∝ min(f, Mφ) of the authors' rejection sampler, in 1-D.

    The authors' Gaussian-toy code (Gillman et al. 2024, §5; ``gaussian_toy_example.py``)
    proposes from φ = N(μ*, σ*²) and accepts a proposal v when f(v)/(Mφ(v)) > U, with
    f = (1 − t)h + tφ, h the histogram density (``heights[b]`` = count_b/(m·w) on bin b, 0
    outside the bins) and M = [(1 − t) max h + tφ(μ*)]/φ(μ*). Accepted points have density
    ∝ φ·min(1, f/(Mφ)) ∝ min(f, Mφ) = tφ + min((1 − t)h, κφ) with κ = (1 − t) max h/φ(μ*).
    On each bin min((1 − t)h_b, κφ) is integrated in closed form (:func:`_min_integral`),
    so the CDF is exact (O(1) per point after a cumulative sum over the B bins; ``lo``,
    ``width`` scalars, ``heights`` of shape (B,)):

        G(v) = [tΦ*(v) + Σ_b ∫_{l_b}^{min(r_b, v)} min((1 − t)h_b, κφ)] / Z,
        Z = t + Σ_b ∫_{l_b}^{r_b} min((1 − t)h_b, κφ).

    When M is a valid envelope (f ≤ Mφ everywhere) G is the CDF of f; otherwise the law is
    clipped wherever h/φ exceeds max h/φ(μ*).
    """
    t = _jnp_weight(gamma)
    heights = jnp.asarray(heights)
    nbins = heights.shape[-1]
    c, s = target_mean, target_sd
    phi0 = 1.0 / (s * _SQRT_2PI)
    kappa = (1.0 - t) * jnp.max(heights) / phi0
    a = (1.0 - t) * heights
    left = lo + jnp.arange(nbins, dtype=heights.dtype) * width
    right = left + width
    full = _min_integral(left, right, a, kappa, c, s)  # (B,) each bin's whole integral
    cum = jnp.concatenate([jnp.zeros((1,), full.dtype), jnp.cumsum(full)])
    v = jnp.asarray(v)
    u = (v - lo) / width
    b = jnp.clip(jnp.floor(u), 0, nbins - 1).astype(jnp.int32)
    own = _min_integral(left[b], jnp.clip(v, left[b], right[b]), a[b], kappa, c, s)
    partial = jnp.where(u <= 0, 0.0, jnp.where(u >= nbins, cum[-1], cum[b] + own))
    return (t * _norm_cdf(v, c, s) + partial) / (t + cum[-1])


class ClippedLimit(NamedTuple):
    """Limit law of the authors' rejection sampler as the histogram tends to p_θ (1-D)."""

    envelope_violated: bool  # sup_v f/φ > M (f = (1−t)p_θ + tφ in the limit)
    acceptance: float  # ∫ min(f, Mφ)/M, the limit acceptance probability
    sup_distance: float  # sup_v |G(v) − F_γ(v)|, G the limit CDF, F_γ that of π_γ p_θ
    grid_error: float  # bound on the error of ``sup_distance`` (sup taken on a grid)


def _clipped_limit_parts(v, mean, sd, target_mean, target_sd, t, xp=jnp):
    """Unnormalised ∫_{−∞}^v [tφ + min((1 − t)p, κφ)] and its total Z, exactly.

    (1 − t)p(v)/(κφ(v)) = exp((v − μ*)²/(2σ*²) − (v − μ)²/(2σ²)), so (1 − t)p ≤ κφ iff
    |v − μ*|/σ* ≤ |v − μ|/σ: the line splits at the roots of (v − μ*)σ = ±(v − μ)σ* (one root
    when σ = σ*) and on each piece one of the two densities is the minimum; each piece
    integrates to a difference of normal CDFs. ``xp`` is ``jax.numpy`` (traceable) or ``numpy``.
    """
    ndtr = _jndtr if xp is jnp else special.ndtr

    def cdf(u, loc, scale):
        return ndtr((u - loc) / scale)

    kappa = (1.0 - t) * target_sd / sd
    r1 = (target_mean * sd + mean * target_sd) / (sd + target_sd)
    same = sd == target_sd
    r2 = xp.where(same, xp.inf,
                  (target_mean * sd - mean * target_sd) / xp.where(same, 1.0, sd - target_sd))
    e1, e2 = xp.minimum(r1, r2), xp.maximum(r1, r2)
    v = xp.asarray(v)

    def piece(a, b, upto):
        mid = xp.where(xp.isfinite(a) & xp.isfinite(b), 0.5 * (a + b),
                       xp.where(xp.isfinite(b), b - 1.0, a + 1.0))
        use_p = xp.abs(mid - target_mean) / target_sd <= xp.abs(mid - mean) / sd
        hi = xp.minimum(upto, b)
        val_p = (1.0 - t) * (cdf(hi, mean, sd) - cdf(a, mean, sd))
        val_q = kappa * (cdf(hi, target_mean, target_sd) - cdf(a, target_mean, target_sd))
        return xp.where(upto > a, xp.where(use_p, val_p, val_q), 0.0)

    def cum(upto):
        out = t * cdf(upto, target_mean, target_sd)
        for a, b in ((-xp.inf, e1), (e1, e2), (e2, xp.inf)):
            out = out + piece(a, b, upto)
        return out

    return cum(v), cum(xp.asarray(xp.inf))


def clipped_mixture_cdf(v, mean, sd, target_mean, target_sd, gamma):
    """CDF of the limit law of the authors' corrector, ∝ tφ + min((1 − t)p_θ, κφ) (1-D).

    p_θ = N(μ, σ²), φ the density of p_θ* = N(μ*, σ*²), κ = (1 − t)σ*/σ: the law accepted by
    the rejection sampler of :func:`clipped_histogram_mixture_cdf` when the histogram is
    replaced by p_θ itself (its limit as bins shrink and the points per bin grow). Exact
    (piecewise normal CDFs); traceable in every argument.
    """
    t = _jnp_weight(gamma)
    part, total = _clipped_limit_parts(v, mean, sd, target_mean, target_sd, t)
    return part / total


def clipped_mixture_limit(mean, sd, target_mean, target_sd, gamma, *,
                          points: int = 200_001) -> ClippedLimit:
    """Limit of the authors' corrector when the histogram tends to p_θ = N(μ, σ²) (1-D).

    With h → p_θ (bins shrinking, more points per bin) the accepted law tends to
    g ∝ tφ + min((1 − t)p_θ, κφ), κ = (1 − t)p_θ(μ)/φ(μ*) = (1 − t)σ*/σ (see
    :func:`clipped_histogram_mixture_cdf`). The envelope is valid iff p_θ/φ ≤ p_θ(μ)/φ(μ*)
    everywhere, i.e. (for t < 1) iff μ = μ* and σ ≤ σ*; then g = π_γ p_θ. Otherwise g ≠ π_γ p_θ
    and the sup-distance of Def. C.2 has a positive limit: the corrector is not a valid
    point-wise correction with projection strength γ.

    The CDF of g is exact (:func:`clipped_mixture_cdf`); the sup over v of |G − F_γ| is taken on
    ``points`` equally spaced points covering ±16 standard deviations of both laws (outside,
    both CDFs are within 1e-50 of 0 or 1). Between grid points (spacing h) the difference moves
    by at most (h/2)(max g/Z + max density of π_γ p_θ): ``grid_error`` is that bound.
    """
    t = mixture_weight(gamma)
    for name, val in (("sd", sd), ("target_sd", target_sd)):
        if not (isinstance(val, numbers.Real) and math.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a finite real number > 0, got {val!r}")
    for name, val in (("mean", mean), ("target_mean", target_mean)):
        if not (isinstance(val, numbers.Real) and math.isfinite(val)):
            raise ValueError(f"{name} must be a finite real number, got {val!r}")
    mean, sd, target_mean, target_sd = map(float, (mean, sd, target_mean, target_sd))
    lo = min(mean - 16 * sd, target_mean - 16 * target_sd)
    hi = max(mean + 16 * sd, target_mean + 16 * target_sd)
    v = np.linspace(lo, hi, int(points))
    h = v[1] - v[0]
    cum, z = _clipped_limit_parts(v, mean, sd, target_mean, target_sd, t, xp=np)
    z = float(z)
    f_gamma = (1.0 - t) * special.ndtr((v - mean) / sd) + t * special.ndtr(
        (v - target_mean) / target_sd)
    kappa = (1.0 - t) * target_sd / sd
    phi0 = 1.0 / (target_sd * _SQRT_2PI)
    lip = (t + kappa) * phi0 / z + (1.0 - t) / (sd * _SQRT_2PI) + t * phi0
    # the envelope is valid iff μ = μ* and σ ≤ σ* (or t = 1); see the docstring
    violated = bool(t < 1.0 and not (mean == target_mean and sd <= target_sd))
    return ClippedLimit(violated, float(z / (kappa + t)), float(np.max(np.abs(cum / z - f_gamma))),
                        float(0.5 * h * lip))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
