"""Mixture distances against independent routes; matching; the K = ∞ mixture tilt."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

import theory  # noqa: F401  (float64)
from tests.helpers import TEST_SEED, Z_TEST
from theory.distances import gaussian_kl, gaussian_w2_squared
from theory.mixtures import (
    match_components,
    mixture_kl_mc,
    mixture_l2_squared,
    mixture_logpdf,
    mixture_moments,
    mixture_tilt,
    mixture_w2_squared,
    permute_components,
    replicator_weights,
    suresh_gmm_collapse_bound,
)
from theory.rewards import LinearReward, QuadraticReward

P1 = (np.array([0.3, 0.7]), np.array([[-1.0], [2.0]]), np.array([[[0.5]], [[1.5]]]))
Q1 = (np.array([0.2, 0.5, 0.3]), np.array([[0.0], [1.0], [3.0]]),
      np.array([[[1.0]], [[0.3]], [[2.0]]]))
P2 = (np.array([0.4, 0.6]), np.array([[0.0, 1.0], [1.5, -0.5]]),
      np.array([[[1.0, 0.3], [0.3, 0.8]], [[0.6, -0.2], [-0.2, 1.2]]]))
Q2 = (np.array([1.0]), np.array([[0.5, 0.0]]), np.array([[[1.5, 0.0], [0.0, 1.0]]]))


def _pdf(mix):
    """numpy density of a mixture (an independent route: scipy.stats), points (..., d)."""
    w, mu, cv = mix

    def f(x):
        x = np.asarray(x, np.float64)
        return sum(wj * stats.multivariate_normal(mj, cj).pdf(x)
                   for wj, mj, cj in zip(w, mu, cv, strict=True))
    return f


def _gauss_legendre_2d(f, lo, hi, nodes):
    t, wt = np.polynomial.legendre.leggauss(nodes)
    x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    gx, gy = np.meshgrid(x, x, indexing="ij")
    vals = f(np.stack([gx, gy], axis=-1))
    return float(np.einsum("i,j,ij->", wt, wt, vals) * (0.5 * (hi - lo)) ** 2)


def test_l2_closed_form_matches_quadrature_1d():
    # quad's error estimate is ~1e-10 here; the integrand beyond ±15 is below 1e-30
    p1, q1 = _pdf(P1), _pdf(Q1)

    def p(x):
        return float(p1(np.array([x])))

    def q(x):
        return float(q1(np.array([x])))
    value, err = integrate.quad(lambda x: (p(x) - q(x)) ** 2, -15, 15, epsabs=1e-12, limit=200)
    closed = float(mixture_l2_squared(*P1, *Q1))
    assert err < 1e-9
    assert abs(closed - value) <= 1e-9 + 1e-12 * value


def test_l2_closed_form_matches_quadrature_2d():
    """Tensor Gauss–Legendre on [−10, 10]² (analytic integrand: exponential convergence; the
    300- and 400-node rules must agree to 1e-12, which bounds the quadrature error). Outside
    the box each density is below 1e-12 (variances ≤ 1.6, |means| ≤ 1.6), so the neglected
    tail of (p − q)² is below 1e-20."""
    p, q = _pdf(P2), _pdf(Q2)

    def f(x):
        return (p(x) - q(x)) ** 2

    value = _gauss_legendre_2d(f, -10.0, 10.0, 400)
    coarse = _gauss_legendre_2d(f, -10.0, 10.0, 300)
    assert abs(value - coarse) <= 1e-12
    closed = float(mixture_l2_squared(*P2, *Q2))
    assert abs(closed - value) <= 1e-10


def test_l2_label_free_zero_and_symmetric():
    perm = [2, 0, 1]
    q_perm = tuple(a[perm] for a in Q1)
    assert float(mixture_l2_squared(*Q1, *q_perm)) <= 1e-15
    ab, ba = float(mixture_l2_squared(*P1, *Q1)), float(mixture_l2_squared(*Q1, *P1))
    assert ab == pytest.approx(ba, rel=1e-13)


def test_kl_mc_one_component_equals_gaussian_kl():
    """Monte Carlo KL of one-component mixtures against the closed Gaussian KL: z-test at
    false-failure probability 1e-6 with the estimator's own standard error."""
    p = (np.ones(1), np.array([[0.0, 0.0]]), np.array([[[1.0, 0.2], [0.2, 0.7]]]))
    est, se = mixture_kl_mc(jax.random.key(TEST_SEED), p, Q2, size=200_000)
    exact = float(gaussian_kl(p[1][0], p[2][0], Q2[1][0], Q2[2][0]))
    assert abs(est - exact) <= Z_TEST * se


@pytest.mark.slow
def test_kl_mc_of_a_mixture_with_itself_is_exactly_zero():
    est, se = mixture_kl_mc(jax.random.key(1), P2, P2, size=1000)
    assert est == 0.0 and se == 0.0


def test_mw2_one_component_is_gaussian_w2():
    p = (np.ones(1), np.array([[0.0, 1.0]]), np.array([[[1.0, 0.3], [0.3, 0.8]]]))
    exact = float(gaussian_w2_squared(p[1][0], p[2][0], Q2[1][0], Q2[2][0]))
    assert mixture_w2_squared(*p, *Q2) == pytest.approx(exact, rel=1e-12)


def _w2sq_1d_quantile(p, q):
    """W₂² in 1-D through the quantile functions: ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du."""
    def quantile(mix):
        w, mu, cv = mix
        sd = np.sqrt(cv[:, 0, 0])
        grid = np.linspace(-25, 25, 200_001)
        cdf = (w[:, None] * stats.norm.cdf((grid - mu[:, :1]) / sd[:, None])).sum(0)
        return lambda u: np.interp(u, cdf, grid)
    u = (np.arange(200_000) + 0.5) / 200_000
    return float(np.mean((quantile(p)(u) - quantile(q)(u)) ** 2))


def test_mw2_bounds_w2_and_gelbrich():
    """MW₂² ≥ W₂² ≥ Gelbrich (W₂² of the moment-matched Gaussians). W₂² in 1-D by quantile
    quadrature (midpoint rule on 2·10⁵ points: error ≪ 1e-3 for these smooth quantiles)."""
    mw = mixture_w2_squared(*P1, *Q1)
    w2 = _w2sq_1d_quantile(P1, Q1)
    mp, cp = mixture_moments(*P1)
    mq, cq = mixture_moments(*Q1)
    gel = float(gaussian_w2_squared(mp, cp, mq, cq))
    assert mw >= w2 - 1e-3
    assert w2 >= gel - 1e-3
    assert mw >= gel - 1e-12


@pytest.mark.slow
def test_mw2_gelbrich_random_2d():
    """20 random pairs of 2-D mixtures with 3 and 2 components (fixed sizes: one compilation
    per shape pair; the component count is not what the inequality depends on)."""
    rng = np.random.default_rng(TEST_SEED)
    for _ in range(20):
        mixes = []
        for m in (3, 2):
            w = rng.dirichlet(np.ones(m))
            mu = rng.normal(size=(m, 2)) * 2
            a = rng.normal(size=(m, 2, 2))
            cv = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(2)
            mixes.append((w, mu, cv))
        mw = mixture_w2_squared(*mixes[0], *mixes[1])
        mp, cp = mixture_moments(*mixes[0])
        mq, cq = mixture_moments(*mixes[1])
        assert mw >= float(gaussian_w2_squared(mp, cp, mq, cq)) - 1e-10
        assert mixture_w2_squared(*mixes[0], *mixes[0]) <= 1e-10


@pytest.mark.parametrize("m", [3, 5, 7])
def test_match_components_recovers_permutation(m):
    rng = np.random.default_rng(m)
    ref = rng.normal(size=(m, 2)) * 10
    perms = np.stack([rng.permutation(m) for _ in range(4)])
    means = ref[np.argsort(perms, axis=-1)] + 0.01 * rng.normal(size=(4, m, 2))
    found = match_components(means, ref)
    (aligned,) = permute_components(found, means)
    assert np.max(np.abs(aligned - ref)) < 0.1
    if m <= 6:  # exhaustive search is the optimum: no permutation does better
        cost = [np.sum((means[0][list(p)] - ref) ** 2) for p in itertools.permutations(range(m))]
        assert np.sum((aligned[0] - ref) ** 2) <= min(cost) + 1e-12


@pytest.mark.parametrize("reward", [LinearReward([0.7]), QuadraticReward([0.5], [[0.8]])])
def test_mixture_tilt_matches_pointwise_density(reward):
    """p e^r / ∫p e^r by quadrature equals the component-wise closed form at a grid."""
    xs = np.linspace(-4, 6, 11)
    logp = np.asarray(mixture_logpdf(jnp.asarray(xs[:, None]), *P1))
    r = np.asarray(reward(jnp.asarray(xs[:, None])))
    grid = np.linspace(-30, 30, 60_001)
    integrand = _pdf(P1)(grid[:, None]) * np.exp(np.asarray(reward(jnp.asarray(grid[:, None]))))
    # Simpson on a 1e-3 grid of a smooth integrand (error ~1e-14); tails beyond ±30 vanish
    z = integrate.simpson(integrand, x=grid)
    tilted = mixture_tilt(reward, *P1)
    got = np.asarray(mixture_logpdf(jnp.asarray(xs[:, None]), *tilted))
    np.testing.assert_allclose(got, logp + r - np.log(z), atol=1e-8)


def test_replicator_weights_is_iterated_tilt_of_fixed_components():
    """Flat reward on each component (Z_j constants): w_t ∝ w_0 Z_j^t, and t tilts agree."""
    w0 = np.array([0.2, 0.5, 0.3])
    log_z = np.array([0.1, -0.2, 0.3])
    w = w0.copy()
    for _ in range(7):
        w = w * np.exp(log_z)
        w /= w.sum()
    np.testing.assert_allclose(replicator_weights(w0, log_z, 7), w, rtol=1e-12)


def test_suresh_bound_validates():
    assert suresh_gmm_collapse_bound(0, 10, 1.0, 0.1) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="eps"):
        suresh_gmm_collapse_bound(1, 10, 1.0, 0.0)
    with pytest.raises(ValueError, match="n must"):
        suresh_gmm_collapse_bound(1, 0, 1.0, 0.1)
