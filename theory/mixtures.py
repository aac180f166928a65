"""Gaussian mixtures: densities, distances, component matching and exact mixture dynamics.

A mixture p = Σ_j w_j N(μ_j, Σ_j) is given by three arrays, ``weights`` ``(..., m)``,
``means`` ``(..., m, d)`` and ``covs`` ``(..., m, d, d)``; the JAX functions broadcast over
the leading axes.

Distances:

``mixture_l2_squared``
    ∫(p − q)² in closed form through the Gaussian product integral
    ∫N(x; a, A) N(x; b, B) dx = N(a − b; 0, A + B):
    ‖p − q‖² = Σ_ij w_i w_j N(μ_i − μ_j; 0, Σ_i + Σ_j) + (q–q terms) − 2 (p–q terms).
    The metric of Shumailov et al. 2024's GMM experiment (reference notes §1).
``mixture_kl_mc``
    KL(p ‖ q) = E_p[log p − log q] by Monte Carlo, with its standard error.
``mixture_w2_squared``
    the mixture-Wasserstein distance MW₂² of Delon & Desolneux 2020 ("A Wasserstein-type
    distance in the space of Gaussian mixture models", SIAM J. Imaging Sci. 13(2)):
    the discrete optimal transport between the component weights with the Gaussian W₂² cost
    (Dowson & Landau). It restricts the couplings to mixtures of Gaussian couplings, so
    MW₂ ≥ W₂(p, q) ≥ W₂(N(m_p, C_p), N(m_q, C_q)) (the last inequality is Gelbrich's 1990
    bound, valid for any two laws with those first two moments); MW₂ = W₂ when both have one
    component.

Label switching: :func:`match_components` finds the permutation of a fit's components that
best matches a reference (Σ_j ‖μ_π(j) − μ_j^ref‖², exhaustive over the m! permutations for
m ≤ 6, :func:`scipy.optimize.linear_sum_assignment` otherwise).

Exact dynamics (Ferbach et al. 2024, reference notes ferbach2024.md §5.3):
:func:`mixture_tilt` is the K = ∞ curation p e^r / E_p[e^r] of a mixture by a linear or
quadratic reward: each component is tilted (:func:`theory.rewards.reward_tilt`) and its weight
multiplied by Z_j = E_{N(μ_j, Σ_j)}[e^r] (:func:`gaussian_log_mgf`);
:func:`replicator_weights` is the weights-only K = ∞ dynamics π_t(j) ∝ π_0(j) Z_j^t.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from theory import linalg
from theory.distances import gaussian_w2_squared
from theory.rewards import as_reward, reward_tilt

__all__ = [
    "gaussian_log_mgf",
    "gaussian_product_integral",
    "match_components",
    "mixture_kl_mc",
    "mixture_l2",
    "mixture_l2_squared",
    "mixture_logpdf",
    "mixture_moments",
    "mixture_sample",
    "mixture_tilt",
    "mixture_w2_squared",
    "permute_components",
    "replicator_weights",
    "suresh_gmm_collapse_bound",
]

_LOG_2PI = math.log(2.0 * math.pi)


def _log_normal(diff, cov):
    """log N(diff; 0, cov) for diff (..., d), cov (..., d, d), via Cholesky."""
    d = diff.shape[-1]
    chol = linalg.cholesky(cov)
    sol = linalg.solve_lower(chol, diff[..., None])[..., 0]
    logdet = linalg.cholesky_logdet(chol)
    return -0.5 * (jnp.sum(sol * sol, axis=-1) + logdet + d * _LOG_2PI)


def gaussian_product_integral(mean1, cov1, mean2, cov2):
    """∫ N(x; μ₁, Σ₁) N(x; μ₂, Σ₂) dx = N(μ₁ − μ₂; 0, Σ₁ + Σ₂) (batched)."""
    mean1, mean2 = jnp.asarray(mean1), jnp.asarray(mean2)
    return jnp.exp(_log_normal(mean1 - mean2, jnp.asarray(cov1) + jnp.asarray(cov2)))


def _cross_term(w1, mu1, c1, w2, mu2, c2):
    """Σ_ij w1_i w2_j N(μ1_i − μ2_j; 0, Σ1_i + Σ2_j)."""
    diff = mu1[..., :, None, :] - mu2[..., None, :, :]
    cov = c1[..., :, None, :, :] + c2[..., None, :, :, :]
    dens = jnp.exp(_log_normal(diff, cov))
    return jnp.einsum("...i,...ij,...j->...", w1, dens, w2)


def mixture_l2_squared(weights1, means1, covs1, weights2, means2, covs2):
    """Squared L2 distance ∫(p − q)² between two Gaussian mixtures, in closed form.

    .. math::
        \\|p - q\\|_2^2 = \\sum_{ij} a_i a_j \\mathcal N(m_i - m_j; 0, C_i + C_j)
            + \\sum_{kl} b_k b_l \\mathcal N(n_k - n_l; 0, D_k + D_l)
            - 2 \\sum_{ik} a_i b_k \\mathcal N(m_i - n_k; 0, C_i + D_k)

    (the closed form of Shumailov et al. 2024's GMM notebook; reference notes §1). Batched over
    leading axes; the numbers of components may differ. Clipped at 0 (rounding).
    """
    w1, m1, c1 = (jnp.asarray(a) for a in (weights1, means1, covs1))
    w2, m2, c2 = (jnp.asarray(a) for a in (weights2, means2, covs2))
    value = (_cross_term(w1, m1, c1, w1, m1, c1) + _cross_term(w2, m2, c2, w2, m2, c2)
             - 2.0 * _cross_term(w1, m1, c1, w2, m2, c2))
    return jnp.clip(value, 0.0, None)


def mixture_l2(weights1, means1, covs1, weights2, means2, covs2):
    """L2 distance (‖p − q‖₂, the square root of :func:`mixture_l2_squared`)."""
    return jnp.sqrt(mixture_l2_squared(weights1, means1, covs1, weights2, means2, covs2))


def mixture_logpdf(x, weights, means, covs):
    """log Σ_j w_j N(x; μ_j, Σ_j) for points ``x`` (..., d) and one mixture (m,), (m, d), …."""
    x = jnp.asarray(x)
    weights, means, covs = (jnp.asarray(a) for a in (weights, means, covs))
    comp = _log_normal(x[..., None, :] - means, covs)  # (..., m)
    return jax.scipy.special.logsumexp(comp + jnp.log(weights), axis=-1)


def mixture_sample(key, weights, means, covs, size: int):
    """``size`` draws from one mixture: a categorical component c, then μ_c + L_c z, L L^T = Σ."""
    weights, means, covs = (jnp.asarray(a) for a in (weights, means, covs))
    k_c, k_z = jax.random.split(key)
    comp = jax.random.categorical(k_c, jnp.log(weights), shape=(size,))
    chol = linalg.cholesky(covs)
    z = jax.random.normal(k_z, (size, means.shape[-1]), means.dtype)
    return means[comp] + jnp.einsum("sij,sj->si", chol[comp], z)


def mixture_moments(weights, means, covs):
    """Mean Σ w_j μ_j and covariance Σ w_j (Σ_j + μ_j μ_jᵀ) − μμᵀ of a mixture (batched)."""
    w, mu, cv = (jnp.asarray(a) for a in (weights, means, covs))
    mean = jnp.einsum("...j,...jd->...d", w, mu)
    dev = mu - mean[..., None, :]
    cov = jnp.einsum("...j,...jab->...ab", w, cv + dev[..., :, None] * dev[..., None, :])
    return mean, 0.5 * (cov + jnp.swapaxes(cov, -1, -2))


def mixture_kl_mc(key, p, q, size: int = 100_000) -> tuple[float, float]:
    """KL(p ‖ q) = E_p[log p(X) − log q(X)] by Monte Carlo: (estimate, standard error).

    ``p`` and ``q`` are ``(weights, means, covs)`` triples of one mixture each; the standard
    error is the sample standard deviation of the log-ratio over √size.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}")
    x = mixture_sample(key, *p, size)
    ratio = np.asarray(mixture_logpdf(x, *p) - mixture_logpdf(x, *q), dtype=np.float64)
    return float(ratio.mean()), float(ratio.std(ddof=1) / math.sqrt(size))


def mixture_w2_squared(weights1, means1, covs1, weights2, means2, covs2) -> float:
    """Mixture-Wasserstein MW₂² between two mixtures (one pair, numpy/scipy, not traceable).

    .. math::
        MW_2^2(p, q) = \\min_{\\pi \\in \\Pi(a, b)} \\sum_{ik} \\pi_{ik}
            W_2^2\\big(N(m_i, C_i), N(n_k, D_k)\\big)

    (Delon & Desolneux 2020, Def. 4 / eq. (4.1)), solved as a linear program
    (:func:`scipy.optimize.linprog`, HiGHS). An upper bound on W₂²(p, q).
    """
    a = np.asarray(weights1, np.float64)
    b = np.asarray(weights2, np.float64)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("mixture_w2_squared takes one pair of mixtures (weights of shape (m,))")
    m1, c1 = jnp.asarray(means1, jnp.float64), jnp.asarray(covs1, jnp.float64)
    m2, c2 = jnp.asarray(means2, jnp.float64), jnp.asarray(covs2, jnp.float64)
    cost = np.asarray(gaussian_w2_squared(m1[:, None], c1[:, None], m2[None], c2[None]))
    a, b = a / a.sum(), b / b.sum()
    k, l_ = cost.shape
    if k == 1 or l_ == 1:
        return float(np.sum(np.outer(a, b) * cost))
    a_eq = np.zeros((k + l_, k * l_))
    for i in range(k):
        a_eq[i, i * l_:(i + 1) * l_] = 1.0
    for j in range(l_):
        a_eq[k + j, j::l_] = 1.0
    res = optimize.linprog(cost.ravel(), A_eq=a_eq, b_eq=np.concatenate([a, b]),
                           bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - a transport LP with equal masses is feasible
        raise RuntimeError(f"mixture_w2_squared: linear program failed ({res.message})")
    return float(max(res.fun, 0.0))


_PERMS: dict[int, np.ndarray] = {}


def _permutations(m: int) -> np.ndarray:
    if m not in _PERMS:
        _PERMS[m] = np.array(list(itertools.permutations(range(m))), dtype=np.int32)
    return _PERMS[m]


def match_components(means, ref_means) -> np.ndarray:
    """The permutation π (an index array, batched) minimising Σ_j ‖μ_π(j) − μ^ref_j‖².

    ``means`` ``(..., m, d)``, ``ref_means`` ``(m, d)`` or broadcastable. Exhaustive over the
    m! permutations for m ≤ 6 (vectorised); the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) per item for m > 6. The fit's component
    π(j) is matched to the reference's component j; ``permute_components`` applies it.
    """
    mu = np.asarray(means, np.float64)
    ref = np.broadcast_to(np.asarray(ref_means, np.float64), mu.shape)
    m = mu.shape[-2]
    cost = np.sum((mu[..., None, :, :] - ref[..., :, None, :]) ** 2, axis=-1)  # (..., j, i)
    if m <= 6:
        perms = _permutations(m)  # (P, m)
        rows = np.broadcast_to(np.arange(m), perms.shape)
        total = cost[..., rows, perms].sum(-1)  # (..., P): Σ_j cost[j, π(j)]
        return perms[np.argmin(total, axis=-1)]
    flat = cost.reshape((-1, m, m))
    out = np.empty((flat.shape[0], m), np.int32)
    for k, c in enumerate(flat):
        rows, cols = optimize.linear_sum_assignment(c)
        out[k, rows] = cols
    return out.reshape(mu.shape[:-2] + (m,))


def permute_components(perm, *arrays):
    """Reorder the component axis (the first after the batch axes of ``perm``) of each array."""
    perm = np.asarray(perm)
    out = []
    for a in arrays:
        a = np.asarray(a)
        extra = a.ndim - perm.ndim
        idx = perm.reshape(perm.shape + (1,) * extra)
        out.append(np.take_along_axis(a, idx, axis=perm.ndim - 1))
    return tuple(out)


def gaussian_log_mgf(reward, mean, cov):
    """log Z = log E_{N(μ, Σ)}[e^{r(X)}] for a linear or quadratic reward (batched).

    Linear r = aᵀx + b: log Z = aᵀμ + b + ½ aᵀΣa. Quadratic r = −½(x − c)ᵀA(x − c):
    log Z = −½ log det(I + ΣA) − ½ (μ − c)ᵀA(I + ΣA)⁻¹(μ − c) (ferbach2024.md §5.2).
    """
    reward = as_reward(reward, int(np.shape(mean)[-1]))
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    params = reward.params(mean.dtype)
    if reward.kind == "linear":
        a, b = params
        return mean @ a + b + 0.5 * jnp.einsum("i,...ij,j->...", a, cov, a)
    if reward.kind == "quadratic":
        c, a = params
        eye = jnp.eye(cov.shape[-1], dtype=cov.dtype)
        m = eye + cov @ a
        diff = mean - c
        solved = linalg.solve(m, diff[..., None])[..., 0]
        logdet = linalg.slogdet(m)[1]
        return -0.5 * logdet - 0.5 * jnp.einsum("...i,ij,...j->...", diff, a, solved)
    raise ValueError(f"reward must be linear or quadratic for a closed-form tilt, "
                     f"got {reward.kind!r}")


def mixture_tilt(reward, weights, means, covs):
    """K = ∞ curation of a mixture: p e^r / E_p[e^r] (Ferbach et al. 2024, Lemma 2.1, K → ∞).

    Component-wise (ferbach2024.md §5.3): w_j' ∝ w_j Z_j, (μ_j', Σ_j') = tilt of N(μ_j, Σ_j)
    (:func:`theory.rewards.reward_tilt`), Z_j = E_{N(μ_j, Σ_j)}[e^r]. Linear and quadratic
    rewards. Returns (weights', means', covs').
    """
    weights, means, covs = (jnp.asarray(a) for a in (weights, means, covs))
    reward = as_reward(reward, int(means.shape[-1]))
    logz = gaussian_log_mgf(reward, means, covs)
    logw = jnp.log(weights) + logz
    new_w = jax.nn.softmax(logw, axis=-1)
    new_mu, new_cov = reward_tilt(reward.kind, reward.params(means.dtype), means, covs)
    return new_w, new_mu, new_cov


def replicator_weights(weights0, log_z, t):
    """Weights-only K = ∞ dynamics with fixed components: π_t(j) ∝ π_0(j) Z_j^t.

    The discrete replicator of ferbach2024.md §5.3 (exact for a reward constant on each
    component, and the K = ∞ tilt's weights when the components are not moved). ``t`` may be
    an array of generations; returns ``(len(t), m)`` (or ``(m,)`` for a scalar t).
    """
    w0 = jnp.asarray(weights0)
    lz = jnp.asarray(log_z)
    t_arr = jnp.asarray(t, w0.dtype)
    logits = jnp.log(w0) + t_arr[..., None] * lz
    return jax.nn.softmax(logits, axis=-1)


def suresh_gmm_collapse_bound(k, n: int, sigma0: float, eps: float):
    """Suresh et al. 2024, Theorem 4: Pr(Σ_k > ε) ≤ (σ₀/ε) e^{−k/(4n)} for the symmetric
    two-component mixture ½N(−μ, σ²) + ½N(μ, σ²) refitted by (approximate) joint maximum
    likelihood on n samples a generation (reference notes §8a, from the authors' code).

    Raises ``ValueError`` outside the theorem's assumptions (n ≥ 1, σ₀ > 0, ε > 0, k ≥ 0).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not sigma0 > 0 or not eps > 0:
        raise ValueError(f"sigma0 and eps must be > 0, got sigma0={sigma0}, eps={eps}")
    k = np.asarray(k, np.float64)
    if np.any(k < 0):
        raise ValueError("k (the generation) must be >= 0")
    return (sigma0 / eps) * np.exp(-k / (4.0 * n))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
