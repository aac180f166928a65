"""Mixture and kernel-density loops: Kazdan et al. 2025's KDE loop ("heat death").

The KDE resampling loop is simulated directly in JAX: sampling a Gaussian-kernel KDE of the
n points of generation t is resampling one of them uniformly and adding N(0, h²) noise
(reference notes, collapse_literature.md §6), so generation t + 1 is
x_{t+1,i} = x_{t, J_i} + h z_i with J_i uniform on {1…n}, z_i ~ N(0, 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from paper_checks.claim import claim
from paper_checks.claims._common import exact_check, mean_check
from theory.derivations import get_derivation

PAPER_KDE = "Kazdan et al. 2025, ICML (arXiv 2410.16713), KDE experiment (their code)"


def kde_loop_variances(key, n: int, bandwidth: float, generations: int, replicates: int):
    """(s_0², s_t² for t = 0…T) of the 1-D Gaussian-kernel KDE replace loop, 1/n variances.

    Real data N(0, 1); replicate r uses ``fold_in(key, r)``, generation t ``fold_in(·, t)``.
    Returns an array of shape ``(replicates, generations + 1)``.
    """

    def one(k):
        x0 = jax.random.normal(jax.random.fold_in(k, 0), (n,))

        def body(x, t):
            kt = jax.random.fold_in(k, t)
            k_j, k_z = jax.random.split(kt)
            j = jax.random.randint(k_j, (n,), 0, n)
            x = x[j] + bandwidth * jax.random.normal(k_z, (n,))
            return x, jnp.var(x)

        _, s2 = jax.lax.scan(body, x0, jnp.arange(1, generations + 1))
        return jnp.concatenate([jnp.var(x0)[None], s2])

    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(replicates))
    return np.asarray(jax.jit(jax.vmap(one))(keys))


@claim(
    id="kazdan2025.kde.heat_death",
    paper=PAPER_KDE,
    statement=(
        "Gaussian-kernel KDE refitted on its own n samples with a fixed bandwidth h: "
        "E[s_t² | s_0²] = a^t s_0² + h² a(1 − a^t)/(1 − a), a = (n − 1)/n, so the spread tends "
        "to (n − 1)h² (heat death), not to 0."
    ),
    kind="limit",
    provenance="derived",
    method="1-D, n = 30, h = 0.3, real data N(0, 1): per replicate the residual s_t² − "
    "f(t, s_0²) (f the sympy record 'kde_heat_death', linear in s_0², so its mean is 0 "
    "exactly) at t ∈ {50, 400}, replicate mean with SE; the closed form at t = 10⁴ equals "
    "the limit (n − 1)h² within its remainder a^t(s_0² + h²/(1 − a)·a) < 1e-100. "
    "False-failure probability 1e-6 (Bonferroni over the comparisons).",
)
def kde_heat_death(ctx):
    n, h = 30, 0.3
    ts = (50, 400)
    f = get_derivation("kde_heat_death").lambdify()
    s2 = kde_loop_variances(jax.random.key(ctx.seed), n, h, max(ts),
                            ctx.size(20_000, 4_000))
    out = []
    for t in ts:
        f0, f1 = float(f(t, n, h, 0.0)), float(f(t, n, h, 1.0))  # f is affine in s_0²
        predicted = f0 + (f1 - f0) * s2[:, 0]
        out.append(mean_check(f"E[s_t² − f(t, s_0²)], t={t}", s2[:, t] - predicted, 0.0))
    out.append(exact_check("f(10⁴, ·) → (n−1)h²", f.limit(n, h), float(f(10_000, n, h, 1.0)),
                           rtol=1e-12))
    return out
