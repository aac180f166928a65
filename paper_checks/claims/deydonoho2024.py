"""Dey & Donoho 2024, "Universality of the π²/6 Pathway in Avoiding Model Collapse"
(arXiv 2410.22812): augment (accumulate) keeps the risk within π²/6 of the real-data risk,
discard (replace) grows without bound, and the subsample workflow plateaus at π²/2 − 2.

Checked with the known-covariance Gaussian model (only the mean is fitted), where the
finite-n laws are exact: the risk ratio is E‖μ_t − μ₀‖² / (tr Σ₀/n) at generation t, i.e.
after g = t + 1 fits.
"""

from __future__ import annotations

import numpy as np

from paper_checks.claim import Control, claim
from paper_checks.claims._common import exact_check, mean_check, simulate
from theory import (
    accumulate_mean_error2_known_cov,
    accumulate_subsample_mean_error2_known_cov,
    augment_risk_limit,
    augment_risk_ratio,
    discard_risk_ratio,
    subsample_risk_limit,
    subsample_risk_ratio,
)
from theory.derivations import get_derivation

PAPER = "Dey & Donoho 2024 (arXiv 2410.22812)"
COV0 = np.array([[1.0, 0.3], [0.3, 0.6]])
SYN_SCALE = 1.25  # synthetic-variance factor of the controls


@claim(
    id="deydonoho2024.augment.pi2_over_6",
    paper=PAPER,
    statement=(
        "Augment (accumulate n synthetic points per generation): the risk after g fits is "
        "Σ_{k=1}^{g} 1/k² times the real-data risk, never above π²/6; discard (replace) "
        "multiplies it by g."
    ),
    kind="bound",
    provenance="paper",
    method="known-covariance Gaussian model, d = 2, n = 20: mean risk ratio with SE at "
    "g ∈ {2, 10, 50} against Σ1/k² (two-sided) and against π²/6 (one-sided at g = 50); "
    "discard at g = 10 against g.",
    source="Dey & Donoho 2024 (arXiv 2410.22812 v1), abstract (the π²/6 bound for augment, "
    "unbounded growth for discard); Σ_{k≤g} 1/k² is the mechanism derived in the notes "
    "(collapse_literature.md §5, tagged [derived+MC])",
    exact_statement="not quoted: only the abstract/TL;DR was read for the notes; they "
    "paraphrase it (tagged [read abstract]): under augment, the risk at every generation is "
    "at most (π²/6) times the risk of training on the real data alone (asymptotic relative "
    "efficiency ≥ 6/π²), over exponential families with asymptotically linear estimators; "
    "under discard the risk grows without bound. The exact Σ_{k≤g}1/k² is not quoted.",
    scope="one model (known-covariance Gaussian mean, d = 2, n = 20, n synthetic points per "
    "generation), where the finite-n law is exact; the paper's statement is asymptotic "
    "(n → ∞) over a broad class of estimators; the bound is checked at g = 50 only and "
    "holds with slack ≈ π²/6 / Σ_{k≤50}1/k² ≈ 1.01, so the power is in the two-sided "
    "Σ1/k² comparisons. An off-by-one generation is visible only at g = 2 and in the "
    "discard ratio (Σ1/k² moves by < 1% beyond g = 10).",
    controls=(
        Control("off_by_one_generation", "every prediction taken at g + 1 fits (Σ_{k≤g+1}1/k², "
                "discard g + 1): the toolkit's generation index read as the number of fits"),
        Control("synthetic_variance_scaled", f"the synthetic points drawn with variance "
                f"×{SYN_SCALE:g} (temperature {SYN_SCALE:g}) in both loops"),
    ),
)
def pi2_over_6(ctx):
    n, t = 20, 49
    tr0 = float(np.trace(COV0))
    reps = ctx.size(60_000, 10_000)
    tau = SYN_SCALE if ctx.control == "synthetic_variance_scaled" else 1.0
    dg = 1 if ctx.control == "off_by_one_generation" else 0
    acc = simulate(ctx, dim=2, n_real=n, data="accumulate", model="gaussian_mean",
                   temperature=tau, generations=t, replicates=reps, truth=(np.zeros(2), COV0))
    ratio = acc.metric("mean_error2") / (tr0 / n)
    out = [mean_check(f"augment ratio, g={g}", ratio[:, g - 1], augment_risk_ratio(g + dg))
           for g in (2, 10, 50)]
    known = np.ravel(accumulate_mean_error2_known_cov(49, n, tr0))[-1]
    out.append(exact_check("theory: known-cov accumulate = Σ1/k², g=50", augment_risk_ratio(50),
                           known / (tr0 / n)))
    out.append(mean_check("augment ratio ≤ π²/6, g=50", ratio[:, 49], augment_risk_limit(),
                          sided="upper"))
    rep = simulate(ctx, dim=2, n_real=n, data="replace", model="gaussian_mean",
                   temperature=tau, generations=9, replicates=reps, truth=(np.zeros(2), COV0))
    r_ratio = rep.metric("mean_error2") / (tr0 / n)
    out.append(mean_check("discard ratio, g=10", r_ratio[:, 9], discard_risk_ratio(10 + dg)))
    return out


@claim(
    id="deydonoho2024.subsample.plateau",
    paper=PAPER,
    statement=(
        "Subsample workflow (fit on n points drawn without replacement from the growing pool): "
        "the risk ratio plateaus. In the Gaussian-process limit v_g = p_g + 1 − 1/g with "
        "p_g = p_{g−1} + (2 − 1/(g−1))/g², p_1 = 1, so v_g ↑ π²/2 − 2 ≈ 2.935; at finite n the "
        "exact known-covariance recursion (theory.subsample) holds and tends to v_g."
    ),
    kind="limit",
    provenance="derived",
    method="engine (known-covariance model, d = 2, n = 10) against the exact finite-n "
    "recursion at g ∈ {2, 10, 30} (mean with SE); exact: the finite-n recursion approaches "
    "v_g like 1/n (slope of log|gap| on log n over n = 10⁴…10⁶ is −1; the next-order term "
    "moves it by O(1/n) ≤ 1e-3); the limit of the recursion, derived by sympy "
    "(theory.derivations 'subsample_risk': partial fractions, summation, limit), "
    "is π²/2 − 2.",
    source="derived; the subsample workflow of Dey & Donoho 2024 (arXiv 2410.22812 v1) and "
    "its Gaussian-process framework; the recursion and its limit π²/2 − 2 are the notes' new "
    "closed form (collapse_literature.md §5, tagged [derived+MC], checked there against a "
    "port of the authors' R code apd1995/model_collapse_universality)",
    exact_statement="not stated in the paper (only its abstract was read; the notes "
    "paraphrase it: any workflow, not only discard or augment, can be compared by simulating "
    "a simple Gaussian process)",
    scope="one model (known-covariance Gaussian mean, d = 2, n = 10, n points per "
    "generation) at g ∈ {2, 10, 30} against the exact finite-n recursion; the Gaussian-"
    "process limit v_g and π²/2 − 2 are checked as exact algebra (slope −1 of the finite-n "
    "gap, sympy limit), not by simulation. At n = 10 the finite-n values differ from the "
    "GP limit by ≈ 2.5% at g = 30, below this claim's Monte Carlo resolution (≈ 6.5% quick).",
    controls=(
        Control("off_by_one_generation", "the recursion read at g + 1 fits (the toolkit's "
                "generation index taken as the number of fits)"),
        Control("synthetic_variance_scaled", f"the synthetic points drawn with variance "
                f"×{SYN_SCALE:g} (temperature {SYN_SCALE:g})"),
    ),
)
def subsample_plateau(ctx):
    n, t = 10, 29
    tr0 = float(np.trace(COV0))
    tau = SYN_SCALE if ctx.control == "synthetic_variance_scaled" else 1.0
    dg = 1 if ctx.control == "off_by_one_generation" else 0
    traj = simulate(ctx, dim=2, n_real=n, data="accumulate_subsample", model="gaussian_mean",
                    temperature=tau, generations=t, replicates=ctx.size(40_000, 8_000),
                    truth=(np.zeros(2), COV0))
    exact = accumulate_subsample_mean_error2_known_cov(t + dg, n, tr0)
    err = traj.metric("mean_error2")
    out = [mean_check(f"E‖μ−μ₀‖², g={g}", err[:, g - 1], exact[g - 1 + dg])
           for g in (2, 10, 30)]
    ns = np.array([10**4, 10**5, 10**6])
    gaps = [abs(accumulate_subsample_mean_error2_known_cov(29, int(m), 1.0)[-1] * m
                - subsample_risk_ratio(30)) for m in ns]
    slope = np.polyfit(np.log(ns), np.log(gaps), 1)[0]
    out.append(exact_check("finite-n → GP limit: slope of log gap on log n", -1.0, slope,
                           atol=1e-3))
    limit = float(get_derivation("subsample_risk").limit)  # sympy: recursion → sum → limit
    out.append(exact_check("sympy derivation: lim v_g = π²/2 − 2",
                           subsample_risk_limit(), limit, rtol=1e-12))
    return out
