"""theory.correction: Gillman et al. 2024 / Bertrand et al. 2024.

Exact comparisons use tolerances from float64 rounding or a stated quadrature/iteration
error; Monte Carlo comparisons state their standard error and use Z_TEST (false-failure
probability 1e-6 per comparison); seeds are fixed (SELFCONSUMING_TEST_SEED).
"""

import math

import jax
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy import stats as sst

import theory  # noqa: F401  (float64)
from tests.helpers import TEST_SEED, Z_TEST, assert_mean_close
from theory import correction as cr
from theory.laws import GaussianLaw, GaussianMixtureLaw, StudentTLaw
from theory.mix import mix_mean_error2_known_cov

EPS = float(np.finfo(float).eps)
FAST = settings(max_examples=25, deadline=None, derandomize=True)
FEW = settings(max_examples=8, deadline=None, derandomize=True)

gammas = st.one_of(st.floats(0.0, 50.0), st.just(math.inf))
lambdas = st.floats(0.01, 5.0)


# ------------------------------------------------------------------ Def. 4.1 / Lemma A.2


def test_target_weight_and_validation():
    assert cr.target_weight(0.0) == 0.0
    assert cr.target_weight(1.0) == 0.5
    assert cr.target_weight(math.inf) == 1.0
    for bad in (-0.1, math.nan, "1", True, None):
        with pytest.raises(ValueError, match="correction_strength"):
            cr.target_weight(bad)


@FAST
@given(gammas, st.lists(st.floats(0.0, 3.0), min_size=5, max_size=5),
       st.lists(st.floats(0.0, 3.0), min_size=5, max_size=5))
def test_corrected_density_pointwise_identities(g, p, ps):
    """Lemma A.2(3): |π−p*| = |p−p*|/(1+γ), |π−p| = γ|p−p*|/(1+γ)."""
    p, ps = np.array(p), np.array(ps)
    pi = cr.corrected_density(p, ps, g)
    shrink = 0.0 if math.isinf(g) else 1.0 / (1.0 + g)
    tol = 8 * EPS * max(1.0, p.max(), ps.max())
    np.testing.assert_allclose(np.abs(pi - ps), np.abs(p - ps) * shrink, rtol=0, atol=tol)
    np.testing.assert_allclose(np.abs(pi - p), np.abs(p - ps) * (1 - shrink), rtol=0, atol=tol)


def test_corrected_density_special_strengths_and_cdf():
    p, ps = np.array([0.1, 0.5, 2.0]), np.array([0.3, 0.2, 1.0])
    np.testing.assert_array_equal(cr.corrected_density(p, ps, 0.0), p)
    np.testing.assert_allclose(cr.corrected_density(p, ps, 1.0), (p + ps) / 2, rtol=1e-15)
    np.testing.assert_array_equal(cr.corrected_density(p, ps, math.inf), ps)
    f = cr.corrected_cdf(sst.norm(1).cdf, sst.norm(0).cdf, 3.0)
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(f(x), (sst.norm(1).cdf(x) + 3 * sst.norm.cdf(x)) / 4, rtol=1e-14)
    with pytest.raises(TypeError):
        cr.corrected_cdf(1.0, sst.norm.cdf, 1.0)


@pytest.mark.parametrize("law,ref", [
    (GaussianLaw([0.3], [[2.0]]), sst.norm(0.3, math.sqrt(2.0))),
    (StudentTLaw(4.0, [0.5], [[1.5]]), sst.t(4.0, 0.5, math.sqrt(1.5))),
])
def test_law_pdf_cdf_match_scipy(law, ref):
    x = np.linspace(-6, 6, 13)
    np.testing.assert_allclose(cr.law_pdf(law)(x), ref.pdf(x), rtol=1e-13)
    np.testing.assert_allclose(cr.law_cdf(law)(x), ref.cdf(x), rtol=1e-13, atol=1e-300)


def test_law_functions_mixture_and_errors():
    law = GaussianMixtureLaw([0.25, 0.75], [-1.0, 2.0], [0.5, 2.0])
    x = np.linspace(-5, 6, 9)
    ref = 0.25 * sst.norm(-1, math.sqrt(0.5)).cdf(x) + 0.75 * sst.norm(2, math.sqrt(2)).cdf(x)
    np.testing.assert_allclose(cr.law_cdf(law)(x), ref, rtol=1e-14)
    assert integrate.quad(cr.law_pdf(law), -np.inf, np.inf)[0] == pytest.approx(1, abs=1e-12)
    with pytest.raises(ValueError, match="one-dimensional"):
        cr.law_cdf(GaussianLaw([0.0, 0.0], np.eye(2)))
    with pytest.raises(TypeError, match="law"):
        cr.law_pdf(object())
    assert cr.law_cdf(sst.norm(0, 1))(0.0) == 0.5  # anything with a cdf()


# ------------------------------------------------------------------ exact 1-D W1


def test_w1_closed_forms():
    # translation: W1 = |Δµ|; scale family: W1 = |σ − 1|·E|Z| = |σ − 1|√(2/π)
    assert cr.w1_1d(sst.norm(0.7).cdf, sst.norm(0).cdf, bulk=(-20, 20)) == pytest.approx(
        0.7, rel=1e-11)
    assert cr.w1_1d(sst.norm(0, 2.5).cdf, sst.norm.cdf, bulk=(-40, 40)) == pytest.approx(
        1.5 * math.sqrt(2 / math.pi), rel=1e-11)
    assert cr.w1_1d(sst.norm.cdf, sst.norm.cdf, bulk=(-5, 5)) == 0.0


def test_w1_matches_quantile_route():
    """W₁ = ∫₀¹|F⁻¹(u) − G⁻¹(u)| du: an independent route through the quantile functions."""
    a, b = sst.t(3.0, 0.2, 1.3), sst.norm(-0.1, 0.8)
    quantile = integrate.quad(lambda u: abs(a.ppf(u) - b.ppf(u)), 0, 1, limit=500,
                              points=[1e-6, 1 - 1e-6], epsabs=1e-11)[0]
    value, err = cr.w1_1d(a.cdf, b.cdf, bulk=(-80, 80), full_output=True)
    assert value == pytest.approx(quantile, abs=1e-8)
    assert err < 1e-9


@FEW
@given(st.floats(-2, 2), st.floats(0.3, 3.0), st.floats(0.0, 20.0))
def test_w1_mixing_is_an_equality_in_1d(mu, sigma, g):
    """F_{π_γp} − F* = (F_p − F*)/(1+γ) pointwise, so W₁(π_γp, p*) = W₁(p, p*)/(1+γ)."""
    fp, fs = sst.norm(mu, sigma).cdf, sst.norm.cdf
    base = cr.w1_1d(fp, fs, bulk=(-40, 40))
    mixed = cr.w1_1d(cr.corrected_cdf(fp, fs, g), fs, bulk=(-40, 40))
    assert mixed == pytest.approx(base / (1 + g), rel=1e-8, abs=1e-12)


def test_w1_validation():
    with pytest.raises(ValueError, match="bulk"):
        cr.w1_1d(sst.norm.cdf, sst.norm.cdf, bulk=(1.0, 0.0))
    with pytest.raises(ValueError, match="bulk"):
        cr.w1_1d(sst.norm.cdf, sst.norm.cdf, bulk=3.0)
    with pytest.raises(ValueError, match="points"):
        cr.w1_1d(sst.norm.cdf, sst.norm.cdf, bulk=(-1, 1), points=2)


# ------------------------------------------------------------------ the population map


def _random_gaussian(rng, d):
    a = rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T + 0.5 * np.eye(d)


def test_theta_roundtrip_and_errors():
    rng = np.random.default_rng(TEST_SEED)
    m, c = _random_gaussian(rng, 3)
    th = cr.theta_from_gaussian(m, c)
    assert th.shape == (9,)
    m2, c2 = cr.theta_to_gaussian(th, 3)
    np.testing.assert_array_equal(np.asarray(m2), m)
    np.testing.assert_allclose(np.asarray(c2), c, rtol=0, atol=0)
    with pytest.raises(ValueError, match="theta"):
        cr.theta_to_gaussian(th[:-1], 3)


def test_population_contraction_values():
    assert cr.population_contraction(0.5, 0.0) == pytest.approx(1 / 3, rel=1e-15)
    assert cr.population_contraction(1.0, 1.0) == 0.25
    assert cr.population_contraction(2.0, math.inf) == 0.0
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="synthetic_ratio"):
            cr.population_contraction(bad, 0.0)


@FAST
@given(st.integers(1, 3), lambdas, gammas, st.integers(0, 2**31 - 1))
def test_k_map_equals_moment_matching_and_closed_form(d, lam, g, seed):
    """Three routes: the k-map, the generic mixture moment match, the t-step closed form."""
    rng = np.random.default_rng(seed)
    m0, c0 = _random_gaussian(rng, d)
    tm, tc = _random_gaussian(rng, d)
    m, c = m0, c0
    for t in range(1, 6):
        m, c = (np.asarray(a) for a in cr.corrected_population_map(m, c, tm, tc, lam, g))
        gm, gc = cr.moment_matching_map(m0, c0, tm, tc, tm, tc, lam, g) if t == 1 else (m, c)
        if t == 1:
            np.testing.assert_allclose(np.asarray(gm), m, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(np.asarray(gc), c, rtol=1e-12, atol=1e-12)
        mt, ct = cr.corrected_population_iterate(t, m0, c0, tm, tc, lam, g)
        np.testing.assert_allclose(mt, m, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(ct, c, rtol=1e-11, atol=1e-11)
        assert np.linalg.eigvalsh(c)[0] > 0


def test_iterate_array_t_and_validation():
    mt, ct = cr.corrected_population_iterate(np.arange(4), [1.0], [[2.0]], [0.0], [[1.0]],
                                             1.0, 0.0)
    assert mt.shape == (4, 1) and ct.shape == (4, 1, 1)
    np.testing.assert_allclose(mt[:, 0], 0.5 ** np.arange(4), rtol=1e-15)
    with pytest.raises(ValueError, match="t must be"):
        cr.corrected_population_iterate(1.5, [1.0], [[2.0]], [0.0], [[1.0]], 1.0, 0.0)


def test_moment_matching_map_with_a_wrong_target_moves_theta_star():
    """If the corrector pulls toward something other than θ*, θ* is no longer fixed."""
    m, c = cr.moment_matching_map([0.0], [[1.0]], [0.0], [[1.0]], [1.0], [[1.0]], 1.0, 1.0)
    assert float(m[0]) == pytest.approx(0.25, rel=1e-15)


def test_pooled_mle_expectation_monte_carlo():
    """Exact finite-n expectation of one pooled MLE step vs Monte Carlo (n = 30, λ = 1, γ = 2,
    1-D Gaussian-mixture p_data; a configuration not used by the claims)."""
    law = GaussianMixtureLaw([0.5, 0.5], [-1.0, 1.5], [0.3, 0.6])
    tm, tc = law.moments
    mean, cov = np.array([0.8]), np.array([[2.0]])
    n, m, g, reps = 30, 30, 2.0, 40_000
    k1, k2, k3, k4 = jax.random.split(jax.random.key(TEST_SEED), 4)
    comp = np.asarray(jax.random.uniform(k1, (reps, n))) < 0.5
    zr = np.asarray(jax.random.normal(k2, (reps, n)))
    real = np.where(comp, -1.0 + math.sqrt(0.3) * zr, 1.5 + math.sqrt(0.6) * zr)
    z = np.asarray(jax.random.normal(k3, (reps, m)))
    u = np.asarray(jax.random.uniform(k4, (reps, m)))
    syn = np.where(u < g / (1 + g), tm[0] + math.sqrt(tc[0, 0]) * z, mean[0] + math.sqrt(2.0) * z)
    x = np.concatenate([real, syn], axis=1)
    em, ec = cr.pooled_mle_expectation(mean, cov, tm, tc, tm, tc, n_real=n, n_synthetic=m,
                                       correction_strength=g)
    assert_mean_close(x.mean(axis=1), em[0], "E mean")
    assert_mean_close(x.var(axis=1), ec[0, 0], "E MLE variance")
    pm, pc = cr.moment_matching_map(mean, cov, tm, tc, tm, tc, 1.0, g)
    assert float(pm[0]) == pytest.approx(em[0], rel=1e-14)
    assert abs(float(pc[0, 0]) - ec[0, 0]) > 0.01  # the O(1/N) MLE bias is resolved


def test_pooled_mle_expectation_fixed_real_and_validation():
    e_s = cr.pooled_mle_expectation([0.0], [[1.0]], [0.0], [[1.0]], [0.0], [[1.0]], n_real=10,
                                    n_synthetic=10, correction_strength=0.0)
    e_f = cr.pooled_mle_expectation([0.0], [[1.0]], [0.0], [[1.0]], [0.0], [[1.0]], n_real=10,
                                    n_synthetic=10, correction_strength=0.0, real="fixed")
    assert e_s[1][0, 0] == pytest.approx(1 - 20 / 400, rel=1e-14)  # (N − 1)/N
    assert e_f[1][0, 0] == pytest.approx(1 - 10 / 400, rel=1e-14)
    with pytest.raises(ValueError, match="real"):
        cr.pooled_mle_expectation([0.0], [[1.0]], [0.0], [[1.0]], [0.0], [[1.0]], n_real=10,
                                  n_synthetic=10, correction_strength=0.0, real="x")
    with pytest.raises(ValueError, match="n_real"):
        cr.pooled_mle_expectation([0.0], [[1.0]], [0.0], [[1.0]], [0.0], [[1.0]], n_real=0,
                                  n_synthetic=10, correction_strength=0.0)


# ------------------------------------------------------------------ Lemma A.7


def test_lemma_a7_matrices_closed_form_1d():
    """1-D, θ = (µ, v): A = C = diag(−1/v, −1/(2v²)) at θ* (Fisher information), B = −C."""
    a, b, c = cr.lemma_a7_matrices([0.4], [[2.5]])
    np.testing.assert_allclose(c, np.diag([-1 / 2.5, -1 / (2 * 2.5**2)]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a, c, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, -c, rtol=0, atol=1e-15)
    assert cr.gaussian_alpha([0.4], [[2.5]]) == pytest.approx(min(1 / 2.5, 1 / 12.5), rel=1e-13)
    with pytest.raises(ValueError, match="target_mean"):
        cr.lemma_a7_matrices([0.0, 1.0], [[1.0]])


def test_lemma_a7_matrices_with_other_data_moments():
    """A uses p_data's moments: with data ≠ target moments A ≠ C (θ* is then not optimal)."""
    a, _, c = cr.lemma_a7_matrices([0.0], [[1.0]], [0.5], [[2.0]])
    assert not np.allclose(a, c)


def test_lemma_a7_jacobian_formula_and_validation():
    j = cr.lemma_a7_jacobian([[-2.0]], [[-1.0]], 0.5, 1.0)  # A⁻¹C = 1/2
    assert j[0, 0] == pytest.approx((0.5 / 2) * 0.5 / (1 + 0.5 * 0.5), rel=1e-15)
    assert np.all(cr.lemma_a7_jacobian(np.eye(2), np.eye(2), 0.5, math.inf) == 0)
    with pytest.raises(ValueError, match="square"):
        cr.lemma_a7_jacobian(np.eye(2), np.eye(3), 0.5, 1.0)


@FEW
@given(st.just(2), lambdas, gammas, st.integers(0, 2**31 - 1))
def test_jacobian_three_routes(d, lam, g, seed):
    """Autodiff of the explicit map = implicit-function formula (Lemma A.7-I) = central
    differences (error O(h²) with h = 1e-5 on a quadratic map: rounding dominates, ~1e-10)."""
    rng = np.random.default_rng(seed)
    tm, tc = _random_gaussian(rng, d)
    m, c = _random_gaussian(rng, d)
    th = np.asarray(cr.theta_from_gaussian(m, c))
    jac = cr.population_map_jacobian(th, tm, tc, lam, g)
    np.testing.assert_allclose(cr.implicit_map_jacobian(th, tm, tc, lam, g), jac, atol=1e-9,
                               rtol=1e-9)

    def f(x):
        mm, cc = cr.theta_to_gaussian(x, d)
        return np.asarray(cr.theta_from_gaussian(*cr.corrected_population_map(mm, cc, tm, tc,
                                                                              lam, g)))

    h = 1e-5
    fd = np.stack([(f(th + h * e) - f(th - h * e)) / (2 * h) for e in np.eye(th.size)], axis=1)
    np.testing.assert_allclose(fd, jac, atol=1e-8 * max(1.0, np.abs(th).max() ** 2))
    star = cr.population_map_jacobian(cr.theta_from_gaussian(tm, tc), tm, tc, lam, g)
    np.testing.assert_allclose(star, cr.population_contraction(lam, g) * np.eye(th.size),
                               atol=1e-12)


# ------------------------------------------------------------------ bounds


def test_rho_and_contraction_values():
    assert cr.rho(0.25, 1.0, 0.0, 0.0) == pytest.approx(1 / 3, rel=1e-15)
    beta = 2.0 + 0.5 * 1.2
    assert cr.rho(0.3, 2.0, 0.5, 1.2) == pytest.approx(0.3 * beta / (2.0 - 0.3 * beta), rel=1e-15)
    assert cr.contraction_bound(0.25, 2.0, 1.0, 0.0, 0.0) == pytest.approx(1 / 9, rel=1e-15)
    assert cr.contraction_bound(0.25, math.inf, 1.0, 0.0, 0.0) == 0.0


def test_bounds_raise_outside_their_assumptions():
    with pytest.raises(ValueError, match="Neumann"):
        cr.rho(0.6, 1.0, 1.0, 1.0)  # λ(1 + εL/α) = 1.2 ≥ 1
    with pytest.raises(ValueError, match="stability condition"):
        cr.theorem_a8_bound(3, 1.0, 0.45, 0.0, 1.0, 0.2, 1.0)  # 0.54 ≥ 1/2
    with pytest.raises(ValueError, match="stability condition"):
        cr.theorem_4_3_bound(3, 50, 0.1, 1.0, 0.5, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="εL < α"):
        cr.prop_a5_margin(0.5, 1.0, 1.0, 2.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="b > delta"):
        cr.tau_n(50, 0.5, 1.0, 0.2, 0.0)
    with pytest.raises(ValueError, match="delta"):
        cr.tau_n(50, 1.5, 1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        cr.rho(0.1, 0.0, 0.1, 0.1)
    with pytest.raises(ValueError, match="eps"):
        cr.lambda_max(1.0, 1.0, -0.1, 0.1)
    with pytest.raises(ValueError, match="lipschitz"):
        cr.stability_condition(0.1, 1.0, 1.0, 0.1, math.inf)
    with pytest.raises(ValueError, match="t must be"):
        cr.theorem_4_3_bound(0, 50, 0.1, 1.0, 0.2, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="terms"):
        cr.theorem_4_3_bound(1, 50, 0.1, 1.0, 0.2, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0, terms="x")
    with pytest.raises(ValueError, match="synthetic_ratio"):
        cr.theorem_4_3_bound(1, 50, 0.1, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0)


@FAST
@given(st.floats(0.01, 10), st.floats(0, 5), st.floats(0, 5), st.floats(0.001, 1.0),
       st.floats(0, 100))
def test_stability_condition_equivalence(alpha, eps, lip, frac, g):
    """eq. 40–41: ρ/(1+γ) < 1 ⇔ λ(1+εL/α) < (1+γ)/(2+γ) whenever λ(1+εL/α) < 1."""
    lam = frac / (1 + eps * lip / alpha) * (1 - 1e-12)
    ratio = lam * (1 + eps * lip / alpha) * (2 + g) / (1 + g)
    assume(abs(ratio - 1) > 1e-9)
    assert (cr.contraction_bound(lam, g, alpha, eps, lip) < 1) == cr.stability_condition(
        lam, g, alpha, eps, lip)


def test_lambda_max_values():
    assert cr.lambda_max(0.0, 1.0, 0.0, 0.0) == 0.5
    assert cr.lambda_max(math.inf, 2.0, 1.0, 1.0) == pytest.approx(2 / 3, rel=1e-15)
    assert cr.lambda_max(math.inf, 2.0, 1.0, 1.0) == pytest.approx(
        2 * cr.lambda_max(0.0, 2.0, 1.0, 1.0), rel=1e-15)
    assert cr.lambda_max(1.0, 1.0, 0.0, 5.0) == pytest.approx(2 / 3, rel=1e-15)


def test_theorem_a8_bound_and_tau_n():
    assert cr.theorem_a8_bound(2, 0.5, 0.25, 0.0, 1.0, 0.0, 0.0) == pytest.approx(0.5 / 9,
                                                                                rel=1e-15)
    np.testing.assert_allclose(cr.theorem_a8_bound(np.arange(3), 1.0, 0.25, 1.0, 1.0, 0, 0),
                               (1 / 6) ** np.arange(3), rtol=1e-15)
    assert cr.tau_n(100, 0.1, 2.0, 3.0, 0.05) == pytest.approx(0.05 + 0.2 * math.sqrt(
        math.log(30)), rel=1e-15)
    np.testing.assert_allclose(cr.tau_n([25, 100], 0.1, 1.0, 1.0, 0.0),
                               np.sqrt(math.log(10)) / np.array([5.0, 10.0]), rtol=1e-15)


def test_theorem_4_3_bound_values():
    q = cr.contraction_bound(0.25, 1.0, 1.0, 0.0, 0.0)  # ρ(0.25) = 1/3, q = 1/6
    assert q == pytest.approx(1 / 6, rel=1e-15)
    tau = cr.tau_n(50, 0.1 / 4, 1.0, 2.0, 0.0)
    expect = tau * sum(q**i for i in range(5)) + q**4 * 0.3
    got = cr.theorem_4_3_bound(4, 50, 0.1, 0.3, 0.25, 1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0)
    assert got == pytest.approx(expect, rel=1e-14)
    proof = cr.theorem_4_3_bound(4, 50, 0.1, 0.3, 0.25, 1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0,
                                 terms="proof")
    assert proof == pytest.approx(expect - tau * q**4, rel=1e-14)
    arr = cr.theorem_4_3_bound(4, 50, 0.1, np.array([0.0, 0.3]), 0.25, 1.0, 1.0, 0.0, 0.0, 1.0,
                               2.0, 0.0)
    assert arr.shape == (2,) and arr[1] == pytest.approx(expect, rel=1e-14)
    # Example 4.6: γ = ∞ leaves τ_n(δ/t)
    assert cr.theorem_4_3_bound(4, 50, 0.1, 0.3, 0.25, math.inf, 1.0, 0.0, 0.0, 1.0, 2.0,
                                0.0) == pytest.approx(tau, rel=1e-15)


@FAST
@given(st.integers(1, 200), st.floats(0.01, 0.45), st.floats(0.0, 50.0), st.floats(0.0, 1.0))
def test_theorem_4_3_bound_decreases_in_gamma(t, lam, g, d0):
    """Corollary 4.5: for fixed τ_n constants, RHS(7) decreases strictly in γ."""
    args = (t, 50, 0.1, d0, lam)
    consts = (1.0, 0.1, 1.0, 1.0, 2.0, 0.0)
    assume(cr.stability_condition(lam, g, 1.0, 0.1, 1.0))
    lo = cr.theorem_4_3_bound(*args, g, *consts)
    hi = cr.theorem_4_3_bound(*args, g + 1.0, *consts)
    assert hi < lo


def test_prop_b2_constant_and_prop_a5_margin():
    r = cr.rho(0.3, 1.0, 0.0, 0.0)
    assert cr.prop_b2_constant(0.5, 0.3, 1.0, 1.0, 0.0, 0.0) == pytest.approx(1 + 1.5 * r,
                                                                              rel=1e-15)
    assert cr.prop_b2_constant(0.5, 0.3, math.inf, 1.0, 0.0, 0.0) == pytest.approx(1 + r,
                                                                                   rel=1e-15)
    assert cr.prop_a5_margin(0.5, 1.0, 2.0, 0.1, 1.0, 0.4) == pytest.approx(
        -3.0 + 0.5 * (0.2 + 0.1), rel=1e-15)
    assert cr.prop_a5_margin(0.5, math.inf, 2.0, 0.1, 1.0, 0.4) == pytest.approx(
        -3.0 + 0.05, rel=1e-15)


# ------------------------------------------------------------------ model constants, ε


def test_model_constants():
    with pytest.raises(ValueError, match="no finite Lipschitz constant"):
        cr.model_constants("gaussian", GaussianLaw([0.0], [[1.0]]))
    with pytest.raises(ValueError, match="model_cov"):
        cr.model_constants("gaussian_mean", GaussianLaw([0.0], [[1.0]]))
    with pytest.raises(ValueError, match="model must be"):
        cr.model_constants("gmm", GaussianLaw([0.0], [[1.0]]))
    mc = cr.model_constants("gaussian_mean", GaussianLaw([0.2], [[4.0]]), model_cov=[[1.0]])
    assert mc.alpha == 1.0 and mc.lipschitz == 0.0 and mc.eps_exact
    # W₁(N(µ, 1), N(µ, 4)) = |2 − 1|·√(2/π) (scale family)
    assert mc.eps == pytest.approx(math.sqrt(2 / math.pi), rel=1e-10)
    c2 = cr.model_constants("gaussian_mean", GaussianLaw([0.0, 1.0], np.diag([1.0, 3.0])),
                            model_cov=np.diag([2.0, 0.5]))
    assert c2.alpha == pytest.approx(0.5, rel=1e-15) and not c2.eps_exact
    ll = cr.model_constants("logistic_location", GaussianLaw([0.0], [[1.0]]))
    assert ll.lipschitz == pytest.approx(1 / (3 * math.sqrt(3)), rel=1e-15)


def test_misspecification_w1_multivariate():
    m, c = np.array([0.0, 1.0]), np.array([[1.0, 0.2], [0.2, 0.5]])
    same = cr.misspecification_w1(m + 0.3, c, GaussianLaw(m, c))
    assert same.exact and same.value == pytest.approx(0.3 * math.sqrt(2), rel=1e-14)
    other = cr.misspecification_w1(m, np.eye(2), GaussianLaw(m, c))
    assert not other.exact and other.value > 0
    mix = GaussianMixtureLaw([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], [np.eye(2), np.eye(2)])
    mm, mcov = mix.moments
    bound = cr.misspecification_w1(mm, mcov, mix)
    assert not bound.exact and bound.value >= 0.0
    # Student-t with ν → ∞ tends to the Gaussian: the coupling bound tends to W₂ closed form
    t_big = cr.misspecification_w1(m, np.eye(2), StudentTLaw(1e7, m, c))
    assert t_big.value == pytest.approx(other.value, rel=1e-5)
    t5 = cr.misspecification_w1(m + 0.5, np.eye(2), StudentTLaw(5.0, m, c))
    assert t5.value >= 0.5 * math.sqrt(2) - 1e-12  # W₁ ≥ ‖Δmean‖ (Jensen), bound ≥ W₁
    with pytest.raises(TypeError, match="data_law"):
        cr.misspecification_w1(m, c, (m, c))
    with pytest.raises(ValueError, match="shapes"):
        cr.misspecification_w1([0.0], [[1.0]], GaussianLaw(m, c))


# ------------------------------------------------------------------ logistic location model


def test_expectation_rule_matches_adaptive_quadrature():
    law = StudentTLaw(3.5, [0.3], [[2.0]])
    pdf = cr.law_pdf(law)
    fn = lambda x: np.tanh((x - 0.7) / 2)  # noqa: E731
    ref = integrate.quad(lambda x: fn(x) * pdf(x), -np.inf, np.inf, epsabs=1e-14, limit=500)[0]
    assert cr._expect(pdf, fn, 0.3, math.sqrt(2.0)) == pytest.approx(ref, abs=1e-12)


def test_logistic_location_symmetric_data():
    law = GaussianLaw([0.0], [[4.0]])
    ll = cr.logistic_location(law)
    assert ll.theta_star == pytest.approx(0.0, abs=1e-12)  # symmetry
    ef = integrate.quad(lambda x: sst.logistic.pdf(x) * sst.norm(0, 2).pdf(x), -np.inf,
                        np.inf, epsabs=1e-14)[0]
    assert ll.a == pytest.approx(-2 * ef, rel=1e-11)
    assert ll.c == pytest.approx(-2 * integrate.quad(lambda u: sst.logistic.pdf(u) ** 2,
                                                     -np.inf, np.inf)[0], rel=1e-12)
    res = integrate.quad(lambda x: abs(sst.logistic.cdf(x) - sst.norm(0, 2).cdf(x)), -60, 60,
                         points=[-3, 0, 3], limit=400, epsabs=1e-13)[0]
    assert ll.eps == pytest.approx(res, abs=1e-9)
    # L = 2 sup|f'|, found by a bounded maximization of |f'|
    fprime = lambda u: -special.expit(u) * (1 - special.expit(u)) * np.tanh(u / 2)  # noqa: E731
    from scipy import optimize

    best = -optimize.minimize_scalar(lambda u: -abs(fprime(u)), bounds=(0, 5),
                                     method="bounded", options={"xatol": 1e-12}).fun
    assert ll.lipschitz == pytest.approx(2 * best, rel=1e-9)


def test_logistic_cross_hessian_b_equals_the_former_constant():
    """B = ∇²_{θ,θ'} E_{p_θ} log p_θ' (Lemma A.7) is computed by quadrature of the
    differentiated cross-expectation; it must equal the value formerly hard-coded as −C = 1/3,
    which follows in closed form (sympy) from s = σ(u): f du = ds, tanh(u/2) = 2s − 1."""
    import sympy as sp

    u, s = sp.symbols("u s", real=True)
    sig = 1 / (1 + sp.exp(-u))
    assert sp.simplify(sp.diff(sig, u) - sig * (1 - sig)) == 0  # dσ = f du
    assert sp.simplify((sp.tanh(u / 2) - (2 * sig - 1)).rewrite(sp.exp)) == 0
    b_closed = sp.integrate((2 * s - 1) ** 2, (s, 0, 1))
    assert b_closed == sp.Rational(1, 3)
    b = cr.logistic_cross_hessian()
    assert b == pytest.approx(float(b_closed), abs=1e-13)
    assert b == pytest.approx(-cr.LOGISTIC_C, abs=1e-13)  # the former hard-coded B = −C
    # differentiating the density instead: B = −∫ f'(u) tanh(u/2) du (adaptive quadrature)
    fprime = lambda v: -sst.logistic.pdf(v) * np.tanh(v / 2)  # noqa: E731
    ref = -integrate.quad(lambda v: fprime(v) * np.tanh(v / 2), -np.inf, np.inf,
                          epsabs=1e-14)[0]
    assert b == pytest.approx(ref, abs=1e-12)
    # and by central differences of the cross score S(θ, θ') = E_{p_θ} tanh((x − θ')/2) in θ,
    # at several θ' (a location family: B does not depend on where it is taken)
    h = 1e-3
    for tp in (-1.3, 0.0, 0.8):
        fd = (cr._score_logistic(tp + h, tp) - cr._score_logistic(tp - h, tp)) / (2 * h)
        assert fd == pytest.approx(b, abs=1e-7)  # O(h²) truncation ≈ 1e-8 here
    for law in (GaussianLaw([0.0], [[4.0]]), GaussianMixtureLaw([0.3, 0.7], [-2.0, 1.0],
                                                                [0.5, 1.5])):
        assert cr.logistic_location(law).b == b


def test_logistic_map_fixed_point_jacobian_and_objective():
    law = GaussianLaw([0.0], [[4.0]])
    ll = cr.logistic_location(law)
    lam, g = 0.7, 2.0
    assert cr.logistic_location_map(ll.theta_star, law, lam, g) == pytest.approx(
        ll.theta_star, abs=1e-11)
    h = 1e-3
    fd = (cr.logistic_location_map(h, law, lam, g, theta_star=0.0)
          - cr.logistic_location_map(-h, law, lam, g, theta_star=0.0)) / (2 * h)
    # central difference error O(h²)·|g'''| ≤ 1e-6 here
    assert fd == pytest.approx(cr.lemma_a7_jacobian(ll.a, ll.c, lam, g)[0, 0], abs=1e-6)
    val, grad = cr.logistic_location_objective(0.4, 0.1, law, lam, g, theta_star=0.0,
                                               gradient=True)
    e = 1e-5
    obj = cr.logistic_location_objective
    fd_grad = (obj(0.4, 0.1 + e, law, lam, g, theta_star=0.0)
               - obj(0.4, 0.1 - e, law, lam, g, theta_star=0.0)) / (2 * e)
    assert grad == pytest.approx(fd_grad, abs=1e-8)
    # bitwise: the same NumPy code computes H before gradient=True adds the score
    assert val == cr.logistic_location_objective(0.4, 0.1, law, lam, g, theta_star=0.0)
    with pytest.raises(ValueError, match="theta"):
        cr.logistic_location_map(math.nan, law, lam, g)


# ------------------------------------------------------------------ mean-only loop (§4.3)


def test_mean_loop_coefficients():
    det = cr.mean_loop_coefficients(50, 25, 1.0, split="deterministic")
    assert det.model_points == 12  # round(12.5) = 12 (half to even, as the engine)
    assert det.kappa == pytest.approx(12 / 75) and det.kappa2 == pytest.approx((12 / 75) ** 2)
    rnd = cr.mean_loop_coefficients(50, 25, 1.0)
    assert rnd.kappa == pytest.approx(12.5 / 75)
    assert rnd.kappa2 == pytest.approx((25 * 0.25 + 12.5**2) / 75**2)
    assert cr.mean_loop_coefficients(50, 25, math.inf).kappa == 0.0
    with pytest.raises(ValueError, match="split"):
        cr.mean_loop_coefficients(50, 25, 1.0, split="fixed")


@pytest.mark.parametrize("split", ["random", "deterministic"])
def test_gamma_zero_is_the_mix_closed_form(split):
    """γ = 0 reduces to theory.mix.mix_mean_error2_known_cov (an independent derivation)."""
    ts = np.arange(0, 30)
    np.testing.assert_allclose(
        cr.corrected_mix_mean_error2_known_cov(ts, 40, 2.5, n_synthetic=16,
                                               correction_strength=0.0, split=split),
        mix_mean_error2_known_cov(ts, 40, 2.5, n_synthetic=16), rtol=1e-12)


def test_stationary_limits_and_notes_formula():
    for split in ("random", "deterministic"):
        for g in (0.0, 0.5, 3.0, math.inf):
            lim = cr.corrected_mix_mean_error2_stationary(50, 1.0, n_synthetic=25,
                                                          correction_strength=g, split=split)
            far = cr.corrected_mix_mean_error2_known_cov(10_000, 50, 1.0, n_synthetic=25,
                                                         correction_strength=g, split=split)
            assert far == pytest.approx(lim, rel=1e-12)
    # deterministic: n σ²/(n+m₂)² + m σ²/((n+m)²(1 − k_n²)), m₁ = round(m/(1+γ))
    n, m, g = 50, 25, 4.0
    m1 = round(m / (1 + g))
    kn = m1 / (n + m)
    notes = n / (n + m - m1) ** 2 + m / ((n + m) ** 2 * (1 - kn**2))
    assert cr.corrected_mix_mean_error2_stationary(
        n, 1.0, n_synthetic=m, correction_strength=g, split="deterministic") == pytest.approx(
        notes, rel=1e-13)
    with pytest.raises(ValueError, match="trace0"):
        cr.corrected_mix_mean_error2_stationary(50, 0.0, n_synthetic=25, correction_strength=1)


def _mean_loop_numpy(key, *, n, m, gamma, cov0, t_max, reps):
    """An independent simulation of the mean-only mix loop with random corrector membership
    (numpy, vectorized over replicates; µ* = 0): θ₀ = x̄, θ_{t+1} = (Σx + Σ_j y_j)/(n+m),
    y_j = θ_t + Σ₀^{1/2}z_j (model) or Σ₀^{1/2}z_j (target, probability γ/(1+γ))."""
    d = cov0.shape[0]
    root = np.linalg.cholesky(cov0)
    k_x, k_z, k_u = jax.random.split(key, 3)
    real = (np.asarray(jax.random.normal(k_x, (reps * n, d))) @ root.T).reshape(reps, n, d)
    z = (np.asarray(jax.random.normal(k_z, (t_max * reps * m, d))) @ root.T).reshape(
        t_max, reps, m, d)
    u = special.ndtr(np.asarray(jax.random.normal(k_u, (t_max * reps * m,))))  # Unif(0, 1)
    model = u.reshape(t_max, reps, m) >= gamma / (1 + gamma)
    sum_real = real.sum(axis=1)
    theta = real.mean(axis=1)
    err = [np.sum(theta**2, axis=1)]
    for t in range(t_max):
        syn = z[t] + model[t][..., None] * theta[:, None, :]
        theta = (sum_real + syn.sum(axis=1)) / (n + m)
        err.append(np.sum(theta**2, axis=1))
    return np.stack(err, axis=1)


def test_random_membership_formula_monte_carlo():
    """The derived random-membership E‖θ_t − µ*‖² against an independent numpy simulation
    (d = 2, non-isotropic Σ₀, n = 30, m = 15, γ = 0.7, t ∈ {1, 3, 6}; not a claim config)."""
    cov0 = np.array([[2.0, 0.4], [0.4, 0.5]])
    err = _mean_loop_numpy(jax.random.key(TEST_SEED), n=30, m=15, gamma=0.7, cov0=cov0,
                           t_max=6, reps=40_000)
    for t in (1, 3, 6):
        pred = cr.corrected_mix_mean_error2_known_cov(t, 30, np.trace(cov0), n_synthetic=15,
                                                      correction_strength=0.7)
        assert_mean_close(err[:, t], pred, f"t={t}")


@pytest.mark.slow
@pytest.mark.parametrize("split", ["random", "deterministic"])
def test_mean_formula_against_the_engine(split):
    """The same derived formula against the engine (both corrector splits)."""
    from simulations import LoopSpec, run

    cov0 = np.array([[2.0, 0.4], [0.4, 0.5]])
    spec = LoopSpec(dim=2, n_real=30, synthetic_ratio=0.5, data="mix", model="gaussian_mean",
                    correction_strength=0.7, correction_split=split, generations=6,
                    replicates=20_000, truth=(np.array([1.0, -1.0]), cov0))
    err = run(spec, seed=TEST_SEED).metric("mean_error2")
    for t in (1, 6):
        pred = cr.corrected_mix_mean_error2_known_cov(t, 30, np.trace(cov0), n_synthetic=15,
                                                      correction_strength=0.7, split=split)
        assert_mean_close(err[:, t], pred, f"{split}, t={t}")


# ------------------------------------------------------------------ fit_tau_n


def _model_errors(n, a, b, e, r):
    """Stratified draws whose (1−δ)-quantiles are exactly e + (a/√n)√log(b/δ) up to the
    1/r discretization: X = e + (a/√n)√log(b/U), U = (i − ½)/r."""
    u = (np.arange(r) + 0.5) / r
    return e + a / math.sqrt(n) * np.sqrt(np.log(b / u))


def test_fit_tau_n_recovers_exact_constants():
    ns = (25, 50, 100, 400)
    errors = [_model_errors(n, 1.3, 2.5, 0.02, 200_000) for n in ns]
    deltas = np.geomspace(0.001, 0.5, 8)
    fit = cr.fit_tau_n(errors, ns, deltas, conservative=False)
    assert fit.a == pytest.approx(1.3, rel=1e-3)
    assert fit.b == pytest.approx(2.5, rel=1e-2)
    assert fit.eps_opt == pytest.approx(0.02, abs=1e-3)
    assert fit.r2 > 0.9999 and fit.inflation == 1.0


def test_fit_tau_n_conservative_dominates_upper_quantiles():
    rng = np.random.default_rng(TEST_SEED)
    ns = (20, 80)
    errors = [np.abs(rng.normal(size=5000)) / math.sqrt(n) for n in ns]
    deltas = np.array([0.01, 0.05, 0.2])
    fit = cr.fit_tau_n(errors, ns, deltas)
    tau = np.array([[cr.tau_n(n, d, fit.a, fit.b, fit.eps_opt) for d in deltas] for n in ns])
    assert np.all(tau >= fit.upper_quantiles - 1e-15)
    assert np.all(fit.upper_quantiles >= fit.quantiles)
    assert fit.inflation >= 1.0


def test_fit_tau_n_validation():
    good = [np.abs(np.linspace(0.1, 1, 100))] * 2
    with pytest.raises(ValueError, match="one sample per n"):
        cr.fit_tau_n(good[:1], (10, 20), [0.1, 0.2])
    with pytest.raises(ValueError, match="deltas"):
        cr.fit_tau_n(good, (10, 20), [0.0, 0.2])
    with pytest.raises(ValueError, match="too small"):
        cr.fit_tau_n(good, (10, 20), [0.001, 0.2])
    with pytest.raises(ValueError, match="at least 3"):
        cr.fit_tau_n(good[:1], (10,), [0.1, 0.2])
    with pytest.raises(ValueError, match="finite non-negative"):
        cr.fit_tau_n([-good[0], good[1]], (10, 20), [0.1, 0.2])


def test_z_test_constant_is_the_documented_one():
    assert Z_TEST == pytest.approx(sst.norm.isf(0.5e-6))


def test_fit_tau_n_constant_errors_give_eps_opt_only():
    """Errors that do not shrink with n are all ε_OPT: the fit has a = 0 and stays there."""
    errors = [np.full(200, 0.3), np.full(200, 0.3)]
    fit = cr.fit_tau_n(errors, (10, 40), [0.05, 0.2, 0.5])
    assert fit.a <= 1e-12 and fit.eps_opt == pytest.approx(0.3, rel=1e-12)  # a = 0 up to rounding
    assert cr.tau_n(1000, 0.01, fit.a, fit.b, fit.eps_opt) >= 0.3 - 1e-12


def test_population_map_float32():
    """The map keeps float32 inputs in float32 and agrees with float64 to float32 rounding."""
    m, c = np.array([0.5, -1.0]), np.array([[1.5, 0.2], [0.2, 0.7]])
    tm, tc = np.zeros(2), np.eye(2)
    m32, c32 = cr.corrected_population_map(m.astype(np.float32), c.astype(np.float32),
                                           tm.astype(np.float32), tc.astype(np.float32), 0.7, 1.0)
    m64, c64 = cr.corrected_population_map(m, c, tm, tc, 0.7, 1.0)
    assert m32.dtype == np.float32 and c32.dtype == np.float32
    np.testing.assert_allclose(np.asarray(m32), np.asarray(m64), rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(c32), np.asarray(c64), rtol=0, atol=1e-6)
