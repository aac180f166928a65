"""Gillman et al. 2024, "Self-Correcting Self-Consuming Loops for Generative Model Training"
(ICML 2024, arXiv 2402.07087 v3): the ideal corrector π_γ p_θ = (p_θ + γ p_θ*)/(1+γ), its
lemmas, the stability theorems (A.8 infinite sampling, 4.3 finite sampling), Corollary 4.5,
Example 4.6, Appendix B and C, and the Gaussian toy of Fig. 2.

Numbering of the reference notes' §5 table (rows 1–19): every row is covered by a claim here
or in :mod:`paper_checks.claims.bertrand2024` (row 19 and the γ = 0 cases). Models where
every hypothesis of Assumption 4.2 is exactly checkable: the mean-only Gaussian N(µ, Σ₀)
(L = 0, α = λ_min(Σ₀⁻¹)) and a 1-D logistic location model (α, ε, L all finite and
non-zero); for the full-covariance Gaussian, L does not exist globally and only the
dynamics (the exact map and its Jacobian) are checked.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from scipy import integrate, optimize, stats

from paper_checks.claim import Control, Measurement, claim
from paper_checks.claims._common import (
    exact_check,
    fraction_check,
    ks_check,
    mean_check,
    simulate,
)
from paper_checks.stats import mean_se, z_one_sided
from theory import correction as cr
from theory.derivations import get_derivation
from theory.laws import GaussianLaw, GaussianMixtureLaw, StudentTLaw, sample_law

PAPER = "Gillman et al. 2024, ICML (arXiv 2402.07087 v3)"
EPS64 = float(np.finfo(np.float64).eps)

# a misspecified 1-D p_data for the logistic location model (the figure uses the same law)
MIX_1D = GaussianMixtureLaw([0.3, 0.7], [-2.0, 1.0], [0.5, 1.5])
LOGISTIC_LAWS = {
    "N(0,1)": GaussianLaw([0.0], [[1.0]]),
    "N(0,9)": GaussianLaw([0.0], [[9.0]]),
    "mixture": MIX_1D,
    "t5": StudentTLaw(5.0, [0.5], [[1.0]]),
}

# the mean-only loop used for Theorem 4.3, Corollary 4.5, Example 4.6 and §4.3 (one shape:
# one compilation): 1-D, p_data = N(0, 1), n = 50 real points, λ = 0.4 (m = 20), T = 50
MEAN_N, MEAN_LAMBDA, MEAN_T = 50, 0.4, 50
MEAN_M = 20


def mean_loop(ctx, gamma, split="random"):
    """The engine's mean-only mix loop (1-D, N(0, 1)), one shape for every claim."""
    return simulate(ctx, dim=1, n_real=MEAN_N, synthetic_ratio=MEAN_LAMBDA, data="mix",
                    model="gaussian_mean", correction_strength=gamma, correction_split=split,
                    generations=MEAN_T, replicates=ctx.size(20_000, 4_000), truth=(0.0, 1.0))


def lcb_check(label, values, k_comparisons, false_failure=1e-6) -> Measurement:
    """Strict positivity of a mean: the lower (1 − α/k) confidence bound mean − z·SE must be
    > 0 (an exact comparison of the bound with 0; it fails with probability ≤ α/k when the
    true mean is 0)."""
    m, se = mean_se(values)
    z = z_one_sided(false_failure / k_comparisons)
    return Measurement(f"{label}: mean − z·SE > 0 (mean {float(m):.4g}, SE {float(se):.2g})",
                       float(np.finfo(float).tiny), float(m - z * se), None, "lower")


# --------------------------------------------------------------------------------------------
# rows 1–2: Def. 4.1 / Lemma A.2
# --------------------------------------------------------------------------------------------

_PAIRS = {
    "N(1,0.25) vs N(0,1)": (GaussianLaw([1.0], [[0.25]]), GaussianLaw([0.0], [[1.0]])),
    "mixture vs its moment match": (MIX_1D, GaussianLaw(*MIX_1D.moments)),
    "t5 vs N(0.5,2)": (StudentTLaw(5.0, [0.0], [[1.0]]), GaussianLaw([0.5], [[2.0]])),
}
_GAMMAS_A2 = (0.0, 0.3, 1.0, 3.0, 1e6, math.inf)


@claim(
    id="gillman2024.lemma_a2",
    paper=PAPER,
    statement=(
        "Def. 4.1 / Lemma A.2: π_γ p_θ is a density (∫ = 1); π_0 p = p, π_1 p = (p + p*)/2, "
        "π_∞ p = p*; pointwise |π_γp − p*| = |p − p*|/(1+γ) and |π_γp − p| = γ|p − p*|/(1+γ), "
        "so |π_γp − p*| ≤ |π_γp − p| exactly when γ ≥ 1."
    ),
    kind="equality",
    provenance="paper",
    method="exact: three pairs (Gaussians, a Gaussian mixture vs its moment-matched Gaussian, "
    "Student-t vs Gaussian) on a 4001-point grid over [−12, 12], γ ∈ {0, 0.3, 1, 3, 1e6, ∞}; "
    "∫π_γp by adaptive quadrature (tolerance: its error estimate + 1e-12); identities to 8 "
    "float64 ulps of the largest density value.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Definition 4.1 (eq. 4) and Lemma "
    "A.2 (1)–(3)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]), the "
    "only quoted words being the paper's: π_γ p_θ(x) := (p_θ(x) + γ p_θ*(x))/(1+γ); Lemma A.2: "
    "(1) π_γ p_θ is a probability density; (2) γ = 0 gives p_θ, γ = 1 gives (p_θ + p_θ*)/2, "
    "γ = ∞ gives p_θ*; (3) pointwise |π_γp_θ(x) − p_θ*(x)| = (1/(1+γ))|p_θ(x) − p_θ*(x)| and "
    "|π_γp_θ(x) − p_θ(x)| = (γ/(1+γ))|p_θ(x) − p_θ*(x)|, so π_γp_θ is closer to p_θ* than to "
    "p_θ \"if γ > 1 … if γ < 1 the inequality is flipped\"",
    scope="1-D densities (three pairs) on a 4001-point grid over [−12, 12], six values of γ; the "
    "lemma holds for any pair of densities in any dimension. The paper states strict γ > 1; "
    "at γ = 1 both distances are equal, so the check uses γ ≥ 1 (the two agree away from γ = 1).",
    controls=(
        Control("weights_swapped", "the predicted pointwise factors are swapped: |π−p*| = "
                "γ|p−p*|/(1+γ) and |π−p| = |p−p*|/(1+γ)"),
        Control("strict_threshold", "the predicted closeness threshold is γ > 1 (the paper's "
                "strict wording) instead of γ ≥ 1: at γ = 1 the prediction says 'not closer'"),
    ),
)
def lemma_a2(ctx):
    x = np.linspace(-12.0, 12.0, 4001)
    out = []
    for name, (p_law, s_law) in _PAIRS.items():
        pdf_p, pdf_s = cr.law_pdf(p_law), cr.law_pdf(s_law)
        p, ps = pdf_p(x), pdf_s(x)
        scale = 8 * EPS64 * max(p.max(), ps.max())
        gap = np.abs(p - ps)
        for g in _GAMMAS_A2:
            pi = cr.corrected_density(p, ps, g)
            val, err = integrate.quad(lambda v, g=g, fp=pdf_p, fs=pdf_s: float(
                cr.corrected_density(fp(v), fs(v), g)), -np.inf, np.inf, epsabs=1e-13,
                limit=400)
            out.append(exact_check(f"{name}, γ={g:g}: ∫π_γp = 1", 1.0, val, rtol=0.0,
                                   atol=err + 1e-12))
            shrink = 0.0 if math.isinf(g) else 1.0 / (1.0 + g)
            if ctx.control == "weights_swapped":
                shrink = 1.0 - shrink
            out.append(exact_check(f"{name}, γ={g:g}: max| |π−p*| − |p−p*|/(1+γ) |", 0.0,
                                   np.max(np.abs(np.abs(pi - ps) - gap * shrink)), atol=scale))
            out.append(exact_check(f"{name}, γ={g:g}: max| |π−p| − γ|p−p*|/(1+γ) |", 0.0,
                                   np.max(np.abs(np.abs(pi - p) - gap * (1.0 - shrink))),
                                   atol=scale))
            mask = gap > 1e3 * scale
            closer = np.abs(pi - ps)[mask] <= np.abs(pi - p)[mask] + scale
            # γ ≥ 1 ⇔ π_γ p is everywhere at least as close to p* as to p
            above = g > 1.0 if ctx.control == "strict_threshold" else g >= 1.0
            out.append(exact_check(f"{name}, γ={g:g}: [|π−p*| ≤ |π−p| everywhere] = [γ ≥ 1]",
                                   float(above), float(np.all(closer) if above
                                                       else np.any(closer)), rtol=0.0))
        for g, target, what in ((0.0, p, "p"), (1.0, 0.5 * (p + ps), "(p+p*)/2"),
                                (math.inf, ps, "p*")):
            out.append(exact_check(f"{name}: π_{g:g} p = {what}", 0.0,
                                   np.max(np.abs(cr.corrected_density(p, ps, g) - target)),
                                   atol=scale))
    return out


# --------------------------------------------------------------------------------------------
# row 3: the mixing inequality of Prop. A.5's proof
# --------------------------------------------------------------------------------------------


@claim(
    id="gillman2024.prop_a5.mixing_w1",
    paper=PAPER,
    statement=(
        "Mixing inequality used in Prop. A.5's proof: W₁(π_γp, p*) ≤ W₁(p, p*)/(1+γ). For W₁ "
        "it is an equality (derived: π_γp − p* = (p − p*)/(1+γ) as signed measures, and W₁ is "
        "the Kantorovich–Rubinstein norm of the difference; in 1-D F_{π_γp} − F* = "
        "(F_p − F*)/(1+γ) pointwise)."
    ),
    kind="bound",
    provenance="paper",
    method="exact 1-D W₁ = ∫|F − G| (quadrature split at the CDF crossings) for the three "
    "pairs of gillman2024.lemma_a2 and γ ∈ {0.1, 0.5, 1, 4, 100}; the bound one-sided and the "
    "equality two-sided, both to the summed quadrature error estimates + 1e-12.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, proof of Proposition A.5 (the "
    "mixing step bounding d_W(π_γp_θ, p_θ*))",
    exact_statement="not quoted: the reference notes record the step only as 'W1(π_γ p, p*) ≤ "
    "W1(p, p*)/(1+γ)' (their paraphrase of the proof of Prop. A.5, used inside its key "
    "inequality ‖∇²H₂(θ,θ') − ∇²H₁(θ')‖ ≤ (L/(1+γ)) d_W(p_θ, p_θ*) + Lε); the proof's own "
    "wording was not at hand",
    scope="a linear identity, not an inequality with room: π_γp − p* = (p − p*)/(1+γ) as "
    "signed measures and W₁ is the Kantorovich–Rubinstein norm of the difference, so "
    "W₁(π_γp, p*) = W₁(p, p*)/(1+γ) holds with equality for every pair and in every "
    "dimension; the check verifies this identity (and hence the bound, with slack exactly 1) "
    "through independent 1-D CDF quadratures for three pairs and five γ. The proof's "
    "Hessian inequality that uses it is checked as a reported bound on the logistic location "
    "class (Gaussian-mixture p_data, 12 (θ, θ') pairs per γ ∈ {0.1, 1, 4}); it holds with "
    "slack ≥ 2.9 there, so it resolves no constant by itself.",
    controls=(
        Control("weights_swapped", "the prediction is W₁(p, p*)·γ/(1+γ) (the weight of p* "
                "instead of that of p)"),
        Control("sqrt_mixing", "the prediction is W₁(p, p*)/√(1+γ), the W₂-type convexity "
                "factor (W₂² of a mixture is convex in the weights)"),
    ),
)
def mixing_w1(ctx):
    out = []
    for name, (p_law, s_law) in _PAIRS.items():
        fp, fs = cr.law_cdf(p_law), cr.law_cdf(s_law)
        base, e0 = cr.w1_1d(fp, fs, bulk=(-60.0, 60.0), full_output=True)
        for g in (0.1, 0.5, 1.0, 4.0, 100.0):
            w, e1 = cr.w1_1d(cr.corrected_cdf(fp, fs, g), fs, bulk=(-60.0, 60.0),
                             full_output=True)
            tol = e0 + e1 + 1e-12
            factor = 1.0 / (1.0 + g)
            if ctx.control == "weights_swapped":
                factor = g / (1.0 + g)
            elif ctx.control == "sqrt_mixing":
                factor = 1.0 / math.sqrt(1.0 + g)
            out.append(exact_check(f"{name}, γ={g:g}: W₁(π_γp,p*) ≤ W₁(p,p*)/(1+γ)",
                                   base * factor, w, rtol=0.0, atol=tol, sided="upper"))
            out.append(exact_check(f"{name}, γ={g:g}: equality (a linear identity)",
                                   base * factor, w, rtol=0.0, atol=tol))
    # the inequality the proof uses it in (logistic location class, ∂²_θ' log p_θ'(x) =
    # −2f(x − θ')): |∇²H₂(θ,θ') − ∇²H₁(θ')| ≤ (L/(1+γ))·W₁(p_θ, p_θ*) + Lε, W₁ = |θ − θ*|
    ll = cr.logistic_location(MIX_1D)
    pdf = cr.law_pdf(MIX_1D)
    centre, sd = float(MIX_1D.moments[0][0]), math.sqrt(float(MIX_1D.moments[1][0, 0]))
    ts = ll.theta_star
    for g in (0.1, 1.0, 4.0):
        factor = 1.0 / (1.0 + g)
        if ctx.control == "weights_swapped":
            factor = g / (1.0 + g)
        elif ctx.control == "sqrt_mixing":
            factor = 1.0 / math.sqrt(1.0 + g)
        worst = None
        for dth in (-2.0, -0.5, 0.5, 2.0):
            for dtp in (-1.0, 0.0, 1.0):
                tp = ts + dtp
                e_data = cr._expect(pdf, lambda x, tp=tp: cr._logistic_pdf(x - tp), centre, sd)
                e_model = cr._expect(cr._logistic_pdf,
                                     lambda u, d=dth - dtp: cr._logistic_pdf(u + d))
                e_star = cr._expect(cr._logistic_pdf, lambda u, d=-dtp: cr._logistic_pdf(u + d))
                lhs = 2.0 * abs((e_model + g * e_star) / (1.0 + g) - e_data)
                rhs = ll.lipschitz * (factor * abs(dth) + ll.eps)
                if worst is None or lhs / rhs > worst[0] / worst[1]:
                    worst = (lhs, rhs, dth, dtp)
        out.append(exact_check(f"logistic, γ={g:g}: |∇²H₂ − ∇²H₁| ≤ (L/(1+γ))W₁(p_θ,p_θ*) + "
                               f"Lε (the proof's inequality; worst of 12 (θ, θ') at "
                               f"θ−θ*={worst[2]:+g}, θ'−θ*={worst[3]:+g})", worst[1], worst[0],
                               rtol=1e-9, sided="upper"))
    return out


# --------------------------------------------------------------------------------------------
# row 4: Prop. A.6 (fixed point)
# --------------------------------------------------------------------------------------------

_DATA_D = {
    1: StudentTLaw(5.0, [0.5], [[2.0]]),
    2: GaussianMixtureLaw([0.4, 0.6], [[-1.0, 0.5], [1.0, 0.0]],
                          [[[0.5, 0.1], [0.1, 0.3]], [[1.0, -0.2], [-0.2, 0.8]]]),
    3: StudentTLaw(6.0, [0.0, 1.0, -1.0], [[1.0, 0.3, 0.0], [0.3, 2.0, 0.4], [0.0, 0.4, 0.5]]),
}


def _a6_weights(lam, g, control):
    """(w_model, w_data, w_target) of q = [p_data + λπ_γp_θ]/(1+λ) from Def. 4.1; the control
    "target_weight_typo" writes the target weight λ/((1+λ)(1+γ)) (γ dropped from it)."""
    w_data, w_model, w_target = cr._weights(lam, g)
    if control == "target_weight_typo":
        w_target = w_model if not math.isinf(g) else 0.0
    return w_model, w_data, w_target


def _logistic_map_gauss_target(theta, law, lam, g):
    """The logistic map with the corrector pulling toward the moment-matched Gaussian of
    p_data instead of p_θ* (control "target_gaussian_fit"): root of the weighted score."""
    pdf = cr.law_pdf(law)
    m, c = law.moments
    centre, sd = float(m[0]), math.sqrt(float(c[0, 0]))
    gauss = stats.norm(centre, sd).pdf
    w_d, w_m, w_t = cr._weights(lam, g)

    def score(tp):
        return (w_d * cr._score_data(pdf, tp, centre, sd) + w_m * cr._score_logistic(theta, tp)
                + w_t * cr._score_data(gauss, tp, centre, sd))

    span = 20.0 * sd + 20.0 + abs(theta - centre)
    return float(optimize.brentq(score, centre - span, centre + span, xtol=1e-14,
                                 rtol=4 * EPS64))


def fixed_point_measurements(gammas, lambdas=(0.2, 0.5, 1.0, 3.0), control=None):
    """‖π_γG_λ^∞(θ*) − θ*‖ for the Gaussian class (misspecified p_data, d = 1, 2, 3; the map
    as the moments of the mixture q, not the closed-form k-map, which has θ* as a fixed point
    by construction) and the logistic location model. ``control`` injects a defect (see
    gillman2024.prop_a6.fixed_point)."""
    out = []
    for d, law in _DATA_D.items():
        tm, tc = law.moments
        theta_star = np.asarray(cr.theta_from_gaussian(tm, tc))
        scale = 16 * EPS64 * max(1.0, np.max(np.abs(theta_star)))
        for lam in lambdas:
            for g in gammas:
                w = _a6_weights(lam, g, control)
                m, c = cr._mix_moments(w, [jnp.asarray(tm)] * 3, [jnp.asarray(tc)] * 3)
                diff = np.max(np.abs(np.asarray(cr.theta_from_gaussian(m, c)) - theta_star))
                out.append(exact_check(f"Gaussian class d={d}, λ={lam:g}, γ={g:g}: "
                                       "|π_γG^∞(θ*) − θ*|", 0.0, diff, atol=scale))
    ll = cr.logistic_location(MIX_1D)
    for lam in lambdas:
        for g in gammas:
            if control == "target_gaussian_fit":
                val = _logistic_map_gauss_target(ll.theta_star, MIX_1D, lam, g)
            else:
                val = cr.logistic_location_map(ll.theta_star, MIX_1D, lam, g,
                                               theta_star=ll.theta_star)
            # root tolerance 1e-14 + quadrature error ~1e-13 over a score slope ≳ 0.1
            out.append(exact_check(f"logistic, mixture p_data, λ={lam:g}, γ={g:g}: "
                                   "|π_γG^∞(θ*) − θ*|", 0.0, abs(val - ll.theta_star),
                                   atol=1e-11))
    return out


@claim(
    id="gillman2024.prop_a6.fixed_point",
    paper=PAPER,
    statement="Prop. A.6: for every p_data and λ > 0, π_γG_λ^∞(θ*) = θ* (π_γ p_θ* = p_θ*).",
    kind="equality",
    provenance="paper",
    method="exact map of the Gaussian class with misspecified p_data (Student-t in d = 1, 3, a "
    "Gaussian mixture in d = 2), λ ∈ {0.2, 0.5, 1, 3}, γ ∈ {0, 0.5, 2, ∞}, to 16 ulps; the "
    "logistic location model (argmax by Brent's method on the score, Gaussian-mixture "
    "p_data) to 1e-11. (A Gaussian-mixture model class fitted by EM is not implemented.)",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Proposition A.6 (= Bertrand et al. "
    "2024, Proposition 4, as Gillman restates it)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): for "
    "every p_data and every λ > 0, π_γG_λ^∞(θ*) = θ*, because π_γ p_θ* = p_θ*, so the map "
    "equals G_λ^∞(θ*) = θ* (\"Proposition 4 from (Bertrand et al., 2024)\")",
    scope="two model classes (Gaussian in d = 1, 2, 3 with misspecified p_data, the 1-D "
    "logistic location class), four λ and four γ; the Gaussian map is computed as the moment "
    "match of the mixture q from its three components' weights (the weights must sum to 1 "
    "for θ* to be fixed), not from the closed form µ' = µ* + k(µ − µ*), which is fixed at θ* "
    "by construction. A corrector pulling toward p_data instead of p_θ* leaves θ* fixed too "
    "(θ* maximizes E_{p_data} log p_θ'), so that defect is not a control here.",
    controls=(
        Control("target_weight_typo", "the Gaussian map's target weight is λ/((1+λ)(1+γ)) "
                "instead of λγ/((1+λ)(1+γ)) (the weights no longer sum to 1)"),
        Control("target_gaussian_fit", "the logistic corrector pulls toward the moment-matched "
                "Gaussian of p_data instead of the class's best fit p_θ*"),
    ),
)
def prop_a6(ctx):
    return fixed_point_measurements((0.0, 0.5, 2.0, math.inf), control=ctx.control)


# --------------------------------------------------------------------------------------------
# §4.2: the exact population map against a Monte Carlo population estimate
# --------------------------------------------------------------------------------------------

_MC_THETA = (np.array([2.0, -1.0]), np.array([[3.0, -0.8], [-0.8, 0.5]]))
_MC_LAWS = {
    "mixture": _DATA_D[2],
    "t6": StudentTLaw(6.0, [0.5, -0.5], [[1.0, 0.4], [0.4, 1.5]]),
}


_MC_MAX_SYN = 8000  # synthetic rows drawn per replicate; the first m are used


def _pooled_mle_one(key, m, mean, root, t_mean, t_root, prob, params, *, kind, n_real):
    """One pooled MLE on n_real points of p_data and the first m of _MC_MAX_SYN synthetic
    draws from π_γ N(mean, root rootᵀ) (the mask keeps one compiled shape for every λ)."""
    d = mean.shape[0]
    k_r, k_z, k_u = jax.random.split(key, 3)
    real = sample_law(kind, params, k_r, n_real)
    z = jax.random.normal(k_z, (_MC_MAX_SYN, d))
    u = jax.random.uniform(k_u, (_MC_MAX_SYN,))
    # roots are lower Cholesky factors L (LLᵀ = Σ): a draw is µ + Lz, i.e. row z Lᵀ
    syn = jnp.where((u < prob)[:, None], t_mean + z @ t_root.T, mean + z @ root.T)
    w = (jnp.arange(_MC_MAX_SYN) < m).astype(syn.dtype)
    total = n_real + m
    mu = (real.sum(axis=0) + w @ syn) / total
    rc, sc = real - mu, syn - mu
    cov = (rc.T @ rc + (sc * w[:, None]).T @ sc) / total
    rows, cols = np.tril_indices(d)
    return jnp.concatenate([mu, cov[rows, cols]])


@partial(jax.jit, static_argnames=("kind", "n_real"))
def _POOLED_MLE(keys, *args, kind, n_real):  # noqa: N802 - a compiled constant
    one = partial(_pooled_mle_one, kind=kind, n_real=n_real)
    return jax.vmap(one, in_axes=(0,) + (None,) * len(args))(keys, *args)


@claim(
    id="gillman2024.population_map.monte_carlo",
    paper=PAPER,
    statement=(
        "Reference notes §4.1–4.2 (derived): one step of the corrected loop with pooled MLE on "
        "n real points from p_data and m = λn synthetic points from π_γ N(µ, Σ) has "
        "E[θ̂] = the moment match of q = [p_data + (λ/(1+γ))p_θ + (λγ/(1+γ))p_θ*]/(1+λ) up to "
        "the MLE's O(1/N) covariance bias (exact: pooled_mle_expectation); only p_data's first "
        "two moments matter, at any θ, for misspecified p_data."
    ),
    kind="equality",
    provenance="derived",
    method="d = 2, θ = (µ, Σ) far from θ* (µ = (2, −1), Σ = [[3, −0.8], [−0.8, 0.5]]); p_data "
    "a Gaussian mixture and a Student-t(6); (λ, γ) ∈ {(0.5, 0), (2, 1), (1, 4)}; n = 4000; "
    "replicate means of the 5 entries of (µ̂, vech Σ̂) with CLT standard errors against the "
    "exact finite-n expectation (random corrector membership, as the engine). Quick mode: "
    "the mixture only. The draws are this claim's own vectorized sampler (_POOLED_MLE), not "
    "the engine's loop (gillman2024.misspecified.engine checks the engine).",
    source="derived; the corrected map π_γG_λ^n of Gillman et al. 2024 (arXiv 2402.07087 v3, "
    "eq. 5, 10–11) for the Gaussian class, reference notes §4.1–4.2 (moment matching)",
    exact_statement="not stated in the paper",
    scope="one step of the map at one θ far from θ*, d = 2, two misspecified p_data, three "
    "(λ, γ) pairs, n = 4000; the finite-n expectation (with the MLE's covariance bias) rather "
    "than the paper's population map; γ = 1 cannot see swapped mixing weights, γ ∈ {0, 4} can.",
    controls=(
        Control("weights_swapped", "the synthetic points come from the target with "
                "probability 1/(1+γ) instead of γ/(1+γ)"),
        Control("target_shifted", "the corrector's target mean is shifted by 0.05 of the "
                "target's standard deviation in each coordinate (the prediction keeps θ*)"),
    ),
)
def population_mc(ctx):
    n_real = 4000
    reps = ctx.size(250, 100)
    mean, cov = _MC_THETA
    root = np.linalg.cholesky(cov)
    out = []
    key = jax.random.key(ctx.seed)
    laws = list(_MC_LAWS.items())[: 1 if ctx.quick else None]
    for li, (name, law) in enumerate(laws):
        tm, tc = law.moments
        t_root = np.linalg.cholesky(tc)
        for ci, (lam, g) in enumerate(((0.5, 0.0), (2.0, 1.0), (1.0, 4.0))):
            m = int(round(lam * n_real))
            keys = jax.random.split(jax.random.fold_in(key, 10 * li + ci), reps)
            prob = 1.0 / (1.0 + g) if ctx.control == "weights_swapped" else g / (1.0 + g)
            loop_tm = np.asarray(tm, dtype=float)
            if ctx.control == "target_shifted":
                loop_tm = loop_tm + 0.05 * np.sqrt(np.diag(tc))
            est = np.asarray(_POOLED_MLE(keys, m, jnp.asarray(mean), jnp.asarray(root),
                                         jnp.asarray(loop_tm), jnp.asarray(t_root), prob,
                                         law.params("float64"), kind=law.kind,
                                         n_real=n_real))
            em, ec = cr.pooled_mle_expectation(mean, cov, tm, tc, tm, tc, n_real=n_real,
                                               n_synthetic=m, correction_strength=g)
            pred = np.asarray(cr.theta_from_gaussian(em, ec))
            for j, lab in enumerate(("µ1", "µ2", "Σ11", "Σ21", "Σ22")):
                out.append(mean_check(f"{name}, λ={lam:g}, γ={g:g}: E {lab}", est[:, j],
                                      pred[j]))
    return out


# --------------------------------------------------------------------------------------------
# rows 5–6: Lemma A.7
# --------------------------------------------------------------------------------------------


def _richardson_fd(fn, x, h):
    """Central difference with one Richardson step, and |D(h) − D(h/2)| as its error scale."""
    d1 = (fn(x + h) - fn(x - h)) / (2 * h)
    d2 = (fn(x + h / 2) - fn(x - h / 2)) / h
    return (4 * d2 - d1) / 3, abs(d2 - d1)


def _a7_formula(a, c, lam, g, control=None):
    """Lemma A.7-II, eq. 23: (I + λA⁻¹C)⁻¹(λ/(1+γ))A⁻¹C; the controls of
    gillman2024.lemma_a7.jacobian inject a defect into it."""
    if control is None or control not in ("gamma_inside", "no_inverse_factor"):
        return cr.lemma_a7_jacobian(a, c, lam, g)
    a, c = np.atleast_2d(a), np.atleast_2d(c)
    r = np.linalg.solve(a, c)
    scale = 0.0 if math.isinf(g) else lam / (1.0 + g)
    if control == "no_inverse_factor":
        return scale * r
    return np.linalg.solve(np.eye(a.shape[0]) + scale * r, scale * r)  # gamma_inside


def _logistic_b_c(theta_star, h=1e-2):
    """B = ∂_θ∂_θ' E_{x∼p_θ} log f(x − θ') and C = ∂²_θ' E_{x∼p_θ} log f(x − θ') at (θ*, θ*)
    for the logistic location class, by Richardson central differences of the cross score
    S(θ, θ') = ∂_θ' E_{p_θ} log f(x − θ') = E_{p_θ} tanh((x − θ')/2) (quadrature); returns
    (B, C, error scale)."""
    b, eb = _richardson_fd(lambda th: cr._score_logistic(th, theta_star), theta_star, h)
    c, ec = _richardson_fd(lambda tp: cr._score_logistic(theta_star, tp), theta_star, h)
    return b, c, eb + ec


def jacobian_measurements(gammas, lambdas=(0.3, 1.0, 4.0), dims=(1, 2, 3), control=None):
    out = []
    for d in dims:
        law = _DATA_D[d]
        tm, tc = law.moments
        a, b, c = cr.lemma_a7_matrices(tm, tc, tm, tc)
        p = a.shape[0]
        out.append(exact_check(f"d={d}: ‖B + C‖ (B = −C)", 0.0, np.max(np.abs(b + c)),
                               atol=1e-10 * np.max(np.abs(c))))
        theta_star = cr.theta_from_gaussian(tm, tc)
        far = cr.theta_from_gaussian(tm + 0.7, tc + 0.3 * np.eye(d))
        for lam in lambdas:
            for g in gammas:
                k = cr.population_contraction(lam, g)
                jac = cr.population_map_jacobian(theta_star, tm, tc, lam, g)
                lem = _a7_formula(a, c, lam, g, control)
                out.append(exact_check(f"d={d}, λ={lam:g}, γ={g:g}: autodiff J(θ*) vs Lemma "
                                       "A.7", 0.0, np.max(np.abs(jac - lem)), atol=1e-8))
                out.append(exact_check(f"d={d}, λ={lam:g}, γ={g:g}: J(θ*) vs k·I", 0.0,
                                       np.max(np.abs(jac - k * np.eye(p))), atol=1e-8))
                j_far = cr.population_map_jacobian(far, tm, tc, lam, g)
                j_imp = cr.implicit_map_jacobian(far, tm, tc, lam, g)
                out.append(exact_check(f"d={d}, λ={lam:g}, γ={g:g}: J(θ ≠ θ*) explicit vs "
                                       "implicit (Lemma A.7-I)", 0.0,
                                       np.max(np.abs(j_far - j_imp)), atol=1e-8))
    ll = cr.logistic_location(MIX_1D)
    # B and C by differentiating the cross-expectation (not the hard-coded ±1/3)
    b_fd, c_fd, err_bc = _logistic_b_c(ll.theta_star)
    out.append(exact_check("logistic: B = −C (both by finite differences of the cross score)",
                           -c_fd, b_fd, rtol=0.0, atol=10 * err_bc + 1e-9))
    out.append(exact_check("logistic: C (finite differences) = −2∫f² = −1/3", ll.c, c_fd,
                           rtol=0.0, atol=10 * err_bc + 1e-9))
    for lam in lambdas:
        for g in gammas:
            fd, err = _richardson_fd(lambda th, lam=lam, g=g: cr.logistic_location_map(
                th, MIX_1D, lam, g, theta_star=ll.theta_star), ll.theta_star, 1e-2)
            lem = float(_a7_formula(ll.a, c_fd, lam, g, control)[0, 0])
            out.append(exact_check(f"logistic, λ={lam:g}, γ={g:g}: finite-difference J(θ*) "
                                   "vs Lemma A.7", lem, fd, rtol=0.0, atol=10 * err + 1e-9))
    return out


@claim(
    id="gillman2024.lemma_a7.jacobian",
    paper=PAPER,
    statement=(
        "Lemma A.7: B = −C and J(π_γG_λ^∞)(θ*) = (I + λA⁻¹C)⁻¹(λ/(1+γ))A⁻¹C; for the Gaussian "
        "class A = C (even for misspecified p_data), so J = k·I with k = λ/((1+λ)(1+γ)) "
        "(reference notes §4.2, derived); Lemma A.7-I (implicit function theorem) at θ ≠ θ*."
    ),
    kind="equality",
    provenance="paper",
    method="Gaussian class, θ = (µ, vech Σ), d = 1, 2, 3 with misspecified p_data: A, B, C and "
    "the map's Jacobian by JAX autodiff, compared to 1e-8 (B + C to 1e-10 relative); the "
    "implicit-function Jacobian vs the explicit one at θ ≠ θ*; the logistic location model "
    "(A ≠ C): the Jacobian of the numerically solved map by central differences with a "
    "Richardson step (tolerance 10× the difference of two step sizes) vs Lemma A.7's formula. "
    "λ ∈ {0.3, 1, 4}, γ ∈ {0, 1, 5} (quick: d = 2, λ ∈ {0.3, 4}, γ ∈ {0, 5}). Logistic B "
    "and C by Richardson differences of the cross score E_{p_θ} tanh((x − θ')/2) in θ and θ'.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Lemma A.7 I–II (eq. 22–23); the "
    "Gaussian-class value k·I is derived (reference notes §4.2)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): with "
    "A := ∇²_{θ'θ'}H₁(θ')|_{θ*}, B := ∇²_{θ,θ'}E_{x∼p_θ}[log p_θ'(x)]|_{θ*,θ*}, C := "
    "∇²_{θ'θ'}E_{x∼p_θ}[log p_θ'(x)]|_{θ*,θ*}: (I) near θ*, J(πG(θ)) = "
    "−(∇²_{θ'θ'}H(θ, πG(θ)))⁻¹·λ∇²_{θ,θ'}H₂(θ, πG(θ)) (eq. 22); (II) ∇²_{θ,θ'}H₂(θ*,θ*) = "
    "B/(1+γ) and B = −C, hence J(πG(θ*)) = (I + λA⁻¹C)⁻¹·(λ/(1+γ))·A⁻¹C (eq. 23)",
    scope="two model classes: the Gaussian class (d = 1, 2, 3, misspecified p_data), where A = "
    "C so the formula reduces to k·I and (I + λA⁻¹C)⁻¹ is a scalar — the formula's matrix "
    "structure (order of the factors, a transposition) is not resolved, since A⁻¹C = I; and "
    "the 1-D logistic location class, where A ≠ C and the scalar formula is checked against "
    "finite differences of the numerically solved map. Quick mode: d = 2 only.",
    controls=(
        Control("gamma_inside", "eq. 23 with the factor 1/(1+γ) also inside the inverse: "
                "(I + (λ/(1+γ))A⁻¹C)⁻¹(λ/(1+γ))A⁻¹C"),
        Control("no_inverse_factor", "eq. 23 with the factor (I + λA⁻¹C)⁻¹ dropped (the "
                "first-order term (λ/(1+γ))A⁻¹C only)"),
    ),
)
def lemma_a7_jacobian(ctx):
    if ctx.quick:
        return jacobian_measurements((0.0, 5.0), lambdas=(0.3, 4.0), dims=(2,),
                                     control=ctx.control)
    return jacobian_measurements((0.0, 1.0, 5.0), control=ctx.control)


@claim(
    id="gillman2024.lemma_a7.norm_bound",
    paper=PAPER,
    statement="Lemma A.7-III: ‖A⁻¹C‖ ≤ 1 + Lε/α (eq. 24).",
    kind="bound",
    provenance="paper",
    method="logistic location model (L = 1/(3√3) globally, α = 2E_{p_data} f(x − θ*), exact "
    "1-D ε = W₁(p_θ*, p_data)) for p_data ∈ {N(0, 1), N(0, 9), a Gaussian mixture, "
    "Student-t(5)}: |C/A| against the bound (one-sided, rtol 1e-9 for quadrature), the proof's "
    "step |C − A| ≤ Lε (one-sided) and the lower side |A⁻¹C| ≥ 1 − Lε/α that the same step "
    "gives (derived); C = −2∫f² by quadrature against −1/3; Gaussian class and mean-only "
    "model: ‖A⁻¹C‖ = 1 ≤ 1 + Lε/α exactly (A = C).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Lemma A.7 III (eq. 24) and its "
    "proof step ‖C − A‖ ≤ L d_W(p_θ*, p_data) = Lε, ‖A⁻¹‖ ≤ 1/α",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): "
    "‖A⁻¹C‖ ≤ 1 + Lε/α (eq. 24), via ‖C − A‖ ≤ L d_W(p_θ*, p_data) = Lε and ‖A⁻¹‖ ≤ 1/α",
    scope="the 1-D logistic location class with four p_data (the only class here where L is "
    "finite and A ≠ C) and the Gaussian class (A = C, so the bound holds with ‖A⁻¹C‖ = 1 "
    "whatever L and ε). The bound's slack on the four laws is small (the excess |A⁻¹C| − 1 "
    "is 48–71 % of Lε/α in absolute value), so a factor 2 in L is resolved; a lower side "
    "1 − Lε/α, not stated in the paper, is added because two of the four laws have "
    "|A⁻¹C| < 1.",
    controls=(
        Control("lipschitz_half", "L = sup|f'| = 1/(6√3), the Lipschitz constant of f rather "
                "than of ∂²_θ log p_θ = −2f(x − θ) (the factor 2 dropped)"),
        Control("eps_mean_gap", "ε is the gap |E_{p_data}x − E_{p_θ*}x| between the means "
                "(a lower bound on W₁ in 1-D) instead of W₁(p_θ*, p_data)"),
    ),
)
def lemma_a7_norm(ctx):
    out = []
    # C = −2∫f² by quadrature (the closed form −1/3 is what logistic_location returns)
    c_quad = -2.0 * integrate.quad(lambda u: float(cr._logistic_pdf(u)) ** 2, -np.inf,
                                   np.inf, epsabs=1e-14)[0]
    out.append(exact_check("logistic: C = −2∫f² (quadrature) = −1/3", -1.0 / 3.0, c_quad,
                           rtol=1e-12))
    for name, law in LOGISTIC_LAWS.items():
        ll = cr.logistic_location(law)
        lip = ll.lipschitz / 2.0 if ctx.control == "lipschitz_half" else ll.lipschitz
        eps = ll.eps
        if ctx.control == "eps_mean_gap":  # the logistic p_θ* has mean θ*
            eps = abs(float(law.moments[0][0]) - ll.theta_star)
        ratio = abs(c_quad / ll.a)
        out.append(exact_check(f"logistic, {name}: |A⁻¹C| ≤ 1 + Lε/α",
                               1.0 + lip * eps / ll.alpha, ratio, rtol=1e-9, sided="upper"))
        out.append(exact_check(f"logistic, {name}: |A⁻¹C| ≥ 1 − Lε/α (derived lower side)",
                               1.0 - lip * eps / ll.alpha, ratio, rtol=1e-9, sided="lower"))
        out.append(exact_check(f"logistic, {name}: |C − A| ≤ Lε (the proof's step)",
                               lip * eps, abs(c_quad - ll.a), rtol=1e-9, sided="upper"))
    for d in (1, 2) if ctx.quick else (1, 2, 3):
        tm, tc = _DATA_D[d].moments
        a, _, c = cr.lemma_a7_matrices(tm, tc, tm, tc)
        out.append(exact_check(f"Gaussian class d={d}: ‖A⁻¹C‖₂ = 1", 1.0,
                               np.linalg.norm(np.linalg.solve(a, c), 2), rtol=1e-12))
    return out


# --------------------------------------------------------------------------------------------
# rows 7, 8, 13: Theorem A.8 and its constants
# --------------------------------------------------------------------------------------------


@claim(
    id="gillman2024.thm_a8.stability_condition",
    paper=PAPER,
    statement=(
        "Theorem A.8, eq. 40–41: whenever λ(1 + εL/α) < 1, ρ(λ)/(1+γ) < 1 ⇔ "
        "λ(1 + εL/α) < (1+γ)/(2+γ)."
    ),
    kind="equality",
    provenance="paper",
    method="sympy: the two cleared inequalities differ by the factor α(2+γ) > 0 "
    "(derivation correction_rho_stability); numerically, 20 000 (quick 5 000) log-uniform "
    "draws of "
    "(α, ε, L, λ, γ) with λ(1 + εL/α) < 1: the number of draws where the two truth values "
    "differ (draws within 1e-9 relative of the boundary excluded) must be 0.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, proof of Theorem A.8, eq. 40–41 "
    "(ρ(λ) of eq. 38)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): with "
    "ρ(λ) := λ(α + εL)/(α − λ(α + εL)) (eq. 38), ρ(λ)/(1+γ) < 1 ⇔ λ(1 + εL/α) < "
    "(1+γ)/(2+γ) (eq. 40–41, clearing denominators)",
    scope="an algebraic equivalence, checked symbolically (the cleared forms differ by the "
    "positive factor α(2+γ)) and on random constants; it restricts to λ(1 + εL/α) < 1, "
    "where ρ is positive and the Neumann-series step of the proof is valid (beyond it ρ < 0 "
    "and ρ/(1+γ) < 1 holds vacuously, so the equivalence as written needs that restriction)",
    controls=(
        Control("bertrand_times_one_plus_gamma", "the stability threshold is Bertrand's 1/2 "
                "scaled by (1+γ): λ(1 + εL/α) < (1+γ)/2"),
        Control("rho_dropped_eps_l", "ρ's denominator α − λ(α + εL) written α − λα (the εL "
                "term dropped there)"),
    ),
)
def stability_equivalence(ctx):
    ratio = get_derivation("correction_rho_stability").lambdify().ratio
    alpha, gam = sp.symbols("alpha gamma", positive=True)
    factor = alpha * (gam + 1) if ctx.control == "bertrand_times_one_plus_gamma" else (
        alpha * (gam + 2))
    sym_ok = float(sp.simplify(ratio - factor) == 0)
    key = jax.random.key(ctx.seed)
    u = np.asarray(jax.random.uniform(key, (ctx.size(20_000, 5_000), 5)))
    a = 10 ** (-2 + 4 * u[:, 0])
    e = 10 ** (-3 + 4 * u[:, 1])
    lip = 10 ** (-3 + 4 * u[:, 2])
    g = 10 ** (-3 + 5 * u[:, 3])
    lam_edge = 1.0 / (1.0 + e * lip / a)
    lam = lam_edge * u[:, 4]  # λ(1 + εL/α) ∈ (0, 1): ρ is defined
    mismatch, used = 0, 0
    for ai, ei, li, gi, la in zip(a, e, lip, g, lam, strict=True):
        cond_value = la * (1 + ei * li / ai) / ((1 + gi) / (2 + gi))
        if abs(cond_value - 1.0) < 1e-9:
            continue
        used += 1
        if ctx.control == "rho_dropped_eps_l":
            lhs = la * (ai + ei * li) / (ai - la * ai) / (1.0 + gi) < 1.0
        else:
            lhs = cr.contraction_bound(la, gi, ai, ei, li) < 1.0
        if ctx.control == "bertrand_times_one_plus_gamma":
            cond = la * (1.0 + ei * li / ai) < (1.0 + gi) / 2.0
        else:
            cond = cr.stability_condition(la, gi, ai, ei, li)
        mismatch += int(lhs != cond)
    return [
        exact_check("sympy: cleared forms differ by α(2+γ)", 1.0, sym_ok, rtol=0.0),
        exact_check(f"mismatches over {used} random draws", 0.0, float(mismatch), rtol=0.0),
    ]


def _dist(theta, theta_star):
    return float(np.linalg.norm(np.asarray(theta) - np.asarray(theta_star)))


_A8_TS = (1, 2, 3, 5, 10, 20, 30)


def _h_gauss(tp, theta, dm, dc, tm, tc, lam, tw):
    """H(θ, θ') = E_{p_data} log p_θ' + λ[(1 − t)E_{p_θ} log p_θ' + t E_{p_θ*} log p_θ'],
    t = γ/(1+γ), written from Def. 4.1 and eq. 10–11 with the closed-form Gaussian expected
    log-likelihood of each component (no mixture weights, no k)."""
    m, c = cr.theta_to_gaussian(theta, tm.shape[0])
    return (cr.expected_loglik_gaussian(tp, dm, dc)
            + lam * ((1.0 - tw) * cr.expected_loglik_gaussian(tp, m, c)
                     + tw * cr.expected_loglik_gaussian(tp, tm, tc)))


@jax.jit
def _newton_map(theta, dm, dc, tm, tc, lam, tw):
    """π_γG_λ^∞(θ) for the Gaussian class as the argmax of H(θ, ·) by 25 Newton steps from
    θ' = θ (autodiff gradient and Hessian): an independent route to the closed-form k-map."""
    grad, hess = jax.grad(_h_gauss), jax.hessian(_h_gauss)

    def step(_, tp):
        args = (tp, theta, dm, dc, tm, tc, lam, tw)
        return tp - jnp.linalg.solve(hess(*args), grad(*args))

    return jax.lax.fori_loop(0, 25, step, theta)


def _a8_q(lam, g, consts, control):
    """The bound's factor ρ(λ)/(1+γ); the control "bound_gamma_squared" divides by (1+γ)²."""
    q = cr.contraction_bound(lam, g, *consts)
    if control == "bound_gamma_squared" and not math.isinf(g):
        q /= 1.0 + g
    return q


def thm_a8_measurements(gammas, lambdas=(0.1, 0.3, 0.45), control=None):
    """Theorem A.8 on the Gaussian class (ε = 0) and the logistic location model.

    The Gaussian map is the argmax of H(θ, ·) by Newton's method (:func:`_newton_map`), not
    the closed form µ' = µ* + k(µ − µ*) whose k is the predicted rate; its Jacobian at θ* by
    central differences. Iterates are computed in absolute coordinates, so ‖θ_t − θ*‖
    carries a rounding error of a few ulps of ‖θ*‖: each comparison allows
    8·eps·(‖θ*‖ + 1)·√p, and the measured rate is taken at the last t where the distance
    still exceeds 1e-6. ``control`` injects a defect (see gillman2024.thm_a8.contraction)."""
    out = []
    tm, tc = np.array([0.5, -0.3]), np.array([[1.5, 0.3], [0.3, 0.8]])
    theta_star = np.asarray(cr.theta_from_gaussian(tm, tc))
    p = theta_star.size
    rounding = 8 * EPS64 * (np.linalg.norm(theta_star) + 1.0) * math.sqrt(p)
    dm, dc = np.array([0.05, -0.04]), np.array([[0.03, 0.01], [0.01, -0.02]])
    gauss_consts = (1.0, 0.0, 0.0)
    for lam in lambdas:
        for g in gammas:
            if not cr.stability_condition(lam, g, *gauss_consts):
                continue
            tw = 1.0 if math.isinf(g) else g / (1.0 + g)

            def fmap(th, lam=lam, tw=tw):
                return np.asarray(_newton_map(jnp.asarray(th), tm, tc, tm, tc, lam, tw))

            q = _a8_q(lam, g, gauss_consts, control)
            k = cr.population_contraction(lam, g)
            if control == "rate_ratio_for_fraction":
                k *= 1.0 + lam  # λ/(1+γ): the ratio λ used as the synthetic fraction
            h = 1e-4
            jac = np.stack([(fmap(theta_star + h * e) - fmap(theta_star - h * e)) / (2 * h)
                            for e in np.eye(p)], axis=1)
            out.append(exact_check(f"Gaussian, λ={lam:g}, γ={g:g}: ‖J(θ*)‖₂ (differences of "
                                   "the Newton map) ≤ ρ/(1+γ)", q, np.linalg.norm(jac, 2),
                                   rtol=1e-12, atol=1e-9, sided="upper"))
            th = np.asarray(cr.theta_from_gaussian(tm + dm, tc + dc))
            d0 = _dist(th, theta_star)
            dists = [d0]
            for _ in range(max(_A8_TS) + 40):
                th = fmap(th)
                dists.append(_dist(th, theta_star))
            for t in _A8_TS:
                out.append(exact_check(f"Gaussian, λ={lam:g}, γ={g:g}, t={t}: ‖θ_t−θ*‖ ≤ "
                                       "(ρ/(1+γ))^t‖θ₀−θ*‖", q**t * d0, dists[t], rtol=1e-12,
                                       atol=rounding, sided="upper"))
            if k > 0:
                # θ_t − θ* = k^t (v − k^t w): the per-step ratio is k(1 + O(k^t)) (derived)
                v = np.concatenate([dm, np.asarray(cr.theta_from_gaussian(
                    np.zeros(2), dc + np.outer(dm, dm)))[2:]])
                w = np.concatenate([np.zeros(2), np.asarray(cr.theta_from_gaussian(
                    np.zeros(2), np.outer(dm, dm)))[2:]])
                t = max(i for i in range(len(dists) - 1) if dists[i + 1] > 1e-6)
                nw, nv = np.linalg.norm(w), np.linalg.norm(v)
                tol = 2 * k**t * nw / (nv - k**t * nw) + 2 * rounding / dists[t + 1]
                out.append(exact_check(f"Gaussian, λ={lam:g}, γ={g:g}: observed rate "
                                       f"‖θ_{{t+1}}−θ*‖/‖θ_t−θ*‖ (t={t}) = k", k,
                                       dists[t + 1] / dists[t], rtol=tol))
                out.append(exact_check(f"Gaussian, λ={lam:g}, γ={g:g}: J(θ*) (differences) = "
                                       "k·I", 0.0, np.max(np.abs(jac - k * np.eye(p))),
                                       atol=1e-8))
    ll = cr.logistic_location(MIX_1D)
    consts = (ll.alpha, ll.eps, ll.lipschitz)
    for lam in (0.1, 0.3, 0.4):
        for g in gammas:
            if not cr.stability_condition(lam, g, *consts):
                continue
            q = _a8_q(lam, g, consts, control)
            jac, err = _richardson_fd(lambda x, lam=lam, g=g: cr.logistic_location_map(
                x, MIX_1D, lam, g, theta_star=ll.theta_star), ll.theta_star, 1e-2)
            out.append(exact_check(f"logistic, λ={lam:g}, γ={g:g}: |J(θ*)| (differences of "
                                   "the solved map) ≤ ρ/(1+γ)", q, abs(jac), rtol=1e-12,
                                   atol=10 * err + 1e-9, sided="upper"))
            th, d0 = ll.theta_star + 0.3, 0.3
            for t in range(1, 7):
                th = cr.logistic_location_map(th, MIX_1D, lam, g, theta_star=ll.theta_star)
                # each map evaluation is exact to ~1e-12 (root 1e-14, quadrature ~1e-13)
                out.append(exact_check(f"logistic, λ={lam:g}, γ={g:g}, θ₀=θ*+0.3, t={t}: "
                                       "|θ_t−θ*| ≤ (ρ/(1+γ))^t|θ₀−θ*|", q**t * d0,
                                       abs(th - ll.theta_star), rtol=0.0, atol=1e-11 * t,
                                       sided="upper"))
    return out


@claim(
    id="gillman2024.thm_a8.contraction",
    paper=PAPER,
    statement=(
        "Theorem A.8 (infinite sampling): if λ(1 + εL/α) < (1+γ)/(2+γ) then "
        "‖∇π_γG_λ^∞(θ*)‖ ≤ ρ(λ)/(1+γ) < 1 (eq. 37) and ‖θ_t − θ*‖ ≤ (ρ(λ)/(1+γ))^t‖θ₀ − θ*‖ "
        "near θ* (eq. 39); for the Gaussian class the actual rate is k = λ/((1+λ)(1+γ)) "
        "(reference notes §4.2)."
    ),
    kind="bound",
    provenance="paper",
    method="Gaussian class with Gaussian p_data (ε = 0, so εL = 0 whatever L on a bounded "
    "domain), the map as the argmax of H(θ, ·) by Newton's method: its Jacobian norm by "
    "central differences (h = 1e-4), iterations from θ₀ near θ* against "
    "the bound at t ∈ {1, 2, 3, 5, 10, 20, 30} (allowing 8 ulps of ‖θ*‖ for rounding); the "
    "observed per-step rate at the last t with ‖θ_t − θ*‖ > 1e-6 against k with the derived "
    "remainder 2k^t‖w‖/(‖v‖ − k^t‖w‖) plus rounding, and the Jacobian against k·I; logistic "
    "location model with the Gaussian-mixture p_data (α, ε, L from logistic_location): "
    "|J| by Richardson differences of the numerically solved map and 6 iterations of it "
    "from θ* + 0.3. λ ∈ {0.1, 0.3, 0.45 (0.4 logistic)}, γ ∈ "
    "{0.5, 2, 10, ∞} where the stability condition holds.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Theorem A.8 (eq. 37–39); the "
    "Gaussian-class rate k is derived (reference notes §4.2)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): "
    "under Assumptions A.3, A.4, if λ(1 + εL/α) < (1+γ)/(2+γ) then ‖∇_θπ_γG_λ^∞(θ*)‖₂ ≤ "
    "(1/(1+γ))·λ(α + εL)/(α − λ(α + εL)) < 1 (eq. 37), and ∃ δ > 0 such that ‖θ₀ − θ*‖ ≤ δ "
    "implies θ_t → θ*, with ‖θ_t − θ*‖ ≤ (ρ(λ)/(1+γ))^t‖θ₀ − θ*‖ (eq. 39), ρ(λ) := "
    "λ(α + εL)/(α − λ(α + εL)) (eq. 38)",
    scope="two 1-parameter-family settings: the 2-D Gaussian class with Gaussian p_data "
    "(ε = 0; α = 1 is used in ρ, the Gaussian class having no global L — with ε = 0 the "
    "εL term vanishes whatever L on a bounded domain) and the 1-D logistic location class "
    "with a Gaussian-mixture p_data (α, ε, L all exact). The Gaussian map is computed by "
    "Newton's method on H(θ, ·) written from Def. 4.1 (not the closed-form k-map); its "
    "Jacobian and the rate are measured by central differences and by the observed "
    "contraction of 70 iterates, and compared with the derived k = λ/((1+λ)(1+γ)) (the "
    "theorem's bound ρ/(1+γ) is not tight: slack (1+λ)/(1 − λ) for the Gaussian class). "
    "θ₀ is within 0.1 of θ* (a local theorem).",
    controls=(
        Control("rate_ratio_for_fraction", "the predicted rate is λ/(1+γ) (the synthetic ratio "
                "λ used as the synthetic fraction λ/(1+λ))"),
        Control("bound_gamma_squared", "the bound's factor is ρ(λ)/(1+γ)² instead of "
                "ρ(λ)/(1+γ)"),
    ),
)
def thm_a8(ctx):
    return thm_a8_measurements((0.5, 2.0, 10.0, math.inf), control=ctx.control)


@claim(
    id="gillman2024.lambda_max",
    paper=PAPER,
    statement=(
        "Admissible λ: the stability condition holds iff λ < λ_max(γ) = (1+γ)/((2+γ)(1 + εL/α)); "
        "λ_max(0) = 1/(2(1 + εL/α)) (Bertrand et al.), λ_max increases in γ and "
        "lim_{γ→∞} λ_max = 2·λ_max(0) (§4; Conjecture 4.7's partial evidence)."
    ),
    kind="equality",
    provenance="paper",
    method="exact: sympy (derivation correction_lambda_max: solve, limit, ratio = 2); numeric "
    "λ_max at γ ∈ {0, …, ∞} for εL/α ∈ {0, 0.3, 2}: the closed forms at 0 and ∞ (rtol "
    "1e-15), strict increase on a γ grid, and the stability condition true at "
    "λ_max(1 − 1e-9) and false at λ_max(1 + 1e-9).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Theorem 4.3 / A.8 stability "
    "condition, the discussion after Theorem 4.3 and Conjecture 4.7",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): the "
    "condition is λ(1 + εL/α) < (1+γ)/(2+γ); at γ = 0 it is Bertrand et al.'s λ(1 + εL/α) < "
    "1/2; on γ → ∞ the paper writes \"lim_{γ→∞}(1+γ)/(2+γ) = 1, which is twice as large as "
    "the bound when γ = 0\" (partial evidence for Conjecture 4.7)",
    scope="λ_max(γ) = (1+γ)/((2+γ)(1 + εL/α)) is the algebraic solution of the stated "
    "condition (derived, not printed in the paper); checked at three values of εL/α on a "
    "10-point γ grid (strict increase on the grid only) and at ±1e-9 relative around the "
    "threshold",
    controls=(
        Control("bertrand_times_one_plus_gamma", "λ_max = (1+γ)/(2(1 + εL/α)): Bertrand's 1/2 "
                "scaled by (1+γ)"),
        Control("alpha_dropped", "λ_max = (1+γ)/((2+γ)(1 + εL)): α dropped from εL/α"),
    ),
)
def lambda_max_claim(ctx):
    der = get_derivation("correction_lambda_max")
    out = [exact_check("sympy: lim_{γ→∞} λ_max / λ_max(0)", 2.0,
                       float(der.lambdify().ratio), rtol=0.0)]
    grid = [0.0, 0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1e4, math.inf]
    for r in (0.0, 0.3, 2.0):
        alpha, eps, lip = 1.5, r * 1.5, 1.0
        if ctx.control == "bertrand_times_one_plus_gamma":
            lm = [(1.0 + g) / (2.0 * (1.0 + eps * lip / alpha)) for g in grid]
        elif ctx.control == "alpha_dropped":
            lm = [(1.0 if math.isinf(g) else (1.0 + g) / (2.0 + g)) / (1.0 + eps * lip)
                  for g in grid]
        else:
            lm = [cr.lambda_max(g, alpha, eps, lip) for g in grid]
        out.append(exact_check(f"εL/α={r:g}: λ_max(0) = 1/(2(1+εL/α))", 0.5 / (1 + r), lm[0],
                               rtol=4 * EPS64))
        out.append(exact_check(f"εL/α={r:g}: λ_max(∞) = 2λ_max(0)", 2 * lm[0], lm[-1],
                               rtol=4 * EPS64))
        out.append(exact_check(f"εL/α={r:g}: min_γ [λ_max(γ_{{i+1}}) − λ_max(γ_i)] > 0",
                               float(np.finfo(float).tiny), float(np.min(np.diff(lm))),
                               sided="lower"))
        flips = sum(int(cr.stability_condition(lm_i * (1 - 1e-9), g, alpha, eps, lip))
                    + int(not cr.stability_condition(lm_i * (1 + 1e-9), g, alpha, eps, lip))
                    for lm_i, g in zip(lm, grid, strict=True) if lm_i * (1 + 1e-9) < 1)
        count = sum(1 for lm_i in lm if lm_i * (1 + 1e-9) < 1)
        out.append(exact_check(f"εL/α={r:g}: condition flips at λ_max (2 per γ)",
                               2.0 * count, float(flips), rtol=0.0))
    return out


# --------------------------------------------------------------------------------------------
# rows 9, 10, 15: Theorem 4.3, Assumption 4.2(3), Prop. B.2 (mean-only loop)
# --------------------------------------------------------------------------------------------

FIT_N = (25, 50, 100, 200)
DELTA = 0.1
RADIUS = 1.5  # U = [θ* − 1.5, θ* + 1.5] (θ* = 0, σ₀ = 1)
GRID = np.linspace(-RADIUS, RADIUS, 31)


@jax.jit
def _one_step_errors(key, n, m, gamma, grid):
    """sup_{θ ∈ grid} |π_γG_λⁿ(θ) − π_γG_λ^∞(θ)| for the mean-only 1-D loop, p_data = N(0, 1).

    The pooled mean depends on the points only through Σx (n real points, N(0, n)), Σz over
    the m synthetic draws (N(0, m), the same z for model and target points, as the engine)
    and M₁ ~ Bin(m, 1/(1+γ)) model points: π_γG_λⁿ(θ) = (Σx + Σz + M₁θ)/N (µ* = 0), while
    π_γG_λ^∞(θ) = kθ with k = m/((n+m)(1+γ)) (m = λn exactly). These sums are drawn exactly.
    """
    k_x, k_z, k_b = jax.random.split(key, 3)
    big = n + m
    q = 1.0 / (1.0 + gamma)
    sx = jnp.sqrt(n) * jax.random.normal(k_x)
    sz = jnp.sqrt(m) * jax.random.normal(k_z)
    m1 = jax.random.binomial(k_b, m, q)
    err = (sx + sz + (m1 - m * q) * grid) / big
    return jnp.max(jnp.abs(err))


def one_step_errors(seed, n, gamma, replicates):
    """i.i.d. draws of sup_{θ∈U} |π_γGⁿ(θ) − π_γG^∞(θ)| at λ = 0.4 (m = 0.4n), shape (R,)."""
    keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), n), replicates)
    m = int(round(MEAN_LAMBDA * n))
    fn = jax.vmap(_one_step_errors, in_axes=(0, None, None, None, None))
    return np.asarray(fn(keys, float(n), float(m), float(gamma), jnp.asarray(GRID)))


def expected_sup_error(n, gamma):
    """E sup_U |error| = E|A| + R·E|M₁ − mq|/N, A ~ N(0, 1/N) (derived: the error is
    A + cθ with c = (M₁ − mq)/N independent of A, maximal at θ = ±R)."""
    m = int(round(MEAN_LAMBDA * n))
    big = n + m
    q = 1.0 / (1.0 + gamma)
    ks = np.arange(m + 1)
    e_abs = float(np.sum(np.abs(ks - m * q) * stats.binom.pmf(ks, m, q)))
    return math.sqrt(2.0 / (math.pi * big)) + RADIUS * e_abs / big


@lru_cache(maxsize=16)
def fitted_tau(seed, gamma, replicates):
    """Fit Assumption 4.2(3)'s (a, b, ε_OPT) on one-step errors from the stream ``seed``
    (cached: the Theorem 4.3 and Assumption 4.2(3) claims share it)."""
    errors = [one_step_errors(seed, n, gamma, replicates) for n in FIT_N]
    deltas = np.geomspace(DELTA / MEAN_T, 0.5, 8)
    return cr.fit_tau_n(errors, FIT_N, deltas, conservative=True, confidence=1e-7)


def thm43_measurements(ctx, gamma):
    """Theorem 4.3 on the engine's mean-only loop; τ_n fitted on the independent stream
    ctx.seed + 1."""
    fit = fitted_tau(ctx.seed + 1, gamma, ctx.size(20_000, 5_000))
    traj = mean_loop(ctx, gamma)
    err = np.abs(traj.means[:, :, 0])  # θ* = 0
    d0 = err[:, 0]
    out = [exact_check("iterates stay in U: max_t |θ_t − θ*| < radius of U", RADIUS,
                       float(err.max()), rtol=0.0, sided="upper")]
    for t in (1, 2, 5, 10, 20, 50):
        out += theorem_4_3_coverage_checks(t, err, d0, gamma, fit)
    return out


def theorem_4_3_coverage_checks(t, err, d0, gamma, fit):
    """Theorem 4.3's bound (7) at generation ``t`` of the mean-only loop, with the paper's sum
    Σ_{i≤t} and the proof's Σ_{i<t}: the fraction of replicates with |θ_t − θ*| ≤ RHS must be
    ≥ 1 − δ (one-sided binomial). ``err`` is |θ − θ*| per replicate and generation, ``d0`` its
    generation-0 column, ``fit`` the τ_n fit. Bertrand et al.'s Theorem 2 is the case γ = 0."""
    out = []
    for terms in ("paper", "proof"):
        rhs = cr.theorem_4_3_bound(t, MEAN_N, DELTA, d0, MEAN_LAMBDA, gamma, 1.0, 0.0, 0.0,
                                   fit.a, fit.b, fit.eps_opt, terms=terms)
        sums = "Σ_{i≤t}" if terms == "paper" else "Σ_{i<t}"
        slack = (f" [90% quantile of |θ_t−θ*| {np.quantile(err[:, t], 0.9):.3g}, median "
                 f"RHS {np.median(rhs):.3g}]")
        out.append(fraction_check(f"t={t}, {sums}: P(|θ_t−θ*| ≤ RHS(7)) ≥ 1−δ{slack}",
                                  err[:, t] <= rhs, 1.0 - DELTA, sided="lower"))
    return out


_THM43_METHOD = (
    "mean-only model N(µ, 1), p_data = N(0, 1) (θ* = 0, α = 1, L = 0, ε = 0 exactly), n = 50, "
    "λ = 0.4 (m = 20; ρ = 2/3), δ = 0.1, engine loop with random corrector membership, "
    "T = 50. τ_n(δ) = ε_OPT + (a/√n)√log(b/δ) is fitted (theory.correction.fit_tau_n, "
    "least squares on the empirical (1−δ)-quantiles, slope inflated to dominate their "
    "upper 1 − 1e-7 confidence bounds) on an independent seed stream (claim seed + 1): "
    "sup over a 31-point grid of U = [−1.5, 1.5] of the one-step error, n ∈ {25, 50, 100, "
    "200}, δ ∈ [δ/T, 0.5]. Per t ∈ {1, 2, 5, 10, 20, 50}: the fraction of replicates with "
    "|θ_t − θ*| ≤ RHS of eq. 7 (with the replicate's own |θ₀ − θ*|), exact binomial test "
    "against ≥ 1 − δ, with the printed Σ_{i=0}^{t} and the proof's Σ_{i<t}."
)


_EXACT_GAMMAS = (0.5, 1.0, 3.0)
_EXACT_TS = (1, 5, 50)
_TARGET_SHIFT = 0.1  # σ₀ units: the smallest target error the exact law should resolve


def exact_mean_law(gamma, t_max=MEAN_T, temperature=1.0):
    """The exact law of the deterministic-split mean-only loop (derived; checked against the
    engine in gillman2024.thm4.3 itself).

    With m₁ = round(m/(1+γ)) model points, c = m₁/N (N = n + m) and µ* = 0, the update is
    θ_t = c·θ_{t−1} + (n/N)·x̄ + η_t, η_t ~ N(0, (τm₁ + m₂)/N²) independent of the past (the
    synthetic noise; τ the temperature of the model draws), and θ₀ = x̄ ~ N(0, σ₀²/n).
    Hence θ_t = B_t·x̄ + (noise) with B_t = c·B_{t−1} + n/N (B₀ = 1) and conditional variance
    V_t = c²V_{t−1} + (τm₁ + m₂)/N² (V₀ = 0): given the real sample θ_t ~ N(B_t x̄, V_t), and
    unconditionally θ_t ~ N(0, B_t²/n + V_t). Returns (B, V) for t = 0 … t_max and Δ, the
    coefficient of a shift s of the corrector's target mean (θ_t moves by s·Δ_t exactly,
    Δ_t = c·Δ_{t−1} + m₂/N, Δ₀ = 0)."""
    n, m = MEAN_N, MEAN_M
    big = n + m
    m1 = round(m / (1.0 + gamma)) if math.isfinite(gamma) else 0
    m2 = m - m1
    c = m1 / big
    b, v, dl = [1.0], [0.0], [0.0]
    for _ in range(t_max):
        b.append(c * b[-1] + n / big)
        v.append(c * c * v[-1] + (temperature * m1 + m2) / big**2)
        dl.append(c * dl[-1] + m2 / big)
    return np.array(b), np.array(v), np.array(dl)


def thm43_exact_measurements(ctx):
    """The exact law of |θ_t − θ*| in the deterministic-split mean-only loop (the engine),
    at γ ∈ _EXACT_GAMMAS; the controls are injected into the loop's inputs."""
    out = []
    z = stats.norm.isf(DELTA / 2.0)
    for g in _EXACT_GAMMAS:
        g_loop = 1.0 / g if ctx.control == "weights_swapped" else g
        fields = dict(dim=1, n_real=MEAN_N, synthetic_ratio=MEAN_LAMBDA, data="mix",
                      model="gaussian_mean", correction_strength=g_loop,
                      correction_split="deterministic", generations=MEAN_T,
                      replicates=ctx.size(20_000, 4_000), truth=(0.0, 1.0))
        if ctx.control == "real_data_dropped":
            fields.update(data="replace", n_synthetic=MEAN_M)
        if ctx.control == "synthetic_variance_scaled":
            fields.update(temperature=2.0)
        th = np.asarray(simulate(ctx, **fields).means[:, :, 0])
        b, v, shift = exact_mean_law(g)
        if ctx.control == "target_shifted":
            # the engine has no separate target knob: the loop is affine in the corrector's
            # target mean with the deterministic coefficient Δ_t, so this is the loop run
            # with µ* = 0.1σ₀ (same draws) while the prediction keeps θ* = 0
            th = th + _TARGET_SHIFT * shift[None, :]
        for t in _EXACT_TS:
            q = math.sqrt(b[t] ** 2 / MEAN_N + v[t]) * z
            out.append(fraction_check(f"exact law, γ={g:g}, t={t}: P(|θ_t−θ*| ≤ q_{{1−δ}} = "
                                      f"{q:.4g}) = 1−δ", np.abs(th[:, t]) <= q, 1.0 - DELTA))
            out.append(ks_check(f"exact law, γ={g:g}, t={t}: (θ_t − B_t θ₀)/√V_t ~ N(0, 1) "
                                "given the real sample", (th[:, t] - b[t] * th[:, 0])
                                / math.sqrt(v[t]), stats.norm.cdf))
    return out


# the notes' transcription of Theorem 4.3 (eqs. 7, 38, 44), quoted by both Theorem 4.3 claims
_THM43_TRANSCRIPT = (
    "Transcribed in the reference notes [G] from the paper: \"Fix λ ∈ R_{>0}, "
    "γ ∈ R_{≥0}. Iteration θ_{t+1}^n = π_γG_λ^n(θ_t^n); Assumption 4.2 (1)–(3). Fix δ ∈ (0,1). "
    "If θ_0 is sufficiently close to θ* and λ(1 + εL/α) < (1+γ)/(2+γ), then ρ(λ)/(1+γ) < 1 "
    "and, with probability 1 − δ, ‖θ_t^n − θ*‖ ≤ τ_n(δ/t)·Σ_{i=0}^{t}(ρ(λ)/(1+γ))^i + "
    "(ρ(λ)/(1+γ))^t·‖θ_0^n − θ*‖ (eq. 7), with τ_n(δ/t) = ε_OPT + (a/√n)·sqrt(log(bt/δ)) "
    "(eq. 44)\", \"for all t > 0\"; ρ(λ) = λ(α + εL)/(α − λ(α + εL)) (eq. 38).")


@claim(
    id="gillman2024.thm4.3",
    paper=PAPER,
    statement=(
        "Theorem 4.3: under Assumption 4.2 and λ(1 + εL/α) < (1+γ)/(2+γ), with probability "
        "≥ 1 − δ, ‖θ_tⁿ − θ*‖ ≤ τ_n(δ/t)Σ_{i=0}^{t}(ρ(λ)/(1+γ))^i + (ρ(λ)/(1+γ))^t‖θ₀ⁿ − θ*‖ "
        "for each t; beside the bound, the exact law of ‖θ_tⁿ − θ*‖ in the same loop (derived)."
    ),
    kind="bound",
    provenance="paper",
    method=_THM43_METHOD + " γ = 1. The bound holds with 2–6× slack (reported) and cannot "
    "see a wrong loop by itself, so the same quantity is also tested against its exact law "
    "(derived, exact_mean_law): the engine's mean-only loop with the deterministic split "
    "(m₁ = round(m/(1+γ)) model points; same n, λ, T, replicates), γ ∈ {0.5, 1, 3} "
    "(common random numbers across γ), t ∈ {1, 5, 50}: the fraction of replicates with "
    "|θ_t − θ*| ≤ the exact (1−δ)-quantile √(B_t²/n + V_t)·z_{1−δ/2} (exact binomial test, "
    "two-sided, = 1 − δ) and a KS test of the conditional pivot (θ_t − B_t θ₀)/√V_t against "
    "N(0, 1) (θ₀ = x̄, the real sample's mean).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Theorem 4.3 (= Theorem A.11), "
    "eq. 7 and eq. 44",
    exact_statement=_THM43_TRANSCRIPT,
    scope="One model where every hypothesis is exact: the 1-D mean-only Gaussian (α = 1, L = 0, "
    "ε = 0), n = 50, λ = 0.4, δ = 0.1, θ₀ the real-data fit; the bound with fitted (a, b, "
    "ε_OPT) at γ = 1 only (random membership), per fixed t (not uniform in t). The bound is "
    "loose (slack 2–6×): it would also hold for many wrong loops; the power comes from the "
    "exact-law comparisons, which use the deterministic split (with random membership θ_t is "
    "a binomial mixture of Gaussians, exact only given the membership counts, which the "
    "engine does not expose). The target-shift control is injected through the loop's exact "
    "linearity in the target mean (no engine knob shifts the target alone).",
    controls=(
        Control("target_shifted", "the corrector's target mean is 0.1σ₀ while the prediction "
                "keeps θ* = 0"),
        Control("real_data_dropped", "the loop refits on the m synthetic points only "
                "(data='replace'), the real set used only at generation 0"),
        Control("synthetic_variance_scaled", "the model's synthetic draws have variance ×2 "
                "(temperature 2)"),
        Control("weights_swapped", "the loop runs at strength 1/γ (target weight 1/(1+γ) and "
                "model weight γ/(1+γ))"),
    ),
)
def thm43(ctx):
    return thm43_measurements(ctx, 1.0) + thm43_exact_measurements(ctx)


def analytic_tau_constants(gamma):
    """Valid constants of Assumption 4.2(3) for the mean-only loop (derived, every n):
    sup_U |error| = |A| + R|M₁ − mq|/N with A ~ N(0, 1/N) (Gaussian tail
    P(|A| > x) ≤ 2e^{−Nx²/2}) and M₁ ~ Bin(m, q) (Hoeffding P(|M₁ − mq| > s) ≤ 2e^{−2s²/m});
    splitting δ in halves gives τ_n(δ) = (a/√n)√log(4/δ) with
    a = √(2/(1+λ)) + R√(λ/2)/(1+λ) (γ > 0), and a = √(2/(1+λ)), b = 2 for γ = 0
    (no membership noise)."""
    lam = MEAN_LAMBDA
    if gamma == 0.0:
        return math.sqrt(2.0 / (1.0 + lam)), 2.0, 0.0
    return math.sqrt(2.0 / (1.0 + lam)) + RADIUS * math.sqrt(lam / 2.0) / (1.0 + lam), 4.0, 0.0


def assumption_measurements(ctx, gamma):
    fit = fitted_tau(ctx.seed + 1, gamma, ctx.size(20_000, 5_000))
    a_an, b_an, e_an = analytic_tau_constants(gamma)
    reps = ctx.size(20_000, 5_000)
    out = []
    for n in FIT_N:
        fresh = one_step_errors(ctx.seed, n, gamma, reps)
        out.append(mean_check(f"n={n}: E sup_U one-step error (exact)", fresh,
                              expected_sup_error(n, gamma)))
        for dl in (0.01, 0.1):
            tau = cr.tau_n(n, dl, fit.a, fit.b, fit.eps_opt)
            out.append(fraction_check(f"n={n}, δ={dl:g}: P(sup error ≤ τ_n(δ)) ≥ 1−δ, fitted "
                                      f"a={fit.a:.3g}, b={fit.b:.3g}, ε_OPT={fit.eps_opt:.2g} "
                                      f"(R² of the quantile fit {fit.r2:.4f})",
                                      fresh <= tau, 1.0 - dl, sided="lower"))
            tau_an = cr.tau_n(n, dl, a_an, b_an, e_an)
            out.append(fraction_check(f"n={n}, δ={dl:g}: P(sup error ≤ τ_n(δ)) ≥ 1−δ, derived "
                                      f"a={a_an:.3g}, b={b_an:g}, ε_OPT=0", fresh <= tau_an,
                                      1.0 - dl, sided="lower"))
    return out


@claim(
    id="gillman2024.assumption4.2.3",
    paper=PAPER,
    statement=(
        "Assumption 4.2(3): ∃ a, b, ε_OPT with P(∀θ ∈ U: ‖π_γG_λⁿ(θ) − π_γG_λ^∞(θ)‖ ≤ "
        "ε_OPT + (a/√n)√log(b/δ)) ≥ 1 − δ; for the exact MLE ε_OPT ≈ 0 and the errors "
        "scale as 1/√n."
    ),
    kind="bound",
    provenance="paper",
    method="mean-only 1-D loop, γ ∈ {1, 3}, λ = 0.4, U = [−1.5, 1.5] (31-point grid): "
    "constants fitted on the stream seed + 1 (as in gillman2024.thm4.3), and derived constants "
    "(Gaussian tail + Hoeffding: a = √(2/(1+λ)) + 1.5√(λ/2)/(1+λ), b = 4, ε_OPT = 0); on "
    "fresh draws (seed) for n ∈ {25, 50, 100, 200}: the exact E sup_U error "
    "√(2/(πN)) + 1.5·E|M₁ − mq|/N (derived) with CLT SE, and P(sup error ≤ τ_n(δ)) ≥ 1 − δ "
    "at δ ∈ {0.01, 0.1} for both sets of constants (exact binomial tests). The quantile "
    "fit's R² is reported in the labels (the √log(b/δ) form is a tail-bound shape, not the "
    "exact quantile curve). The sup errors come from this module's exact one-step sampler "
    "(_one_step_errors: the sums Σx, Σz and M₁ drawn directly); the engine is checked at one "
    "point of U: its first generation (n = 50, m = 20, random membership, θ = θ₀ = x̄) has "
    "one-step error e = θ₁ − kθ₀ with E e² = (n + m + mq(1−q)/n)/N² exactly (derived), "
    "replicate mean with CLT SE.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Assumption 4.2(3) (= A.10, eq. 6 "
    "/ 43)",
    exact_statement="Transcribed in the reference notes [G]: \"∃ a, b, ε_OPT ≥ 0 and a "
    "neighborhood U of θ* such that for any δ ∈ (0,1), with probability 1 − δ over the "
    "samplings, ∀θ ∈ U, ∀n ∈ N: ‖π_γG_λ^n(θ) − π_γG_λ^∞(θ)‖ ≤ ε_OPT + (a/√n)·sqrt(log(b/δ))\" "
    "(eq. 6 / 43); τ_n(δ) := ε_OPT + (a/√n) sqrt(log(b/δ)).",
    scope="the 1-D mean-only model, λ = 0.4, γ ∈ {1, 3}, U = [−1.5, 1.5] on a 31-point grid, "
    "four n, two δ; per n (the paper's \"∀n\" inside the probability is not checked "
    "jointly). The coverage is scored on seeds held out from the fit (fit on seed + 1) and at "
    "δ ∈ {0.01, 0.1}, which are not points of the fit's δ grid (8 values in [0.002, 0.5]) but "
    "lie inside its range. The sup over U is drawn from this module's own exact sampler (the "
    "engine cannot evaluate the map at arbitrary θ); the engine enters only through the "
    "one-step error at θ₀. The law of the one-step error is symmetric under q ↔ 1 − q "
    "(M₁ ~ Bin(m, q) and m − M₁ ~ Bin(m, 1 − q)), so swapped mixing weights are invisible "
    "here by construction (gillman2024.thm4.3 rejects them).",
    controls=(
        Control("count_real_only", "the predictions use N = n (the real points only) "
                "instead of N = n + m"),
        Control("membership_noise_dropped", "the predictions omit the Bin(m, q) membership "
                "noise (as for the deterministic split)"),
    ),
)
def assumption_423(ctx):
    out = []
    n0 = MEAN_N
    for gamma in (1.0, 3.0):
        fit = fitted_tau(ctx.seed + 1, gamma, ctx.size(20_000, 5_000))
        a_an, b_an, e_an = analytic_tau_constants(gamma)
        reps = ctx.size(20_000, 5_000)
        for n in FIT_N:
            fresh = one_step_errors(ctx.seed, n, gamma, reps)
            out.append(mean_check(f"γ={gamma:g}, n={n}: E sup_U one-step error (exact)", fresh,
                                  _expected_sup_error_ctrl(n, gamma, ctx.control)))
            for dl in (0.01, 0.1):
                tau = cr.tau_n(n, dl, fit.a, fit.b, fit.eps_opt)
                out.append(fraction_check(
                    f"γ={gamma:g}, n={n}, δ={dl:g}: P(sup error ≤ τ_n(δ)) ≥ 1−δ, fitted "
                    f"a={fit.a:.3g}, b={fit.b:.3g}, ε_OPT={fit.eps_opt:.2g} (R² of the "
                    f"quantile fit {fit.r2:.4f})", fresh <= tau, 1.0 - dl, sided="lower"))
                tau_an = cr.tau_n(n, dl, a_an, b_an, e_an)
                out.append(fraction_check(
                    f"γ={gamma:g}, n={n}, δ={dl:g}: P(sup error ≤ τ_n(δ)) ≥ 1−δ, derived "
                    f"a={a_an:.3g}, b={b_an:g}, ε_OPT=0", fresh <= tau_an, 1.0 - dl,
                    sided="lower"))
        # the engine's one-step error at θ = θ₀ (its first generation)
        traj = simulate(ctx, dim=1, n_real=n0, synthetic_ratio=MEAN_LAMBDA, data="mix",
                        model="gaussian_mean", correction_strength=gamma, generations=1,
                        replicates=ctx.size(40_000, 10_000), truth=(0.0, 1.0))
        m = MEAN_M
        q = 1.0 / (1.0 + gamma)
        big = n0 + m
        k = m * q / big  # π_γG^∞(θ) = kθ (µ* = 0)
        e = traj.means[:, 1, 0] - k * traj.means[:, 0, 0]
        big_p = n0 if ctx.control == "count_real_only" else big
        memb = 0.0 if ctx.control == "membership_noise_dropped" else m * q * (1 - q) / n0
        out.append(mean_check(f"γ={gamma:g}, engine, n={n0}: E(θ₁ − π_γG^∞(θ₀))² = "
                              "(n + m + mq(1−q)/n)/N²", e**2, (n0 + m + memb) / big_p**2))
    return out


def _expected_sup_error_ctrl(n, gamma, control):
    """expected_sup_error with the defects of gillman2024.assumption4.2.3's controls."""
    if control is None:
        return expected_sup_error(n, gamma)
    m = int(round(MEAN_LAMBDA * n))
    big = n if control == "count_real_only" else n + m
    q = 1.0 / (1.0 + gamma)
    ks = np.arange(m + 1)
    e_abs = float(np.sum(np.abs(ks - m * q) * stats.binom.pmf(ks, m, q)))
    if control == "membership_noise_dropped":
        e_abs = 0.0
    return math.sqrt(2.0 / (math.pi * big)) + RADIUS * e_abs / big


def sup_error_cdf(x, n, gamma, radius=RADIUS, membership=True):
    """Exact CDF of sup_{|θ|≤R} |π_γG_λⁿ(θ) − π_γG_λ^∞(θ)| for the mean-only loop (derived):
    the error is A + cθ with A ~ N(0, 1/N) independent of c = (M₁ − mq)/N, M₁ ~ Bin(m, q),
    q = 1/(1+γ), so the sup is |A| + R|M₁ − mq|/N and
    P(sup ≤ x) = Σ_k P(M₁ = k)·(2Φ(√N(x − R|k − mq|/N)) − 1)₊. ``membership=False`` drops
    the membership term (the law of the uncorrected error |A|)."""
    m = int(round(MEAN_LAMBDA * n))
    big = n + m
    q = 1.0 / (1.0 + gamma)
    ks = np.arange(m + 1)
    shift = radius * np.abs(ks - m * q) / big if membership else np.zeros(m + 1)
    inner = 2.0 * stats.norm.cdf(math.sqrt(big) * (x - shift)) - 1.0
    return float(np.sum(stats.binom.pmf(ks, m, q) * np.clip(inner, 0.0, None)))


def sup_error_quantile(level, n, gamma, membership=True):
    """The exact ``level``-quantile of :func:`sup_error_cdf` (Brent's method)."""
    return float(optimize.brentq(lambda x: sup_error_cdf(x, n, gamma,
                                                         membership=membership) - level,
                                 0.0, 10.0, xtol=1e-14))


@claim(
    id="gillman2024.prop_b2",
    paper=PAPER,
    statement=(
        "Prop. B.2: if Bertrand's Assumption B.1 holds for G_λⁿ and ‖G_λⁿ(θ) − G_λⁿ(θ*)‖ ≤ "
        "B‖θ − θ*‖, then w.p. ≥ 1 − δ, ∀θ ∈ U: ‖π_γG_λⁿ(θ) − π_γG_λ^∞(θ)‖ ≤ c·d_U + τ_n(δ), "
        "c = 2B + ρ(λ)(2+γ)/(1+γ)."
    ),
    kind="bound",
    provenance="paper",
    method="mean-only 1-D loop, λ = 0.4, U = [−1.5, 1.5] (d_U = 1.5): with the "
    "reparametrized sampler, G_λⁿ(θ) − G_λⁿ(θ*) = (m/N)(θ − θ*) exactly, so B = λ/(1+λ) "
    "(measured as the difference of pooled means of drawn samples at θ and θ*, 1000 draws, "
    "to 1e-12); Assumption B.1's constants fitted on γ = 0 one-step errors (stream seed + 1); "
    "fresh γ ∈ {1, 5} one-step errors (seed) for n ∈ {25, 50, 100, 200}, δ ∈ {0.01, 0.1}: "
    "exact binomial tests of P(sup error ≤ c·d_U + τ_n(δ)) ≥ 1 − δ, and (the power of the "
    "claim) two-sided exact binomial tests of P(sup error ≤ its exact (1 − δ)-quantile) = "
    "1 − δ, the law of the sup error being exact (derived, sup_error_cdf).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Appendix B, Proposition B.2 "
    "(eq. 49), with Assumption B.1 (= Bertrand et al.'s Assumption 3, eq. 48)",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): if "
    "B.1 holds and ∃ B < ∞ with ‖G_λⁿ(θ) − G_λⁿ(θ*)‖ < B‖θ − θ*‖ for all n and θ near θ*, "
    "then w.p. 1 − δ, ∀θ ∈ U, ∀n: ‖π_γG_λⁿ(θ) − π_γG_λ^∞(θ)‖ ≤ c·d_U + ε_OPT + "
    "(a/√n)√log(b/δ) (eq. 49), d_U = sup_{θ∈U}‖θ − θ*‖, c = 2B + ρ(λ)(2+γ)/(1+γ)",
    scope="one model (mean-only 1-D Gaussian, α = 1, ε = L = 0, so ρ = λ/(1 − λ) = 2/3), "
    "λ = 0.4, γ ∈ {1, 5}, four n, two δ, U = θ* ± 1.5; per n, not uniformly in n. The bound "
    "holds trivially here: c·d_U alone (2.36 at γ = 1, 2.02 at γ = 5) is 5–20× the "
    "(1 − δ)-quantile of the sup error (0.11–0.51), and even τ_n(δ) fitted on the uncorrected "
    "errors covers the corrected ones (≥ 96 % at δ = 0.1), so no plausible defect in c is "
    "resolvable by the bound; the bound comes within a factor 2 of tight only for d_U ≲ "
    "0.05, where it reduces to τ_n(δ), i.e. to Assumption B.1 itself. The claim's power "
    "comes from the added exact-law comparisons of the same quantity and from the measured B.",
    controls=(
        Control("membership_noise_dropped", "the predicted law of the corrected sup error "
                "omits the corrector's random membership term R|M₁ − mq|/N (the uncorrected "
                "law, as if B.1's error carried over to π_γ unchanged)"),
        Control("b_ratio_for_fraction", "B = λ (the synthetic ratio) instead of the synthetic "
                "fraction λ/(1+λ)"),
    ),
)
def prop_b2(ctx):
    reps = ctx.size(20_000, 5_000)
    fit0 = fitted_tau(ctx.seed + 1, 0.0, reps)
    big_b = MEAN_LAMBDA / (1.0 + MEAN_LAMBDA)
    if ctx.control == "b_ratio_for_fraction":
        big_b = MEAN_LAMBDA
    # B measured on drawn samples: pooled means at θ and θ* with the same real points x and
    # the same synthetic noise z (synthetic points θ + z), differenced
    n, m = 50, 20
    rng = np.random.default_rng(ctx.seed)
    x = rng.standard_normal((1000, n))
    z = rng.standard_normal((1000, m))
    g_star = np.concatenate([x, z], axis=1).mean(axis=1)
    dev = 0.0
    for th in GRID:
        g_theta = np.concatenate([x, th + z], axis=1).mean(axis=1)
        dev = max(dev, float(np.max(np.abs((g_theta - g_star) - big_b * th))))
    out = [exact_check("‖Gⁿ(θ) − Gⁿ(θ*)‖ = B|θ − θ*| with B = λ/(1+λ) (drawn samples)", 0.0,
                       dev, atol=1e-12)]
    membership = ctx.control != "membership_noise_dropped"
    for gamma in (1.0, 5.0):
        c = cr.prop_b2_constant(big_b, MEAN_LAMBDA, gamma, 1.0, 0.0, 0.0)
        for n_val in FIT_N:
            fresh = one_step_errors(ctx.seed, n_val, gamma, reps)
            for dl in (0.01, 0.1):
                bound = c * RADIUS + cr.tau_n(n_val, dl, fit0.a, fit0.b, fit0.eps_opt)
                out.append(fraction_check(f"γ={gamma:g}, n={n_val}, δ={dl:g}: P(err ≤ c·d_U + "
                                          "τ_n(δ)) ≥ 1−δ", fresh <= bound, 1.0 - dl,
                                          sided="lower"))
                quant = sup_error_quantile(1.0 - dl, n_val, gamma, membership=membership)
                out.append(fraction_check(f"γ={gamma:g}, n={n_val}: P(err ≤ exact "
                                          f"{1 - dl:g}-quantile {quant:.4g}) = {1 - dl:g} "
                                          f"(bound/quantile {bound / quant:.3g})",
                                          fresh <= quant, 1.0 - dl))
    return out


# --------------------------------------------------------------------------------------------
# rows 11–12, 16: Corollary 4.5, Example 4.6, the stationary error of §4.3
# --------------------------------------------------------------------------------------------

_COR_GAMMAS = (0.0, 0.3, 1.0, 3.0, math.inf)
_AVG = slice(20, MEAN_T + 1)
# Corollary 4.5 with τ_n taken per γ (mean-only model: α = 1, ε = L = 0, λ = 0.4, n = 50)
_COR_TAU_GAMMAS = (0.0, 1e-3, 0.01, 0.1, 0.3, 1.0, 2.0, 5.0, 1e3, math.inf)
_COR_SMALL_GAMMAS = (1e-3, 0.01)  # where the per-γ RHS exceeds RHS(γ = 0)
_COR_D0 = 0.5  # ‖θ₀ − θ*‖ in the bound (as in the common-τ part)
_COR_FIT_REPLICATES = 20_000  # one-step errors per n for the per-γ fits, both modes


def rhs_per_gamma_exact_tau(t, gamma, membership=True):
    """RHS of eq. 7 in the mean-only loop (n = 50, λ = 0.4, δ = 0.1, ‖θ₀ − θ*‖ = 0.5) with
    τ_n(δ/t) the exact (1 − δ/t)-quantile of the sup over U of the one-step error at this n
    and γ (derived, sup_error_quantile): the smallest value Assumption 4.2(3) allows at
    n = 50, passed to theorem_4_3_bound as ε_OPT with a = 0."""
    tau = sup_error_quantile(1.0 - DELTA / t, MEAN_N, gamma, membership=membership)
    return cr.theorem_4_3_bound(t, MEAN_N, DELTA, _COR_D0, MEAN_LAMBDA, gamma, 1.0, 0.0, 0.0,
                                0.0, 1.0, tau)


def rhs_per_gamma_fitted_tau(seed, t, gamma):
    """RHS of eq. 7 in the same loop with (a, b, ε_OPT) fitted per γ (fitted_tau, as in
    gillman2024.thm4.3) on the one-step errors of stream ``seed``."""
    fit = fitted_tau(seed, gamma, _COR_FIT_REPLICATES)
    return cr.theorem_4_3_bound(t, MEAN_N, DELTA, _COR_D0, MEAN_LAMBDA, gamma, 1.0, 0.0, 0.0,
                                fit.a, fit.b, fit.eps_opt)


def conditional_u2_slope(gamma, ts):
    """P_t in E[(θ_t − µ*)² | x̄] = P_t (x̄ − µ*)² + Q_t for the random-membership mean-only loop
    (derived from the recursion e_{t+1} = (n u + M₁e_t + ξ_t)/N of mean_loop_coefficients,
    e₀ = u = x̄ − µ*, M₁ and ξ_t fresh each generation): E[e_t | u] = α_t u with
    α_{t+1} = r + κα_t, and P_{t+1} = r² + 2rκα_t + κ₂P_t, α₀ = P₀ = 1. Used as the
    coefficient of the control variate (x̄ − µ*)² − σ₀²/n, whose mean is exactly 0: a wrong
    coefficient would change only the variance, never the mean, of the adjusted values."""
    co = cr.mean_loop_coefficients(MEAN_N, MEAN_M, gamma)
    r, k, k2 = co.real_weight, co.kappa, co.kappa2
    alpha, big_p, out = 1.0, 1.0, [1.0]
    for _ in range(int(np.max(ts))):
        alpha, big_p = r + k * alpha, r * r + 2.0 * r * k * alpha + k2 * big_p
        out.append(big_p)
    return np.asarray(out)[np.asarray(ts)]


@claim(
    id="gillman2024.cor4.5",
    paper=PAPER,
    statement=(
        "Corollary 4.5: with one τ_n for every γ (as the proof compares), any γ > 0 gives a "
        "strictly smaller RHS of eq. 7 than γ = 0 (the bound decreases strictly in γ); with "
        "τ_n taken per γ (Assumption 4.2(3) is an assumption on π_γGⁿ, so its constants "
        "depend on γ) the RHS still falls across γ ∈ {0, 0.3, 1, 3, ∞} and strictly for "
        "γ ≥ 0.1, but for small γ (10⁻³, 10⁻²) it exceeds the γ = 0 value (derived, "
        "mean-only loop); the error of the iterates is non-increasing in γ."
    ),
    kind="monotone",
    provenance="paper",
    method="exact, one τ_n: RHS(7) at t ∈ {1, 10, 100} on γ ∈ {0, 0.01, 0.03, 0.1, 0.3, 1, "
    "2, 5, 1e3, ∞} (α = 1, ε = 0.2, L = 1, λ = 0.3, n = 50, δ = 0.1, a = 1, b = 2, ε_OPT = 0, "
    "‖θ₀ − θ*‖ = 0.5): each consecutive difference > 0. Exact, τ_n per γ: the mean-only "
    "loop's constants (α = 1, ε = L = 0, λ = 0.4, n = 50, δ = 0.1, ‖θ₀ − θ*‖ = 0.5, U = "
    "[−1.5, 1.5]) with τ_n(δ/t) the exact (1 − δ/t)-quantile of the sup over U of the one-step "
    "error at n = 50 (derived law, sup_error_cdf), at t ∈ {1, 10, 50} on γ ∈ {0, 1e-3, 0.01, "
    "0.1, 0.3, 1, 2, 5, 1e3, ∞}: each consecutive difference > 0 from γ = 0.1 on, RHS(0) > "
    "RHS(0.1), and RHS(γ) − RHS(0) > 0 at γ ∈ {1e-3, 0.01}. Fitted, τ_n per γ: (a, b, "
    "ε_OPT) fitted per γ ∈ {0, 0.3, 1, 3, ∞} (fitted_tau as in gillman2024.thm4.3: 20 000 "
    "one-step errors per n ∈ {25, 50, 100, 200} in both modes, stream seed + 1, common "
    "random numbers across γ): each consecutive difference of RHS(7) at t ∈ {1, 10, 50} > 0. "
    "This is a deterministic function of the fit's stream; over 20 streams its smallest "
    "margin (the step 0 → 0.3) was 0.078 ± 0.005 (mean ± sd; min 0.068), ≥ 15 sd from 0 "
    "(with 5 000 errors per n it was 0.078 ± 0.020, min 0.026 over 40 streams). Monte Carlo: "
    "the engine's mean-only loop (n = 50, λ = 0.4, T = 50) at γ ∈ {0, 0.3, 1, 3, ∞} with "
    "common random numbers (same seed): per replicate the mean of (θ_t − θ*)² over t = "
    "20…50, minus P̄·((θ₀ − θ*)² − 1/n), a control variate of mean exactly 0 (θ₀ = x̄ ~ "
    "N(0, 1/n)) whose coefficient P̄ is the mean over t of the derived slope of "
    "E[(θ_t − θ*)² | x̄] in (x̄ − θ*)² (conditional_u2_slope; it removes the real sample's "
    "share of the variance, SD of the paired differences ÷ 5.5, and cannot move the mean); "
    "the paired differences between consecutive γ against their exact values (derived, "
    "corrected_mix_mean_error2_known_cov) with CLT SE, and the exact differences > 0. "
    "20 000 replicates (quick 4 000).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Corollary 4.5 (with eq. 7 of "
    "Theorem 4.3 and Assumption 4.2(3))",
    exact_statement="Quoted in the reference notes [G]: \"iterative fine-tuning with any "
    "amount of correction outperforms iterative fine-tuning without correction–in the sense "
    "that it is exponentially more stable, and it results in better model weights.\" Proof "
    "(paraphrased in the notes): for any γ > 0 the RHS of (7) is strictly smaller than at "
    "γ = 0.",
    scope="the one-τ_n part is exact for one set of constants, as the paper's proof compares. "
    "With τ_n per γ (the mean-only 1-D loop, n = 50, λ = 0.4, δ = 0.1, U = θ* ± 1.5): with the "
    "exact quantiles the RHS is larger than at γ = 0 for every γ below a crossing γ₀(t) ≈ "
    "0.087 (t = 1), 0.020 (t = 10), 0.012 (t = 50), by at most 0.010 (1.6 %, t = 1, "
    "γ ≈ 0.025), and falls strictly above it (1.11 → 0.37 at t = 50 from γ = 0 to ∞); with "
    "the fitted constants it falls 1.26 → 0.42 (t = 50, mean over 20 streams) across γ ∈ "
    "{0, 0.3, 1, 3, ∞} (the fits' noise, ~0.005–0.02, cannot resolve the small-γ excess, so "
    "the fitted part is checked on that coarse grid only). The excess comes from the "
    "corrector's random membership term R|M₁ − mq|/N of the sup over U (with it dropped, "
    "control membership_noise_dropped, the RHS falls for every γ > 0), so the corollary's "
    "'any amount of correction' holds for the bound only with a common τ_n; it holds for the "
    "error itself (the Monte Carlo part). That part is the mean of (θ_t − θ*)² over t = "
    "20…50 at five γ with common random numbers (one seed, one real sample per replicate "
    "shared by the five γ); \"better model weights\" is read as a smaller mean squared "
    "error.",
    controls=(
        Control("weights_swapped", "the exact prediction uses target weight 1/(1+γ) "
                "(strength 1/γ; 0 ↔ ∞)"),
        Control("synthetic_variance_scaled", "the loop's model draws have variance ×1.5 "
                "(temperature 1.5)"),
        Control("membership_noise_dropped", "the per-γ τ_n omits the corrector's random "
                "membership term R|M₁ − mq|/N of the one-step error (the uncorrected law)"),
    ),
)
def cor45(ctx):
    out = []
    grid = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 5.0, 1e3, math.inf]
    for t in (1, 10, 100):
        rhs = [cr.theorem_4_3_bound(t, 50, 0.1, 0.5, 0.3, g, 1.0, 0.2, 1.0, 1.0, 2.0, 0.0)
               for g in grid]
        out.append(exact_check(f"t={t}: min consecutive decrease of RHS(7) over γ > 0",
                               float(np.finfo(float).tiny), float(np.min(-np.diff(rhs))),
                               sided="lower"))
    # τ_n per γ: the exact quantiles, then the fitted constants
    membership = ctx.control != "membership_noise_dropped"
    tiny = float(np.finfo(float).tiny)
    for t in (1, 10, 50):
        rhs = {g: rhs_per_gamma_exact_tau(t, g, membership) for g in _COR_TAU_GAMMAS}
        big = [rhs[g] for g in _COR_TAU_GAMMAS if g >= 0.1]
        out.append(exact_check(f"t={t}, exact per-γ τ_n: min consecutive decrease of RHS(7) "
                               f"over γ ≥ 0.1 (RHS {big[0]:.4g} → {big[-1]:.4g})", tiny,
                               float(np.min(-np.diff(big))), sided="lower"))
        out.append(exact_check(f"t={t}, exact per-γ τ_n: RHS(0) − RHS(0.1) > 0 (RHS(0) = "
                               f"{rhs[0.0]:.4g})", tiny, rhs[0.0] - rhs[0.1], sided="lower"))
        for g in _COR_SMALL_GAMMAS:
            out.append(exact_check(f"t={t}, exact per-γ τ_n: RHS({g:g}) − RHS(0) > 0 (the "
                                   "bound does not fall for small γ)", tiny,
                                   rhs[g] - rhs[0.0], sided="lower"))
        fitted = [rhs_per_gamma_fitted_tau(ctx.seed + 1, t, g) for g in _COR_GAMMAS]
        out.append(exact_check(f"t={t}, fitted per-γ τ_n: min consecutive decrease of RHS(7) "
                               f"over γ ∈ {{0, 0.3, 1, 3, ∞}} (RHS {fitted[0]:.4g} → "
                               f"{fitted[-1]:.4g})", tiny, float(np.min(-np.diff(fitted))),
                               sided="lower"))
    ts = np.arange(MEAN_T + 1)[_AVG]
    temperature = 1.5 if ctx.control == "synthetic_variance_scaled" else 1.0
    avg, exact = {}, {}
    for g in _COR_GAMMAS:
        traj = simulate(ctx, dim=1, n_real=MEAN_N, synthetic_ratio=MEAN_LAMBDA, data="mix",
                        model="gaussian_mean", correction_strength=g, generations=MEAN_T,
                        replicates=ctx.size(20_000, 4_000), truth=(0.0, 1.0),
                        temperature=temperature)
        # control variate: (x̄ − µ*)² − σ₀²/n has mean 0 exactly (x̄ = θ₀ ~ N(0, 1/n))
        cv = traj.means[:, 0, 0] ** 2 - 1.0 / MEAN_N
        avg[g] = (np.mean(traj.means[:, _AVG, 0] ** 2, axis=1)
                  - float(np.mean(conditional_u2_slope(g, ts))) * cv)
        g_pred = g
        if ctx.control == "weights_swapped":
            g_pred = math.inf if g == 0 else 1.0 / g
        exact[g] = float(np.mean(cr.corrected_mix_mean_error2_known_cov(
            ts, MEAN_N, 1.0, n_synthetic=MEAN_M, correction_strength=g_pred)))
    for g0, g1 in zip(_COR_GAMMAS[:-1], _COR_GAMMAS[1:], strict=True):
        out.append(mean_check(f"γ={g0:g} → {g1:g}: paired decrease of the mean error",
                              avg[g0] - avg[g1], exact[g0] - exact[g1]))
        out.append(exact_check(f"γ={g0:g} → {g1:g}: exact decrease > 0",
                               float(np.finfo(float).tiny), exact[g0] - exact[g1],
                               sided="lower"))
    return out


@claim(
    id="gillman2024.ex4.6",
    paper=PAPER,
    statement=(
        "Example 4.6: as γ → ∞ the bound (7) tends to τ_n(δ/t) (the initial error is "
        "forgotten), and the error of the iterates is O(1/√n)."
    ),
    kind="limit",
    provenance="paper",
    method="exact: RHS(7) at γ = ∞ equals τ_n(δ/t); at γ = 1e9 it exceeds τ_n(δ/t) by at most "
    "τ q/(1 − q) + q^t‖θ₀ − θ*‖, q = ρ/(1+γ) (derived remainder; 8 ulps of RHS for the "
    "cancellation in RHS − τ); constants as in "
    "gillman2024.cor4.5. Monte Carlo: the engine's mean-only loop at γ = ∞ has θ_t − θ* = "
    "(Σx + Σz)/N exactly, so E(θ_t − θ*)² = σ₀²/(n + m) = 1/70 for t ≥ 1 (derived); checked "
    "at t ∈ {1, 10, 50} with CLT SE on the values (θ_t − θ*)² − (n/N)²((θ₀ − θ*)² − 1/n): the "
    "control variate (θ₀ − θ*)² − 1/n has mean 0 exactly (θ₀ = x̄ ~ N(0, 1/n)) and the "
    "derived slope (n/N)² of E[(θ_t − θ*)² | x̄] removes the real sample's share of the "
    "variance (SD × 0.70) without moving the mean. 20 000 replicates (quick 4 000).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Example 4.6 (with eq. 7 and 44 "
    "of Theorem 4.3)",
    exact_statement="Paraphrased from the reference notes [G] (not verbatim): γ → ∞: bound "
    "(7) → τ_n(δ/t) (only the i = 0 term survives; the initial-error term vanishes); the "
    "statement's \"error of the iterates is O(1/√n)\" is this bound's order, τ_n = "
    "ε_OPT + (a/√n)√log(bt/δ) with ε_OPT = 0.",
    scope="the limit of the bound is exact at one set of constants (γ = ∞ and γ = 1e9 with a "
    "derived remainder); the O(1/√n) error is checked at one n (n = 50, m = 20) as the exact "
    "E(θ_t − θ*)² = σ₀²/(n + m) of the mean-only loop at γ = ∞, not as a rate over n.",
    controls=(
        Control("delta_not_split", "the limit is taken as τ_n(δ) instead of τ_n(δ/t) "
                "(the union bound over the t steps forgotten)"),
        Control("real_data_dropped", "the loop refits on the m synthetic points only "
                "(data='replace'), the real set used only at generation 0"),
    ),
)
def ex46(ctx):
    out = []
    for t in (1, 10, 100):
        d_t = 0.1 if ctx.control == "delta_not_split" else 0.1 / t
        tau = cr.tau_n(50, d_t, 1.0, 2.0, 0.0)
        inf_rhs = cr.theorem_4_3_bound(t, 50, 0.1, 0.5, 0.3, math.inf, 1.0, 0.2, 1.0, 1.0,
                                       2.0, 0.0)
        out.append(exact_check(f"t={t}: RHS(γ=∞) = τ_n(δ/t)", tau, inf_rhs, rtol=4 * EPS64))
        g = 1e9
        q = cr.contraction_bound(0.3, g, 1.0, 0.2, 1.0)
        big = cr.theorem_4_3_bound(t, 50, 0.1, 0.5, 0.3, g, 1.0, 0.2, 1.0, 1.0, 2.0, 0.0)
        out.append(exact_check(f"t={t}: RHS(γ=1e9) − τ_n(δ/t) ≤ τq/(1−q) + q^t·0.5",
                               tau * q / (1 - q) + q**t * 0.5, big - tau, rtol=1e-12,
                               atol=8 * EPS64 * big, sided="upper"))
    if ctx.control == "real_data_dropped":
        traj = simulate(ctx, dim=1, n_real=MEAN_N, synthetic_ratio=MEAN_LAMBDA,
                        data="replace", n_synthetic=MEAN_M, model="gaussian_mean",
                        correction_strength=math.inf, generations=MEAN_T,
                        replicates=ctx.size(20_000, 4_000), truth=(0.0, 1.0))
    else:
        traj = mean_loop(ctx, math.inf)
    err2 = traj.means[:, :, 0] ** 2
    # control variate (x̄ − θ*)² − 1/n (mean 0 exactly) with the derived slope (n/N)² of
    # E[(θ_t − θ*)² | x̄] at γ = ∞ (conditional_u2_slope)
    cv = traj.means[:, 0, 0] ** 2 - 1.0 / MEAN_N
    slope = conditional_u2_slope(math.inf, np.arange(MEAN_T + 1))
    for t in (1, 10, 50):
        out.append(mean_check(f"γ=∞: E(θ_t − θ*)², t={t} = 1/(n+m)", err2[:, t] - slope[t] * cv,
                              1.0 / (MEAN_N + MEAN_M)))
    return out


@claim(
    id="gillman2024.sec4.3.mean_mse",
    paper=PAPER,
    statement=(
        "Reference notes §4.3 (derived): in the mean-only loop with the corrector, "
        "E(θ_t − µ*)² follows the exact (a_t, b_t) recursion; with the deterministic split it "
        "tends to nσ₀²/(n + m₂)² + mσ₀²/((n+m)²(1 − k_n²)), k_n = m₁/(n+m); with random "
        "membership to (r²v + 2rκ·rv/(1−κ) + mσ₀²/N²)/(1 − κ₂); both decrease in γ."
    ),
    kind="equality",
    provenance="derived",
    method="engine, mean-only 1-D, p_data = N(0, 1): random membership (n = 50, λ = 0.4, "
    "T = 50) at γ ∈ {0.3, 3} and t ∈ {1, 5, 50}; deterministic split (correction_split="
    "'deterministic', the same shape) at γ ∈ {1, 4} and t ∈ {1, 5, 50}; replicate means of "
    "(θ_t − µ*)² with CLT SE against corrected_mix_mean_error2_known_cov; the deterministic "
    "stationary values at n = 50, λ = 0.5 against the notes' 0.0172 (γ = 1) and 0.0147 "
    "(γ = 4) (rounded to 3 significant digits, tolerance half a unit of the last digit). "
    "The four loops share one seed (common random numbers: the same real sample and the same "
    "synthetic normals in every loop), so the 12 Monte Carlo comparisons are dependent "
    "(the Bonferroni split does not need independence). 40 000 replicates (quick 16 000).",
    source="derived; reference notes §4.3 (closed form for the mean-only corrected loop of "
    "Gillman et al. 2024, arXiv 2402.07087 v3, Algorithm 1)",
    exact_statement="not stated in the paper",
    scope="1-D mean-only loop, n = 50, λ = 0.4 (and λ = 0.5 for the notes' stationary "
    "values), two γ per split, three generations; the notes' stationary values are printed "
    "to 3 digits, so that comparison resolves only ±5e-5. An off-by-one generation in the "
    "prediction is NOT resolved (E(θ_t − µ*)² is within a few % of its stationary value from "
    "t = 1 on: the prediction at t + 1 passed at quick seeds 0–4). A model-draw variance "
    "×1.5 (≈ 10 % on E(θ_t − µ*)²) was not resolved at 4 000 quick replicates; the quick "
    "size was raised to 16 000 so that ×2 is rejected by ≥ 11 SE.",
    controls=(
        Control("weights_swapped", "the prediction uses strength 1/γ (target weight "
                "1/(1+γ))"),
        Control("synthetic_variance_scaled", "the loop's model draws have variance ×2 "
                "(temperature 2)"),
    ),
)
def sec43(ctx):
    out = []
    temperature = 2.0 if ctx.control == "synthetic_variance_scaled" else 1.0
    for split, gammas in (("random", (0.3, 3.0)), ("deterministic", (1.0, 4.0))):
        for g in gammas:
            traj = simulate(ctx, dim=1, n_real=MEAN_N, synthetic_ratio=MEAN_LAMBDA,
                            data="mix", model="gaussian_mean", correction_strength=g,
                            correction_split=split, generations=MEAN_T,
                            replicates=ctx.size(40_000, 16_000), truth=(0.0, 1.0),
                            temperature=temperature)
            err2 = traj.means[:, :, 0] ** 2
            g_pred = 1.0 / g if ctx.control == "weights_swapped" else g
            for t in (1, 5, 50):
                pred = cr.corrected_mix_mean_error2_known_cov(
                    t, MEAN_N, 1.0, n_synthetic=MEAN_M, correction_strength=g_pred,
                    split=split)
                out.append(mean_check(f"{split}, γ={g:g}, t={t}: E(θ_t−µ*)²", err2[:, t], pred))
    for g, notes in ((1.0, 0.0172), (4.0, 0.0147)):
        val = cr.corrected_mix_mean_error2_stationary(50, 1.0, n_synthetic=25,
                                                      correction_strength=g,
                                                      split="deterministic")
        out.append(exact_check(f"deterministic stationary, n=50, λ=0.5, γ={g:g} vs notes",
                               notes, val, rtol=0.0, atol=5e-5))
    return out


# --------------------------------------------------------------------------------------------
# row 14: Prop. A.5 (uniqueness of the local maximizer)
# --------------------------------------------------------------------------------------------


# multi-start: BFGS finds the basin of each start, a root solve of ∇H = 0 from there polishes
# the stationary point to ~1e-13 (H's curvature is ≥ 0.1 near its maxima here); distinct
# local maxima would be O(1) apart, far beyond ARGMAX_TOL.
GTOL = 1e-10
ARGMAX_TOL = 1e-9


def _gauss_expected_loglik_1d(mu_p, var_p, mean, var):
    """E_{x∼q} log N(x; µ', v') = −½[log 2πv' + (v_q + (m_q − µ')²)/v'] (closed form)."""
    return -0.5 * (math.log(2 * math.pi * var_p) + (var + (mean - mu_p) ** 2) / var_p)


def _map_weights(lam, g, control):
    """(w_data, w_model, w_target) of the score whose root is the map; the control
    "map_weights_swapped" swaps the model and target weights (π_γ read as π_{1/γ})."""
    w_d, w_m, w_t = cr._weights(lam, g)
    if control == "map_weights_swapped":
        w_m, w_t = w_t, w_m
    return w_d, w_m, w_t


def _logistic_map_variant(theta, law, lam, g, theta_star, control):
    """The logistic map as the root of its score, with a control's defect injected
    ("map_target_p_data": the corrector pulls toward p_data; "map_weights_swapped")."""
    pdf = cr.law_pdf(law)
    m, c = law.moments
    centre, sd = float(m[0]), math.sqrt(float(c[0, 0]))
    w_d, w_m, w_t = _map_weights(lam, g, control)

    def score(tp):
        target = (cr._score_data(pdf, tp, centre, sd) if control == "map_target_p_data"
                  else cr._score_logistic(theta_star, tp))
        return w_d * cr._score_data(pdf, tp, centre, sd) + w_m * cr._score_logistic(
            theta, tp) + w_t * target

    span = 20.0 * sd + 20.0 + abs(theta - centre)
    return float(optimize.brentq(score, centre - span, centre + span, xtol=1e-14,
                                 rtol=4 * EPS64))


# Student-t location class p_θ(x) = t_ν(x − θ), ν = 2: log p_θ' is not concave in θ'
# (∂²_θ' log p = −(ν+1)(ν − u²)/(ν + u²)² > 0 for |u| > √ν), so H(θ, ·) can have several
# local maxima; p_data = ½t₂(x − ½) + ½t₂(x + ½) (symmetric: θ* = 0, misspecified: ε > 0)
T_NU = 2.0
_T2_LAW = stats.t(T_NU)


def _t_data_pdf(x):
    return 0.5 * _T2_LAW.pdf(x - 0.5) + 0.5 * _T2_LAW.pdf(x + 0.5)


def _t_data_cdf(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * _T2_LAW.cdf(x - 0.5) + 0.5 * _T2_LAW.cdf(x + 0.5)


def _t_score(u):
    """∂_θ' log t_ν(x − θ') at u = x − θ'."""
    return (T_NU + 1.0) * u / (T_NU + u * u)


@lru_cache(maxsize=1)
def t_location_constants():
    """(θ*, α, ε, L) of the t₂ location class for the symmetric p_data above: θ* the root of
    E_{p_data} score (Brent, bracket [−1, 1.3] around the symmetric centre 0), α =
    −E_{p_data} ∂²_θ log p_θ at θ*, ε = W₁(p_θ*, p_data) (1-D quadrature), L = sup_u
    |∂_u ∂²_θ log t_ν(u)| = sup_u |2(ν+1)u(3ν − u²)/(ν + u²)³| (bounded scalar search on
    [0, √ν], where the maximum lies)."""
    ts = optimize.brentq(lambda th: cr._expect(_t_data_pdf, lambda x: _t_score(x - th)),
                         -1.0, 1.3, xtol=1e-14)
    alpha = cr._expect(_t_data_pdf, lambda x: (T_NU + 1.0) * (T_NU - (x - ts) ** 2)
                       / (T_NU + (x - ts) ** 2) ** 2)
    eps = cr.w1_1d(lambda x: _T2_LAW.cdf(np.asarray(x, dtype=np.float64) - ts), _t_data_cdf,
                   bulk=(-60.0, 60.0))
    lip = -optimize.minimize_scalar(
        lambda u: -abs(2 * (T_NU + 1) * u * (3 * T_NU - u * u) / (T_NU + u * u) ** 3),
        bounds=(0.0, math.sqrt(T_NU)), method="bounded", options={"xatol": 1e-12}).fun
    return float(ts), float(alpha), float(eps), float(lip)


def _t_h_score(tp, theta, lam, g, ts, control=None):
    """∂_θ' H(θ, θ') / (1+λ) for the t₂ location class (quadrature); the map's root with a
    control's defect when ``control`` is given."""
    w_d, w_m, w_t = _map_weights(lam, g, control)
    data = cr._expect(_t_data_pdf, lambda x: _t_score(x - tp))
    target = data if control == "map_target_p_data" else cr._expect(
        _T2_LAW.pdf, lambda u: _t_score(u + ts - tp))
    return w_d * data + w_m * cr._expect(_T2_LAW.pdf, lambda u: _t_score(u + theta - tp)) + (
        w_t * target)


def _t_local_maxima(theta, lo, hi, lam, g, ts, points=201):
    """The local maximizers of H(θ, ·) in (lo, hi): the + → − zero crossings of ∂_θ'H on a
    ``points`` grid, each refined by Brent's method to 1e-13."""
    grid = np.linspace(lo, hi, points)
    vals = np.array([_t_h_score(tp, theta, lam, g, ts) for tp in grid])
    return [optimize.brentq(lambda v: _t_h_score(v, theta, lam, g, ts), grid[i],
                            grid[i + 1], xtol=1e-13)
            for i in range(points - 1) if vals[i] > 0.0 >= vals[i + 1]]


def t_uniqueness_measurements(control=None):
    """Prop. A.5(B) on the non-concave t₂ location class, on both sides of the margin."""
    ts, alpha, eps, lip = t_location_constants()
    out = []
    for lam, g in ((1.0, 0.0), (1.0, 1.0)):
        # the largest U the condition allows: −α(1+λ) + λL(d_U/(1+γ) + ε) = 0
        d_max = (alpha * (1.0 + lam) / (lam * lip) - eps) * (1.0 + g)
        d_u = 0.99 * d_max
        margin = cr.prop_a5_margin(lam, g, alpha, eps, lip, d_u)
        out.append(exact_check(f"t₂, λ={lam:g}, γ={g:g}, d_U={d_u:.3g} (0.99 of the largest "
                               "allowed): margin < 0", 0.0, margin, rtol=0.0, sided="upper"))
        for th in (ts - d_u, ts, ts + d_u):
            found = _t_local_maxima(th, ts - d_u, ts + d_u, lam, g, ts)
            out.append(exact_check(f"t₂, λ={lam:g}, γ={g:g}, θ=θ*{th - ts:+.3g}: number of "
                                   "local maxima of H(θ,·) in U", 1.0, float(len(found)),
                                   rtol=0.0))
            target = optimize.brentq(
                lambda v, th=th, lam=lam, g=g: _t_h_score(v, th, lam, g, ts, control),
                ts - 30.0, ts + 30.0, xtol=1e-14)
            out.append(exact_check(f"t₂, λ={lam:g}, γ={g:g}, θ=θ*{th - ts:+.3g}: |argmax in U "
                                   "− map|", 0.0, float(np.max(np.abs(np.array(found) - target))
                                                        if found else np.inf),
                                   atol=ARGMAX_TOL))
    # beyond the margin (12× the largest allowed d_U): the class does have several local
    # maxima there, so the search above can see non-uniqueness (not a claim of the paper)
    lam, g = 1.0, 0.0
    d_far = 12.0 * (alpha * (1.0 + lam) / (lam * lip) - eps)
    found = _t_local_maxima(ts + d_far, ts - d_far, ts + d_far, lam, g, ts)
    out.append(exact_check(f"t₂, λ=1, γ=0, d_U={d_far:.3g} (margin "
                           f"{cr.prop_a5_margin(lam, g, alpha, eps, lip, d_far):.3g} > 0), "
                           "θ = θ* + d_U: ≥ 2 local maxima in U (the search has power)", 2.0,
                           float(len(found)), rtol=0.0, sided="lower"))
    return out


@claim(
    id="gillman2024.prop_a5.uniqueness",
    paper=PAPER,
    statement=(
        "Prop. A.5(B): if εL < α and −α(1+λ) + λL(d_U/(1+γ) + ε) < 0, H(θ, ·) has a unique "
        "local maximizer π_γG_λ^∞(θ) in U."
    ),
    kind="equality",
    provenance="paper",
    method="logistic location model, Gaussian-mixture p_data, U = θ* ± 1 (d_U = sup_U "
    "W₁(p_θ*, p_θ) = 1 for a location family): the condition evaluated (exact, must be < 0), "
    "then for θ ∈ {θ* − 1, θ*, θ* + 1} a multi-start maximization of H(θ, ·) (BFGS from 7 "
    "starts in [θ* − 6, θ* + 6], analytic gradients, then a root solve of ∇H = 0 from each "
    "result) must return one point, equal to the map (Brent root of the score) to 1e-9. "
    "Full-covariance Gaussian (1-D, parameters (µ', log σ'²)): the condition cannot be "
    "evaluated (no global L) but the multi-start maxima coincide with the moment match to "
    "1e-9; λ ∈ {0.3, 2}, γ ∈ {0, 1}. Student-t₂ location class (non-concave log-likelihood), "
    "p_data = ½t₂(x − ½) + ½t₂(x + ½) (α, ε, L computed): U = θ* ± 0.99·d_max, d_max the "
    "largest d_U the condition allows, λ = 1, γ ∈ {0, 1}; for θ ∈ {θ* ± d_U, θ*} the local "
    "maxima of H(θ, ·) in U (zero crossings of ∂H on a 201-point grid, refined by Brent) must "
    "be exactly one, equal to the root of the score over θ* ± 30 (1e-9); and at d_U = "
    "12·d_max (margin > 0) at least two local maxima must be found (the search's power).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Proposition A.5 (B) and the "
    "sufficient condition used in its proof",
    exact_statement="paraphrased from the reference notes' transcription of v3 (tag [G]): if "
    "εL < α, then for all λ > 0 and θ in a small enough U there is a unique local maximizer "
    "π_γG_λ^∞(θ) of H(θ, ·) in U; the proof uses −α(1+λ) + λL(d_U/(1+γ) + ε) < 0, d_U = "
    "sup_{θ∈U} d_W(p_θ*, p_θ), and the paper then writes \"guaranteed … by α > Lε and d_U ≤ "
    "α(1+γ)/λ\" (the notes flag the missing L as an apparent typo)",
    scope="three 1-D classes. The logistic location and 1-D Gaussian objectives are strictly "
    "concave, so uniqueness holds there whatever the condition says (those rows only check "
    "the map); the Student-t₂ location class is not concave and does have several local "
    "maxima of H(θ, ·) in U for large d_U (found at 12× the largest d_U the condition "
    "allows). On it the condition is sufficient with a wide margin: with this p_data "
    "uniqueness in U first fails between 8× and 10× the allowed d_U (λ = 1, γ = 0; "
    "for the well-specified t₂: 6–8×), so a wrong constant in the condition that changes the "
    "allowed d_U by less than ~8× (e.g. 1/(1+γ) vs 1/(1+γ)², ε dropped, the printed "
    "d_U ≤ α(1+γ)/λ) cannot be resolved by uniqueness, and the controls are defects of the "
    "map (the claimed unique maximizer) instead. 'Small enough U' is read as the U the "
    "stated condition allows.",
    controls=(
        Control("map_target_p_data", "the map's corrector pulls toward p_data instead of "
                "p_θ* (the root of the score with p_data as the target component)"),
        Control("map_weights_swapped", "the map's model and target weights are swapped "
                "(λγ/((1+λ)(1+γ)) on p_θ, λ/((1+λ)(1+γ)) on p_θ*)"),
    ),
)
def prop_a5(ctx):
    out = []
    ll = cr.logistic_location(MIX_1D)
    starts = np.linspace(-6.0, 6.0, 7)
    for lam in (0.3, 2.0):
        for g in (0.0, 1.0):
            margin = cr.prop_a5_margin(lam, g, ll.alpha, ll.eps, ll.lipschitz, 1.0)
            out.append(exact_check(f"logistic, λ={lam:g}, γ={g:g}: Prop. A.5(B) margin < 0",
                                   0.0, margin, rtol=0.0, sided="upper"))
            for th in (ll.theta_star - 1.0, ll.theta_star, ll.theta_star + 1.0):
                if ctx.control in ("map_target_p_data", "map_weights_swapped"):
                    target = _logistic_map_variant(th, MIX_1D, lam, g, ll.theta_star,
                                                   ctx.control)
                else:
                    target = cr.logistic_location_map(th, MIX_1D, lam, g,
                                                      theta_star=ll.theta_star)
                found = []
                for s0 in starts:
                    def neg(v, th=th, lam=lam, g=g):
                        h, dh = cr.logistic_location_objective(
                            th, float(v[0]), MIX_1D, lam, g, theta_star=ll.theta_star,
                            gradient=True)
                        return -h, np.array([-dh])

                    res = optimize.minimize(neg, x0=[ll.theta_star + s0], jac=True,
                                            method="BFGS", options={"gtol": GTOL})
                    # polish the stationary point of this basin (secant steps on ∇H)
                    polished = optimize.newton(lambda v, neg=neg: neg([v])[1][0],
                                               float(res.x[0]), tol=1e-14, maxiter=50)
                    found.append(float(polished))
                out.append(exact_check(f"logistic, λ={lam:g}, γ={g:g}, θ=θ*{th - ll.theta_star:+g}:"
                                       " max over starts |argmax − map|", 0.0,
                                       float(np.max(np.abs(np.array(found) - target))),
                                       atol=ARGMAX_TOL))
            # full-covariance Gaussian, 1-D: the data law's moments
            tm, tc = (float(v.ravel()[0]) for v in MIX_1D.moments)
            mean, var = 1.0, 0.4
            em, ec = cr.moment_matching_map(np.array([mean]), np.array([[var]]),
                                            np.array([tm]), np.array([[tc]]), np.array([tm]),
                                            np.array([[tc]]), lam, g)
            tw = g / (1.0 + g)

            # q = [p_data + λ(1−t)N(mean, var) + λt p_θ*]/(1+λ) has moments (qm, qv):
            # H = (1+λ) E_q log N(·; µ', e^s), gradient in closed form
            wq = np.array([1.0, lam * (1 - tw), lam * tw]) / (1.0 + lam)
            qm = wq @ np.array([tm, mean, tm])
            qv = wq @ (np.array([tc, var, tc]) + (np.array([tm, mean, tm]) - qm) ** 2)

            def neg_h(v, qm=qm, qv=qv, lam=lam):
                mu_p, s_p = v
                h = (1 + lam) * _gauss_expected_loglik_1d(mu_p, math.exp(s_p), qm, qv)
                grad = (1 + lam) * np.array([(qm - mu_p) * math.exp(-s_p),
                                             -0.5 + 0.5 * (qv + (qm - mu_p) ** 2)
                                             * math.exp(-s_p)])
                return -h, -grad

            found = []
            for s0 in starts:
                res = optimize.minimize(neg_h, x0=[s0, 0.5 * s0], jac=True, method="BFGS",
                                        options={"gtol": GTOL})
                root = optimize.root(lambda v, f=neg_h: f(v)[1], res.x, method="hybr",
                                     tol=1e-14)
                found.append([root.x[0], math.exp(root.x[1])])
            found = np.array(found)
            target = np.array([float(em[0]), float(ec[0, 0])])
            out.append(exact_check(f"Gaussian 1-D, λ={lam:g}, γ={g:g}: max over starts "
                                   "|argmax − moment match|", 0.0,
                                   float(np.max(np.abs(found - target))), atol=ARGMAX_TOL))
    out.extend(t_uniqueness_measurements(ctx.control))
    return out


# --------------------------------------------------------------------------------------------
# row 17: Def. C.2 / Example C.6 (point-wise histogram corrector)
# --------------------------------------------------------------------------------------------

_C6 = {"mean": 0.0, "sd": 1.5, "target_mean": 0.0, "target_sd": 1.0}
_C6_SIZES = (100, 1_000, 10_000)
_C6_GAMMAS = (0.5, 3.0)


@lru_cache(maxsize=16)
def _c6_runner(n, bins):
    """jit: per key, the exact KS distance between the library's HistogramCorrector output
    Π(Xⁿ) (strength γ_c, ``bins`` equal bins) and the CDF of π_γ p_θ at strength γ_r (1-D).
    The keys and draws are those of simulations.correctors.sup_distance_over_n."""
    from simulations.correctors import get_corrector
    from theory.projection_strength import mixture_cdf

    corrector = get_corrector("histogram", bins=bins)

    def one(key, gamma_c, gamma_r):
        mean, sd = _C6["mean"], _C6["sd"]
        tm, tsd = jnp.asarray([_C6["target_mean"]]), jnp.asarray([[_C6["target_sd"]]])
        k_x, k_c = jax.random.split(key)
        x = mean + sd * jax.random.normal(k_x, (n, 1), jnp.float64)
        y = jnp.sort(corrector.apply(k_c, x, tm, tsd, gamma_c)[:, 0])
        f = mixture_cdf(y, mean, sd, _C6["target_mean"], _C6["target_sd"], gamma_r)
        i = jnp.arange(1, n + 1, dtype=y.dtype)
        return jnp.maximum(jnp.max(i / n - f), jnp.max(f - (i - 1) / n))

    return jax.jit(lambda keys, gc, gr: jax.lax.map(lambda k: one(k, gc, gr), keys))


def _c6_bins(n, ctx):
    """⌈√n⌉ equal bins (bins shrink like n^{-1/2}); the fixed_bins control keeps 10."""
    return 10 if ctx.control == "fixed_bins" else math.isqrt(n - 1) + 1


def _c6_ks(ctx, n, gamma, reps):
    gamma_c = 1.0 / gamma if ctx.control == "weights_swapped" else gamma
    base = jax.random.fold_in(jax.random.key(ctx.seed), n)
    keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(reps))
    run = _c6_runner(n, _c6_bins(n, ctx))
    return np.asarray(run(keys, jnp.float64(gamma_c), jnp.float64(gamma)))


@claim(
    id="gillman2024.example_c6",
    paper=PAPER,
    statement=(
        "Def. C.2 / Example C.6: the histogram-mixture point-wise corrector is valid: "
        "E sup_v |Φ_{Π(Xⁿ)}(v) − Φ_{π_γ p_θ}(v)| → 0 as n → ∞ (bins shrinking); with ⌈√n⌉ bins "
        "at the sampling rate n^{−1/2} (derived)."
    ),
    kind="limit",
    provenance="paper",
    method="the library's corrector (simulations.correctors.HistogramCorrector, exact mixture "
    "sampling), 1-D, p_θ = N(0, 1.5²), p_θ* = N(0, 1), γ ∈ {0.5, 3}, ⌈√n⌉ bins over the "
    "sample's range; the exact KS distance of the corrected sample to π_γ p_θ at "
    "n ∈ {10², 10³, 10⁴} (400 replicates, quick 100; keys and draws as "
    "simulations.correctors.sup_distance_over_n, which must give the same mean at n = 10² "
    "to 1e-12). Each decrease between consecutive n strictly positive (lower confidence "
    "bound > 0, independent samples) and the log-log slope of the mean against n "
    "(least squares over the three n, delta-method SE) equal to −½ (two-sided): with √n "
    "bins the histogram's interpolation error is O(1/n), so E sup = c/√n (1 + O(n^{−1/2})) "
    "(derived).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Definition C.2 (eq. 51) and "
    "Example C.6 (eq. 53)",
    exact_statement="Paraphrased from the reference notes [G] (not verbatim): Def. C.2: Π is "
    "a valid point-wise correction for p_θ if ∃ γ ∈ [0, ∞] with lim_{n→∞} E_{Xⁿ∼p_θⁿ} sup_v "
    "‖Φ_{Π(Xⁿ)}(v) − Φ_{π_γ p_θ}(v)‖ → 0 (eq. 51). Example C.6: G₁ = N(0, σ₁²I_d), G₂ = "
    "N(0, σ₂²I_d); given x₁..x_n ∼ G₁ draw y₁..y_n ∼ (Ĝ₁⁽ⁿ⁾ + γG₂)/(1+γ), Ĝ₁⁽ⁿ⁾ the "
    "empirical pdf of the x's (\"in practice … a histogram\"), a random permutation σ, "
    "Π^γ(x_i) := y_σ(i); by a uniform law of large numbers (eq. 53) this is a valid "
    "point-wise correction with distribution-wise counterpart π_γ.",
    scope="d = 1, one (σ₁, σ₂) pair, γ ∈ {0.5, 3}, three n; the limit is checked as strict "
    "decrease plus a measured rate −½ (a finite-n statement, stronger than the paper's "
    "limit, derived for ⌈√n⌉ bins); the paper's histogram has unspecified bins (the "
    "authors' code: 10 per axis, which does not converge: the fixed_bins control). At these "
    "n the slope is not exactly −½: E KS·√n still grows slowly (measured with 2000 "
    "replicates: slope −0.489 at γ = 0.5, −0.497 at γ = 3), a bias of about 1 SE in quick "
    "mode and 2 SE in full mode, inside the resolution (±0.03 full).",
    controls=(
        Control("weights_swapped", "the corrector runs at strength 1/γ (histogram weight "
                "γ/(1+γ), target 1/(1+γ)) while the reference is π_γ p_θ"),
        Control("fixed_bins", "10 bins at every n (the authors' setting) instead of "
                "shrinking bins"),
    ),
)
def example_c6(ctx):
    from simulations.correctors import sup_distance_over_n

    reps = ctx.size(400, 100)
    k_cmp = len(_C6_GAMMAS) * len(_C6_SIZES) + len(_C6_GAMMAS)
    z = z_one_sided(1e-6 / k_cmp)
    out = []
    for g in _C6_GAMMAS:
        ks = {n: _c6_ks(ctx, n, g, reps) for n in _C6_SIZES}
        n0 = _C6_SIZES[0]
        lib = sup_distance_over_n([n0], g, corrector="histogram", bins=_c6_bins(n0, ctx),
                                  replicates=reps, seed=ctx.seed, mean=_C6["mean"],
                                  sd=_C6["sd"], target_mean=_C6["target_mean"],
                                  target_sd=_C6["target_sd"])
        # the library runs the corrector at γ itself: compare it with the unswapped run
        own = (_c6_ks(replace(ctx, control=None), n0, g, reps)
               if ctx.control == "weights_swapped" else ks[n0])
        out.append(exact_check(f"γ={g:g}, n={n0}: mean KS = sup_distance_over_n", lib.mean[0],
                               float(own.mean()), rtol=1e-12))
        for a, b in zip(_C6_SIZES[:-1], _C6_SIZES[1:], strict=True):
            m0, s0 = mean_se(ks[a])
            m1, s1 = mean_se(ks[b])
            se = math.sqrt(s0**2 + s1**2)
            out.append(Measurement(f"γ={g:g}: E KS(n={a}) − E KS(n={b}) − z·SE > 0 "
                                   f"({m0:.4g} → {m1:.4g})", float(np.finfo(float).tiny),
                                   float(m0 - m1 - z * se), None, "lower"))
        logn = np.log(np.array(_C6_SIZES, dtype=float))
        means = np.array([ks[n].mean() for n in _C6_SIZES])
        ses = np.array([ks[n].std(ddof=1) / math.sqrt(reps) for n in _C6_SIZES])
        c = (logn - logn.mean()) / np.sum((logn - logn.mean()) ** 2)
        slope = float(c @ np.log(means))
        slope_se = float(math.sqrt(np.sum((c * ses / means) ** 2)))
        out.append(Measurement(f"γ={g:g}: log-log slope of E KS vs n = −½", -0.5, slope,
                               slope_se))
    return out


# --------------------------------------------------------------------------------------------
# row 18: the Gaussian toy of Fig. 2
# --------------------------------------------------------------------------------------------


# AUTHORS_CORRECTOR_GAMMA_EFF — the effective strength γ_eff (Def. C.2: the γ of the closest
# π_γ p_θ) of the authors' clipped histogram rejection sampler ("histogram_authors", 10 bins per
# axis, m = 25 corrected points, 1000 independent applications, seed 11), measured with
# simulations.correctors.effective_strength_estimate by three estimators (± SE), and in 1-D the
# limit law G as the bins shrink (theory.projection_strength.clipped_mixture_cdf): sup|G − π_γ|,
# the γ' of the nearest π_γ' and the KS distance of G to the whole π family. The "second"
# estimator is left out: in A it gives 50–400 (SE 13–700), in B and C t̂ ≥ 1 (γ̂ = ∞), the
# clipped law's second moment lying outside the π_γ range (itself a sign that it is not π_γ).
#   A: 1-D, p_θ = N(1, 2), p_θ* = N(0, 1), n_real = 100 (the defaults of
#      effective_strength_estimate, as in figure gillman2024_correctors);
#   B: 1-D, p_θ = N(0.3, 1.2), p_θ* = N(0, 1), n_real = 50 (near the target);
#   C: 2-D, p_θ = N((0.3, 0), diag(1.2, 0.9)), p_θ* = N(0, I₂), n_real = 50 (the Fig. 2 toy's
#      regime; cvm and ks on the projection direction).
#   cfg γ    mean        cvm         ks          G: sup|G−π_γ|, nearest γ', KS to family
#   A   0    1.95±0.07   1.67±0.05   2.00±0.07   0.306, 4.3, 0.040
#   A   0.3  3.41±0.14   2.88±0.10   3.49±0.13   0.239, 7.1, 0.027
#   A   1    6.77±0.39   5.61±0.27   6.72±0.35   0.158, 13.6, 0.015
#   A   3    15.7±1.8    13.0±1.2    14.6±1.4    0.080, 32, 0.007
#   B   0    0.87±0.09   0.89±0.08   1.03±0.11   0.097, 2.9, 0.015
#   B   0.3  1.53±0.14   1.54±0.12   1.67±0.17   0.075, 4.2, 0.011
#   B   1    3.11±0.36   3.04±0.29   3.36±0.40   0.049, 7.4, 0.007
#   B   3    7.2±1.4     7.0±1.2     7.2±1.4     0.025, 16.5, 0.003
#   C   0    0.87±0.08   1.00±0.12   1.05±0.12   –
#   C   0.3  1.73±0.16   1.93±0.22   1.91±0.20   –
#   C   1    3.95±0.52   4.29±0.68   4.16±0.70   –
#   C   3    18±8        26±16       17±8        –
# So γ_eff/γ is ≈ 5–12 at γ = 0.3, 3–7 at γ = 1 and 2.3–9 at γ = 3 over these configurations
# and estimators (larger when p_θ is far from p_θ*; C's γ = 3 values have SE 40–60 %), part of
# it being γ_eff(0) > 0, which holds everywhere.


# the notes' transcription of §5 and Fig. 2 (the toy loop), quoted by both Fig. 2 claims
_FIG2_TRANSCRIPT = (
    "Transcribed in the reference notes [G]: \"We logarithmically accrue "
    "synthetic data points to simulate the case of fine-tuning. We obtain the updated model "
    "parameters θ_{t+1}^{50} by computing the sample mean and covariance on this augmented "
    "dataset.\" Fig. 2: W₂ between N(0, I₂) and N(µ_t, Σ_t) vs generation for several γ, "
    "λ = 0.5; larger γ is more stable and converges to a better W₂; \"even a very small "
    "increase in γ can improve performance over the baseline\" (no numeric values: the "
    "figure is an image).")


@claim(
    id="gillman2024.fig2.toy",
    paper=PAPER,
    statement=(
        "Fig. 2 / §5: in the 2-D Gaussian toy (n = 50 real points from N(0, I₂), λ = 0.5, "
        "W₂ to N(0, I₂)), larger correction strength γ is more stable and converges to a "
        "better W₂; even a small γ improves on the baseline."
    ),
    kind="monotone",
    provenance="paper",
    method="ideal corrector π_γ (each synthetic point from the target w.p. γ/(1+γ); the "
    "authors' code uses a clipped 10×10-histogram rejection sampler instead), exact MLE. "
    "Without accumulation: the engine's mix loop (fixed real set + 25 fresh synthetic "
    "points, the setting of the theory; quick mode: the same loop in "
    "figures.gillman2024.toy_w2, which shares one compilation with the accumulating "
    "variant); with the authors' accumulation (at step i the real set plus ⌊(j+1)/(i+1)·25⌋ "
    "points of every past generation j — not data='accumulate'): figures.gillman2024.toy_w2. "
    "γ ∈ {0, 0.01, 0.03, 0.1, 0.3, 1, 2, 5}, common random numbers across γ; per replicate "
    "the mean W₂ over generations 100…T (T = 500, 100 replicates; quick: T = 150, 40 "
    "replicates). Each consecutive pair: a strictly positive paired decrease (lower "
    "confidence bound > 0); γ = 0 vs γ = 5: the same.",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, §5 and Fig. 2 (Gaussian toy); "
    "the authors' code nate-gillman/self-correcting-self-consuming "
    "exp_scripts/gaussian_toy_example.py (HEAD 97d1ea7)",
    exact_statement=_FIG2_TRANSCRIPT,
    scope="the ideal corrector π_γ instead of the authors' histogram rejection sampler; the "
    "qualitative ordering only (no values to compare: Fig. 2 is an image), as strict "
    "improvement of the mean W₂ over generations 100…T for each consecutive γ of the grid, "
    "with and without the authors' accumulation; 2-D, n = 50, 25 synthetic points. The "
    "authors' sampler is not π_γ at any γ, and no single factor relates its γ to an effective "
    "one: its output law is not of the π_γ form (in 1-D its limit as the bins shrink is at "
    "KS distance 0.003–0.04 from the nearest π_γ'), its γ_eff depends on the configuration "
    "and on the estimator, and its γ = 0 already corrects (γ_eff(0) ≈ 0.9–2); measured "
    "γ_eff/γ ranges over ≈ 2–12 at γ ∈ {0.3, 1, 3} (table AUTHORS_CORRECTOR_GAMMA_EFF "
    "above).",
    controls=(
        Control("weights_swapped", "each loop runs at strength 1/γ (γ = 0 → ∞): target "
                "weight 1/(1+γ)"),
    ),
)
def fig2_toy(ctx):
    from figures.gillman2024 import TOY_GAMMAS, toy_w2

    reps = ctx.size(100, 40)
    gens = 500 if not ctx.quick else 150
    if ctx.control == "weights_swapped":
        loop_gammas = tuple(math.inf if g == 0 else 1.0 / g for g in TOY_GAMMAS)
    else:
        loop_gammas = tuple(TOY_GAMMAS)
    avg = {}
    if ctx.quick:
        w_mix = toy_w2(ctx.seed, loop_gammas, replicates=reps, generations=gens,
                       accumulate=False)
        for gi, g in enumerate(TOY_GAMMAS):
            avg[("mix", g)] = w_mix[gi, :, 100:].mean(axis=1)
    else:
        for g, gl in zip(TOY_GAMMAS, loop_gammas, strict=True):
            traj = simulate(ctx, dim=2, n_real=50, synthetic_ratio=0.5, data="mix",
                            correction_strength=gl, generations=gens, replicates=reps)
            avg[("mix", g)] = traj.metric("w2_to_target")[:, 100:].mean(axis=1)
    w_acc = toy_w2(ctx.seed, loop_gammas, replicates=reps, generations=gens, accumulate=True)
    for gi, g in enumerate(TOY_GAMMAS):
        avg[("acc", g)] = w_acc[gi, :, 100:].mean(axis=1)
    out = []
    k = 2 * len(TOY_GAMMAS)
    for tag, name in (("mix", "no accumulation"), ("acc", "authors' accumulation")):
        for g0, g1 in zip(TOY_GAMMAS[:-1], TOY_GAMMAS[1:], strict=True):
            out.append(lcb_check(f"{name}: W̄₂(γ={g0:g}) − W̄₂(γ={g1:g})",
                                 avg[(tag, g0)] - avg[(tag, g1)], k))
        out.append(lcb_check(f"{name}: W̄₂(γ=0) − W̄₂(γ=5)", avg[(tag, 0.0)] - avg[(tag, 5.0)],
                             k))
    return out


@partial(jax.jit, static_argnames=("generations", "n_real", "n_synthetic", "dim", "corrector"))
def _authors_toy_w2(keys, gammas, *, generations, n_real=50, n_synthetic=25, dim=2,
                    corrector="authors"):
    """W₂(N(µ_t, Σ_t), N(0, I)) of the Fig. 2 loop as the authors' code runs it, shape
    (R, G, T + 1): the real set (n_real points of N(0, I)), each generation m model draws
    corrected by their clipped histogram rejection sampler (simulations.correctors.
    AuthorsHistogramCorrector, 10 bins per axis, target N(0, I)), and their accumulation (at
    step i the real set, the newest m corrected points and the first ⌊(j+1)/(i+1)·m⌋ corrected
    points of every earlier generation j), exact MLE. ``corrector="none"``: no correction;
    ``"identity_at_zero"``: the sampler except that γ = 0 leaves the points unchanged.
    Replicate r uses keys[r] for every γ (common random numbers: the same real set and model
    normals)."""
    from figures.gillman2024 import _features, _fit
    from simulations.correctors import AuthorsHistogramCorrector
    from theory.distances import gaussian_w2, sqrtm_psd

    t_max, m, d = generations, n_synthetic, dim
    dt = jnp.float64
    p = d + d * (d + 1) // 2
    js = jnp.arange(t_max)
    sampler = AuthorsHistogramCorrector()
    eye, zero = jnp.eye(d, dtype=dt), jnp.zeros(d, dt)

    def trajectory(key, gamma):
        real = jax.random.normal(jax.random.fold_in(key, 0), (n_real, d), dt)
        real_sums = jnp.sum(_features(real), axis=0)
        mean0, cov0 = _fit(real_sums, float(n_real), d)

        def step(carry, i):
            mean, cov, buf = carry
            k_z, k_c = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, 1), i))
            y = mean + jax.random.normal(k_z, (m, d), dt) @ sqrtm_psd(cov)
            if corrector != "none":
                corrected = sampler.apply(k_c, y, zero, eye, gamma)
                if corrector == "identity_at_zero":
                    corrected = jnp.where(gamma == 0.0, y, corrected)
                y = corrected
            prefix = jnp.concatenate([jnp.zeros((1, p), dt), jnp.cumsum(_features(y), axis=0)])
            c = jnp.floor(((js + 1.0) / (i + 1.0)) * m).astype(jnp.int32)
            c = jnp.where(js < i, c, 0)  # row 0 of a prefix table is 0
            past = jnp.sum(buf[js, c], axis=0)
            count = float(n_real + m) + jnp.sum(c).astype(dt)
            # a value-preserving select so that the buffer is read before it is written
            row = jnp.where(jnp.isnan(jnp.sum(past)), jnp.nan, prefix)
            buf = jax.lax.dynamic_update_slice(buf, row[None], (i, 0, 0))
            new = _fit(real_sums + prefix[m] + past, count, d)
            return (*new, buf), new

        start = (mean0, cov0, jnp.zeros((t_max, m + 1, p), dt))
        _, (ms, cs) = jax.lax.scan(step, start, js)
        ms, cs = jnp.concatenate([mean0[None], ms]), jnp.concatenate([cov0[None], cs])
        return jax.vmap(lambda a, b: gaussian_w2(a, b, zero, eye))(ms, cs)

    return jax.vmap(lambda k: jax.vmap(lambda g: trajectory(k, g))(gammas))(keys)


def authors_toy_w2(seed, gammas, *, replicates, generations, corrector="authors", batch=40):
    """:func:`_authors_toy_w2` in batches of replicates (keys fold_in(key(seed), r))."""
    batch = min(batch, replicates)
    base = jax.random.key(int(seed))
    g = jnp.asarray(np.asarray(gammas, dtype=np.float64))
    out = []
    for lo in range(0, replicates, batch):
        hi = min(replicates, lo + batch)
        keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(lo, lo + batch))
        out.append(np.asarray(_authors_toy_w2(keys, g, generations=generations,
                                              corrector=corrector))[: hi - lo])
    return np.concatenate(out, axis=0)


_AUTHORS_GAMMAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 5.0)


@claim(
    id="gillman2024.fig2.authors",
    paper=PAPER,
    statement=(
        "Fig. 2 as the authors ran it (their clipped histogram rejection corrector and their "
        "accumulation, 2-D, n = 50, 25 synthetic points a generation): the mean W₂ to "
        "N(0, I₂) decreases strictly at each step of the paper's γ grid {0, 0.01, 0.03, 0.1, "
        "0.3, 1, 2, 5}; their γ = 0 baseline is not the uncorrected loop and is worse than it "
        "(derived from measurement, not stated in the paper)."
    ),
    kind="monotone",
    provenance="paper",
    method="the loop of the authors' code (exp_scripts/gaussian_toy_example.py at 97d1ea7): "
    "real set of 50 points from N(0, I₂), each generation 25 draws from the current fit "
    "corrected by their rejection sampler (simulations.correctors.AuthorsHistogramCorrector: "
    "10×10 histogram over the points' bounding box, proposal N(0, I₂), clipped envelope), "
    "their accumulation (at step i the real set, the newest 25 and the first ⌊(j+1)/(i+1)·25⌋ "
    "points of every earlier generation j), exact MLE (no reg_covar). Common random numbers "
    "across γ (the same real set and model normals; the corrector's own draws depend on γ "
    "through its acceptances). Per replicate the mean W₂ over generations 100…T (T = 300, "
    "80 replicates; quick T = 150, 24 replicates). Each consecutive γ pair: a strictly "
    "positive paired decrease (lower confidence bound > 0, Bonferroni over the pairs); in "
    "quick mode the pair 0 → 0.01 is replaced by 0 → 0.03 (0 → 0.01 measured 0.019 ± 0.003, "
    "z ≈ 6, with 40 replicates at T = 150: too close to the threshold z ≈ 5.2). The same "
    "loop without any correction: W̄₂(their γ = 0) − W̄₂(no corrector) > 0 (lower confidence "
    "bound).",
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, §5 and Fig. 2; the authors' code "
    "nate-gillman/self-correcting-self-consuming exp_scripts/gaussian_toy_example.py (HEAD "
    "97d1ea7; the rejection corrector from commit 756c50c)",
    exact_statement=_FIG2_TRANSCRIPT,
    scope="the qualitative ordering only (Fig. 2 is an image): strict improvement of the "
    "mean W₂ over generations 100…T for each consecutive γ of the paper's grid, T = 300 "
    "(the authors ran 500 generations, one unseeded run per γ) and 150 in quick mode, where "
    "0 → 0.01 is tested as 0 → 0.03. Which corrector produced the published figure is not "
    "stated (the notes date the rejection sampler before v3). The authors' γ = 0 resamples "
    "the 10×10 histogram (uniform within bins), which inflates the variance: its W̄₂ (≈ 0.56 "
    "at T = 150, 0.59 at T = 300) is well above the uncorrected loop's (≈ 0.33), and only "
    "γ ≳ 0.3 does better than no correction (γ = 0.1: ≈ 0.42–0.43, γ = 0.3: ≈ 0.29), so the "
    "paper's 'baseline' is not the uncorrected loop.",
    controls=(
        Control("weights_swapped", "each loop runs the corrector at strength 1/γ (γ = 0 → ∞): "
                "target weight 1/(1+γ)"),
        Control("identity_at_zero", "the corrector leaves the points unchanged at γ = 0 (π₀ = "
                "p_θ, as Def. 4.1 reads) instead of resampling the histogram as the code "
                "does"),
    ),
)
def fig2_authors(ctx):
    reps = ctx.size(80, 24)
    gens = ctx.size(300, 150)
    loop = tuple(_AUTHORS_GAMMAS)
    if ctx.control == "weights_swapped":
        loop = tuple(math.inf if g == 0 else 1.0 / g for g in _AUTHORS_GAMMAS)
    corrector = "identity_at_zero" if ctx.control == "identity_at_zero" else "authors"
    w = authors_toy_w2(ctx.seed, loop, replicates=reps, generations=gens, corrector=corrector)
    avg = {g: w[:, gi, 100:].mean(axis=1) for gi, g in enumerate(_AUTHORS_GAMMAS)}
    none = authors_toy_w2(ctx.seed, (0.0,), replicates=reps, generations=gens,
                          corrector="none")[:, 0, 100:].mean(axis=1)
    grid = _AUTHORS_GAMMAS if not ctx.quick else tuple(g for g in _AUTHORS_GAMMAS
                                                        if g != 0.01)
    k = len(grid)  # len(grid) − 1 pairs and the comparison with the uncorrected loop
    out = [lcb_check(f"W̄₂(γ={g0:g}) − W̄₂(γ={g1:g}) ({avg[g0].mean():.4g} → "
                     f"{avg[g1].mean():.4g})", avg[g0] - avg[g1], k)
           for g0, g1 in zip(grid[:-1], grid[1:], strict=True)]
    out.append(lcb_check(f"W̄₂(their γ=0) − W̄₂(no corrector) ({avg[0.0].mean():.4g} vs "
                         f"{none.mean():.4g})", avg[0.0] - none, k))
    return out


# --------------------------------------------------------------------------------------------
# §4.2 in the engine: a misspecified p_data (Gaussian mixture) and the full-covariance loop
# --------------------------------------------------------------------------------------------

_T_LAW = _DATA_D[2]  # a two-component Gaussian mixture in d = 2


def _one_step_expectation(means, covs, t_mean, t_cov, *, n, m, gamma):
    """Vectorized pooled_mle_expectation(real="fixed"): E[θ_t | θ_{t−1}, real set] with the
    real set's moments = θ₀ (its MLE fit); ``means`` (R, T+1, d), ``covs`` (R, T+1, d, d);
    returns arrays for t = 1 … T (index t − 1)."""
    prev_m, prev_c, real_m, real_c = means[:, :-1], covs[:, :-1], means[:, :1], covs[:, :1]
    tw = gamma / (1.0 + gamma)
    m_pi = (1 - tw) * prev_m + tw * t_mean
    dev_model, dev_target = prev_m - m_pi, t_mean - m_pi
    s_pi = ((1 - tw) * (prev_c + np.einsum("rti,rtj->rtij", dev_model, dev_model))
            + tw * (t_cov + np.einsum("rti,rtj->rtij", dev_target, dev_target)))
    big = float(n + m)
    ex = (n * real_m + m * m_pi) / big
    second = (n * (real_c + np.einsum("rti,rtj->rtij", real_m, real_m))
              + m * (s_pi + np.einsum("rti,rtj->rtij", m_pi, m_pi))) / big
    cov = second - np.einsum("rti,rtj->rtij", ex, ex) - m * s_pi / big**2
    return ex, cov


@claim(
    id="gillman2024.misspecified.engine",
    paper=PAPER,
    statement=(
        "Reference notes §4.2 (derived) in the engine's loop: with a misspecified p_data "
        "(a Gaussian mixture) and the full-covariance Gaussian model, each generation's fit has "
        "conditional expectation E[θ_t | θ_{t−1}, real set] = the moment match of the fixed "
        "real set (moments θ₀), λ/(1+γ)·p_θ_{t−1} and λγ/(1+γ)·p_θ* with θ* = p_data's "
        "moments, less the MLE's m S_π/N² covariance bias: the loop depends on p_data only "
        "through the real sample and θ*."
    ),
    kind="equality",
    provenance="derived",
    method="engine (samples), d = 2, p_data = a two-component Gaussian mixture, n = 200, "
    "λ = 0.5 (m = 100), γ ∈ {0.5, 3} (one run each, the same seed), "
    "T = 5, random membership; the residuals θ_t − E[θ_t | θ_{t−1}, real set] (the real set's "
    "moments are θ₀, its MLE fit) are martingale differences: their replicate means at "
    "t ∈ {1, 5} (5 entries of (µ, vech Σ)), and the means of each residual times the same "
    "entry of θ_{t−1} − θ* (a function of the past: also 0), against 0 with CLT SE; the "
    "vectorized expectation equals theory.correction.pooled_mle_expectation on the first "
    "replicate (rtol 1e-12).",
    source="derived; the corrected loop θ_{t+1} = π_γG_λ^n(θ_t) of Gillman et al. 2024 "
    "(arXiv 2402.07087 v3, Algorithm 1, eq. 10–11) for the Gaussian class with a "
    "misspecified p_data, reference notes §4.1–4.3",
    exact_statement="not stated in the paper",
    scope="the one-step conditional expectation only (the first moment of each generation's "
    "fit, not its law), d = 2, one mixture p_data, n = 200, λ = 0.5, γ ∈ {0.5, 3} (γ = 1 "
    "cannot see swapped mixing weights), T = 5; the MLE's covariance bias m S_π/N² is below "
    "the quick resolution (it is included in the prediction, not resolved by it).",
    controls=(
        Control("weights_swapped", "the loop runs at strength 1/γ (target weight 1/(1+γ))"),
        Control("target_shifted", "the prediction's θ* mean is shifted by 0.05 of p_data's "
                "standard deviation in each coordinate"),
    ),
)
def misspecified_engine(ctx):
    n, lam, t_max = 200, 0.5, 5
    m = int(lam * n)
    t_mean, t_cov = _T_LAW.moments
    true_mean, true_cov = t_mean, t_cov
    if ctx.control == "target_shifted":
        t_mean = np.asarray(t_mean, dtype=float) + 0.05 * np.sqrt(np.diag(t_cov))
    rows, cols = np.tril_indices(2)
    out = []
    for g in (0.5, 3.0):
        g_loop = 1.0 / g if ctx.control == "weights_swapped" else g
        traj = simulate(ctx, dim=2, n_real=n, synthetic_ratio=lam, data="mix",
                        correction_strength=g_loop, generations=t_max,
                        replicates=ctx.size(20_000, 3_000), truth=_T_LAW)
        ex, ec = _one_step_expectation(traj.means, traj.covs, t_mean, t_cov, n=n, m=m,
                                       gamma=g)
        ref_m, ref_c = cr.pooled_mle_expectation(
            traj.means[0, 0], traj.covs[0, 0], traj.means[0, 0], traj.covs[0, 0], t_mean,
            t_cov, n_real=n, n_synthetic=m, correction_strength=g, real="fixed")
        out.append(exact_check(f"γ={g:g}: vectorized expectation = pooled_mle_expectation "
                               "(replicate 0, t=1)", 0.0, float(np.max(np.abs(np.concatenate(
                                   [ex[0, 0] - ref_m, (ec[0, 0] - ref_c).ravel()])))),
                               atol=1e-12))
        for t in (1, t_max):
            res_m = traj.means[:, t] - ex[:, t - 1]
            res_c = (traj.covs[:, t] - ec[:, t - 1])[:, rows, cols]
            for j, lab in enumerate(("µ1", "µ2")):
                out.append(mean_check(f"γ={g:g}, t={t}: E residual {lab}", res_m[:, j], 0.0))
            for j, lab in enumerate(("Σ11", "Σ21", "Σ22")):
                out.append(mean_check(f"γ={g:g}, t={t}: E residual {lab}", res_c[:, j], 0.0))
            # a martingale difference is uncorrelated with every function of the past: the
            # residual times the previous fit's deviation from θ* (whose mean is ≈ 0, so the
            # plain means cannot see an error proportional to it, e.g. swapped weights)
            dev_m = traj.means[:, t - 1] - true_mean
            dev_c = (traj.covs[:, t - 1] - true_cov)[:, rows, cols]
            for j, lab in enumerate(("µ1", "µ2")):
                out.append(mean_check(f"γ={g:g}, t={t}: E residual {lab}·(θ_{{t−1}} − θ*)",
                                      res_m[:, j] * dev_m[:, j], 0.0))
            for j, lab in enumerate(("Σ11", "Σ21", "Σ22")):
                out.append(mean_check(f"γ={g:g}, t={t}: E residual {lab}·(θ_{{t−1}} − θ*)",
                                      res_c[:, j] * dev_c[:, j], 0.0))
    return out


# --------------------------------------------------------------------------------------------
# Theorem 4.3 with εL > 0: the finite-sample logistic location loop on the mixture p_data
# --------------------------------------------------------------------------------------------

from typing import NamedTuple  # noqa: E402  (kept with this section: see its claim)

from scipy import special  # noqa: E402

from paper_checks.stats import var_se  # noqa: E402

_LG_LAW = MIX_1D
_LG_N, _LG_LAMBDA, _LG_T = 100, 0.4, 30
_LG_M = 40  # ⌊λn⌋ = λn exactly, so m/N = λ/(1+λ) as in logistic_location_map
_LG_GAMMAS = (0.0, 1.0, 3.0)
_LG_TS = (1, 2, 5, 10, 30)
_LG_FIT_N = (25, 50, 100, 200)  # m = 10, 20, 40, 80: λn exact
_LG_RADIUS = 1.5  # U = [θ* − 1.5, θ* + 1.5]
_LG_GRID = np.linspace(-_LG_RADIUS, _LG_RADIUS, 16)
_LG_FAR = 3.0  # θ₀ = θ* + 3 for the transient (outside U: the transient checks only)
_LG_SHIFT = 0.1  # the target_shifted control's δθ (the logistic scale is 1, sd π/√3)
_LG_NEWTON_TOL = 1e-10


def _lg_target_weight(gamma):
    """w = γ/(1+γ), the weight of p_θ* in π_γp_θ (Def. 4.1; 1 for γ = ∞)."""
    return 1.0 if math.isinf(gamma) else gamma / (1.0 + gamma)


def _lg_psi_derivatives(u):
    """ψ(u) = tanh(u/2) (the score), ψ' = (1 − ψ²)/2 = 2f(u), ψ'' = −ψψ'."""
    p = np.tanh(0.5 * np.asarray(u, dtype=np.float64))
    d1 = 0.5 * (1.0 - p * p)
    return p, d1, -p * d1


def _lg_moments(pdf, shift, centre, points):
    """(Eψ, Eψ², Eψψ', Eψ', Eψ'') of ψ(z + shift) for z with density ``pdf`` (adaptive
    quadrature on [centre − 60, centre + 60]; the integrands decay like the densities)."""
    out = []
    for k in range(5):
        def fn(z, k=k):
            p, d1, d2 = _lg_psi_derivatives(z + shift)
            return pdf(z) * (p, p * p, p * d1, d1, d2)[k]
        out.append(integrate.quad(fn, centre - 60.0, centre + 60.0, points=points, limit=400,
                                  epsabs=1e-13, epsrel=1e-12)[0])
    return np.array(out)


def _lg_data_moments(theta_p):
    """Moments of ψ(x − θ') for x ∼ p_data (the mixture)."""
    return _lg_moments(cr.law_pdf(_LG_LAW), -theta_p, 0.0, (-2.0, 1.0, theta_p))


def _lg_logistic_moments(s):
    """Moments of ψ(u + s) for u standard logistic."""
    return _lg_moments(lambda u: special.expit(u) * special.expit(-u), s, 0.0, (0.0, -s))


def _lg_one_step_law(theta, gamma, target, n=_LG_N, m=_LG_M):
    """The law of one generation θ' = π_γG_λⁿ(θ) from a fixed θ with a fresh real sample, to
    O(1/N) (derived; second-order expansion of the pooled score equation Φ(θ') = 0 about
    θ'₀ = π_γG_λ^∞(θ)): with ξ = Φ − EΦ, D = −EΦ'(θ'₀), F₂ = EΦ''(θ'₀),

        E θ' = θ'₀ + E[ξξ']/D² + F₂E[ξ²]/(2D³),       Var θ' = E[ξ²]/D²   (delta method),

    N²E[ξ²] = n Var_d ψ + m Var_q ψ and N²E[ξξ'] = −(n Cov_d(ψ, ψ') + m Cov_q(ψ, ψ')), q the
    corrected synthetic law (1 − w) f(· − θ) + w f(· − θ*), w = γ/(1+γ). Returns
    (θ'₀, E θ', Var θ', D)."""
    big = n + m
    w = _lg_target_weight(gamma)
    g1 = cr.logistic_location_map(theta, _LG_LAW, m / n, gamma, theta_star=target)
    dm = _lg_data_moments(g1)
    qm = (1.0 - w) * _lg_logistic_moments(theta - g1) + w * _lg_logistic_moments(target - g1)
    var = lambda mo: mo[1] - mo[0] ** 2  # noqa: E731
    cov = lambda mo: mo[2] - mo[0] * mo[3]  # noqa: E731
    d = (n * dm[3] + m * qm[3]) / big
    f2 = (n * dm[4] + m * qm[4]) / big
    e_xi2 = (n * var(dm) + m * var(qm)) / big**2
    e_xixp = -(n * cov(dm) + m * cov(qm)) / big**2
    return g1, g1 + e_xixp / d**2 + f2 * e_xi2 / (2.0 * d**3), e_xi2 / d**2, d


class _LgStationary(NamedTuple):
    j_fd: float  # slope of the map at θ* (Richardson central differences)
    j_formula: float  # b(1 − w)/(3D), b = m/N, D = aα + b/3
    g2_fd: float  # second derivative of the map at θ*
    g2_formula: float  # aE_dψ''·J²/D
    v_step: float  # one-step synthetic variance (m/3)/(ND)²
    var_real: float  # Var θ̄_X = (n/N²)Var_d ψ/D₀², D₀ = aα + bw/3
    var_syn: float  # v/(1 − J²)
    var_total: float
    var_diff: float  # Var(θ_t − θ_{t−1}) = 2v/(1 + J)
    bias: float  # E θ_∞ − θ*
    mean: float


@lru_cache(maxsize=8)
def _lg_stationary(gamma, target_offset=0.0):
    """The stationary law of θ_t (T → ∞) in the logistic loop with a fixed real sample (derived;
    linearisation about the map's fixed point θ̄_γ = θ*, and second order for the mean).

    The real sample X is drawn once: θ_t fluctuates around the fixed point θ̄_X of the map
    given X, which solves a P_nψ(x − θ) + bw E_fψ(u + θ* − θ) = 0 (a = n/N, b = m/N; the
    model term vanishes at a fixed point, E_fψ = 0). θ̄_X − θ* is an M-estimator:
    Var = (n/N²)Var_dψ/D₀², bias −(n/N²)Cov_d(ψ, ψ')/D₀² + aE_dψ''(n/N²)Var_dψ/(2D₀³),
    D₀ = aα + bw/3. Given X, θ_t − θ̄_X is an AR(1) with slope J (the map's, = b(1−w)/(3D),
    D = aα + b/3) and innovations of variance v = (m/3)/(ND)² (Var_fψ = 1/3); its stationary
    variance is v/(1 − J²), and the mean shift (½G''·v/(1−J²) + b_syn)/(1 − J) with the
    one-step bias b_syn = aE_dψ''·(m/3N²)/(2D³) (Cov_f(ψ, ψ') = 0: f is symmetric).
    So Var θ_∞ = Var θ̄_X + v/(1 − J²), and θ_t − θ_{t−1} does not see X: its variance is
    2v/(1 + J). J and G'' are taken from logistic_location_map by finite differences; the
    closed forms are returned beside them."""
    ll = cr.logistic_location(_LG_LAW)
    ts = ll.theta_star
    n, m = _LG_N, _LG_M
    big = n + m
    a, b = n / big, m / big
    w = _lg_target_weight(gamma)

    def fmap(th):
        return cr.logistic_location_map(th, _LG_LAW, _LG_LAMBDA, gamma, theta_star=ts)

    j_fd, _ = _richardson_fd(fmap, ts, 1e-2)
    g2_fd = (fmap(ts + 0.02) - 2.0 * fmap(ts) + fmap(ts - 0.02)) / 0.02**2
    dm = _lg_data_moments(ts)
    vd, cd, alpha, k2 = dm[1] - dm[0] ** 2, dm[2] - dm[0] * dm[3], dm[3], dm[4]
    d = a * alpha + b / 3.0
    d0 = a * alpha + b * w / 3.0
    j_formula = b * (1.0 - w) / (3.0 * d)
    g2_formula = a * k2 * j_formula**2 / d
    v = (m / 3.0) / (big * d) ** 2
    var_real = n * vd / (big**2 * d0**2)
    var_syn = v / (1.0 - j_fd**2)
    bias_real = -n * cd / (big**2 * d0**2) + a * k2 * n * vd / (2.0 * big**2 * d0**3)
    b_syn = a * k2 * (m / 3.0) / big**2 / (2.0 * d**3)
    bias = bias_real + (0.5 * g2_fd * var_syn + b_syn) / (1.0 - j_fd)
    return _LgStationary(j_fd, j_formula, g2_fd, g2_formula, v, var_real, var_syn,
                         var_real + var_syn, 2.0 * v / (1.0 + j_fd), bias, ts + bias)


def _lg_loop_args(ctx, gamma):
    """(strength, target, data) of the simulated loop under ctx.control."""
    ts = cr.logistic_location(_LG_LAW).theta_star
    g_loop = gamma
    if ctx.control == "weights_swapped":  # target weight 1/(1+γ), model weight γ/(1+γ)
        g_loop = math.inf if gamma == 0 else 1.0 / gamma
    target = ts + _LG_SHIFT if ctx.control == "target_shifted" else ts
    data = "replace" if ctx.control == "real_data_dropped" else "mix"
    return g_loop, target, data


def _lg_run(ctx, gamma, *, theta0=None):
    from simulations.logistic_loop import run_logistic

    g_loop, target, data = _lg_loop_args(ctx, gamma)
    return run_logistic(ctx.seed, n=_LG_N, synthetic_ratio=_LG_LAMBDA,
                        correction_strength=g_loop, generations=_LG_T,
                        replicates=ctx.size(20_000, 4_000), data_law=_LG_LAW, theta0=theta0,
                        target=target, data=data)


@lru_cache(maxsize=16)
def _lg_fitted_tau(seed, gamma, replicates):
    """(a, b, ε_OPT) of Assumption 4.2(3) fitted (cr.fit_tau_n, as gillman2024.thm4.3) on the
    one-step errors sup_{θ∈U} |π_γG_λⁿ(θ) − π_γG_λ^∞(θ)| of the logistic loop, from the
    independent stream ``seed``; U is gridded by _LG_GRID around θ*."""
    from simulations.logistic_loop import one_step

    ts = cr.logistic_location(_LG_LAW).theta_star
    grid = ts + _LG_GRID
    exact = np.array([cr.logistic_location_map(th, _LG_LAW, _LG_LAMBDA, gamma, theta_star=ts)
                      for th in grid])
    errors = []
    for n in _LG_FIT_N:
        key = jax.random.fold_in(jax.random.key(seed), n)
        th1 = one_step(key, grid, n=n, synthetic_ratio=_LG_LAMBDA, correction_strength=gamma,
                       replicates=replicates, data_law=_LG_LAW, target=ts)
        errors.append(np.max(np.abs(th1 - exact[None, :]), axis=1))
    deltas = np.geomspace(DELTA / _LG_T, 0.5, 8)
    return cr.fit_tau_n(errors, _LG_FIT_N, deltas, conservative=True, confidence=1e-7)


def _lg_bound_measurements(ctx, gamma, run, ts):
    """Theorem 4.3's eq. 7 at each t of _LG_TS: coverage P(|θ_t − θ*| ≤ RHS) ≥ 1 − δ (exact
    binomial p-value: the verdict) with the slack 1/q, q the (1−δ)-quantile of
    |θ_t − θ*|/RHS over replicates (the bound with its replicate's own |θ₀ − θ*|)."""
    ll = cr.logistic_location(_LG_LAW)
    fit = _lg_fitted_tau(ctx.seed + 1, gamma, ctx.size(4_000, 1_000))
    err = np.abs(run.theta - ts)
    out = []
    for t in _LG_TS:
        rhs = cr.theorem_4_3_bound(t, _LG_N, DELTA, err[:, 0], _LG_LAMBDA, gamma, ll.alpha,
                                   ll.eps, ll.lipschitz, fit.a, fit.b, fit.eps_opt)
        ratio = err[:, t] / rhs
        hits = ratio <= 1.0
        pvalue = float(stats.binomtest(int(hits.sum()), hits.size, 1.0 - DELTA,
                                       alternative="less").pvalue)
        out.append(Measurement(
            f"γ={gamma:g}, t={t}: eq. 7 bound, P(|θ_t−θ*| ≤ RHS) = {hits.mean():.4f} ≥ 1−δ; "
            f"measured = (1−δ)-quantile of |θ_t−θ*|/RHS (slack = 1/it; median RHS "
            f"{np.median(rhs):.3g}; τ_n: a={fit.a:.3g}, b={fit.b:.3g}, ε_OPT={fit.eps_opt:.3g})",
            1.0, float(np.quantile(ratio, 1.0 - DELTA)), None, "upper", pvalue=pvalue))
    return out


def _lg_stationary_measurements(ctx, gamma, run):
    s = _lg_stationary(gamma)
    th = run.theta
    t = _LG_T
    out = [
        exact_check(f"γ={gamma:g}: map slope J at θ* (finite differences of "
                    "logistic_location_map) = b(1−w)/(3D)", s.j_formula, s.j_fd, rtol=1e-6),
        exact_check(f"γ={gamma:g}: map curvature G'' at θ* (finite differences) = "
                    "aE_dψ''J²/D", s.g2_formula, s.g2_fd, rtol=0.0, atol=1e-5),
        mean_check(f"γ={gamma:g}, t={t}: E θ_t = θ* + O(1/n) bias ({s.bias:.3g})",
                   th[:, t], s.mean),
    ]
    var, se = var_se(th[:, t])
    out.append(Measurement(f"γ={gamma:g}, t={t}: Var θ_t = Var θ̄_X + v/(1−J²) "
                           f"({s.var_real:.4g} + {s.var_syn:.4g})", s.var_total, var, se))
    diff = th[:, t] - th[:, t - 1]
    out.append(mean_check(f"γ={gamma:g}, t={t}: E(θ_t − θ_{{t−1}})² = 2v/(1+J)", diff**2,
                          s.var_diff))
    return out


def _lg_transient_measurements(ctx, gamma, far):
    """One generation from θ₀ = θ* + 3 (each replicate's own real sample): mean and variance
    against _lg_one_step_law; ``ctx.control == 'off_by_one'`` compares generation t − 1."""
    ts = cr.logistic_location(_LG_LAW).theta_star
    t_sim = 0 if ctx.control == "off_by_one" else 1
    x = far.theta[:, t_sim]
    g1, mean, var_pred, _ = _lg_one_step_law(ts + _LG_FAR, gamma, ts)
    var, se = var_se(x)
    return [
        mean_check(f"γ={gamma:g}, θ₀=θ*+{_LG_FAR:g}, t=1: E θ_1 = π_γG^∞(θ₀) + O(1/N) bias "
                   f"({g1:.4f} + {mean - g1:.2g})", x, mean),
        Measurement(f"γ={gamma:g}, θ₀=θ*+{_LG_FAR:g}, t=1: Var θ_1 = delta-method variance "
                    "on n real + m synthetic points", var_pred, var, se),
    ]


@claim(
    id="gillman2024.thm4.3.logistic",
    paper=PAPER,
    statement=(
        "Theorem 4.3 with εL > 0: the finite-sample loop of the logistic location model on a "
        "misspecified two-component mixture p_data obeys eq. 7 with probability ≥ 1 − δ at "
        "each t; beside the bound, the stationary law of θ_t around the map's fixed point "
        "and the first step from a distant θ₀ (derived), and larger γ gives a faster approach."
    ),
    kind="bound",
    provenance="paper",
    method=(
        "simulations.logistic_loop.run_logistic: p_θ(x) = f(x − θ) (f logistic) refit by "
        "maximum likelihood (Newton, 10 clipped iterations warm-started at θ_{t−1}; the score "
        "residual |S(θ)|/N ≤ 1e-10 is checked) on n = 100 fixed real points from the mixture "
        "0.3N(−2, 0.5²) + 0.7N(1, 1.5²) plus m = 40 points (λ = 0.4) from π_γp_θ (target "
        "p_θ*, θ* = logistic_location(p_data).theta_star; each point from p_θ* with "
        "probability γ/(1+γ)), T = 30, γ ∈ {0, 1, 3}, 20000 replicates (quick 4000). α, L, ε "
        "from cr.logistic_location; λ(1 + εL/α) = 0.377 < (1+γ)/(2+γ) at each γ "
        "(ρ(λ)/(1+γ) = 0.89, 0.45, 0.22). (i) eq. 7 with τ_n(δ) = ε_OPT + (a/√n)√log(b/δ) "
        "fitted by cr.fit_tau_n (as gillman2024.thm4.3) on the one-step errors "
        "sup_{θ∈U}|π_γGⁿ(θ) − π_γG^∞(θ)| (U = θ* ± 1.5 on a 16-point grid, n ∈ {25, 50, 100, "
        "200}, 4000 replicates, quick 1000) from the independent stream seed + 1; per t ∈ "
        "{1, 2, 5, 10, 30} the coverage P(|θ_t − θ*| ≤ RHS) ≥ 1 − δ = 0.9 (exact binomial "
        "test) with its slack. (ii) Derived, with power: the stationary law at t = 30 — "
        "E θ_t = θ* + O(1/n) bias (second-order expansion, both the fixed real sample's "
        "M-estimator bias and the synthetic noise's), Var θ_t = Var θ̄_X + v/(1 − J²), "
        "E(θ_t − θ_{t−1})² = 2v/(1 + J) (J, G'' from logistic_location_map by finite "
        "differences, checked against their closed forms); the first generation from θ₀ = "
        "θ* + 3: E θ_1 = π_γG^∞(θ₀) + O(1/N) bias and the delta-method variance; the strict "
        "ordering in γ of E|θ_t − θ*| for t = 1, 2, 3 from θ₀ = θ* + 3 (common random "
        "numbers, lower confidence bound of the paired difference > 0). The runs at the three γ "
        "and from θ* + 3 share the seed, hence each replicate's real sample: their comparisons "
        "are correlated through the real data (the real-sample part dominates Var θ_t)."
    ),
    source="Gillman et al. 2024, ICML, arXiv 2402.07087 v3, Theorem 4.3 (= Theorem A.11), "
    "eq. 7 and eq. 44; γ = 0: Bertrand et al. 2024, ICLR, Theorem 2",
    exact_statement=_THM43_TRANSCRIPT,
    scope="One misspecified model: the 1-D logistic location class on a two-component Gaussian "
    "mixture (α = 0.307, L = 1/(3√3), ε = 0.284, εL/α = 0.18), n = 100, λ = 0.4, δ = 0.1, "
    "γ ∈ {0, 1, 3}, θ₀ the real-data fit (the bound) or θ* + 3 (the transient, outside U); "
    "the bound per fixed t with (a, b, ε_OPT) fitted on a grid of U, not a supremum over U. "
    "The bound is loose (its slack is reported) and would hold for many wrong loops; the "
    "power comes from the derived stationary and one-step laws, which are expansions to "
    "O(1/n) (their remainders, O(n^{-3/2}) in the mean and O(1/n) relative in the "
    "variances, are below the full-mode resolution at these sizes, not bounded).",
    controls=(
        Control("target_shifted", f"the corrector's target is θ* + {_LG_SHIFT:g} while the "
                "predictions keep θ*"),
        Control("real_data_dropped", "the loop refits on the m synthetic points only (the "
                "real set used only at generation 0)"),
        Control("weights_swapped", "the loop runs at strength 1/γ (∞ for γ = 0): target "
                "weight 1/(1+γ), model weight γ/(1+γ)"),
        Control("off_by_one", "the one-step predictions from θ₀ = θ* + 3 are compared with "
                "generation t − 1"),
    ),
)
def thm43_logistic(ctx):
    ts = cr.logistic_location(_LG_LAW).theta_star
    out, far_err = [], {}
    max_res = 0.0
    for g in _LG_GAMMAS:
        run = _lg_run(ctx, g)
        far = _lg_run(ctx, g, theta0=ts + _LG_FAR)
        max_res = max(max_res, float(np.nanmax(run.residual)), float(np.nanmax(far.residual)))
        if g == _LG_GAMMAS[0]:
            out.append(exact_check("iterates stay in U: max_t |θ_t − θ*| < radius of U (γ = "
                                   f"{g:g})", _LG_RADIUS, float(np.max(np.abs(run.theta - ts))),
                                   rtol=0.0, sided="upper"))
        out += _lg_bound_measurements(ctx, g, run, ts)
        out += _lg_stationary_measurements(ctx, g, run)
        out += _lg_transient_measurements(ctx, g, far)
        far_err[g] = np.abs(far.theta - ts)
    out.append(exact_check("Newton: max |S(θ_t)|/N over every fit ≤ 1e-10", _LG_NEWTON_TOL,
                           max_res, rtol=0.0, sided="upper"))
    pairs = list(zip(_LG_GAMMAS[:-1], _LG_GAMMAS[1:], strict=True))
    for lo, hi in pairs:
        for t in (1, 2, 3):
            out.append(lcb_check(f"θ₀=θ*+{_LG_FAR:g}, t={t}: |θ_t−θ*| at γ={lo:g} minus at "
                                 f"γ={hi:g}", far_err[lo][:, t] - far_err[hi][:, t],
                                 3 * len(pairs)))
    return out
