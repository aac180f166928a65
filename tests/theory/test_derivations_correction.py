"""The sympy derivations of theory.derivations_correction equal the numeric functions of
theory.correction (relative error ≤ 1e-10 on hypothesis-drawn parameters; exact comparisons,
false-failure probability 0 up to float64 rounding), and their symbolic conclusions hold.
"""

import importlib
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import theory  # noqa: F401
from theory import correction as cr
from theory import derivations as dv

RTOL = 1e-10
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
NAMES = ("correction_population_map", "correction_jacobian", "correction_rho_stability",
         "correction_lambda_max", "correction_mean_mse")
gammas = st.one_of(st.floats(0.0, 30.0), st.just(math.inf))


def _close(a, b, rtol=RTOL, atol=0.0):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-300) + atol), (a, b)


def _numeric(name):
    module, fn = dv.get_derivation(name).numeric.rsplit(".", 1)
    return getattr(importlib.import_module(module), fn)


def test_records_are_registered_and_render():
    names = dv.list_derivations()
    allowed = {"given", "rsolve", "summation", "product", "limit", "solve", "diff",
               "gammasimp", "simplify", "subs", "matrix power", "numeric check"}
    for name in NAMES:
        assert name in names
        text = dv.render(name)
        assert text.startswith(f"{name}:") and "recursion" in text and "solution" in text
        assert "$$" in dv.render(name, latex=True)
        assert all(step.method in allowed for step in dv.get_derivation(name).steps)
        _numeric(name)


def test_symbolic_conclusions():
    alpha, gam = sp.symbols("alpha gamma", positive=True)
    rho = dv.get_derivation("correction_rho_stability")
    assert sp.simplify(rho.lambdify().ratio - alpha * (gam + 2)) == 0  # eq. 40–41
    assert rho.limit == sp.oo  # ρ blows up at the Neumann boundary
    lm = dv.get_derivation("correction_lambda_max")
    assert lm.lambdify().ratio == 2  # lim_{γ→∞} λ_max = 2·λ_max(0)
    jac = dv.get_derivation("correction_jacobian")
    lam = sp.Symbol("lambda", positive=True)
    k = lam / ((1 + lam) * (1 + gam))
    assert sp.simplify(jac.solution - k * sp.eye(2)) == sp.zeros(2, 2)
    mse = dv.get_derivation("correction_mean_mse")
    assert mse.lambdify().deterministic_check == 0  # the notes' §4.3 stationary formula
    mean_t, cov_t = dv.get_derivation("correction_population_map").solution
    assert mean_t.has(sp.Symbol("k", positive=True)) and cov_t.has(sp.Symbol("P", real=True))


@SETTINGS
@given(st.integers(0, 40), st.floats(-3, 3), st.floats(0.1, 5), st.floats(-3, 3),
       st.floats(0.1, 5), st.floats(0.01, 5.0), gammas)
def test_population_iterate(t, m0, v0, tm, tv, lam, g):
    f = dv.get_derivation("correction_population_map").lambdify()
    m_sym, c_sym = f(t, [m0], [[v0]], [tm], [[tv]], lam, g)
    m_num, c_num = cr.corrected_population_iterate(t, [m0], [[v0]], [tm], [[tv]], lam, g)
    scale = max(abs(m0), abs(tm), v0, tv, (m0 - tm) ** 2)
    _close(m_sym, m_num, atol=1e-14 * scale)
    _close(c_sym, c_num, atol=1e-14 * scale)


def test_population_iterate_matrix_entries():
    """The 1-D derivation applies entry-wise to the d-dimensional iterate (δδᵀ term)."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 3))
    c0, tc = a @ a.T + np.eye(3), np.eye(3) * 2.0
    m0, tm = rng.normal(size=3), rng.normal(size=3)
    f = dv.get_derivation("correction_population_map").lambdify()
    for t in (0, 1, 7):
        ms, cs = f(t, m0, c0, tm, tc, 0.8, 0.5)
        mn, cn = cr.corrected_population_iterate(t, m0, c0, tm, tc, 0.8, 0.5)
        _close(ms, mn, atol=1e-14)
        _close(cs, cn, atol=1e-14)


@SETTINGS
@given(st.floats(-2, 2), st.floats(0.2, 4), st.floats(0.01, 5.0), gammas)
def test_jacobian(tm, tv, lam, g):
    f = dv.get_derivation("correction_jacobian").lambdify()
    theta = cr.theta_from_gaussian(np.array([tm]), np.array([[tv]]))
    _close(f(theta, [tm], [[tv]], lam, g), cr.population_map_jacobian(theta, [tm], [[tv]], lam,
                                                                     g), atol=1e-15)


@SETTINGS
@given(st.floats(0.01, 10), st.floats(0, 5), st.floats(0, 5), st.floats(0.0, 0.999))
def test_rho(alpha, eps, lip, frac):
    lam = frac / (1 + eps * lip / alpha)
    f = dv.get_derivation("correction_rho_stability").lambdify()
    _close(f(lam, alpha, eps, lip), cr.rho(lam, alpha, eps, lip), atol=1e-300)


@SETTINGS
@given(gammas, st.floats(0.01, 10), st.floats(0, 5), st.floats(0, 5))
def test_lambda_max(g, alpha, eps, lip):
    f = dv.get_derivation("correction_lambda_max").lambdify()
    _close(f(g, alpha, eps, lip), cr.lambda_max(g, alpha, eps, lip))


@SETTINGS
@given(st.integers(0, 200), st.integers(1, 200), st.integers(0, 300), st.floats(0.1, 10),
       gammas, st.sampled_from(["random", "deterministic"]))
def test_mean_mse(t, n, m, tr0, g, split):
    co = cr.mean_loop_coefficients(n, m, g, split=split)
    assume(co.kappa - co.kappa2 > 1e-6)  # the generic branch of rsolve (κ ≠ κ₂)
    f = dv.get_derivation("correction_mean_mse").lambdify()
    kw = dict(n_synthetic=m, correction_strength=g, split=split)
    _close(f(t, n, tr0, **kw), cr.corrected_mix_mean_error2_known_cov(t, n, tr0, **kw))
    _close(f.stationary(n, tr0, **kw), cr.corrected_mix_mean_error2_stationary(n, tr0, **kw))


@pytest.mark.parametrize("split", ["random", "deterministic"])
def test_mean_mse_without_model_points(split):
    """κ = κ₂ = 0 (γ = ∞, or m = 0), where rsolve's generic form divides 0 by 0: then
    θ_t − µ* = (Σx + Σz)/N for t ≥ 1, so E‖θ_t − µ*‖² = trΣ₀/(n + m) (and trΣ₀/n at t = 0)."""
    ts = np.arange(5)
    got = cr.corrected_mix_mean_error2_known_cov(ts, 40, 3.0, n_synthetic=10,
                                                 correction_strength=math.inf, split=split)
    _close(got, np.where(ts == 0, 3.0 / 40, 3.0 / 50))
    got0 = cr.corrected_mix_mean_error2_known_cov(ts, 40, 3.0, n_synthetic=0,
                                                  correction_strength=1.0, split=split)
    _close(got0, np.full(5, 3.0 / 40))


def test_mean_mse_rejects_unknown_split():
    f = dv.get_derivation("correction_mean_mse").lambdify()
    with pytest.raises(ValueError, match="split"):
        f(3, 50, 1.0, n_synthetic=20, correction_strength=1.0, split="x")


# ------------------------------------------------- the pooled-MLE step and the transcribed bounds

NEW = ("correction_pooled_mle_step", "correction_definition", "correction_lemma_a7",
       "correction_theorem_a8", "correction_theorem_4_3", "correction_prop_b2",
       "correction_prop_a5")


def test_new_records_render_and_marks():
    for name in NEW:
        text = dv.render(name)
        assert name in text
        der = dv.get_derivation(name)
        assert der.taken_from_paper == (name != "correction_pooled_mle_step")


@SETTINGS
@given(st.floats(-3, 3), st.floats(0.1, 5), st.floats(-3, 3), st.floats(0.1, 5),
       st.floats(-3, 3), st.floats(0.1, 5), st.integers(1, 500), st.integers(0, 500),
       st.floats(0.0, 30.0), st.sampled_from(["sampled", "fixed"]))
def test_pooled_mle_step(mu, c, md, sd, mt, ct, n, m, g, real):
    f = dv.get_derivation("correction_pooled_mle_step").lambdify()
    ex, ev = f([mu], [[c]], [md], [[sd]], [mt], [[ct]], n_real=n, n_synthetic=m,
               correction_strength=g, real=real)
    nx, nv = cr.pooled_mle_expectation([mu], [[c]], [md], [[sd]], [mt], [[ct]], n_real=n,
                                       n_synthetic=m, correction_strength=g, real=real)
    # E µ̂ is a weighted mean of O(1) numbers: compare on their scale (cancellation-free bound)
    _close(ex, float(nx[0]), rtol=0.0, atol=RTOL * (abs(mu) + abs(md) + abs(mt) + 1.0))
    scale = c + sd + ct + (abs(mu) + abs(md) + abs(mt)) ** 2
    _close(ev, float(nv[0, 0]), rtol=0.0, atol=RTOL * scale)


@SETTINGS
@given(st.floats(0.0, 10.0), st.floats(0.0, 10.0), gammas.filter(math.isfinite))
def test_definition(p, ps, g):
    f = dv.get_derivation("correction_definition").lambdify()
    _close(f(p, ps, g), cr.corrected_density(p, ps, g))
    _close(f(p, ps, g), cr.corrected_cdf(lambda x: p + 0 * x, lambda x: ps + 0 * x, g)(0.0))


@SETTINGS
@given(st.floats(-5, -0.1), st.floats(-5, -0.1), st.floats(0.0, 3.0), st.floats(0.0, 30.0))
def test_lemma_a7_scalar(a, c, lam, g):
    f = dv.get_derivation("correction_lemma_a7").lambdify()
    _close(f(a, c, lam, g), cr.lemma_a7_jacobian([[a]], [[c]], lam, g))


def _stable(lam_frac, g, alpha, eps, lip):
    return lam_frac * cr.lambda_max(g, alpha, eps, lip)


@SETTINGS
@given(st.integers(0, 200), st.floats(0.0, 10.0), st.floats(0.01, 0.99), st.floats(0.0, 30.0),
       st.floats(0.1, 5.0), st.floats(0.0, 2.0), st.floats(0.0, 2.0))
def test_theorem_a8(t, d0, frac, g, alpha, eps, lip):
    lam = _stable(frac, g, alpha, eps, lip)
    f = dv.get_derivation("correction_theorem_a8").lambdify()
    _close(f(t, d0, lam, g, alpha, eps, lip), cr.theorem_a8_bound(t, d0, lam, g, alpha, eps, lip),
           rtol=1e-9)  # q^t with t ≤ 200: relative rounding ≤ t·ε·few


@SETTINGS
@given(st.integers(1, 200), st.integers(1, 10**6), st.floats(1e-4, 0.5), st.floats(0.0, 10.0),
       st.floats(0.01, 0.99), st.floats(0.0, 30.0), st.floats(0.1, 5.0), st.floats(0.0, 2.0),
       st.floats(0.0, 2.0), st.floats(0.0, 3.0), st.floats(1.0, 5.0), st.floats(0.0, 1.0))
def test_theorem_4_3(t, n, delta, d0, frac, g, alpha, eps, lip, a, b, eps_opt):
    lam = _stable(frac, g, alpha, eps, lip)
    assume(lam > 0)
    f = dv.get_derivation("correction_theorem_4_3").lambdify()
    _close(f(t, n, delta, d0, lam, g, alpha, eps, lip, a, b, eps_opt),
           cr.theorem_4_3_bound(t, n, delta, d0, lam, g, alpha, eps, lip, a, b, eps_opt),
           rtol=1e-9)


@SETTINGS
@given(st.floats(0.0, 5.0), st.floats(0.01, 0.99), st.floats(0.0, 30.0), st.floats(0.1, 5.0),
       st.floats(0.0, 2.0), st.floats(0.0, 2.0), st.floats(0.0, 5.0))
def test_prop_b2_and_a5(big_b, frac, g, alpha, eps, lip, d_u):
    lam = frac / (1.0 + eps * lip / alpha)  # λ(1 + εL/α) < 1, where ρ is defined
    fb = dv.get_derivation("correction_prop_b2").lambdify()
    _close(fb(big_b, lam, g, alpha, eps, lip), cr.prop_b2_constant(big_b, lam, g, alpha, eps, lip))
    assume(eps * lip < alpha)
    fa = dv.get_derivation("correction_prop_a5").lambdify()
    val = cr.prop_a5_margin(lam, g, alpha, eps, lip, d_u)
    scale = alpha * (1 + lam) + lam * lip * (d_u + eps)  # the sum's terms: cancellation-free bound
    _close(fa(lam, g, alpha, eps, lip, d_u), val, rtol=0.0, atol=RTOL * scale)
