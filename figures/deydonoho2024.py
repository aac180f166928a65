"""Dey & Donoho 2024, "Universality of the π²/6 Pathway in Avoiding Model Collapse"
(arXiv 2410.22812): risk ratio after g fits for the three workflows.

Theory (theory.universality, Gaussian-process limit of any asymptotically linear estimator):
augment Σ_{k≤g} 1/k² ↑ π²/6, discard g, subsample v_g = 3Σ_{k≤g} 1/k² − 2 ↑ π²/2 − 2.
Monte Carlo: the toolkit's engine on the known-covariance Gaussian location model
(``model="gaussian_mean"``, d = 1, n = 20, mean fitted), where augment and discard are exact
at every n ((tr Σ₀/n)Σ1/k² and g·tr Σ₀/n) and subsample follows the exact finite-n recursion
of theory.subsample (which tends to v_g as n → ∞). The ratio is E(μ_g − μ₀)² / (σ₀²/n).
The authors' own figure is the ggplot ``model_collapse_pisquareplot.png`` of their R code
(G = 100 generations, median fit); its number in the paper is not verified.
"""

from __future__ import annotations

import math
import os

import numpy as np

from figures._registry import PALETTE, caption, figure, save, style, write_csv
from simulations import LoopSpec, run
from theory import (
    accumulate_subsample_mean_error2_known_cov,
    augment_risk_limit,
    augment_risk_ratio,
    discard_risk_ratio,
    subsample_risk_limit,
    subsample_risk_ratio,
)

NAME = "deydonoho2024_universality"
N, FITS = 20, 50
WORKFLOWS = {"augment": "accumulate", "discard": "replace", "subsample": "accumulate_subsample"}


@figure(NAME)
def main(quick: bool, out: str) -> list[str]:
    plt = style()
    reps = 2_000 if quick else 20_000
    g = np.arange(1, FITS + 1)
    theory = {
        "augment": np.asarray(augment_risk_ratio(g)),
        "discard": np.asarray(discard_risk_ratio(g)),
        "subsample": np.asarray(subsample_risk_ratio(g)),
    }
    subsample_finite = accumulate_subsample_mean_error2_known_cov(FITS - 1, N, 1.0) * N
    mc = {}
    for workflow, policy in WORKFLOWS.items():
        traj = run(LoopSpec(dim=1, n_real=N, data=policy, model="gaussian_mean",
                            generations=FITS - 1, replicates=reps), seed=0)
        mean, se = traj.mean_and_se("mean_error2")
        mc[workflow] = (mean * N, se * N)

    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    colours = {"augment": PALETTE[0], "discard": PALETTE[1], "subsample": PALETTE[2]}
    shown = np.unique(np.concatenate([g[:5], g[4::5]])) - 1  # g = 1..5, then every 5th
    for workflow, colour in colours.items():
        ax.plot(g, theory[workflow], color=colour, lw=1.8,
                label=f"{workflow}: Gaussian-process limit")
        mean, se = mc[workflow]
        ax.errorbar(g[shown], mean[shown], yerr=2 * se[shown], fmt="o", ms=4, color=colour,
                    capsize=2, label=f"{workflow}: Monte Carlo mean ± 2 SE")
    ax.plot(g, subsample_finite, color=colours["subsample"], ls=":", lw=1.5,
            label=f"subsample: exact at n = {N}")
    ax.axhline(augment_risk_limit(), color="black", ls="--", lw=1,
               label=f"π²/6 = {augment_risk_limit():.4f}")
    ax.axhline(subsample_risk_limit(), color="grey", ls="-.", lw=1,
               label=f"π²/2 − 2 = {subsample_risk_limit():.4f}")
    ax.set_yscale("log")
    ax.set_xlabel("number of fits g (g = 1: fit on the n real points)")
    ax.set_ylabel(r"risk ratio $\mathrm{E}(\hat\theta_g-\theta)^2\,/\,\mathrm{E}(\hat\theta_1-"
                  r"\theta)^2$")
    ax.set_title("Dey & Donoho 2024: the π²/6 pathway (augment), discard ∝ g, subsample plateau")
    ax.legend(fontsize=7.5, loc="center right", ncol=2, framealpha=0.9)
    caption(fig, (
        "Risk ratios of the three workflows of Dey & Donoho 2024 (arXiv 2410.22812; cf. the "
        "π²/6 plot of their R code, figure number in the paper not verified). Lines: the "
        "Gaussian-process limit (theory.universality). Points: the engine on the "
        f"known-covariance Gaussian location model, d = 1, n = {N}, Monte Carlo mean ± 2 "
        f"standard errors over R = {reps} replicates; dotted: the exact finite-n "
        "subsample recursion (theory.subsample), which approaches the limit like 1/n."
    ), width=120)
    files = save(fig, out, NAME)
    columns = {"fits_g": g.tolist()}
    for workflow in WORKFLOWS:
        columns[f"{workflow}_limit"] = theory[workflow].tolist()
        columns[f"{workflow}_mc_mean"] = mc[workflow][0].tolist()
        columns[f"{workflow}_mc_se"] = mc[workflow][1].tolist()
    columns["subsample_exact_finite_n"] = subsample_finite.tolist()
    columns["pi2_over_6"] = [math.pi**2 / 6] * FITS
    columns["pi2_over_2_minus_2"] = [math.pi**2 / 2 - 2] * FITS
    files.append(write_csv(os.path.join(out, f"{NAME}.csv"), columns))
    return files
