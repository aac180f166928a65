"""Sympy derivations for Gillman et al. 2024 and Bertrand et al. 2024 (ideal corrector).

Records are registered into :mod:`theory.derivations` on import. Each starts from the
model's input (a one-step map, a definition or a recursion) and lets sympy produce the rest;
``lambdify()`` of each record uses the argument convention of its ``numeric`` function in
:mod:`theory.correction`, and ``tests/theory/test_derivations_correction.py`` checks the two
against each other to a relative error of 1e-10.

Records:

* ``correction_population_map``: the moment-matching step for the Gaussian class simplifies
  to the k-map µ' = µ* + k(µ − µ*), Σ' = Σ* + k(Σ − Σ*) + k(1−k)δδᵀ; ``rsolve`` gives the
  t-step iterate.
* ``correction_jacobian``: the Jacobian of the 1-D k-map at θ* is k·I (``diff``).
* ``correction_rho_stability``: ρ(λ) (eq. 38) and the equivalence of ρ/(1+γ) < 1 with
  λ(1 + εL/α) < (1+γ)/(2+γ) (eq. 40–41): the two cleared forms differ by the positive
  factor α(2+γ).
* ``correction_lambda_max``: λ_max(γ) by ``solve`` and its γ → ∞ limit 2·λ_max(0).
* ``correction_mean_mse``: E‖θ_t − µ*‖² of the mean-only loop with the corrector (random and
  deterministic split), by ``rsolve`` of the (a_t, b_t) recursion, and its stationary limit,
  which for the deterministic split simplifies to the reference notes' §4.3 formula.
* ``correction_pooled_mle_step``: E of one finite-sample step's pooled MLE (1-D).
* Taken from the paper, with the reason in their first step: ``correction_definition``
  (Def. 4.1), ``correction_lemma_a7`` (eq. 23), ``correction_theorem_a8`` (eq. 39),
  ``correction_theorem_4_3`` (eq. 7; sympy sums its geometric series), ``correction_prop_b2``,
  ``correction_prop_a5``.

The numerical routines the claims use (quadrature, root finding, autodiff, fits) are declared
with :func:`~theory._derivation_registry.declare_numerical`, naming the test that checks each by
an independent route.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from theory._derivation_registry import Built, Step, declare_numerical, lam, register

t = sp.Symbol("t", integer=True, nonnegative=True)
S = sp.Function("S")
M = sp.Function("M")
C = sp.Function("C")
A_ = sp.Function("a")
B_ = sp.Function("b")

lmb, gam = sp.symbols("lambda gamma", positive=True)
mu, mus, mu0 = sp.symbols("mu mu^* mu_0", real=True)
sig, sigs, sig0 = sp.symbols("Sigma Sigma^* Sigma_0", positive=True)
P = sp.Symbol("P", real=True)  # δ₀,i δ₀,j (an entry of δ₀δ₀ᵀ)
alpha, eps, L = sp.symbols("alpha epsilon L", positive=True)
kk = sp.Symbol("k", positive=True)

K_EXPR = lmb / ((1 + lmb) * (1 + gam))


def _rsolve(eq_rhs, fn, init):
    sol = sp.rsolve(fn(t + 1) - eq_rhs, fn(t), {fn(0): init})
    if sol is None:  # pragma: no cover - sympy regression guard
        raise RuntimeError(f"rsolve failed on {fn(t + 1)} = {eq_rhs}")
    return sp.simplify(sol)


_G = sp.Function("G")
_c0, _c1, _q, _rate, _init = sp.symbols("c_0 c_1 q rate y_0", positive=True)
_GENERIC: dict = {}


def _rsolve_affine_geometric(rate, const, amp, base, init):
    """``rsolve`` of y_{t+1} = rate·y_t + const + amp·base^t, y_0 = init.

    sympy's ``rsolve`` fails on this recursion when the coefficients are products of symbols,
    so it is solved once with generic symbols and the coefficients are substituted."""
    if "sol" not in _GENERIC:
        _GENERIC["sol"] = _rsolve(_rate * _G(t) + _c0 + _c1 * _q**t, _G, _init)
    return _GENERIC["sol"].subs({_rate: rate, _c0: const, _c1: amp, _q: base, _init: init},
                                simultaneous=True)


def _zero(expr):
    """Numerator of ``expr`` over a common denominator, expanded (0 iff expr ≡ 0); much faster
    than ``simplify`` on these rational functions."""
    return sp.expand(sp.numer(sp.together(expr)))


def _limit_geometric(expr, bases):
    """lim_{t→∞} of an expression affine in base^t for bases in (0, 1): each base^t is
    replaced by its limit, computed by ``sp.limit`` on (1/(1+x))^t, x > 0."""
    xs = sp.Symbol("x", positive=True)
    zero = sp.limit((1 / (1 + xs)) ** t, t, sp.oo)
    us = sp.symbols(f"u0:{len(bases)}")
    flat = sp.expand_power_exp(sp.expand(expr)).subs({b**t: u for b, u in zip(bases, us,
                                                                            strict=True)})
    if flat.has(t):  # pragma: no cover
        raise RuntimeError("expression is not affine in the geometric terms")
    return sp.factor(sp.together(flat.subs({u: zero for u in us})))


def _as_array(x):
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# population map and its t-step iterate
# --------------------------------------------------------------------------------------------


def _moment_matching_1d():
    """The moment-matching step of the Gaussian class in 1-D (mean, variance)."""
    w_d = 1 / (1 + lmb)
    w_m = lmb / ((1 + lmb) * (1 + gam))
    w_t = lmb * gam / ((1 + lmb) * (1 + gam))
    new_mean = w_d * mus + w_m * mu + w_t * mus
    new_var = (w_d * (sigs + (mus - new_mean) ** 2) + w_m * (sig + (mu - new_mean) ** 2)
               + w_t * (sigs + (mus - new_mean) ** 2))
    return new_mean, new_var


def _population_map():
    new_mean, new_var = _moment_matching_1d()
    k_map_mean = mus + K_EXPR * (mu - mus)
    k_map_var = sigs + K_EXPR * (sig - sigs) + K_EXPR * (1 - K_EXPR) * (mu - mus) ** 2
    check_mean = _zero(new_mean - k_map_mean)
    check_var = _zero(new_var - k_map_var)
    if check_mean != 0 or check_var != 0:  # pragma: no cover - the derivation itself
        raise RuntimeError("moment matching does not reduce to the k-map")
    mean_t = _rsolve(mus + kk * (M(t) - mus), M, mu0)
    # C(t+1) = Σ* + k(C(t) − Σ*) + k(1−k) δ_t δ_tᵀ with δ_t = k^t δ₀ (entry: k^{2t} P)
    # D_t = C_t − Σ*: D_{t+1} = k D_t + k(1−k) δ_t δ_tᵀ with δ_t = k^t δ₀ (entry: k^{2t} P)
    dev_t = _rsolve_affine_geometric(kk, 0, kk * (1 - kk) * P, kk**2, sig0 - sigs)
    cov_t = sp.factor(sp.simplify(sigs + dev_t))
    rec = (sp.Eq(sp.Symbol("µ'"), new_mean), sp.Eq(sp.Symbol("Σ'"), new_var))
    steps = (
        Step("recursion", "given", rec,
             "moment matching to q = [p_data + (λ/(1+γ))p_θ + (λγ/(1+γ))p_θ*]/(1+λ), "
             "p_data and p_θ* sharing the moments (µ*, Σ*) (reference notes §4.1–4.2); 1-D "
             "entries, the matrix case is entry-wise with δδᵀ"),
        Step("solution", "simplify",
             (sp.Eq(sp.Symbol("µ' − [µ* + k(µ−µ*)]"), check_mean),
              sp.Eq(sp.Symbol("Σ' − [Σ* + k(Σ−Σ*) + k(1−k)δ²]"), check_var)),
             "with k = λ/((1+λ)(1+γ)): the k-map"),
        Step("solution", "rsolve", sp.Eq(M(t), mean_t), "µ_{t+1} = µ* + k(µ_t − µ*)"),
        Step("solution", "rsolve", sp.Eq(C(t), cov_t),
             "C_{t+1} = Σ* + k(C_t − Σ*) + k(1−k)k^{2t}P, P = δ₀δ₀ᵀ (entry-wise)"),
    )
    f_mean = lam((t, mu0, mus, kk), mean_t)
    f_cov = lam((t, sig0, sigs, P, kk), cov_t)

    def fn(t_val, mean0, cov0, target_mean, target_cov, synthetic_ratio, correction_strength):
        g = float(correction_strength)
        k_val = 0.0 if math.isinf(g) else float(K_EXPR.subs({lmb: synthetic_ratio, gam: g}))
        m0, tm = _as_array(mean0), _as_array(target_mean)
        c0, tc = _as_array(cov0), _as_array(target_cov)
        tt = np.asarray(t_val, dtype=np.float64)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_t_val = f_mean(tt, m0, tm, k_val) + 0.0 * tt
            delta = m0 - tm
            cov_t_val = f_cov(tt[..., None], c0, tc, np.outer(delta, delta), k_val)
        return np.asarray(mean_t_val), np.asarray(cov_t_val + 0.0 * tt[..., None])

    return Built(rec, (mean_t, cov_t), None, steps, fn)


def _jacobian():
    new_mean, new_var = _moment_matching_1d()
    jac = sp.Matrix([new_mean, new_var]).jacobian([mu, sig])
    at_star = jac.subs({mu: mus, sig: sigs}).applyfunc(lambda e: sp.factor(sp.together(e)))
    k_identity = (at_star - K_EXPR * sp.eye(2)).applyfunc(_zero)
    rec = (sp.Symbol("(µ', Σ')"), sp.Matrix([new_mean, new_var]))
    steps = (
        Step("recursion", "given", rec,
             "the 1-D moment-matching step (see correction_population_map)"),
        Step("solution", "diff", (sp.Symbol("J(θ*)"), at_star),
             "Jacobian in θ = (µ, Σ) at θ* = (µ*, Σ*)"),
        Step("solution", "simplify", (sp.Symbol("J(θ*) − k·I"), k_identity),
             "= 0: J(θ*) = k·I, Lemma A.7-II with A⁻¹C = I (A = C for the Gaussian class)"),
    )
    f = lam((lmb, gam), at_star)

    def fn(theta, target_mean, target_cov, synthetic_ratio, correction_strength):
        g = float(correction_strength)
        if math.isinf(g):
            return np.zeros((2, 2))
        return np.asarray(f(float(synthetic_ratio), g), dtype=np.float64)

    return Built(rec, at_star, None, steps, fn)


# --------------------------------------------------------------------------------------------
# ρ(λ), the stability condition, λ_max(γ)
# --------------------------------------------------------------------------------------------


def _rho_stability():
    beta = alpha + eps * L
    rho = lmb * beta / (alpha - lmb * beta)
    rec = sp.Eq(sp.Symbol("‖θ_{t+1} − θ*‖"), rho / (1 + gam) * sp.Symbol("‖θ_t − θ*‖"))
    # ρ/(1+γ) < 1, multiplied by (1+γ)(α − λβ) > 0 (the Neumann condition λβ < α):
    cleared_rho = sp.expand((1 + gam) * (alpha - lmb * beta) * (1 - rho / (1 + gam)))
    cleared_rho = sp.simplify(cleared_rho)
    cleared_cond = (1 + gam) / (2 + gam) - lmb * (1 + eps * L / alpha)
    ratio = sp.factor(sp.simplify(cleared_rho / cleared_cond))
    boundary = sp.limit(rho, lmb, alpha / beta, dir="-")
    steps = (
        Step("recursion", "given", rec,
             "local contraction of Theorem A.8 (eq. 42) with ρ(λ) = λ(α+εL)/(α − λ(α+εL)) "
             "(eq. 38)"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("(1+γ)(α−λβ)(1 − ρ/(1+γ))"), cleared_rho),
             "β = α + εL; positive iff ρ/(1+γ) < 1 when λβ < α"),
        Step("solution", "simplify",
             sp.Eq(sp.Symbol("[(1+γ)(α−λβ)(1 − ρ/(1+γ))] / [(1+γ)/(2+γ) − λ(1+εL/α)]"), ratio),
             "a positive multiple α(2+γ): the two conditions (eq. 40 and 41) are equivalent"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_{λ→α/(α+εL)⁻} ρ"), boundary),
             "ρ blows up where the Neumann step fails, λ(1 + εL/α) = 1"),
    )
    f = lam((lmb, alpha, eps, L), rho)

    def fn(synthetic_ratio, a, e, lip):
        return float(f(float(synthetic_ratio), float(a), float(e), float(lip)))

    fn.ratio = ratio
    return Built(rec, rho, boundary, steps, fn)


def _lambda_max():
    cond = sp.Eq(lmb * (1 + eps * L / alpha), (1 + gam) / (2 + gam))
    sol = sp.solve(cond, lmb)
    if len(sol) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one root, got {sol}")
    lam_max = sp.simplify(sol[0])
    lim = sp.simplify(sp.limit(lam_max, gam, sp.oo))
    ratio = sp.simplify(lim / lam_max.subs(gam, 0))
    steps = (
        Step("recursion", "given", cond,
             "boundary of the stability condition λ(1 + εL/α) < (1+γ)/(2+γ) (eq. 41)"),
        Step("solution", "solve", sp.Eq(sp.Symbol("λ_max(γ)"), lam_max)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_{γ→∞} λ_max"), lim)),
        Step("limit", "simplify", sp.Eq(sp.Symbol("lim_{γ→∞} λ_max / λ_max(0)"), ratio),
             "twice Bertrand et al.'s γ = 0 threshold (Gillman et al. 2024, §4)"),
    )
    f = lam((gam, alpha, eps, L), lam_max)
    f_lim = lam((alpha, eps, L), lim)

    def fn(correction_strength, a, e, lip):
        g = float(correction_strength)
        if math.isinf(g):
            return float(f_lim(float(a), float(e), float(lip)))
        return float(f(g, float(a), float(e), float(lip)))

    fn.ratio = ratio
    return Built(cond, lam_max, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# the mean-only loop with the corrector: E‖θ_t − µ*‖²
# --------------------------------------------------------------------------------------------


def _mean_mse():
    kap, kap2, r, v, s = sp.symbols("kappa kappa_2 r v s", positive=True)
    a_t = _rsolve(r * v + kap * A_(t), A_, v)
    parts = sp.collect(sp.expand(a_t), kap**t, evaluate=False)
    a_const, a_amp = parts.get(sp.S.One, 0), parts.get(kap**t, 0)
    if sp.simplify(a_const + a_amp * kap**t - a_t) != 0:  # pragma: no cover
        raise RuntimeError("a_t is not of the form A + c·κ^t")
    b_t = _rsolve_affine_geometric(kap2, r**2 * v + 2 * r * kap * a_const + s,
                                   2 * r * kap * a_amp, kap, v)
    b_t = sp.factor(sp.together(b_t))
    lim = _limit_geometric(b_t, (kap, kap2))
    # deterministic split: κ = m₁/N, κ₂ = κ², r = n/N, v = trΣ₀/n, s = m trΣ₀/N²
    n, m, m1, tr0 = sp.symbols("n m m_1 trSigma_0", positive=True)
    big = n + m
    det_subs = {kap: m1 / big, kap2: (m1 / big) ** 2, r: n / big, v: tr0 / n,
                s: m * tr0 / big**2}
    notes = n * tr0 / (n + m - m1) ** 2 + m * tr0 / (big**2 * (1 - (m1 / big) ** 2))
    det_check = _zero(lim.subs(det_subs) - notes)
    # random split: M₁ ~ Bin(m, q): E M₁ = mq, E M₁² = mq(1−q) + m²q²
    q = sp.Symbol("q", positive=True)
    rnd_subs = {kap: m * q / big, kap2: (m * q * (1 - q) + m**2 * q**2) / big**2, r: n / big,
                v: tr0 / n, s: m * tr0 / big**2}
    rec = (sp.Eq(A_(t + 1), r * v + kap * A_(t)),
           sp.Eq(B_(t + 1), r**2 * v + 2 * r * kap * A_(t) + kap2 * B_(t) + s))
    steps = (
        Step("recursion", "given", rec,
             "e_t = θ_t − µ*, u = x̄ − µ*: e_{t+1} = (n u + M₁e_t + ξ_t)/N, ξ_t ~ N(0, mΣ₀); "
             "a_t = E[e_t u], b_t = E‖e_t‖², a₀ = b₀ = v = trΣ₀/n; κ = EM₁/N, "
             "κ₂ = EM₁²/N², r = n/N, s = m trΣ₀/N² (reference notes §4.3, derived)"),
        Step("solution", "rsolve", sp.Eq(A_(t), a_t)),
        Step("solution", "rsolve", sp.Eq(B_(t), b_t)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim b_t"), lim),
             "0 < κ₂ < κ < 1: κ^t, κ₂^t → 0 (sp.limit of (1/(1+x))^t, x > 0)"),
        Step("limit", "simplify",
             sp.Eq(sp.Symbol("lim b_t (deterministic) − notes §4.3"), det_check),
             "κ = k_n = m₁/N, κ₂ = k_n²: n trΣ₀/(n+m₂)² + m trΣ₀/(N²(1 − k_n²)), m₂ = m − m₁"),
        Step("solution", "subs", sp.Eq(sp.Symbol("lim b_t (random)"),
                                       sp.factor(sp.together(lim.subs(rnd_subs)))),
             "M₁ ~ Bin(m, q), q = 1/(1+γ)"),
    )
    f_b = lam((t, kap, kap2, r, v, s), b_t)
    f_lim = lam((kap, kap2, r, v, s), lim)

    def _coeffs(n_val, m_val, g, split):
        n_val, m_val, big_n = float(n_val), float(m_val), float(n_val + m_val)
        if split == "deterministic":
            m1_val = 0.0 if math.isinf(g) else float(round(m_val / (1.0 + g)))
            k1, k2 = m1_val / big_n, (m1_val / big_n) ** 2
        elif split == "random":
            qv = 0.0 if math.isinf(g) else 1.0 / (1.0 + g)
            k1 = m_val * qv / big_n
            k2 = (m_val * qv * (1.0 - qv) + (m_val * qv) ** 2) / big_n**2
        else:
            raise ValueError(f"split must be 'random' or 'deterministic', got {split!r}")
        return k1, k2, n_val / big_n, m_val / big_n**2

    def fn(t_val, n_val, trace0, *, n_synthetic, correction_strength, split="random"):
        k1, k2, rv, sv = _coeffs(n_val, n_synthetic, float(correction_strength), split)
        tt = np.asarray(t_val, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(f_b(tt, k1, k2, rv, trace0 / float(n_val), sv * trace0)) + 0.0 * tt
        return float(out) if out.ndim == 0 else out

    def stationary(n_val, trace0, *, n_synthetic, correction_strength, split="random"):
        k1, k2, rv, sv = _coeffs(n_val, n_synthetic, float(correction_strength), split)
        return float(f_lim(k1, k2, rv, trace0 / float(n_val), sv * trace0))

    fn.stationary = stationary
    fn.deterministic_check = det_check
    return Built(rec, b_t, lim, steps, fn)


register("correction_population_map",
         "Corrected population map (Gaussian class): k-map and its t-step iterate",
         "Gillman et al. 2024 eq. 5, Def. 4.1; reference notes §4.2; derived",
         "theory.correction.corrected_population_iterate",
         "(t, mean0, cov0, target_mean, target_cov, synthetic_ratio, correction_strength)",
         _population_map,
         covers=("theory.correction.corrected_population_map",
                 "theory.correction.moment_matching_map",
                 "theory.correction.population_contraction"))
register("correction_jacobian", "Jacobian of the corrected population map at θ*: k·I",
         "Gillman et al. 2024 Lemma A.7; reference notes §4.2; derived",
         "theory.correction.population_map_jacobian",
         "(theta, target_mean, target_cov, synthetic_ratio, correction_strength) in 1-D",
         _jacobian)
register("correction_rho_stability",
         "ρ(λ) and the equivalence ρ/(1+γ) < 1 ⇔ λ(1+εL/α) < (1+γ)/(2+γ)",
         "Gillman et al. 2024 eq. 38, 40–41; Bertrand et al. 2024 (γ = 0)",
         "theory.correction.rho", "(synthetic_ratio, alpha, eps, lipschitz)", _rho_stability,
         covers=("theory.correction.stability_condition",
                 "theory.correction.contraction_bound"))
register("correction_lambda_max", "Admissible λ_max(γ) and lim_{γ→∞} λ_max = 2·λ_max(0)",
         "Gillman et al. 2024 §4, Conjecture 4.7; Bertrand et al. 2024 (γ = 0)",
         "theory.correction.lambda_max", "(correction_strength, alpha, eps, lipschitz)",
         _lambda_max)
register("correction_mean_mse",
         "Mean-only loop with the corrector: E‖θ_t − µ*‖² (random and deterministic split)",
         "Gillman et al. 2024 §4; reference notes §4.3; derived",
         "theory.correction.corrected_mix_mean_error2_known_cov",
         "(t, n, trace0, *, n_synthetic, correction_strength, split); .stationary(...) ~ "
         "corrected_mix_mean_error2_stationary", _mean_mse,
         covers=("theory.correction.corrected_mix_mean_error2_stationary",
                 "theory.correction.mean_loop_coefficients"))


# --------------------------------------------------------------------------------------------
# one finite-sample step: expectation of the pooled MLE
# --------------------------------------------------------------------------------------------


def _pooled_mle():
    """E[µ̂], E[σ̂²] of the pooled MLE on n real points (moments m_d, s_d) and m synthetic
    points from π_γ p_θ (moments m_π, s_π), 1-D: linearity of expectation for the mean;
    E σ̂² = E[(1/N)Σx²] − E[x̄²] with E[x̄²] = Var x̄ + (E x̄)² and Var x̄ from independence."""
    n_, m_ = sp.symbols("n m", positive=True)
    md, sd = sp.symbols("m_d s_d", real=True)
    fixed = sp.Symbol("f", nonnegative=True)  # 1: real points sampled, 0: held fixed
    w_t = gam / (1 + gam)
    m_pi = (1 - w_t) * mu + w_t * mus
    s_pi = ((1 - w_t) * (sig + (mu - m_pi) ** 2) + w_t * (sigs + (mus - m_pi) ** 2))
    big = n_ + m_
    e_xbar = (n_ * md + m_ * m_pi) / big
    e_second = (n_ * (sd + md**2) + m_ * (s_pi + m_pi**2)) / big
    var_xbar = (fixed * n_ * sd + m_ * s_pi) / big**2
    e_var = sp.simplify(e_second - (var_xbar + e_xbar**2))
    rec = sp.Eq(sp.Symbol("σ̂²"), sp.Symbol("(1/N)Σ x_i² − x̄²"))
    steps = (
        Step("recursion", "given", rec,
             "pooled MLE on N = n + m points: n from p_data (moments m_d, s_d; f = 1) or held "
             "fixed with those sample moments (f = 0), m i.i.d. from π_γ p_θ"),
        Step("mixture moments", "simplify", (sp.Symbol("m_π"), m_pi, sp.Symbol("s_π"), s_pi),
             "moments of (p_θ + γ p_θ*)/(1+γ) (Def. 4.1)"),
        Step("solution", "simplify", (sp.Symbol("E µ̂"), e_xbar, sp.Symbol("E σ̂²"), e_var),
             "E x̄² = Var x̄ + (E x̄)², Var x̄ = (f n s_d + m s_π)/N² (independent points)"),
    )
    f = lam((mu, sig, md, sd, mus, sigs, n_, m_, gam, fixed), (e_xbar, e_var))

    def fn(mean, cov, data_mean, data_cov, target_mean, target_cov, *, n_real, n_synthetic,
           correction_strength, real="sampled"):
        g = float(correction_strength)
        if math.isinf(g):
            raise ValueError("the lambdified record covers finite γ")
        a, b = f(float(np.ravel(mean)[0]), float(np.ravel(cov)[0]), float(np.ravel(data_mean)[0]),
                 float(np.ravel(data_cov)[0]), float(np.ravel(target_mean)[0]),
                 float(np.ravel(target_cov)[0]), float(n_real), float(n_synthetic), g,
                 1.0 if real == "sampled" else 0.0)
        return float(a), float(b)

    return Built(rec, (e_xbar, e_var), None, steps, fn)


register("correction_pooled_mle_step",
         "One finite-sample corrected step: E of the pooled MLE (mean and variance)",
         "Gillman et al. 2024 §4 (π_γG^n); derived", "theory.correction.pooled_mle_expectation",
         "(mean, cov, data_mean, data_cov, target_mean, target_cov, *, n_real, n_synthetic, "
         "correction_strength, real) in 1-D", _pooled_mle)


# --------------------------------------------------------------------------------------------
# statements transcribed from the papers (no derivation here, with the reason)
# --------------------------------------------------------------------------------------------


def _transcribed(lhs, expr, note, args, wrap):
    stmt = sp.Eq(sp.Symbol(lhs), expr)
    steps = (Step("statement", "taken from the paper", stmt, note),)
    return Built(stmt, expr, None, steps, wrap(lam(args, expr)))


_dist0, _d_u, _b_lip = sp.symbols("d_0 d_U B", nonnegative=True)
_a_tau, _b_tau, _eps_opt, _delta, _n_pts = sp.symbols("a b epsilon_OPT delta n", positive=True)
_i = sp.Symbol("i", integer=True, nonnegative=True)
_RHO = lmb * (alpha + eps * L) / (alpha - lmb * (alpha + eps * L))


def _definition():
    p_, ps_ = sp.symbols("p p^*", nonnegative=True)
    return _transcribed(
        "π_γ p", (p_ + gam * ps_) / (1 + gam),
        "Gillman et al. 2024, Definition 4.1 (eq. 4): the ideal corrector is defined as this "
        "mixture, so there is nothing to derive; Lemma A.2's identities are checked by "
        "tests/theory/test_correction.py", (p_, ps_, gam),
        lambda f: lambda p, p_star, correction_strength: f(
            np.asarray(p, float), np.asarray(p_star, float), float(correction_strength)))


def _lemma_a7():
    a_, c_ = sp.symbols("A C", positive=True)
    expr = (1 + lmb * c_ / a_) ** -1 * (lmb / (1 + gam)) * c_ / a_
    return _transcribed(
        "J(π_γG_λ^∞)(θ*)", expr,
        "Gillman et al. 2024, Lemma A.7-II (eq. 23), shown for scalars A, C (the toolkit "
        "evaluates the matrix form). Obtained in the paper by the implicit function theorem "
        "on H's first-order condition, not a recursion; the claim gillman2024.lemma_a7 "
        "compares it with the Jacobian of the exact map by automatic differentiation and "
        "with k·I", (a_, c_, lmb, gam),
        lambda f: lambda a, c, synthetic_ratio, correction_strength: np.atleast_2d(
            f(float(np.ravel(a)[0]), float(np.ravel(c)[0]), float(synthetic_ratio),
              float(correction_strength))))


def _theorem_a8():
    tt = sp.Symbol("t", integer=True, nonnegative=True)
    expr = (_RHO / (1 + gam)) ** tt * _dist0
    return _transcribed(
        "‖θ_t − θ*‖ ≤", expr,
        "Gillman et al. 2024, Theorem A.8 (eq. 39), with ρ(λ) of eq. 38 (derived in "
        "correction_rho_stability). A contraction statement proved from the mean value "
        "theorem and a Neumann-series norm bound, not a recursion with an exact solution; "
        "the claims compare it with the exact Gaussian loop's contraction",
        (tt, _dist0, lmb, gam, alpha, eps, L),
        lambda f: lambda t, dist0, synthetic_ratio, correction_strength, alpha_, eps_, lip: f(
            np.asarray(t, float), float(dist0), float(synthetic_ratio),
            float(correction_strength), float(alpha_), float(eps_), float(lip)))


def _theorem_4_3():
    tt = sp.Symbol("t", integer=True, positive=True)
    q = sp.Symbol("q", positive=True)  # ρ(λ)/(1+γ)
    tau = _eps_opt + _a_tau / sp.sqrt(_n_pts) * sp.sqrt(sp.log(_b_tau * tt / _delta))
    geometric = sp.summation(q**_i, (_i, 0, tt))  # sympy evaluates the printed Σ_{i=0}^{t}
    expr = (tau * geometric + q**tt * _dist0).subs(q, _RHO / (1 + gam))
    return _transcribed(
        "‖θ_t^n − θ*‖ ≤ (w.p. ≥ 1 − δ)", expr,
        "Gillman et al. 2024, Theorem 4.3 / A.11 (eq. 7) with τ_n(δ) = ε_OPT + (a/√n)"
        "√log(b/δ) (Assumption 4.2(3), eq. 6) at δ/t, q = ρ(λ)/(1+γ); sympy sums the "
        "geometric series. A high-probability statement (union bound over t steps), checked "
        "by the claim gillman2024.thm43.finite_sample against the sampled loop",
        (tt, _n_pts, _delta, _dist0, lmb, gam, alpha, eps, L, _a_tau, _b_tau, _eps_opt),
        lambda f: lambda t, n, delta, dist0, synthetic_ratio, correction_strength, alpha_, eps_,
        lip, a, b, eps_opt: f(np.asarray(t, float), float(n), float(delta), float(dist0),
                              float(synthetic_ratio), float(correction_strength), float(alpha_),
                              float(eps_), float(lip), float(a), float(b), float(eps_opt)))


def _prop_b2():
    expr = 2 * _b_lip + _RHO * (2 + gam) / (1 + gam)
    return _transcribed(
        "c", expr,
        "Gillman et al. 2024, Proposition B.2 (eq. 49): a constant assembled in the paper's "
        "proof from the triangle inequality (no recursion to solve)",
        (_b_lip, lmb, gam, alpha, eps, L),
        lambda f: lambda lipschitz_b, synthetic_ratio, correction_strength, alpha_, eps_, lip:
        float(f(float(lipschitz_b), float(synthetic_ratio), float(correction_strength),
                float(alpha_), float(eps_), float(lip))))


def _prop_a5():
    expr = -alpha * (1 + lmb) + lmb * L * (_d_u / (1 + gam) + eps)
    return _transcribed(
        "margin", expr,
        "Gillman et al. 2024, Proposition A.5(B): the sufficient condition (this < 0) for a "
        "unique local maximiser, stated in the paper from a Hessian bound; transcribed",
        (lmb, gam, alpha, eps, L, _d_u),
        lambda f: lambda synthetic_ratio, correction_strength, alpha_, eps_, lip, d_u: float(
            f(float(synthetic_ratio), float(correction_strength), float(alpha_), float(eps_),
              float(lip), float(d_u))))


register("correction_definition", "The ideal corrector π_γ p = (p + γ p*)/(1 + γ) (definition)",
         "Gillman et al. 2024, Definition 4.1", "theory.correction.corrected_density",
         "(p, p_star, correction_strength)", _definition,
         covers=("theory.correction.corrected_cdf",), taken_from_paper=True)
register("correction_lemma_a7", "Lemma A.7-II: J(θ*) = (I + λA⁻¹C)⁻¹(λ/(1+γ))A⁻¹C",
         "Gillman et al. 2024, Lemma A.7 (eq. 23)", "theory.correction.lemma_a7_jacobian",
         "(a, c, synthetic_ratio, correction_strength), scalars", _lemma_a7,
         taken_from_paper=True)
register("correction_theorem_a8", "Theorem A.8: (ρ(λ)/(1+γ))^t ‖θ₀ − θ*‖",
         "Gillman et al. 2024, Theorem A.8 (eq. 39)", "theory.correction.theorem_a8_bound",
         "(t, dist0, synthetic_ratio, correction_strength, alpha, eps, lipschitz)", _theorem_a8,
         taken_from_paper=True)
register("correction_theorem_4_3", "Theorem 4.3: τ_n(δ/t)Σ_{i≤t} q^i + q^t ‖θ₀ − θ*‖",
         "Gillman et al. 2024, Theorem 4.3 / A.11 (eq. 7), Assumption 4.2(3)",
         "theory.correction.theorem_4_3_bound",
         "(t, n, delta, dist0, synthetic_ratio, correction_strength, alpha, eps, lipschitz, a, "
         "b, eps_opt); terms='paper'",
         _theorem_4_3, covers=("theory.correction.tau_n",), taken_from_paper=True)
register("correction_prop_b2", "Proposition B.2: c = 2B + ρ(λ)(2+γ)/(1+γ)",
         "Gillman et al. 2024, Proposition B.2 (eq. 49)", "theory.correction.prop_b2_constant",
         "(lipschitz_b, synthetic_ratio, correction_strength, alpha, eps, lipschitz)", _prop_b2,
         taken_from_paper=True)
register("correction_prop_a5", "Proposition A.5(B): −α(1+λ) + λL(d_U/(1+γ) + ε) < 0",
         "Gillman et al. 2024, Proposition A.5(B)", "theory.correction.prop_a5_margin",
         "(synthetic_ratio, correction_strength, alpha, eps, lipschitz, d_u)", _prop_a5,
         taken_from_paper=True)


# --------------------------------------------------------------------------------------------
# numerical routines the claims use (not closed forms)
# --------------------------------------------------------------------------------------------

declare_numerical(
    "theory.correction.law_pdf",
    "evaluates a law's density (theory.laws or scipy.stats); tested equal to scipy.stats in "
    "tests/theory/test_correction.py::test_law_pdf_cdf_match_scipy")
declare_numerical(
    "theory.correction.law_cdf",
    "evaluates a law's CDF (theory.laws or scipy.stats); tested equal to scipy.stats in "
    "tests/theory/test_correction.py::test_law_pdf_cdf_match_scipy")
declare_numerical(
    "theory.correction.w1_1d",
    "W₁ = ∫|F_a − F_b| by adaptive quadrature between sign changes; tested against Gaussian "
    "closed forms and the quantile route ∫|F_a⁻¹ − F_b⁻¹| (test_w1_closed_forms, "
    "test_w1_matches_quantile_route)")
declare_numerical(
    "theory.correction.fit_tau_n",
    "a statistical fit of τ_n(δ)'s constants to sampled one-step errors (order statistics); "
    "tested to recover known constants (test_fit_tau_n_recovers_exact_constants)")
declare_numerical(
    "theory.correction.logistic_location",
    "θ*, A, B, C, α, L, ε of the logistic location model by Gauss–Hermite/adaptive quadrature "
    "and root finding (B from logistic_cross_hessian); tested on symmetric data where θ* is "
    "known (test_logistic_location_symmetric_data)")
declare_numerical(
    "theory.correction.logistic_cross_hessian",
    "Lemma A.7's B = E_f tanh²(u/2) for the logistic location class, by quadrature of the "
    "cross-expectation differentiated under the integral; tested against its sympy closed form "
    "1/3 (= the former hard-coded −C), adaptive quadrature and finite differences of the cross "
    "score (test_logistic_cross_hessian_b_equals_the_former_constant)")
declare_numerical(
    "theory.correction.logistic_location_map",
    "the logistic population map as the root of its score equation (quadrature + brentq); "
    "tested for the fixed point θ* and Lemma A.7's Jacobian by finite differences "
    "(test_logistic_map_fixed_point_jacobian_and_objective)")
declare_numerical(
    "theory.correction.logistic_location_objective",
    "H(θ, θ') of eq. 10–11 by quadrature; tested to be maximised at logistic_location_map's "
    "root (test_logistic_map_fixed_point_jacobian_and_objective)")
declare_numerical(
    "theory.correction.lemma_a7_matrices",
    "Lemma A.7's Hessians A, B, C by JAX automatic differentiation; tested against the 1-D "
    "closed forms (test_lemma_a7_matrices_closed_form_1d)")
declare_numerical(
    "theory.correction.implicit_map_jacobian",
    "Lemma A.7-I's Jacobian at any θ by automatic differentiation of the implicit map; tested "
    "against the exact map's Jacobian and k·I (test_jacobian_three_routes)")
declare_numerical(
    "theory.correction.theta_from_gaussian",
    "packs (µ, Σ) into θ = (µ, vech Σ), a change of coordinates with no formula to derive; "
    "tested by round trip (test_theta_roundtrip_and_errors)")

# Helpers of the logistic and Gaussian correction maps that claims now call directly (the
# claims recompute B, C, the map and its Jacobian by routes independent of the library's).
declare_numerical(
    "theory.correction._expect",
    "∫ fn·pdf by the trapezoidal rule after a sinh change of variables; tested against "
    "scipy.integrate.quad to 1e-12 (test_expectation_rule_matches_adaptive_quadrature)")
declare_numerical(
    "theory.correction._logistic_pdf",
    "the standard logistic density σ(u)(1 − σ(u)) via scipy.special.expit; integrates to 1 "
    "and gives the known θ* on symmetric data (test_logistic_location_symmetric_data)")
declare_numerical(
    "theory.correction._score_data",
    "E_{p_data} tanh((x − θ')/2) by _expect (quadrature); its root is the logistic map, "
    "tested in test_logistic_map_fixed_point_jacobian_and_objective")
declare_numerical(
    "theory.correction._score_logistic",
    "E_{p_θ} tanh((x − θ')/2) by _expect (quadrature); zero at θ' = θ by symmetry, tested "
    "through the map's fixed point (test_logistic_map_fixed_point_jacobian_and_objective)")
declare_numerical(
    "theory.correction._weights",
    "parameter packing: the weights (1/(1+λ), λ/((1+λ)(1+γ)), λγ/((1+λ)(1+γ))) of eq. 4's "
    "mixture; tested to sum to 1 and against the k-map closed form "
    "(test_k_map_equals_moment_matching_and_closed_form)")
declare_numerical(
    "theory.correction._mix_moments",
    "mean and covariance of a mixture from its components' moments (law of total "
    "covariance); tested against the k-map's closed form "
    "(test_k_map_equals_moment_matching_and_closed_form)")
declare_numerical(
    "theory.correction.theta_to_gaussian",
    "parameter packing: (µ, vech Σ) → (µ, Σ), the inverse of theta_from_gaussian; tested by "
    "the round trip and its errors (test_theta_roundtrip_and_errors)")
declare_numerical(
    "theory.correction.expected_loglik_gaussian",
    "E_q log N(x; µ', Σ') from q's first two moments (an identity of the Gaussian log density); "
    "tested through Lemma A.7's Hessians by automatic differentiation "
    "(test_lemma_a7_matrices_with_other_data_moments)")

# the Fig. 2 loop as the authors ran it (gillman2024.fig2.authors) evaluates W₂ and the model's
# square root directly
declare_numerical(
    "theory.distances.gaussian_w2",
    "W₂ between Gaussians by the Dowson–Landau formula with the trace of the matrix square root "
    "from an eigendecomposition; tested against the scipy.linalg.sqrtm route and the 1-D closed "
    "form (tests/theory/test_distances.py::test_w2_and_kl_match_independent_formulas, "
    "test_one_dimensional_closed_forms)")
declare_numerical(
    "theory.distances.sqrtm_psd",
    "the symmetric square root of a PSD matrix by an eigendecomposition (eigenvalues clipped at "
    "0), a numerical routine; exercised through gaussian_w2's tests against scipy.linalg.sqrtm "
    "(tests/theory/test_distances.py)")

from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
