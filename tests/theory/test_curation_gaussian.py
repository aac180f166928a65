"""Gaussian and Gaussian-mixture closed forms of K-choice curation
(theory.curation_gaussian; Ferbach et al. 2024, reference notes §5).

Exact comparisons: tolerances from float64 rounding (quadrature routes: scipy ``quad`` at
epsabs 1e-13). Monte Carlo: z-tests at a false-failure probability of 1e-6 per comparison
(``Z_TEST``), fixed keys.
"""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

from tests.helpers import TEST_SEED, Z_TEST
from theory import curation as cu

MU = np.array([0.3, -0.2])
COV = np.array([[1.0, 0.4], [0.4, 0.8]])
A = np.array([0.7, -0.4])


def _quad(f, lo=-60.0, hi=60.0):
    """Quadrature over [−60, 60]: every density here is below e^{−600} outside."""
    return integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=500)[0]


# ------------------------------------------------------------------------------ validation


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="positive definite"):
        cu.linear_tilt(MU, -COV, A)
    with pytest.raises(ValueError, match="symmetric"):
        cu.linear_tilt(MU, np.array([[1.0, 0.5], [0.0, 1.0]]), A)
    with pytest.raises(ValueError, match="direction"):
        cu.linear_tilt(MU, COV, [0.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        cu.linear_tilt(MU, COV, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="semi-definite"):
        cu.quadratic_tilt(MU, COV, MU, -np.eye(2))
    with pytest.raises(ValueError, match="t must"):
        cu.linear_tilt(MU, COV, A, t=-1)
    with pytest.raises(ValueError, match="s must"):
        cu.selection_moments(-1.0, 2)
    with pytest.raises(ValueError, match="curation_k"):
        cu.selection_moments(1.0, 0)
    with pytest.raises(ValueError, match="scale"):
        cu.quadratic_log_mgf(MU, COV, MU, np.eye(2), scale=-1.0)


# ------------------------------------------------------------------------------ K = ∞ tilts


def test_linear_tilt_is_the_exponential_tilt_in_1d():
    """N(μ + tσ²a, σ²) is proportional to N(μ, σ²)e^{t a x}: the log-density difference is
    affine in x with slope t a."""
    x = np.linspace(-3, 3, 7)
    mu, var, a, t = 0.4, 1.7, 0.6, 3.0
    m_t, c_t = cu.linear_tilt([mu], [[var]], [a], t)
    assert c_t[0, 0] == var
    diff = (-(x - m_t[0]) ** 2 + (x - mu) ** 2) / (2 * var)
    np.testing.assert_allclose(np.diff(diff) / np.diff(x), t * a, rtol=1e-12)


def test_quadratic_tilt_closed_form_and_iteration():
    """Σ_t⁻¹ = Σ⁻¹ + tA, μ_t = Σ_t(Σ⁻¹μ + tAc) (precision form with inverses), and t one-step
    tilts compose to the t-step tilt; a singular A leaves the orthogonal direction alone."""
    c = np.array([1.0, 2.0])
    mat = np.array([[2.0, 0.5], [0.5, 1.0]])
    prec_t = np.linalg.inv(COV) + 3 * mat
    want_cov = np.linalg.inv(prec_t)
    want_mean = want_cov @ (np.linalg.solve(COV, MU) + 3 * mat @ c)
    m3, c3 = cu.quadratic_tilt(MU, COV, c, mat, 3)
    np.testing.assert_allclose(c3, want_cov, rtol=1e-12)
    np.testing.assert_allclose(m3, want_mean, rtol=1e-12)
    m, cv = MU, COV
    for _ in range(3):
        m, cv = cu.quadratic_tilt(m, cv, c, mat)
    np.testing.assert_allclose(m, m3, rtol=1e-12)
    np.testing.assert_allclose(cv, c3, rtol=1e-12)
    singular = np.diag([1.0, 0.0])
    ms, cs = cu.quadratic_tilt([0.0, 1.0], np.eye(2), [2.0, 5.0], singular, 10)
    assert ms[1] == 1.0 and cs[1, 1] == 1.0 and ms[0] == pytest.approx(20 / 11)


def test_reward_moments_against_quadrature_in_1d():
    mu, var, c, a_q, a_l, b = 0.5, 1.3, -0.2, 0.8, 0.6, 0.25
    dens = lambda x: np.exp(-(x - mu) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)  # noqa: E731
    quad_r = lambda x: -0.5 * a_q * (x - c) ** 2  # noqa: E731
    for scale in (0.0, 1.0, 2.0):
        want = math.log(_quad(lambda x, s=scale: dens(x) * math.exp(s * quad_r(x))))
        got = cu.quadratic_log_mgf([mu], [[var]], [c], [[a_q]], scale)
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12)
        want_l = math.log(_quad(lambda x, s=scale: dens(x) * math.exp(s * (a_l * x + b))))
        assert cu.linear_log_mgf([mu], [[var]], [a_l], b, scale) == pytest.approx(want_l,
                                                                                  rel=1e-10,
                                                                                  abs=1e-12)
    want_r = _quad(lambda x: dens(x) * quad_r(x))
    assert cu.quadratic_expected_reward([mu], [[var]], [c], [[a_q]]) == pytest.approx(want_r,
                                                                                      rel=1e-10)


def test_quadratic_log_mgf_in_2d_is_the_tilt_normaliser():
    """E[e^{r}] = ∫N(x; μ, Σ)e^{r(x)}dx equals the ratio of the Gaussian densities
    N(x; μ, Σ)e^{r(x)}/N(x; μ', Σ') at any x (it is constant in x)."""
    c = np.array([1.0, -1.0])
    mat = np.array([[1.5, 0.3], [0.3, 0.4]])
    m1, c1 = cu.quadratic_tilt(MU, COV, c, mat)
    log_z = cu.quadratic_log_mgf(MU, COV, c, mat)

    def logpdf(x, m, s):
        d = x - m
        return -0.5 * (d @ np.linalg.solve(s, d) + np.linalg.slogdet(2 * np.pi * s)[1])

    for x in (np.zeros(2), np.array([1.0, 2.0]), np.array([-3.0, 0.5])):
        r = -0.5 * (x - c) @ mat @ (x - c)
        assert logpdf(x, MU, COV) + r - logpdf(x, m1, c1) == pytest.approx(log_z, rel=1e-12)


# ------------------------------------------------------------------------------ m_K, v_K


def _m2_closed(s):
    """K = 2: m_2(s) = E[D(σ(sD) − 1/2)], D = U − U' ~ N(0, 2) (E[U | D] = D/2)."""
    return _quad(lambda d: d * (special.expit(s * d) - 0.5) * math.exp(-d * d / 4)
                 / math.sqrt(4 * math.pi))


@pytest.mark.parametrize("s", [0.05, 0.5, 1.0, 2.0, 6.0])
def test_selection_mean_k2_against_the_closed_route(s):
    assert cu.selection_moments(s, 2)[0] == pytest.approx(_m2_closed(s), rel=1e-10)


def test_selection_moments_against_the_reference_table():
    """notes §5.1 table (4 decimals, so |difference| ≤ 5e-5 from its rounding)."""
    table = {(2, 0.5): (0.2246, 0.9495), (2, 1): (0.3632, 0.8681), (2, 2): (0.4800, 0.7696),
             (5, 0.5): (0.3807, 0.9592), (5, 1): (0.6674, 0.8519), (5, 2): (0.9523, 0.6520),
             (10, 0.5): (0.4383, 0.9746), (10, 1): (0.8053, 0.8835), (10, 2): (1.2198, 0.6381)}
    for (k, s), (m, v) in table.items():
        got = cu.selection_moments(float(s), k)
        assert abs(got[0] - m) <= 5e-5 + 1e-12 and abs(got[1] - v) <= 5e-5 + 1e-12, (k, s, got)


def test_selection_moments_small_s_limits_and_special_cases():
    """m_K(s)/s → (K−1)/K and (1 − v_K(s))/s² → (K−1)/K² as s → 0 (m odd, v even in s, so the
    remainders are O(s²): at s = 10⁻² they are ≤ 10⁻³ relative)."""
    for k in (2, 3, 7):
        m, v = cu.selection_moments(1e-2, k)
        assert m / 1e-2 == pytest.approx((k - 1) / k, rel=1e-3)
        assert (1 - v) / 1e-4 == pytest.approx((k - 1) / k**2, rel=1e-3)
    assert cu.selection_moments(1.5, 1) == (0.0, 1.0)
    assert cu.selection_moments(0.0, 4) == (0.0, 1.0)
    assert cu.selection_moments(1.5, math.inf) == (1.5, 1.0)


@partial(jax.jit, static_argnums=(2, 3))
def _selected_normal(key, s, k, size):
    u = jax.random.normal(key, (size, k))
    g = jax.random.gumbel(jax.random.fold_in(key, 1), (size, k))
    return jnp.take_along_axis(u, jnp.argmax(s * u + g, axis=1)[:, None], axis=1)[:, 0]


def test_selection_moments_against_monte_carlo():
    """Mean and second moment of the kept draw (z-test, false-failure probability 1e-6 each)."""
    s, k = 1.3, 4
    u = np.asarray(_selected_normal(jax.random.key(TEST_SEED), s, k, 400_000))
    m, v = cu.selection_moments(s, k)
    for values, want in ((u, m), (u**2, v + m * m)):
        se = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - want) <= Z_TEST * se


# ------------------------------------------------------------------------------ Gaussian family


def test_gaussian_family_step_special_cases():
    m1, c1 = cu.gaussian_family_curation_step(MU, COV, A, 1)
    np.testing.assert_allclose(m1, MU, rtol=1e-15)
    np.testing.assert_allclose(c1, COV, rtol=1e-15)
    mi, ci = cu.gaussian_family_curation_step(MU, COV, A, math.inf)
    ml, cl = cu.linear_tilt(MU, COV, A)
    np.testing.assert_allclose(mi, ml, rtol=1e-14)
    np.testing.assert_allclose(ci, cl, rtol=1e-14)


def test_gaussian_family_step_only_changes_the_reward_direction():
    """Components with zero Σ-covariance to aᵀx keep their law: for b with bᵀΣa = 0, bᵀμ and
    bᵀΣb are unchanged, and aᵀΣ'a = s² v_K(s)."""
    m1, c1 = cu.gaussian_family_curation_step(MU, COV, A, 3)
    b = np.array([1.0, 0.0]) - (COV @ A)[0] / (A @ COV @ A) * A  # bᵀΣa = 0
    assert abs(b @ COV @ A) < 1e-14
    assert b @ m1 == pytest.approx(b @ MU, abs=1e-14)
    assert b @ c1 @ b == pytest.approx(b @ COV @ b, rel=1e-13)
    s = math.sqrt(A @ COV @ A)
    assert A @ c1 @ A == pytest.approx(s * s * cu.selection_moments(s, 3)[1], rel=1e-13)


@partial(jax.jit, static_argnums=(4, 5))
def _curated_gaussian(key, mean, chol, direction, k, size):
    z = jax.random.normal(key, (size, k, mean.size))
    x = mean + z @ chol.T
    g = jax.random.gumbel(jax.random.fold_in(key, 1), (size, k))
    pick = jnp.argmax(x @ direction + g, axis=1)
    return jnp.take_along_axis(x, pick[:, None, None], axis=1)[:, 0]


def test_gaussian_family_step_is_the_moment_match_of_sampled_curation():
    """Mean and covariance of curated N(μ, Σ) draws (K = 3, 2-D) against the projected map
    (z-tests on the 2 mean and 3 covariance entries, false-failure probability 1e-6 each)."""
    x = np.asarray(_curated_gaussian(jax.random.key(TEST_SEED), jnp.asarray(MU),
                                     jnp.asarray(np.linalg.cholesky(COV)), jnp.asarray(A), 3,
                                     200_000))
    m1, c1 = cu.gaussian_family_curation_step(MU, COV, A, 3)
    for i in range(2):
        se = x[:, i].std(ddof=1) / math.sqrt(len(x))
        assert abs(x[:, i].mean() - m1[i]) <= Z_TEST * se
    centred = x - m1  # centred at the predicted mean: E[(x−μ')(x−μ')ᵀ] = Σ'
    for i, j in ((0, 0), (0, 1), (1, 1)):
        prod = centred[:, i] * centred[:, j]
        se = prod.std(ddof=1) / math.sqrt(len(x))
        assert abs(prod.mean() - c1[i, j]) <= Z_TEST * se


def test_gaussian_family_trajectory_asymptotics():
    """Finite K [D]: s_t² ≈ K²/((K−1)t) and aᵀ(μ_t − μ_{t−1}) ≈ K/t (so aᵀμ_t ≈ K log t).
    Locally, 1/s_{t+1}² − 1/s_t² − (K−1)/K² and aᵀΔμ_t/s_t² − (K−1)/K are O(s_t²): divided by
    s_t² they change by less than s_t² between t = 100 and 400 (the next order). Globally the
    neglected terms are O(log t/t): the relative deviations of t·s_t²(K−1)/K² and t·aᵀΔμ_t/K
    from 1 shrink from t = 100 to 200 to 400 and are below 5 % at t = 400 (about 1–2 %).
    K = ∞: constant variance and linear growth."""
    for k in (2, 4):
        means, covs = cu.gaussian_family_curation_trajectory([0.0], [[1.0]], [1.0], k, 400)
        s2 = covs[:, 0, 0]
        step = np.diff(means[:, 0])
        inc = 1 / s2[1:] - 1 / s2[:-1]
        local_v = (inc - (k - 1) / k**2) / s2[:-1]
        local_m = (step / s2[:-1] - (k - 1) / k) / s2[:-1]
        for local in (local_v, local_m):
            assert abs(local[399] - local[100]) <= s2[100]
        ts = np.array([100, 200, 400])
        dev_s = np.abs(ts * s2[ts] * (k - 1) / k**2 - 1)
        dev_m = np.abs(ts * step[ts - 1] / k - 1)
        for dev in (dev_s, dev_m):
            assert np.all(np.diff(dev) < 0) and dev[-1] < 0.05
        assert np.all(np.diff(s2) < 0)
    means, covs = cu.gaussian_family_curation_trajectory([0.0], [[2.0]], [1.5], math.inf, 10)
    np.testing.assert_allclose(covs[:, 0, 0], 2.0)
    np.testing.assert_allclose(means[:, 0], np.arange(11) * 3.0, rtol=1e-14)


# ------------------------------------------------------------------------------ mixed loops


def test_mixed_gaussian_fixed_point_convergence_and_divergence():
    """4λ(1+λ)aᵀΣ_d a ≤ 1: the K = ∞ Gaussian-family mixed loop converges to the closed-form
    fixed point (which the step leaves fixed); above 1 the fixed point does not exist (ValueError)
    and aᵀΣ_t a grows without bound."""
    mu_d = np.array([0.0, 1.0])
    cov_d = np.array([[1.0, 0.3], [0.3, 0.5]])
    a = np.array([0.3, 0.2])
    s_d = a @ cov_d @ a
    for lam in (0.2, 0.5, 0.8):
        assert 4 * lam * (1 + lam) * s_d <= 1
        m_star, c_star = cu.gaussian_mixed_tilt_fixed_point(mu_d, cov_d, a, lam)
        m1, c1 = cu.gaussian_mixed_tilt_step(m_star, c_star, a, mu_d, cov_d, lam)
        np.testing.assert_allclose(m1, m_star, rtol=1e-12)
        np.testing.assert_allclose(c1, c_star, rtol=1e-12)
        m, c = mu_d, cov_d
        for _ in range(400):
            m, c = cu.gaussian_mixed_tilt_step(m, c, a, mu_d, cov_d, lam)
        np.testing.assert_allclose(c, c_star, rtol=1e-9)
        np.testing.assert_allclose(m, m_star, rtol=1e-9)
    for lam in (1.0, 2.0):
        assert 4 * lam * (1 + lam) * s_d > 1
        with pytest.raises(ValueError, match="no fixed point"):
            cu.gaussian_mixed_tilt_fixed_point(mu_d, cov_d, a, lam)
        m, c = mu_d, cov_d
        s = []
        while len(s) < 60 and (not s or s[-1] <= 1e4 * s_d):
            m, c = cu.gaussian_mixed_tilt_step(m, c, a, mu_d, cov_d, lam)
            s.append(a @ c @ a)
        assert np.all(np.diff(s) > 0) and s[-1] > 1e4 * s_d


def test_mean_only_family_contracts_by_lambda_over_one_plus_lambda():
    sigma2, a, mu_d = 0.7, np.array([0.5, -1.0]), np.array([1.0, 2.0])
    for k, lam in ((2, 0.8), (5, 0.3), (math.inf, 2.0)):
        star = cu.mean_only_fixed_point(sigma2, a, mu_d, k, lam)
        np.testing.assert_allclose(cu.mean_only_curation_step(star, sigma2, a, mu_d, k, lam),
                                   star, rtol=1e-13)
        theta = np.array([-3.0, 4.0])
        new = cu.mean_only_curation_step(theta, sigma2, a, mu_d, k, lam)
        ratio = np.linalg.norm(new - star) / np.linalg.norm(theta - star)
        assert ratio == pytest.approx(lam / (1 + lam), rel=1e-12)
        assert ratio == pytest.approx(cu.thm22_rho(lam, 1 / sigma2, 0.0, 0.0), rel=1e-14)


def test_thm22_rho_assumptions():
    assert cu.thm22_rho(0.5, 2.0, 0.1, 1.0) == pytest.approx(0.5 * 2.1 / (2.0 + 0.5 * 1.9))
    with pytest.raises(ValueError, match="L eps < alpha"):
        cu.thm22_rho(0.5, 1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="alpha/\\(2 L eps\\)"):
        cu.thm22_rho(3.0, 1.0, 0.2, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        cu.thm22_rho(0.5, 0.0, 0.1, 1.0)


# ------------------------------------------------------------------------------ mixtures


def _gmm_pdf(x, w, mu, var):
    return np.sum(w * np.exp(-(x[:, None] - mu) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var),
                  axis=1)


def test_gmm_tilts_are_the_tilted_density_in_1d():
    """Σ_j π_j' N(μ_j', σ_j'²) equals p_0(x)e^{t r(x)}/Z pointwise, Z by quadrature."""
    w = np.array([0.2, 0.5, 0.3])
    mu = np.array([[-2.0], [0.0], [1.5]])
    cov = np.array([[[0.5]], [[1.0]], [[0.3]]])
    xs = np.linspace(-4, 4, 9)
    for kind, t in (("linear", 2.0), ("quadratic", 3.0)):
        if kind == "linear":
            rfun = lambda x: 0.8 * x  # noqa: E731
            w1, m1, c1 = cu.gmm_linear_tilt(w, mu, cov, [0.8], t)
        else:
            rfun = lambda x: -0.5 * 1.2 * (x - 0.5) ** 2  # noqa: E731
            w1, m1, c1 = cu.gmm_quadratic_tilt(w, mu, cov, [0.5], [[1.2]], t)
        def dens0(x):
            return _gmm_pdf(np.atleast_1d(x), w, mu[:, 0], cov[:, 0, 0])

        z = _quad(lambda x, t=t, rfun=rfun, dens0=dens0: float(dens0(x)[0]
                                                              * math.exp(t * rfun(x))))
        want = dens0(xs) * np.exp(t * rfun(xs)) / z
        np.testing.assert_allclose(_gmm_pdf(xs, w1, m1[:, 0], c1[:, 0, 0]), want, rtol=1e-9)


def test_replicator_weights_are_the_discrete_tilt():
    w0, log_z = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.4, 0.1])
    for t in (0, 1, 5):
        want = w0 * np.exp(t * log_z)
        np.testing.assert_allclose(cu.replicator_weights(w0, log_z, t), want / want.sum(),
                                   rtol=1e-14)


def test_nonparametric_linear_mixed_tilt_against_a_grid_density():
    """The component recursion equals the mixed K = ∞ loop run on a fine grid density in 1-D
    (p_data = N(0, 1), r = a x); E_{p_t}[r] = s²E[k] (a = s here); slope → λ/(1+λ)s²."""
    lam, a = 0.5, 0.6
    weights, ek = cu.nonparametric_linear_mixed_tilt(a * a, lam, 12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)
    x = np.linspace(-15, 25, 40_001)
    pd = np.exp(-x * x / 2)
    pd /= pd.sum()
    p = pd.copy()
    w = 1 / (1 + lam)
    for t in range(12):
        tilt = p * np.exp(a * x)
        p = w * pd + (1 - w) * tilt / tilt.sum()
        assert p @ (a * x) == pytest.approx(a * a * ek[t + 1], rel=1e-9)
    _, ek = cu.nonparametric_linear_mixed_tilt(0.1, lam, 400)
    assert ek[400] - ek[399] == pytest.approx(lam / (1 + lam), rel=1e-6)


# ------------------------------------------------------------------------------ flat-top reward


def test_flat_top_log_mgf_against_quadrature_and_its_large_t_limit():
    """log E[e^{βr}] for r = −γ max(0, |x − c| − R) under N(μ, σ²): closed form vs quadrature
    (split at the kinks), and KL(p_*‖p_t) = log E[e^{tr}] − log P₀(B) with
    t·KL → (p₀(c − R) + p₀(c + R))/(γP₀(B)) (Mills ratio; remainder O(1/t))."""
    mu, sd, c, rad, gam = 0.3, 1.2, -0.4, 0.7, 1.5

    def pdf(x):
        return math.exp(-(x - mu) ** 2 / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi))

    for beta in (0.0, 0.5, 3.0, 50.0):
        def f(x, beta=beta):
            return pdf(x) * math.exp(-beta * gam * max(0.0, abs(x - c) - rad))

        q = sum(_quad(f, a, b) for a, b in ((-40, c - rad), (c - rad, c + rad), (c + rad, 40)))
        assert cu.flat_top_log_mgf_1d(mu, sd, c, rad, gam, beta) == pytest.approx(
            math.log(q), rel=1e-10, abs=1e-13)
    p_b = special.ndtr((c + rad - mu) / sd) - special.ndtr((c - rad - mu) / sd)
    limit = (pdf(c - rad) + pdf(c + rad)) / (gam * p_b)
    for t in (1e5, 1e7):
        kl = cu.flat_top_log_mgf_1d(mu, sd, c, rad, gam, t) - math.log(p_b)
        # first-order relative correction −c₁/t, c₁ ≈ 0.66 here (b/(γσ) and the log(1 + x)
        # term of the expansion): tolerance 2/t
        assert t * kl == pytest.approx(limit, rel=2 / t)
    with pytest.raises(ValueError, match="radius"):
        cu.flat_top_log_mgf_1d(mu, sd, c, -1.0, gam, 1.0)


def test_gaussian_validation_errors():
    with pytest.raises(ValueError, match="finite"):
        cu.gaussian_mixed_tilt_fixed_point(MU, COV, A, math.inf)
    m0, c0 = cu.gaussian_mixed_tilt_fixed_point(MU, COV, A, 0.0)
    np.testing.assert_allclose(m0, MU)
    np.testing.assert_allclose(c0, COV)
    with pytest.raises(ValueError, match="sigma2"):
        cu.mean_only_curation_step(MU, -1.0, A, MU, 2, 1.0)
    with pytest.raises(ValueError, match="finite"):
        cu.mean_only_fixed_point(1.0, A, MU, 2, math.inf)
    with pytest.raises(ValueError, match="s2"):
        cu.nonparametric_linear_mixed_tilt(0.0, 1.0, 5)
    with pytest.raises(ValueError, match="generations"):
        cu.gaussian_family_curation_trajectory(MU, COV, A, 2, -1)
    with pytest.raises(ValueError, match="weights"):
        cu.gmm_linear_tilt([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]], [1.0])
