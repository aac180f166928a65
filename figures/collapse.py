"""Shumailov et al. 2024, Theorem 3.1: variance collapse of the unbiased 1-D replace loop.

Left: quantiles of σ_t²/σ₀² over replicates (Monte Carlo) against the exact product-of-χ²
law (median and 5–95 % band) and the martingale mean E σ_t² = σ₀². Right: E W₂² with its
Monte Carlo standard-error band against σ₀²((t+1)/n + 2 − 2α(n)^{t+1}), and the MLE variant
σ₀²(2 − 2(α√a)^{t+1}) that stays below 2σ₀².
"""

from __future__ import annotations

import os

import numpy as np
from scipy.optimize import brentq

from figures._registry import figure, style, write_csv
from simulations import LoopSpec, run
from theory import replace_log_variance_cdf, replace_w2sq_1d


def _exact_quantile(q, t, n):
    f = lambda x: float(replace_log_variance_cdf(x, t, n, estimator="unbiased")) - q  # noqa: E731
    return float(np.exp(brentq(f, -200.0, 50.0, xtol=1e-10)))


@figure("shumailov2024_collapse")
def main(quick: bool, out: str) -> list[str]:
    plt = style()
    n, T = 20, 100
    R = 2_000 if quick else 20_000
    ts = np.arange(T + 1)
    unb = run(LoopSpec(n_real=n, data="replace", estimator="unbiased", generations=T,
                       replicates=R), seed=0)
    mle = run(LoopSpec(n_real=n, data="replace", estimator="mle", generations=T,
                       replicates=R), seed=0)
    var = unb.metric("variance")
    mc_q = np.quantile(var, [0.05, 0.5, 0.95], axis=0)
    step = 5 if quick else 1
    tq = ts[::step]
    ex_q = np.array([[_exact_quantile(q, int(t), n) for t in tq] for q in (0.05, 0.5, 0.95)])
    w2_u, se_u = unb.mean_and_se("w2sq_to_target")
    w2_m, se_m = mle.mean_and_se("w2sq_to_target")
    th_u = replace_w2sq_1d(ts, n, estimator="unbiased")
    th_m = replace_w2sq_1d(ts, n, estimator="mle")

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.fill_between(ts, mc_q[0], mc_q[2], alpha=0.25, label="Monte Carlo 5–95 %")
    a.plot(ts, mc_q[1], label="Monte Carlo median")
    a.plot(tq, ex_q[1], "k--", label="exact median")
    a.plot(tq, ex_q[0], "k:", lw=1, label="exact 5 %, 95 %")
    a.plot(tq, ex_q[2], "k:", lw=1)
    a.axhline(1.0, color="grey", lw=0.8, label="E σ_t²/σ₀² = 1")
    a.set_yscale("log")
    a.set_xlabel("generation t")
    a.set_ylabel("σ_t² / σ₀²")
    a.set_title(f"Variance collapse, unbiased replace, n = {n}")
    a.legend()
    for mean, se, th, lab in ((w2_u, se_u, th_u, "unbiased"), (w2_m, se_m, th_m, "MLE")):
        line, = b.plot(ts, th, lw=2, label=f"exact, {lab}")
        b.fill_between(ts, mean - 2 * se, mean + 2 * se, color=line.get_color(), alpha=0.3,
                       label=f"Monte Carlo ±2 SE, {lab}")
    b.axhline(2.0, color="grey", lw=0.8, ls="--", label="2σ₀² (MLE limit)")
    b.set_xlabel("generation t")
    b.set_ylabel("E W₂²(p_t, p₀) / σ₀²")
    b.set_title("Shumailov et al. 2024, Thm 3.1: E W₂²")
    b.legend()
    fig.tight_layout()
    png = os.path.join(out, "shumailov2024_collapse.png")
    fig.savefig(png)
    plt.close(fig)
    csv_path = write_csv(os.path.join(out, "shumailov2024_collapse.csv"), {
        "generation": ts.tolist(),
        "mc_var_q05": mc_q[0].tolist(), "mc_var_median": mc_q[1].tolist(),
        "mc_var_q95": mc_q[2].tolist(),
        "w2sq_unbiased_mc": w2_u.tolist(), "w2sq_unbiased_se": se_u.tolist(),
        "w2sq_unbiased_exact": th_u.tolist(),
        "w2sq_mle_mc": w2_m.tolist(), "w2sq_mle_se": se_m.tolist(),
        "w2sq_mle_exact": th_m.tolist(),
    })
    return [png, csv_path]
