"""Every numeric closed form used by paper_checks equals its sympy derivation.

Exact comparisons (no randomness in the values): relative error ≤ 1e-10 in float64 on
hypothesis-drawn parameters (false-failure probability 0 up to floating-point rounding).
"""

import importlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import theory
from theory import derivations as dv

RTOL = 1e-10
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

estimators = st.sampled_from(["mle", "unbiased"])
temps = st.floats(0.5, 1.5)
ns = st.integers(2, 120)
ts = st.integers(0, 60)


def _close(a, b, rtol=RTOL):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-300)), (a, b)


def _numeric(name):
    path = dv.get_derivation(name).numeric
    module, fn = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), fn)


# ------------------------------------------------------------------------------- registry / API


def test_registry_lists_and_renders_every_derivation():
    names = dv.list_derivations()
    assert len(names) == len(set(names)) >= 18
    for name in names:
        der = dv.get_derivation(name)
        text = dv.render(name)
        assert text.startswith(f"{name}:")
        if der.taken_from_paper:  # a transcribed statement, with the reason for no derivation
            assert "taken from the paper" in text and "statement" in text
        else:
            assert "recursion" in text and "solution" in text
        assert "$$" in dv.render(name, latex=True)
        assert der.recursion is not None and der.solution is not None
        if der.numeric is not None:
            _numeric(name)  # the import path resolves


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown derivation"):
        dv.get_derivation("no_such_thing")
    with pytest.raises(ValueError):
        dv.render("no_such_thing")


def test_every_step_names_a_sympy_method():
    allowed = {"given", "rsolve", "summation", "product", "limit", "solve", "diff",
               "gammasimp", "simplify", "subs", "matrix power", "numeric check", "integrate",
               "expand", "Markov's inequality", "taken from the paper"}
    for name in dv.list_derivations():
        for step in dv.get_derivation(name).steps:
            assert step.method in allowed, (name, step)


def test_symbolic_limits_are_the_papers_constants():
    import sympy as sp

    assert dv.get_derivation("augment_risk").limit == sp.pi**2 / 6
    assert sp.simplify(dv.get_derivation("subsample_risk").limit - (sp.pi**2 / 2 - 2)) == 0
    n, h = sp.Symbol("n", positive=True), sp.Symbol("h", positive=True)
    assert sp.simplify(dv.get_derivation("kde_heat_death").limit - (n - 1) * h**2) == 0
    assert sp.simplify(dv.get_derivation("weighted_fresh_optimum").limit
                       - 1 / sp.GoldenRatio) == 0
    lim = dv.get_derivation("accumulate_cov").limit
    assert sp.simplify(lim - sp.sin(sp.pi / sp.sqrt(n)) / (sp.pi / sp.sqrt(n))) == 0


# ------------------------------------------------------------------------------- replace


@SETTINGS
@given(ts, ns, estimators, temps, st.floats(0.1, 10.0))
def test_replace_expected_cov(t, n, est, tau, cov0):
    f = dv.get_derivation("replace_cov").lambdify()
    _close(f(t, n, cov0, estimator=est, temperature=tau),
           theory.replace_expected_cov(t, n, cov0, estimator=est, temperature=tau))


@SETTINGS
@given(ts, ns, estimators, temps, st.floats(0.1, 10.0))
def test_replace_mean_error2(t, n, est, tau, tr0):
    q = tau * (n - 1) / (n if est == "mle" else n - 1)
    assume(q == 1.0 or abs(q - 1.0) > 1e-5)  # the generic branch cancels near q = 1
    f = dv.get_derivation("replace_mean_error2").lambdify()
    _close(f(t, n, tr0, estimator=est, temperature=tau),
           theory.replace_mean_error2(t, n, tr0, estimator=est, temperature=tau), 1e-9)


@SETTINGS
@given(ts, ns, estimators, temps, st.floats(-0.45, 3.0))
def test_replace_variance_moment_and_expected_sigma(t, n, est, tau, r):
    assume(r > -(n - 1) / 2)
    f = dv.get_derivation("replace_variance_moment").lambdify()
    _close(f(t, n, r, estimator=est, temperature=tau),
           theory.replace_variance_moment(t, n, r, estimator=est, temperature=tau))
    _close(f(t, n, 0.5, estimator=est, temperature=tau),
           theory.replace_expected_sigma(t, n, estimator=est, temperature=tau))


@SETTINGS
@given(st.integers(1, 60), ns, st.floats(0.05, 20.0))
def test_bertrand_markov_bound_is_the_half_moment(k, n, eps):
    f = dv.get_derivation("replace_variance_moment").lambdify()
    _close(f(k - 1, n, 0.5, estimator="unbiased") / eps, theory.bertrand_markov_bound(k, n, eps))


@SETTINGS
@given(ts, st.integers(2, 60), estimators, temps)
def test_replace_variance_var(t, n, est, tau):
    f = dv.get_derivation("replace_variance_var").lambdify()
    _close(f(t, n, estimator=est, temperature=tau),
           theory.replace_variance_var(t, n, estimator=est, temperature=tau), 1e-9)


@SETTINGS
@given(ts, ns, estimators, temps)
def test_replace_log_variance_mean_and_var(t, n, est, tau):
    f = dv.get_derivation("replace_log_variance_mean").lambdify()
    want = theory.replace_log_variance_mean(t, n, estimator=est, temperature=tau)
    assert abs(f(t, n, estimator=est, temperature=tau) - want) <= RTOL * max(abs(want), 1e-3)
    g = dv.get_derivation("replace_log_variance_var").lambdify()
    _close(g(t, n, estimator=est, temperature=tau),
           theory.replace_log_variance_var(t, n, estimator=est, temperature=tau))


@SETTINGS
@given(ts, st.integers(1, 6), st.integers(0, 60), estimators, temps)
def test_replace_logdet_mean(t, d, extra, est, tau):
    n = d + 1 + extra
    f = dv.get_derivation("replace_logdet_mean").lambdify()
    want = theory.replace_logdet_mean(t, n, d, estimator=est, temperature=tau)
    got = f(t, n, d, estimator=est, temperature=tau)
    assert abs(got - want) <= RTOL * max(abs(want), 1e-2)


@SETTINGS
@given(ts, st.integers(2, 80), estimators, st.floats(0.7, 1.2))
def test_replace_w2sq_1d(t, n, est, tau):
    q = tau * (n - 1) / (n if est == "mle" else n - 1)
    assume(q == 1.0 or abs(q - 1.0) > 1e-5)
    f = dv.get_derivation("replace_w2sq_1d").lambdify()
    _close(f(t, n, estimator=est, temperature=tau),
           theory.replace_w2sq_1d(t, n, estimator=est, temperature=tau), 1e-9)


def test_replace_arrays_of_generations():
    f = dv.get_derivation("replace_cov").lambdify()
    t = np.arange(30)
    _close(f(t, 10, 2.0, estimator="mle"), theory.replace_expected_cov(t, 10, 2.0, estimator="mle"))


# ------------------------------------------------------------------------------- accumulate


@SETTINGS
@given(st.integers(0, 80), st.integers(2, 100), st.integers(1, 100), estimators, temps)
def test_accumulate_cov_factor(t, n, m, est, tau):
    f = dv.get_derivation("accumulate_cov").lambdify()
    _close(f(t, n, n_synthetic=m, estimator=est, temperature=tau),
           theory.accumulate_cov_factor(t, n, n_synthetic=m, estimator=est, temperature=tau))


@SETTINGS
@given(st.integers(1, 10_000))
def test_accumulate_cov_limit(n):
    f = dv.get_derivation("accumulate_cov").lambdify()
    _close(f.limit(n), theory.accumulate_cov_limit(n))
    _close(f.limit(n), theory.accumulate_cov_factor_limit(n, estimator="mle")
           if n >= 2 else f.limit(n))


@SETTINGS
@given(st.integers(0, 60), st.integers(2, 80), st.integers(1, 80), estimators, temps,
       st.floats(0.1, 10.0))
def test_accumulate_mean_error2(t, n, m, est, tau, tr0):
    f = dv.get_derivation("accumulate_mean_error2").lambdify()
    _close(f(t, n, tr0, n_synthetic=m, estimator=est, temperature=tau),
           theory.accumulate_mean_error2(t, n, tr0, n_synthetic=m, estimator=est,
                                         temperature=tau))
    _close(f.bound(n, tr0), theory.accumulate_mean_error2_bound(n, tr0))


@SETTINGS
@given(st.integers(0, 500), st.integers(1, 200), st.integers(1, 200), temps,
       st.floats(0.1, 10.0))
def test_accumulate_mean_error2_known_cov(t, n, m, tau, tr0):
    f = dv.get_derivation("accumulate_mean_error2_known_cov").lambdify()
    _close(f(t, n, tr0, n_synthetic=m, temperature=tau),
           theory.accumulate_mean_error2_known_cov(t, n, tr0, n_synthetic=m, temperature=tau))


# ------------------------------------------------------------------------------- mix / fresh


@SETTINGS
@given(st.integers(0, 200), st.integers(1, 200), st.integers(1, 200), temps,
       st.floats(0.1, 10.0))
def test_mix_mean_error2_known_cov(t, n, m, tau, tr0):
    f = dv.get_derivation("mix_mean_error2_known_cov").lambdify()
    _close(f(t, n, tr0, n_synthetic=m, temperature=tau),
           theory.mix_mean_error2_known_cov(t, n, tr0, n_synthetic=m, temperature=tau))


@SETTINGS
@given(st.integers(0, 40), st.integers(2, 60), st.integers(0, 60), estimators,
       st.floats(0.5, 1.2), st.floats(0.1, 10.0))
def test_fresh_moments_and_fixed_point(t, n_r, n_s, est, tau, tr0):
    f = dv.get_derivation("fresh").lambdify()
    got = f(t, n_r, n_s, tr0, estimator=est, temperature=tau)
    want = theory.fresh_moments(t, n_r, n_s, tr0, estimator=est, temperature=tau)
    _close(got, want, 1e-9)
    a, _ = theory.fresh_recursion_matrix(n_r, n_s, tr0, estimator=est, temperature=tau)
    assume(np.max(np.abs(np.linalg.eigvals(a))) < 1 - 1e-6)
    _close(f.fixed_point(n_r, n_s, tr0, estimator=est, temperature=tau),
           theory.fresh_fixed_point(n_r, n_s, tr0, estimator=est, temperature=tau), 1e-9)


# ------------------------------------------------------------------------------- universality


@SETTINGS
@given(st.integers(1, 100_000))
def test_universality_ratios(g):
    for name, fn in (("augment_risk", theory.augment_risk_ratio),
                     ("discard_risk", theory.discard_risk_ratio),
                     ("subsample_risk", theory.subsample_risk_ratio)):
        _close(dv.get_derivation(name).lambdify()(g), fn(g))
    _close(dv.get_derivation("augment_risk").lambdify().limit(), theory.augment_risk_limit())
    _close(dv.get_derivation("subsample_risk").lambdify().limit(), theory.subsample_risk_limit())


def test_accumulate_subsample_tends_to_the_process_limit():
    """``accumulate_subsample_mean_error2_known_cov`` is an exact O(g³) recursion, not a closed
    form; its scaled error n·E e_g² tends to the derived v_g as n → ∞ (error O(1/n))."""
    v = dv.get_derivation("subsample_risk").lambdify()
    n = 100_000
    err = theory.accumulate_subsample_mean_error2_known_cov(9, n, 1.0)
    _close(n * err, v(np.arange(1, 11)), 1e-3)


# ------------------------------------------------------------------------- no toolkit function


@SETTINGS
@given(st.integers(0, 200), st.integers(2, 500), st.floats(0.01, 3.0), st.floats(0.0, 10.0))
def test_kde_solution_iterates_the_recursion(t, n, h, s0sq):
    f = dv.get_derivation("kde_heat_death").lambdify()
    a = (n - 1) / n
    s = s0sq
    for _ in range(t):
        s = a * (s + h * h)
    assert abs(f(t, n, h, s0sq) - s) <= 1e-9 * max(s, 1e-12)
    assert f.limit(n, h) == pytest.approx((n - 1) * h * h, rel=1e-12)


@SETTINGS
@given(st.floats(0.05, 20.0))
def test_weighted_optimum_minimises_v(k_ratio):
    f = dv.get_derivation("weighted_fresh_optimum").lambdify()
    w_star = f(k_ratio)
    _close(w_star, (math.sqrt(k_ratio * (k_ratio + 4)) - k_ratio) / 2)
    grid = np.linspace(0.01, 0.99, 981)
    v = f.variance(grid, k_ratio, 10.0, 1.0)
    v_star = f.variance(w_star, k_ratio, 10.0, 1.0)
    assert v_star <= v.min() + 1e-12
    _close(v_star, w_star / 10.0)
    _close(f(1.0), 2 / (1 + math.sqrt(5)))


# ------------------------------------------------------------------------------- exact laws


def _law_cdf_from_derivation(x, t, n, est, tau):
    """P(log(σ_t²/σ0²) ≤ x) by Gil-Pelaez inversion of the derived characteristic function
    E[(σ_t²/σ0²)^{iu}] = replace_variance_moment at r = iu (the same sympy solution)."""
    import sympy as sp
    from scipy import integrate
    from scipy import special as sps

    der = dv.get_derivation("replace_variance_moment")
    expr = dv._log_space(der.solution)
    fn = sp.lambdify((dv.t, dv.n, dv.r, dv.D, dv.tau), expr,
                     modules=[{"loggamma": sps.loggamma}, "numpy"])
    div = n if est == "mle" else n - 1

    def integrand(u):
        phi = fn(t, n, 1j * u, div, tau)
        return (np.exp(-1j * u * x) * phi).imag / u

    val, _ = integrate.quad(integrand, 0.0, np.inf, limit=2000, epsabs=1e-13, epsrel=1e-12)
    return 0.5 - val / math.pi


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(0, 20), st.integers(3, 60), estimators, temps, st.floats(-2.5, 2.5))
def test_replace_laws_invert_the_derived_characteristic_function(t, n, est, tau, z):
    """The exact laws (replace_log_variance_cdf, replace_variance_sf, collapse_probability,
    replace_logdet_cdf at d = 1) are Fourier inversions, not closed forms; their
    characteristic function is the derived moment at r = iu. Checked by an independent
    quadrature to 1e-8 absolute (quadrature accuracy, not 1e-10)."""
    mean = theory.replace_log_variance_mean(t, n, estimator=est, temperature=tau)
    sd = math.sqrt(theory.replace_log_variance_var(t, n, estimator=est, temperature=tau))
    x = mean + z * sd
    want = _law_cdf_from_derivation(x, t, n, est, tau)
    assert abs(theory.replace_log_variance_cdf(x, t, n, estimator=est, temperature=tau)
               - want) <= 1e-8
    assert abs(theory.replace_variance_sf(math.exp(x), t, n, estimator=est, temperature=tau)
               - (1 - want)) <= 1e-8
    assert abs(theory.replace_logdet_cdf(x, t, n, 1, estimator=est, temperature=tau)
               - want) <= 1e-8
    # collapse_probability: unbiased, τ = 1, k = t + 1 fits, P(σ_k > ε) with ε = e^{x/2}
    want_unb = _law_cdf_from_derivation(x, t, n, "unbiased", 1.0)
    assert abs(theory.collapse_probability(t + 1, n, math.exp(x / 2)) - (1 - want_unb)) <= 1e-8


def test_cli_derive_lists_prints_and_rejects(capsys):
    """``selfconsuming derive``: list, print (text/LaTeX), unknown name → one line, exit 2."""
    from paper_checks.cli import main

    assert main(["derive"]) == 0
    listing = capsys.readouterr().out
    assert "kde_heat_death" in listing and "correction_theorem_4_3" in listing
    assert "suresh_bound" in listing and "[taken from the paper]" in listing
    assert main(["derive", "--numerical"]) == 0
    numerical = capsys.readouterr().out
    assert "theory.laws.sample_law" in numerical and "theory.correction.w1_1d" in numerical
    assert main(["derive", "augment_risk"]) == 0
    assert "pi**2/6" in capsys.readouterr().out
    assert main(["derive", "augment_risk", "--latex"]) == 0
    assert "\\frac{\\pi^{2}}{6}" in capsys.readouterr().out
    assert main(["derive", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown derivation") and err.count("\n") == 1
