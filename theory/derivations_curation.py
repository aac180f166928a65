"""Sympy derivations for Ferbach et al. 2024 (K-choice curation).

Records are registered into :mod:`theory.derivations` on import. Each starts from a one-step
recursion or identity of the curated loop and lets sympy produce the solution (``rsolve``,
``solve``, ``simplify``) and the limit (``limit``); ``lambdify()`` evaluates the derived
expression with the argument convention of the numeric function named in ``numeric``
(tests/theory/test_derivations_curation.py compares them to a relative error of 1e-10).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory._derivation_registry import Built, Step, lam, register

t = sp.Symbol("t", integer=True, nonnegative=True)
K = sp.Symbol("K", integer=True, positive=True)
S = sp.Function("S")
m1, m2, var = sp.symbols("m_1 m_2 sigma^2", positive=True)  # E e^r, E e^{2r}, Var e^r
y = sp.Symbol("y", positive=True)  # e^{r(x)}
lam_ = sp.Symbol("lambda", positive=True)
delta = sp.Symbol("Delta", positive=True)


def _rsolve(rhs, init):
    eq = sp.Eq(S(t + 1), rhs)
    sol = sp.rsolve(eq.lhs - eq.rhs, S(t), {S(0): init})
    if sol is None:  # pragma: no cover - sympy regression guard
        raise RuntimeError(f"rsolve failed on {eq}")
    return eq, sp.simplify(sol)


def _out(v):
    v = np.asarray(v, dtype=np.float64)
    return float(v) if v.ndim == 0 else v


# --------------------------------------------------------------------------------------------
# Lemma 2.2: the K = ∞ increment and the finite-K identity
# --------------------------------------------------------------------------------------------


def _tilt_increment():
    # K = ∞: p_{t+1} = p e^r / m1, so E_{p_{t+1}}[e^r] = E_p[e^{2r}]/E_p[e^r] = m2/m1
    rec = sp.Eq(sp.Symbol("E_{t+1}[e^r]"), m2 / m1)
    inc = sp.simplify(m2 / m1 - m1)
    as_var = sp.simplify(inc.subs(m2, var + m1**2))
    # finite K: the proof identity Σ y_k²/S − ȳ = Σ(y_k − ȳ)²/S, checked for K = 3 symbols
    ys = sp.symbols("y_1:4", positive=True)
    tot = sum(ys)
    ybar = tot / 3
    ident = sp.simplify(sum(v**2 for v in ys) / tot - ybar
                        - sum((v - ybar) ** 2 for v in ys) / tot)
    steps = (
        Step("recursion", "given", rec,
             "K = ∞ update p_{t+1} = p_t e^r/E_{p_t}[e^r]; m_1 = E e^r, m_2 = E e^{2r}"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("E_{t+1}[e^r] − E_t[e^r]"), inc)),
        Step("solution", "subs", sp.Eq(sp.Symbol("E_{t+1}[e^r] − E_t[e^r]"), as_var),
             "m_2 = σ² + m_1²: the increment is Var_p[e^r]/E_p[e^r] ≥ 0"),
        Step("solution", "simplify",
             sp.Eq(sp.Symbol("Σy_k²/S − ȳ − Σ(y_k−ȳ)²/S (K=3)"), ident),
             "finite K: E_{pH}[e^r] = E[Σ y_k²/S] = E ȳ + E[Σ(y_k − ȳ)²/S] ≥ E_p e^r + "
             "(K−1)Var/(K e^{r_*}), since S ≤ K e^{r_*} and E Σ(y_k − ȳ)² = (K−1)Var"),
    )
    f = lam((m1, var), as_var)

    def fn(p, reward):
        from theory.curation_discrete import exp_reward_moments

        mom = exp_reward_moments(p, reward)
        return _out(f(mom.mean, mom.var))

    return Built(rec, as_var, None, steps, fn)


# --------------------------------------------------------------------------------------------
# Lemma 2.1: the K → ∞ limit at rate 1/K
# --------------------------------------------------------------------------------------------


def _large_k():
    mu, dd = sp.symbols("mu D")
    big = sp.Symbol("K", positive=True)
    # H^K(x) = K y E[1/(Kμ + D)], D = (y − μ) + (S_{K−1} − (K−1)μ): second-order expansion
    series = sp.series(1 / (big * mu + dd), dd, 0, 3).removeO()
    e_d, e_d2 = y - mu, (y - mu) ** 2 + (big - 1) * var  # E D, E D²
    expectation = sp.expand(series).subs(dd**2, e_d2).subs(dd, e_d)
    h_k = big * y * expectation
    rec = sp.Eq(sp.Symbol("H^K(x)"), big * y * sp.Symbol("E[1/(y + S_{K−1})]"))
    coef = sp.simplify(sp.limit(big * (h_k - y / mu), big, sp.oo))
    lim_h = sp.limit(h_k, big, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "S_{K−1}: sum of K − 1 i.i.d. e^{r(X)}, mean μ, variance σ²; y = e^{r(x)}"),
        Step("solution", "subs", sp.Eq(sp.Symbol("H^K(x) (2nd order)"), sp.simplify(h_k)),
             "1/(Kμ + D) expanded to D², E D = y − μ, E D² = (y − μ)² + (K − 1)σ²"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim H^K"), lim_h), "Lemma 2.1: the tilt"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim K(H^K − y/μ)"), coef),
             "rate 1/K; the neglected terms are O(K⁻²) on a finite support"),
    )
    f = lam((y, mu, var), coef)

    def fn(p, reward):
        from theory.curation_discrete import exp_reward_moments

        mom = exp_reward_moments(p, reward)
        r = np.asarray(reward, dtype=np.float64)
        return _out(f(np.exp(r - mom.r_star), mom.mean, mom.var))

    return Built(rec, coef, lim_h, steps, fn)


# --------------------------------------------------------------------------------------------
# Gaussian K = ∞ tilts
# --------------------------------------------------------------------------------------------


def _linear_tilt():
    mu0, c = sp.symbols("mu_0 c")
    rec, sol = _rsolve(S(t) + c, mu0)
    steps = (
        Step("recursion", "given", rec,
             "K = ∞ tilt of N(μ, Σ) by r = aᵀx: μ_{t+1} = μ_t + Σa (per coordinate, c = (Σa)_i); "
             "Σ unchanged"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
    )
    f = lam((t, mu0, c), sol)

    def fn(mean, cov, direction, t_val=1):
        shift = np.asarray(cov, dtype=np.float64) @ np.asarray(direction, dtype=np.float64)
        return _out(f(float(t_val), np.asarray(mean, dtype=np.float64), shift)), \
            np.asarray(cov, dtype=np.float64)

    return Built(rec, sol, None, steps, fn)


def _quadratic_tilt():
    p0, a_, c, mu0 = sp.symbols("P_0 A c mu_0", real=True)
    prec_rec, prec = _rsolve(S(t) + a_, p0)
    eta_rec, eta = _rsolve(S(t) + a_ * c, p0 * mu0)
    mean = sp.simplify(eta / prec)
    a_pos = sp.Symbol("A_+", positive=True)
    lim = sp.limit(mean.subs(a_, a_pos), t, sp.oo)
    steps = (
        Step("recursion", "given", prec_rec,
             "1-D K = ∞ tilt by r = −A(x − c)²/2: precision P_{t+1} = P_t + A (S = P)"),
        Step("recursion", "given", eta_rec, "natural mean η = Pμ: η_{t+1} = η_t + Ac (S = η)"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("P_t"), prec)),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("μ_t"), mean), "μ_t = η_t/P_t"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim μ_t (A > 0)"), lim),
             "the mean goes to the top of the reward, the variance 1/P_t to 0 like 1/(tA)"),
    )
    f_var = lam((t, p0, a_), 1 / prec)
    f_mean = lam((t, p0, a_, c, mu0), mean)

    def fn(mean_val, cov, center, matrix, t_val=1):
        v0 = float(np.asarray(cov, dtype=np.float64).reshape(()))
        a_val = float(np.asarray(matrix, dtype=np.float64).reshape(()))
        c_val = float(np.asarray(center, dtype=np.float64).reshape(()))
        m0 = float(np.asarray(mean_val, dtype=np.float64).reshape(()))
        return (np.array([float(f_mean(float(t_val), 1.0 / v0, a_val, c_val, m0))]),
                np.array([[float(f_var(float(t_val), 1.0 / v0, a_val))]]))

    return Built(prec_rec, {"precision": prec, "mean": mean}, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# Gaussian-family mixed loop at K = ∞: fixed point and its existence condition
# --------------------------------------------------------------------------------------------


def _mixed_fixed_point():
    mud, vd, a_ = sp.symbols("mu_d sigma_d^2 a", positive=True)
    mu, v = sp.symbols("mu sigma^2", positive=True)
    w = 1 / (1 + lam_)
    tilted = mu + v * a_
    new_mu = w * mud + (1 - w) * tilted
    new_v = w * (vd + (mud - new_mu) ** 2) + (1 - w) * (v + (tilted - new_mu) ** 2)
    rec = (sp.Matrix([sp.Symbol("μ'"), sp.Symbol("σ'²")]), sp.Matrix([new_mu, new_v]))
    mu_star = sp.solve(sp.Eq(mu, new_mu), mu)[0]
    v_eq = sp.simplify(sp.numer(sp.together(new_v.subs(mu, mu_star) - v)))
    roots = sp.solve(v_eq, v)
    kappa, sd, s = sp.symbols("kappa s_d s", positive=True)
    # the root that tends to σ_d² as λ → 0 (the other one blows up)
    stable = [rt for rt in roots if sp.limit(rt, lam_, 0) == vd][0]
    s_roots = sp.solve(sp.Eq(s, sd / (1 - kappa * s)), s)
    disc = sp.discriminant(sp.numer(sp.together(s - sd / (1 - kappa * s))), s)
    stable_r = sp.simplify(1 / sp.radsimp(1 / stable))  # no cancellation for small λ
    steps = (
        Step("recursion", "given", rec,
             "1-D moment matching of w N(μ_d, σ_d²) + (1 − w) N(μ + σ²a, σ²), w = 1/(1+λ)"),
        Step("solution", "solve", sp.Eq(sp.Symbol("μ*"), mu_star)),
        Step("solution", "solve", sp.Eq(sp.Symbol("σ*²"), sp.simplify(stable)),
             "root of the quadratic in σ² that tends to σ_d² as λ → 0"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("σ*²"), stable_r),
             "rationalised (radsimp): the form evaluated, free of cancellation as λ → 0"),
        Step("solution", "solve", (sp.Symbol("s* roots"), tuple(s_roots)),
             "along a in d dimensions: s* = s_d/(1 − κs*), κ = λ(1+λ), s = aᵀΣa"),
        Step("limit", "solve", sp.Eq(sp.Symbol("discriminant"), sp.factor(disc)),
             "real fixed point iff 1 − 4κ s_d ≥ 0, i.e. 4λ(1+λ)aᵀΣ_d a ≤ 1; otherwise the "
             "variance along a diverges"),
    )
    f_mu = lam((mud, vd, a_, lam_), mu_star.subs(v, stable_r))
    f_v = lam((vd, a_, lam_), stable_r)

    def fn(data_mean, data_cov, direction, synthetic_ratio):
        md = float(np.asarray(data_mean, dtype=np.float64).reshape(()))
        v0 = float(np.asarray(data_cov, dtype=np.float64).reshape(()))
        av = float(np.asarray(direction, dtype=np.float64).reshape(()))
        if not 4 * synthetic_ratio * (1 + synthetic_ratio) * av * av * v0 <= 1:
            raise ValueError("no fixed point: 4 lambda (1+lambda) a^2 sigma_d^2 > 1")
        return (np.array([float(f_mu(md, v0, av, float(synthetic_ratio)))]),
                np.array([[float(f_v(v0, av, float(synthetic_ratio)))]]))

    return Built(rec, {"mean": mu_star.subs(v, stable_r), "variance": stable_r}, disc, steps, fn)


# --------------------------------------------------------------------------------------------
# Theorem 2.4: the density-ratio fixed point
# --------------------------------------------------------------------------------------------


def _thm24():
    c = sp.Symbol("c", positive=True)
    rec, sol = _rsolve((1 + lam_ * K * S(t)) / (1 + lam_), 1)
    fixed = sp.solve(sp.Eq(c, (1 + lam_ * K * c) / (1 + lam_)), c)[0]
    kl = -sp.log(sp.simplify(1 / fixed))
    steps = (
        Step("recursion", "given", rec,
             "H < K gives p_{t+1} ≤ p_data/(1+λ) + λK p_t/(1+λ); with p_t ≤ c_t p_data: "
             "c_{t+1} = (1 + λK c_t)/(1+λ), c_0 = 1 (p_0 = p_data)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol),
             "increasing in t, geometric with ratio λK/(1+λ) < 1 iff λ(K − 1) < 1"),
        Step("limit", "solve", sp.Eq(sp.Symbol("c"), sp.simplify(fixed)),
             "fixed point of c ↦ (1 + λKc)/(1+λ): sup_x p_t/p_data ≤ c for all t"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("KL bound"), kl),
             "KL(p_t‖p_data) ≤ log sup p_t/p_data = −log(1 − λ(K − 1)) (Theorem 2.4)"),
    )
    f = lam((K, lam_), fixed)

    def fn(curation_k, synthetic_ratio):
        return _out(f(float(curation_k), float(synthetic_ratio)))

    return Built(rec, sol, fixed, steps, fn)


# --------------------------------------------------------------------------------------------
# Theorem 2.1: the late-time contraction factor
# --------------------------------------------------------------------------------------------


def _contraction():
    big = sp.Symbol("K", positive=True)
    # once p_t sits on A*, the K − 1 competitors are in A* (reward r_*) almost surely
    h_second = big * sp.exp(-delta) / (sp.exp(-delta) + big - 1)
    h_top = big / (1 + big - 1)
    rec = sp.Eq(sp.Symbol("P_{t+1}(A*^c)/P_t(A*^c)"), sp.Symbol("H(r_* − Δ)"))
    factor = sp.simplify(h_second / h_top)
    lim = sp.limit(factor, big, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "late time: the mass outside A* sits on the second level r_* − Δ and the K − 1 "
             "competitors are in A*: H(r_* − Δ) = K e^{−Δ}/(e^{−Δ} + K − 1), H(r_*) = 1"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("ρ_K"), factor)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_{K→∞} ρ_K"), lim), "the K = ∞ rate e^{−Δ}"),
    )
    f = lam((big, delta), factor)
    f_lim = lam((delta,), lim)

    def fn(curation_k, gap):
        if curation_k == np.inf:
            return _out(f_lim(float(gap)))
        return _out(f(float(curation_k), float(gap)))

    return Built(rec, factor, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# Theorem 2.2 with L = 0: mean-only Gaussian family
# --------------------------------------------------------------------------------------------


def _mean_only():
    th, mud, shift, th0 = sp.symbols("theta mu_d c_K theta_0", real=True)
    w = 1 / (1 + lam_)
    step = w * mud + (1 - w) * (th + shift)
    rho = sp.simplify(sp.diff(step, th))
    fixed = sp.solve(sp.Eq(th, step), th)[0]
    rec, sol = _rsolve(rho * S(t), th0 - fixed)
    steps = (
        Step("recursion", "given", sp.Eq(sp.Symbol("θ_{t+1}"), step),
             "mean-only N(θ, σ²I), linear reward, any K: c_K = σ² a m_K(s)/s (a constant)"),
        Step("solution", "diff", sp.Eq(sp.Symbol("ρ"), rho),
             "the map is affine: contraction λ/(1+λ) = Theorem 2.2's ρ at L = 0"),
        Step("solution", "solve", sp.Eq(sp.Symbol("θ*"), fixed), "not the data mean μ_d"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("θ_t − θ*"), sol),
             "KL(p_θ*‖p_θt) = ‖θ_t − θ*‖²/(2σ²) decays like ρ^{2t}"),
    )
    f = lam((lam_,), rho)

    def fn(synthetic_ratio, alpha, eps, lipschitz):
        if float(eps) * float(lipschitz) != 0.0:
            raise ValueError("the mean-only family has L = 0")
        return _out(f(float(synthetic_ratio)))

    return Built(sp.Eq(sp.Symbol("θ_{t+1}"), step), rho, fixed, steps, fn)


register("curation_tilt_increment", "Lemma 2.2 at K = ∞: E_{t+1}[e^r] − E_t[e^r] = Var/E",
         "Ferbach et al. 2024, Lemma 2.2; reference notes §2; derived",
         "theory.curation_discrete.tilt_exp_reward_increment",
         "(p, reward) in units of e^{r_*}", _tilt_increment)
register("curation_large_k", "Lemma 2.1: K(H^K − e^r/E e^r) → (y/μ)(σ²/μ² + 1 − y/μ)",
         "Ferbach et al. 2024, Lemma 2.1; derived (delta method)",
         "theory.curation_discrete.large_k_coefficient", "(p, reward)", _large_k)
register("curation_linear_tilt", "K = ∞ Gaussian tilt, linear reward: μ_t = μ_0 + tΣa",
         "Ferbach et al. 2024, Lemma 2.1; reference notes §5.1; derived",
         "theory.curation_gaussian.linear_tilt", "(mean, cov, direction, t) -> (mean_t, cov)",
         _linear_tilt)
register("curation_quadratic_tilt", "K = ∞ Gaussian tilt, quadratic reward: Σ_t⁻¹ = Σ_0⁻¹ + tA",
         "Ferbach et al. 2024, Lemma 2.1; reference notes §5.2; derived",
         "theory.curation_gaussian.quadratic_tilt",
         "(mean, cov, center, matrix, t) -> (mean_t, cov_t), 1-D", _quadratic_tilt)
register("curation_mixed_fixed_point",
         "K = ∞ Gaussian-family mixed loop: fixed point, exists iff 4λ(1+λ)aᵀΣ_d a ≤ 1",
         "reference notes §5.1; derived",
         "theory.curation_gaussian.gaussian_mixed_tilt_fixed_point",
         "(data_mean, data_cov, direction, synthetic_ratio) -> (mean*, cov*), 1-D",
         _mixed_fixed_point)
register("curation_thm24_ratio", "Theorem 2.4: sup p_t/p_data ≤ 1/(1 − λ(K − 1))",
         "Ferbach et al. 2024, Theorem 2.4; reference notes §2; derived",
         "theory.curation_discrete.thm24_density_ratio_bound", "(curation_k, synthetic_ratio)",
         _thm24)
register("curation_top_contraction", "Theorem 2.1: late-time factor K/(1 + (K − 1)e^Δ) → e^{−Δ}",
         "reference notes §2; derived", "theory.curation_discrete.top_level_contraction",
         "(curation_k, gap)", _contraction)
register("curation_mean_only_contraction",
         "Theorem 2.2 at L = 0: mean-only family contracts by λ/(1+λ)",
         "Ferbach et al. 2024, Theorem 2.2; reference notes §2, §5.1; derived",
         "theory.curation_gaussian.thm22_rho", "(synthetic_ratio, alpha, eps=0, lipschitz=0)",
         _mean_only)
