"""Symbolic (sympy) derivations of the toolkit's closed forms, from each loop's one-step recursion.

Every record starts from a one-step recursion (a conditional expectation such as
``E[σ²_{t+1} | σ²_t] = τ c σ²_t``) and lets sympy produce the solution (``rsolve``,
``summation``, ``product``, ``solve``) and the limit (``limit``); nothing on the solution side
is typed in. Where sympy cannot do a step, the step says so and the value is checked
numerically instead (marked ``[numeric check]``).

Public API::

    list_derivations()            # names, in registry order
    get_derivation(name)          # a Derivation record (ValueError for an unknown name)
    render(name, latex=False)     # step-by-step text (recursion, solution, limit)
    numerical_routines()          # functions the claims use that are not closed forms

A :class:`Derivation` carries ``recursion``, ``solution`` and ``limit`` (sympy objects, built
lazily and cached), ``numeric`` (import path of the toolkit function it corresponds to, or
``None`` when the toolkit has no numeric function) and ``lambdify()``, a numpy callable of the
derived solution with the same argument convention as ``numeric``. The tests
(``tests/theory/test_derivations.py``) check ``lambdify()`` against ``numeric`` on
hypothesis-drawn parameters to a relative error of 1e-10.

Conventions: generation ``t = 0`` is the fit on the real data (``t + 1`` fits at generation
``t``); ``D`` is the fit divisor (``n`` for ``"mle"``, ``n − 1`` for ``"unbiased"``); ``τ``
scales the sampling covariance. The command line ``selfconsuming derive [NAME] [--latex]``
prints the same text.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory._derivation_registry import Built as _Built
from theory._derivation_registry import (
    Derivation,
    Step,
    declare_numerical,
    get_derivation,
    list_derivations,
    numerical_routines,
    register,
    render,
)
from theory._derivation_registry import lam as _lam

__all__ = ["Derivation", "Step", "get_derivation", "list_derivations", "numerical_routines",
           "render"]

# --------------------------------------------------------------------------------------------
# symbols
# --------------------------------------------------------------------------------------------

t, k, g, i, d = sp.symbols("t k g i d", integer=True, nonnegative=True)
n, m, tau, D, s0, c0, r = sp.symbols("n m tau D sigma0^2 c_0 r", positive=True)
u, rho, x, h, w, kk = sp.symbols("u rho x h w k", positive=True)
S = sp.Function("S")  # a generic sequence in the recursions



def _divisor(n_val, estimator):
    if estimator not in ("mle", "unbiased"):
        raise ValueError(f"estimator must be 'mle' or 'unbiased', got {estimator!r}")
    return float(n_val) if estimator == "mle" else float(n_val) - 1.0


def _log_space(expr):
    """``exp(log expr)`` with products of Gamma functions turned into sums of ``loggamma``
    (numerically stable for large arguments; valid because every factor is positive)."""
    expr = expr.replace(
        lambda e: isinstance(e, sp.RisingFactorial),
        lambda e: sp.gamma(e.args[0] + e.args[1]) / sp.gamma(e.args[0]),
    )
    logged = sp.expand_log(sp.log(expr), force=True)
    logged = logged.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
        lambda e: sp.loggamma(e.args[0].args[0]),
    )
    return sp.exp(logged)


def _solve_first_order(rhs, init):
    """``rsolve`` of ``S(t+1) = rhs(S(t), t)`` with ``S(0) = init``."""
    eq = sp.Eq(S(t + 1), rhs)
    sol = sp.rsolve(eq.lhs - eq.rhs, S(t), {S(0): init})
    if sol is None:  # pragma: no cover - sympy regression guard
        raise RuntimeError(f"rsolve failed on {eq}")
    return eq, sp.simplify(sol)


def _as_float_array(t_val):
    arr = np.asarray(t_val)
    if not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 0):
        raise ValueError(f"t must be a non-negative integer (array), got {t_val!r}")
    return arr.astype(np.float64)


def _out(v):
    v = np.asarray(v, dtype=np.float64)
    return float(v) if v.ndim == 0 else v


# --------------------------------------------------------------------------------------------
# replace loop
# --------------------------------------------------------------------------------------------

_C = (n - 1) / D  # E[χ²_{n−1}/D]


def _replace_cov():
    rec, sol = _solve_first_order(tau * _C * S(t), _C * s0)
    mle_tau1 = sp.simplify(sol.subs({tau: 1, D: n}).subs(n, 1 + 1 / u))
    lim_mle = sp.limit(mle_tau1, t, sp.oo)
    lim_unb = sp.limit(sol.subs({tau: 1, D: n - 1}), t, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "E[σ²_{t+1}|σ²_t] = τ(n−1)/D σ²_t, σ²_0 fitted on real data"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_MLE,τ=1"), lim_mle),
             "MLE, τ = 1, written with (n−1)/n = 1/(1+u), u = 1/(n−1) > 0: collapse"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_unbiased,τ=1"), lim_unb),
             "unbiased, τ = 1: a martingale in mean"),
    )
    f = _lam((t, n, D, tau, s0), sol)

    def fn(t_val, n_val, cov0, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), _divisor(n_val, estimator), float(temperature),
                      float(cov0)))

    return _Built(rec, sol, lim_mle, steps, fn)


def _replace_mean_error2():
    cov_sol = _replace_cov().solution.subs(s0, c0)
    inc = sp.simplify(tau * cov_sol.subs(t, k) / n)
    rec = sp.Eq(S(t + 1), S(t) + tau * sp.Symbol("trEΣ_t") / n)
    sol = sp.simplify(c0 / n + sp.summation(inc, (k, 0, t - 1)))
    mle = sp.piecewise_fold(sol.subs({tau: 1, D: n}))
    generic = mle.args[-1][0] if isinstance(mle, sp.Piecewise) else mle
    generic = sp.simplify(generic.subs(n, 1 + 1 / u))
    lim = sp.simplify(sp.limit(generic, t, sp.oo).subs(u, 1 / (n - 1)))
    steps = (
        Step("recursion", "given", rec,
             "μ_{t+1} − μ_t ~ N(0, τΣ_t/n); M_0 = trΣ0/n; trEΣ_t from replace_cov"),
        Step("solution", "summation", sp.Eq(S(t), sol)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim_MLE,τ=1"), lim),
             "MLE, τ = 1 (τc ≠ 1 branch, c = 1/(1+u)): bounded by trΣ0; unbiased τ = 1 grows "
             "like (t+1)trΣ0/n"),
    )
    f = _lam((t, n, D, tau, c0), sol)

    def fn(t_val, n_val, trace0, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        # numpy evaluates both Piecewise branches; the unused one may divide 0 by 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return _out(f(tt, float(n_val), _divisor(n_val, estimator), float(temperature),
                          float(trace0)))

    return _Built(rec, sol, lim, steps, fn)


_A = (n - 1) / 2
_MR = sp.gamma(_A + r) / sp.gamma(_A) * (2 / D) ** r  # E[(χ²_{n−1}/D)^r]


def _replace_variance_moment():
    rec, sol = _solve_first_order(tau**r * _MR * S(t), _MR)
    steps = (
        Step("recursion", "given", rec,
             "E[(σ²_{t+1})^r | σ²_t] = τ^r E[(χ²_{n−1}/D)^r] (σ²_t)^r, "
             "E[(χ²_ν)^r] = 2^r Γ(ν/2+r)/Γ(ν/2); S(t) = E(σ²_t/σ²_0)^r"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
        Step("special case", "gammasimp", sp.Eq(sp.Symbol("E σ_t/σ_0 (unbiased, τ=1)"),
                                     sp.gammasimp(sol.subs({r: sp.Rational(1, 2), D: n - 1,
                                                            tau: 1}))),
             "r = 1/2: α(n)^{t+1} (Bertrand et al. 2024); → 0 since α(n) < 1"),
    )
    f = _lam((t, n, r, D, tau), _log_space(sol))

    def fn(t_val, n_val, r_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), np.asarray(r_val, float), _divisor(n_val, estimator),
                      float(temperature)))

    return _Built(rec, sol, None, steps, fn)


def _replace_variance_var():
    mom = _replace_variance_moment().solution
    sol = sp.simplify(sp.gammasimp(mom.subs(r, 2) - mom.subs(r, 1) ** 2))
    rec = _replace_variance_moment().recursion
    steps = (
        Step("recursion", "given", rec, "the moment recursion at r = 1 and r = 2"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("Var(σ²_t/σ²_0)"), sol),
             "E(σ²_t)² − (Eσ²_t)², simplified with gammasimp"),
    )
    # evaluated as E(σ²_t)² − (Eσ²_t)² with each moment in log space (Γ powers overflow)
    f = _lam((t, n, D, tau), _log_space(mom.subs(r, 2)) - _log_space(mom.subs(r, 1)) ** 2)

    def fn(t_val, n_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), _divisor(n_val, estimator), float(temperature)))

    return _Built(rec, sol, None, steps, fn)


def _replace_log_variance_mean():
    step_drift = sp.digamma(_A) + sp.log(2 / D)
    rec, sol = _solve_first_order(S(t) + step_drift + sp.log(tau), step_drift)
    rate = sp.simplify(sp.diff(sol, t).subs({D: n - 1, tau: 1}))
    steps = (
        Step("recursion", "given", rec,
             "E[log σ²_{t+1} | σ²_t] = log σ²_t + E log(χ²_{n−1}/D) + log τ, "
             "E log χ²_ν = ψ(ν/2) + log 2; S(t) = E log(σ²_t/σ²_0)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
        Step("limit", "diff", sp.Eq(sp.Symbol("rate per generation (unbiased, τ=1)"), rate),
             "ψ((n−1)/2) − log((n−1)/2) < 0: E log σ²_t → −∞ linearly (collapse)"),
    )
    f = _lam((t, n, D, tau), sol)

    def fn(t_val, n_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), _divisor(n_val, estimator), float(temperature)))

    return _Built(rec, sol, rate, steps, fn)


def _replace_log_variance_var():
    rec, sol = _solve_first_order(S(t) + sp.polygamma(1, _A), sp.polygamma(1, _A))
    steps = (
        Step("recursion", "given", rec,
             "Var log σ²_{t+1} = Var log σ²_t + Var log χ²_{n−1} (independent factors), "
             "Var log χ²_ν = ψ'(ν/2)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
    )
    f = _lam((t, n), sol)

    def fn(t_val, n_val, *, estimator, temperature=1.0):
        _divisor(n_val, estimator)
        return _out(f(_as_float_array(t_val), float(n_val)))

    return _Built(rec, sol, None, steps, fn)


def _replace_logdet_mean():
    per_fit = sp.Symbol("δ")
    drift = sp.Sum(sp.digamma((n - i) / 2) + sp.log(2 / D), (i, 1, d))
    rec, sol = _solve_first_order(S(t) + per_fit + d * sp.log(tau), per_fit)
    sol_full = sol.subs(per_fit, drift)
    steps = (
        Step("recursion", "given", rec,
             "Bartlett: det Wishart_d(I, n−1) = ∏_{i=1}^d χ²_{n−i}; δ = Σ_i E log(χ²_{n−i}/D); "
             "S(t) = E log(det Σ_t/det Σ0)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol_full),
             "summation over i attempted: no closed form for Σ ψ((n−i)/2), kept as a finite sum"),
    )
    f = _lam((t, n, d, D, tau), sol_full)

    def fn(t_val, n_val, d_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), int(d_val), _divisor(n_val, estimator),
                      float(temperature)))

    return _Built(rec, sol_full, None, steps, fn)


def _replace_w2sq_1d():
    mom = _replace_variance_moment().solution
    mean_err = _replace_mean_error2().solution.subs(c0, 1)
    sol = mean_err + mom.subs(r, 1) + 1 - 2 * mom.subs(r, sp.Rational(1, 2))
    rec = sp.Eq(sp.Symbol("E W²_2/σ²_0"),
                sp.Symbol("E(μ_t−μ_0)²/σ²_0") + sp.Symbol("Eσ²_t/σ²_0") + 1
                - 2 * sp.Symbol("Eσ_t/σ_0"))
    steps = (
        Step("recursion", "given", rec, "W₂² between 1-D Gaussians, averaged over the loop"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("E W²_2/σ²_0"), sol),
             "the solutions of replace_mean_error2 and replace_variance_moment (r = 1, 1/2)"),
    )
    f_mean = _replace_mean_error2().lambdify
    f_rest = _lam((t, n, D, tau), _log_space(mom.subs(r, 1)) + 1
                  - 2 * _log_space(mom.subs(r, sp.Rational(1, 2))))

    def fn(t_val, n_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        rest = f_rest(tt, float(n_val), _divisor(n_val, estimator), float(temperature))
        return _out(np.asarray(f_mean(t_val, n_val, 1.0, estimator=estimator,
                                      temperature=temperature)) + rest)

    return _Built(rec, sol, None, steps, fn)


# --------------------------------------------------------------------------------------------
# accumulate loop
# --------------------------------------------------------------------------------------------

_DDOF = sp.Symbol("δ_ddof", nonnegative=True)


def _acc_factor(ddof):
    n_prev = n + (k - 1) * m
    n_k = n + k * m
    return sp.factor(sp.together(((n_prev - ddof) + tau * (m - 1 + n_prev / n_k)) / (n_k - ddof)))


def _accumulate_cov_factor():
    exprs = {}
    for est, ddof in (("mle", 0), ("unbiased", 1)):
        prod = sp.product(_acc_factor(ddof), (k, 1, t))
        exprs[est] = (n - 1) / (n - ddof) * prod
    rec = sp.Eq(S(t), S(t - 1) * _acc_factor(_DDOF).subs(k, t))
    # the Kazdan case: MLE, m = n, τ = 1 → ∏ (1 − x²/k²), x = 1/√n, and its limit
    kaz = sp.product(sp.factor(1 - x**2 / k**2), (k, 1, t + 1))
    gam = kaz.replace(lambda e: isinstance(e, sp.RisingFactorial),
                      lambda e: sp.gamma(e.args[0] + e.args[1]) / sp.gamma(e.args[0]))
    gam = gam.replace(lambda e: isinstance(e, sp.factorial), lambda e: sp.gamma(e.args[0] + 1))
    const, moving = sp.Mul(*[f for f in sp.Mul.make_args(gam) if not f.has(t)]), \
        sp.Mul(*[f for f in sp.Mul.make_args(gam) if f.has(t)])
    lim_moving = sp.limit(moving, t, sp.oo)
    lim = sp.simplify(sp.gammasimp(const) * lim_moving).subs(x, 1 / sp.sqrt(n))
    steps = (
        Step("recursion", "given", rec,
             "E[Σ_t | past] from the pooled scatter: factor [D_{t−1} + τ(m−1+N_{t−1}/N_t)]/D_t, "
             "N_t = n + tm, D_t = N_t − δ (δ = 0 MLE, 1 unbiased); S(0) = (n−1)/D(n)"),
        Step("solution", "product", sp.Eq(sp.Symbol("EΣ_t/Σ0 (MLE)"), exprs["mle"])),
        Step("solution", "product", sp.Eq(sp.Symbol("EΣ_t/Σ0 (unbiased)"), exprs["unbiased"])),
        Step("solution", "product", sp.Eq(sp.Symbol("EΣ_t/Σ0 (MLE, m=n, τ=1)"), kaz),
             "x = 1/√n: each factor is 1 − 1/(n k²) (Kazdan et al. 2025)"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim Γ-ratio"), lim_moving),
             "t-dependent Γ(t+2−x)Γ(t+2+x)/Γ(t+2)² → 1"),
        Step("limit", "gammasimp", sp.Eq(sp.Symbol("lim EΣ_t/Σ0"), lim),
             "1/(Γ(1−x)Γ(1+x)) = sin(πx)/(πx) (reflection formula, by gammasimp)"),
    )
    fs = {est: _lam((t, n, m, tau), _log_space(e)) for est, e in exprs.items()}
    f_lim = _lam((n,), lim)

    def fn(t_val, n_val, *, n_synthetic=None, estimator, temperature=1.0):
        _divisor(n_val, estimator)
        mm = float(n_val if n_synthetic is None else n_synthetic)
        return _out(fs[estimator](_as_float_array(t_val), float(n_val), mm, float(temperature)))

    fn.limit = lambda n_val: float(f_lim(float(n_val)))
    return _Built(rec, exprs, lim, steps, fn)


def _accumulate_mean_error2():
    cov = _accumulate_cov_factor()
    summand = {est: m * tau * c0 * e.subs(t, k - 1) / (n + k * m) ** 2
               for est, e in cov.solution.items()}
    # sympy's summation() finds no closed form for this sum of Γ-ratios (it returns the Sum
    # unevaluated after ~20 s), so the Sum is built directly
    sols = {est: c0 / n + sp.Sum(s, (k, 1, t)) for est, s in summand.items()}
    rec = sp.Eq(S(t), S(t - 1) + m * tau * sp.Symbol("trEΣ_{t−1}") / (n + t * m) ** 2)
    bound = sp.summation(1 / k**2, (k, 1, sp.oo)) * c0 / n
    steps = (
        Step("recursion", "given", rec, "μ_t = μ_{t−1} + (m/N_t)(ȳ − μ_{t−1}); S(0) = trΣ0/n"),
        Step("solution", "summation", sp.Eq(sp.Symbol("M_t (MLE)"), sols["mle"]),
             "sympy finds no closed form for the sum of Γ-ratios: kept as a finite Sum "
             "(evaluated term by term)"),
        Step("limit", "summation", sp.Eq(sp.Symbol("sup_t M_t (m=n, τ≤1)"), bound),
             "every covariance factor ≤ 1, so M_t ≤ (trΣ0/n) Σ_k 1/k² = π²/6 · trΣ0/n"),
    )
    fs = {est: _lam((k, n, m, tau, c0), _log_space(cov.solution[est].subs(t, k - 1))
                    * m * tau * c0 / (n + k * m) ** 2) for est in summand}
    f_bound = _lam((n, c0), bound)

    def fn(t_val, n_val, trace0, *, n_synthetic=None, estimator, temperature=1.0):
        _divisor(n_val, estimator)
        tt = _as_float_array(t_val)
        mm = float(n_val if n_synthetic is None else n_synthetic)
        kmax = int(tt.max()) if tt.size else 0
        ks = np.arange(1, kmax + 1, dtype=np.float64)
        inc = fs[estimator](ks, float(n_val), mm, float(temperature), float(trace0))
        cum = np.concatenate([[float(trace0) / n_val], float(trace0) / n_val
                              + np.cumsum(np.broadcast_to(inc, ks.shape))])
        return _out(cum[tt.astype(np.int64)])

    fn.bound = lambda n_val, trace0: float(f_bound(float(n_val), float(trace0)))
    return _Built(rec, sols, bound, steps, fn)


def _accumulate_mean_error2_known_cov():
    rec = sp.Eq(S(t), S(t - 1) + m * tau * c0 / (n + t * m) ** 2)
    # m τ c0/(n + km)² = (τ c0/m) / (k + ρ)², ρ = n/m
    raw = sp.summation(1 / (k + rho) ** 2, (k, 1, t))
    hurwitz = raw.replace(lambda e: isinstance(e, sp.lerchphi),
                          lambda e: sp.polygamma(e.args[1] - 1, e.args[2])
                          * (-1) ** e.args[1] / sp.factorial(e.args[1] - 1))
    tail = sp.simplify(hurwitz)
    sol = c0 / n + tau * c0 / m * tail
    sol_nm = sol.subs(rho, n / m)
    lim = sp.simplify(sp.limit(sol.subs({tau: 1, m: n, rho: 1}), t, sp.oo))
    steps = (
        Step("recursion", "given", rec,
             "only μ fitted (Σ0 known): μ_t − μ_{t−1} = (m/N_t)(ȳ − μ_{t−1}); S(0) = trΣ0/n"),
        Step("solution", "summation", sp.Eq(sp.Symbol("Σ_{k≤t} (k+ρ)^{-2}"), raw),
             "ρ = n/m; lerchphi(1, 2, z) = ζ(2, z) = ψ'(z)"),
        Step("solution", "summation", sp.Eq(S(t), sol_nm)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim S(t) (m=n, τ=1)"), lim)),
    )
    f = _lam((t, n, m, tau, c0), sol_nm)

    def fn(t_val, n_val, trace0, *, n_synthetic=None, temperature=1.0):
        mm = float(n_val if n_synthetic is None else n_synthetic)
        return _out(f(_as_float_array(t_val), float(n_val), mm, float(temperature),
                      float(trace0)))

    return _Built(rec, sol_nm, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# mix, fresh, universality, KDE, weighting
# --------------------------------------------------------------------------------------------


def _mix_mean_error2_known_cov():
    kap = sp.Symbol("kappa", positive=True)
    rec, v_sol = _solve_first_order(kap**2 * (S(t) + tau * c0 / m), 0)
    lim = sp.simplify(sp.limit(c0 / n + v_sol.subs(kap, 1 / (1 + rho)), t, sp.oo)
                      .subs(rho, n / m))
    sol = c0 / n + v_sol.subs(kap, m / (n + m))
    steps = (
        Step("recursion", "given", rec,
             "δ_t = μ_t − r̄ = k(δ_{t−1} + η_t), k = m/(n+m) = λ/(1+λ), η_t ~ N(0, τΣ0/m); "
             "S(t) = E‖δ_t‖², E‖μ_t − μ0‖² = trΣ0/n + S(t)"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("E‖μ_t−μ0‖²"), sol)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim E‖μ_t−μ0‖²"), lim),
             "k = 1/(1+ρ), ρ = n/m > 0; geometric approach at rate k² per generation"),
    )
    f = _lam((t, n, m, tau, c0), sol)

    def fn(t_val, n_val, trace0, *, n_synthetic, temperature=1.0):
        return _out(f(_as_float_array(t_val), float(n_val), float(n_synthetic),
                      float(temperature), float(trace0)))

    return _Built(rec, sol, lim, steps, fn)


def _fresh():
    nr, ns, big = sp.symbols("n_r n_s N", positive=True)
    M, C = sp.symbols("M_t C_t", nonnegative=True)
    div = sp.Symbol("D_N", positive=True)
    m_next = (nr * c0 + ns**2 * M + ns * tau * C) / big**2
    c_next = ((nr - 1 + ns / big) * c0 + tau * (ns - 1 + nr / big) * C + (nr * ns / big) * M) / div
    rec = (sp.Matrix([sp.Function("M")(t + 1), sp.Function("C")(t + 1)]),
           sp.Matrix([m_next, c_next]))
    A = sp.Matrix([[sp.diff(e, v) for v in (M, C)] for e in (m_next, c_next)])
    b = sp.Matrix([e.subs({M: 0, C: 0}) for e in (m_next, c_next)])
    fix = sp.solve([sp.Eq(M, m_next), sp.Eq(C, c_next)], [M, C], dict=True)[0]
    fix_vec = sp.Matrix([sp.simplify(fix[M]), sp.simplify(fix[C])])
    x0 = sp.Matrix([sp.Symbol("M_0"), sp.Symbol("C_0")])
    a_pow = A**t  # sympy: diagonalisation of the symbolic 2×2 (eigenvalues with square roots)
    x_t = a_pow * (x0 - fix_vec) + fix_vec
    steps = (
        Step("recursion", "given", rec,
             "μ_t − μ0 = [n_r(r̄−μ0) + n_s(s̄−μ_{t−1}) + n_s(μ_{t−1}−μ0)]/N, pooled scatter; "
             "M = E‖μ_t−μ0‖², C = tr EΣ_t, N = n_r + n_s, D_N = N or N − 1"),
        Step("solution", "diff", (sp.Symbol("A"), A), "linear part (Jacobian)"),
        Step("solution", "diff", (sp.Symbol("b"), b), "affine part"),
        Step("limit", "solve", (sp.Symbol("x*"), fix_vec), "fixed point x* = A x* + b"),
        Step("solution", "matrix power", (sp.Symbol("x_t"), sp.Symbol("A^t (x_0 − x*) + x*")),
             "A^t by sympy (diagonalisation); the full expression has ~6000 characters and is "
             "not printed; x_0 = (M_0, C_0) = (c0/n0, c0(n0−1)/D(n0)). Where the "
             "diagonalisation is singular (n_s = 0, or repeated eigenvalues) the lambdified "
             "form falls back to iterating the derived affine map [numeric check]"),
    )
    syms_xt = (t, nr, ns, big, div, tau, c0, x0[0], x0[1])
    f_xt = sp.lambdify(syms_xt, x_t, modules="numpy")
    args = (nr, ns, big, div, tau, c0)
    f_a, f_b, f_fix = _lam(args, A), _lam(args, b), _lam(args, fix_vec)

    def _vals(n_real, n_synthetic, trace0, estimator, temperature):
        big_n = float(n_real + n_synthetic)
        return (float(n_real), float(n_synthetic), big_n, _divisor(big_n, estimator),
                float(temperature), float(trace0))

    def fixed_point(n_real, n_synthetic, trace0, *, estimator, temperature=1.0):
        v = np.asarray(f_fix(*_vals(n_real, n_synthetic, trace0, estimator, temperature)),
                       float).ravel()
        return float(v[0]), float(v[1])

    def moments(t_val, n_real, n_synthetic, trace0, *, estimator, temperature=1.0,
                n_initial=None):
        vals = _vals(n_real, n_synthetic, trace0, estimator, temperature)
        a_mat = np.asarray(f_a(*vals), float)
        b_vec = np.asarray(f_b(*vals), float).ravel()
        n0 = n_real if n_initial is None else n_initial
        x_0 = np.array([trace0 / n0, trace0 * (n0 - 1.0) / _divisor(n0, estimator)])
        tt = np.asarray(t_val)
        out_m, out_c = np.empty(tt.shape), np.empty(tt.shape)
        for idx in np.ndindex(tt.shape):
            with np.errstate(all="ignore"):
                xv = np.asarray(f_xt(float(tt[idx]), *vals, *x_0), dtype=np.float64).ravel()
            if not np.all(np.isfinite(xv)):  # singular diagonalisation: iterate the map
                xv = x_0
                for _ in range(int(tt[idx])):
                    xv = a_mat @ xv + b_vec
            out_m[idx], out_c[idx] = xv
        return _out(out_m), _out(out_c)

    moments.fixed_point = fixed_point
    return _Built(rec, {"A": A, "b": b, "x_t": x_t}, fix_vec, steps, moments)


def _augment():
    rec = sp.Eq(S(g), S(g - 1) + 1 / g**2)
    sol = sp.summation(1 / k**2, (k, 1, g))
    lim = sp.limit(sol, g, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "e_g = e_{g−1} + z_g/g (pooled mean of g batches); S(1) = 1; g counts fits"),
        Step("solution", "summation", sp.Eq(S(g), sol)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim S(g)"), lim)),
    )
    f = _lam((g,), sol.rewrite(sp.polygamma))
    fn = lambda g_val: _out(f(np.asarray(g_val, dtype=np.float64)))  # noqa: E731
    fn.limit = lambda: float(lim)
    return _Built(rec, sol, lim, steps, fn)


def _discard():
    rec, sol = _solve_first_order(S(t) + 1, 1)
    sol_g = sol.subs(t, g - 1)
    steps = (
        Step("recursion", "given", rec,
             "e_g = e_{g−1} + z_g (fit on the newest batch only); S(t) = Var e_{t+1}/Var e_1"),
        Step("solution", "rsolve", sp.Eq(sp.Symbol("S(g−1)"), sol_g)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim"), sp.limit(sol_g, g, sp.oo))),
    )
    f = _lam((g,), sol_g)
    fn = lambda g_val: _out(f(np.asarray(g_val, dtype=np.float64)) + 0.0 * np.asarray(g_val))  # noqa: E731
    return _Built(rec, sol_g, sp.oo, steps, fn)


def _sum_shifted(term, var, lo, hi):
    """``Σ_{var=lo}^{hi} c/(var+α)^p`` by the index shift ``i = var + α`` and sympy's
    ``summation(1/i^p, (i, 1, N)) = harmonic(N, p)`` (sympy does not shift on its own)."""
    coef, rest = term.as_independent(var, as_Add=False)
    base, expo = rest.as_base_exp()
    alpha = sp.simplify(base - var)
    power = -expo
    ii = sp.Symbol("i", integer=True, positive=True)
    upper = sp.summation(1 / ii**power, (ii, 1, hi + alpha))
    lower = sp.summation(1 / ii**power, (ii, 1, lo - 1 + alpha))
    return coef * (upper - lower)


def _subsample():
    summand = (2 - 1 / (k - 1)) / k**2
    rec = sp.Eq(sp.Symbol("p_g"), sp.Symbol("p_{g−1}") + summand.subs(k, g))
    parts = sp.Add.make_args(sp.apart(summand, k))
    p_g = 1 + sp.Add(*[_sum_shifted(p, k, 2, g) for p in parts])
    v_g = sp.simplify(sp.expand_func(p_g + 1 - 1 / g))
    lim = sp.limit(v_g, g, sp.oo)
    steps = (
        Step("recursion", "given", rec,
             "pool-mean error P_g = P_{g−1} + (w_{g−1} + z_g)/g, Var w_g = 1 − 1/g, p_1 = 1; "
             "v_g = p_g + 1 − 1/g"),
        Step("solution", "summation", sp.Eq(sp.Symbol("v_g"), v_g),
             "apart (partial fractions), summation term by term, expand_func"),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim v_g"), lim)),
    )
    f = _lam((g,), v_g.rewrite(sp.polygamma))
    fn = lambda g_val: _out(f(np.asarray(g_val, dtype=np.float64)))  # noqa: E731
    fn.limit = lambda: float(lim)
    return _Built(rec, v_g, lim, steps, fn)


# --------------------------------------------------------------------------------------------
# replace loop: determinant, laws, collapse bounds
# --------------------------------------------------------------------------------------------


def _replace_expected_det():
    dd = sp.Symbol("d", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    # E det(W)/det Σ = ∏_{i=1}^{d} (n − i), written with j = d + 1 − i so that every factor
    # is visibly positive (n > d): a rising factorial (n − d)_d = Γ(n)/Γ(n − d)
    kappa = sp.Product((n - dd - 1 + j) / D, (j, 1, dd)).doit()
    rec, sol = _solve_first_order(tau**dd * kappa * S(t), kappa)
    steps = (
        Step("recursion", "given", rec,
             "Bartlett: det W = det Σ ∏_{i=1}^{d} χ²_{n−i} (independent), so "
             "E[det Σ_{t+1} | Σ_t] = τ^d ∏(n−i)/D · det Σ_t; S(t) = E det Σ_t / det Σ_0, "
             "S(0) = ∏(n−i)/D (the real fit, no τ)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
    )
    f = _lam((t, n, dd, D, tau), _log_space(sol))

    def fn(t_val, n_val, d_val, *, estimator, temperature=1.0):
        tt = _as_float_array(t_val)
        return _out(f(tt, float(n_val), int(d_val), _divisor(n_val, estimator),
                      float(temperature)))

    return _Built(rec, sol, None, steps, fn)


def _log_chi2_mellin():
    nu = sp.Symbol("nu", positive=True)
    s_ = sp.Symbol("s", positive=True)
    xx = sp.Symbol("x", positive=True)
    density = xx ** (nu / 2 - 1) * sp.exp(-xx / 2) / (2 ** (nu / 2) * sp.gamma(nu / 2))
    mellin = sp.simplify(sp.integrate(xx**s_ * density, (xx, 0, sp.oo), conds="none"))
    per_fit = sp.simplify(mellin.subs(nu, n - 1) / D**s_)
    rec = sp.Eq(sp.Function("M")(t + 1, s_), sp.Function("M")(t, s_) * tau**s_ * per_fit)
    sol = per_fit ** (t + 1) * tau ** (s_ * t)
    steps = (
        Step("recursion", "given", rec,
             "M(t, s) = E(σ²_t/σ²_0)^s; σ²_{t+1} = σ²_t τ χ²_{n−1}/D with an independent factor"),
        Step("solution", "integrate", sp.Eq(sp.Symbol("E (χ²_ν)^s"), mellin),
             "Mellin transform of the χ²_ν density (sympy integrate); at s = iu it is the "
             "characteristic function of log χ²_ν, E e^{iu log χ²_ν} = 2^{iu} Γ(ν/2+iu)/Γ(ν/2)"),
        Step("solution", "product", sp.Eq(sp.Function("M")(t, s_), sol),
             "t + 1 independent factors (the real fit has no τ). The CDFs of σ²_t, log σ²_t, "
             "log det Σ_t and the collapse probability are the numerical (Gil-Pelaez / tilted) "
             "inversions of this transform at s = iu: no closed form exists for them"),
    )
    f = _lam((t, n, s_, D, tau), _log_space(sol))

    def fn(t_val, n_val, s_val, *, estimator, temperature=1.0):
        return _out(f(_as_float_array(t_val), float(n_val), np.asarray(s_val, float),
                      _divisor(n_val, estimator), float(temperature)))

    return _Built(rec, sol, None, steps, fn)


def _bertrand_markov():
    eps = sp.Symbol("epsilon", positive=True)
    alpha = sp.Symbol("alpha", positive=True)
    rec, sol = _solve_first_order(alpha * S(t), 1)
    alpha_n = sp.sqrt(2 / (n - 1)) * sp.gamma(n / 2) / sp.gamma((n - 1) / 2)
    kk = sp.Symbol("k", integer=True, positive=True)
    bound = sol.subs(t, kk) / eps
    steps = (
        Step("recursion", "given", rec,
             "unbiased 1-D replace loop, σ_0 = 1: E[σ_{k+1} | σ_k] = α(n) σ_k with "
             "α(n) = E√(χ²_{n−1}/(n−1)); S(k) = E σ_k counting fits"),
        Step("solution", "rsolve", sp.Eq(S(t), sol), f"α(n) = {sp.sstr(alpha_n)}"),
        Step("limit", "Markov's inequality", sp.Eq(sp.Symbol("P(σ_k > ε) ≤"), bound),
             "Markov's inequality on σ_k (Bertrand et al. 2024 as plotted by Suresh et al.)"),
    )
    f = _lam((kk, n, eps), _log_space(bound.subs(alpha, alpha_n)))

    def fn(k_val, n_val, eps_val):
        return _out(f(np.asarray(k_val, float), float(n_val), np.asarray(eps_val, float)))

    return _Built(rec, sol, bound, steps, fn)


def _suresh():
    eps = sp.Symbol("epsilon", positive=True)
    kk = sp.Symbol("k", integer=True, positive=True)
    bound = sp.exp(-kk / (4 * n - 1)) / eps
    stmt = sp.Eq(sp.Symbol("P(σ_k > ε) ≤"), bound)
    steps = (
        Step("statement", "taken from the paper", stmt,
             "Suresh et al. 2024, Theorem 3 (unbiased 1-D replace loop, σ_0 = 1, n ≥ 3). Not "
             "re-derived: the paper proves it through a moment-generating-function bound whose "
             "constant 1/(4n−1) is specific to their proof; the claim suresh2024.thm3.bound "
             "checks it against the exact probability instead"),
    )
    f = _lam((kk, n, eps), bound)

    def fn(k_val, n_val, eps_val):
        return _out(f(np.asarray(k_val, float), float(n_val), np.asarray(eps_val, float)))

    return _Built(stmt, bound, None, steps, fn)


def _subsample_known_cov():
    v = sp.Function("v")
    rec = sp.Eq(sp.Symbol("E‖μ_g − μ_0‖² n/trΣ_0"),
                sp.Symbol("Σ over the pool's generations of (sampling weights)² (recursion)"))
    steps = (
        Step("recursion", "given", rec,
             "known Σ_0, accumulate-subsample: μ_g is the mean of n points drawn without "
             "replacement from a pool whose points carry independent Gaussian errors; the "
             "exact second moment follows an O(g³) moment recursion over the pool's "
             "generations (theory/subsample.py docstring). Not a closed form, so sympy would "
             "only restate it; it is checked by a direct numpy loop and by the engine, and its "
             "n → ∞ limit is the record subsample_risk"),
        Step("solution", "numeric check",
             sp.Eq(v(g), sp.Symbol("subsample_risk_ratio(g) + O(1/n)"))),
    )

    def fn(*args, **kwargs):  # pragma: no cover - no lambdified form (see the note)
        raise NotImplementedError("accumulate_subsample_known_cov has no closed form")

    return _Built(rec, steps[1].expr, None, steps, fn)


def _kde():
    a = sp.Symbol("a", positive=True)
    s02 = sp.Symbol("s_0^2", positive=True)
    rec, sol_a = _solve_first_order(a * (S(t) + h**2), s02)
    lim = sp.simplify(sp.limit(sol_a.subs(a, 1 / (1 + u)), t, sp.oo).subs(u, 1 / (n - 1)))
    sol = sp.simplify(sol_a.subs(a, (n - 1) / n))
    steps = (
        Step("recursion", "given", rec,
             "sampling a Gaussian-kernel KDE = resample a point + N(0, h²); s_t² the 1/n variance: "
             "E[s²_{t+1} | s²_t] = a(s²_t + h²), a = (n−1)/n (Kazdan et al. 2025 code; notes §6)"),
        Step("solution", "rsolve", sp.Eq(S(t), sol)),
        Step("limit", "limit", sp.Eq(sp.Symbol("lim E s_t²"), lim),
             "heat death: (n−1)h², written with a = 1/(1+u), u = 1/(n−1)"),
    )
    f = _lam((t, a, h, s02), sol_a)  # evaluated in a = (n−1)/n (no n^t overflow)

    def fn(t_val, n_val, bandwidth, s0_sq):
        return _out(f(_as_float_array(t_val), (float(n_val) - 1.0) / float(n_val),
                      float(bandwidth), float(s0_sq)))

    fn.limit = lambda n_val, bandwidth: float((n_val - 1.0) * bandwidth**2)
    return _Built(rec, sol, lim, steps, fn)


def _weighted():
    sig = sp.Symbol("sigma^2", positive=True)
    V = sp.Symbol("V", positive=True)
    # θ_t = w·(mean of n real) + (1−w)·(mean of m = n/k synthetic from θ_{t−1})
    rec = sp.Eq(V, w**2 * sig / n + (1 - w) ** 2 * (V + kk * sig / n))
    v_w = sp.factor(sp.solve(rec, V)[0])
    crit = [c for c in sp.solve(sp.diff(v_w, w), w) if c.is_positive is not False]
    w_star = [sp.simplify(c) for c in crit
              if sp.simplify(c.subs(kk, 1)).is_positive and (sp.simplify(c.subs(kk, 1)) < 1)][0]
    v_star = sp.simplify(sp.radsimp(v_w.subs(w, w_star)))
    golden = sp.nsimplify(sp.simplify(w_star.subs(kk, 1)))
    ratio = sp.simplify(sp.radsimp(v_star / (w_star * sig / n)))
    steps = (
        Step("recursion", "given", rec,
             "stationary variance of θ_t = wθ̂(real_t) + (1−w)θ̂(synthetic_t), n real and n/k "
             "synthetic points (He, Xu & Cheng 2025; notes §8g)"),
        Step("solution", "solve", sp.Eq(sp.Symbol("V(w)"), v_w)),
        Step("solution", "solve", sp.Eq(sp.Symbol("w*"), w_star), "root of dV/dw in (0, 1)"),
        Step("solution", "simplify", sp.Eq(sp.Symbol("V*/(w*σ²/n)"), ratio), "V* = w* σ²/n"),
        Step("limit", "subs", sp.Eq(sp.Symbol("w*(k=1)"), golden),
             "1/φ with φ the golden ratio (= GoldenRatio − 1)"),
    )
    f_w = _lam((kk,), w_star)
    f_v = _lam((w, kk, n, sig), v_w)
    fn = lambda k_val: _out(f_w(np.asarray(k_val, dtype=np.float64)))  # noqa: E731
    fn.variance = lambda w_val, k_val, n_val, sigma2: _out(f_v(w_val, k_val, n_val, sigma2))
    return _Built(rec, v_w, golden, steps, fn)


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------

register("replace_cov", "Replace loop: expected covariance E Σ_t",
          "Alemohammad et al. 2024 §3.1; Kazdan et al. 2025 code; derived",
          "theory.replace.replace_expected_cov", "(t, n, cov0, *, estimator, temperature=1)",
          _replace_cov)
register("replace_mean_error2", "Replace loop: E‖μ_t − μ0‖²",
          "Shumailov et al. 2024 Thm 3.1; derived", "theory.replace.replace_mean_error2",
          "(t, n, trace0, *, estimator, temperature=1)", _replace_mean_error2)
register("replace_variance_moment", "Replace loop: E(σ_t²/σ0²)^r (r = 1/2: E σ_t, Bertrand)",
          "Bertrand et al. 2024; reference notes §1; derived",
          "theory.replace.replace_variance_moment", "(t, n, r, *, estimator, temperature=1)",
          _replace_variance_moment,
         covers=("theory.replace.replace_expected_sigma",))
register("replace_variance_var", "Replace loop: Var(σ_t²/σ0²)", "reference notes §1; derived",
          "theory.replace.replace_variance_var", "(t, n, *, estimator, temperature=1)",
          _replace_variance_var)
register("replace_log_variance_mean", "Replace loop: E log(σ_t²/σ0²) and the collapse rate",
          "Suresh et al. 2024; reference notes §1, §9; derived",
          "theory.replace.replace_log_variance_mean", "(t, n, *, estimator, temperature=1)",
          _replace_log_variance_mean)
register("replace_log_variance_var", "Replace loop: Var log(σ_t²/σ0²)",
          "reference notes §1; derived", "theory.replace.replace_log_variance_var",
          "(t, n, *, estimator, temperature=1)", _replace_log_variance_var)
register("replace_logdet_mean", "Replace loop: E log(det Σ_t/det Σ0) (Bartlett)",
          "derived (Bartlett decomposition)", "theory.replace.replace_logdet_mean",
          "(t, n, d, *, estimator, temperature=1)", _replace_logdet_mean)
register("replace_w2sq_1d", "Replace loop: E W₂²/σ0² in 1-D",
          "Shumailov et al. 2024 Thm 3.1; derived", "theory.replace.replace_w2sq_1d",
          "(t, n, *, estimator, temperature=1)", _replace_w2sq_1d)
register("accumulate_cov", "Accumulate loop: E Σ_t/Σ0 and the sin(π/√n)/(π/√n) limit",
          "Kazdan et al. 2025; reference notes §6; derived",
          "theory.accumulate.accumulate_cov_factor",
          "(t, n, *, n_synthetic=None, estimator, temperature=1); .limit(n) ~ "
          "accumulate_cov_limit", _accumulate_cov_factor,
         covers=("theory.accumulate.accumulate_cov_limit",))
register("accumulate_mean_error2", "Accumulate loop: E‖μ_t − μ0‖² ≤ π²/6 · trΣ0/n",
          "Gerstgrasser et al. 2024; Kazdan et al. 2025; derived",
          "theory.accumulate.accumulate_mean_error2",
          "(t, n, trace0, *, n_synthetic=None, estimator, temperature=1); .bound(n, trace0) ~ "
          "accumulate_mean_error2_bound", _accumulate_mean_error2,
         covers=("theory.accumulate.accumulate_mean_error2_bound",))
register("accumulate_mean_error2_known_cov", "Accumulate loop, known Σ0: E‖μ_t − μ0‖²",
          "Dey & Donoho 2024; Gerstgrasser et al. 2024; derived",
          "theory.accumulate.accumulate_mean_error2_known_cov",
          "(t, n, trace0, *, n_synthetic=None, temperature=1)", _accumulate_mean_error2_known_cov)
register("mix_mean_error2_known_cov", "Mix loop, known Σ0: E‖μ_t − μ0‖² (contraction λ/(1+λ))",
          "Bertrand et al. 2024; derived", "theory.mix.mix_mean_error2_known_cov",
          "(t, n, trace0, *, n_synthetic, temperature=1)", _mix_mean_error2_known_cov)
register("fresh", "Fresh-data loop: 2×2 moment recursion and fixed point",
          "Alemohammad et al. 2024 (fresh data loop); reference notes §2; derived",
          "theory.fresh.fresh_moments",
          "(t, n_real, n_synthetic, trace0, *, estimator, temperature=1, n_initial=None); "
          ".fixed_point(...) ~ fresh_fixed_point", _fresh,
         covers=("theory.fresh.fresh_fixed_point",))
register("augment_risk", "Universality: augment risk ratio Σ 1/k² → π²/6",
          "Dey & Donoho 2024", "theory.universality.augment_risk_ratio",
          "(g); .limit() ~ augment_risk_limit", _augment,
         covers=("theory.universality.augment_risk_limit",))
register("discard_risk", "Universality: discard risk ratio g", "Dey & Donoho 2024",
          "theory.universality.discard_risk_ratio", "(g)", _discard)
register("subsample_risk", "Universality: subsample risk ratio v_g → π²/2 − 2",
          "reference notes §5; derived", "theory.universality.subsample_risk_ratio",
          "(g); .limit() ~ subsample_risk_limit", _subsample,
         covers=("theory.universality.subsample_risk_limit",))
register("kde_heat_death", "KDE replace loop: E s_t² → (n−1)h² (heat death)",
          "Kazdan et al. 2025 code; reference notes §6; derived", None,
          "(t, n, bandwidth, s0_sq); .limit(n, bandwidth)", _kde)
register("weighted_fresh_optimum", "Weighted fresh data: w*(k) = (√(k(k+4)) − k)/2, V* = w*σ²/n",
          "He, Xu & Cheng 2025; reference notes §8g; derived", None,
          "(k) -> w*; .variance(w, k, n, sigma2) = V(w)", _weighted)


register("replace_expected_det", "Replace loop: E det Σ_t / det Σ0 (Bartlett)",
         "Alemohammad et al. 2024 (MAD, κ(λ^dκ)^{t−1}); Kazdan et al. 2025 code; derived",
         "theory.replace.replace_expected_det", "(t, n, d, *, estimator, temperature=1)",
         _replace_expected_det)
register("replace_laws", "Replace loop: Mellin transform E(σ²_t/σ²_0)^s, the exact laws' source",
         "reference notes §8a (exact law for a verifier); derived", None,
         "(t, n, s, *, estimator, temperature=1) = E(σ²_t/σ²_0)^s", _log_chi2_mellin,
         covers=("theory.replace.replace_variance_cdf", "theory.replace.replace_variance_sf",
                 "theory.replace.replace_log_variance_cdf",
                 "theory.replace.replace_log_variance_sf", "theory.replace.replace_logdet_cdf",
                 "theory.replace.replace_logdet_sf", "theory.replace.log_chi2_sum_cdf",
                 "theory.replace.log_chi2_sum_sf",
                 "theory.collapse_probability.collapse_probability"))
register("bertrand_markov_bound", "Collapse probability: Markov bound α(n)^k σ0/ε",
         "Bertrand et al. 2024; Suresh et al. 2024 notebook; derived",
         "theory.collapse_probability.bertrand_markov_bound", "(k, n, eps_ratio)",
         _bertrand_markov)
register("suresh_bound", "Collapse probability: Suresh et al. Theorem 3 (taken from the paper)",
         "Suresh, Thangaraj & Khandavally 2024, Theorem 3",
         "theory.collapse_probability.suresh_bound", "(k, n, eps_ratio)", _suresh,
         taken_from_paper=True)
register("accumulate_subsample_known_cov",
         "Accumulate-subsample loop, known Σ0: exact finite-n recursion (no closed form)",
         "derived (theory/subsample.py)", None, "(g, n, trace0)", _subsample_known_cov,
         covers=("theory.subsample.accumulate_subsample_mean_error2_known_cov",))


declare_numerical(
    "theory.laws.sample_law",
    "a sampler (inverse transforms of jax.random draws), not a formula; its moments are tested "
    "against each law's closed-form moments in tests/theory/test_laws.py")

# Records of the other paper families register themselves on import.
from theory import derivations_correction as _correction  # noqa: E402,F401
from theory import derivations_curation as _curation  # noqa: E402,F401
from theory import derivations_mixtures as _mixtures  # noqa: E402,F401
from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
