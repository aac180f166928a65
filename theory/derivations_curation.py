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

from theory._derivation_registry import Built, Step, declare_numerical, lam, register

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
             "mean-only N(θ, σ²I), linear reward, any K: c_K = σ² a m_K(s)/s (a constant), "
             "the mean shift of the curated law of N(θ, σ²I), with m_K(s), s = σ‖a‖, from the "
             "selection_moments quadrature; mixing with p_data gives weight w = 1/(1+λ) to μ_d "
             "(the toolkit's mean_only_curation_step)"),
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
         _thm24, covers=("theory.curation_discrete.thm24_kl_bound",))
register("curation_top_contraction", "Theorem 2.1: late-time factor K/(1 + (K − 1)e^Δ) → e^{−Δ}",
         "reference notes §2; derived", "theory.curation_discrete.top_level_contraction",
         "(curation_k, gap)", _contraction)
register("curation_mean_only_contraction",
         "Theorem 2.2 at L = 0: mean-only family contracts by λ/(1+λ)",
         "Ferbach et al. 2024, Theorem 2.2; reference notes §2, §5.1; derived",
         "theory.curation_gaussian.thm22_rho", "(synthetic_ratio, alpha, eps=0, lipschitz=0)",
         _mean_only, covers=("theory.curation_gaussian.mean_only_curation_step",
                             "theory.curation_gaussian.mean_only_fixed_point"))


# ============================================================================================
# Further records: every curation function a claim uses is derived here, marked as taken from
# the paper, or declared numerical (bottom of the module).
# ============================================================================================


def _gibbs(beta):
    """Maximiser and maximum of E_q[r] − β KL(q‖p) on three atoms (Lagrange, sympy)."""
    nu = sp.Symbol("nu", real=True)
    q = sp.Symbol("q", positive=True)
    ps = sp.symbols("p_1:4", positive=True)
    rs = sp.symbols("r_1:4", real=True)
    lagr = q * rs[0] - beta * q * sp.log(q / ps[0]) - nu * q
    q1 = sp.solve(sp.diff(lagr, q), q)[0]
    qs = [q1.subs({rs[0]: rs[i], ps[0]: ps[i]}, simultaneous=True) for i in range(3)]
    nu_star = sp.solve(sp.Eq(sum(qs), 1), nu)[0]
    qs = [sp.simplify(v.subs(nu, nu_star)) for v in qs]
    value = sp.simplify(sum(v * r for v, r in zip(qs, rs, strict=True))
                        - beta * sum(v * sp.expand_log(sp.log(v / p), force=True)
                                     for v, p in zip(qs, ps, strict=True)))
    return lagr, qs, value, ps, rs


# --------------------------------------------------------------------------------------------
# K = ∞ pure loop: t rounds of the tilt, and the RLHF (Gibbs) variational principle
# --------------------------------------------------------------------------------------------


def _tilt_power():
    ell0, r = sp.symbols("ell_0 r", real=True)
    rec, sol = _rsolve(S(t) + r, ell0)
    beta = sp.Symbol("beta", positive=True)
    lagr, qs, value, ps, rs = _gibbs(beta)
    tt = sp.Symbol("t", positive=True)
    unnorm = [p * sp.exp(sol.subs({ell0: 0, r: ri, t: tt})) for p, ri in zip(ps, rs,
                                                                              strict=True)]
    tilt = unnorm[0] / sum(unnorm)
    same = sp.simplify(qs[0].subs(beta, 1 / tt) - tilt)
    steps = (
        Step("recursion", "given", rec,
             "K = ∞ pure loop p_{t+1} = p_t e^r/E_{p_t}[e^r]; S = ℓ, the log of the unnormalised "
             "density at one atom (the normaliser is common to all atoms and cancels)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol),
             "with ℓ_0 = log p_0: p_t = p_0 e^{t r}/E_{p_0}[e^{t r}] (normalised, log space)"),
        Step("solution", "diff", sp.Eq(sp.Symbol("∂L/∂q_1"), sp.diff(lagr, sp.Symbol("q",
                                                                                 positive=True))),
             "Gibbs variational principle: Lagrangian of max_q E_q[r] − β KL(q‖p) − ν(Σq − 1), "
             "written for the first of three atoms"),
        Step("solution", "solve", sp.Eq(sp.Symbol("q_1*"), qs[0]),
             "stationary point, ν fixed by Σ q = 1: q* = p e^{r/β}/E_p[e^{r/β}]"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("max_q E_q[r] − βKL(q‖p)"), value),
             "the value β log E_p[e^{r/β}] (β = 1: the Donsker–Varadhan bound "
             "E_q[r] ≤ KL(q‖p) + log E_p[e^r])"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("q*(β = 1/t) − p_t"), same),
             "t rounds of the K = ∞ loop = the RLHF optimum with β = 1/t and reference p_0"),
    )
    f = lam((ell0, r, t), sol)

    def fn(p0, reward, t_val):
        from scipy.special import logsumexp

        p0 = np.asarray(p0, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        tv = np.asarray(t_val, dtype=np.float64)
        with np.errstate(divide="ignore"):
            logp = np.log(p0)
        ell = f(logp, r_, tv[..., None])
        ell = np.where(p0 > 0, ell, -np.inf)
        return np.exp(ell - logsumexp(ell, axis=-1, keepdims=True))

    return Built(rec, sol, value, steps, fn)


# --------------------------------------------------------------------------------------------
# Lemma 2.2 telescoped: the variance budget
# --------------------------------------------------------------------------------------------


def _lemma22_budget():
    big = sp.Symbol("K", positive=True)
    m = sp.Function("m")  # m(t) = E_{p_t}[e^{r − r_*}] ∈ (0, 1]
    v = sp.Function("V")  # V(t) = Var_{p_t}[e^{r − r_*}]
    m0 = sp.Symbol("m_0", positive=True)
    big_t = sp.Symbol("T", integer=True, positive=True)
    rec = sp.Ge(m(t + 1) - m(t), (big - 1) / big * v(t))
    tele = sp.summation(m(t + 1) - m(t), (t, 0, big_t - 1))
    partial = big / (big - 1) * tele
    budget = sp.simplify(partial.subs({m(big_t): 1, m(0): m0}))
    lim = sp.limit(budget, big, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "Lemma 2.2 in units of e^{r_*}: E_{p_{t+1}}[y] − E_{p_t}[y] ≥ (K−1)Var_{p_t}[y]/K, "
             "y = e^{r − r_*} ∈ (0, 1], for the pure curated loop"),
        Step("solution", "summation",
             sp.Eq(sp.Symbol("Σ_{t<T} V(t) ≤ K/(K−1) Σ_{t<T}(m(t+1) − m(t))"), partial),
             "the sum telescopes"),
        Step("solution", "subs", sp.Eq(sp.Symbol("Σ_{t≥0} Var_{p_t}[y]"), budget),
             "m(T) ≤ max y = 1 for every T, so the bound holds for the infinite sum; K ≥ 2"),
        Step("limit", "limit", sp.Eq(sp.Symbol("K → ∞"), lim), "the K = ∞ budget"),
    )
    f = lam((big, m0), budget)
    f_inf = lam((m0,), lim)

    def fn(p0, reward, curation_k):
        p = np.asarray(p0, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        if curation_k == 1:
            raise ValueError("Lemma 2.2 needs curation_k >= 2 (K = 1 leaves p unchanged)")
        mean = float(p @ np.exp(r_ - r_[p > 0].max()))
        if curation_k == np.inf:
            return _out(f_inf(mean))
        return _out(f(float(curation_k), mean))

    return Built(rec, budget, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# Theorem 2.1: KL(p_*‖p_t) = −log P_t(A*)
# --------------------------------------------------------------------------------------------


def _top_level_kl():
    from sympy.codegen.cfunctions import log1p

    big_p = sp.Symbol("P", positive=True)  # P_t(A*)
    eps = sp.Symbol("epsilon", positive=True)  # P_t(A*^c) = 1 − P
    ps = sp.symbols("p_1:4", positive=True)  # p_* on three atoms of A*
    rec = sp.Eq(sp.Symbol("p_t(x), x ∈ A*"), big_p * sp.Symbol("p_*(x)"))
    kl = sum(p * sp.log(p / (big_p * p)) for p in ps)
    kl = sp.simplify(sp.expand_log(kl, force=True).subs(ps[2], 1 - ps[0] - ps[1]))
    kl_eps = log1p(-eps) * (kl / sp.log(big_p))  # −log P with P = 1 − ε, cancellation-free
    steps = (
        Step("recursion", "given", rec,
             "H^K_p depends on x only through r(x), so the loop keeps p_t(·|A*) = p_0(·|A*) = "
             "p_*: on A* p_t = P_t(A*) p_*, and p_* = 0 off A*"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("KL(p_*‖p_t)"), kl),
             "Σ_{A*} p_* log(p_*/(P p_*)) with Σ p_* = 1 (three atoms written out)"),
        Step("solution", "subs", sp.Eq(sp.Symbol("KL(p_*‖p_t)"), kl_eps),
             "P = 1 − ε, ε = P_t(A*^c): −log1p(−ε), used while ε < 1/2 (full relative precision "
             "as ε → 0)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("ε → 0"), sp.limit(kl_eps.rewrite(sp.log), eps, 0)),
             "Theorem 2.1: p_t → p_* iff P_t(A*) → 1"),
    )
    f_p = lam((big_p,), kl)
    f_eps = lam((eps,), kl_eps)

    def fn(p_t, p0, reward):
        p_t = np.asarray(p_t, dtype=np.float64)
        p0 = np.asarray(p0, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        mask = r_ == r_[p0 > 0].max()
        outside = float(p_t[~mask].sum())
        if outside < 0.5:
            return _out(f_eps(outside))
        return _out(f_p(float(p_t[mask].sum())))

    return Built(rec, kl, sp.Integer(0), steps, fn)


# --------------------------------------------------------------------------------------------
# K = ∞ mixed loop on a discrete law: the stationary law
# --------------------------------------------------------------------------------------------


def _mixed_tilt_stationary():
    d, yy, p = sp.symbols("d y p", positive=True)  # p_data(x), e^{r(x) − r_*}, p_∞(x)
    z = sp.Symbol("z", positive=True)  # Z e^{−r_*}
    s1, sy = sp.symbols("Σp Σpy", positive=True)
    step = d / (1 + lam_) + lam_ / (1 + lam_) * p * yy / z
    rec = sp.Eq(sp.Symbol("p_{t+1}(x)"), step.subs(p, sp.Symbol("p_t(x)")))
    p_inf = sp.solve(sp.Eq(p, step), p)[0]
    # Σ_x p_∞(1 + λ − λy/z) = Σ p_data = 1 with Σ p_∞ = 1 forces Σ p_∞ y = z (self-consistency)
    consistent = sp.solve(sp.Eq((1 + lam_) * s1 - lam_ * sy / z, 1).subs(s1, 1), sy)[0]
    slope = sp.simplify(sp.diff(p_inf, z))
    lim = sp.limit(p_inf, z, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "K = ∞ mixed loop (Eq. 8): p_{t+1} = p_data/(1+λ) + λ/(1+λ) p_t e^r/Z_t, Z_t = "
             "E_{p_t}[e^r]; y = e^{r − r_*}, z = Z e^{−r_*}"),
        Step("solution", "solve", sp.Eq(sp.Symbol("p_∞(x)"), p_inf),
             "the fixed point, atom by atom, for a given z"),
        Step("solution", "solve", sp.Eq(sp.Symbol("Σ p_∞ y"), consistent),
             "normalisation Σ p_∞ = 1 implies z = E_{p_∞}[y]: z is the root of Σ p_∞(z) = 1"),
        Step("solution", "diff", sp.Eq(sp.Symbol("∂p_∞/∂z"), slope),
             "negative: Σ p_∞(z) decreases from +∞ (z ↓ λ/(1+λ), top level) to 1/(1+λ), so the "
             "root is unique and lies in (λ/(1+λ), 1] (at z = 1 every term is ≤ p_data)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_{z→∞} p_∞"), lim)),
    )
    g = lam((d, yy, lam_, z), p_inf)

    def fn(p_data, reward, synthetic_ratio):
        from scipy import optimize
        from scipy.special import logsumexp

        pd = np.asarray(p_data, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        lv = float(synthetic_ratio)
        if not np.isfinite(lv):
            raise ValueError("synthetic_ratio must be finite")
        sup = pd > 0
        r_star = float(r_[sup].max())
        if lv == 0.0:
            return pd.copy(), float(logsumexp(r_[sup], b=pd[sup]))
        y_ = np.exp(r_[sup] - r_star)

        def excess(zv):
            return float(np.sum(g(pd[sup], y_, lv, zv))) - 1.0

        if excess(1.0) >= 0:  # every term is ≤ p_data at z = 1: equality iff y ≡ 1 on supp
            out = np.where(sup, pd, 0.0)
            return out / out.sum(), r_star
        lo = lv / (1.0 + lv)
        left = lo + 0.5 * (1.0 - lo)
        while excess(left) <= 0:
            left = lo + 0.5 * (left - lo)
        z_root = optimize.bisect(excess, left, 1.0, xtol=1e-300,
                                 rtol=4 * np.finfo(float).eps, maxiter=2000)
        out = np.zeros_like(pd)
        out[sup] = g(pd[sup], y_, lv, z_root)
        return out / out.sum(), float(np.log(z_root) + r_star)

    return Built(rec, p_inf, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# Mixed-loop bounds: KL(p_data‖p_t) ≤ log(1+λ); the Donsker–Varadhan reward plateau
# --------------------------------------------------------------------------------------------


def _reverse_kl():
    from sympy.codegen.cfunctions import log1p

    d = sp.Symbol("d", positive=True)
    ds = sp.symbols("d_1:4", positive=True)
    low = d / (1 + lam_)
    rec = sp.Eq(sp.Symbol("p_{t+1}(x) ≥"), low)
    ratio = sp.simplify(sp.log(d / low))
    total = sp.simplify(sum(v * ratio for v in ds).subs(ds[2], 1 - ds[0] - ds[1]))
    bound = log1p(lam_)
    steps = (
        Step("recursion", "given", rec,
             "p_{t+1} = p_data/(1+λ) + λ/(1+λ) p_t H^K_{p_t} with H > 0, any K and reward; "
             "d = p_data(x); t ≥ 1"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("log(p_data/p_t) ≤"), ratio),
             "pointwise on supp p_data"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("KL(p_data‖p_t) ≤"), total),
             "Σ p_data log(p_data/p_t) with Σ p_data = 1 (three atoms written out)"),
        Step("solution", "subs", sp.Eq(sp.Symbol("KL(p_data‖p_t) ≤"), bound),
             "evaluated as log1p(λ)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("λ → ∞"), sp.limit(total, lam_, sp.oo)),
             "no bound without real data"),
    )
    f = lam((lam_,), bound)

    def fn(synthetic_ratio):
        if not np.isfinite(synthetic_ratio):
            raise ValueError("the bound needs real data: synthetic_ratio must be finite")
        return _out(f(float(synthetic_ratio)))

    return Built(rec, total, sp.oo, steps, fn)


def _thm24_plateau():
    c = sp.Symbol("c", positive=True)
    big_l, kl = sp.symbols("L KL", real=True)  # L = log E_{p_data}[e^r]
    fixed = sp.solve(sp.Eq(c, (1 + lam_ * K * c) / (1 + lam_)), c)[0]
    dv_bound = kl + big_l
    rec = sp.Eq(sp.Symbol("E_{p_t}[r] ≤"), dv_bound)
    kl_bound = sp.log(fixed)
    plateau = dv_bound.subs(kl, kl_bound)
    steps = (
        Step("recursion", "given", rec,
             "Donsker–Varadhan, the β = 1 case of the Gibbs principle of record "
             "curation_tilt_power: E_q[r] ≤ KL(q‖p_data) + log E_{p_data}[e^r], L = "
             "log E_{p_data}[e^r]"),
        Step("solution", "solve", sp.Eq(sp.Symbol("c"), fixed),
             "record curation_thm24_ratio: p_t ≤ c p_data, so KL(p_t‖p_data) ≤ log c, when "
             "λ(K − 1) < 1 and p_0 = p_data"),
        Step("solution", "subs", sp.Eq(sp.Symbol("E_{p_t}[r] ≤"), plateau),
             "the reward plateau, uniform in t (even for an unbounded reward)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("λ → 0"), sp.limit(plateau, lam_, 0)),
             "without synthetic data: Jensen's log E_{p_data}[e^r]"),
    )
    f = lam((big_l, K, lam_), plateau)

    def fn(p_data, reward, curation_k, synthetic_ratio):
        from scipy.special import logsumexp

        pd = np.asarray(p_data, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        k_val, lv = float(curation_k), float(synthetic_ratio)
        if k_val == 1 or lv == 0:
            k_val, lv = 1.0, 0.0
        elif not (np.isfinite(k_val) and np.isfinite(lv) and lv * (k_val - 1) < 1):
            raise ValueError("Theorem 2.4 assumes synthetic_ratio < 1/(curation_k - 1)")
        big_l_val = float(logsumexp(r_[pd > 0], b=pd[pd > 0]))
        return _out(f(big_l_val, k_val, lv))

    return Built(rec, plateau, sp.limit(plateau, lam_, 0), steps, fn)


# --------------------------------------------------------------------------------------------
# Theorem 2.3: transcribed constant, and the derived (stronger) one
# --------------------------------------------------------------------------------------------


def _thm23():
    big = sp.Symbol("K", positive=True)
    v = sp.Symbol("V", positive=True)  # Var_{p_data}[e^{r − r_*}]
    paper = lam_ / (1 + lam_) ** 3 * (big - 1) * v / big
    stmt = sp.Eq(sp.Symbol("E_{p_t}[e^r] − E_{p_data}[e^r] ≥"), paper)
    # one mixed step: λ/(1+λ) × Lemma 2.2 on p_t, whose variance is ≥ Var_{p_data}/(1+λ)
    derived = sp.simplify(lam_ / (1 + lam_) * (big - 1) / big * v / (1 + lam_))
    ratio = sp.simplify(paper / derived)
    steps = (
        Step("statement", "taken from the paper", stmt,
             "Ferbach et al. 2024, Theorem 2.3, constant λ/(1+λ)³ as reported by the secondary "
             "source of the reference notes (§2, [P?]); the paper's own proof was not available, "
             "so this constant is transcribed, not derived. In units of e^{r_*}, V = "
             "Var_{p_data}[e^{r − r_*}], t ≥ 1, p_0 = p_data"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("derived constant"), derived),
             "induction (notes §2, [D]): E_{t+1} − E_data = λ/(1+λ)(E_{p_tH} − E_data) ≥ "
             "λ/(1+λ)(E_t − E_data + (K−1)Var_{p_t}/K) by Lemma 2.2, with E_t ≥ E_data and "
             "Var_{p_t} ≥ Var_{p_data}/(1+λ) (law of total variance, p_t ≥ p_data/(1+λ))"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("paper/derived"), ratio),
             "≤ 1: the transcribed bound is implied by the derived one"),
        Step("limit", "limit", sp.Eq(sp.Symbol("K → ∞ (paper)"), sp.limit(paper, big, sp.oo))),
    )
    f_paper = lam((big, lam_, v), paper)
    f_derived = lam((big, lam_, v), derived)
    f_paper_inf = lam((lam_, v), sp.limit(paper, big, sp.oo))
    f_derived_inf = lam((lam_, v), sp.limit(derived, big, sp.oo))

    def fn(p_data, reward, curation_k, synthetic_ratio, constant="paper"):
        pd = np.asarray(p_data, dtype=np.float64)
        r_ = np.asarray(reward, dtype=np.float64)
        if not np.isfinite(synthetic_ratio):
            raise ValueError("Theorem 2.3 is about the mixed loop: synthetic_ratio must be finite")
        yv = np.exp(r_ - r_[pd > 0].max())
        var_v = float(pd @ (yv - pd @ yv) ** 2)
        lv = float(synthetic_ratio)
        if curation_k == np.inf:
            f_inf = f_paper_inf if constant == "paper" else f_derived_inf
            return _out(f_inf(lv, var_v))
        f_k = f_paper if constant == "paper" else f_derived
        return _out(f_k(float(curation_k), lv, var_v))

    return Built(stmt, paper, None, steps, fn)


# --------------------------------------------------------------------------------------------
# Gaussian moment generating functions of the quadratic and flat-top rewards (1-D integrals)
# --------------------------------------------------------------------------------------------

_z = sp.Symbol("z", real=True)
_phi = sp.exp(-_z**2 / 2) / sp.sqrt(2 * sp.pi)  # standard normal density; X = μ + σz


def _quadratic_mgf():
    q = sp.Symbol("q", nonnegative=True)  # βAσ²
    u = sp.Symbol("u", real=True)  # (μ − c)/σ
    mu, c = sp.symbols("mu c", real=True)
    sig2, a_, beta = sp.symbols("sigma^2 A beta", nonnegative=True)
    integrand = _phi * sp.exp(-q * (_z + u) ** 2 / 2)
    rec = sp.Eq(sp.Symbol("E[e^{βr}]"), sp.Integral(integrand, (_z, -sp.oo, sp.oo)))
    mgf = sp.simplify(sp.integrate(integrand, (_z, -sp.oo, sp.oo), conds="none"))
    log_mgf = sp.expand_log(sp.log(mgf), force=True)
    back = sp.simplify(log_mgf.subs({q: beta * a_ * sig2, u: (mu - c) / sp.sqrt(sig2)}))
    steps = (
        Step("recursion", "given", rec,
             "r(x) = −A(x − c)²/2, X = μ + σz ~ N(μ, σ²): βr = −q(z + u)²/2 with q = βAσ², "
             "u = (μ − c)/σ (1-D; in d dimensions the same integral along the common "
             "eigenvectors when Σ and A commute)"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("E[e^{βr}]"), mgf)),
        Step("solution", "subs", sp.Eq(sp.Symbol("log E[e^{βr}]"), back),
             "= −½ log(1 + βAσ²) − βA(μ − c)²/(2(1 + βAσ²)) (notes §5.2)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("β → 0"), sp.limit(back, beta, 0))),
    )
    f = lam((mu, sig2, c, a_, beta), back)

    def fn(mean, cov, center, matrix, scale=1.0):
        vals = [float(np.asarray(v, dtype=np.float64).reshape(()))
                for v in (mean, cov, center, matrix)]
        return _out(f(*vals, float(scale)))

    return Built(rec, back, sp.Integer(0), steps, fn)


def _flat_top_mgf():
    b_lo, b_hi = sp.symbols("b_- b_+", real=True)  # (c ∓ R − μ)/σ
    c_lo = sp.Symbol("c_-", real=True)  # −b₋ = (μ − c + R)/σ, the lower tail after z ↦ −z
    s = sp.Symbol("s", positive=True)  # βγσ
    mid_i = _phi
    hi_i = _phi * sp.exp(-s * (_z - b_hi))
    lo_i = _phi * sp.exp(-s * (_z - c_lo))  # z ↦ −z: the lower tail over (c₋, ∞)
    rec = sp.Eq(sp.Symbol("E[e^{βr}]"),
                sp.Integral(lo_i, (_z, c_lo, sp.oo)) + sp.Integral(mid_i, (_z, b_lo, b_hi))
                + sp.Integral(hi_i, (_z, b_hi, sp.oo)))
    mid = sp.integrate(mid_i, (_z, b_lo, b_hi))
    hi = sp.simplify(sp.integrate(hi_i, (_z, b_hi, sp.oo))).rewrite(sp.erfc)
    lo = sp.simplify(sp.integrate(lo_i, (_z, c_lo, sp.oo))).rewrite(sp.erfc)
    mid_c = sp.simplify(mid.rewrite(sp.erfc))
    total = mid + hi + lo
    lim = sp.simplify(sp.limit(total.subs(c_lo, -b_lo), s, sp.oo))
    steps = (
        Step("recursion", "given", rec,
             "r(x) = −γ max(0, |x − c| − R), X = μ + σz: βr = −s(z − b₊) above b₊ = (c + R − μ)/σ, "
             "−s(b₋ − z) below b₋ = (c − R − μ)/σ, integrated after z ↦ −z over (c₋, ∞), "
             "c₋ = −b₋ (so that no erfc of a negative argument appears); 0 between; s = βγσ"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("P(B)"), mid)),
        Step("solution", "simplify", sp.Eq(sp.Symbol("P(B) (erfc form)"), mid_c),
             "evaluated when b₋ ≥ 0 (no cancellation of erf values near 1)"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("upper tail"), hi)),
        Step("solution", "integrate", sp.Eq(sp.Symbol("lower tail"), lo)),
        Step("limit", "limit", sp.Eq(sp.Symbol("s → ∞"), lim),
             "the mass P₀(B) of the top level: Theorem 2.1's limit for K = ∞"),
    )
    f_tails = lam((c_lo, b_hi, s), hi + lo)
    f_mid = lam((b_lo, b_hi), mid)
    f_mid_c = lam((b_lo, b_hi), mid_c)

    def fn(mean, std, center, radius, slope, scale=1.0):
        bl = (center - radius - mean) / std
        bh = (center + radius - mean) / std
        sv = float(scale) * float(slope) * float(std)
        middle = f_mid_c(bl, bh) if bl >= 0 else f_mid(bl, bh)
        return _out(np.log(middle + f_tails(-bl, bh, sv)))

    return Built(rec, total, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# Linear tilts by completing the square: Gaussian mixtures and the Gaussian-family mixed step
# --------------------------------------------------------------------------------------------


def _gmm_linear_tilt():
    xs = sp.Matrix(sp.symbols("x_1:3", real=True))
    mus = sp.Matrix(sp.symbols("mu_1:3", real=True))
    av = sp.Matrix(sp.symbols("a_1:3", real=True))
    tt = sp.Symbol("t", nonnegative=True)
    s11, s22 = sp.symbols("Sigma_11 Sigma_22", positive=True)
    s12 = sp.Symbol("Sigma_12", real=True)
    cov = sp.Matrix([[s11, s12], [s12, s22]])
    prec = cov.inv()
    shifted = mus + tt * cov * av
    before = (-(xs - mus).T * prec * (xs - mus) / 2)[0] + tt * (av.T * xs)[0]
    after = (-(xs - shifted).T * prec * (xs - shifted) / 2)[0]
    gain = sp.factor(sp.simplify(before - after))
    am, asa, logpi = sp.symbols("aᵀμ aᵀΣa log_pi", real=True)
    check = sp.simplify(gain - (tt * (av.T * mus)[0] + tt**2 * (av.T * cov * av)[0] / 2))
    logw = logpi + tt * am + tt**2 * asa / 2
    rec = sp.Eq(sp.Symbol("log N(x; μ, Σ) + t aᵀx"), before)
    steps = (
        Step("recursion", "given", rec,
             "t rounds of the K = ∞ pure loop on Σ_j π_j N(μ_j, Σ_j), r = aᵀx: the density "
             "times e^{t aᵀx}, component by component (2-D written out; constants dropped)"),
        Step("solution", "simplify",
             sp.Eq(sp.Symbol("exponent − log N(x; μ + tΣa, Σ)"), gain),
             "completing the square: constant in x, so each component becomes N(μ + tΣa, Σ)"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("gain − (t aᵀμ + t² aᵀΣa/2)"), check)),
        Step("solution", "subs", sp.Eq(sp.Symbol("log π_j' + const"), logw),
             "new weights ∝ π_j exp(t aᵀμ_j + t² aᵀΣ_j a/2)"),
    )
    f_logw = lam((logpi, tt, am, asa), logw)

    def fn(weights, means, covs, direction, t_val=1):
        from scipy.special import softmax

        w = np.asarray(weights, dtype=np.float64)
        mu = np.asarray(means, dtype=np.float64)
        cv = np.asarray(covs, dtype=np.float64)
        a = np.asarray(direction, dtype=np.float64)
        sa = cv @ a
        with np.errstate(divide="ignore"):
            lw = f_logw(np.log(w), float(t_val), mu @ a, sa @ a)
        return softmax(lw), mu + float(t_val) * sa, cv.copy()

    return Built(rec, {"log weight": logw, "mean": shifted}, None, steps, fn)


def _gaussian_mixed_step():
    x = sp.Symbol("x", real=True)
    mu, mud, a_ = sp.symbols("mu mu_d a", real=True)
    v, vd = sp.symbols("sigma^2 sigma_d^2", positive=True)
    w = 1 / (1 + lam_)

    def npdf(m, var_):
        return sp.exp(-(x - m) ** 2 / (2 * var_)) / sp.sqrt(2 * sp.pi * var_)

    ratio = sp.powsimp(sp.expand(npdf(mu, v) * sp.exp(a_ * x) / npdf(mu + v * a_, v)),
                       combine="exp")
    std_moments = [sp.integrate(_z**j * _phi, (_z, -sp.oo, sp.oo)) for j in range(3)]

    def moments(m, var_):  # E X, E X² of N(m, var_) through X = m + √var z
        out = []
        for k in (1, 2):
            poly = sp.Poly(sp.expand((m + sp.sqrt(var_) * _z) ** k), _z)
            out.append(sp.expand(sum(c * std_moments[j] for (j,), c in poly.terms())))
        return out

    d1, d2 = moments(mud, vd)
    t1, t2 = moments(mu + v * a_, v)
    new_mu = sp.simplify(w * d1 + (1 - w) * t1)
    raw_var = w * d2 + (1 - w) * t2 - new_mu**2
    # the centred form: w σ_d² + (1−w)σ² + w(1−w)(μ_d − μ − σ²a)², free of cancellation
    spread = sp.factor(sp.simplify(raw_var - w * vd - (1 - w) * v))
    new_var = w * vd + (1 - w) * v + spread
    rec = sp.Eq(sp.Symbol("p_{t+1}"), sp.Symbol("w N(μ_d, σ_d²) + (1 − w) N(μ, σ²)e^{ax}/Z"))
    steps = (
        Step("recursion", "given", rec,
             "Gaussian family, K = ∞, mixed loop, linear reward r = ax (1-D), w = 1/(1+λ): "
             "the next model is the moment match of the mixed curated law"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("N(μ,σ²)e^{ax}/N(μ+σ²a,σ²)"), ratio),
             "constant in x: the tilted component is N(μ + σ²a, σ²)"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("μ'"), new_mu),
             "first moment, with E z^j of N(0, 1) (j ≤ 2) by integration and X = m + √v z"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("σ'² − wσ_d² − (1−w)σ²"), spread),
             "second moment minus μ'², grouped: the between-component spread"),
    )
    f_mu = lam((mu, v, a_, mud, lam_), new_mu)
    f_v = lam((mu, v, a_, mud, vd, lam_), new_var)

    def fn(mean, cov, direction, data_mean, data_cov, synthetic_ratio):
        vals = [float(np.asarray(val, dtype=np.float64).reshape(()))
                for val in (mean, cov, direction, data_mean, data_cov)]
        m_, v_, a_v, md, vd_ = vals
        lv = float(synthetic_ratio)
        return (np.array([float(f_mu(m_, v_, a_v, md, lv))]),
                np.array([[float(f_v(m_, v_, a_v, md, vd_, lv))]]))

    return Built(rec, {"mean": new_mu, "variance": new_var}, None, steps, fn)


register("curation_tilt_power",
         "K = ∞ pure loop: p_t = p_0 e^{tr}/E_{p_0}[e^{tr}], the RLHF optimum with β = 1/t",
         "Ferbach et al. 2024, Lemma 2.1 and §3 (RLHF link); reference notes §1.5, §3; derived",
         "theory.curation_discrete.tilt_power", "(p0, reward, t) -> p_t, t scalar or 1-D",
         _tilt_power)
register("curation_lemma22_budget",
         "Lemma 2.2 telescoped: Σ_t Var_{p_t}[e^r] ≤ K/(K−1) e^{r_*}(e^{r_*} − E_{p_0}[e^r])",
         "Ferbach et al. 2024, Lemma 2.2; reference notes §2 [D]; derived",
         "theory.curation_discrete.lemma22_variance_budget",
         "(p0, reward, curation_k) in units of e^{2 r_*}", _lemma22_budget)
register("curation_top_level_kl", "Theorem 2.1: KL(p_*‖p_t) = −log P_t(A*)",
         "Ferbach et al. 2024, Theorem 2.1; reference notes §2 [D]; derived",
         "theory.curation_discrete.top_level_kl", "(p_t, p0, reward)", _top_level_kl)
register("curation_mixed_tilt_stationary",
         "K = ∞ mixed loop: p_∞ = p_data/(1 + λ − λe^r/Z), Z = E_{p_∞}[e^r] (unique root)",
         "reference notes §3 [D]; derived",
         "theory.curation_discrete.mixed_tilt_fixed_point",
         "(p_data, reward, synthetic_ratio) -> (p_inf, log Z); Z by bisection on the derived "
         "normalisation", _mixed_tilt_stationary)
register("curation_reverse_kl", "Mixed loop, any K: KL(p_data‖p_t) ≤ log(1+λ) for t ≥ 1",
         "Ferbach et al. 2024, Eq. 8; reference notes §2 [D]; derived",
         "theory.curation_discrete.reverse_kl_bound", "(synthetic_ratio)", _reverse_kl)
register("curation_thm24_plateau",
         "Theorem 2.4 + Donsker–Varadhan: E_{p_t}[r] ≤ log E_{p_data}[e^r] − log(1 − λ(K−1))",
         "Ferbach et al. 2024, Theorem 2.4; reference notes §2, §3 [D]; derived",
         "theory.curation_discrete.thm24_reward_plateau_bound",
         "(p_data, reward, curation_k, synthetic_ratio)", _thm24_plateau)
register("curation_thm23_bound",
         "Theorem 2.3: E_{p_t}[e^r] − E_{p_data}[e^r] ≥ λ(K−1)Var_{p_data}[e^r]/((1+λ)³K e^{r_*})",
         "Ferbach et al. 2024, Theorem 2.3 (constant via the notes' secondary source, [P?]); "
         "the (1+λ)² variant derived",
         "theory.curation_discrete.thm23_reward_gain_bound",
         "(p_data, reward, curation_k, synthetic_ratio, constant='paper'|'derived') in units of "
         "e^{r_*}", _thm23, taken_from_paper=True)
register("curation_quadratic_mgf",
         "Gaussian MGF of r = −A(x−c)²/2: −½log(1+βAσ²) − βA(μ−c)²/(2(1+βAσ²))",
         "Ferbach et al. 2024, Lemma 2.1 (tilt normaliser); reference notes §5.2; derived",
         "theory.curation_gaussian.quadratic_log_mgf",
         "(mean, cov, center, matrix, scale), 1-D", _quadratic_mgf)
register("curation_flat_top_mgf",
         "Gaussian MGF of the flat-top reward −γ max(0, |x − c| − R), in erf/erfc form",
         "reference notes §5.2 (flat-top variant); derived",
         "theory.curation_gaussian.flat_top_log_mgf_1d",
         "(mean, std, center, radius, slope, scale)", _flat_top_mgf)
register("curation_gmm_linear_tilt",
         "K = ∞ tilt of a Gaussian mixture by aᵀx: N(μ_j + tΣ_j a, Σ_j), "
         "π_j' ∝ π_j e^{t aᵀμ_j + t² aᵀΣ_j a/2}",
         "Ferbach et al. 2024, Lemma 2.1; reference notes §5.3; derived",
         "theory.curation_gaussian.gmm_linear_tilt",
         "(weights, means, covs, direction, t) -> (weights_t, means_t, covs)", _gmm_linear_tilt)
register("curation_gaussian_mixed_step",
         "Gaussian-family mixed loop at K = ∞: moment match of w N(μ_d, σ_d²) + (1−w)N(μ+σ²a, σ²)",
         "reference notes §5.1 [D]; derived",
         "theory.curation_gaussian.gaussian_mixed_tilt_step",
         "(mean, cov, direction, data_mean, data_cov, synthetic_ratio) -> (mean', cov'), 1-D",
         _gaussian_mixed_step)


# --------------------------------------------------------------------------------------------
# numerical routines used by the claims (no closed form to derive); each names its check
# --------------------------------------------------------------------------------------------

_CD = "theory.curation_discrete."
_CG = "theory.curation_gaussian."
_TD = "tests/theory/test_curation_discrete.py::"
_TG = "tests/theory/test_curation_gaussian.py::"
_TC = "tests/theory/test_derivations_curation_cov.py::"

declare_numerical(
    _CD + "curation_operator",
    "H^K_p on a finite support by the composition sum (enumeration) or the trapezoid Laplace "
    "integral; checked enumeration vs Laplace, against the closed K = 2 sigmoid route and by a "
    f"chi-squared test of sampled curation ({_TD}test_enumeration_and_laplace_agree, "
    "test_k2_is_twice_the_probability_of_beating_a_random_draw, "
    "test_sampled_curation_has_law_pH)")
declare_numerical(
    _CD + "curated_law",
    "p·H^K_p renormalised, H^K_p from the numerical curation_operator; checked by a "
    f"chi-squared test of sampled K-choice curation ({_TD}test_sampled_curation_has_law_pH) "
    f"and by the brute-force K-tuple sum in {_TC}test_lemma22_slack_by_enumerating_k_tuples")
declare_numerical(
    _CD + "curation_step",
    "one infinite-capacity update (Eq. 6 / Eq. 8): a mixture of p_data and the numerical "
    f"curated_law; checked against the closed K = inf forms ({_TD}"
    "test_kinf_pure_loop_closed_form_equals_iteration, "
    "test_mixed_tilt_fixed_point_and_functional) and K = 1, lambda = 0 special cases")
declare_numerical(
    _CD + "curation_trajectory",
    "iterates curation_step generation by generation (tilt_power at K = lambda = inf); "
    f"checked against the reduced reward-law dynamics and the K = inf closed form ({_TD}"
    "test_reward_law_reduction_equals_the_atom_dynamics, "
    "test_kinf_pure_loop_closed_form_equals_iteration)")
declare_numerical(
    _CD + "exp_reward_moments",
    "finite sums E_p[y], E_p[(y - E y)^2] of y = exp(r - r_*) over the atoms (a definition, "
    f"no closed form); checked against 50-digit mpmath sums in {_TC}"
    "test_exp_reward_moments_against_mpmath")
declare_numerical(
    _CD + "kl_divergence",
    "finite sum of p log(p/q) over the atoms (a definition); checked against scipy.stats.entropy "
    f"and 50-digit mpmath sums in {_TC}test_kl_divergence_against_independent_sums")
declare_numerical(
    _CD + "lemma22_slack",
    "E_{pH}[e^r] - E_p[e^r] from the numerical curated_law minus the Lemma 2.2 bound; checked "
    "against the proof identity E[sum_k (y_k - ybar)^2 (1/S - 1/K)] - summed over all K-tuples "
    f"of atoms - in {_TC}test_lemma22_slack_by_enumerating_k_tuples")
declare_numerical(
    _CD + "mixed_functional",
    "G(p) = E_{p_data}[log p] + lambda log E_p[e^r] evaluated by finite sums (a definition); "
    f"checked against 50-digit mpmath sums in {_TC}test_mixed_functional_against_mpmath and "
    f"for monotonicity along the K = inf loop in {_TD}test_mixed_tilt_fixed_point_and_functional")
declare_numerical(
    _CD + "rlhf_objective",
    "E_p[r] - beta KL(p||p_ref) evaluated by finite sums (a definition); checked against the "
    "Gibbs maximum beta log E[e^{r/beta}] of record curation_tilt_power "
    f"({_TD}test_tilt_is_the_rlhf_optimum, {_TC}test_rlhf_objective_at_the_tilt_is_gibbs_value)")
declare_numerical(
    _CD + "top_level_law",
    "conditioning p_0 on the top reward level A* (mask and renormalise, no closed form); checked "
    "by the Theorem 2.1 identity KL(p_*||p_t) = -log P_t(A*) and the preserved conditional "
    f"({_TD}test_theorem21_identity_conditional_and_support, "
    f"{_TC}test_top_level_kl_record)")
declare_numerical(
    _CG + "selection_moments",
    "mean and variance of the kept draw of K standard normals by the Laplace-route operator on "
    "a fine normal grid (trapezoid rule, error below float64 rounding); checked against the "
    f"closed K = 2 quadrature, a reference table and Monte Carlo ({_TG}"
    "test_selection_mean_k2_against_the_closed_route, test_selection_moments_against_monte_carlo)")
declare_numerical(
    _CG + "gaussian_family_curation_step",
    "moment matching of the curated Gaussian with m_K, v_K from the selection_moments "
    f"quadrature; checked by z-tests against sampled curation ({_TG}"
    "test_gaussian_family_step_is_the_moment_match_of_sampled_curation) and equal to the derived "
    "linear tilt at K = inf")
declare_numerical(
    _CG + "gaussian_family_curation_trajectory",
    "iterates gaussian_family_curation_step over generations; checked against the derived "
    f"asymptotics s_t^2 ~ K^2/((K-1)t), a'mu_t ~ K log t and the K = inf closed form ({_TG}"
    "test_gaussian_family_trajectory_asymptotics)")
declare_numerical(
    _CG + "nonparametric_linear_mixed_tilt",
    "iterates the derived mixture-weight recursion of the K = inf mixed loop in log space; "
    f"checked against the same loop run on a fine grid density ({_TG}"
    "test_nonparametric_linear_mixed_tilt_against_a_grid_density) and against gmm_linear_tilt "
    f"steps in {_TC}test_nonparametric_weights_are_iterated_gmm_tilts")

# Called directly by claims since the controls were added.
declare_numerical(
    "theory.curation_discrete.lemma22_increment",
    "evaluates Lemma 2.2's two sides on a discrete law (exact sums of the curated law's "
    "moments); tested non-negative slack over random laws and along the loop "
    "(tests/theory/test_curation_discrete.py::test_lemma22_slack_is_non_negative, "
    "test_lemma22_corollaries_along_the_loop)")
declare_numerical(
    "theory.projection_strength.mixture_cdf",
    "the CDF of the two-Gaussian mixture π_γ p_θ (a weighted sum of normal CDFs); tested "
    "against scipy.stats.norm and its γ = 0, ∞ limits (test_mixture_cdf_matches_scipy)")
declare_numerical(
    "theory._special.log_gamma_ratio_centered",
    "log Γ(a+δ) − log Γ(a) − δ log a by Stirling's series after recurrence shifts; tested "
    "against 50-digit mpmath over real and complex δ (test_log_gamma_ratio_matches_mpmath)")


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
