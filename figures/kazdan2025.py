"""Kazdan et al. 2025 ("Collapse or Thrive?", ICML 2025) and Gerstgrasser et al. 2024 (COLM):
replace versus accumulate for the multivariate Gaussian fitted by maximum likelihood.

Setting of the authors' code (``fit_gaussians.py``: μ₀ = 0, Σ₀ = I_d, ``np.cov(bias=True)``,
n new points per iteration), here d = 3, n = 100, 100 generations after the real-data fit.
Generation 0 is their iteration 1. Exact expectations (theory.replace, theory.accumulate):

* replace: E Σ_t = ((n−1)/n)^{t+1} Σ₀ and E‖μ_t − μ₀‖² = tr Σ₀[1 − ((n−1)/n)^{t+1}] ↑ tr Σ₀;
* accumulate: E Σ_t = Σ₀ ∏_{k=1}^{t+1}(1 − 1/(nk²)) ↓ Σ₀ sin(π/√n)/(π/√n) and
  E‖μ_t − μ₀‖² = (tr Σ₀/n) Σ_{k=1}^{t+1} k⁻² ∏_{j<k}(1 − 1/(nj²)) ≤ (π²/6) tr Σ₀/n.

n = 100 keeps the Monte Carlo means honest: under replace, log(Σ_t,ii/Σ₀,ii) has variance
(t+1)ψ'((n−1)/2) ≈ 2 at t = 100, so the relative variance of the trace ratio stays below
(1 + 2/(n−1))^{101} − 1 ≈ 6.5 and its sample mean over ≥ 1000 replicates obeys the CLT (at
n = 10 the same mean would be dominated by rare paths, DESIGN.md §5).
"""

from __future__ import annotations

import os

import numpy as np

from figures._registry import PALETTE, caption, figure, mean_band, save, style, write_csv
from simulations import LoopSpec, run
from theory import (
    accumulate_cov_factor,
    accumulate_cov_limit,
    accumulate_mean_error2,
    accumulate_mean_error2_bound,
    replace_expected_cov,
    replace_mean_error2,
)

NAME = "kazdan2025_replace_accumulate"
DIM, N, T = 3, 100, 100


def exact_curves(ts, n: int = N, dim: int = DIM) -> dict[str, np.ndarray]:
    """Exact E tr Σ_t/tr Σ₀ and E‖μ_t − μ₀‖² (Σ₀ = I_dim) for replace and accumulate, MLE."""
    tr0 = float(dim)
    return {
        "replace_trace": np.asarray(replace_expected_cov(ts, n, 1.0, estimator="mle")),
        "accumulate_trace": np.asarray(accumulate_cov_factor(ts, n, estimator="mle")),
        "replace_mean_error2": np.asarray(replace_mean_error2(ts, n, tr0, estimator="mle")),
        "accumulate_mean_error2": np.asarray(accumulate_mean_error2(ts, n, tr0, estimator="mle")),
    }


@figure(NAME, papers=("kazdan2025", "gerstgrasser2024"))
def main(quick: bool, out: str) -> list[str]:
    plt = style()
    reps = 1_000 if quick else 10_000
    ts = np.arange(T + 1)
    tr0 = float(DIM)
    exact = exact_curves(ts)
    mc = {}
    for policy in ("replace", "accumulate"):
        traj = run(LoopSpec(dim=DIM, n_real=N, data=policy, estimator="mle", generations=T,
                            replicates=reps), seed=0)
        mc[f"{policy}_trace"] = traj.mean_and_se("trace_ratio")
        mc[f"{policy}_mean_error2"] = traj.mean_and_se("mean_error2")
    limit = accumulate_cov_limit(N)
    bound = accumulate_mean_error2_bound(N, tr0)

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.8))
    colours = {"replace": PALETTE[1], "accumulate": PALETTE[0]}
    for ax, qty in ((a, "trace"), (b, "mean_error2")):
        for policy, colour in colours.items():
            key = f"{policy}_{qty}"
            mean_band(ax, ts, *mc[key], color=colour, label=policy)
            ax.plot(ts, exact[key], color=colour, lw=1.8, label=f"{policy}, exact")
        ax.set_xlabel("generation t (t = 0: fit on the n real points)")
    a.axhline(limit, color="black", ls="--", lw=1,
              label=f"accumulate limit sin(π/√n)/(π/√n) = {limit:.4f}")
    a.set_ylabel(r"$\mathrm{E}\,\mathrm{tr}\,\Sigma_t\,/\,\mathrm{tr}\,\Sigma_0$")
    a.set_title("(a) covariance: replace collapses, accumulate does not")
    a.set_ylim(0, 1.05)
    b.axhline(bound, color="black", ls="--", lw=1,
              label=f"(π²/6)·tr Σ₀/n = {bound:.4f} (accumulate bound)")
    b.axhline(tr0, color="grey", ls=":", lw=1, label=f"tr Σ₀ = {tr0:g} (replace limit)")
    b.set_yscale("log")
    b.set_ylabel(r"$\mathrm{E}\,\|\mu_t - \mu_0\|^2$")
    b.set_title("(b) mean error: bounded by π²/6 under accumulate")
    for ax in (a, b):
        ax.legend(loc="best", fontsize=8)
    fig.suptitle("Kazdan et al. 2025 (with Gerstgrasser et al. 2024): replace vs accumulate, "
                 f"Gaussian MLE, d = {DIM}, n = {N}", fontsize=11)
    caption(fig, (
        "Reproduces the multivariate-Gaussian replace/accumulate experiment of Kazdan et al. "
        "2025 (their fit_gaussians.py, Σ₀ = I, MLE covariance; the paper's figure number is not "
        "verified in the reference notes). Lines: exact expectations (theory.replace, "
        "theory.accumulate). Bands: Monte Carlo mean ± 2 standard errors over "
        f"R = {reps} replicates (pointwise, ≈95 %). Dashed: sin(π/√n)/(π/√n) limit of the "
        "accumulated covariance and the (π²/6)·tr Σ₀/n bound on the accumulated mean error."
    ))
    files = save(fig, out, NAME)
    columns = {"generation": ts.tolist()}
    for key in exact:
        columns[f"{key}_mc_mean"] = mc[key][0].tolist()
        columns[f"{key}_mc_se"] = mc[key][1].tolist()
        columns[f"{key}_exact"] = exact[key].tolist()
    columns["accumulate_trace_limit"] = [limit] * len(ts)
    columns["accumulate_mean_error2_bound"] = [bound] * len(ts)
    files.append(write_csv(os.path.join(out, f"{NAME}.csv"), columns))
    return files
