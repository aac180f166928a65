"""Suresh, Thangaraj & Khandavally 2024 ("Rate of Model Collapse in Recursive Training", arXiv
2412.17646), Theorem 3: the probability that the fitted scale of the 1-D Gaussian replace loop
(unbiased σ̂, n points per fit) has not collapsed below ε after k fits.

Exact: σ_k²/σ₀² = ∏_{j≤k} χ²_{n−1,j}/(n−1), so P(σ_k > ε) is the tail of a sum of k log-χ²
variables (theory.collapse_probability). Bounds: Suresh et al.'s Theorem 3
(σ₀/ε)·exp(−k/(4n − 1)); Markov on E σ_k = α(n)^k σ₀ (Bertrand et al. 2024); Markov on
σ_k^{0.7}, (σ₀/ε)^{0.7} m_{0.35}^k, the sharper curve of the authors' notebook. Panel (a) is the
setting of the notebook's collapse-probability plot (n = 10, ε = 0.1σ₀, 200 generations,
Monte Carlo paths; berserank/rate-of-model-collapse); panel (b) n = 100 against k/n, exact
and bounds only. Here k counts fits (k = 1 is the real-data fit, toolkit generation k − 1).
"""

from __future__ import annotations

import os

import numpy as np

from figures._registry import PALETTE, caption, figure, save, style, write_csv
from simulations import LoopSpec, run
from theory import (
    bertrand_markov_bound,
    collapse_probability,
    fractional_markov_bound,
    suresh_bound,
)

NAME = "suresh2024_collapse_probability"
EPS = 0.1
N_MC, K_MC = 10, 200
N_WIDE, KN_WIDE = 100, 40


def wilson_interval(hits, total, z: float = 2.0):
    """Wilson score interval for a binomial proportion (z = 2: ≈95.4 % coverage)."""
    hits = np.asarray(hits, dtype=float)
    p = hits / total
    centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    return centre - half, centre + half


def curves(k, n: int, eps: float = EPS) -> dict[str, np.ndarray]:
    """Exact probability and the three bounds at fits ``k``."""
    return {
        "exact": np.asarray(collapse_probability(k, n, eps)),
        "suresh_thm3": np.asarray(suresh_bound(k, n, eps)),
        "markov_alpha": np.asarray(bertrand_markov_bound(k, n, eps)),
        "markov_r035": np.asarray(fractional_markov_bound(k, n, eps)),
    }


def _panel(ax, x, c):
    styles = {
        "suresh_thm3": (r"Suresh et al. Thm 3: $(\sigma_0/\varepsilon)\,e^{-k/(4n-1)}$",
                        PALETTE[1], "--"),
        "markov_alpha": (r"Markov on $\mathrm{E}\,\sigma_k$: $(\sigma_0/\varepsilon)\,"
                         r"\alpha(n)^k$", PALETTE[2], "-."),
        "markov_r035": (r"Markov on $\sigma_k^{0.7}$: $(\sigma_0/\varepsilon)^{0.7}\,"
                        r"m_{0.35}^k$", PALETTE[3], ":"),
    }
    ax.plot(x, c["exact"], color=PALETTE[0], lw=2.2, label=r"exact $P(\sigma_k>\varepsilon)$")
    for key, (label, colour, ls) in styles.items():
        ax.plot(x, c[key], color=colour, ls=ls, lw=1.6, label=label)
    ax.axhspan(1.0, 1e3, color="grey", alpha=0.12, lw=0)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 30)
    ax.set_ylabel(r"$P(\sigma_k > \varepsilon)$")


@figure(NAME)
def main(quick: bool, out: str) -> list[str]:
    plt = style()
    reps = 2_000 if quick else 20_000
    k = np.arange(1, K_MC + 1)
    small = curves(k, N_MC)
    traj = run(LoopSpec(dim=1, n_real=N_MC, data="replace", estimator="unbiased",
                        generations=K_MC - 1, replicates=reps), seed=0)
    hits = (np.sqrt(traj.metric("variance")) > EPS).sum(axis=0)  # fit k = generation k − 1
    lo, hi = wilson_interval(hits, reps)
    k_wide = np.unique(np.round(np.geomspace(1, KN_WIDE * N_WIDE, 120)).astype(int))
    wide = curves(k_wide, N_WIDE)

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5))
    _panel(a, k, small)
    shown = np.arange(4, K_MC, 10)  # k = 5, 15, …
    frac = hits[shown] / reps
    a.errorbar(k[shown], np.where(frac > 0, frac, np.nan),
               yerr=[np.where(frac > 0, frac - lo[shown], 0), hi[shown] - frac],
               fmt="o", ms=4, color="black", capsize=2,
               label="Monte Carlo fraction, 95 % Wilson interval")
    a.set_xlabel("fits k (k = 1: fit on the n real points)")
    a.set_title(f"(a) n = {N_MC}, ε = {EPS:g}σ₀ (the authors' notebook setting)")
    a.legend(fontsize=7.5, loc="lower left")
    _panel(b, k_wide / N_WIDE, wide)
    b.set_xlabel("fits per point, k/n")
    b.set_title(f"(b) n = {N_WIDE}, ε = {EPS:g}σ₀: all decay like " + r"$e^{-c\,k/n}$")
    b.text(0.98, 0.97, "above 1: trivial", transform=b.transAxes, ha="right", va="top",
           fontsize=8, color="grey")
    fig.suptitle("Suresh, Thangaraj & Khandavally 2024, Theorem 3: collapse probability of the "
                 "unbiased 1-D Gaussian replace loop", fontsize=11)
    caption(fig, (
        "Suresh et al. 2024 (arXiv 2412.17646), Theorem 3, in the setting of the "
        "collapse-probability plot of their notebook (figure number in the paper not verified). "
        "Blue: exact P(σ_k > ε) from the product-of-χ² law (theory.collapse_probability). "
        "Dashed and dotted: the bounds (all three hold; a bound ≥ 1, grey region, is trivial). "
        f"Points: the engine, fraction of R = {reps} replicates with σ_k > ε at k = 5, 15, …, "
        "with 95 % Wilson score intervals (z = 2); a zero fraction is not drawn on the log axis."
    ), width=150)
    files = save(fig, out, NAME)
    columns = {"k": k.tolist(), "n": [N_MC] * len(k)}
    columns.update({key: v.tolist() for key, v in small.items()})
    columns["mc_fraction"] = (hits / reps).tolist()
    columns["mc_wilson_low"] = lo.tolist()
    columns["mc_wilson_high"] = hi.tolist()
    files.append(write_csv(os.path.join(out, f"{NAME}.csv"), columns))
    wide_cols = {"k": k_wide.tolist(), "n": [N_WIDE] * len(k_wide)}
    wide_cols.update({key: v.tolist() for key, v in wide.items()})
    files.append(write_csv(os.path.join(out, f"{NAME}_n{N_WIDE}.csv"), wide_cols))
    return files
