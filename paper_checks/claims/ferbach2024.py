"""Ferbach, Bertrand, Bose & Gidel 2024, "Self-Consuming Generative Models with Curated Data
Provably Optimize Human Preferences" (NeurIPS 2024, arXiv 2407.09499).

The curation operator H^K, Lemmas 2.1–2.2 and Theorems 2.1–2.4 are checked exactly on discrete
laws (enumeration and the Laplace-integral form, :mod:`theory.curation_discrete`), on
Gaussians and Gaussian mixtures in closed form (:mod:`theory.curation_gaussian`), and against
the sampling engine (K-choice selection by Gumbel-max, finite samples). The paper body was not
read directly (reference notes ``references/ferbach2024.md``, provenance section): statements
tagged [P?] there are checked in their derived form, and each claim says which.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, optimize, special, stats

from paper_checks.claim import Control, Measurement, claim
from paper_checks.claims._common import exact_check, ks_check, mean_check
from paper_checks.stats import mean_se
from theory import curation as cu

PAPER = "Ferbach, Bertrand, Bose & Gidel 2024, NeurIPS (arXiv 2407.09499)"
INF = math.inf


def _instances(seed: int, count: int, n_max: int = 6, scale: float = 3.0):
    """Random discrete (p, r) laws: n ∈ [2, n_max] atoms, Dirichlet(1) masses, N(0, σ²) rewards
    with σ ~ U(0.1, scale) (deterministic in the seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(2, n_max + 1))
        out.append((rng.dirichlet(np.ones(n)), rng.normal(size=n) * rng.uniform(0.1, scale)))
    return out


# ============================================================================ Lemma 2.1 (item 1)


@claim(
    id="ferbach2024.lemma2.1.routes",
    paper=PAPER,
    statement=(
        "Lemma 2.1: the kept sample of the K-choice Bradley–Terry curation has density p·H^K_p, "
        "H^K_p(x) = E[K e^{r(x)}/(e^{r(x)} + Σ_{i<K} e^{r(x_i)})]. Two exact routes agree: the "
        "composition sum (notes §1.6(e)) and the Laplace integral K∫e^{−y}φ_p(ye^{−r})^{K−1}dy "
        "(§1.6(a)); K = 2 is 2E_y[σ(r(x) − r(y))]."
    ),
    kind="equality",
    provenance="paper",
    method="40 random discrete laws (2–6 atoms, rewards up to ±10), K ∈ {1, 2, 3, 5}: largest "
    "relative difference between enumeration and Laplace quadrature (trapezoid in log τ, derived "
    "error ≤ 4·10⁻¹⁷), and K = 2 against the sigmoid form; tolerance 10⁻¹² (float64 rounding of "
    "≤ 10⁴ positive terms in log space).",
    source="arXiv 2407.09499 v1, Lemma 2.1 (first part: the density of the kept sample), as "
    "restated by secondary sources (references/ferbach2024.md §1.3, tag [P])",
    exact_statement="not quoted: the paper body was not available; secondary sources restate "
    "it as 'x̂ has density p(x)·H^K_p(x), H^K_p(x) = E[K e^{r(x)}/(e^{r(x)} + Σ_{i<K} "
    "e^{r(x_i)})], with 0 < H^K_p < K' (paraphrased from the notes)",
    scope="checks that two exact evaluations of H^K_p on discrete laws (enumeration of the "
    "K − 1 competitors, and the Laplace-integral form of notes §1.6(a), not stated in the paper) "
    "agree, and the K = 2 sigmoid form; it does not test that the kept sample has law p·H "
    "(that is ferbach2024.lemma2.1.sampling)",
    controls=(
        Control("laplace_exponent_k", "the Laplace route uses φ_p^K (K competitors) instead of "
                "φ_p^{K−1}, with the prefactor K kept"),
        Control("sigmoid_sign", "the K = 2 form is 2E_y[σ(r(y) − r(x))] (reward difference "
                "with the wrong sign)"),
    ),
)
def lemma21_routes(ctx):
    worst = {k: 0.0 for k in (1, 2, 3, 5)}
    worst_k2 = 0.0
    for p, r in _instances(ctx.seed, 40):
        for k in worst:
            a = cu.curation_operator(p, r, k, method="enumerate")
            if ctx.control == "laplace_exponent_k":  # K∫e^{−y}φ^K dy = K/(K+1)·H^{K+1}
                b = k / (k + 1) * cu.curation_operator(p, r, k + 1, method="laplace")
            else:
                b = cu.curation_operator(p, r, k, method="laplace")
            worst[k] = max(worst[k], float(np.max(np.abs(a / b - 1))))
        sign = -1.0 if ctx.control == "sigmoid_sign" else 1.0
        sig = 2 * special.expit(sign * (r[:, None] - r[None, :])) @ p
        worst_k2 = max(worst_k2, float(np.max(np.abs(cu.curation_operator(p, r, 2) / sig - 1))))
    out = [exact_check(f"max |enumerate/laplace − 1|, K={k}", 0.0, v, atol=1e-12)
           for k, v in worst.items()]
    out.append(exact_check("max |H²/(2E σ(r(x) − r(y))) − 1|", 0.0, worst_k2, atol=1e-12))
    return out


@claim(
    id="ferbach2024.lemma2.1.properties",
    paper=PAPER,
    statement=(
        "Properties of H^K_p (Lemma 2.1 and notes §1.6(d)): E_p[H] = 1; 0 < H < K (so "
        "p_{t+1} ≤ K p_t: small K regularises); H increasing in r; H ≥ 1 at the top reward of "
        "supp p; invariant under r → r + c; finite for rewards of size 10³."
    ),
    kind="bound",
    provenance="paper",
    method="60 random discrete laws, K ∈ {2, 3, 5, 40}, plus one law with rewards "
    "(0, ±1000, 500): exact values, worst case over instances.",
    source="arXiv 2407.09499 v1, Lemma 2.1 and the remark after it ('small values of K act as a "
    "regularization'), as restated by secondary sources (references/ferbach2024.md §1.3, "
    "§1.6(d))",
    exact_statement="not quoted: the paper body was not available; secondary sources give "
    "'0 < H^K_p < K' with the paper's remark 'small values of K act as a regularization which "
    "prevents the density from blowing up too much in high reward areas' (quoted by them); "
    "E_p[H] = 1, monotonicity, H ≥ 1 at the top and shift invariance are derived properties "
    "(notes §1.6(d), [D])",
    scope="exact values on random discrete laws and K ∈ {2, 3, 5, 40}; the upper bound H < K "
    "is nearly attained on these laws (max H/K ≈ 0.99 at K = 2, a low-mass atom with the top "
    "reward), the lower bound 0 < H holds with room; the normalisation E_p[H] = 1 and the "
    "monotonicity in r carry most of the power",
    controls=(
        Control("competitors_k", "H computed with K competitors instead of K − 1 (prefactor K "
                "kept): H = K/(K+1)·H^{K+1}"),
        Control("reward_sign", "H computed for the reward −r (the user keeps the worst "
                "sample)"),
    ),
)
def lemma21_properties(ctx):
    inst = _instances(ctx.seed, 60)
    inst.append((np.array([0.2, 0.3, 0.1, 0.4]), np.array([0.0, 1000.0, -1000.0, 500.0])))
    norm, low, high, mono, top, shift = 0.0, math.inf, -math.inf, math.inf, math.inf, 0.0
    for p, r in inst:
        for k in (2, 3, 5, 40):
            h = _h_properties(ctx, p, r, k)
            norm = max(norm, abs(float(p @ h) - 1))
            low = min(low, float(np.min(h)))
            high = max(high, float(np.max(h)) / k)
            order = np.argsort(r)
            mono = min(mono, float(np.min(np.diff(h[order]))))
            top = min(top, float(h[np.argmax(r)]))
            shift = max(shift, float(np.max(np.abs(_h_properties(ctx, p, r + 123.0, k) / h
                                                   - 1))))
    return [
        exact_check("max |E_p H − 1|", 0.0, norm, atol=1e-12),
        exact_check("min H > 0", 0.0, low, sided="lower"),
        exact_check("max H/K < 1", 1.0, high, sided="upper"),
        exact_check("min increment of H along increasing r ≥ 0", 0.0, mono, atol=1e-13,
                    sided="lower"),
        exact_check("min H(argmax r) ≥ 1", 1.0, top, atol=1e-12, sided="lower"),
        exact_check("max |H(r + 123)/H(r) − 1|", 0.0, shift, atol=1e-11),
    ]


def _h_properties(ctx, p, r, k):
    """H^K_p for lemma2.1.properties, with its controls injected."""
    if ctx.control == "competitors_k":
        return k / (k + 1) * cu.curation_operator(p, r, k + 1)
    if ctx.control == "reward_sign":
        return cu.curation_operator(p, -r, k)
    return cu.curation_operator(p, r, k)


@claim(
    id="ferbach2024.lemma2.1.large_k",
    paper=PAPER,
    statement=(
        "Lemma 2.1: H^K_p → e^r/E_p[e^r] as K → ∞ (exponential tilting). Derived rate [D]: "
        "K(H^K − e^r/E e^r) → (y/μ)(σ²/μ² + 1 − y/μ), y = e^{r(x)}, μ, σ² the mean and variance "
        "of e^r under p (delta method), so ‖H^K − tilt‖ ≈ c/K (the notes' 3.4·10⁻³ at K = 2000 "
        "is of this size)."
    ),
    kind="limit",
    provenance="derived",
    method="10 random laws: exact H^K (Laplace route) at K ∈ {10⁴, 10⁵}. (i) K(H^K − tilt) "
    "against the derived coefficient at K = 10⁵: the neglected terms are O(1/K) relative to "
    "the coefficient scale (≈ 10⁻⁵), tolerance 10⁻³ of the scale; (ii) the log-log slope of "
    "the sup-norm remainder |K(H^K − tilt) − c| between K = 10⁴ and 10⁵ equals −1 (tolerance 0.02 "
    "for the O(1/K) relative correction d₃/(d₂K) of the remainder d₂/K + d₃/K²: a low-mass "
    "top atom gives d₃/d₂ ≈ 100, a slope −0.95 between 10³ and 10⁴ at seed 2), plus the "
    "rounding of K(H^K − tilt), K·10⁻¹⁵·max H relative to the remainder, over ln 10 (it "
    "matters for nearly flat rewards, where the remainder is ≈ 10⁻¹⁰ at K = 10⁵); (iii) "
    "sup-norm error at K = 2000 is c_max/2000 within max|R_{10⁴}|·10⁴/2000² doubled (R_K = "
    "K(H^K − tilt) − c ≈ d₂/K, the 1/K law of (ii)).",
    source="derived; the limit H^K → e^r/E_p[e^r] is arXiv 2407.09499 v1, Lemma 2.1 (second "
    "part), as restated by secondary sources; the 1/K coefficient is the notes' derivation "
    "(references/ferbach2024.md §1.5, §6 item 1)",
    exact_statement="not stated in the paper (the rate); the limit itself is restated by "
    "secondary sources as 'H^K_p(x) → e^{r(x)}/E_{y~p}[e^{r(y)}] as K → ∞' (paraphrased from "
    "the notes; the paper body was not available)",
    scope="10 random discrete laws with rewards of size ≤ 1.5σ; the first-order coefficient of "
    "the 1/K expansion and the 1/K rate, which imply the lemma's limit on these laws",
    controls=(
        Control("variance_term_dropped", "the coefficient without the competitors' variance "
                "term: (y/μ)(1 − y/μ)"),
        Control("mean_term_sign", "the coefficient with the sign of the y/μ correction "
                "flipped: (y/μ)(σ²/μ² − 1 + y/μ)"),
    ),
)
def lemma21_large_k(ctx):
    out = []
    for i, (p, r) in enumerate(_instances(ctx.seed, 10, scale=1.5)):
        tilt = cu.curation_operator(p, r, INF)
        coef = cu.large_k_coefficient(p, r)
        if ctx.control in ("variance_term_dropped", "mean_term_sign"):
            mom = cu.exp_reward_moments(p, r)
            ratio = np.exp(r - mom.r_star) / mom.mean
            coef = ratio * (1 - ratio) if ctx.control == "variance_term_dropped" else \
                ratio * (mom.var / mom.mean**2 - 1 + ratio)
        scale = float(np.max(np.abs(coef)))
        d = {k: k * (cu.curation_operator(p, r, k) - tilt) for k in (10_000, 100_000)}
        out.append(exact_check(f"law {i}: max|K(H^K − tilt) − c|/max|c|, K=1e5", 0.0,
                               float(np.max(np.abs(d[100_000] - coef))) / scale, atol=1e-3))
        ks = (10_000, 100_000)
        rem = [float(np.max(np.abs(d[k] - coef))) for k in ks]
        # rounding of K(H^K − tilt): K·ε_H·max H, ε_H = 10⁻¹⁵ the relative accuracy of H
        # (lemma2.1.routes: the two exact routes agree to ≈ 2·10⁻¹⁵)
        rounding = [k * 1e-15 * float(np.max(tilt)) for k in ks]
        slope_tol = 0.02 + sum(e / m for e, m in zip(rounding, rem, strict=True)) / math.log(10)
        out.append(exact_check(f"law {i}: slope of log remainder", -1.0,
                               math.log10(rem[1] / rem[0]), atol=slope_tol))
        err = float(np.max(np.abs(cu.curation_operator(p, r, 2000) - tilt)))
        # ‖H^K − tilt‖∞ = max|c + R_K|/K with R_K ≈ R_{10⁴}·10⁴/K (the 1/K law of the slope
        # check), doubled for the K⁻² part of R at K = 2000
        out.append(exact_check(f"law {i}: ‖H^2000 − tilt‖∞ vs max|c|/2000",
                               float(np.max(np.abs(coef))) / 2000, err,
                               atol=2 * rem[0] * 10_000 / 2000**2 + 1e-13))
    return out


_K_SHIFT = {"k_plus_one": 1, "k_minus_one": -1}  # the controls of lemma2.1.sampling

# The 2-D setting of lemma2.1.sampling: p = N(μ, σ²I₂), r(x) = −½‖x − c‖², K = 4 (issue 19).
_L21_MEAN, _L21_VAR, _L21_CENTER, _L21_K = np.array([0.0, 0.0]), 0.8, np.array([1.2, 0.6]), 4


def _quadratic_curated_law(k, dq=0.005):
    """The exact curated law p·H^K of Lemma 2.1 for p = N(μ, σ²I₂), r(x) = −½‖x − c‖².

    Q = ‖x − c‖² has law σ²·χ'²₂(‖μ − c‖²/σ²) (non-central χ², exact CDF), and r = −Q/2 is a
    function of Q, so H^K depends on x only through Q (notes §1.6(d)) and the curated law of Q
    is ν·h(Q). Q is cut into cells of width dq on [0, 150σ²] with their exact masses, each cell
    given the reward at its midpoint, and theory.curation_discrete.curated_law (Laplace
    route) applied to that discrete law: midpoint rule, error O(dq²) (≈ 3·10⁻⁷ at dq = 0.005,
    measured by halving dq; the K = 1 moments below recover (μ, σ²I) to that order).
    Given Q = ρ², the direction of x − c about u = (μ − c)/‖μ − c‖ is von Mises with
    κ = ρ‖μ − c‖/σ² (p(x) ∝ exp(ρ‖μ − c‖cos θ/σ²) on the circle) and is left unchanged by
    curation, so E[x − c | ρ] = ρ(I₁/I₀)(κ)u and E[(x − c)(x − c)ᵀ | ρ] =
    ρ²[(1 + I₂/I₀)/2 uuᵀ + (1 − I₂/I₀)/2 (I − uuᵀ)] (E cos θ = I₁/I₀, E cos²θ =
    (1 + I₂/I₀)/2). Returns (cell edges, CDF of Q at the edges, curated mean, covariance)."""
    mu, s2, c = _L21_MEAN, _L21_VAR, _L21_CENTER
    dist = float(np.linalg.norm(mu - c))
    u = (mu - c) / dist
    edges = np.arange(0.0, 150.0 * s2 + dq / 2, dq)
    cdf0 = stats.ncx2.cdf(edges / s2, 2, dist**2 / s2)
    mass = np.maximum(np.diff(cdf0), 0.0)  # rounding of the CDF (≤ 1e-16) clipped
    mass[-1] += 1.0 - cdf0[-1]
    mid = 0.5 * (edges[1:] + edges[:-1])
    q = cu.curated_law(mass / mass.sum(), -0.5 * mid, k)
    rho = np.sqrt(mid)
    kappa = rho * dist / s2
    i0, i1, i2 = (special.ive(n, kappa) for n in (0, 1, 2))
    m1 = float(np.sum(q * rho * i1 / i0))
    along = float(np.sum(q * mid * (1 + i2 / i0) / 2))
    across = float(np.sum(q * mid * (1 - i2 / i0) / 2))
    uu = np.outer(u, u)
    cov = along * uu + across * (np.eye(2) - uu) - m1**2 * uu
    return edges, np.concatenate([[0.0], np.cumsum(q)]), c + m1 * u, cov


def _curated_atoms(key, p, r, ks, size):
    """For each K in ``ks``: K atoms drawn from p (inverse CDF), one kept by the engine's
    selection (simulations.curation.select, Gumbel-max softmax); (len(ks), size) indices."""
    from simulations.curation import select

    out = []
    for i, k in enumerate(ks):
        k_draw, k_pick = jax.random.split(jax.random.fold_in(key, i))
        idx = jnp.minimum(jnp.searchsorted(jnp.cumsum(p), jax.random.uniform(k_draw,
                                                                            (size, k))),
                          p.size - 1)
        kept = select(k_pick, idx[..., None].astype(p.dtype), r[idx])
        out.append(kept[:, 0].astype(jnp.int32))
    return jnp.stack(out)


@claim(
    id="ferbach2024.lemma2.1.sampling",
    paper=PAPER,
    statement=(
        "Lemma 2.1: drawing K points from p and keeping one with probabilities "
        "softmax(r(x_1..x_K)) gives the law p·H^K_p — the engine's curated draws, 2-D "
        "Gaussian p, quadratic reward, K = 4 (KS and moment tests), and its selection on a "
        "6-atom law (χ²)."
    ),
    kind="equality",
    provenance="paper",
    method="(i) simulations.curation.curated_gaussian_draws (the engine's routine), p = "
    "N(0, 0.8·I₂), r(x) = −½‖x − (1.2, 0.6)‖², K = 4, 2·10⁵ kept points (quick 5·10⁴): KS "
    "of Q = ‖x − c‖² against the exact curated law of Q (non-central χ² cells, Laplace "
    "route, error ≈ 3·10⁻⁷ ≪ KS resolution 1/√N), KS of the angle's probability integral "
    "transform given Q (von Mises, unchanged by curation) against U(0, 1), and z-tests of "
    "the mean and of the covariance entries E(x_i − m_i)(x_j − m_j) against the exact curated "
    "moments (Bessel-ratio quadrature over Q). (ii) One generation of simulations.run "
    "(data = replace, unbiased covariance, n_real = 10⁵, 2000 curated points, 200 replicates; "
    "quick 1000 and 100): z-tests of the fitted μ̂₁, Σ̂₁ against the same moments (their "
    "bias from the generation-0 fit is O(1/n_real): the second derivatives of the curated "
    "moments in (μ, σ²) are ≤ 0.33 by finite differences of the quadrature, so the bias is "
    "≲ 10⁻⁵, < 1 % of the SE). (iii) The engine's "
    "selection (simulations.curation.select) on a 6-atom law, K ∈ {2, 3, 5}, 2·10⁵ kept "
    "points (quick 4·10⁴): χ² against the exact p·H^K (enumeration). (iv) The quadrature at "
    "K = 1 returns p's own moments (|error| ≤ 10⁻⁵). False-failure 1e-6 per claim, split over "
    "the tests by the harness.",
    source="arXiv 2407.09499 v1, Lemma 2.1 (first part), as restated by secondary sources "
    "(notes §1.3); applied to the toolkit's engine",
    exact_statement="not quoted: the paper body was not available; secondary sources restate "
    "it as 'x̂ has density p(x)·H^K_p(x), H^K_p(x) = E[K e^{r(x)}/(e^{r(x)} + Σ_{i<K} "
    "e^{r(x_i)})]'",
    scope="the engine's implementation of the lemma on one 2-D Gaussian with one quadratic "
    "reward at K = 4 (the law of the kept points: the curated law of ‖x − c‖², the "
    "conditional angle law, first and second moments; not a full 2-D goodness-of-fit test) and "
    "its selection step on one 6-atom law at K ∈ {2, 3, 5}; the lemma is stated for any p "
    "and r. The exact side is numerical quadrature (midpoint cells on the reward, Bessel "
    "ratios for the angle), not a closed form",
    controls=(
        Control("k_plus_one", "the prediction is p·H^{K+1} (one more candidate than drawn)"),
        Control("k_minus_one", "the prediction is p·H^{K−1} (one fewer candidate than drawn)"),
    ),
)
def lemma21_sampling(ctx):
    from simulations import LoopSpec, run
    from simulations.curation import curated_gaussian_draws
    from theory.rewards import QuadraticReward

    shift = _K_SHIFT.get(ctx.control, 0)
    mu, s2, c, k = _L21_MEAN, _L21_VAR, _L21_CENTER, _L21_K
    reward = QuadraticReward(c, 1.0)
    edges, cdf_q, mean, cov = _quadratic_curated_law(k + shift)
    out = []
    # (iv) the quadrature route at K = 1 is p itself
    _, _, mean1, cov1 = _quadratic_curated_law(1)
    out.append(exact_check("quadrature at K = 1: max |moment − p's|", 0.0,
                           float(max(np.max(np.abs(mean1 - mu)),
                                     np.max(np.abs(cov1 - s2 * np.eye(2))))), atol=1e-5))
    # (i) the engine's draws
    size = ctx.size(200_000, 50_000)
    draws = jax.jit(curated_gaussian_draws, static_argnums=(3, 4, 5))
    x = np.asarray(draws(jax.random.fold_in(jax.random.key(ctx.seed), 2), jnp.asarray(mu),
                         jnp.sqrt(s2) * jnp.eye(2), size, k, "quadratic", reward.params()))
    diff = x - c
    q = np.sum(diff**2, axis=1)
    out.append(ks_check(f"K={k}: KS of ‖x − c‖² vs the curated law", q,
                        lambda v: np.interp(v, edges, cdf_q)))
    dist = float(np.linalg.norm(mu - c))
    u = (mu - c) / dist
    theta = np.arctan2(u[0] * diff[:, 1] - u[1] * diff[:, 0], diff @ u)
    pit = stats.vonmises.cdf(theta, np.sqrt(q) * dist / s2)
    out.append(ks_check("angle about μ − c given ‖x − c‖: KS of the von Mises PIT vs U(0,1)",
                        pit, lambda v: np.clip(v, 0.0, 1.0)))
    for i in range(2):
        out.append(mean_check(f"E x[{i}] (engine draws)", x[:, i], mean[i]))
    for i, j in ((0, 0), (0, 1), (1, 1)):
        out.append(mean_check(f"Cov[{i},{j}] (engine draws)",
                              (x[:, i] - mean[i]) * (x[:, j] - mean[j]), cov[i, j]))
    # (ii) one generation of the loop: fitted mean and unbiased covariance of the kept points
    spec = LoopSpec(dim=2, n_real=100_000, data="replace",
                    n_synthetic=ctx.size(2000, 1000), estimator="unbiased", curation_k=k,
                    reward=reward, truth=(mu, s2 * np.eye(2)), generations=1,
                    replicates=ctx.size(200, 100))
    traj = run(spec, seed=ctx.seed, engine="samples")
    for i in range(2):
        out.append(mean_check(f"E μ̂₁[{i}] (loop, one generation)", traj.means[:, 1, i],
                              mean[i]))
    for i, j in ((0, 0), (0, 1), (1, 1)):
        out.append(mean_check(f"E Σ̂₁[{i},{j}] (loop, one generation)",
                              traj.covs[:, 1, i, j], cov[i, j]))
    # (iii) the engine's selection on a discrete law
    p = np.array([0.3, 0.05, 0.2, 0.2, 0.15, 0.1])
    r = np.array([0.0, 2.0, -1.0, 0.5, 1.0, -0.3])
    ks = (2, 3, 5)
    n_atoms = ctx.size(200_000, 40_000)
    kept = np.asarray(jax.jit(_curated_atoms, static_argnums=(3, 4))(
        jax.random.fold_in(jax.random.key(ctx.seed), 1), jnp.asarray(p), jnp.asarray(r), ks,
        n_atoms))
    for row, kk in zip(kept, ks, strict=True):
        counts = np.bincount(row, minlength=p.size)
        expected = cu.curated_law(p, r, kk + shift) * n_atoms
        res = stats.chisquare(counts, expected)
        out.append(Measurement(f"χ² of kept atoms vs p·H^K, K={kk}", 0.0, float(res.statistic),
                               None, pvalue=float(res.pvalue)))
    return out


# ============================================================================ Lemma 2.2 (item 2)


@claim(
    id="ferbach2024.lemma2.2.slack",
    paper=PAPER,
    statement=(
        "Lemma 2.2: in the pure curated loop, E_{p_{t+1}}[e^r] ≥ E_{p_t}[e^r] + "
        "((K−1)/K)·Var_{p_t}[e^r]/e^{r_*}: the expected reward rises in proportion to its "
        "variance."
    ),
    kind="bound",
    provenance="paper",
    method="200 random discrete laws (2–6 atoms; quick 60) plus two near-tight laws (two atoms "
    "with rewards 0 and −δ, δ = 10⁻³, masses (½, ½) and (0.9, 0.1)), K ∈ {2, 3, 4, 7, ∞}: the "
    "exact slack (in units of e^{r_*}) is ≥ 0, smallest value over instances, rounding "
    "tolerance 10⁻¹³; and sharpness: on the near-tight laws the ratio increment/(((K−1)/K)·Var) "
    "lies in [1, e^δ] (derived: with y = e^{r−r_*} ∈ [e^{−δ}, 1] the slack is "
    "E[Σ_k(y_k − ȳ)²(1/S − 1/K)] ≤ (e^δ − 1)·((K−1)/K)Var, S = Σ y_k ≥ K e^{−δ}; at K = ∞ the "
    "ratio is e^{r_*}/E[e^r] ≤ e^δ), so the constant (K−1)/K is the sharp one.",
    source="arXiv 2407.09499 v1, Lemma 2.2, as restated by secondary sources "
    "(references/ferbach2024.md §2, tag [P])",
    exact_statement="not quoted: the paper body was not available; secondary sources restate "
    "it as 'for the pure curated loop p_{t+1} = p_t H^K_{p_t}, with r ≤ r_*: E_{p_{t+1}}[e^{r(x)}] "
    "≥ E_{p_t}[e^{r(x)}] + ((K−1)/K)·Var_{p_t}[e^{r(x)}]/e^{r_*}', with the paper's gloss 'the "
    "expected reward increases proportionally to its variance at each retraining iteration' "
    "(quoted by them)",
    scope="one step of the exact operator on discrete laws (the lemma is stated for densities); "
    "the bound is checked with a random and a near-tight family, and the near-tight laws show "
    "that (K−1)/K cannot be replaced by a larger constant nor is it loose by more than e^δ",
    controls=(
        Control("k_plus_one", "the constant (K−1)/K replaced by K/(K+1) (one more candidate)"),
        Control("k_minus_one", "the constant (K−1)/K replaced by (K−2)/(K−1) (one fewer "
                "candidate: a weaker bound)"),
    ),
)
def lemma22_slack(ctx):
    out = []
    delta = 1e-3
    tight = [(np.array([0.5, 0.5]), np.array([0.0, -delta])),
             (np.array([0.9, 0.1]), np.array([0.0, -delta]))]
    inst = _instances(ctx.seed, ctx.size(200, 60)) + tight
    for k in (2, 3, 4, 7, INF):
        factor = _lemma22_factor(ctx, k)
        slacks, ratios = [], []
        for p, r in inst:
            inc, _ = cu.lemma22_increment(p, r, k)
            var = cu.exp_reward_moments(p, r).var
            slacks.append(inc - factor * var)
            ratios.append(inc / (factor * var) if factor > 0 else math.inf)
        out.append(exact_check(f"min slack, K={k}", 0.0, min(slacks), atol=1e-13,
                               sided="lower"))
        for j, ratio in enumerate(ratios[-len(tight):]):
            out.append(exact_check(f"near-tight law {j}, K={k}: increment/(c_K·Var) in "
                                   "[1, e^δ]", 1.0, ratio, atol=math.expm1(delta)))
    return out


def _lemma22_factor(ctx, k):
    """The constant of Lemma 2.2, (K−1)/K (1 at K = ∞), with the controls of lemma2.2.slack."""
    if k == INF:
        return 1.0
    if ctx.control == "k_plus_one":
        return k / (k + 1)
    if ctx.control == "k_minus_one":
        return (k - 2) / (k - 1)
    return (k - 1) / k


@claim(
    id="ferbach2024.lemma2.2.tilt_increment",
    paper=PAPER,
    statement=(
        "K = ∞ form of Lemma 2.2 [D]: E_{p_{t+1}}[e^r] − E_{p_t}[e^r] = Var_{p_t}[e^r]/"
        "E_{p_t}[e^r] exactly (also for a Gaussian with a quadratic reward, by the closed forms "
        "of E[e^r], E[e^{2r}] and the tilt), and E_{p_{t+1}}[r] − E_{p_t}[r] = "
        "Cov(r, e^r)/E[e^r] ≥ 0."
    ),
    kind="equality",
    provenance="derived",
    method="30 random discrete laws: increment of E[e^r] under the exact tilt vs Var/E, and of "
    "E[r] vs Cov/E (relative 10⁻⁹ for the cancellation in the increment); 2-D Gaussian with "
    "r = −½(x−c)ᵀA(x−c): quadratic_tilt and quadratic_log_mgf at scales 1 and 2 (10⁻¹⁰).",
    source="derived; the K = ∞ case of arXiv 2407.09499 v1, Lemma 2.2 (references/"
    "ferbach2024.md §2, 'K = inf exact form [D]')",
    exact_statement="not stated in the paper",
    scope="exact identities at K = ∞ on 30 random discrete laws and one 2-D Gaussian with a "
    "quadratic reward; the lemma's finite-K inequality is ferbach2024.lemma2.2.slack",
    controls=(
        Control("denominator_rstar", "the increment of E[e^r] predicted as Var[e^r]/e^{r_*} "
                "(the lemma's bound at K = ∞) instead of Var[e^r]/E[e^r]"),
        Control("linearised_reward_gain", "the increment of E[r] predicted as Var(r) (first "
                "order in r) instead of Cov(r, e^r)/E[e^r]"),
    ),
)
def lemma22_tilt(ctx):
    out = []
    for i, (p, r) in enumerate(_instances(ctx.seed, 30)):
        mom = cu.exp_reward_moments(p, r)
        y = np.exp(r - mom.r_star)
        q = cu.curated_law(p, r, INF)
        pred = mom.var if ctx.control == "denominator_rstar" else \
            cu.tilt_exp_reward_increment(p, r)
        out.append(exact_check(f"law {i}: ΔE[e^r]", pred, q @ y - mom.mean, rtol=1e-9,
                               atol=1e-15))
        cov = float(p @ ((r - p @ r) * (y - mom.mean)))
        pred_r = float(p @ (r - p @ r) ** 2) if ctx.control == "linearised_reward_gain" else \
            cov / mom.mean
        out.append(exact_check(f"law {i}: ΔE[r]", pred_r, q @ r - p @ r, rtol=1e-9,
                               atol=1e-14))
    mu, sig = np.array([0.5, -1.0]), np.array([[1.0, 0.3], [0.3, 0.6]])
    c, mat = np.array([1.0, 0.0]), np.array([[0.8, 0.2], [0.2, 1.5]])
    log_m1 = cu.quadratic_log_mgf(mu, sig, c, mat)
    log_m2 = cu.quadratic_log_mgf(mu, sig, c, mat, 2.0)
    m_t, s_t = cu.quadratic_tilt(mu, sig, c, mat)
    inc = math.exp(cu.quadratic_log_mgf(m_t, s_t, c, mat)) - math.exp(log_m1)
    var = math.exp(log_m2) - math.exp(2 * log_m1)
    pred = var if ctx.control == "denominator_rstar" else var / math.exp(log_m1)  # r_* = 0
    out.append(exact_check("Gaussian, quadratic r: ΔE[e^r] = Var/E", pred, inc, rtol=1e-10))
    return out


@claim(
    id="ferbach2024.lemma2.2.monotone",
    paper=PAPER,
    statement=(
        "Consequences of Lemma 2.2 [D]: along the pure curated loop E_{p_t}[e^r], E_{p_t}[r] and "
        "every P_t(r ≥ c) are non-decreasing (H is increasing in r, so p_{t+1} stochastically "
        "dominates p_t in reward), for every K ≥ 2 including K = ∞; and the telescoped bound "
        "Σ_t Var_{p_t}[e^r] ≤ (K/(K−1)) e^{r_*}(e^{r_*} − E_{p_0}[e^r]) holds, so Var → 0."
    ),
    kind="monotone",
    provenance="derived",
    method="25 random discrete laws (quick 10), K ∈ {2, 3, ∞}, 60 generations of the exact "
    "loop: smallest one-step change of each quantity (≥ 0 up to 10⁻¹²), and the variance sum "
    "against the budget (one-sided). Sharpness of the budget: a near-tight law (masses (½, ½), "
    "rewards 0 and −δ, δ = 0.1), 400 generations (P_400(r < 0) < 10⁻⁸ for every K checked): "
    "Σ_t Var/budget lies in [e^{−δ}·f, 1], f = (E_400[e^r] − E_0[e^r])/(e^{r_*} − E_0[e^r]) the "
    "share of the reward gap covered (derived: each step's increment is between c_K·Var and "
    "e^δ·c_K·Var, c_K = (K−1)/K, see lemma2.2.slack).",
    source="derived; consequences of arXiv 2407.09499 v1, Lemma 2.2 (references/"
    "ferbach2024.md §2, 'Corollaries [D]'); the secondary sources report that the paper notes "
    "Var_{p_t}[e^r] → 0",
    exact_statement="not stated in the paper (the monotonicity of E[r] and P(r ≥ c), and the "
    "telescoped budget, are derived)",
    scope="exact loop on discrete laws, 60 generations (400 for the near-tight law), K ∈ "
    "{2, 3, ∞}; monotonicity is checked step by step, the budget as a bound and for "
    "sharpness on one near-tight law",
    controls=(
        Control("reward_sign", "the loop curates with the reward −r (the user keeps the worst "
                "sample) while E[e^r], E[r] and P(r ≥ c) are monitored for r"),
        Control("budget_k_plus_one", "the budget factor K/(K−1) replaced by (K+1)/K (one more "
                "candidate)"),
    ),
)
def lemma22_monotone(ctx):
    out = []
    inst = _instances(ctx.seed, ctx.size(25, 10))
    sign = -1.0 if ctx.control == "reward_sign" else 1.0
    for k in (2, 3, INF):
        d_exp = d_r = d_tail = math.inf
        budget_gap = math.inf
        for p0, r in inst:
            traj = cu.curation_trajectory(p0, sign * r, k, 60)
            r_star = cu.exp_reward_moments(p0, r).r_star
            d_exp = min(d_exp, float(np.min(np.diff(traj @ np.exp(r - r_star)))))
            d_r = min(d_r, float(np.min(np.diff(traj @ r))))
            for c in np.unique(r):
                d_tail = min(d_tail, float(np.min(np.diff(traj[:, r >= c].sum(axis=1)))))
            total = sum(cu.exp_reward_moments(q, r).var for q in traj)
            budget_gap = min(budget_gap, _lemma22_budget(ctx, p0, r, k) - total)
        out += [
            exact_check(f"min ΔE[e^r], K={k}", 0.0, d_exp, atol=1e-12, sided="lower"),
            exact_check(f"min ΔE[r], K={k}", 0.0, d_r, atol=1e-12, sided="lower"),
            exact_check(f"min ΔP(r ≥ c), K={k}", 0.0, d_tail, atol=1e-12, sided="lower"),
            exact_check(f"min (budget − Σ_t Var), K={k}", 0.0, budget_gap, atol=1e-12,
                        sided="lower"),
        ]
        delta = 0.1
        p0, r = np.array([0.5, 0.5]), np.array([0.0, -delta])
        traj = cu.curation_trajectory(p0, sign * r, k, 400)
        e_r = traj @ np.exp(r)
        total = sum(cu.exp_reward_moments(q, r).var for q in traj[:-1])
        share = (e_r[-1] - e_r[0]) / (1.0 - e_r[0])
        ratio = total / _lemma22_budget(ctx, p0, r, k)
        out.append(exact_check(f"near-tight law, K={k}: Σ_t Var/budget in [e^−δ·f, 1]", 1.0,
                               ratio, atol=1.0 - math.exp(-delta) * share))
    return out


def _lemma22_budget(ctx, p0, r, k):
    """The telescoped budget of Lemma 2.2 (units e^{2r_*}), with the budget control."""
    budget = cu.lemma22_variance_budget(p0, r, k)
    if ctx.control == "budget_k_plus_one" and k != INF:
        budget *= (k + 1) / k * (k - 1) / k
    return budget


# ============================================================================ Theorem 2.1 (item 3)


P0_TOP = np.array([0.05, 0.10, 0.25, 0.3, 0.3, 0.0])
R_TOP = np.array([1.0, 1.0, 0.5, 0.0, -1.0, 3.0])  # the last atom is not reachable from p_0


@claim(
    id="ferbach2024.thm2.1.identity",
    paper=PAPER,
    statement=(
        "Theorem 2.1: the pure curated loop converges to p_* = p_0(·|A*), A* = {r = r_*} the top "
        "reward level reachable from p_0: KL(p_*‖p_t) → 0 monotonically. Exact identity [D]: "
        "KL(p_*‖p_t) = −log P_t(A*) and p_t(·|A*) = p_0(·|A*) for every t; supp p_t ⊂ supp p_0 "
        "(an atom with a higher reward but p_0 = 0 never gains mass); at K = ∞ "
        "P_t(A*) = P_0(A*)e^{t r_*}/E_{p_0}[e^{tr}]."
    ),
    kind="equality",
    provenance="derived",
    method="6-atom law (two atoms on A*, one unreachable atom with r = 3), K ∈ {2, 5, ∞}, 80 "
    "generations: KL computed from its definition Σp_* log(p_*/p_t) against −log P_t(A*) "
    "(absolute 10⁻¹³: each term of the definition carries a rounding error ≤ 4ε|log p_*|); "
    "largest deviation of the within-A* ratio; largest one-step change of KL (< 0); mass of "
    "the unreachable atom; the K = ∞ closed form of P_t(A*).",
    source="arXiv 2407.09499 v1, Theorem 2.1 (limit p_*), as restated by secondary sources; the "
    "identity KL(p_*‖p_t) = −log P_t(A*) is the notes' derivation (references/ferbach2024.md "
    "§2, 'Key identity [D, num]')",
    exact_statement="not quoted: the paper body was not available; secondary sources restate "
    "it as 'under Assumption 2.1 with P_0(r = r_*) > 0, the pure curated loop satisfies "
    "D_KL(p_* ‖ p_t) → 0, p_*(x) = p_0(x)·1{r(x) = r_*}/P_0(r(x) = r_*)', with the paper's words "
    "'converges to the highest level set of the reward reached at initialization' (quoted by "
    "them)",
    scope="one 6-atom discrete p_0 (atoms carry the needed mass on the top level), K ∈ "
    "{2, 5, ∞}, 80 generations; the convergence is checked through the derived identity and "
    "KL(p_*‖p_80) ≤ 10⁻³, not as a limit",
    controls=(
        Control("global_top", "p_* taken on the global top reward level (the atom with r = 3 "
                "and p_0 = 0) instead of the top level reachable from p_0"),
        Control("closed_form_off_by_one", "the K = ∞ closed form of P_t(A*) written with "
                "generation t + 1: P_0(A*)e^{(t+1)r_*}/E_{p_0}[e^{(t+1)r}]"),
    ),
)
def thm21_identity(ctx):
    p_star = cu.top_level_law(P0_TOP, R_TOP)
    if ctx.control == "global_top":
        p_star = (R_TOP == R_TOP.max()).astype(float)
    out = []
    for k in (2, 5, INF):
        traj = cu.curation_trajectory(P0_TOP, R_TOP, k, 80)
        kl = np.array([cu.kl_divergence(p_star, q) for q in traj])
        ident = np.array([cu.top_level_kl(q, P0_TOP, R_TOP) for q in traj])
        out.append(exact_check(f"max |KL − (−log P_t(A*))|, K={k}", 0.0,
                               float(np.max(np.abs(kl - ident))), atol=1e-13))
        out.append(exact_check(f"max |p_t(x1)/p_t(x2) − p_0(x1)/p_0(x2)| on A*, K={k}", 0.0,
                               float(np.max(np.abs(traj[:, 0] / traj[:, 1] - 0.5))), atol=1e-12))
        out.append(exact_check(f"max one-step ΔKL < 0, K={k}", 0.0, float(np.max(np.diff(kl))),
                               sided="upper"))
        out.append(exact_check(f"KL(p_*‖p_80) → 0, K={k}", 0.0, float(kl[-1]),
                               atol=1e-3, sided="upper"))
        out.append(exact_check(f"mass of the unreachable top atom, K={k}", 0.0,
                               float(np.max(traj[:, 5])), sided="upper"))
    t = np.arange(81) + (1 if ctx.control == "closed_form_off_by_one" else 0)
    closed = P0_TOP[:2].sum() * np.exp(t * 1.0 - np.array(
        [special.logsumexp(s * R_TOP[:5], b=P0_TOP[:5]) for s in t]))
    traj = cu.curation_trajectory(P0_TOP, R_TOP, INF, 80)
    out.append(exact_check("K=∞: max |P_t(A*) − closed form|", 0.0,
                           float(np.max(np.abs(traj[:, :2].sum(axis=1) - closed))), atol=1e-13))
    return out


@claim(
    id="ferbach2024.thm2.1.rate",
    paper=PAPER,
    statement=(
        "Late-time rate of Theorem 2.1 [D] (whether the paper states a rate is not verified): "
        "P_{t+1}(A*^c)/P_t(A*^c) → K/(1 + (K−1)e^Δ), Δ the gap between the top and second "
        "reward levels; e^{−Δ} at K = ∞."
    ),
    kind="rate",
    provenance="derived",
    method="Law (0.1, 0.3, 0.6) on rewards (1, 0.5, 0), Δ = 0.5, K ∈ {2, 3, 10, ∞}, exact "
    "loop; ratio at t = 40 and 120 against ρ_K with the derived remainder bound as tolerance: "
    "|ratio − ρ_K| ≤ K(K−1)ε_t + f_t (finite K: the K − 1 competitors all lie in A* with "
    "probability ≥ 1 − (K−1)ε_t, ε_t = P_t(A*^c); f_t the share of A*^c below the second "
    "level), ≤ f_t e^{−Δ} at K = ∞.",
    source="derived; a late-time rate for arXiv 2407.09499 v1, Theorem 2.1 "
    "(references/ferbach2024.md §2, 'Rates [D, num]')",
    exact_statement="not stated in the paper (whether the paper states a rate is not verified: "
    "the paper body was not available)",
    scope="one 3-atom law with a reward gap Δ = 0.5, K ∈ {2, 3, 10, ∞}, the contraction ratio "
    "at t = 40 and 120 within its derived remainder",
    controls=(
        Control("k_plus_one", "the predicted factor is ρ_{K+1} (one more candidate)"),
        Control("tilt_factor", "the K = ∞ factor e^{−Δ} predicted for every K"),
    ),
)
def thm21_rate(ctx):
    p0, r = np.array([0.1, 0.3, 0.6]), np.array([1.0, 0.5, 0.0])
    out = []
    for k in (2, 3, 10, INF):
        traj = cu.curation_trajectory(p0, r, k, 121)
        rho = cu.top_level_contraction(k, 0.5)
        if ctx.control == "k_plus_one":
            rho = cu.top_level_contraction(k + 1, 0.5)
        elif ctx.control == "tilt_factor":
            rho = math.exp(-0.5)
        for t in (40, 120):
            eps = float(traj[t, 1:].sum())
            low = float(traj[t, 2]) / eps
            bound = low * rho if k == INF else k * (k - 1) * eps + low
            out.append(exact_check(f"K={k}, t={t}: P_{{t+1}}(A*ᶜ)/P_t(A*ᶜ)", rho,
                                   float(traj[t + 1, 1:].sum()) / eps, atol=bound + 1e-12))
    return out


@claim(
    id="ferbach2024.thm2.1.flat_top",
    paper=PAPER,
    statement=(
        "Theorem 2.1 on a continuous p_0 with an atom on the top level: p_0 = N(0.3, 1.2²), "
        "flat-top reward r(x) = −γ max(0, |x − c| − R) (r_* = 0 on B = [c − R, c + R], notes "
        "§4.1, §5.2), K = ∞: KL(p_*‖p_t) = log E_{p_0}[e^{tr}] − log P_0(B) → 0, and [D] "
        "t·KL(p_*‖p_t) = a₁ + b₁/t + b₂/t² + b₃/t³ + O(t⁻⁴), a₁ = S₁/(γP_0(B)), "
        "S₁ = p_0(c − R) + p_0(c + R), b₁ = −a₁c₁ with c₁ = S₁/(2γP_0(B)) − (p_0′(c+R) − "
        "p_0′(c−R))/(γS₁) (Watson's lemma on the two outer half-lines)."
    ),
    kind="limit",
    provenance="derived",
    method="(i) The closed form of E[e^{tr}] (flat_top_log_mgf_1d) against adaptive quadrature "
    "of ∫p_0e^{tr} (∫p_t = 1) at t ∈ {1, 10, 100} (relative 10⁻⁸). (ii) t·KL at t ∈ {30, 100, "
    "300} against the derived expansion: Watson's lemma gives Z_t/P_0(B) = 1 + x, x = Σ_{j≤4} "
    "a_j t^{−j} + O(t⁻⁵), a_j = (p_0^{(j−1)}(c+R) + (−1)^{j−1}p_0^{(j−1)}(c−R))/(γ^j P_0(B)); "
    "log(1 + x) to fourth order gives b₁ = a₂ − a₁²/2, b₂ = a₃ − a₁a₂ + a₁³/3, b₃ = a₄ − a₂²/2 "
    "− a₁a₃ + a₁²a₂ − a₁⁴/4. The rest is b₄/t⁴ with b₄ of the size of the computed coefficients "
    "(|a₁|, |b₁|, |b₂|, |b₃| ≈ 0.88, 0.58, 0.25, 0.09): tolerance 1/t⁴ + 10⁻¹² (float64 "
    "rounding of t·KL: t·4·10⁻¹⁶); c₁ = 0.659093 here.",
    source="derived; a continuous instance of arXiv 2407.09499 v1, Theorem 2.1 with the "
    "flat-top reward the notes infer for the paper's 2-D mixture figure (references/"
    "ferbach2024.md §4.1, §5.2)",
    exact_statement="not stated in the paper (the theorem is restated by secondary sources as "
    "'D_KL(p_* ‖ p_t) → 0 under Assumption 2.1 with P_0(r = r_*) > 0'; the expansion is derived)",
    scope="1-D Gaussian p_0, one flat-top reward, K = ∞ only (finite K on a continuous law is "
    "not computed); the convergence KL → 0 is checked through its exact rate, the expansion of "
    "t·KL to O(t⁻⁴)",
    controls=(
        Control("c1_without_derivative", "c₁ without the density-slope term: c₁ = S₁/(2γP_0(B)) "
                "(the Mills-ratio term alone)"),
        Control("half_limit", "the limit of t·KL halved: a₁ = S₁/(2γP_0(B)) (one factor 2 of "
                "a two-sided Mills ratio lost)"),
    ),
)
def thm21_flat_top(ctx):
    mu, sd, c, rad, gam = 0.3, 1.2, -0.4, 0.7, 1.5
    pdf = stats.norm(mu, sd).pdf
    p_b = stats.norm(mu, sd).cdf(c + rad) - stats.norm(mu, sd).cdf(c - rad)
    log_pb = math.log(p_b)
    out = []
    for t in (1, 10, 100):
        log_z = cu.flat_top_log_mgf_1d(mu, sd, c, rad, gam, t)
        mass = integrate.quad(lambda x, t=t, lz=log_z: pdf(x) * math.exp(
            -t * gam * max(0.0, abs(x - c) - rad) - lz), c - 40, c + 40,
            points=[c - rad, c + rad], epsabs=1e-14, epsrel=1e-12, limit=400)[0]
        out.append(exact_check(f"t={t}: ∫p_t = 1 (closed-form Z)", 1.0, mass, rtol=1e-8))

    def deriv(j, x):  # j-th derivative of the N(μ, σ²) density (probabilists' Hermite)
        z = (x - mu) / sd
        return (-1) ** j * special.eval_hermitenorm(j, z) * pdf(x) / sd**j

    a = [(deriv(j - 1, c + rad) + (-1) ** (j - 1) * deriv(j - 1, c - rad)) / (gam**j * p_b)
         for j in range(1, 5)]
    s1 = pdf(c - rad) + pdf(c + rad)
    slope = deriv(1, c + rad) - deriv(1, c - rad)
    a1 = a[0]
    c1 = s1 / (2 * gam * p_b) - slope / (gam * s1)
    if ctx.control == "c1_without_derivative":
        c1 = s1 / (2 * gam * p_b)
    elif ctx.control == "half_limit":
        a1 = s1 / (2 * gam * p_b)
    b1 = -a1 * c1  # = a₂ − a₁²/2 in the normal evaluation
    b2 = a[2] - a[0] * a[1] + a[0] ** 3 / 3
    b3 = a[3] - a[1] ** 2 / 2 - a[0] * a[2] + a[0] ** 2 * a[1] - a[0] ** 4 / 4
    out.append(exact_check("b₁ = −a₁c₁ (closed-form c₁) vs a₂ − a₁²/2", a[1] - a[0] ** 2 / 2,
                           -a[0] * (s1 / (2 * gam * p_b) - slope / (gam * s1)), rtol=1e-12))
    for t in (30, 100, 300):
        kl = cu.flat_top_log_mgf_1d(mu, sd, c, rad, gam, t) - log_pb
        out.append(exact_check(f"t·KL(p_*‖p_t) at t = {t} vs a₁ + b₁/t + b₂/t² + b₃/t³",
                               a1 + b1 / t + b2 / t**2 + b3 / t**3, t * kl,
                               atol=1.0 / t**4 + 1e-12))
    return out


# ============================================================================ Theorems 2.3, 2.4


def _mixed_runs(ctx, count, t_max=24, swap=False):
    """Random mixed loops from p_0 = p_data: (p_data, r, K, λ, trajectory). ``swap``: the loop
    is run with the mixing weights swapped (data weight λ/(1+λ), i.e. ratio 1/λ), λ reported
    unchanged (a negative control)."""
    rng = np.random.default_rng(ctx.seed + 1)
    runs = []
    for pd, r in _instances(ctx.seed, count):
        k = int(rng.choice([2, 3, 4, 6]))
        lam = float(rng.uniform(0.05, 3.0))
        traj = cu.curation_trajectory(pd, r, k, t_max, synthetic_ratio=1 / lam if swap else lam,
                                      p_data=pd)
        runs.append((pd, r, k, lam, traj))
    return runs


@claim(
    id="ferbach2024.thm2.3.gain",
    paper=PAPER,
    statement=(
        "Theorem 2.3, mixed loop p_{t+1} = p_data/(1+λ) + λ/(1+λ)·p_t H^K_{p_t}, p_0 = p_data: "
        "E_{p_t}[e^r] ≥ E_{p_data}[e^r] + λ(K−1)Var_{p_data}[e^r]/((1+λ)^3 K e^{r_*}) for t ≥ 1 "
        "(the secondary source's constant [P?]). Derived sharp form [D]: the same with "
        "λ/(1+λ) in place of λ/(1+λ)^3, for every t ≥ 1, and λ/(1+λ) cannot be improved (it is "
        "approached at t = 1 when the rewards on supp p_data are nearly equal)."
    ),
    kind="bound",
    provenance="derived",
    method="Derivation: with G_t = E_{p_t}[e^r] − E_{p_data}[e^r], c_K = (K−1)/K, V = "
    "Var_{p_data}[e^r], Lemma 2.2 on the synthetic part gives G_{t+1} ≥ (λ/(1+λ))(G_t + c_K "
    "Var_{p_t}[e^r]/e^{r_*}); G_0 = 0 gives G_1 ≥ (λ/(1+λ))c_K V/e^{r_*}, and for t ≥ 1 p_t ="
    " p_data/(1+λ) + λ/(1+λ)·(curated law) gives Var_{p_t} ≥ V/(1+λ) (variance of a mixture),"
    " so G_t ≥ (λ/(1+λ))c_K V/e^{r_*} propagates by induction. Checks: 100 random discrete "
    "laws (quick 30), K ∈ {2, 3, 4, 6}, λ ~ U(0.05, 3), t = 1..24 of the exact loop, plus "
    "near-tight laws (masses (½, ½), rewards 0 and −δ, δ = 10⁻³; K ∈ {2, 5, ∞}, λ ∈ {0.3, "
    "2.5}): smallest G_t − bound for the sharp and the [P?] constants (one-sided, rounding "
    "10⁻¹³, units of e^{r_*}); sharpness: on the near-tight laws G_1/((λ/(1+λ))c_K V) lies in"
    " [1, e^δ] (it is λ/(1+λ) times Lemma 2.2's ratio, which lies in [1, e^δ], see "
    "lemma2.2.slack).",
    source="arXiv 2407.09499 v1, Theorem 2.3, as restated by one secondary source "
    "(references/ferbach2024.md §2, tag [P?]); the sharp constant is derived here",
    exact_statement="not quoted: the paper body was not available; one secondary source "
    "restates it as 'E_{p_t}[e^r] ≥ E_{p_data}[e^r] + (λ/(1+λ)^3)(K−1)Var_{p_data}[e^r]/"
    "(K e^{r_*})' for the infinite-capacity mixed update (paraphrased from the notes; the notes "
    "flag the exact form, p_0 = p_data, and which t it covers as uncertain)",
    scope="discrete laws, p_0 = p_data, t = 1..24; checks the derived sharp constant λ/(1+λ) "
    "(which implies the [P?] (1+λ)^3 and the notes' (1+λ)^2 forms, both reported or implied) "
    "and its sharpness at t = 1 only: for t ≥ 2 the near-tight laws gain more "
    "(G_t ≈ c_K V λ(1 − (λ/(1+λ))^t)), so the infimum over laws at fixed t ≥ 2 may exceed "
    "λ/(1+λ)",
    controls=(
        Control("constant_1plus_lam_sq", "the sharp constant stated as λ/(1+λ)² (the notes' "
                "induction) instead of λ/(1+λ)"),
        Control("swapped_weights", "the loop mixes with the weights swapped: data weight "
                "λ/(1+λ), curated weight 1/(1+λ)"),
        Control("k_factor_dropped", "the factor (K−1)/K dropped from the bound (the K = ∞ "
                "constant used at finite K)"),
    ),
)
def thm23_gain(ctx):
    swap = ctx.control == "swapped_weights"
    power = 2 if ctx.control == "constant_1plus_lam_sq" else 1

    def bound_unit(k, lam):  # the sharp constant per unit Var_{p_data}[e^r]/e^{r_*}
        factor = 1.0 if (k == INF or ctx.control == "k_factor_dropped") else (k - 1) / k
        return lam / (1 + lam) ** power * factor

    delta = 1e-3
    runs = _mixed_runs(ctx, ctx.size(100, 30), swap=swap)
    tight = []
    for k in (2, 5, INF):
        for lam in (0.3, 2.5):
            pd, r = np.array([0.5, 0.5]), np.array([0.0, -delta])
            traj = cu.curation_trajectory(pd, r, k, 24, synthetic_ratio=1 / lam if swap else lam,
                                          p_data=pd)
            tight.append((pd, r, k, lam, traj))
    worst = {"sharp": math.inf, "paper": math.inf}
    for pd, r, k, lam, traj in runs + tight:
        mom = cu.exp_reward_moments(pd, r)
        gain = traj[1:] @ np.exp(r - mom.r_star) - mom.mean
        worst["sharp"] = min(worst["sharp"], float(np.min(gain - bound_unit(k, lam) * mom.var)))
        worst["paper"] = min(worst["paper"], float(np.min(
            gain - cu.thm23_reward_gain_bound(pd, r, k, lam, constant="paper"))))
    out = [exact_check("min_t≥1 gain − λ/(1+λ)·(K−1)Var/(K e^{r_*}) [D, sharp]", 0.0,
                       worst["sharp"], atol=1e-13, sided="lower"),
           exact_check("min_t≥1 gain − λ/(1+λ)³·(K−1)Var/(K e^{r_*}) [P?]", 0.0, worst["paper"],
                       atol=1e-13, sided="lower")]
    for pd, r, k, lam, traj in tight:
        mom = cu.exp_reward_moments(pd, r)
        ratio = (float(traj[1] @ np.exp(r - mom.r_star)) - mom.mean) / (bound_unit(k, lam)
                                                                         * mom.var)
        out.append(exact_check(f"near-tight law, K={k}, λ={lam}: G_1/bound in [1, e^δ]", 1.0,
                               ratio, atol=math.expm1(delta)))
    return out


@claim(
    id="ferbach2024.thm2.4.kl_ball",
    paper=PAPER,
    statement=(
        "Theorem 2.4: if λ < 1/(K−1) (and p_0 = p_data), KL(p_t‖p_data) ≤ −log(1 − λ(K−1)) for "
        "all t; through the derived density-ratio bound sup_x p_t/p_data ≤ 1/(1 − λ(K−1)) (the "
        "fixed point of c ↦ (1 + λKc)/(1+λ)). Outside the assumption the toolkit raises."
    ),
    kind="bound",
    provenance="paper",
    method="100 random discrete laws (quick 30), K ∈ {2, 3, 5}, λ ~ U(0, 1/(K−1)), 30 "
    "generations of the exact loop: largest density ratio and KL against the bounds (one-sided, "
    "rounding 10⁻¹²); thm24_kl_bound(3, 0.5) raises ValueError (recorded as 1 = raised). "
    "Sharpness of the density-ratio bound c = 1/(1 − λ(K−1)): near-tight laws p_data = "
    "(ε, 1 − ε), rewards (M, 0), ε = 10⁻⁹, M = 30, λ(K−1) = 0.4, K ∈ {2, 3, 5}, 100 "
    "generations: the top atom's ratio c_t must lie in [c_η − (c_η − 1)q^T, c], derived: "
    "H(top) ≥ K(1 − η), η = (K−1)(cε + e^{−M}) (no competitor on the top atom with "
    "probability ≥ 1 − (K−1)cε), so c_{t+1} ≥ (1 + λK(1−η)c_t)/(1+λ), whose fixed point is "
    "c_η = 1/(1 + λ − λK(1 − η)) and rate q = λK(1−η)/(1+λ).",
    source="arXiv 2407.09499 v1, Theorem 2.4, as restated by one secondary source "
    "(references/ferbach2024.md §2, tag [P?]); the density-ratio bound is the notes' proof "
    "sketch [D, num]",
    exact_statement="not quoted: the paper body was not available; one secondary source "
    "restates it as 'if λ < 1/(K−1), then for all t, D_KL(p_t ‖ p_data) ≤ −log(1 − λ(K−1))' "
    "(paraphrased from the notes; whether p_0 = p_data is required is flagged as uncertain)",
    scope="discrete laws, p_0 = p_data, 30 generations (100 for the near-tight laws). The KL "
    "bound itself cannot be tight (KL(p_t‖p_data) ≤ log sup p_t/p_data with equality only "
    "when p_t = p_data): it is checked as a bound with slack; the power comes from the "
    "density-ratio bound, which is sharp (approached on a low-mass, high-reward atom)",
    controls=(
        Control("bound_1plus_lam", "the ratio bound (1+λ)/(1 − λ(K−1)) (the data term's "
                "1/(1+λ) dropped in the recursion), and the KL bound its log"),
        Control("swapped_weights", "the loop mixes with the weights swapped: data weight "
                "λ/(1+λ), curated weight 1/(1+λ)"),
    ),
)
def thm24_kl_ball(ctx):
    swap = ctx.control == "swapped_weights"

    def ratio_bound(k, lam):
        c = cu.thm24_density_ratio_bound(k, lam)
        return (1 + lam) * c if ctx.control == "bound_1plus_lam" else c

    rng = np.random.default_rng(ctx.seed + 2)
    ratio_gap = kl_gap = math.inf
    for pd, r in _instances(ctx.seed, ctx.size(100, 30)):
        k = int(rng.choice([2, 3, 5]))
        lam = float(rng.uniform(0.0, 1.0 / (k - 1)))
        traj = cu.curation_trajectory(pd, r, k, 30, synthetic_ratio=1 / lam if swap else lam,
                                      p_data=pd)
        ratio_gap = min(ratio_gap, ratio_bound(k, lam) - float(np.max(traj / pd)))
        kl_gap = min(kl_gap, math.log(ratio_bound(k, lam))
                     - max(cu.kl_divergence(q, pd) for q in traj))
    try:
        cu.thm24_kl_bound(3, 0.5)
        raised = 0.0
    except ValueError:
        raised = 1.0
    out = [exact_check("min (1/(1 − λ(K−1)) − max p_t/p_data)", 0.0, ratio_gap, atol=1e-12,
                       sided="lower"),
           exact_check("min (−log(1 − λ(K−1)) − max_t KL(p_t‖p_data))", 0.0, kl_gap,
                       atol=1e-12, sided="lower"),
           exact_check("λ(K−1) ≥ 1 raises ValueError", 1.0, raised)]
    eps, m_top, steps = 1e-9, 30.0, 100
    pd, r = np.array([eps, 1 - eps]), np.array([m_top, 0.0])
    for k in (2, 3, 5):
        lam = 0.4 / (k - 1)
        traj = cu.curation_trajectory(pd, r, k, steps, synthetic_ratio=1 / lam if swap else lam,
                                      p_data=pd)
        c = cu.thm24_density_ratio_bound(k, lam)
        eta = (k - 1) * (c * eps + math.exp(-m_top))
        c_eta = 1 / (1 + lam - lam * k * (1 - eta))
        low = c_eta - (c_eta - 1) * (lam * k * (1 - eta) / (1 + lam)) ** steps
        # the derived interval's width c − low is the tolerance; the prediction is the
        # claimed sharp constant (a control changes it, not the width)
        out.append(exact_check(f"near-tight law, K={k}: max_t p_t/p_data on the top atom in "
                               "[c_η − (c_η − 1)q^T, c]", ratio_bound(k, lam),
                               float(np.max(traj[:, 0] / eps)), atol=c - low + 1e-12))
    return out


@claim(
    id="ferbach2024.thm2.4.reverse_kl",
    paper=PAPER,
    statement=(
        "Mixed loop, any K and reward [D]: p_t ≥ p_data/(1+λ) for t ≥ 1, hence "
        "KL(p_data‖p_t) ≤ log(1+λ); the bound is sharp (approached when the curated part sits "
        "on a low-mass, high-reward atom)."
    ),
    kind="bound",
    provenance="derived",
    method="The 100 (quick 30) random mixed loops of thm2.3.gain, t = 1..24, plus K = ∞: "
    "smallest log(1+λ) − KL(p_data‖p_t) (one-sided, rounding 10⁻¹²). Sharpness: p_data = "
    "(ε, 1 − ε), rewards (M, 0), ε = 10⁻⁶, M = 40, K = ∞, λ ∈ {0.5, 2}, t = 1..5: "
    "max_t KL(p_data‖p_t) ≥ log(1+λ) − τ, derived τ = ε(log(1+λ) + |log ε|) + λ(1+λ)e^{−M}/ε "
    "(the curated part puts ≤ δ = (1+λ)e^{−M}/ε on the low atom since p_{t−1}(top) ≥ "
    "ε/(1+λ); KL ≥ (1−ε)log((1−ε)/(w(1−ε) + (1−w)δ)) + ε log ε, w = 1/(1+λ)).",
    source="derived; a corollary the notes state beside arXiv 2407.09499 v1, Theorem 2.4 "
    "(references/ferbach2024.md §2, 'Corollaries [D]')",
    exact_statement="not stated in the paper",
    scope="holds by construction of the mixing step: p_t = p_data/(1+λ) + (a law)·λ/(1+λ) "
    "gives p_t ≥ p_data/(1+λ) pointwise, whatever K, the reward or the curated law; the check "
    "therefore tests the loop's mixing weights and the constant log(1+λ) (with its sharpness "
    "on one near-tight law), not a property of curation. Discrete laws, t = 1..24",
    controls=(
        Control("swapped_weights", "the loop mixes with the weights swapped: data weight "
                "λ/(1+λ), curated weight 1/(1+λ)"),
        Control("synthetic_share", "the bound stated as λ/(1+λ) (the synthetic share, a "
                "TV-style constant) instead of log(1+λ)"),
    ),
)
def thm24_reverse(ctx):
    swap = ctx.control == "swapped_weights"

    def bound(lam):
        return lam / (1 + lam) if ctx.control == "synthetic_share" else cu.reverse_kl_bound(lam)

    gap = math.inf
    for pd, r, _k, lam, traj in _mixed_runs(ctx, ctx.size(100, 30), swap=swap):
        inf_traj = cu.curation_trajectory(pd, r, INF, 24,
                                          synthetic_ratio=1 / lam if swap else lam, p_data=pd)
        for tr in (traj, inf_traj):
            gap = min(gap, bound(lam) - max(cu.kl_divergence(pd, q) for q in tr[1:]))
    out = [exact_check("min (log(1+λ) − KL(p_data‖p_t))", 0.0, gap, atol=1e-12,
                       sided="lower")]
    eps, m_top = 1e-6, 40.0
    pd, r = np.array([eps, 1 - eps]), np.array([m_top, 0.0])
    for lam in (0.5, 2.0):
        traj = cu.curation_trajectory(pd, r, INF, 5, synthetic_ratio=1 / lam if swap else lam,
                                      p_data=pd)
        kl = max(cu.kl_divergence(pd, q) for q in traj[1:])
        tau = eps * (math.log1p(lam) + abs(math.log(eps))) + lam * (1 + lam) * math.exp(
            -m_top) / eps
        out.append(exact_check(f"near-tight law, λ={lam}: max_t KL(p_data‖p_t) in "
                               "[log(1+λ) − τ, log(1+λ)]", bound(lam), kl, atol=tau + 1e-12))
    return out


@claim(
    id="ferbach2024.thm2.4.plateau",
    paper=PAPER,
    statement=(
        "With λ < 1/(K−1) the expected reward saturates [D]: by Donsker–Varadhan and Theorem "
        "2.4, E_{p_t}[r] ≤ log E_{p_data}[e^r] − log(1 − λ(K−1)) for all t; the empirical "
        "plateau lies below this bound."
    ),
    kind="bound",
    provenance="derived",
    method="5-atom law with rewards (−2, −1, 0, 1, 3), K ∈ {2, 3, 5}, λ = 0.9/(K−1), 400 "
    "generations of the exact loop: the plateau max_t E_{p_t}[r] against the bound "
    "(one-sided, rounding 10⁻¹²); the plateau is reached (|E_{p_400} − E_{p_399}| < 10⁻⁹); and "
    "the plateau E_{p_400}[r] equals E_{p_∞}[r] at the fixed point p_∞ = p_data/(1+λ) + "
    "λ/(1+λ)·p_∞H^K_{p_∞}, found by a root finder (scipy hybr on log p, started at p_data, "
    "residual ≤ 10⁻¹³) rather than by iterating the loop (absolute 10⁻⁹: the loop's last step "
    "is below 10⁻⁹).",
    source="derived; a consequence of arXiv 2407.09499 v1, Theorem 2.4 (restated by one "
    "secondary source, tag [P?]) with Donsker–Varadhan (references/ferbach2024.md §2, "
    "'Corollaries [D]'), and the saturation the secondary sources report for the CIFAR-10 runs "
    "with real data ('increases before stabilizing')",
    exact_statement="not stated in the paper",
    scope="one 5-atom law, K ∈ {2, 3, 5}, λ(K−1) = 0.9; the Donsker–Varadhan bound has a "
    "large slack here (plateau ≈ 0.38, 0.19, 0.002 against a bound ≈ 3.31: it also bounds "
    "laws far from the plateau) and holds for every control; the power comes from the exact "
    "comparison of the plateau with the loop's fixed point",
    controls=(
        Control("swapped_weights", "the loop mixes with the weights swapped: data weight "
                "λ/(1+λ), curated weight 1/(1+λ)"),
        Control("fixed_point_k_plus_one", "the predicted plateau is the fixed point of the "
                "loop with K + 1 candidates"),
    ),
)
def thm24_plateau(ctx):
    pd = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    r = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    out = []
    for k in (2, 3, 5):
        lam = 0.9 / (k - 1)
        traj = cu.curation_trajectory(pd, r, k, 400, p_data=pd,
                                      synthetic_ratio=1 / lam if ctx.control == "swapped_weights"
                                      else lam)
        er = traj @ r
        out.append(exact_check(f"K={k}: plateau max_t E_p_t[r] ≤ DV bound",
                               cu.thm24_reward_plateau_bound(pd, r, k, lam), float(er.max()),
                               atol=1e-12, sided="upper"))
        out.append(exact_check(f"K={k}: plateau reached", 0.0, abs(er[-1] - er[-2]),
                               atol=1e-9, sided="upper"))
        k_fp = k + 1 if ctx.control == "fixed_point_k_plus_one" else k
        p_inf, residual = _mixed_fixed_point(pd, r, k_fp, lam)
        out.append(exact_check(f"K={k}: root-finder residual", 0.0, residual, atol=1e-13,
                               sided="upper"))
        out.append(exact_check(f"K={k}: plateau E_p_400[r] = E_p_∞[r] (root finder)",
                               float(p_inf @ r), float(er[-1]), atol=1e-9))
    return out


def _mixed_fixed_point(pd, r, k, lam):
    """The fixed point of the finite-K mixed loop, p = p_data/(1+λ) + λ/(1+λ)·p H^K_p, by a
    root finder on log p started at p_data (not by iterating the loop); returns (p, the largest
    |log-residual|)."""
    w = 1.0 / (1.0 + lam)

    def residual(z):
        p = np.exp(z - np.max(z))
        p /= p.sum()
        return np.log(w * pd + (1 - w) * cu.curated_law(p, r, k)) - np.log(p)

    sol = optimize.root(residual, np.log(pd), method="hybr", tol=1e-14)
    p = np.exp(sol.x - np.max(sol.x))
    return p / p.sum(), float(np.max(np.abs(residual(sol.x))))


# ============================================================================ Theorem 2.2 (item 6)


@claim(
    id="ferbach2024.thm2.2.mean_only",
    paper=PAPER,
    statement=(
        "Theorem 2.2 (local stability of the mixed loop, parametric) in the mean-only family "
        "N(θ, σ²I) with a linear reward, where α = 1/σ² and L = 0: the mixed loop (fixed real "
        "set, λn fresh K-curated synthetic points per generation, mean refitted) approaches "
        "θ* = μ_d + λσ²a m_K(s)/s (not the data mean) geometrically at rate ρ = λ/(1+λ) "
        "(ρ(L = 0) of the notes' ρ = λ(α + εL)/(α + λ(α − εL)) [P?]), so that "
        "aᵀ(E θ_t − θ_0) = aᵀ(θ* − μ_d)(1 − ρ^t) and KL(p_θ*‖p_Eθt) ∝ ρ^{2t}."
    ),
    kind="rate",
    provenance="derived",
    method="samples engine (model gaussian_mean, data mix, K-choice curation by Gumbel-max), "
    "d = 2, σ² = 0.7, a = (0.5, −1), μ_d = (1, 2), n = 1000 real points, K ∈ {2, 5, ∞}, "
    "λ ∈ {0.25, 2}, T = 6, R = 400 replicates (quick 200): z-test of the replicate mean of "
    "aᵀ(θ_t − θ_0) against aᵀ(θ* − μ_d)(1 − ρ^t) at each t = 1..6 (θ_0 is the real-set mean "
    "x̄, and given x̄ the loop's expected fixed point is x̄ + (θ* − μ_d)); m_K by quadrature; "
    "plus thm22_rho(λ, α, 0, 0) = λ/(1+λ) exactly.",
    source="arXiv 2407.09499 v1, Theorem 2.2 (with Assumption 2.2), as restated by "
    "secondary sources (notes §2); the mean-only instance is derived (notes §5.1)",
    exact_statement="not quoted: the paper body was not at hand (the notes read only its "
    "abstract and table of contents; the search corpora hold only the openings of the arXiv "
    "HTML pages, which stop before Section 2). The notes' paraphrase [P?]: if Lε < α and "
    "λ < α/(2εL), then D_KL(p_θ* ‖ p_θt) = Õ(ρ^{2t}), ρ = λ(α + εL)/(α + λ(α − εL)); the "
    "definitions of ε and θ* are uncertain.",
    scope="only the L = 0 instance (mean-only Gaussian, constant Hessian −I/σ², linear "
    "reward), where the theorem's ρ reduces to λ/(1+λ) whatever ε is: the εL-dependence of "
    "ρ, the local (Lε < α) hypothesis and the Õ are not tested. What is checked is the "
    "engine's expected trajectory (finite n: the fixed point is the real-set mean plus "
    "θ* − μ_d, and the rate is that of the mixing weights), so the claim resolves ρ(L = 0) "
    "and the fixed point, e.g. it rejects Bertrand et al.'s ρ = λ(α + εL)/(α − λ(α + εL)) "
    "(λ/(1−λ) at L = 0) as the exact rate and the data MLE as θ*. The theorem is an upper "
    "bound (Õ(ρ^{2t})); the exact rate measured here is stronger: it shows the notes' "
    "ρ(L = 0) is attained, while Bertrand's λ/(1−λ) ≥ λ/(1+λ) would remain a valid, looser "
    "bound for λ < 1/2 (rejected as the rate, not as a bound). Theorem 2.2 itself is not "
    "proved here.",
    controls=(
        Control("bertrand_rho", "the predicted rate is Bertrand et al.'s form at L = 0, "
                "λ/(1−λ), instead of λ/(1+λ)"),
        Control("weights_swapped", "the loop mixes with the weights swapped: synthetic ratio "
                "1/λ instead of λ (real weight λ/(1+λ))"),
        Control("data_mle_target", "the predicted limit θ* is the data mean μ_d (no "
                "curation shift)"),
    ),
)
def thm22_mean_only(ctx):
    from simulations import LoopSpec, run
    from theory.rewards import LinearReward

    sigma2, a, mu_d = 0.7, np.array([0.5, -1.0]), np.array([1.0, 2.0])
    n, T, R = 1000, 6, ctx.size(400, 200)
    out = []
    for j, (k, lam) in enumerate((k, lam) for k in (2, 5, INF) for lam in (0.25, 2.0)):
        loop_lam = 1 / lam if ctx.control == "weights_swapped" else lam
        spec = LoopSpec(dim=2, n_real=n, synthetic_ratio=loop_lam, data="mix",
                        model="gaussian_mean", curation_k=k, reward=LinearReward(a),
                        generations=T, replicates=R, truth=(mu_d, sigma2 * np.eye(2)))
        traj = run(spec, seed=64 * ctx.seed + j, engine="samples")
        rho = cu.thm22_rho(lam, 1 / sigma2, 0.0, 0.0)
        if j == 0 or j == 1:
            out.append(exact_check(f"thm22_rho(λ={lam}, L=0) = λ/(1+λ)", lam / (1 + lam), rho,
                                   rtol=1e-15))
        if ctx.control == "bertrand_rho":
            rho = lam / (1 - lam)
        star = (mu_d if ctx.control == "data_mle_target"
                else cu.mean_only_fixed_point(sigma2, a, mu_d, k, lam))
        gap = float(a @ (star - mu_d))
        shift = (traj.means - traj.means[:, :1]) @ a  # aᵀ(θ_t − θ_0), (R, T+1)
        for t in range(1, T + 1):
            out.append(mean_check(f"K={k}, λ={lam}: E aᵀ(θ_{t} − θ_0)", shift[:, t],
                                  gap * (1 - rho**t)))
    return out


@claim(
    id="ferbach2024.gaussian.mixed_fixed_point",
    paper=PAPER,
    statement=(
        "Gaussian family (full covariance), linear reward, K = ∞, mixed loop [D]: the moment-"
        "matched loop converges to μ* = μ_d + λΣ*a, Σ* = Σ_d + λ(1+λ)(Σ*a)(Σ*a)ᵀ, "
        "s* = aᵀΣ*a = [1 − √(1 − 4λ(1+λ)s_d)]/(2λ(1+λ)), when 4λ(1+λ)aᵀΣ_d a ≤ 1, and the "
        "variance along a diverges otherwise."
    ),
    kind="limit",
    provenance="derived",
    method="d = 2, aᵀΣ_d a = 0.146, λ ∈ {0.2, 0.5, 0.8, 1, 2} (4λ(1+λ)s_d = 0.14, 0.44, 0.84, "
    "1.17, 3.5): the regime is predicted from the condition; where it predicts convergence, "
    "500 steps of the library's mixed step from (μ_d, Σ_d) against the closed form written "
    "out here (relative 10⁻⁹); where it predicts divergence, aᵀΣ_t a exceeds 10⁴·s_d within "
    "100 steps (recorded as the step count). The library's fixed-point function is compared "
    "with the closed form (relative 10⁻¹²).",
    source="derived; notes §5.1 'Mixed loop, Gaussian family, K = inf [D, num]' (the "
    "Gaussian-family analogue of the mixed loop of arXiv 2407.09499 v1, Eq. 8)",
    exact_statement="not stated in the paper (a derivation of the notes, used as the "
    "full-covariance counterpart of Theorem 2.2)",
    scope="one 2-D instance (one Σ_d, one a) and five λ; population (infinite-sample) "
    "moment-matching map, K = ∞ only; divergence is checked as 'exceeds 10⁴ s_d within 100 "
    "steps', not as a rate",
    controls=(
        Control("coef_lambda_sq", "the closed form and the existence condition use λ² in "
                "place of λ(1+λ)"),
        Control("mean_fraction", "μ* = μ_d + (λ/(1+λ))Σ*a: the synthetic fraction in place "
                "of the ratio λ"),
    ),
)
def gaussian_mixed_fixed_point(ctx):
    mu_d, cov_d, a = np.array([0.0, 1.0]), np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([0.3,
                                                                                          0.2])
    s_d = float(a @ cov_d @ a)
    out = []
    for lam in (0.2, 0.5, 0.8, 1.0, 2.0):
        coef = lam * lam if ctx.control == "coef_lambda_sq" else lam * (1 + lam)
        if 4 * coef * s_d <= 1:
            m_star, c_star = _mixed_tilt_closed_form(mu_d, cov_d, a, coef,
                                                     lam / (1 + lam)
                                                     if ctx.control == "mean_fraction" else lam)
            if lam == 0.5:
                lib_m, lib_c = cu.gaussian_mixed_tilt_fixed_point(mu_d, cov_d, a, lam)
                out.append(exact_check("library fixed point vs closed form, λ=0.5", 0.0,
                                       float(np.linalg.norm(lib_c - c_star)
                                             + np.linalg.norm(lib_m - m_star)), atol=1e-12))
            m, c = mu_d, cov_d
            for _ in range(500):
                m, c = cu.gaussian_mixed_tilt_step(m, c, a, mu_d, cov_d, lam)
                if a @ c @ a > 1e4 * s_d:  # diverging: the predicted limit is not reached
                    m, c = np.full(2, math.inf), np.full((2, 2), math.inf)
                    break
            out.append(exact_check(f"λ={lam}: ‖Σ_500 − Σ*‖/‖Σ*‖", 0.0,
                                   float(np.linalg.norm(c - c_star) / np.linalg.norm(c_star)),
                                   atol=1e-9))
            out.append(exact_check(f"λ={lam}: ‖μ_500 − μ*‖/‖μ*‖", 0.0,
                                   float(np.linalg.norm(m - m_star) / np.linalg.norm(m_star)),
                                   atol=1e-9))
        else:
            m, c = mu_d, cov_d
            steps = 0
            while steps < 100 and a @ c @ a <= 1e4 * s_d:
                m, c = cu.gaussian_mixed_tilt_step(m, c, a, mu_d, cov_d, lam)
                steps += 1
            out.append(exact_check(f"λ={lam} (4λ(1+λ)s_d = {4 * lam * (1 + lam) * s_d:.2f}): "
                                   "steps until aᵀΣa > 10⁴ s_d", 100.0, float(steps),
                                   sided="upper", atol=-1.0))
    return out


def _mixed_tilt_closed_form(mu_d, cov_d, a, coef, mean_coef):
    """Fixed point of the K = ∞ mixed Gaussian-family loop (notes §5.1), written out:
    s* = [1 − √(1 − 4c s_d)]/(2c), Σ*a = Σ_d a/(1 − c s*), Σ* = Σ_d + c(Σ*a)(Σ*a)ᵀ,
    μ* = μ_d + m Σ*a, with c = λ(1+λ) and m = λ (controls perturb c and m)."""
    s_d = float(a @ cov_d @ a)
    s_star = (1 - math.sqrt(1 - 4 * coef * s_d)) / (2 * coef)
    b = cov_d @ a / (1 - coef * s_star)
    return mu_d + mean_coef * b, cov_d + coef * np.outer(b, b)


# ============================================================================ RLHF link (item 7)


@claim(
    id="ferbach2024.rlhf.tilt",
    paper=PAPER,
    statement=(
        "K = ∞ pure loop as RLHF (notes §3; framing of the paper, algebra [D]): t rounds of "
        "curation give p_0 e^{tr}/E_{p_0}[e^{tr}] = argmax_p E_p[r] − (1/t)KL(p‖p_0), with value "
        "(1/t) log E_{p_0}[e^{tr}]; for N(μ_0, Σ) and r = aᵀx this is N(μ_0 + tΣa, Σ), and for a "
        "Gaussian mixture each component moves by tΣ_j a with weight ∝ π_j E_j[e^{tr}] "
        "(replicator dynamics)."
    ),
    kind="equality",
    provenance="derived",
    method="Discrete law (6 atoms): 25 exact one-step iterations against the closed form, and "
    "the RLHF objective at the closed form against its Gibbs value and above 50 random "
    "competitors; 3-component 1-D mixture: 10 one-step gmm tilts against the t-step closed "
    "form written out here (weights ∝ π_j exp(t a μ_j + t² a² σ_j²/2), means μ_j + t a σ_j²), "
    "and the 2-D Gaussian linear tilt iterated vs closed form (relative 10⁻¹⁰).",
    source="arXiv 2407.09499 v1, Lemma 2.1 (K → ∞ limit, p_{t+1} ∝ p_t e^r) and the paper's "
    "RLHF framing, as restated by secondary sources (notes §1.5, §3); the t-step and "
    "Gaussian/mixture closed forms are derived (notes §5.1, §5.3)",
    exact_statement="not quoted: the paper body was not at hand (notes: only the abstract "
    "and table of contents were read). Paraphrased from the notes [P]: as K → ∞, "
    "H^K_p(x) → e^{r(x)}/E_p[e^r], so p_{t+1}(x) = p_t(x)e^{r(x)}/E_{p_t}[e^r]; the "
    "equivalence with KL-regularised reward maximisation (β = 1/t from p_0) is the notes' "
    "derivation [D] of the paper's framing.",
    scope="K = ∞ only (the exact tilt, not a finite-K limit); one random 6-atom law per "
    "seed, one 3-component 1-D mixture and one 2-D Gaussian; optimality of the RLHF "
    "solution is checked against 50 random competitors, not proved",
    controls=(
        Control("off_by_one", "the closed forms use t + 1 tilts for t iterations (an "
                "off-by-one generation index)"),
        Control("variance_linear_in_t", "the mixture's t-step weights use t·a²σ_j²/2 in "
                "place of t²·a²σ_j²/2"),
    ),
)
def rlhf_tilt(ctx):
    rng = np.random.default_rng(ctx.seed)
    p0, r = rng.dirichlet(np.ones(6)), rng.normal(size=6)
    out = []
    p = p0
    worst = 0.0
    for t in range(1, 26):
        p = cu.curation_step(p, r, INF)
        t_pred = t + 1 if ctx.control == "off_by_one" else t
        worst = max(worst, float(np.max(np.abs(p - cu.tilt_power(p0, r, t_pred)))))
    out.append(exact_check("max |iterated tilt − p_0e^{tr}/Z|", 0.0, worst, atol=1e-13))
    for t in (1, 5, 25):
        opt = cu.tilt_power(p0, r, t)
        value = cu.rlhf_objective(opt, p0, r, 1 / t)
        out.append(exact_check(f"t={t}: RLHF value = (1/t) log E e^{{tr}}",
                               math.log(p0 @ np.exp(t * r)) / t, value, rtol=1e-10))
        best_other = max(cu.rlhf_objective(0.5 * (opt + rng.dirichlet(np.ones(6))), p0, r, 1 / t)
                         for _ in range(50))
        out.append(exact_check(f"t={t}: random competitors below the optimum", value,
                               best_other, sided="upper"))
    w, mu, cv = np.array([0.2, 0.5, 0.3]), np.array([[-2.0], [0.0], [1.5]]), \
        np.array([[[0.5]], [[1.0]], [[0.3]]])
    ww, mm, cc = w, mu, cv
    for _ in range(10):
        ww, mm, cc = cu.gmm_linear_tilt(ww, mm, cc, [0.4])
    t_mix, slope = 10, 0.4
    lin = ctx.control == "variance_linear_in_t"
    var_j = cv[:, 0, 0]
    log_w = np.log(w) + t_mix * slope * mu[:, 0] + (t_mix if lin else t_mix**2) * slope**2 \
        * var_j / 2
    w10 = np.exp(log_w - log_w.max())
    w10 /= w10.sum()
    m10 = mu + t_mix * slope * cv[:, :, 0]
    lib_w, lib_m, _ = cu.gmm_linear_tilt(w, mu, cv, [0.4], 10)
    out.append(exact_check("mixture: library 10-step tilt vs closed form", 0.0,
                           float(np.max(np.abs(lib_w - w10)) + np.max(np.abs(lib_m - m10))),
                           atol=1e-13))
    out.append(exact_check("mixture: 10 one-step tilts vs 10-step weights", 0.0,
                           float(np.max(np.abs(ww - w10))), atol=1e-13))
    out.append(exact_check("mixture: component means", 0.0, float(np.max(np.abs(mm - m10))),
                           atol=1e-12))
    m, c = np.array([0.5, -0.5]), np.array([[1.0, 0.2], [0.2, 0.5]])
    for _ in range(7):
        m, c = cu.gaussian_family_curation_step(m, c, [1.0, 2.0], INF)
    m7, _ = cu.linear_tilt([0.5, -0.5], [[1.0, 0.2], [0.2, 0.5]], [1.0, 2.0],
                           8 if ctx.control == "off_by_one" else 7)
    out.append(exact_check("Gaussian: 7 tilts = N(μ_0 + 7Σa, Σ)", 0.0,
                           float(np.max(np.abs(m - m7))), atol=1e-12))
    return out


@claim(
    id="ferbach2024.rlhf.mixed",
    paper=PAPER,
    statement=(
        "K = ∞ mixed loop [D, not claimed to be in the paper]: the update is an MM step for "
        "G(p) = E_{p_data}[log p] + λ log E_p[e^r], so G(p_t) is non-decreasing, and p_t → "
        "p_∞ = p_data/(1 + λ − λe^r/Z), Z = E_{p_∞}[e^r] (also the follow-up paper's Prop. "
        "3.8); p_∞ is not of the form p_data e^{r/β}."
    ),
    kind="monotone",
    provenance="derived",
    method="20 random discrete laws (quick 8), λ ∈ {0.3, 1, 4}, 300 generations: smallest "
    "one-step change of G (≥ −10⁻¹²); ‖p_300 − p_∞‖∞ (10⁻⁹) with p_∞ solved here from the "
    "formula (Z by Brent's method on Σ p_data/(1 + λ − λe^r/Z) = 1) and compared with the "
    "library's (10⁻¹⁰); p_∞ is a fixed point of the step (10⁻¹¹).",
    source="derived; notes §3 'K = inf, mixed loop [D, num; not claimed to be in the paper]' "
    "(the mixed update is Eq. 8 of arXiv 2407.09499 v1 as restated by secondary sources, "
    "with K = ∞); the fixed point also appears as Prop. 3.8 of the follow-up paper (notes)",
    exact_statement="not stated in the paper",
    scope="discrete laws (≤ 6 atoms) only, K = ∞ only, three λ; monotonicity of G is "
    "checked along 300 generations of each run, not proved",
    controls=(
        Control("eta_for_lambda", "the predicted p_∞ uses the synthetic fraction "
                "η = λ/(1+λ) in place of λ"),
        Control("weights_swapped", "the loop mixes with real weight λ/(1+λ) and synthetic "
                "weight 1/(1+λ) (ratio 1/λ in place of λ)"),
    ),
)
def rlhf_mixed(ctx):
    d_g = math.inf
    dist = fixed = lib = 0.0
    for pd, r in _instances(ctx.seed, ctx.size(20, 8)):
        for lam in (0.3, 1.0, 4.0):
            loop_lam = 1 / lam if ctx.control == "weights_swapped" else lam
            traj = cu.curation_trajectory(pd, r, INF, 300, synthetic_ratio=loop_lam,
                                          p_data=pd)
            g = [cu.mixed_functional(q, pd, r, lam) for q in traj]
            d_g = min(d_g, float(np.min(np.diff(g))))
            p_inf = _rlhf_mixed_limit(pd, r, lam / (1 + lam) if ctx.control == "eta_for_lambda"
                                      else lam)
            lib = max(lib, float(np.max(np.abs(cu.mixed_tilt_fixed_point(pd, r, lam)[0]
                                               - _rlhf_mixed_limit(pd, r, lam)))))
            dist = max(dist, float(np.max(np.abs(traj[-1] - p_inf))))
            step = cu.curation_step(p_inf, r, INF, synthetic_ratio=lam, p_data=pd)
            fixed = max(fixed, float(np.max(np.abs(step - p_inf))))
    return [exact_check("min ΔG(p_t)", 0.0, d_g, atol=1e-12, sided="lower"),
            exact_check("max ‖p_300 − p_∞‖∞", 0.0, dist, atol=1e-9),
            exact_check("max ‖library p_∞ − p_∞‖∞", 0.0, lib, atol=1e-10),
            exact_check("max ‖step(p_∞) − p_∞‖∞", 0.0, fixed, atol=1e-11)]


def _rlhf_mixed_limit(pd, r, lam):
    """p_∞ = p_data/(1 + λ − λe^r/Z) with Z = E_{p_∞}[e^r] (notes §3): the normalisation
    Σ p_data/(1 + λ − λe^{r}/Z) = 1 is decreasing in Z on (λ max e^r/(1+λ), ∞), where it
    falls from +∞ to 1/(1+λ); Z is its root (Brent)."""
    from scipy import optimize

    er = np.exp(r - r.max())  # e^r up to a common factor, which Z absorbs
    lo = lam / (1 + lam) * (1 + 1e-15)

    def excess(z):
        return float(np.sum(pd / (1 + lam - lam * er / z))) - 1.0

    hi = 2.0
    while excess(hi) > 0:
        hi *= 2
    z = optimize.brentq(excess, lo * (1 + 1e-12), hi, xtol=1e-300, rtol=1e-15)
    p = pd / (1 + lam - lam * er / z)
    return p / p.sum()


# ============================================================================ item 8


@claim(
    id="ferbach2024.gaussian_family.selection_moments",
    paper=PAPER,
    statement=(
        "Finite K on a Gaussian [D]: the kept draw of K i.i.d. N(0, 1) chosen by softmax(s·u) "
        "has mean m_K(s) and variance v_K(s) (quadrature of φ·H^K); m_K(s)/s → (K−1)/K and "
        "(1 − v_K(s))/s² → (K−1)/K² as s → 0; the curated law is not Gaussian, and the "
        "Gaussian-family projection moves (μ, Σ) by Σa m_K/s and −(1 − v_K)ΣaaᵀΣ/s²."
    ),
    kind="equality",
    provenance="derived",
    method="Quadrature vs Monte Carlo of the kept draw (K ∈ {2, 5}, s ∈ {0.5, 2}, 4·10⁵ "
    "draws, quick 10⁵; z-tests on mean and second moment); K = 2 vs the closed route "
    "E[D(σ(sD) − ½)], D ~ N(0, 2) (relative 10⁻¹⁰); small-s limits at s = 10⁻³ (remainders "
    "O(s²): relative 10⁻⁵).",
    source="derived; notes §5.1 'Finite K, Gaussian-family projection' (m_K, v_K and their "
    "small-s expansions); the curation rule is Lemma 2.1 / §1.1 of arXiv 2407.09499 v1 as "
    "restated by secondary sources",
    exact_statement="not stated in the paper",
    scope="four (K, s) pairs for the Monte Carlo comparison (first two moments only, not "
    "the whole law: non-Gaussianity of the curated law is not tested here), K = 2 for the "
    "closed route, K ∈ {2, 5, 10} for the small-s limits at a single s = 10⁻³",
    controls=(
        Control("k_minus_one", "the predicted moments are m_{K−1}, v_{K−1} (one candidate "
                "fewer than drawn)"),
        Control("small_s_constant", "the predicted small-s limit of (1 − v_K)/s² is (K−1)/K "
                "(the mean's constant) in place of (K−1)/K²"),
    ),
)
def selection_moments(ctx):
    out = []
    size = ctx.size(400_000, 100_000)
    cases = [(k, s) for k in (2, 5) for s in (0.5, 2.0)]
    kept = np.asarray(jax.jit(_kept_normal, static_argnums=(2, 3))(
        jax.random.key(ctx.seed), jnp.array([s for _, s in cases]), tuple(k for k, _ in cases),
        size))
    for u, (k, s) in zip(kept, cases, strict=True):
        m, v = cu.selection_moments(s, k - 1 if ctx.control == "k_minus_one" else k)
        out.append(mean_check(f"K={k}, s={s}: E u", u, m))
        out.append(mean_check(f"K={k}, s={s}: E u²", u * u, v + m * m))
    for s in (0.5, 2.0):
        closed = integrate.quad(lambda d, s=s: d * (special.expit(s * d) - 0.5)
                                * math.exp(-d * d / 4) / math.sqrt(4 * math.pi), -60, 60,
                                epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        out.append(exact_check(f"K=2, s={s}: m_2 vs closed route", closed,
                               cu.selection_moments(s, 2)[0], rtol=1e-10))
    for k in (2, 5, 10):
        m, v = cu.selection_moments(1e-3, k)
        out.append(exact_check(f"K={k}: m_K(s)/s at s=1e-3", (k - 1) / k, m / 1e-3, rtol=1e-5))
        b_pred = (k - 1) / k if ctx.control == "small_s_constant" else (k - 1) / k**2
        out.append(exact_check(f"K={k}: (1−v_K(s))/s² at s=1e-3", b_pred,
                               (1 - v) / 1e-6, rtol=1e-5))
    return out


def _kept_normal(key, s, ks, size):
    """For each case j: K = ks[j] i.i.d. N(0, 1) draws, keep one by softmax(s[j]·u) (Gumbel-max);
    one compilation for all cases (candidates beyond K masked). Shape (len(ks), size)."""
    k_max = max(ks)
    u = jax.random.normal(key, (len(ks), size, k_max))
    g = jax.random.gumbel(jax.random.fold_in(key, 1), u.shape)
    scores = jnp.where(jnp.arange(k_max)[None, None, :] < jnp.array(ks)[:, None, None],
                       s[:, None, None] * u + g, -jnp.inf)
    return jnp.take_along_axis(u, jnp.argmax(scores, axis=2)[..., None], axis=2)[..., 0]


@claim(
    id="ferbach2024.gaussian_family.contrast",
    paper=PAPER,
    statement=(
        "Gaussian-family vs nonparametric contrast [D] (linear reward): in the Gaussian family "
        "with finite K the variance along a collapses, s_t² ≈ K²/((K−1)t), and the reward grows "
        "only logarithmically, aᵀ(μ_t − μ_{t−1}) ≈ K/t (aᵀμ_t ≈ K log t); at K = ∞ the variance "
        "is constant and aᵀμ_t = aᵀμ_0 + t s_0² grows linearly. Tested through the one-step "
        "increments: 1/s²_{t+1} − 1/s²_t = b + e₂s_t² + O(s_t⁴), b = (K−1)/K², and "
        "aᵀ(μ_{t+1} − μ_t)/s_t² = m_K(s_t)/s_t = (K−1)/K + m₃s_t² + O(s_t⁴), which sum to "
        "1/s_t² = bt + O(log t) and aᵀμ_t = K log t + O(1)."
    ),
    kind="limit",
    provenance="derived",
    method="1-D, K ∈ {2, 4}, s_0 ∈ {0.05, 1, 16}, T = 800 (quick 200) generations of the "
    "library's projected map; at t ∈ {T/4, T/2, T} (where s_t² ≤ 0.15) the increments "
    "against the two-term expansions, tolerance twice the first neglected term "
    "(2|e₄|s_t⁴, 2|m₅|s_t⁴). K = 2: exact series (docstring: m = s/2 − s³/4 + s⁵/4 + O(s⁷), "
    "v = 1 − m², so b = 1/4, e₂ = −3/16, e₄ = 13/64, m₃ = −1/4, m₅ = 1/4; the quadrature "
    "v_2 is compared with the series at s = 0.1). K = 4: b = 3/16 and m_1 = 3/4 exact, e₂, "
    "e₄, m₃, m₅ from a degree-5 least-squares fit in s² of the quadrature over "
    "s ∈ [0.04, 0.4] (the same fit reproduces K = 2's exact constants to 10⁻⁵). Notes' "
    "values for K = 2 at t = 100, 200: s_t² = 0.0422, 0.0208, aᵀμ_t = 6.96, 8.40 (4-digit "
    "rounding). K = ∞ exact.",
    source="derived; notes §5.1 'Consequence [D, num]' and §6 item 8 (the Gaussian-family "
    "projection of the curated loop of arXiv 2407.09499 v1, Eq. 6)",
    exact_statement="not stated in the paper",
    scope="the population (infinite-sample) moment-matching map in 1-D (one direction a), "
    "K ∈ {2, 4, ∞}; the asymptotic laws are checked through their one-step increments at "
    "three late times, not as limits; for K = 4 the second-order constants are numerical "
    "(a fit of the same quadrature the map uses), so for K = 4 only b = (K−1)/K² and "
    "(K−1)/K are independent of the map's own numerics",
    controls=(
        Control("b_over_k", "the predicted increment of 1/s² is (K−1)/K (the mean's "
                "constant) in place of (K−1)/K²"),
        Control("leading_order_only", "the predicted increments drop the s² terms "
                "(b and (K−1)/K only)"),
    ),
)
def gaussian_contrast(ctx):
    T = ctx.size(800, 200)
    out = []
    consts = {2: (0.25, -3 / 16, 13 / 64, 0.5, -0.25, 0.25), 4: _selection_series(4)}
    m2 = cu.selection_moments(0.1, 2)
    m_series = 0.1 / 2 - 0.1**3 / 4 + 0.1**5 / 4
    out.append(exact_check("K=2: quadrature m_2(0.1) vs series", m_series, m2[0], atol=1e-7))
    out.append(exact_check("K=2: quadrature v_2(0.1) vs 1 − m²", 1 - m2[0] ** 2, m2[1],
                           atol=1e-12))
    fit2 = _selection_series(2)
    out.append(exact_check("K=2: fitted e₂ vs −3/16", -3 / 16, fit2[1], atol=1e-5))
    for k in (2, 4):
        b, e2, e4, m1, m3, m5 = consts[k]
        b = (k - 1) / k if ctx.control == "b_over_k" else b
        if ctx.control == "leading_order_only":
            e2 = m3 = 0.0
        for s0 in (0.05, 1.0, 16.0):
            means, covs = cu.gaussian_family_curation_trajectory([0.0], [[s0 * s0]], [1.0], k, T)
            s2 = covs[:, 0, 0]
            for t in (T // 4, T // 2, T - 1):
                if s2[t] > 0.15:
                    continue
                inc = 1 / s2[t + 1] - 1 / s2[t]
                out.append(exact_check(f"K={k}, s_0={s0}, t={t}: 1/s²_(t+1) − 1/s²_t",
                                       b + e2 * s2[t], inc, atol=2 * abs(e4) * s2[t] ** 2))
                dmu = (means[t + 1, 0] - means[t, 0]) / s2[t]
                out.append(exact_check(f"K={k}, s_0={s0}, t={t}: aᵀΔμ_t/s_t²",
                                       m1 + m3 * s2[t], dmu, atol=2 * abs(m5) * s2[t] ** 2))
            if k == 2 and s0 == 1.0:
                for t, sv, mv in ((100, 0.0422, 6.96), (200, 0.0208, 8.40)):
                    out.append(exact_check(f"K=2, t={t}: s_t² (notes)", sv, s2[t], atol=5e-5))
                    out.append(exact_check(f"K=2, t={t}: aᵀμ_t (notes)", mv, means[t, 0],
                                           atol=5e-3))
    means, covs = cu.gaussian_family_curation_trajectory([0.0], [[1.0]], [1.0], INF, 50)
    out.append(exact_check("K=∞: max |s_t² − 1|", 0.0, float(np.max(np.abs(covs[:, 0, 0] - 1))),
                           atol=1e-14))
    out.append(exact_check("K=∞: aᵀμ_50 = 50 s_0²", 50.0, means[50, 0], rtol=1e-13))
    return out


def _selection_series(k):
    """(b, e₂, e₄, m₁, m₃, m₅) of g(s) = (1/v_K(s) − 1)/s² = b + e₂s² + e₄s⁴ + … and
    m_K(s)/s = m₁ + m₃s² + m₅s⁴ + …, with b = (K−1)/K² and m₁ = (K−1)/K exact and the
    others from a degree-5 least-squares fit in s² of the quadrature over s ∈ [0.04, 0.4].
    K = 2 exactly: m_2(s) = E[D(σ(sD) − ½)], D ~ N(0, 2) (the kept draw is M + D/2 with M
    the pair's mean, independent of D, chosen with probability σ(sD)); E_kept u² =
    ½ + E[D²σ(sD)]/2 = 1 since D²(σ(sD) − ½) is odd, so v_2 = 1 − m_2²; σ(x) − ½ =
    x/4 − x³/48 + x⁵/480 and E D², D⁴, D⁶ = 2, 12, 120 give m_2 = s/2 − s³/4 + s⁵/4 + O(s⁷),
    hence b = 1/4, e₂ = −3/16, e₄ = 13/64, m₃ = −1/4, m₅ = 1/4."""
    ss = np.linspace(0.04, 0.4, 19)
    mom = np.array([cu.selection_moments(float(s), k) for s in ss])
    g = (1 / mom[:, 1] - 1) / ss**2
    cg = np.polynomial.polynomial.polyfit(ss**2, g, 5)
    cm = np.polynomial.polynomial.polyfit(ss**2, mom[:, 0] / ss, 5)
    return (k - 1) / k**2, float(cg[1]), float(cg[2]), (k - 1) / k, float(cm[1]), float(cm[2])


@claim(
    id="ferbach2024.nonparametric.mixed_divergence",
    paper=PAPER,
    statement=(
        "Nonparametric mixed loop at K = ∞ with an unbounded (linear) reward [D]: no stationary "
        "law; p_t = Σ_k π_t(k) N(μ_d + kΣ_d a, Σ_d) and E_{p_t}[r] grows linearly with slope → "
        "λ/(1+λ)·aᵀΣ_d a, even with real data (Theorem 2.4's bound needs K < ∞)."
    ),
    kind="rate",
    provenance="derived",
    method="Exact component-weight recursion (s² ∈ {0.1, 1}, λ ∈ {0.5, 2}, 400 generations): "
    "slope E r_400 − E r_399 against λ/(1+λ)s² (relative 10⁻⁶); cross-check of the recursion "
    "against the mixed loop on a 1-D grid density for 12 generations (relative 10⁻⁹).",
    source="derived; notes §5.1 'Mixed loop, nonparametric, K = inf, linear reward [D, num]' "
    "and §6 item 8 (the mixed update is Eq. 8 of arXiv 2407.09499 v1 as restated by "
    "secondary sources)",
    exact_statement="not stated in the paper",
    scope="K = ∞ and a linear (unbounded) reward only, outside the paper's Theorem 2.4 "
    "(which needs K < ∞ and λ < 1/(K−1)); the slope is compared at generation 400 only, and "
    "the component recursion is cross-checked on a grid (not a continuous density) for 12 "
    "generations",
    controls=(
        Control("ratio_for_fraction", "the predicted slope is λ·s² (the synthetic ratio) in "
                "place of λ/(1+λ)·s² (the synthetic fraction)"),
        Control("weights_swapped", "the grid loop mixes with real weight λ/(1+λ) and "
                "synthetic weight 1/(1+λ)"),
    ),
)
def nonparametric_divergence(ctx):
    out = []
    for s2 in (0.1, 1.0):
        for lam in (0.5, 2.0):
            _, ek = cu.nonparametric_linear_mixed_tilt(s2, lam, 400)
            frac = lam if ctx.control == "ratio_for_fraction" else lam / (1 + lam)
            out.append(exact_check(f"s²={s2}, λ={lam}: slope of E r", frac * s2,
                                   s2 * (ek[400] - ek[399]), rtol=1e-6))
    lam, a = 0.5, 0.6
    _, ek = cu.nonparametric_linear_mixed_tilt(a * a, lam, 12)
    x = np.linspace(-15, 25, 40_001)
    pd = np.exp(-x * x / 2)
    pd /= pd.sum()
    p = pd.copy()
    worst = 0.0
    for t in range(12):
        tilt = p * np.exp(a * x)
        w_real = lam / (1 + lam) if ctx.control == "weights_swapped" else 1 / (1 + lam)
        p = w_real * pd + (1 - w_real) * tilt / tilt.sum()
        worst = max(worst, abs(p @ (a * x) / (a * a * ek[t + 1]) - 1))
    out.append(exact_check("component recursion vs grid density, 12 generations", 0.0, worst,
                           atol=1e-9))
    return out


# ============================================================================ engine (items 1, 9)


@claim(
    id="ferbach2024.engine.curated_law",
    paper=PAPER,
    statement=(
        "The engine's K-choice selection (simulations.curation, Gumbel-max) draws from the "
        "curated law p·H^K of Lemma 2.1: for N(0, 1) and r = s·x, the kept points have the law "
        "with density φ(u)H^K(u)."
    ),
    kind="equality",
    provenance="paper",
    method="curated_gaussian_draws with K ∈ {3, 10}, s = 1.2, 10⁵ points (quick 2·10⁴): KS test "
    "against the exact CDF (cumulative trapezoid of φH^K on a 0.01 grid, from the Laplace "
    "route; error O(10⁻⁵) ≪ the KS resolution 1/√N ≈ 3·10⁻³).",
    source="arXiv 2407.09499 v1, Lemma 2.1 (first part), as restated by secondary sources "
    "(notes §1.3); applied to the toolkit's engine",
    exact_statement="not quoted: the paper body was not available; secondary sources restate "
    "it as 'x̂ has density p(x)·H^K_p(x), H^K_p(x) = E[K e^{r(x)}/(e^{r(x)} + Σ_{i<K} "
    "e^{r(x_i)})]'",
    scope="checks the engine's implementation, not the lemma: 1-D N(0, 1), a linear reward "
    "of slope 1.2, K ∈ {3, 10}; the KS test resolves CDF differences of about "
    "2.8/√N (≈ 0.02 at quick size), so it cannot see K = 10 vs 11 or reward-scale errors "
    "of a few per cent",
    controls=(
        Control("k_plus_one", "the predicted law is φH^{K+1} (one more candidate than the "
                "engine draws)"),
        Control("reward_scale", "the engine curates with the reward slope 1.25·s while the "
                "prediction uses s (a temperature error)"),
    ),
)
def engine_curated_law(ctx):
    from simulations.curation import curated_gaussian_draws
    from theory.rewards import LinearReward

    s = 1.2
    engine_reward = LinearReward([1.25 * s if ctx.control == "reward_scale" else s])
    size = ctx.size(100_000, 20_000)
    step = 0.01
    grid = np.arange(-12.0, 12.0 + 1e-9, step)
    dens0 = np.exp(-0.5 * grid**2)
    dens0 /= dens0.sum()
    out = []
    draws = jax.jit(curated_gaussian_draws, static_argnums=(3, 4, 5))
    for k in (3, 10):
        k_pred = k + 1 if ctx.control == "k_plus_one" else k
        q = cu.curated_law(dens0, s * grid, k_pred)  # discrete law on the grid ∝ φ(u)H^K(u)
        dens = q / step
        cdf_vals = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * step)])
        cdf_vals /= cdf_vals[-1]
        x = draws(jax.random.fold_in(jax.random.key(ctx.seed), k), jnp.zeros(1), jnp.eye(1),
                  size, k, "linear", engine_reward.params("float64"))
        out.append(ks_check(f"K={k}: KS of engine draws vs φH^K", np.asarray(x)[:, 0],
                            lambda v, c=cdf_vals: np.interp(v, grid, c)))
    return out


@claim(
    id="ferbach2024.engine.k1_unchanged",
    paper=PAPER,
    statement=(
        "K = 1 curation keeps the only candidate: with the same seed the engine's curated loop "
        "(curation_k = 1, any reward) equals the uncurated loop exactly."
    ),
    kind="equality",
    provenance="derived",
    method="samples engine, d = 2, n = 20, λ = 1, mix, 6 generations, 200 replicates (quick "
    "50): largest absolute difference of means and covariances (exact 0).",
    source="derived; with K = 1 the Luce choice of arXiv 2407.09499 v1 §2 (notes §1.1) keeps "
    "its only candidate (H^1 = 1, notes §1.6(c))",
    exact_statement="not stated in the paper",
    scope="an implementation check of the engine (key use and the K = 1 path), one "
    "configuration (d = 2, n = 20, λ = 1, mix, 6 generations); it says nothing about the "
    "paper's theorems beyond H^1 = 1",
    controls=(
        Control("k_two", "the curated loop keeps one of K = 2 candidates"),
        Control("key_shift", "the curated loop consumes a different random stream (seed + 1), "
                "as an implementation that splits an extra key for the choice would"),
    ),
)
def engine_k1(ctx):
    from simulations import LoopSpec, run
    from theory.rewards import LinearReward

    base = dict(dim=2, n_real=20, synthetic_ratio=1.0, data="mix", generations=6,
                replicates=ctx.size(200, 50))
    plain = run(LoopSpec(**base), seed=ctx.seed, engine="samples")
    cur = run(LoopSpec(**base, curation_k=2 if ctx.control == "k_two" else 1,
                       reward=LinearReward([1.0, -0.5])),
              seed=ctx.seed + (ctx.control == "key_shift"), engine="samples")
    return [exact_check("max |Δ means|", 0.0, float(np.max(np.abs(plain.means - cur.means)))),
            exact_check("max |Δ covs|", 0.0, float(np.max(np.abs(plain.covs - cur.covs))))]


@claim(
    id="ferbach2024.engine.finite_sample",
    paper=PAPER,
    statement=(
        "Finite-sample loop (not covered by the paper's theorems, notes §6 item 9): refitting "
        "N(μ, σ²) by the unbiased estimator on n real + n curated points (K = 3, r = x, mix, "
        "λ = 1). (i) Given the past and the real set, one step is unbiased for the pooled "
        "moment map g (which tends to the Gaussian-family population map as n → ∞): "
        "E[θ_{t+1} − g(θ_t)] = 0; (ii) the deviation from the population trajectory shrinks like "
        "n^{−1/2}: E[(μ_T − μ_T^pop)²] ∝ 1/n; (iii) the engine's population map equals "
        "gaussian_family (mixed) iteration."
    ),
    kind="rate",
    provenance="derived",
    method="samples engine, T = 5, R = 1000 (quick 400) replicates at n ∈ {50, 200, 800} "
    "(quick {50, 400}), 2R at the largest n: (i) at the largest n, z-tests of the mean "
    "one-step residual of μ and σ² at t = 4 → 5 (the map applied per replicate with the "
    "quadrature m_3, v_3); (ii) at the largest n, n·mean (μ_5 − μ_5^pop)² against the "
    "delta-method level A = 2.047 (_finite_sample_delta; the O(1/n) relative correction is "
    "≈ 0.2 % at n = 800 by the pilot below, ≪ the 4.5 % SE); (iii) least-squares slope of "
    "log mean (μ_5 − μ_5^pop)² against log n = −1, delta-method SE, plus 0.02 for the O(1/n) "
    "relative correction to the leading 1/n law (a pilot run gave n·E(μ_5 − μ_5^pop)² = "
    "2.02, 2.08, 2.09 at n = 50, 200, 800: a slope shift ≈ 0.01); (iv) population engine vs "
    "the theory's map (relative 10⁻¹⁰), when the toolkit has a population engine "
    "(simulations.ENGINES); the deviations are measured from the theory's map.",
    source="derived; notes §6 item 9 ('Finite-sample variant, not covered by the paper's "
    "theorems'); the population map is the Gaussian-family projection of Eq. 8 of arXiv "
    "2407.09499 v1 (mixed loop) as restated by secondary sources",
    exact_statement="not stated in the paper",
    scope="1-D, K = 3, λ = 1, r = x, T = 5 generations; (i) is a one-step conditional-mean "
    "check at one n; (ii) compares the 1/n level with its delta-method value at the largest "
    "n only, where the O(1/n) relative correction (not derived: about −1.7/n by a pilot) is "
    "negligible; (iii) is a three-point (quick two-point) log-log slope whose 0.02 allowance "
    "for that correction comes from the pilot run, not from a derivation. At "
    "these sizes the claim cannot resolve the MLE vs unbiased divisor (a σ²/(2n) shift, "
    "≈ 0.3 SE of the one-step residual at n = 800 with R = 400).",
    controls=(
        Control("k_plus_one", "the predicted one-step map and population trajectory use "
                "K + 1 = 4 candidates while the engine draws 3"),
        Control("rate_sqrt", "the predicted slope of log E(μ_T − μ_T^pop)² against log n is "
                "−1/2 (the n^{−1/2} rate of the deviation itself taken for its square)"),
        Control("real_noise_fresh", "the delta-method level A treats the real set as redrawn "
                "every generation (independent real noise per step) instead of fixed"),
    ),
)
def engine_finite_sample(ctx):
    from simulations import ENGINES, LoopSpec, run
    from theory.rewards import LinearReward

    ns = (50, 200, 800) if not ctx.quick else (50, 400)
    T, R, K = 5, ctx.size(1000, 400), 3
    out = []
    log_m, rel_se = [], []
    pop_mean = None
    for n in ns:
        spec = LoopSpec(dim=1, n_real=n, synthetic_ratio=1.0, data="mix", curation_k=K,
                        reward=LinearReward([1.0]), generations=T,
                        replicates=2 * R if n == ns[-1] else R, estimator="unbiased")
        traj = run(spec, seed=ctx.seed + n, engine="samples")
        if pop_mean is None:
            k_pred = K + 1 if ctx.control == "k_plus_one" else K
            m, v = 0.0, 1.0
            for _ in range(T):
                m, v = _mixed_family_step(m, v, k_pred)
            pop_mean = m  # the theory's population trajectory
            if "population" in ENGINES:  # the engine's population map, where it exists
                pop = run(spec, seed=0, engine="population")
                out.append(exact_check("population engine vs theory, μ_T", m,
                                       float(pop.means[0, T, 0]), rtol=1e-10, atol=1e-14))
                out.append(exact_check("population engine vs theory, σ_T²", v,
                                       float(pop.covs[0, T, 0, 0]), rtol=1e-10))
        if n == ns[-1]:
            pred = _pooled_step(traj.means[:, T - 1, 0], traj.covs[:, T - 1, 0, 0], k_pred,
                                traj.means[:, 0, 0], (n - 1) * traj.covs[:, 0, 0, 0], n)
            out.append(mean_check(f"n={n}: E[μ_5 − g_μ(θ_4)]", traj.means[:, T, 0] - pred[0],
                                  0.0))
            out.append(mean_check(f"n={n}: E[σ²_5 − g_σ²(θ_4)]",
                                  traj.covs[:, T, 0, 0] - pred[1], 0.0))
        dev = (traj.means[:, T, 0] - pop_mean) ** 2
        mm, se = mean_se(dev)
        log_m.append(math.log(mm))
        rel_se.append(se / mm)
    # delta method: n·E(μ_T − μ_T^pop)² → A (relative correction O(1/n)), at the largest n
    a_level = _finite_sample_delta(K, T, fixed_real=ctx.control != "real_noise_fresh")
    out.append(Measurement(f"n={ns[-1]}: n·E(μ_5 − μ_5^pop)² vs delta-method A", a_level,
                           ns[-1] * mm, ns[-1] * se))
    x = np.log(np.array(ns, dtype=float))
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    slope = float(c @ np.array(log_m))
    slope_se = float(np.sqrt(np.sum((c * np.array(rel_se)) ** 2)))
    out.append(Measurement("slope of log E(μ_5 − μ_5^pop)² vs log n",
                           -0.5 if ctx.control == "rate_sqrt" else -1.0, slope, slope_se,
                           atol=0.02))
    return out


def _finite_sample_delta(k, T, fixed_real=True):
    """A = lim n·E(μ_T − μ_T^pop)² for the finite-sample mix loop of engine.finite_sample
    (1-D, λ = 1, r = x, p_data = N(0, 1)), by the delta method. The pooled fit is
    θ' = F(x̄, s_r, ȳ, s_y) = ((x̄ + ȳ)/2, (s_r + s_y)/2 + (x̄ − ȳ)²/4) + O(1/n), with the
    fixed real set's mean and scatter/n (x̄, s_r) = (0, 1) + (ε₁, √2 ε₂)/√n and the fresh
    curated sample's (ȳ, s_y) = (c_m(θ), c_v(θ)) + (η₁, η₂)/√n, Cov η = [[c_v, κ₃], [κ₃,
    κ₄ − c_v²]] (central moments κ of the curated law of N(μ, v), by quadrature of φH^K on a
    grid). Linearising, δ_{t+1} = (D_ȳF ∇c_mᵀ + D_{s_y}F ∇c_vᵀ)δ_t + D_x̄F ε₁ + √2 D_{s_r}F ε₂
    + [D_ȳF, D_{s_y}F]η_t/√n, δ_0 = (ε₁, √2 ε₂)/√n, with the same ε at every step (the real set
    is fixed; ``fixed_real=False`` redraws it, the control's defect). A is the variance of
    δ_T's first coordinate times n."""
    grid = np.arange(-14.0, 14.0 + 1e-9, 0.005)
    phi = np.exp(-0.5 * grid**2)
    phi /= phi.sum()

    def cm_cv(mu, v):
        mk, vk = cu.selection_moments(math.sqrt(v), k)
        return mu + math.sqrt(v) * mk, v * vk

    mu, v = 0.0, 1.0
    cols = 2 + 2 * T + (0 if fixed_real else 2 * T)
    C = np.zeros((2, cols))
    C[0, 0], C[1, 1] = 1.0, math.sqrt(2)
    nxt = 2
    for _ in range(T):
        cm, cv = cm_cv(mu, v)
        h = 1e-6
        up, dn = cm_cv(mu, v + h), cm_cv(mu, v - h)
        d_y, d_sy = np.array([0.5, cm / 2]), np.array([0.0, 0.5])
        d_x, d_sr = np.array([0.5, -cm / 2]), np.array([0.0, 0.5])
        jac = np.outer(d_y, [1.0, (up[0] - dn[0]) / (2 * h)]) \
            + np.outer(d_sy, [0.0, (up[1] - dn[1]) / (2 * h)])
        C = jac @ C
        if fixed_real:
            C[:, 0] += d_x
            C[:, 1] += math.sqrt(2) * d_sr
        else:
            C[:, nxt] += d_x
            C[:, nxt + 1] += math.sqrt(2) * d_sr
            nxt += 2
        q = cu.curated_law(phi, math.sqrt(v) * grid, k)  # kept standardised draw u
        c = grid - q @ grid
        k2, k3, k4 = q @ c**2, q @ c**3, q @ c**4
        cov = np.array([[v * k2, v**1.5 * k3], [v**1.5 * k3, v * v * (k4 - k2 * k2)]])
        C[:, nxt:nxt + 2] += np.column_stack([d_y, d_sy]) @ np.linalg.cholesky(cov)
        nxt += 2
        mu, v = _mixed_family_step(mu, v, k)
    return float((C @ C.T)[0, 0])


def _mixed_family_step(m, v, k):
    """Population Gaussian-family mixed step, 1-D, r = x, λ = 1, p_data = N(0, 1)."""
    return _mixed_moments(m, v, k, 0.0, 1.0)


def _mixed_moments(m, v, k, data_mean, data_var):
    s = math.sqrt(v)
    mk, vk = cu.selection_moments(s, k)
    cm, cv = m + s * mk, v * vk  # curated mean and variance
    new_m = 0.5 * (data_mean + cm)
    new_v = 0.5 * (data_var + (data_mean - new_m) ** 2) + 0.5 * (cv + (cm - new_m) ** 2)
    return new_m, new_v


def _pooled_step(m, v, k, real_mean, real_scatter, n):
    """E[θ_{t+1} | θ_t, real set] of the finite-sample mix loop (λ = 1, unbiased estimator): the
    pooled fit of the fixed n real points (mean x̄, scatter S) and n curated draws of
    N(m, v) (mean c_m = m + √v m_K, variance c_v = v v_K):
    E μ' = (x̄ + c_m)/2 and E σ'² = [S + (n − 1)c_v + (n/2)((x̄ − c_m)² + c_v/n)]/(2n − 1).
    As n → ∞ this is the population map of the Gaussian family."""
    mk, vk = np.array([cu.selection_moments(float(math.sqrt(vi)), k) for vi in v]).T
    cm, cv = m + np.sqrt(v) * mk, v * vk
    e_mean = 0.5 * (real_mean + cm)
    e_var = (real_scatter + (n - 1) * cv + 0.5 * n * ((real_mean - cm) ** 2 + cv / n)) / (2 * n - 1)
    return e_mean, e_var
