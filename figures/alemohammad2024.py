"""Alemohammad et al. 2024 ("Self-Consuming Generative Models Go MAD", ICLR 2024): the
fresh-data loop's effective sample size over (n_real, n_synthetic), the analogue of their
Fig. 11 (heat maps of n_e/n_r over n_r and n_s for λ ∈ {0.7, 0.85, 1}; their λ is the
toolkit's temperature τ).

Each generation pools n_r fresh real points with n_s points from N(μ̂, τΣ̂) and refits the
unbiased moments. M_t = E‖μ̂_t − μ₀‖² and C_t = tr EΣ̂_t follow an affine recursion whose
fixed point (M*, C*) is a 2×2 solve (theory.fresh_fixed_point, derived). Here the effective
sample size is defined through the mean: a fit on n_e fresh real points has E‖μ̂ − μ₀‖² =
tr Σ₀/n_e, so n_e = tr Σ₀/M*. MAD define n_e through W₂ (FID), which also sees the
covariance; the lower row therefore shows what the mean-based n_e hides, the retained
diversity C*/tr Σ₀. Both ratios are free of d and Σ₀ (the recursion is linear in tr Σ₀).
The cell (n_r, n_s) = (10, 100) of each panel is checked by the engine (d = 2, T = 100
generations, where the recursion is within 3e-6 relative of its fixed point).
"""

from __future__ import annotations

import os

import numpy as np

from figures._registry import CMAP, caption, figure, save, style, write_csv
from simulations import LoopSpec, run
from theory import fresh_fixed_point, fresh_moments

NAME = "alemohammad2024_fresh_heatmap"
TEMPERATURES = (1.0, 0.85, 0.7)
N_REAL = np.unique(np.round(np.geomspace(10, 1000, 13)).astype(int))
N_SYNTHETIC = np.unique(np.round(np.geomspace(10, 10_000, 16)).astype(int))
# (n_r, n_s) checked by Monte Carlo at every τ (one compiled shape: the temperature is traced).
CHECK_CELLS = ((10, 100),)
T_CHECK = 100


def fixed_point_grid(temperature: float, n_real=N_REAL, n_synthetic=N_SYNTHETIC):
    """``(n_e/n_r, C*/tr Σ₀)`` on the grid, arrays of shape ``(len(n_synthetic), len(n_real))``."""
    ratio = np.empty((len(n_synthetic), len(n_real)))
    keep = np.empty_like(ratio)
    for i, ns in enumerate(n_synthetic):
        for j, nr in enumerate(n_real):
            m, c = fresh_fixed_point(int(nr), int(ns), 1.0, estimator="unbiased",
                                     temperature=temperature)
            ratio[i, j] = 1.0 / (nr * m)
            keep[i, j] = c
    return ratio, keep


def _edges(values):
    """Cell edges on a log axis: geometric midpoints, extended by half a step at the ends."""
    logs = np.log(values.astype(float))
    mid = 0.5 * (logs[1:] + logs[:-1])
    return np.exp(np.concatenate([[2 * logs[0] - mid[0]], mid, [2 * logs[-1] - mid[-1]]]))


def _monte_carlo(cell, temperature, reps):
    """Engine estimate of (n_e/n_r, C/trΣ₀) at T_CHECK with standard errors (delta method)."""
    nr, ns = cell
    traj = run(LoopSpec(dim=2, n_real=nr, n_synthetic=ns, data="fresh", estimator="unbiased",
                        temperature=temperature, generations=T_CHECK, replicates=reps), seed=0)
    err = traj.metric("mean_error2")[:, -1] / 2.0  # tr Σ₀ = 2 (Σ₀ = I₂)
    tr = traj.metric("trace_ratio")[:, -1]
    m, se_m = err.mean(), err.std(ddof=1) / np.sqrt(reps)
    ratio, se_ratio = 1.0 / (nr * m), se_m / (nr * m**2)
    exact_m, exact_c = fresh_moments(T_CHECK, nr, ns, 1.0, estimator="unbiased",
                                     temperature=temperature)
    return {"ratio": ratio, "ratio_se": se_ratio, "keep": tr.mean(),
            "keep_se": tr.std(ddof=1) / np.sqrt(reps), "ratio_exact_T": 1.0 / (nr * exact_m),
            "keep_exact_T": exact_c}


@figure(NAME)
def main(quick: bool, out: str) -> list[str]:
    plt = style()
    from matplotlib.colors import LogNorm, Normalize

    reps = 1_000 if quick else 10_000
    grids = {tau: fixed_point_grid(tau) for tau in TEMPERATURES}
    checks = {(tau, cell): _monte_carlo(cell, tau, reps)
              for tau in TEMPERATURES for cell in CHECK_CELLS}
    ratio_all = np.concatenate([g[0].ravel() for g in grids.values()])
    keep_all = np.concatenate([g[1].ravel() for g in grids.values()])
    norms = (LogNorm(1.0, ratio_all.max()), Normalize(keep_all.min(), keep_all.max()))
    xe, ye = _edges(N_REAL), _edges(N_SYNTHETIC)

    fig, axes = plt.subplots(2, len(TEMPERATURES), figsize=(13, 8.4), sharex=True, sharey=True)
    fig.subplots_adjust(left=0.07, right=0.88, top=0.91, bottom=0.17, wspace=0.08, hspace=0.12)
    levels = ((1.25, 1.5, 1.75, 2, 3, 5, 8), (0.3, 0.5, 0.7, 0.9, 1.0))
    meshes = [None, None]
    for col, tau in enumerate(TEMPERATURES):
        for row, (values, norm) in enumerate(zip(grids[tau], norms, strict=True)):
            ax = axes[row, col]
            meshes[row] = ax.pcolormesh(xe, ye, values, cmap=CMAP, norm=norm, shading="flat",
                                        rasterized=True)
            lines = ax.contour(N_REAL, N_SYNTHETIC, values, levels=levels[row], colors="white",
                               linewidths=0.7)
            ax.clabel(lines, fontsize=7, fmt="%g")
            ax.set_xscale("log")
            ax.set_yscale("log")
            key = ("ratio", "keep")[row]
            for cell in CHECK_CELLS:
                res = checks[(tau, cell)]
                ax.plot(*cell, "o", mfc="none", mec="white", mew=1.5, ms=9)
                ax.annotate(f"MC {res[key]:.3g} ± {2 * res[key + '_se']:.2g}\n"
                            f"exact {res[key + '_exact_T']:.3g}", cell,
                            xytext=(7, 7), textcoords="offset points", fontsize=7,
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none",
                                      alpha=0.85))
            if row == 0:
                ax.set_title(f"τ = {tau:g}" + (" (unbiased sampling)" if tau == 1 else ""))
            else:
                ax.set_xlabel(r"fresh real points per generation $n_r$")
            if col == 0:
                ax.set_ylabel(r"synthetic points per generation $n_s$")
    labels = (r"$n_e/n_r$ with $n_e = \mathrm{tr}\,\Sigma_0 / M^*$",
              r"$C^*/\mathrm{tr}\,\Sigma_0$ (retained diversity)")
    for row in range(2):
        box = axes[row, -1].get_position()
        cax = fig.add_axes((0.9, box.y0, 0.013, box.height))
        fig.colorbar(meshes[row], cax=cax, label=labels[row])
    fig.suptitle("Alemohammad et al. 2024 (MAD), fresh-data loop: effective sample size and "
                 "diversity at the fixed point (cf. their Fig. 11)", fontsize=11)
    caption(fig, (
        "Alemohammad et al. 2024, ICLR, fresh-data Gaussian loop (analogue of Fig. 11; their λ "
        "is the temperature τ). Colour: exact fixed point of the moment recursion "
        "(theory.fresh_fixed_point, derived), unbiased moments; top n_e/n_r with n_e defined "
        "by the mean error (MAD use W₂), bottom tr EΣ*/tr Σ₀. Circle: engine check at "
        f"generation {T_CHECK} (d = 2, R = {reps} replicates): Monte Carlo value ± 2 standard "
        "errors (delta method for n_e/n_r) beside the exact value of the recursion at that "
        "generation."
    ), width=170, tight=False)
    files = save(fig, out, NAME)
    columns = {"temperature": [], "n_real": [], "n_synthetic": [], "ne_over_nr": [],
               "C_star_over_tr0": []}
    for tau, (ratio, keep) in grids.items():
        for i, ns in enumerate(N_SYNTHETIC):
            for j, nr in enumerate(N_REAL):
                columns["temperature"].append(tau)
                columns["n_real"].append(int(nr))
                columns["n_synthetic"].append(int(ns))
                columns["ne_over_nr"].append(ratio[i, j])
                columns["C_star_over_tr0"].append(keep[i, j])
    files.append(write_csv(os.path.join(out, f"{NAME}.csv"), columns))
    check_cols = {"temperature": [], "n_real": [], "n_synthetic": []}
    for (tau, cell), res in checks.items():
        check_cols["temperature"].append(tau)
        check_cols["n_real"].append(cell[0])
        check_cols["n_synthetic"].append(cell[1])
        for key, value in res.items():
            check_cols.setdefault(key, []).append(float(value))
    files.append(write_csv(os.path.join(out, f"{NAME}_checks.csv"), check_cols))
    return files
