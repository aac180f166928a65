"""Exact K-choice curation on discrete laws (Ferbach, Bertrand, Bose & Gidel, NeurIPS 2024).

A user shown K i.i.d. draws x_1..x_K of the model p keeps one, x̂, with the Luce (K-way
Bradley–Terry) probabilities P(x̂ = x_k) = e^{r(x_k)} / Σ_j e^{r(x_j)}. The kept point has law
p·H^K_p (Lemma 2.1), with the curation operator

    H^K_p(x) = E_{x_1..x_{K−1} ~ p}[ K e^{r(x)} / (e^{r(x)} + Σ_i e^{r(x_i)}) ],   0 < H < K,

and H^K_p → e^r / E_p[e^r] as K → ∞ (the exponential tilt). Retraining with infinite capacity
gives the updates (paper's Eq. 6 and Eq. 8, λ = ``synthetic_ratio``)

    p_{t+1} = p_t H^K_{p_t}                                             (pure curated loop)
    p_{t+1} = p_data/(1+λ) + λ/(1+λ) · p_t H^K_{p_t}                  (mixed with real data).

Everything here is exact on a finite support (atoms i with probabilities p_i and rewards
r_i) and computed in log space, so rewards of size 10³ neither overflow nor underflow:

* ``method="enumerate"``: the sum over the compositions c of K − 1 into n parts (reference
  notes §1.6(e)), H(j) = Σ_c Mult(c; K−1, p) K e^{r_j}/(e^{r_j} + Σ_i c_i e^{r_i}).
* ``method="laplace"``: the Laplace-integral form (notes §1.6(a)),
  H(j) = K e^{r_j} ∫_0^∞ exp(−τ e^{r_j}) φ(τ)^{K−1} dτ with φ(τ) = E_p[exp(−τ e^{r})], evaluated
  by the trapezoidal rule in v = log τ. See :func:`laplace_error_bound` for the derived error:
  relative error below 5·10⁻¹⁷ from the quadrature itself, i.e. float64 rounding dominates.

Rewards enter only through their values on the atoms; H depends on x only through r(x), so the
Laplace route works on the distinct reward levels (§1.6(f), :func:`reward_law`).

Lemma 2.2 and Theorem 2.3 quantities are homogeneous in e^r; they are returned in units of
e^{r_*} (i.e. computed for y = e^{r − r_*} ∈ (0, 1], r_* the top reward on the support), which
loses nothing and cannot overflow.

Papers: Ferbach et al. 2024 (arXiv 2407.09499), Lemmas 2.1, 2.2, Theorems 2.1, 2.3, 2.4;
reference notes ``references/ferbach2024.md`` (tags [P], [P?], [D]).
"""

from __future__ import annotations

import itertools
import math
import numbers
from typing import NamedTuple

import numpy as np
from scipy import optimize
from scipy import special as sps

__all__ = [
    "ExpRewardMoments",
    "check_curation_k",
    "curated_law",
    "curation_operator",
    "curation_step",
    "curation_trajectory",
    "exp_reward_moments",
    "expected_reward",
    "kl_divergence",
    "laplace_error_bound",
    "large_k_coefficient",
    "lemma22_increment",
    "lemma22_slack",
    "lemma22_variance_budget",
    "lift_reward_law",
    "log_curation_operator",
    "mixed_functional",
    "mixed_tilt_fixed_point",
    "reverse_kl_bound",
    "reward_law",
    "reward_law_trajectory",
    "rlhf_objective",
    "thm23_reward_gain_bound",
    "thm24_density_ratio_bound",
    "thm24_kl_bound",
    "thm24_reward_plateau_bound",
    "tilt_exp_reward_increment",
    "tilt_power",
    "top_level",
    "top_level_contraction",
    "top_level_kl",
    "top_level_law",
]

#: trapezoid step in v = log τ (see :func:`laplace_error_bound`)
LAPLACE_STEP = 0.125
#: truncation of the Laplace integral: relative tail mass below e^{−LAPLACE_TAIL} at each end
LAPLACE_TAIL = 41.5
#: largest number of compositions the enumeration route accepts
MAX_COMPOSITIONS = 400_000
_SUM_TOL = 1e-9
_CHUNK = 2_000_000  # array elements per block in the quadrature


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def check_curation_k(curation_k) -> float | int:
    """``curation_k`` as an ``int ≥ 1`` or ``math.inf``; TypeError/ValueError otherwise."""
    if isinstance(curation_k, bool) or not isinstance(curation_k, numbers.Real):
        raise TypeError(f"curation_k must be an integer >= 1 or inf, got {curation_k!r}")
    if isinstance(curation_k, numbers.Integral):
        k = int(curation_k)
    else:
        x = float(curation_k)
        if x == math.inf:
            return math.inf
        if not (math.isfinite(x) and x.is_integer()):
            raise ValueError(f"curation_k must be an integer >= 1 or inf, got {curation_k!r}")
        k = int(x)
    if k < 1:
        raise ValueError(f"curation_k must be an integer >= 1 or inf, got {k}")
    return k


def _check_law(p, name: str = "p") -> np.ndarray:
    try:
        a = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric probability vector: {exc}") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D probability vector, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    if np.any(a < 0):
        raise ValueError(f"{name} must be non-negative (smallest entry {a.min():.3g})")
    total = float(a.sum())
    if not abs(total - 1.0) <= _SUM_TOL:
        raise ValueError(f"{name} must sum to 1 (within {_SUM_TOL:g}), got sum {total!r}")
    return a / total


def _check_reward(reward, n: int, name: str = "reward") -> np.ndarray:
    try:
        r = np.asarray(reward, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric vector of reward values: {exc}") from None
    if r.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one value per atom), got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError(f"{name} values must be finite")
    return r


def _check_ratio(synthetic_ratio) -> float:
    if isinstance(synthetic_ratio, bool) or not isinstance(synthetic_ratio, numbers.Real):
        raise TypeError(f"synthetic_ratio must be a real number in [0, inf], got "
                        f"{synthetic_ratio!r}")
    lam = float(synthetic_ratio)
    if math.isnan(lam) or lam < 0:
        raise ValueError(f"synthetic_ratio must be in [0, inf], got {synthetic_ratio!r}")
    return lam


def _law_reward(p, reward):
    p = _check_law(p)
    return p, _check_reward(reward, p.size)


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def _lse(a, axis=None, b=None):
    """log Σ b·e^a, −inf for an empty or all-zero sum (no warning)."""
    a = np.asarray(a, dtype=np.float64)
    if b is not None:
        a = a + _log(np.asarray(b, dtype=np.float64))
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else float(out.reshape(()))


# --------------------------------------------------------------------------------------------
# reward law (notes §1.6(f))
# --------------------------------------------------------------------------------------------


def reward_law(p, reward) -> tuple[np.ndarray, np.ndarray]:
    """The law ν = Law_p(r(X)) of the reward: ``(levels, masses)`` with the distinct reward
    values in increasing order and their probabilities (zero-mass levels kept, so that every
    atom's level is listed). H^K_p depends on x only through r(x) (notes §1.6(d)), so the whole
    nonparametric dynamics is that of ν_t (§1.6(f))."""
    p, r = _law_reward(p, reward)
    levels, inverse = np.unique(r, return_inverse=True)
    masses = np.bincount(inverse, weights=p, minlength=levels.size)
    return levels, masses


# --------------------------------------------------------------------------------------------
# the curation operator
# --------------------------------------------------------------------------------------------


def _compositions(total: int, parts: int) -> np.ndarray:
    """All vectors of ``parts`` non-negative integers summing to ``total`` (stars and bars)."""
    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    count = math.comb(total + parts - 1, parts - 1)
    if count > MAX_COMPOSITIONS:
        raise ValueError(
            f"enumeration needs {count} compositions of K-1 = {total} into {parts} atoms "
            f"(limit {MAX_COMPOSITIONS}); use method='laplace'")
    bars = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(total + parts - 1),
                                                             parts - 1)),
        dtype=np.int64, count=count * (parts - 1)).reshape(count, parts - 1)
    edges = np.concatenate([np.full((count, 1), -1), bars,
                            np.full((count, 1), total + parts - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def _log_h_enumerate(p: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """log H on every atom by the composition sum of notes §1.6(e) (no grouping of levels)."""
    c = _compositions(k - 1, p.size)  # (m, n)
    log_w = (sps.gammaln(k) - sps.gammaln(c + 1.0).sum(axis=1)
             + sps.xlogy(c, p[None, :]).sum(axis=1))  # log Mult(c; K−1, p)
    with np.errstate(divide="ignore"):
        log_c = np.log(c.astype(np.float64))
    log_rest = _lse(r[None, :] + log_c, axis=1)  # log Σ_i c_i e^{r_i}, −inf when K = 1
    log_share = r[None, :] - np.logaddexp(r[None, :], log_rest[:, None])  # (m, n)
    return math.log(k) + _lse(log_w[:, None] + log_share, axis=0)


def laplace_error_bound(step: float = LAPLACE_STEP, tail: float = LAPLACE_TAIL) -> float:
    """Derived bound on the relative error of the Laplace route (before float64 rounding).

    In v = log τ the integrand f_j(v) = e^{v+r_j} exp(−e^{v+r_j}) φ(e^v)^{K−1} is analytic in
    the strip |Im v| < π/2 and decays at both ends. On the lines Im v = ±a (a = π/4),
    |f_j| ≤ e^{x+r_j} exp(−cos a·e^{x+r_j}) φ(cos a·e^x)^{K−1} because |φ(τe^{ia})| ≤ φ(τ cos a),
    whose integral is exactly I_j / cos a. The trapezoidal rule with step h on ℝ then errs by at
    most 2·(2 I_j/cos a)/(e^{2πa/h} − 1) (Trefethen & Weideman 2014, SIAM Review, Thm 5.1).
    The grid is truncated where each tail is below e^{−tail} relative to I_j: Jensen gives
    φ(τ) ≥ exp(−τ E_p e^r), hence I_j ≥ e^{r_j}/(e^{r_j} + (K−1)E_p e^r), and the cut-offs of
    :func:`log_curation_operator` are placed from this lower bound. Total relative error ≤
    4√2/(e^{π²/(2h)} − 1) + 2e^{−tail}: 4.1·10⁻¹⁷ at the defaults.
    """
    a = math.pi / 4
    return 4.0 / math.cos(a) / math.expm1(2 * math.pi * a / step) + 2.0 * math.exp(-tail)


def _log_h_laplace(levels: np.ndarray, masses: np.ndarray, k: int) -> np.ndarray:
    """log H at each reward level by the Laplace form (trapezoid in v = log τ)."""
    support = masses > 0
    shift = levels[support].max()
    r = levels - shift  # H is invariant under r → r + c
    log_m = _log(masses)
    log_mean_exp = _lse(r[support], b=masses[support])  # log E_p e^{r}
    log_scale = np.logaddexp(r, math.log(k - 1) + log_mean_exp)  # log(e^{r_j} + (K−1)E e^r)
    v_lo = float(np.min(-log_scale)) - LAPLACE_TAIL
    v_hi = float(np.max(np.log(LAPLACE_TAIL + log_scale - r) - r))
    nodes = v_lo + LAPLACE_STEP * np.arange(int(math.ceil((v_hi - v_lo) / LAPLACE_STEP)) + 1)
    # log φ(e^v) = log Σ_i m_i exp(−e^{v + r_i}), by blocks of nodes
    block = max(1, _CHUNK // max(1, r.size))
    log_phi = np.empty(nodes.size)
    for s in range(0, nodes.size, block):
        v = nodes[s:s + block, None]
        with np.errstate(over="ignore"):
            x = np.exp(v + r[None, :])
        lse = _lse(log_m[None, :] - x, axis=1)
        # near φ = 1, log1p(−(1 − φ)) with 1 − φ = Σ m_i(1 − e^{−x_i}) keeps full relative
        # precision, which matters because it is multiplied by K − 1
        one_minus = -np.expm1(-x) @ masses
        log_phi[s:s + block] = np.where(one_minus < 0.5, np.log1p(-np.minimum(one_minus, 0.5)),
                                        lse)
    out = np.empty(r.size)
    block = max(1, _CHUNK // max(1, nodes.size))
    for s in range(0, r.size, block):
        rj = r[None, s:s + block]
        with np.errstate(over="ignore"):
            log_f = (nodes[:, None] + rj - np.exp(nodes[:, None] + rj)
                     + (k - 1) * log_phi[:, None])
        out[s:s + block] = _lse(log_f, axis=0)
    return math.log(k) + math.log(LAPLACE_STEP) + out


def log_curation_operator(p, reward, curation_k, *, method: str = "auto") -> np.ndarray:
    """log H^K_p on each atom (Ferbach et al. 2024, Lemma 2.1; notes §1.3, §1.6).

    Args:
        p: probabilities of the atoms, shape (n,), non-negative, summing to 1 (within 1e-9;
            renormalised).
        reward: the reward values r(x_i), shape (n,), finite.
        curation_k: K, an integer ≥ 1 or ``math.inf`` (the tilt log H = r − log E_p[e^r]).
        method: ``"auto"`` (K = 1: 0; K = ∞: the tilt; enumeration when the number of
            compositions of K − 1 into the distinct reward levels is at most 2000, the Laplace
            form otherwise), ``"enumerate"`` (composition sum over the atoms themselves, notes
            §1.6(e)) or ``"laplace"`` (Laplace integral over the reward levels, §1.6(a)).

    Returns:
        log H^K_p(x_i), shape (n,); H is defined for atoms of zero mass too (it depends on the
        atom through r only).
    """
    p, r = _law_reward(p, reward)
    k = check_curation_k(curation_k)
    if method not in ("auto", "enumerate", "laplace"):
        raise ValueError(f"method must be 'auto', 'enumerate' or 'laplace', got {method!r}")
    if k == math.inf:
        if method != "auto":
            raise ValueError("curation_k=inf is the exact tilt; use method='auto'")
        return r - _lse(r, b=p)
    if k == 1:
        return np.zeros_like(r)
    if method == "enumerate":
        return _log_h_enumerate(p, r, k)
    levels, inverse = np.unique(r, return_inverse=True)
    masses = np.bincount(inverse, weights=p, minlength=levels.size)
    if method == "auto" and math.comb(k - 1 + levels.size - 1, levels.size - 1) <= 2000:
        return _log_h_enumerate(masses, levels, k)[inverse]
    return _log_h_laplace(levels, masses, k)[inverse]


def curation_operator(p, reward, curation_k, *, method: str = "auto") -> np.ndarray:
    """H^K_p on each atom, ``exp`` of :func:`log_curation_operator` (same arguments).

    Properties (notes §1.6(d), tested): E_p[H] = 1; 0 < H < K; H non-decreasing in r and
    strictly increasing for K ≥ 2; H ≥ 1 on the top level of supp p; H unchanged by r → r + c;
    K = 1 gives H = 1; K = 2 gives H(x) = 2 E_{y~p}[σ(r(x) − r(y))].
    """
    return np.exp(log_curation_operator(p, reward, curation_k, method=method))


def large_k_coefficient(p, reward) -> np.ndarray:
    """lim_{K→∞} K·(H^K_p − e^r/E_p[e^r]) on each atom (derived, delta method):

        (y/μ)·(σ²/μ² + 1 − y/μ),   y = e^{r(x)}, μ = E_p[e^r], σ² = Var_p[e^r].

    From H^K(x) = K y E[1/(y + S_{K−1})], S_{K−1} a sum of K − 1 i.i.d. copies of e^{r(X)}:
    expanding 1/(Kμ + D), D = (y − μ) + (S − (K−1)μ), to second order gives
    H^K = (y/μ)[1 − (y − μ)/(Kμ) + σ²/(Kμ²)] + O(K⁻²) on a finite support. So the K → ∞ limit
    of Lemma 2.1 is approached at rate 1/K."""
    p, r = _law_reward(p, reward)
    mom = exp_reward_moments(p, r)
    ratio = np.exp(r - mom.r_star) / mom.mean
    return ratio * (mom.var / mom.mean**2 + 1.0 - ratio)


def curated_law(p, reward, curation_k, *, method: str = "auto") -> np.ndarray:
    """Law of the kept sample, p·H^K_p (Lemma 2.1), renormalised against rounding."""
    p, r = _law_reward(p, reward)
    q = p * np.exp(log_curation_operator(p, r, curation_k, method=method))
    return q / q.sum()


# --------------------------------------------------------------------------------------------
# infinite-capacity updates (paper's Eq. 6 and Eq. 8)
# --------------------------------------------------------------------------------------------


def curation_step(p, reward, curation_k, *, synthetic_ratio=math.inf, p_data=None,
                  method: str = "auto") -> np.ndarray:
    """One infinite-capacity retraining step (Ferbach et al. 2024, Eq. 6 / Eq. 8).

    p_{t+1} = p_data/(1+λ) + λ/(1+λ) · p_t H^K_{p_t}; ``synthetic_ratio`` λ = inf (default) is
    the pure curated loop p_{t+1} = p_t H^K_{p_t} and needs no ``p_data``. The result is
    renormalised (rounding errors would otherwise compound multiplicatively, notes §1.6(e)).
    """
    lam = _check_ratio(synthetic_ratio)
    q = curated_law(p, reward, curation_k, method=method)
    if lam == math.inf:
        return q
    if p_data is None:
        raise ValueError("p_data is required when synthetic_ratio is finite (mixed loop)")
    pd = _check_law(p_data, "p_data")
    if pd.size != q.size:
        raise ValueError(f"p_data must have shape ({q.size},), got ({pd.size},)")
    out = (pd + lam * q) / (1.0 + lam)
    return out / out.sum()


def curation_trajectory(p0, reward, curation_k, generations: int, *,
                        synthetic_ratio=math.inf, p_data=None,
                        method: str = "auto") -> np.ndarray:
    """p_0, p_1, …, p_T of the infinite-capacity loop (:func:`curation_step` iterated),
    shape (T+1, n). A sequential recursion: one exact operator evaluation per generation.
    K = ∞ with λ = ∞ uses the closed form p_t = p_0 e^{t r}/E_{p_0}[e^{t r}] (:func:`tilt_power`).
    """
    p0, r = _law_reward(p0, reward)
    k = check_curation_k(curation_k)
    lam = _check_ratio(synthetic_ratio)
    if isinstance(generations, bool) or not isinstance(generations, numbers.Integral) \
            or generations < 0:
        raise ValueError(f"generations must be an integer >= 0, got {generations!r}")
    if k == math.inf and lam == math.inf:
        return tilt_power(p0, r, np.arange(generations + 1))
    out = np.empty((generations + 1, p0.size))
    out[0] = p0
    for t in range(generations):
        out[t + 1] = curation_step(out[t], r, k, synthetic_ratio=lam, p_data=p_data,
                                   method=method)
    return out


def reward_law_trajectory(levels, masses, curation_k, generations: int, *,
                          synthetic_ratio=math.inf, data_masses=None) -> np.ndarray:
    """The reduced 1-D dynamics of ν_t = Law_{p_t}(r) (notes §1.6(f)):
    ν_{t+1} = ν_data/(1+λ) + λ/(1+λ) ν_t h_t with h_t = H^K_{ν_t} on the levels. Shape (T+1, L).
    For the mixed loop this is exact when p_0 = p_data (then p_t = p_data·g_t(r))."""
    levels = np.asarray(levels, dtype=np.float64)
    return curation_trajectory(masses, levels, curation_k, generations,
                               synthetic_ratio=synthetic_ratio, p_data=data_masses)


def lift_reward_law(p0, reward, masses_t) -> np.ndarray:
    """p_t(x) = p_0(x) ν_t(r(x))/ν_0(r(x)): the law on the atoms from the reward law
    (``masses_t`` over the levels of :func:`reward_law` of ``(p0, reward)``, shape (..., L))."""
    p0, r = _law_reward(p0, reward)
    levels, inverse = np.unique(r, return_inverse=True)
    nu0 = np.bincount(inverse, weights=p0, minlength=levels.size)
    masses_t = np.asarray(masses_t, dtype=np.float64)
    if masses_t.shape[-1] != levels.size:
        raise ValueError(f"masses_t must have {levels.size} levels in its last axis, got "
                         f"{masses_t.shape[-1]}")
    ratio = np.divide(masses_t, nu0, out=np.zeros_like(masses_t), where=nu0 > 0)
    return p0 * ratio[..., inverse]


# --------------------------------------------------------------------------------------------
# moments, Lemma 2.2
# --------------------------------------------------------------------------------------------


class ExpRewardMoments(NamedTuple):
    """Moments of y = e^{r − r_*} under p, r_* = max of r on supp p."""

    r_star: float  # top reward on the support
    mean: float  # E_p[e^{r − r_*}] ∈ (0, 1]
    var: float  # Var_p[e^{r − r_*}]


def exp_reward_moments(p, reward) -> ExpRewardMoments:
    """(r_*, E_p[e^{r−r_*}], Var_p[e^{r−r_*}]); the variance as E[(y − Ey)²] (no cancellation)."""
    p, r = _law_reward(p, reward)
    r_star = float(r[p > 0].max())
    y = np.exp(r - r_star)
    mean = float(p @ y)
    return ExpRewardMoments(r_star, mean, float(p @ (y - mean) ** 2))


def expected_reward(p, reward) -> float:
    """E_p[r]."""
    p, r = _law_reward(p, reward)
    return float(p @ r)


def lemma22_increment(p, reward, curation_k) -> tuple[float, float]:
    """Lemma 2.2 (Ferbach et al. 2024) in units of e^{r_*}: ``(increment, lower_bound)`` with
    increment = E_{pH}[e^r] − E_p[e^r] and lower_bound = ((K−1)/K)·Var_p[e^r]/e^{r_*}
    (K = ∞: Var_p[e^r]/e^{r_*}). The lemma says increment ≥ lower_bound."""
    p, r = _law_reward(p, reward)
    k = check_curation_k(curation_k)
    mom = exp_reward_moments(p, r)
    y = np.exp(r - mom.r_star)
    q = curated_law(p, r, k)
    factor = 1.0 if k == math.inf else (k - 1) / k
    return float(q @ y - mom.mean), factor * mom.var


def lemma22_slack(p, reward, curation_k) -> float:
    """E_{pH}[e^r] − E_p[e^r] − ((K−1)/K)Var_p[e^r]/e^{r_*}, in units of e^{r_*}; ≥ 0 by Lemma 2.2
    (the proof identity of notes §2: the slack is E[Σ_k(y_k − ȳ)²(1/S − 1/(K e^{r_*}))] ≥ 0)."""
    inc, bound = lemma22_increment(p, reward, curation_k)
    return inc - bound


def tilt_exp_reward_increment(p, reward) -> float:
    """K = ∞ exact increment E_{p_{t+1}}[e^r] − E_{p_t}[e^r] = Var_p[e^r]/E_p[e^r] (notes §2,
    [D]), in units of e^{r_*}."""
    mom = exp_reward_moments(p, reward)
    return mom.var / mom.mean


def lemma22_variance_budget(p0, reward, curation_k) -> float:
    """Telescoped Lemma 2.2 (notes §2, [D]): Σ_{t≥0} Var_{p_t}[e^r] ≤ (K/(K−1)) e^{r_*}
    (e^{r_*} − E_{p_0}[e^r]); returned in units of e^{2 r_*}. Needs K ≥ 2."""
    k = check_curation_k(curation_k)
    if k == 1:
        raise ValueError("Lemma 2.2 needs curation_k >= 2 (K = 1 leaves p unchanged)")
    mom = exp_reward_moments(p0, reward)
    factor = 1.0 if k == math.inf else k / (k - 1)
    return factor * (1.0 - mom.mean)


# --------------------------------------------------------------------------------------------
# Theorem 2.1
# --------------------------------------------------------------------------------------------


def top_level(p0, reward) -> tuple[float, np.ndarray]:
    """(r_*, mask of A* = {r = r_*}) with r_* = max of r on supp p_0: the top level
    *reachable from initialisation* (Assumption 2.1 read as ess sup_{p_0} r)."""
    p0, r = _law_reward(p0, reward)
    r_star = float(r[p0 > 0].max())
    return r_star, r == r_star


def top_level_law(p0, reward) -> np.ndarray:
    """p_* = p_0(· | A*) (Theorem 2.1's limit)."""
    p0, r = _law_reward(p0, reward)
    _, mask = top_level(p0, r)
    q = np.where(mask, p0, 0.0)
    return q / q.sum()


def kl_divergence(p, q) -> float:
    """KL(p‖q) = Σ p log(p/q) for discrete laws; +inf when p puts mass where q has none."""
    p = _check_law(p, "p")
    q = _check_law(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    if np.any((p > 0) & (q == 0)):
        return math.inf
    mask = p > 0
    return float(np.sum(p[mask] * (np.log(p[mask]) - np.log(q[mask]))))


def top_level_kl(p_t, p0, reward) -> float:
    """KL(p_*‖p_t) = −log P_t(A*) (Theorem 2.1's identity, notes §2 [D]; exact when
    p_t(·|A*) = p_0(·|A*), which the loop preserves)."""
    p_t = _check_law(p_t, "p_t")
    _, mask = top_level(p0, reward)
    if p_t.shape != mask.shape:
        raise ValueError(f"p_t must have shape {mask.shape}, got {p_t.shape}")
    outside = float(p_t[~mask].sum())
    if outside < 0.5:  # −log(1 − ε) = −log1p(−ε): full relative precision as ε → 0
        return -math.log1p(-outside)
    return -math.log(float(p_t[mask].sum()))


def top_level_contraction(curation_k, gap) -> float:
    """Late-time factor of P_t(A*^c) per generation (notes §2, [D]): K/(1 + (K−1)e^Δ), Δ the
    gap between the top and the second reward level; e^{−Δ} for K = ∞."""
    k = check_curation_k(curation_k)
    if isinstance(gap, bool) or not isinstance(gap, numbers.Real) or not gap > 0 \
            or not math.isfinite(gap):
        raise ValueError(f"gap must be a finite number > 0, got {gap!r}")
    if k == math.inf:
        return math.exp(-gap)
    return k / (1.0 + (k - 1) * math.exp(gap))


# --------------------------------------------------------------------------------------------
# K = ∞: RLHF link (notes §3)
# --------------------------------------------------------------------------------------------


def tilt_power(p0, reward, t) -> np.ndarray:
    """p_0 e^{t r}/E_{p_0}[e^{t r}] (log space): t rounds of the K = ∞ pure loop, and the
    maximiser of E_p[r] − (1/t)KL(p‖p_0) (RLHF with β = 1/t). ``t`` a scalar or 1-D array
    (result shape (n,) or (len(t), n))."""
    p0, r = _law_reward(p0, reward)
    tt = np.asarray(t, dtype=np.float64)
    if tt.ndim > 1 or not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError(f"t must be a finite scalar or 1-D array >= 0, got {t!r}")
    logp = _log(p0)
    log_q = logp + np.multiply.outer(tt, r)
    log_q = np.where(p0 > 0, log_q, -np.inf)
    q = np.exp(log_q - _lse(log_q, axis=-1)[..., None])
    return q


def rlhf_objective(p, p_ref, reward, beta) -> float:
    """E_p[r] − β KL(p‖p_ref), maximised by p_ref e^{r/β}/Z with value β log E_{p_ref}[e^{r/β}]
    (Gibbs variational principle, notes §3)."""
    p, r = _law_reward(p, reward)
    if not (isinstance(beta, numbers.Real) and beta > 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    return float(p @ r) - float(beta) * kl_divergence(p, p_ref)


def mixed_functional(p, p_data, reward, synthetic_ratio) -> float:
    """G(p) = E_{p_data}[log p] + λ log E_p[e^r] (notes §3, [D]): the K = ∞ mixed update is an
    MM step for G, so G(p_t) is non-decreasing. −inf when p misses mass of p_data."""
    p, r = _law_reward(p, reward)
    pd = _check_law(p_data, "p_data")
    lam = _check_ratio(synthetic_ratio)
    if lam == math.inf:
        raise ValueError("synthetic_ratio must be finite for the mixed functional")
    if np.any((pd > 0) & (p == 0)):
        return -math.inf
    mask = pd > 0
    return float(pd[mask] @ np.log(p[mask])) + lam * _lse(r, b=p)


def mixed_tilt_fixed_point(p_data, reward, synthetic_ratio) -> tuple[np.ndarray, float]:
    """Stationary law of the K = ∞ mixed loop (notes §3, [D]; follow-up paper's Prop. 3.8):

        p_∞ = p_data / (1 + λ − λ e^r / Z),   Z = E_{p_∞}[e^r],

    with Z the unique root of Σ p_data/(1 + λ − λe^r/Z) = 1 on Z > λe^{r_*}/(1+λ) (the sum
    decreases in Z from +∞ to 1/(1+λ)). Returns ``(p_∞, log Z)``."""
    pd, r = _law_reward(p_data, reward)
    lam = _check_ratio(synthetic_ratio)
    if lam == 0:
        return pd.copy(), _lse(r, b=pd)
    if lam == math.inf:
        raise ValueError("synthetic_ratio must be finite: the pure K = ∞ loop has no "
                         "stationary law other than p_0 restricted to the top level")
    sup = pd > 0
    r_star = float(r[sup].max())
    y = np.exp(r[sup] - r_star)
    w = pd[sup]
    lo = math.log(lam / (1.0 + lam))  # log(Z e^{−r_*}) must exceed this

    def excess(log_z):  # Σ w/(1+λ − λ y e^{−log z}) − 1, decreasing in log z
        return float(np.sum(w / (1.0 + lam - lam * y * math.exp(-log_z)))) - 1.0

    # the root lies above lo, where the top-level term blows up; at log z = 0 every term is
    # finite (y ≤ 1), and the excess tends to 1/(1+λ) − 1 < 0 as log z → ∞
    delta = 1e-3
    while excess(lo + delta) <= 0:
        delta *= 1e-3
        if lo + delta == lo:  # pragma: no cover - needs a top-level mass below ~1e-16
            raise ValueError("p_data puts too little mass on its top reward level to locate "
                             "the fixed point in float64")
    left = lo + delta
    right = 1.0
    while excess(right) > 0:
        right *= 2.0
    log_z = optimize.brentq(excess, left, right, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                            maxiter=500)
    out = pd / (1.0 + lam - lam * np.exp(r - r_star - log_z))
    out = np.where(sup, out, 0.0)
    return out / out.sum(), log_z + r_star


# --------------------------------------------------------------------------------------------
# Theorems 2.3 and 2.4 (mixed loop, p_0 = p_data)
# --------------------------------------------------------------------------------------------


def thm23_reward_gain_bound(p_data, reward, curation_k, synthetic_ratio, *,
                            constant: str = "paper") -> float:
    """Theorem 2.3's lower bound on E_{p_t}[e^r] − E_{p_data}[e^r] for t ≥ 1 (p_0 = p_data),
    in units of e^{r_*}:

        constant="paper":   λ/(1+λ)³ · (K−1) Var_{p_data}[e^r] / (K e^{r_*})   [P?] (secondary
                            source's constant)
        constant="derived": λ/(1+λ)² · (K−1) Var_{p_data}[e^r] / (K e^{r_*})   [D] (induction
                            with p_t ≥ p_data/(1+λ) and Lemma 2.2; stronger)

    K = ∞ uses (K−1)/K = 1."""
    k = check_curation_k(curation_k)
    lam = _check_ratio(synthetic_ratio)
    if constant not in ("paper", "derived"):
        raise ValueError(f"constant must be 'paper' or 'derived', got {constant!r}")
    if lam == math.inf:
        raise ValueError("Theorem 2.3 is about the mixed loop: synthetic_ratio must be finite")
    mom = exp_reward_moments(p_data, reward)
    power = 3 if constant == "paper" else 2
    factor = 1.0 if k == math.inf else (k - 1) / k
    return lam / (1.0 + lam) ** power * factor * mom.var


def _thm24_c(curation_k, synthetic_ratio) -> float:
    k = check_curation_k(curation_k)
    lam = _check_ratio(synthetic_ratio)
    if k == 1 or lam == 0:
        return 1.0
    if k == math.inf or lam == math.inf or not lam * (k - 1) < 1.0:
        raise ValueError(
            f"Theorem 2.4 assumes synthetic_ratio < 1/(curation_k - 1); got "
            f"synthetic_ratio={lam!r}, curation_k={k!r} (lambda (K-1) = {lam * (k - 1)!r})")
    return 1.0 / (1.0 - lam * (k - 1))


def thm24_density_ratio_bound(curation_k, synthetic_ratio) -> float:
    """sup_x p_t(x)/p_data(x) ≤ c = 1/(1 − λ(K−1)) for all t when p_0 = p_data (notes §2 [D]:
    c is the fixed point of c ↦ (1 + λKc)/(1+λ)). ValueError unless λ < 1/(K−1)."""
    return _thm24_c(curation_k, synthetic_ratio)


def thm24_kl_bound(curation_k, synthetic_ratio) -> float:
    """Theorem 2.4 (Ferbach et al. 2024, [P?]): KL(p_t‖p_data) ≤ −log(1 − λ(K−1)) for all t,
    when λ < 1/(K−1) and p_0 = p_data. ValueError outside the assumption."""
    return math.log(_thm24_c(curation_k, synthetic_ratio))


def reverse_kl_bound(synthetic_ratio) -> float:
    """KL(p_data‖p_t) ≤ log(1+λ) for t ≥ 1, any K and reward (p_t ≥ p_data/(1+λ); notes §2 [D])."""
    lam = _check_ratio(synthetic_ratio)
    if lam == math.inf:
        raise ValueError("the bound needs real data: synthetic_ratio must be finite")
    return math.log1p(lam)


def thm24_reward_plateau_bound(p_data, reward, curation_k, synthetic_ratio) -> float:
    """Donsker–Varadhan with Theorem 2.4 (notes §2 [D]): E_{p_t}[r] ≤ log E_{p_data}[e^r]
    − log(1 − λ(K−1)) for all t, when λ < 1/(K−1) and p_0 = p_data."""
    p, r = _law_reward(p_data, reward)
    return _lse(r, b=p) + thm24_kl_bound(curation_k, synthetic_ratio)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
