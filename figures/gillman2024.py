"""Gillman et al. 2024 (ICML), self-correcting self-consuming loops: Figure 2 and the stability
region of Theorem A.8 / 4.3.

``gillman2024_toy`` — Fig. 2 of the paper: W₂(N(µ_t, Σ_t), N(0, I₂)) against the generation
for several correction strengths γ, n = 50 real points, λ = 0.5 (25 synthetic points a
generation), the ideal corrector π_γ (each synthetic point from the target with probability
γ/(1+γ)). Left: no accumulation (each generation fits the real set and the newest 25 points,
the setting of the theory). Right: the accumulation of the authors' code
(``exp_scripts/gaussian_toy_example.py``): at step i the fit uses the real set and, for
every earlier generation j ≤ i, the first ⌊(j+1)/(i+1)·25⌋ corrected points of generation j
(reference notes §3.1). Their corrector (a clipped histogram rejection sampler) is replaced by
the ideal π_γ, their sklearn fit by the exact MLE (no ``reg_covar``). Mean over replicates
with a ±2 SE band.

``gillman2024_correctors`` — the practical point-wise correctors of App. C
(:mod:`simulations.correctors`) in the Fig. 2 loop (no accumulation, γ = 1) beside the ideal
π_γ, and each one's effective projection strength γ_eff (Def. C.2) with its standard error.

``gillman2024_stability`` — the (λ, γ) plane: the measured per-generation contraction of the
exact population map π_γG_λ^∞ (Gaussian class, iterated from θ₀ = (µ*, Σ* + D₀); it equals
k = λ/((1+λ)(1+γ)) < 1 everywhere) and, for the logistic location model with a misspecified
p_data, the measured |∂π_γG_λ^∞/∂θ(θ*)| by finite differences; over both, Theorem A.8's
admissible boundary λ_max(γ) = (1+γ)/((2+γ)(1 + εL/α)). The theorem's region is sufficient,
not necessary.
"""

from __future__ import annotations

import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from figures._registry import PALETTE, figure, style, write_csv
from theory.correction import (
    corrected_population_map,
    lambda_max,
    logistic_location,
    logistic_location_map,
    theta_from_gaussian,
)
from theory.distances import gaussian_w2, sqrtm_psd
from theory.laws import GaussianMixtureLaw

TOY_GAMMAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 5.0)


# --------------------------------------------------------------------------------------------
# the toy loop with the authors' accumulation (and without), vectorized in JAX
# --------------------------------------------------------------------------------------------


def _features(x):
    """(x₁, …, x_d, x_a x_b for a ≤ b): the sufficient statistics of one point."""
    d = x.shape[-1]
    rows, cols = np.triu_indices(d)
    return jnp.concatenate([x, x[..., rows] * x[..., cols]], axis=-1)


def _fit(sums, count, d):
    """MLE (mean, covariance) from summed features over ``count`` points."""
    rows, cols = np.triu_indices(d)
    mean = sums[:d] / count
    second = jnp.zeros((d, d), sums.dtype).at[rows, cols].set(sums[d:] / count)
    second = second + second.T - jnp.diag(jnp.diag(second))
    cov = second - jnp.outer(mean, mean)
    return mean, 0.5 * (cov + cov.T)


@partial(jax.jit, static_argnames=("generations", "n_real", "n_synthetic", "dim"))
def _toy_batch(keys, gammas, accumulate, *, generations, n_real, n_synthetic, dim):
    """A batch of replicates × γ values: fitted (means, covs), shapes (B, G, T+1, d(, d)).

    Per trajectory the math is ``vmap``-ed; the accumulation buffer of per-generation prefix
    sums of the point features, shape (T, m+1, p, B·G), keeps the trajectories on the last
    axis, so that the gather of row c_j(i) of every past generation j — the same c for every
    trajectory — reads contiguous blocks. ``accumulate`` is traced (a 0/1 flag): without
    accumulation every past generation gets c = 0 rows, so both variants share one
    compilation.
    """
    t_max, m, d = generations, n_synthetic, dim
    dt = jnp.float64
    n_rep, n_gam = keys.shape[0], gammas.shape[0]
    width = n_rep * n_gam
    p = d + d * (d + 1) // 2
    js = jnp.arange(t_max)

    def init(key):
        real = jax.random.normal(jax.random.fold_in(key, 0), (n_real, d), dt)
        return jnp.sum(_features(real), axis=0)

    real_sums = jax.vmap(init)(keys)  # (R, p)
    real_sums = jnp.repeat(real_sums[:, None], n_gam, axis=1).reshape(width, p)
    probs = jnp.tile(gammas / (1.0 + gammas), n_rep)  # trajectory r·G + g
    tkeys = jnp.repeat(keys, n_gam)
    fit = jax.vmap(lambda sm, cnt: _fit(sm, cnt, d), in_axes=(0, None))
    mean0, cov0 = fit(real_sums, float(n_real))

    def new_generation(key, prob, mean, cov, i):
        k_z, k_u = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, 1), i))
        z = jax.random.normal(k_z, (m, d), dt)
        u = jax.random.uniform(k_u, (m,), dt)
        y = jnp.where((u < prob)[:, None], z, mean + z @ sqrtm_psd(cov))
        return jnp.concatenate([jnp.zeros((1, p), dt), jnp.cumsum(_features(y), axis=0)])

    gen = jax.vmap(new_generation, in_axes=(0, 0, 0, 0, None))
    buffer = jnp.zeros((t_max, m + 1, p, width), dt)

    def step(carry, i):
        mean, cov, buf = carry
        prefix = gen(tkeys, probs, mean, cov, i)  # (W, m+1, p)
        sums = real_sums + prefix[:, m]
        count = float(n_real + m)
        # the authors' int((j + 1)/(i + 1)·m), in float64 as in their code, for j < i
        c = jnp.floor(((js + 1.0) / (i + 1.0)) * m).astype(jnp.int32)
        c = jnp.where((js < i) & accumulate, c, 0)  # row 0 of a prefix table is 0
        past = jnp.sum(buf[js, c], axis=0)  # (p, W)
        sums = sums + past.T
        count = count + jnp.sum(c).astype(dt)
        # the written rows are made to depend on the gathered ones (a value-preserving
        # select): XLA then reads before it writes and updates the buffer in place,
        # instead of copying it every generation (50x slower)
        row = jnp.transpose(prefix, (1, 2, 0))
        flag = jnp.isnan(jnp.sum(past))
        row = jnp.where(flag, jnp.nan, row)
        buf = jax.lax.dynamic_update_slice(buf, row[None], (i, 0, 0, 0))
        new_mean, new_cov = fit(sums, count)
        return (new_mean, new_cov, buf), (new_mean, new_cov)

    _, (means, covs) = jax.lax.scan(step, (mean0, cov0, buffer), js)
    means = jnp.concatenate([mean0[None], means]).transpose(1, 0, 2)
    covs = jnp.concatenate([cov0[None], covs]).transpose(1, 0, 2, 3)
    return (means.reshape(n_rep, n_gam, t_max + 1, d),
            covs.reshape(n_rep, n_gam, t_max + 1, d, d))


def toy_w2(seed, gammas, *, replicates, generations=500, n_real=50, n_synthetic=25, dim=2,
           accumulate=True, batch=50):
    """W₂(N(µ_t, Σ_t), N(0, I)) of the Gillman toy loop, shape (len(gammas), R, T + 1).

    Replicate r uses ``fold_in(key(seed), r)`` for every γ (common random numbers: the same
    real set, the same z and the same membership uniforms u, a point going to the target when
    u < γ/(1+γ)). ``accumulate=True`` is the authors' recency-weighted accumulation (module
    docstring); ``False`` fits the real set and the newest ``n_synthetic`` points (the
    ``data="mix"`` loop of :mod:`simulations`).
    """
    g = jnp.asarray(np.asarray(gammas, dtype=np.float64))
    base = jax.random.key(int(seed))
    w2 = jax.jit(lambda m, c: gaussian_w2(m, c, jnp.zeros(dim), jnp.eye(dim)))
    out = []
    for lo in range(0, replicates, batch):
        hi = min(replicates, lo + batch)
        keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(lo, lo + batch))
        means, covs = _toy_batch(keys, g, jnp.asarray(bool(accumulate)),
                                 generations=generations, n_real=n_real,
                                 n_synthetic=n_synthetic, dim=dim)
        out.append(np.asarray(w2(means, covs))[: hi - lo])
    return np.concatenate(out, axis=0).transpose(1, 0, 2)


@figure("gillman2024_toy")
def main_toy(quick: bool, out: str) -> list[str]:
    plt = style()
    reps = 30 if quick else 200
    gens = 120 if quick else 500
    gammas = TOY_GAMMAS
    panels = {}
    for acc in (False, True):
        panels[acc] = toy_w2(0, gammas, replicates=reps, generations=gens, accumulate=acc)
    ts = np.arange(gens + 1)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    columns = {"generation": ts.tolist()}
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(gammas)))
    for ax, acc in zip(axes, (False, True), strict=True):
        w = panels[acc]
        tag = "accumulate" if acc else "mix"
        for gi, gam in enumerate(gammas):
            mean = w[gi].mean(axis=0)
            se = w[gi].std(axis=0, ddof=1) / np.sqrt(reps)
            ax.plot(ts, mean, color=colors[gi], lw=1.3, label=f"γ = {gam:g}")
            ax.fill_between(ts, mean - 2 * se, mean + 2 * se, color=colors[gi], alpha=0.2, lw=0)
            columns[f"{tag}_gamma{gam:g}_mean"] = mean.tolist()
            columns[f"{tag}_gamma{gam:g}_se"] = se.tolist()
        ax.set_xlabel("generation t")
        ax.set_title("no accumulation (fixed real set + newest 25)" if not acc else
                     "authors' accumulation ⌊(j+1)/(i+1)·25⌋ per past generation")
    axes[0].set_ylabel("W₂(N(µ_t, Σ_t), N(0, I₂))")
    axes[1].legend(title="correction strength", ncol=2)
    fig.suptitle(f"Gillman et al. 2024, Fig. 2 (toy): n = 50, λ = 0.5, ideal π_γ, mean ± 2 SE "
                 f"over {reps} replicates")
    fig.tight_layout()
    png = os.path.join(out, "gillman2024_toy.png")
    fig.savefig(png)
    plt.close(fig)
    return [png, write_csv(os.path.join(out, "gillman2024_toy.csv"), columns)]


# --------------------------------------------------------------------------------------------
# stability region
# --------------------------------------------------------------------------------------------


def measured_population_rate(lams, gams, *, steps=200, floor=1e-9):
    """Per-generation contraction of the exact Gaussian map on a (λ, γ) grid, measured by
    iterating it (d = 2, θ* = (0, I)) from θ₀ = (µ*, Σ* + D₀) and taking
    (‖θ_T − θ*‖/‖θ₀ − θ*‖)^{1/T} at the last T where ‖θ_T − θ*‖ > ``floor`` (below it the
    distance is rounding); shape (len(gams), len(lams)). With µ₀ = µ* the δδᵀ term vanishes
    and θ_t − θ* = k^t(θ₀ − θ*) exactly, so this measures k to ~1e-7."""
    tm, tc = jnp.zeros(2), jnp.eye(2)
    c0 = tc + jnp.array([[0.1, 0.05], [0.05, 0.2]])
    theta_star = theta_from_gaussian(tm, tc)
    d0 = jnp.linalg.norm(theta_from_gaussian(tm, c0) - theta_star)

    def rate(lam, gam):
        def body(carry, _):
            m, c = corrected_population_map(carry[0], carry[1], tm, tc, lam, gam)
            return (m, c), jnp.linalg.norm(theta_from_gaussian(m, c) - theta_star)

        _, dist = jax.lax.scan(body, (tm, c0), None, length=steps)
        t = jnp.arange(1, steps + 1)
        last = jnp.max(jnp.where(dist > floor, t, 1))
        return (dist[last - 1] / d0) ** (1.0 / last)

    grid = jax.vmap(jax.vmap(rate, in_axes=(0, None)), in_axes=(None, 0))
    return np.asarray(grid(jnp.asarray(lams), jnp.asarray(gams)))


def logistic_fd_jacobian(data_law, lams, gams, *, h=1e-3):
    """|∂π_γG_λ^∞/∂θ(θ*)| of the logistic location model by central differences, shape
    (len(gams), len(lams))."""
    ll = logistic_location(data_law)
    out = np.empty((len(gams), len(lams)))
    for i, g in enumerate(gams):
        for j, lam in enumerate(lams):
            fp = logistic_location_map(ll.theta_star + h, data_law, float(lam), float(g),
                                       theta_star=ll.theta_star)
            fm = logistic_location_map(ll.theta_star - h, data_law, float(lam), float(g),
                                       theta_star=ll.theta_star)
            out[i, j] = abs(fp - fm) / (2 * h)
    return out, ll


STABILITY_LAW = GaussianMixtureLaw([0.3, 0.7], [-2.0, 1.0], [0.5, 1.5])


@figure("gillman2024_stability")
def main_stability(quick: bool, out: str) -> list[str]:
    plt = style()
    n_grid = 40 if quick else 120
    lams = np.linspace(0.02, 2.0, n_grid)
    gams = np.linspace(0.0, 10.0, n_grid)
    rate = measured_population_rate(lams, gams)
    n_log = 8 if quick else 20
    lams_l = np.linspace(0.05, 2.0, n_log)
    gams_l = np.linspace(0.0, 10.0, n_log)
    jac, ll = logistic_fd_jacobian(STABILITY_LAW, lams_l, gams_l)
    ratios = (0.0, 0.5, 1.0)
    bound = {r: np.array([lambda_max(g, 1.0, r, 1.0) for g in gams]) for r in ratios}
    bound_log = np.array([lambda_max(g, ll.alpha, ll.eps, ll.lipschitz) for g in gams])

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.4))
    im = a.pcolormesh(lams, gams, rate, shading="auto", cmap="magma", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=a, label="measured contraction per generation")
    for r, col in zip(ratios, (PALETTE[5], PALETTE[6], PALETTE[2]), strict=True):
        a.plot(bound[r], gams, color=col, lw=2, label=f"λ_max(γ), εL/α = {r:g}")
    a.set_xlim(lams[0], lams[-1])
    a.set_xlabel("synthetic ratio λ")
    a.set_ylabel("correction strength γ")
    a.set_title("Gaussian class: exact map contracts at k < 1 everywhere")
    a.legend(loc="upper right", fontsize=8)
    im2 = b.pcolormesh(lams_l, gams_l, jac, shading="auto", cmap="magma", vmin=0.0, vmax=1.0)
    fig.colorbar(im2, ax=b, label="|J(θ*)| (finite differences)")
    b.plot(bound_log, gams, color=PALETTE[5], lw=2,
           label=f"λ_max(γ): α={ll.alpha:.3f}, ε={ll.eps:.3f}, L={ll.lipschitz:.3f}")
    b.set_xlim(lams_l[0], lams_l[-1])
    b.set_xlabel("synthetic ratio λ")
    b.set_title("logistic location model, Gaussian-mixture p_data")
    b.legend(loc="upper right", fontsize=8)
    fig.suptitle("Gillman et al. 2024, Thm A.8 / 4.3 (no figure in the paper): admissible "
                 "λ < λ_max(γ) vs measured contraction")
    fig.tight_layout()
    png = os.path.join(out, "gillman2024_stability.png")
    fig.savefig(png)
    plt.close(fig)
    cols = {"gamma": gams.tolist()}
    for r in ratios:
        cols[f"lambda_max_epsL_over_alpha_{r:g}"] = bound[r].tolist()
    cols["lambda_max_logistic"] = bound_log.tolist()
    for j, lam in enumerate(lams):
        cols[f"rate_lambda_{lam:.4f}"] = rate[:, j].tolist()
    csv1 = write_csv(os.path.join(out, "gillman2024_stability.csv"), cols)
    cols2 = {"gamma": gams_l.tolist()}
    for j, lam in enumerate(lams_l):
        cols2[f"logistic_abs_jacobian_lambda_{lam:.4f}"] = jac[:, j].tolist()
    csv2 = write_csv(os.path.join(out, "gillman2024_stability_logistic.csv"), cols2)
    return [png, csv1, csv2]


# --------------------------------------------------------------------------------------------
# practical correctors in the loop, beside the ideal one
# --------------------------------------------------------------------------------------------

CORRECTOR_LINES = (
    ("ideal", "ideal π_γ (Def. 4.1)"),
    ("histogram", "histogram mixture, Ex. C.6 (10 bins/axis)"),
    ("histogram_authors", "authors' clipped rejection sampler"),
    ("ot", "OT displacement toward target draws"),
    ({"name": "centroid", "num_centroids": 16}, "nearest k-means centroid (16)"),
)


def _corrector_name(corrector):
    return corrector if isinstance(corrector, str) else corrector["name"]


def _corrector_obj(corrector):
    from simulations.correctors import get_corrector

    if isinstance(corrector, str):
        return get_corrector(corrector)
    config = dict(corrector)
    return get_corrector(config.pop("name"), **config)


def corrector_w2(seed, gamma, *, replicates, generations, n_real=50, synthetic_ratio=0.5):
    """W₂(N(µ_t, Σ_t), N(0, I₂)) of the Fig. 2 setting (no accumulation) for each corrector of
    :data:`CORRECTOR_LINES`: dict label → array (replicates, generations + 1)."""
    from simulations import LoopSpec, run

    out = {}
    for corrector, label in CORRECTOR_LINES:
        spec = LoopSpec(dim=2, n_real=n_real, synthetic_ratio=synthetic_ratio, data="mix",
                        correction_strength=gamma, corrector=corrector,
                        generations=generations, replicates=replicates)
        out[label] = np.asarray(run(spec, seed=seed).metric("w2_to_target"))
    return out


@figure("gillman2024_correctors")
def main_correctors(quick: bool, out: str) -> list[str]:
    """Left: W₂ to the target over generations for each point-wise corrector at γ = 1 (Fig. 2's
    setting without accumulation), mean ± 2 SE. Right: each corrector's effective projection
    strength γ_eff (Def. C.2, moment estimator, ± 2 SE) at γ ∈ {0.3, 1, 3} for m = 25 points."""
    from simulations.correctors import effective_strength

    plt = style()
    reps = 24 if quick else 400
    gens = 40 if quick else 300
    gamma = 1.0
    w = corrector_w2(0, gamma, replicates=reps, generations=gens)
    ts = np.arange(gens + 1)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    columns = {"generation": ts.tolist()}
    for i, (label, values) in enumerate(w.items()):
        mean = values.mean(axis=0)
        se = values.std(axis=0, ddof=1) / np.sqrt(reps)
        axes[0].plot(ts, mean, color=PALETTE[i], lw=1.3, label=label)
        axes[0].fill_between(ts, mean - 2 * se, mean + 2 * se, color=PALETTE[i], alpha=0.2,
                             lw=0)
        name = _corrector_name(CORRECTOR_LINES[i][0])
        columns[f"{name}_mean"] = mean.tolist()
        columns[f"{name}_se"] = se.tolist()
    axes[0].set_xlabel("generation t")
    axes[0].set_ylabel("W₂(N(µ_t, Σ_t), N(0, I₂))")
    axes[0].set_title(f"γ = {gamma:g}, n = 50, λ = 0.5, mean ± 2 SE over {reps} replicates")
    axes[0].legend(fontsize=8)
    gammas = (1.0,) if quick else (0.3, 1.0, 3.0)
    est_reps = 100 if quick else 2000
    width = 0.8 / len(CORRECTOR_LINES)
    rows = {"gamma": [], "corrector": [], "gamma_eff": [], "gamma_eff_se": []}
    for i, (corrector, label) in enumerate(CORRECTOR_LINES):
        for j, g in enumerate(gammas):
            ge, se = effective_strength(_corrector_obj(corrector), g, 25, est_reps, 1)
            axes[1].errorbar(j + (i - 2) * width, ge / g, yerr=2 * se / g, fmt="o",
                             color=PALETTE[i], ms=4, label=label if j == 0 else None)
            rows["gamma"].append(g)
            rows["corrector"].append(label)
            rows["gamma_eff"].append(ge)
            rows["gamma_eff_se"].append(se)
    axes[1].axhline(1.0, color="0.4", lw=0.8, ls="--")
    axes[1].set_xticks(range(len(gammas)), [f"γ = {g:g}" for g in gammas])
    axes[1].set_ylabel("γ_eff / γ (moment estimator, ± 2 SE)")
    axes[1].set_title("effective projection strength, m = 25 (Def. C.2)")
    fig.suptitle("Gillman et al. 2024: point-wise correctors in the loop beside the ideal π_γ")
    fig.tight_layout()
    png = os.path.join(out, "gillman2024_correctors.png")
    fig.savefig(png)
    plt.close(fig)
    return [png, write_csv(os.path.join(out, "gillman2024_correctors.csv"), columns),
            write_csv(os.path.join(out, "gillman2024_correctors_gamma_eff.csv"), rows)]
