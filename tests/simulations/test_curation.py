"""K-choice curation: the kept point has the law p·H^K (Ferbach et al. 2024, Lemma 2.1).

The reference law is computed here by an independent route, the Laplace-integral form
H^K(u) = K ∫₀^∞ e^{−y} ψ(y e^{−su})^{K−1} dy with ψ(t) = E exp(−t e^{sU}), U ~ N(0, 1), for a
standard normal model and the reward r(u) = s·u (trapezoid quadrature in log y and in U;
the total mass is checked to be 1 within 1e-7, far below the KS resolution 1/√N).
Distribution tests are KS / χ² with p-value threshold 1e-6 each; mean tests are z-tests with
z = Z_TEST (false-failure 1e-6 each). Seeds are fixed (TEST_SEED).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from simulations import LoopSpec, run
from simulations.curation import curated_gaussian_draws, select
from tests.helpers import TEST_SEED, Z_TEST, assert_mean_close
from theory.rewards import FlatTopReward, LinearReward, QuadraticReward

P_MIN = 1e-6


def _key(i):
    return jax.random.fold_in(jax.random.key(TEST_SEED), i)


def curated_density(k, s, u):
    """Density of the kept draw of K standard normals chosen by softmax(s·u).

    H(u) = K ∫ exp(v − e^v) ψ(e^{v − su})^{K−1} dv (y = e^v in the Laplace form), with
    log ψ(e^w) tabulated by the trapezoid rule in U (spectrally accurate for this smooth,
    Gaussian-decaying integrand) and interpolated by a cubic spline in w.
    """
    from scipy.interpolate import CubicSpline

    big_u = np.linspace(-12.0, 12.0, 4001)
    wu = stats.norm.pdf(big_u) * (big_u[1] - big_u[0])
    w = np.linspace(-80.0, 40.0, 6001)
    psi = np.exp(-np.exp(np.add.outer(w, s * big_u))) @ wu
    log_psi = CubicSpline(w, np.log(np.maximum(psi, 1e-300)))
    v = np.linspace(-45.0, 4.5, 2001)
    wv = np.exp(v - np.exp(v)) * (v[1] - v[0])
    u = np.asarray(u, dtype=np.float64)
    arg = np.clip(np.subtract.outer(-s * u, -v), w[0], w[-1])  # v − su, shape (len(u), len(v))
    h = k * np.exp((k - 1) * log_psi(arg)) @ wv
    return stats.norm.pdf(u) * h


def curated_cdf(k, s):
    grid = np.linspace(-9.0, 9.0, 3001)
    f = curated_density(k, s, grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))])
    assert abs(cdf[-1] - 1.0) < 1e-7, cdf[-1]
    return lambda x: np.interp(x, grid, cdf), grid, f


def m_v(k, s):
    _, grid, f = curated_cdf(k, s)
    w = f * np.gradient(grid)
    m = np.sum(w * grid)
    return m, np.sum(w * grid**2) - m**2


@pytest.mark.slow
def test_reference_density_matches_known_values():
    # K = 2: H(u) = 2 E σ(s(u − U)) — a second route by direct quadrature of the sigmoid form
    s = 0.8
    u = np.array([-2.0, 0.0, 1.5])
    xh, wh = special.roots_hermitenorm(120)
    h2 = 2 * (special.expit(s * (u[:, None] - xh[None, :])) @ (wh / np.sqrt(2 * np.pi)))
    np.testing.assert_allclose(curated_density(2, s, u), stats.norm.pdf(u) * h2, rtol=1e-7)
    # K = 1 is the model itself
    np.testing.assert_allclose(curated_density(1, s, u), stats.norm.pdf(u), rtol=1e-7)
    # the table of m_K(s), v_K(s) in the reference notes (ferbach2024.md §5.1, computed there
    # by Gauss–Hermite quadrature and Monte Carlo, printed to 4 decimals)
    for k, s_, m_ref, v_ref in [(2, 0.5, 0.2246, 0.9495), (5, 1.0, 0.6674, 0.8519),
                                (10, 2.0, 1.2198, 0.6381)]:
        m, v = m_v(k, s_)
        assert abs(m - m_ref) <= 5e-5 + 1e-9 and abs(v - v_ref) <= 5e-5 + 1e-9, (k, s_, m, v)


@pytest.mark.parametrize("k, s", [(3, 0.7), pytest.param(7, 1.3, marks=pytest.mark.slow)])
def test_curated_draws_have_law_p_times_h(k, s):
    cdf, _, _ = curated_cdf(k, s)
    x = curated_gaussian_draws(_key(k), jnp.zeros(1), jnp.eye(1), 20_000, k, "linear",
                               (jnp.asarray([s]), jnp.asarray(0.0)))
    p = stats.kstest(np.asarray(x)[:, 0], cdf).pvalue
    assert p > P_MIN, p


def test_select_is_softmax_even_for_huge_rewards():
    # 5 candidates with rewards 1000 + c_j: the choice law is softmax(c) (no overflow)
    c = np.array([0.0, 0.5, -1.0, 1.2, 0.3])
    n = 60_000
    rewards = jnp.broadcast_to(jnp.asarray(1000.0 + c), (n, 5))
    cand = jnp.broadcast_to(jnp.arange(5.0)[:, None], (n, 5, 1))
    picked = np.asarray(select(_key(1), cand, rewards))[:, 0].astype(int)
    counts = np.bincount(picked, minlength=5)
    expected = n * special.softmax(c)
    p = stats.chisquare(counts, expected).pvalue
    assert p > P_MIN, (counts, expected)
    # and a reward gap of 10³ always picks the best
    far = jnp.asarray([[0.0, 1000.0, -1000.0]] * 100)
    idx = np.asarray(select(_key(2), jnp.broadcast_to(jnp.arange(3.0)[:, None], (100, 3, 1)), far))
    assert np.all(idx == 1.0)


def test_k1_leaves_the_loop_unchanged_bitwise():
    base = LoopSpec(dim=2, n_real=30, synthetic_ratio=1.0, data="mix", generations=4,
                    replicates=5)
    plain = run(base, seed=3)
    k1 = run(base.replace(curation_k=1, reward=LinearReward([1.0, 0.0])), seed=3)
    # bitwise: K = 1 drops the reward from the static configuration and the parameters, so
    # both runs are the same compiled program
    np.testing.assert_array_equal(plain.means, k1.means)
    np.testing.assert_array_equal(plain.covs, k1.covs)


@pytest.mark.parametrize("k, s, sigma", [(2, 0.6, 1.5),
                                         pytest.param(5, 1.1, 0.8, marks=pytest.mark.slow)])
def test_engine_curated_mean_step(k, s, sigma):
    """Mean-only model, replace: μ₁ − μ₀ is the mean of n kept draws from N(μ₀, σ²) with
    r(x) = (s/σ)x, so E(μ₁ − μ₀) = σ m_K(s) and Var = σ² v_K(s)/n."""
    n, reps = 50, 4000
    spec = LoopSpec(dim=1, n_real=n, data="replace", model="gaussian_mean", generations=1,
                    replicates=reps, truth=(0.3, sigma**2), curation_k=k,
                    reward=LinearReward([s / sigma]))
    traj = run(spec, seed=TEST_SEED)
    step = traj.means[:, 1, 0] - traj.means[:, 0, 0]
    m, v = m_v(k, s)
    assert_mean_close(step, sigma * m, f"K={k}")
    # the variance of the step: exact σ²v/n against the sample variance (χ² pivot)
    stat = (reps - 1) * step.var(ddof=1) / (sigma**2 * v / n)
    p = 2 * min(stats.chi2.cdf(stat, reps - 1), stats.chi2.sf(stat, reps - 1))
    assert p > P_MIN


def test_k_inf_draws_from_the_exact_tilt():
    mean = jnp.asarray([0.5, -1.0])
    cov = jnp.asarray([[1.0, 0.4], [0.4, 2.0]])
    reward = QuadraticReward([1.0, 1.0], [[2.0, 0.0], [0.0, 0.5]])
    t_mean, t_cov = reward.tilt(mean, cov)
    # the tilt against the precision form (Σ⁻¹ + A)⁻¹, Σ'(Σ⁻¹μ + Ac)
    prec = np.linalg.inv(np.asarray(cov)) + np.asarray(reward.matrix)
    ref_cov = np.linalg.inv(prec)
    ref_mean = ref_cov @ (np.linalg.solve(cov, mean) + np.asarray(reward.matrix) @ [1.0, 1.0])
    np.testing.assert_allclose(t_cov, ref_cov, rtol=1e-12)
    np.testing.assert_allclose(t_mean, ref_mean, rtol=1e-12)
    root = jnp.linalg.cholesky(cov).T  # upper triangular: rootᵀ root = Σ (row-vector draws)
    x = np.asarray(curated_gaussian_draws(_key(5), mean, root, 100_000, math.inf, "quadratic",
                                          reward.params()))
    # whiten with the exact tilted law: coordinates are i.i.d. N(0, 1) (KS on each)
    w = np.linalg.solve(np.linalg.cholesky(ref_cov), (x - ref_mean).T)
    for row in w:
        assert stats.kstest(row, "norm").pvalue > P_MIN / 2


def _cov_z(x, mean, cov):
    """z-scores of the sample mean and covariance of the rows of ``x`` against (mean, cov):
    the SE of each covariance entry is the sample SD of (x_i − x̄_i)(x_j − x̄_j) over √N
    (CLT; valid for the non-Gaussian curated law too)."""
    n = x.shape[0]
    xbar = x.mean(axis=0)
    z_mean = (xbar - mean) / (x.std(axis=0, ddof=1) / np.sqrt(n))
    c = x - xbar
    prod = c[:, :, None] * c[:, None, :]
    s = prod.sum(axis=0) / (n - 1)
    z_cov = (s - cov) / (prod.std(axis=0, ddof=1) / np.sqrt(n))
    iu = np.triu_indices(x.shape[1])
    return np.concatenate([z_mean, z_cov[iu]])


@pytest.mark.parametrize("k", [1, 4, math.inf])
def test_non_symmetric_root_gives_the_documented_law(k):
    """A lower-triangular root L: the draws follow N(μ, Lᵀ L) and its curated laws, for plain
    (K = 1), K = 4 and K = ∞ draws (all branches one convention). Predictions: K = 1,
    N(μ, Σ) with Σ = Lᵀ L; K = 4 with r(x) = aᵀx, the exact curated law has mean
    μ + Σa m_K(s)/s and covariance Σ − (1 − v_K(s)) Σa aᵀΣ/s², s² = aᵀΣa (only the
    coordinate along a changes: ferbach2024.md §5.1; m_K, v_K from the reference density
    above); K = ∞ with a quadratic reward, the exact tilt of N(μ, Σ). Each sample mean and
    covariance entry is z-tested at |z| ≤ Z_TEST (false-failure 1e-6 each); the other
    convention, N(μ, L Lᵀ), is off by more than 2·Z_TEST standard errors, so the test can
    tell the two apart."""
    lower = np.array([[1.0, 0.0], [0.9, 1.2]])
    mean = np.array([0.5, -1.0])
    n = 200_000
    preds = {}
    for name, cov in (("documented", lower.T @ lower), ("other", lower @ lower.T)):
        if k == 1:
            preds[name] = (mean, cov)
        elif k == 4:
            a = np.array([0.8, -0.5])
            s = float(np.sqrt(a @ cov @ a))
            m, v = m_v(4, s)
            sa = cov @ a
            preds[name] = (mean + sa * m / s, cov - (1 - v) * np.outer(sa, sa) / s**2)
        else:
            reward = QuadraticReward([1.0, 1.0], [[2.0, 0.0], [0.0, 0.5]])
            t_mean, t_cov = reward.tilt(jnp.asarray(mean), jnp.asarray(cov))
            preds[name] = (np.asarray(t_mean), np.asarray(t_cov))
    # K = 1 ignores the reward (plain draws)
    kind, params = (("quadratic", QuadraticReward([1.0, 1.0], [[2.0, 0.0], [0.0, 0.5]]).params())
                    if k == math.inf else ("linear", LinearReward([0.8, -0.5]).params()))
    x = np.asarray(curated_gaussian_draws(_key(20), jnp.asarray(mean), jnp.asarray(lower), n,
                                          k, kind, params))
    z = _cov_z(x, *preds["documented"])
    assert np.all(np.abs(z) <= Z_TEST), (k, z)
    assert np.max(np.abs(_cov_z(x, *preds["other"]))) > 2 * Z_TEST, k


def test_k_inf_linear_tilt_by_quadrature():
    """1-D: the mean and variance of φ(x; μ, σ²) e^{ax} / Z by quadrature equal N(μ + σ²a, σ²)."""
    mu, var, a = 0.4, 1.7, 0.9
    xs = np.linspace(mu - 20, mu + 20, 200_001)
    w = stats.norm.pdf(xs, mu, np.sqrt(var)) * np.exp(a * xs)
    w /= w.sum()
    t_mean, t_cov = LinearReward([a]).tilt(jnp.asarray([mu]), jnp.asarray([[var]]))
    assert abs(np.sum(w * xs) - float(t_mean[0])) < 1e-9
    assert abs(np.sum(w * xs**2) - np.sum(w * xs) ** 2 - float(t_cov[0, 0])) < 1e-8


@pytest.mark.slow
def test_reward_metric_and_flat_top_loop_runs():
    spec = LoopSpec(dim=2, n_real=40, data="mix", synthetic_ratio=1.0, generations=3,
                    replicates=20, curation_k=4, reward=FlatTopReward([[1.0, 1.0]], 0.5))
    traj = run(spec, seed=TEST_SEED)
    assert np.all(np.isfinite(traj.means)) and np.all(np.isfinite(traj.covs))
    with pytest.raises(ValueError, match="closed form"):
        traj.metric("reward")
    lin = run(spec.replace(reward=LinearReward([1.0, 0.0], 2.0)), seed=TEST_SEED)
    np.testing.assert_allclose(lin.metric("reward"), lin.means[..., 0] + 2.0, rtol=1e-12)


def test_rewards_of_size_1e3_stay_finite_in_the_loop():
    spec = LoopSpec(dim=1, n_real=30, data="mix", generations=3, replicates=10, curation_k=5,
                    reward=LinearReward([1000.0]))
    traj = run(spec, seed=TEST_SEED)
    assert np.all(np.isfinite(traj.means)) and np.all(np.isfinite(traj.covs))


@pytest.mark.parametrize(
    "fields, err, match",
    [
        ({"curation_k": 0, "reward": LinearReward([1.0])}, ValueError, "curation_k"),
        ({"curation_k": 2.5, "reward": LinearReward([1.0])}, ValueError, "curation_k"),
        ({"curation_k": "3", "reward": LinearReward([1.0])}, TypeError, "curation_k"),
        ({"curation_k": 2}, ValueError, "needs a reward"),
        ({"curation_k": 2, "reward": lambda x: jnp.nan * x[0]}, ValueError, "finite"),
        ({"curation_k": 2, "reward": lambda x: x}, ValueError, "scalar"),
        ({"curation_k": 2, "reward": lambda x, y: x}, ValueError, "function of x|real number"),
        ({"curation_k": 2, "reward": 3.0}, TypeError, "reward"),
        ({"curation_k": 2, "reward": LinearReward([1.0, 2.0])}, ValueError, "dimension"),
        ({"curation_k": math.inf, "reward": FlatTopReward([[0.0]], 1.0)}, ValueError, "tilt"),
        ({"curation_k": 2, "reward": LinearReward([1.0]), "correction_strength": 1.0},
         ValueError, "correction"),
    ],
)
def test_bad_curation_input(fields, err, match):
    with pytest.raises(err, match=match):
        LoopSpec(dim=1, n_real=10, **fields)


def test_reward_in_float32():
    spec = LoopSpec(dim=2, n_real=20, data="mix", generations=2, replicates=4, curation_k=3,
                    reward=QuadraticReward([0.0, 1.0], 1.0), dtype="float32")
    traj = run(spec, seed=TEST_SEED)
    assert traj.means.dtype == np.float32 and np.all(np.isfinite(traj.means))


@pytest.mark.slow
def test_callable_reward_equals_named_reward():
    """A callable reward and the named one are two compiled programs (the callable is
    static), so the runs are compared to 1e-12 relative, not bit for bit."""
    named = LoopSpec(dim=2, n_real=20, data="mix", generations=3, replicates=4, curation_k=3,
                     reward=LinearReward([0.5, -1.0]))
    fn = LoopSpec(dim=2, n_real=20, data="mix", generations=3, replicates=4, curation_k=3,
                  reward=lambda x: 0.5 * x[0] - 1.0 * x[1])
    a, b = run(named, seed=1), run(fn, seed=1)
    np.testing.assert_allclose(a.means, b.means, rtol=1e-12)
    assert Z_TEST > 4  # the module's z is the shared one (documented above)
