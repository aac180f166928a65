"""Sympy derivations (and marked transcriptions) for the mixture experiments: registered into
:mod:`theory.derivations` on import.

Records:

``mixture_l2_squared``
    the Gaussian product integral ∫N(x; a, A) N(x; b, B) dx = N(a − b; 0, A + B), integrated by
    sympy in one dimension (the d-dimensional form factorises in the eigenbasis of A + B), and
    ∫(p − q)² = ∫p² + ∫q² − 2∫pq expanded by bilinearity: the closed-form L2 distance between
    Gaussian mixtures of Shumailov et al. 2024's GMM experiment (theory.mixtures).
``suresh_gmm_collapse_bound``
    Suresh et al. 2024, Theorem 4, transcribed (not derived; reason in its first step).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory._derivation_registry import Built, Step, lam, register

__all__: list[str] = []


def _l2_mixture():
    x = sp.Symbol("x", real=True)
    a, b = sp.symbols("a b", real=True)
    va, vb = sp.symbols("A B", positive=True)

    def normal(z, mean, var):
        return sp.exp(-(z - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)

    integrand = normal(x, a, va) * normal(x, b, vb)
    # ∫ e^{−αx² + βx} dx = √(π/α) e^{β²/(4α)} (sympy), then α, β, γ read off the exponent
    alpha, beta = sp.Symbol("alpha", positive=True), sp.Symbol("beta", real=True)
    gauss = sp.simplify(sp.integrate(sp.exp(-alpha * x**2 + beta * x), (x, -sp.oo, sp.oo)))
    c2, c1, c0 = sp.Poly(sp.expand(-(x - a) ** 2 / (2 * va) - (x - b) ** 2 / (2 * vb)),
                         x).all_coeffs()
    product = sp.simplify(gauss.subs({alpha: -c2, beta: c1}) * sp.exp(c0)
                          / (2 * sp.pi * sp.sqrt(va * vb)))
    closed = normal(a - b, 0, va + vb)
    check = sp.simplify(product / closed)
    w1, w2, v1, v2 = sp.symbols("w_i w_j v_k v_l", positive=True)
    m1, m2, n1, n2 = sp.symbols("m_i m_j n_k n_l", real=True)
    p_sq = sp.Symbol("Σ_ij w_i w_j N(m_i − m_j; 0, C_i + C_j)")
    q_sq = sp.Symbol("Σ_kl v_k v_l N(n_k − n_l; 0, D_k + D_l)")
    pq = sp.Symbol("Σ_ik w_i v_k N(m_i − n_k; 0, C_i + D_k)")
    rec = sp.Eq(sp.Symbol("∫N(x; a, A) N(x; b, B) dx"), sp.Integral(integrand, (x, -sp.oo, sp.oo)))
    steps = (
        Step("recursion", "given", rec,
             "the building block of ∫(p − q)² for p = Σ_i w_i N(m_i, C_i), "
             "q = Σ_k v_k N(n_k, D_k): expand (p − q)² and integrate term by term (bilinearity)"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("∫N N dx"), product),
             "the exponent is −αx² + βx + γ with α = (A + B)/(2AB), β = a/A + b/B; "
             "∫e^{−αx² + βx} dx = √(π/α)e^{β²/(4α)} by sympy. One dimension; in d "
             "dimensions the same integral factorises along the eigenvectors of C_i + C_j "
             "after completing the square, giving N(a − b; 0, A + B)"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("(∫N N dx) / N(a − b; 0, A + B)"), check),
             "equals 1: the product integral is the density of a − b under N(0, A + B)"),
        Step("solution", "expand", sp.Eq(sp.Symbol("‖p − q‖²"), p_sq + q_sq - 2 * pq),
             "∫p² + ∫q² − 2∫pq with each term a double sum of product integrals"),
    )
    f_prod = lam((a, b, va, vb), closed)

    def fn(weights1, means1, vars1, weights2, means2, vars2):
        """1-D mixtures: weights, means and variances as arrays of shape (m,)."""
        w1_, m1_, c1_ = (np.asarray(v, np.float64) for v in (weights1, means1, vars1))
        w2_, m2_, c2_ = (np.asarray(v, np.float64) for v in (weights2, means2, vars2))

        def cross(wa, ma, ca, wb, mb, cb):
            return float(wa @ f_prod(ma[:, None], mb[None, :], ca[:, None], cb[None, :]) @ wb)

        return max(cross(w1_, m1_, c1_, w1_, m1_, c1_) + cross(w2_, m2_, c2_, w2_, m2_, c2_)
                   - 2.0 * cross(w1_, m1_, c1_, w2_, m2_, c2_), 0.0)

    del w1, w2, v1, v2, m1, m2, n1, n2
    return Built(rec, {"product integral": closed, "L2²": p_sq + q_sq - 2 * pq}, None, steps, fn)


def _suresh_gmm():
    eps, s0 = sp.symbols("epsilon sigma_0", positive=True)
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    n = sp.Symbol("n", integer=True, positive=True)
    bound = s0 / eps * sp.exp(-kk / (4 * n))
    stmt = sp.Eq(sp.Symbol("P(Σ_k > ε) ≤"), bound)
    steps = (
        Step("statement", "taken from the paper", stmt,
             "Suresh, Thangaraj & Khandavally 2024, Theorem 4 (symmetric two-component mixture "
             "½N(−μ, σ²) + ½N(μ, σ²) refitted by their approximate joint maximum likelihood on "
             "n points a generation), as plotted in the authors' notebook "
             "(berserank/rate-of-model-collapse). Not re-derived: the constant 1/(4n) comes from "
             "their moment-generating-function argument for that estimator; the claim "
             "suresh2024.thm4.gmm_bound checks it against Monte Carlo collapse frequencies"),
    )
    f = lam((kk, n, s0, eps), bound)

    def fn(k, n_val, sigma0, eps_val):
        return np.asarray(f(np.asarray(k, np.float64), float(n_val), float(sigma0),
                            float(eps_val)), np.float64)

    return Built(stmt, bound, None, steps, fn)


register("mixture_l2_squared",
         "Closed-form L2 distance between Gaussian mixtures (Gaussian product integral)",
         "Shumailov et al. 2024, GMM notebook (reference notes §1, §9 row 15); derived",
         "theory.mixtures.mixture_l2_squared",
         "(weights1, means1, vars1, weights2, means2, vars2), 1-D mixtures", _l2_mixture,
         covers=("theory.mixtures.gaussian_product_integral", "theory.mixtures.mixture_l2"))
register("suresh_gmm_collapse_bound",
         "Collapse probability of the symmetric two-component mixture: Suresh et al. Theorem 4 "
         "(taken from the paper)",
         "Suresh, Thangaraj & Khandavally 2024, Theorem 4",
         "theory.mixtures.suresh_gmm_collapse_bound", "(k, n, sigma0, eps)", _suresh_gmm,
         taken_from_paper=True)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
