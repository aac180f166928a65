"""Bertrand et al. 2024, "On the Stability of Iterative Retraining of Generative Models on
their own Data" (ICLR 2024, arXiv 2310.00429): the γ = 0 case of Gillman et al. 2024.

Bertrand's full text could not be read for the reference notes: its theorems are checked as
Gillman et al. restate them ("the bound in (7), applied with γ = 0, exactly recovers their
result", Remark 4.4; Prop. A.6 = their Prop. 4), and its Gaussian warm-up through the
standard fully-synthetic collapse facts of :mod:`theory.replace` (reference notes §4.5; not
verified to be Bertrand's exact statement). The machinery is shared with
:mod:`paper_checks.claims.gillman2024`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from paper_checks.claim import claim
from paper_checks.claims._common import exact_check
from paper_checks.claims.gillman2024 import (
    assumption_measurements,
    fixed_point_measurements,
    thm43_measurements,
    thm_a8_measurements,
)
from theory import (
    collapse_probability,
    replace_variance_moment,
    replace_variance_sf,
    suresh_bound,
)
from theory import correction as cr

PAPER = ("Bertrand et al. 2024, ICLR (arXiv 2310.00429), as restated by Gillman et al. 2024 "
         "(arXiv 2402.07087 v3)")


@claim(
    id="bertrand2024.prop4.fixed_point",
    paper=PAPER,
    statement="Prop. 4 (Gillman's Prop. A.6 at γ = 0): G_λ^∞(θ*) = θ* for every p_data and λ.",
    kind="equality",
    provenance="paper",
    method="as gillman2024.prop_a6.fixed_point with γ = 0: the exact Gaussian-class map with "
    "misspecified p_data (d = 1, 2, 3) to 16 ulps, the logistic location model to 1e-11; "
    "λ ∈ {0.2, 0.5, 1, 3}.",
)
def prop4(ctx):
    return fixed_point_measurements((0.0,))


@claim(
    id="bertrand2024.thm1.infinite_sample",
    paper=PAPER,
    statement=(
        "Infinite-sampling stability (Gillman's Theorem A.8 at γ = 0): if λ(1 + εL/α) < 1/2 "
        "then ‖∇G_λ^∞(θ*)‖ ≤ ρ(λ) = λ(α + εL)/(α − λ(α + εL)) < 1 and θ_t → θ* near θ*, "
        "‖θ_t − θ*‖ ≤ ρ(λ)^t‖θ₀ − θ*‖."
    ),
    kind="bound",
    provenance="paper",
    method="as gillman2024.thm_a8.contraction with γ = 0 (Gaussian class with ε = 0; logistic "
    "location model with a Gaussian-mixture p_data); plus the threshold: λ_max(0) = "
    "1/(2(1 + εL/α)) = 1/2 for εL = 0, and ρ(λ) < 1 exactly when λ(1 + εL/α) < 1/2. (An "
    "ICLR reviewer of the submitted version quoted λ up to 1/4: that version could not be "
    "checked.)",
)
def thm1(ctx):
    out = thm_a8_measurements((0.0,))
    out.append(exact_check("λ_max(γ=0) = 1/2 when εL = 0", 0.5, cr.lambda_max(0.0, 1.0, 0.0, 0.0),
                           rtol=0.0))
    for r in (0.0, 0.25, 1.0):
        lam_edge = 0.5 / (1.0 + r)
        below = cr.rho(lam_edge * (1 - 1e-9), 1.0, r, 1.0)
        above = cr.rho(min(lam_edge * (1 + 1e-9), 0.999 / (1.0 + r)), 1.0, r, 1.0)
        out.append(exact_check(f"εL/α={r:g}: ρ < 1 just below λ = 1/(2(1+εL/α))", 1.0, below,
                               rtol=0.0, sided="upper"))
        out.append(exact_check(f"εL/α={r:g}: ρ > 1 just above", 1.0, above, rtol=0.0,
                               sided="lower"))
    return out


@claim(
    id="bertrand2024.thm2.finite_sample",
    paper=PAPER,
    statement=(
        "Finite-sampling stability (Gillman's Theorem 4.3 at γ = 0): with probability ≥ 1 − δ, "
        "‖θ_tⁿ − θ*‖ ≤ (ε_OPT + (a/√n)√log(bt/δ))Σ_{i=0}^{t}ρ(λ)^i + ρ(λ)^t‖θ₀ⁿ − θ*‖ when "
        "λ(1 + εL/α) < 1/2."
    ),
    kind="bound",
    provenance="paper",
    method="as gillman2024.thm4.3 with γ = 0 (engine mean-only loop, n = 50, λ = 0.4 < 1/2, "
    "ρ = 2/3, δ = 0.1; τ_n fitted on γ = 0 one-step errors from the stream seed + 1).",
)
def thm2(ctx):
    return thm43_measurements(ctx, 0.0)


@claim(
    id="bertrand2024.assumption3",
    paper=PAPER,
    statement=(
        "Assumption 3 (Gillman's B.1): w.p. 1 − δ, ∀θ ∈ U: ‖G_λⁿ(θ) − G_λ^∞(θ)‖ ≤ "
        "ε_OPT + (a/√n)√log(b/δ)."
    ),
    kind="bound",
    provenance="paper",
    method="as gillman2024.assumption4.2.3 with γ = 0 (the one-step error of the uncorrected "
    "mean-only map does not depend on θ).",
)
def assumption3(ctx):
    return assumption_measurements(ctx, 0.0)


def alpha_mle(n):
    """E√(χ²_{n−1}/n) = √(2/n) Γ(n/2)/Γ((n−1)/2) (log-gamma, independent of theory.replace)."""
    return math.sqrt(2.0 / n) * math.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))


@claim(
    id="bertrand2024.warmup.collapse",
    paper=PAPER,
    statement=(
        "Gaussian warm-up (fully synthetic, 1-D, no real data): the MLE variance contracts in "
        "mean, E σ_t² = ((n−1)/n)^{t+1}σ₀², and E σ_t = α_MLE(n)^{t+1}σ₀ with "
        "α_MLE(n) = √(2/n)Γ(n/2)/Γ((n−1)/2) < 1, so σ_t → 0; with the unbiased estimator "
        "Suresh et al.'s bound (σ₀/ε)e^{−k/(4n−1)} holds. (Standard facts, reference notes "
        "§4.5; Bertrand's own warm-up statement could not be read.)"
    ),
    kind="limit",
    provenance="derived",
    method="exact, referencing the replace-loop theory (theory.replace, whose laws the "
    "kazdan2025.replace.mle, shumailov2024.* and suresh2024.* claims check against the engine "
    "by Monte Carlo): theory.replace_variance_moment (r = 1/2, 1; MLE; toolkit generation t "
    "has t + 1 fits) against α_MLE(n)^{t+1} and ((n−1)/n)^{t+1} from log-gamma (rtol 1e-12), "
    "α_MLE(10), α_MLE(50) against the notes' 0.92275, 0.98491 (5 decimals), the exact "
    "P(σ_t > σ₀/2) of the MLE loop → 0 (t = 30, 300, 3000), and Suresh's bound ≥ the exact "
    "collapse probability (unbiased, n = 10, ε = 0.1, k ∈ {50, 200, 800}).",
)
def warmup(ctx):
    out = []
    for n in (10, 50):
        a = alpha_mle(n)
        for t in (0, 10, 100):
            out.append(exact_check(f"n={n}, t={t}: E σ_t/σ₀ = α_MLE^{{t+1}}", a ** (t + 1),
                                   replace_variance_moment(t, n, 0.5, estimator="mle"),
                                   rtol=1e-12))
            out.append(exact_check(f"n={n}, t={t}: E σ_t²/σ₀² = ((n−1)/n)^{{t+1}}",
                                   ((n - 1) / n) ** (t + 1),
                                   replace_variance_moment(t, n, 1.0, estimator="mle"),
                                   rtol=1e-12))
    out.append(exact_check("α_MLE(10) vs notes 0.92275", 0.92275, alpha_mle(10), rtol=0.0,
                           atol=5e-6))
    out.append(exact_check("α_MLE(50) vs notes 0.98491", 0.98491, alpha_mle(50), rtol=0.0,
                           atol=5e-6))
    probs = [float(replace_variance_sf(0.25, t, 10, estimator="mle")) for t in (30, 300, 3000)]
    out.append(exact_check("MLE, n=10: P(σ_t > σ₀/2) decreases over t = 30, 300, 3000",
                           float(np.finfo(float).tiny), min(probs[0] - probs[1],
                                                            probs[1] - probs[2]), sided="lower"))
    out.append(exact_check("MLE, n=10: P(σ_3000 > σ₀/2) < 1e-6 (collapse)", 1e-6, probs[2],
                           rtol=0.0, sided="upper"))
    for k in (50, 200, 800):
        out.append(exact_check(f"unbiased, n=10, k={k}: exact P(σ_k > 0.1) ≤ Suresh bound",
                               float(suresh_bound(k, 10, 0.1)),
                               float(collapse_probability(k, 10, 0.1)), rtol=1e-9, atol=1e-12,
                               sided="upper"))
    return out
