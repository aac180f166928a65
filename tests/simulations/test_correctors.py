"""Point-wise correctors (simulations.correctors) and their projection strength
(theory.projection_strength), after Gillman et al. 2024, App. C.

Three tiers: exact couplings with the same key and exact identities (tolerances from float64
rounding); CLT z-tests at ``Z_TEST`` (two-sided, false-failure 1e-6 per comparison) or
``Z_ONE`` (one-sided, 1e-6); distributional tests (Kolmogorov–Smirnov, probability integral
transforms) that fail when the p-value is below ``P_MIN = 1e-6`` (false-failure 1e-6 each).
All seeds are fixed (``SELFCONSUMING_TEST_SEED`` selects another). Functions jitted in this
file are compiled with XLA's backend optimisation level 0 (``_jit``): same programs and IEEE
semantics, about three times less compile time; the library's own jitted runners keep the
default options.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special, stats
from scipy.optimize import brentq, linear_sum_assignment

import theory  # noqa: F401  (float64)
from simulations.correctors import (
    CORRECTORS,
    AuthorsHistogramCorrector,
    CentroidCorrector,
    HistogramCorrector,
    OTCorrector,
    assignment,
    conditional_pit,
    corrected_samples,
    effective_strength,
    get_corrector,
    histogram_cells,
    histogram_grid,
    kmeans,
    kmeans_plus_plus,
    sup_distance_over_n,
)
from tests.helpers import TEST_SEED, Z_TEST, assert_mean_close
from theory.projection_strength import (
    clipped_histogram_mixture_cdf,
    clipped_mixture_cdf,
    clipped_mixture_limit,
    distributional_strength,
    histogram_mixture_cdf,
    mixture_weight,
    moment_strength,
    projection_direction,
    strength_from_weight,
)

_jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})
P_MIN = 1e-6
Z_ONE = float(stats.norm.isf(1e-6))
INF = float("inf")

# --------------------------------------------------------------------------------------------
# a shared 2-D setting: R replicates of m synthetic points from N(MU, COV), target N(μ*, SᵀS)
# --------------------------------------------------------------------------------------------

D, M, R, N_REAL = 2, 12, 48, 40
MU_STAR = np.array([0.5, -1.0])
S_STAR = np.array([[1.2, 0.3], [0.0, 0.8]])  # upper-triangular: checks the SᵀS = Σ* convention
SIGMA_STAR = S_STAR.T @ S_STAR
MU = np.array([2.0, 1.0])


@functools.lru_cache(maxsize=1)
def _data():
    rng = np.random.default_rng([TEST_SEED, 11])
    base = jax.random.key(TEST_SEED)
    keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(R))
    other = jax.vmap(lambda r: jax.random.fold_in(base, R + r))(jnp.arange(R))
    real = MU_STAR + rng.standard_normal((R, N_REAL, D)) @ S_STAR
    xs = MU + rng.standard_normal((R, M, D)) * np.array([1.5, 0.7])
    return keys, other, real, xs


def _one(corrector, key, real, x, gamma):
    k_init, k_apply = jax.random.split(key)
    cstate = corrector.init(k_init, real)
    return corrector.apply(k_apply, x, MU_STAR, S_STAR, gamma, cstate), cstate


@functools.cache
def _battery(corrector):
    """jit(vmap(init + apply))(keys, real, xs, γ) -> (outputs, cstates): one compilation."""
    return _jit(jax.vmap(functools.partial(_one, corrector), in_axes=(0, 0, 0, None)))


def _apply_key(key):
    return jax.random.split(key)[1]


# --------------------------------------------------------------------------------------------
# interface: shapes, dtype, determinism, jit + vmap, γ = 0, γ = ∞, invalid γ
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CORRECTORS))
def test_shape_dtype_determinism_under_jit_and_vmap(name):
    keys, other, real, xs = _data()
    f = _battery(CORRECTORS[name])
    out_v = np.asarray(f(keys, real, xs, 1.0)[0])
    assert out_v.shape == xs.shape and out_v.dtype == np.float64
    assert np.all(np.isfinite(out_v))
    # bitwise: the same compiled program on the same inputs (determinism)
    np.testing.assert_array_equal(out_v, np.asarray(f(keys, real, xs, 1.0)[0]))
    changed = np.asarray(f(other, real, xs, 1.0)[0])
    assert not np.array_equal(out_v, changed)
    # a traced invalid γ gives NaN, never a valid-looking number
    for bad in (-0.5, float("nan")):
        assert np.all(np.isnan(np.asarray(f(keys, real, xs, bad)[0])))


@pytest.mark.parametrize("name", ["histogram_authors", "ot"])
def test_vmap_equals_one_replicate_at_a_time(name):
    """The data-dependent while loops (rejection rounds, augmenting paths) give under vmap the
    same result as unbatched (only rounding of batched arithmetic may differ)."""
    keys, _, real, xs = _data()
    c = CORRECTORS[name]
    batched = np.asarray(_battery(c)(keys, real, xs, 0.5)[0])
    single = _jit(functools.partial(_one, c))
    for r in range(3):
        np.testing.assert_allclose(np.asarray(single(keys[r], real[r], xs[r], 0.5)[0]),
                                   batched[r], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["ideal", "ot", "centroid"])
def test_zero_strength_is_the_identity(name):
    keys, _, real, xs = _data()
    # bitwise: γ = 0 returns x itself (x + 0·Δ or a select), exactly
    np.testing.assert_array_equal(np.asarray(_battery(CORRECTORS[name])(keys, real, xs, 0.0)[0]),
                                  xs)


def _occupied_cells(x, y, bins):
    """Whether each row of y lies in a bin (np.histogramdd grid of x) that holds a point of x."""
    counts, edges = np.histogramdd(x, bins=bins)
    idx = [np.clip(np.searchsorted(e, y[:, k], side="right") - 1, 0, bins - 1)
           for k, e in enumerate(edges)]
    inside = np.all([(y[:, k] >= e[0]) & (y[:, k] <= e[-1]) for k, e in enumerate(edges)],
                    axis=0)
    return inside & (counts[tuple(idx)] > 0)


@pytest.mark.parametrize("name", ["histogram", "histogram_authors"])
def test_histogram_zero_strength_resamples_the_histogram(name):
    """γ = 0 is not the identity for Example C.6 with a histogram: it redraws from the
    histogram (and, for the authors' sampler, from the histogram clipped by Mφ). What holds
    exactly: every output lies in an occupied bin of the input's histogram."""
    keys, _, real, xs = _data()
    out = np.asarray(_battery(CORRECTORS[name])(keys, real, xs, 0.0)[0])
    assert not np.array_equal(out, xs)
    for r in range(R):
        assert np.all(_occupied_cells(xs[r], out[r], 10))


@pytest.mark.parametrize("name", ["ideal", "histogram", "histogram_authors"])
def test_infinite_strength_draws_the_target(name):
    """γ = ∞: every point comes from p_θ*, whatever x (same key, shifted x → same output);
    pooled coordinates pass KS against N(μ*_k, Σ*_kk) (2 tests at 1e-6 each)."""
    keys, _, real, xs = _data()
    f = _battery(CORRECTORS[name])
    out = np.asarray(f(keys, real, xs, INF)[0])
    # bitwise: the same compiled program; at γ = ∞ the output never reads x
    np.testing.assert_array_equal(out, np.asarray(f(keys, real, xs + 3.0, INF)[0]))
    for k in range(D):
        p = stats.kstest(out[..., k].ravel(), "norm",
                         args=(MU_STAR[k], math.sqrt(SIGMA_STAR[k, k]))).pvalue
        assert p > P_MIN, (name, k, p)


def test_ot_is_an_optimal_displacement():
    """Exact coupling: with y = μ* + zS from the apply key, the output is t·y_σ + (1 − t)x with
    σ of minimal total Euclidean cost (scipy's optimum), and its mean is (1 − t)x̄ + tȳ."""
    keys, _, real, xs = _data()
    f = _battery(CORRECTORS["ot"])
    for gamma in (1.0, 3.0, INF):
        t = mixture_weight(gamma)
        out = np.asarray(f(keys, real, xs, gamma)[0])
        for r in range(8):
            x = xs[r]
            y = MU_STAR + np.asarray(jax.random.normal(_apply_key(keys[r]), (M, D))) @ S_STAR
            matched = (out[r] - (1.0 - t) * x) / t
            dist = np.linalg.norm(matched[:, None, :] - y[None, :, :], axis=-1)
            sigma = np.argmin(dist, axis=1)
            np.testing.assert_allclose(matched, y[sigma], rtol=0, atol=1e-12 / t)
            assert sorted(sigma) == list(range(M))
            cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)
            rows, cols = linear_sum_assignment(cost)
            best = cost[rows, cols].sum()
            assert cost[np.arange(M), sigma].sum() <= best * (1 + 1e-12)
            np.testing.assert_allclose(out[r].mean(0), (1 - t) * x.mean(0) + t * y.mean(0),
                                       rtol=0, atol=1e-12)


def test_centroid_snaps_to_the_nearest_centroid():
    keys, _, real, xs = _data()
    f = _battery(CORRECTORS["centroid"])
    for gamma in (1.0, INF):
        out, cs = (np.asarray(a) for a in f(keys, real, xs, gamma))
        assert cs.shape == (R, 16, D)
        for r in range(R):
            d2 = ((xs[r][:, None, :] - cs[r][None]) ** 2).sum(-1)
            nearest = cs[r][np.argmin(d2, axis=1)]
            # exact: a snapped point is a copy of its centroid, a kept point a copy of itself
            snapped = np.all(out[r] == nearest, axis=1)
            kept = np.all(out[r] == xs[r], axis=1)
            assert np.all(snapped | kept)
            if gamma == INF:
                assert np.all(snapped)


@pytest.mark.parametrize("name", [n if n in ("ot", "histogram_authors")
                                  else pytest.param(n, marks=pytest.mark.slow)
                                  for n in CORRECTORS])
def test_float32(name):
    """float32 in, float32 out, finite (the loops' int32/float32 carries: always run)."""
    keys, _, real, xs = _data()
    f = _battery(CORRECTORS[name])
    out = f(keys[:4], real[:4].astype(np.float32), xs[:4].astype(np.float32), 1.0)[0]
    assert out.dtype == jnp.float32 and out.shape == (4, M, D)
    assert bool(jnp.all(jnp.isfinite(out)))


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def test_configuration_validation():
    for make in (HistogramCorrector, AuthorsHistogramCorrector):
        with pytest.raises(ValueError, match="bins"):
            make(bins=0)
        with pytest.raises(TypeError, match="bins"):
            make(bins=2.5)
    with pytest.raises(ValueError, match="max_rounds"):
        AuthorsHistogramCorrector(max_rounds=0)
    with pytest.raises(ValueError, match="proposal_factor"):
        AuthorsHistogramCorrector(proposal_factor=0)
    with pytest.raises(ValueError, match="num_centroids"):
        CentroidCorrector(num_centroids=0)
    with pytest.raises(ValueError, match="iterations"):
        CentroidCorrector(iterations=-1)
    with pytest.raises(ValueError, match="corrector must be one of"):
        get_corrector("nearest")
    with pytest.raises(ValueError, match="configuration"):
        get_corrector(HistogramCorrector(), bins=3)
    assert get_corrector("histogram", bins=4) == HistogramCorrector(bins=4)
    assert hash(CentroidCorrector(num_centroids=8)) == hash(CentroidCorrector(num_centroids=8))
    assert set(CORRECTORS) >= {"histogram", "ot", "centroid"}


def test_apply_and_init_validation():
    c = CORRECTORS["ideal"]
    key = jax.random.key(0)
    x = jnp.zeros((3, 2))
    for bad in (-1.0, float("nan"), -INF):
        with pytest.raises(ValueError, match="strength"):
            c.apply(key, x, MU_STAR, S_STAR, bad)
    for bad in ("1", None, [1.0, 2.0], True):
        with pytest.raises(TypeError, match="strength"):
            c.apply(key, x, MU_STAR, S_STAR, bad)
    with pytest.raises(ValueError, match="x must have shape"):
        c.apply(key, jnp.zeros(3), MU_STAR, S_STAR, 1.0)
    with pytest.raises(TypeError, match="floating"):
        c.apply(key, jnp.zeros((3, 2), jnp.int32), MU_STAR, S_STAR, 1.0)
    with pytest.raises(ValueError, match="target_mean"):
        c.apply(key, x, np.zeros(3), S_STAR, 1.0)
    with pytest.raises(ValueError, match="target_sqrt"):
        c.apply(key, x, MU_STAR, np.eye(3), 1.0)
    with pytest.raises(TypeError, match="typed PRNG key"):
        c.apply(jax.random.PRNGKey(0), x, MU_STAR, S_STAR, 1.0)
    with pytest.raises(ValueError, match="num_centroids"):
        CentroidCorrector(num_centroids=16).init(key, jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="cstate"):
        CentroidCorrector(num_centroids=4).apply(key, x, MU_STAR, S_STAR, 1.0, jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="cost"):
        assignment(jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="method"):
        effective_strength("ideal", 1.0, 5, 4, 0, method="median")
    with pytest.raises(ValueError, match="corrector"):
        sup_distance_over_n([10], 1.0, corrector="ot")
    with pytest.raises(ValueError, match="strength"):
        corrected_samples("ideal", -2.0, 5, 4, 0)


# --------------------------------------------------------------------------------------------
# optimal assignment, histogram grid, k-means: independent routes
# --------------------------------------------------------------------------------------------


@functools.cache
def _batched_assignment():
    return _jit(jax.vmap(assignment))


@pytest.mark.parametrize("n", [1, 8, 30])
def test_assignment_is_optimal(n):
    """Against scipy.optimize.linear_sum_assignment. Continuous costs: the optimum is unique
    with probability one, so the permutations must be identical. Small-integer costs (many
    ties): the optimal costs must be equal, exactly (integer sums are exact in float64)."""
    rng = np.random.default_rng([TEST_SEED, n])
    continuous = rng.random((20, n, n))
    integer = rng.integers(0, 4, (20, n, n)).astype(np.float64)
    cols = np.asarray(_batched_assignment()(np.concatenate([continuous, integer])))
    for k, (c, col) in enumerate(zip(np.concatenate([continuous, integer]), cols, strict=True)):
        assert sorted(col) == list(range(n))
        rows, best = linear_sum_assignment(c)
        if k < 20:
            np.testing.assert_array_equal(col, best)
        else:
            assert c[np.arange(n), col].sum() == c[rows, best].sum()


M1, R1 = 50, 1000


@functools.cache
def _ot_1d():
    """jit(vmap): R1 replicates of x ~ N(1, 2) (m = M1) and their OT correction toward N(0, 1)."""
    c = OTCorrector()

    def one(key, gamma):
        k_x, k_c = jax.random.split(key)
        x = 1.0 + math.sqrt(2.0) * jax.random.normal(k_x, (M1, 1))
        return x, c.apply(k_c, x, np.zeros(1), np.eye(1), gamma)

    base = jax.random.key(TEST_SEED + 7)
    keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(R1))
    return keys, _jit(jax.vmap(one, in_axes=(0, None)))


def test_one_dimensional_ot_uses_an_optimal_monotone_coupling():
    """d = 1: the sorted coupling is optimal for |x − y| (cost equal to scipy's optimum) and
    the output keeps the order of x (monotone), at t = 1 (γ = ∞)."""
    keys, f = _ot_1d()
    xs, out = (np.asarray(a)[..., 0] for a in f(keys, INF))
    for r in range(10):
        y = np.asarray(jax.random.normal(_apply_key(keys[r]), (M1, 1)))[:, 0]
        x, o = xs[r], out[r]
        # the same normals, compiled in two programs, may differ in the last bit (erfinv)
        np.testing.assert_allclose(np.sort(o), np.sort(y), rtol=4 * np.finfo(float).eps)
        assert np.all(np.diff(o[np.argsort(x)]) >= 0)
        cost = np.abs(x[:, None] - y[None, :])
        rows, cols = linear_sum_assignment(cost)
        np.testing.assert_allclose(np.abs(x - o).sum(), cost[rows, cols].sum(), rtol=1e-12)


def test_histogram_grid_matches_numpy():
    rng = np.random.default_rng([TEST_SEED, 3])
    x = rng.standard_normal((60, 2))
    flat = np.column_stack([x[:, 0], np.full(60, 0.25)])  # an axis of zero range
    for pts, bins in ((x, 10), (x, 3), (flat, 7)):
        lo, width = histogram_grid(pts, bins)
        cells = np.asarray(histogram_cells(pts, lo, width, bins))
        mine = np.zeros((bins, bins))
        np.add.at(mine, (cells[:, 0], cells[:, 1]), 1.0)
        ref, edges = np.histogramdd(pts, bins=bins)
        # exact: integer counts (a point within rounding of an edge has probability ~1e-14)
        np.testing.assert_array_equal(mine, ref)
        for k in range(2):
            np.testing.assert_allclose(np.asarray(lo)[k] + np.arange(bins + 1) * width[k],
                                       edges[k], rtol=0, atol=1e-14)


def _lloyd_numpy(points, centres, steps):
    for _ in range(steps):
        lab = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        new = centres.copy()
        for j in range(len(centres)):
            if np.any(lab == j):
                new[j] = points[lab == j].mean(0)
        centres = new
    return centres


def test_kmeans_seeding_and_lloyd_steps():
    """Seeds are distinct data points (D²-sampling never repeats a chosen point); kmeans equals
    Lloyd steps computed in NumPy from the same seeds; on three tight, far-apart clusters the
    centroids are the cluster means. That fails only if two seeds fall in one cluster: a seeded
    cluster carries D² ≈ 10·4·0.01² = 4e-3 against ≥ 10·100² = 1e5 for an unseeded one, so the
    probability over keys is ≈ (4e-3 + 8e-3)/1e5 ≈ 1e-7."""
    rng = np.random.default_rng([TEST_SEED, 5])
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    clusters = np.concatenate([c + 0.01 * rng.standard_normal((10, 2)) for c in centres])
    spread = rng.standard_normal((30, 2)) * np.array([2.0, 0.5])
    seed = _jit(kmeans_plus_plus, static_argnums=2)
    km = _jit(kmeans, static_argnums=(2, 3))
    key = jax.random.key(TEST_SEED + 5)
    for pts in (clusters, spread):
        seeds = np.asarray(seed(key, pts, 3))
        idx = [int(np.flatnonzero(np.all(pts == s, axis=1))[0]) for s in seeds]
        assert len(set(idx)) == 3
        np.testing.assert_allclose(np.asarray(km(key, pts, 3, 6)), _lloyd_numpy(pts, seeds, 6),
                                   rtol=1e-12, atol=1e-12)
    fitted = np.asarray(km(key, clusters, 3, 6))
    truth = np.array([clusters[10 * j:10 * (j + 1)].mean(0) for j in range(3)])
    order = np.argsort(fitted[:, 0] + 2 * fitted[:, 1])
    np.testing.assert_allclose(fitted[order], truth[np.argsort(truth[:, 0] + 2 * truth[:, 1])],
                               rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# laws of the histogram correctors (theory.projection_strength) by independent routes
# --------------------------------------------------------------------------------------------


def test_histogram_mixture_cdf_is_piecewise_linear_interpolation():
    lo, width = -1.3, 0.4
    probs = np.array([0.1, 0.0, 0.35, 0.25, 0.3])
    edges = lo + width * np.arange(6)
    v = np.linspace(-3.0, 2.0, 101)
    for gamma in (0.0, 0.7, INF):
        t = mixture_weight(gamma)
        ref = (1 - t) * np.interp(v, edges, np.concatenate([[0], np.cumsum(probs)])) \
            + t * special.ndtr((v - 0.2) / 1.1)
        got = np.asarray(_jit(histogram_mixture_cdf)(v, lo, width, probs, 0.2, 1.1, gamma))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)


def _quad_cdf(density, v, breaks):
    """∫_{−∞}^v density / ∫ density by adaptive quadrature on pieces; returns (cdf, abserr)."""
    pts = np.sort(np.concatenate([[-40.0, 40.0], breaks]))
    pieces = [integrate.quad(density, a, b, epsabs=1e-14, epsrel=1e-13, limit=200)
              for a, b in zip(pts[:-1], pts[1:], strict=True)]
    total = sum(p[0] for p in pieces)
    err = sum(p[1] for p in pieces)
    out, errs = [], []
    for u in v:
        part = [integrate.quad(density, a, min(b, u), epsabs=1e-14, epsrel=1e-13, limit=200)
                for a, b in zip(pts[:-1], pts[1:], strict=True) if a < u]
        out.append(sum(p[0] for p in part) / total)
        errs.append((sum(p[1] for p in part) + err) / total)
    return np.array(out), np.array(errs)


def test_clipped_histogram_cdf_matches_quadrature():
    """The closed form of the law ∝ min(f, Mφ) against quadrature of the density itself."""
    lo, width = -0.8, 0.5
    heights = np.array([0.3, 0.9, 0.0, 0.4, 0.4])
    edges = lo + width * np.arange(6)
    c, s = 0.1, 0.7
    v = np.array([-2.0, -0.7, -0.2, 0.31, 0.9, 1.6, 3.0])
    for gamma in (0.0, 0.4, 3.0):
        t = mixture_weight(gamma)

        def h(u):
            b = int(np.floor((u - lo) / width))
            return heights[b] if 0 <= b < len(heights) else 0.0

        def phi(u):
            return math.exp(-0.5 * ((u - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))

        m_env = ((1 - t) * heights.max() + t * phi(c)) / phi(c)

        def g(u, t=t, m_env=m_env):
            return min((1 - t) * h(u) + t * phi(u), m_env * phi(u))

        ref, err = _quad_cdf(g, v, edges)
        got = np.asarray(_jit(clipped_histogram_mixture_cdf)(v, lo, width, heights, c, s,
                                                              gamma))
        np.testing.assert_allclose(got, ref, rtol=0, atol=10 * err.max() + 1e-12)


def test_clipped_limit_law_matches_quadrature_and_is_valid_only_when_predicted():
    """Limit law ∝ tφ + min((1 − t)p, κφ) against quadrature; the sup-distance to π_γ p_θ is
    ≤ its grid-error bound iff the envelope is valid (μ = μ*, σ ≤ σ*), and exceeds it
    otherwise."""
    v = np.array([-3.0, -1.0, 0.0, 0.4, 1.5, 4.0])
    cases = [((1.0, math.sqrt(2.0), 0.0, 1.0), True), ((0.0, 0.5, 0.0, 1.0), False),
             ((0.0, 1.0, 0.0, 1.0), False), ((0.0, 1.3, 0.0, 1.0), True),
             ((0.5, 0.6, 0.0, 1.0), True), ((-0.3, 1.0, 0.0, 1.0), True)]
    for (mean, sd, c, s), violated in cases:
        for gamma in (0.0, 1.0):
            t = mixture_weight(gamma)
            kappa = (1 - t) * s / sd

            def g(u, mean=mean, sd=sd, c=c, s=s, t=t, kappa=kappa):
                p = math.exp(-0.5 * ((u - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
                phi = math.exp(-0.5 * ((u - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))
                return t * phi + min((1 - t) * p, kappa * phi)

            ref, err = _quad_cdf(g, v, np.array([mean, c]))
            got = np.asarray(_jit(clipped_mixture_cdf)(v, mean, sd, c, s, gamma))
            np.testing.assert_allclose(got, ref, rtol=0, atol=10 * err.max() + 1e-12)
            lim = clipped_mixture_limit(mean, sd, c, s, gamma)
            assert lim.envelope_violated == violated
            if violated:
                assert lim.sup_distance > lim.grid_error
            else:
                assert lim.sup_distance <= lim.grid_error + 1e-12
    assert clipped_mixture_limit(1.0, 2.0, 0.0, 1.0, INF).sup_distance < 1e-12


# --------------------------------------------------------------------------------------------
# Definition C.2: the conditional laws and the sup-distance over n (1-D)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("corrector", ["histogram",
                                       pytest.param("histogram_authors", marks=pytest.mark.slow)])
def test_conditional_law_of_the_histogram_correctors(corrector):
    """Given X^n the outputs are i.i.d. from the stated law: the PITs of 100 × 1000 outputs are
    Uniform(0, 1) (KS, 1e-6 per test; γ = 0 and 1). The authors' outputs are *not* from the
    unclipped mixture (1 − t)H + tF*: that PIT is rejected (the clipped law is at sup-distance
    ≈ 0.3 from it here, far beyond the KS resolution ≈ 0.01 of 10⁵ points)."""
    for gamma in (0.0, 1.0):
        u = conditional_pit(1000, gamma, corrector=corrector, replicates=100, seed=TEST_SEED)
        assert u.shape == (100, 1000)
        p = stats.kstest(u.ravel(), "uniform").pvalue
        assert p > P_MIN, (corrector, gamma, p)
    if corrector == "histogram_authors":
        u = conditional_pit(1000, 0.0, corrector=corrector, law="mixture", replicates=100,
                            seed=TEST_SEED)
        assert stats.kstest(u.ravel(), "uniform").pvalue < P_MIN


N_VALUES = [100, 1000, 10_000]


@pytest.mark.slow
def test_valid_histogram_corrector_is_consistent():
    """Def. C.2 for Example C.6 (bins ⌈n^{1/3}⌉): E sup_v |Φ_{Π(X^n)} − Φ_{π_γ p_θ}| decreases
    along n = 10², 10³, 10⁴ — each step a one-sided z-test on the difference of two independent
    Monte Carlo means (100 replicates each), false-failure 1e-6 per step."""
    res = sup_distance_over_n(N_VALUES, 1.0, corrector="histogram", replicates=100,
                              seed=TEST_SEED)
    assert list(res.bins) == [5, 10, 22]
    for k in range(len(N_VALUES) - 1):
        diff = res.mean[k] - res.mean[k + 1]
        assert diff > Z_ONE * math.hypot(res.se[k], res.se[k + 1]), res


@pytest.mark.slow
def test_authors_corrector_converges_to_the_clipped_law_not_to_pi_gamma():
    """The authors' sampler (p_θ = N(1, 2), p_θ* = N(0, 1), γ = 1: envelope violated). Its
    distance D' to the clipped limit law G decreases along n (one-sided z-tests, 1e-6 each); as
    |D − L| ≤ D' per sample (triangle inequality, L = sup|G − F_γ| > 0), the distance D to
    π_γ p_θ stays near L: at n = 10⁴, E D ≥ L − E D' > 0 with E D' bounded above by
    D̄' + Z·se (1e-6) and |D̄ − L| ≤ D̄' + Z·(se + se')."""
    lim = clipped_mixture_limit(1.0, math.sqrt(2.0), 0.0, 1.0, 1.0)
    assert lim.envelope_violated
    big_l = lim.sup_distance
    res = sup_distance_over_n(N_VALUES, 1.0, corrector="histogram_authors", replicates=100,
                              seed=TEST_SEED)
    for k in range(len(N_VALUES) - 1):
        diff = res.clipped_mean[k] - res.clipped_mean[k + 1]
        assert diff > Z_ONE * math.hypot(res.clipped_se[k], res.clipped_se[k + 1]), res
    lower = big_l - lim.grid_error - (res.clipped_mean[-1] + Z_ONE * res.clipped_se[-1])
    assert lower > 0.5 * big_l, (lower, res)
    assert abs(res.mean[-1] - big_l) <= (res.clipped_mean[-1] + lim.grid_error
                                         + Z_TEST * (res.se[-1] + res.clipped_se[-1])), res


# --------------------------------------------------------------------------------------------
# effective projection strength (Def. C.2 / C.4)
# --------------------------------------------------------------------------------------------

P_THETA = dict(mean=(1.0,), cov=((2.0,),), target_mean=(0.0,), target_cov=((1.0,),))


def test_ideal_corrector_has_effective_strength_gamma():
    """π_γ drawn directly: the moment estimators of t = γ/(1+γ) are unbiased (derived in
    theory.projection_strength) — z-test with the between-replicate standard error (1e-6 each,
    2 γ × 2 moments); the CvM and KS minimum-distance estimates agree within Z·(bootstrap SE)
    (the bootstrap SE itself has ≈ 5% relative error at 200 resamples)."""
    for gamma in (0.5, 3.0):
        t = gamma / (1 + gamma)
        x = corrected_samples("ideal", gamma, M1, R1, TEST_SEED)
        for moment in ("mean", "second"):
            est = moment_strength(x, **P_THETA, moment=moment)
            assert abs(est.weight - t) <= Z_TEST * est.weight_se, (gamma, moment, est)
            assert est.replicates == R1
    x = corrected_samples("ideal", 1.0, M1, R1, TEST_SEED + 1)
    for distance in ("cvm", "ks"):
        est = distributional_strength(x, **P_THETA, distance=distance, bootstrap=200,
                                      seed=TEST_SEED)
        assert abs(est.weight - 0.5) <= Z_TEST * est.weight_se, (distance, est)
    # on the γ scale (delta method): se(γ̂) ≈ 9·se(t̂) ≈ 0.05 here, and the linearisation bias
    # se(t̂)²/(1 − t)³ ≈ 1e-3 is negligible against it
    g, se = effective_strength("ideal", 2.0, M1, R1, TEST_SEED + 2)
    assert abs(g - 2.0) <= Z_TEST * se, (g, se)


def _normal_order_statistic_means(m):
    """α_i = E z_(i) for m i.i.d. N(0, 1), by quadrature of the order-statistic density."""
    out = np.empty(m)
    for i in range(1, m + 1):
        logc = math.lgamma(m + 1) - math.lgamma(i) - math.lgamma(m - i + 1)

        def f(z, i=i, logc=logc):
            return z * math.exp(logc + (i - 1) * special.log_ndtr(z)
                                + (m - i) * special.log_ndtr(-z) - 0.5 * z * z
                                - 0.5 * math.log(2 * math.pi))

        out[i - 1] = integrate.quad(f, -12, 12, epsabs=1e-13, limit=200)[0]
    return out


def test_ot_corrector_moments_in_one_dimension():
    """1-D displacement x_(i) ← (1 − t)x_(i) + t y_(i) (sorted coupling), derived moments:
    the corrected mean is (1 − t)x̄ + tȳ, so the mean estimator is unbiased for t; about μ* = 0,
    E mean_i x_i'² = (1 − t)²(σ² + δ²) + t²σ*² + 2t(1 − t)σσ*·mean_i α_i², α_i the expected
    normal order statistics — not the π_γ value (1 − t)(σ² + δ²) + tσ*², so the second-moment
    γ_eff differs from γ. z-tests at 1e-6 each."""
    gamma, t = 1.0, 0.5
    sd, delta, sd_star = math.sqrt(2.0), 1.0, 1.0
    keys, f = _ot_1d()
    x = np.asarray(f(keys, gamma)[1])[..., 0]
    est = moment_strength(x, **P_THETA, moment="mean")
    assert abs(est.weight - t) <= Z_TEST * est.weight_se, est
    alpha = _normal_order_statistic_means(M1)
    assert abs(alpha.sum()) < 1e-9
    pred = ((1 - t) ** 2 * (sd**2 + delta**2) + t**2 * sd_star**2
            + 2 * t * (1 - t) * sd * sd_star * np.mean(alpha**2))
    assert_mean_close(np.mean(x**2, axis=1), pred, "OT second moment")
    # power check: the gap pred − π_γ value = −t(1 − t)(σ² + δ² + σ*² − 2σσ*·mean α²) ≈ −0.28
    # is many standard errors (≈ 0.03) wide, so this cannot fail unless the law is π_γ
    pi_gamma = (1 - t) * (sd**2 + delta**2) + t * sd_star**2
    q = np.mean(x**2, axis=1)
    assert abs(q.mean() - pi_gamma) > Z_TEST * q.std(ddof=1) / math.sqrt(R1)


# --------------------------------------------------------------------------------------------
# theory.projection_strength: exact cases and validation
# --------------------------------------------------------------------------------------------


def test_weight_and_strength_conversions():
    for g in (0.0, 0.25, 1.0, 7.0):
        assert strength_from_weight(mixture_weight(g)) == pytest.approx(g, rel=1e-15)
    assert mixture_weight(INF) == 1.0 and strength_from_weight(1.0) == INF
    for bad in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="gamma"):
            mixture_weight(bad)
    with pytest.raises(ValueError, match="weight"):
        strength_from_weight(1.5)


def test_moment_estimators_are_exact_on_constructed_samples():
    """Replicates whose moments equal those of π_γ exactly give t̂ = t and zero spread."""
    mean, cov = np.array([1.0, 2.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    tm, tc = np.array([-1.0, 0.5]), np.eye(2)
    t = 0.3
    centre = (1 - t) * mean + t * tm
    e = np.array([[1.0, 0.5], [-1.0, -0.5], [0.2, -0.7], [-0.2, 0.7]])
    x = np.stack([centre + s * e for s in (0.5, 1.0, 2.0)])
    est = moment_strength(x, mean, cov, tm, tc, moment="mean")
    assert est.weight == pytest.approx(t, abs=1e-14) and est.weight_se < 1e-14
    delta = mean - tm
    rho2 = (1 - t) * (np.trace(cov) + delta @ delta) + t * np.trace(tc)
    units = np.array([[1.0, 0.0], [0.0, -1.0], [0.6, 0.8]])
    y = np.stack([tm + math.sqrt(rho2) * units for _ in range(3)])
    est = moment_strength(y, mean, cov, tm, tc, moment="second")
    assert est.weight == pytest.approx(t, abs=1e-13)
    assert est.gamma == pytest.approx(t / (1 - t), abs=1e-12)
    with pytest.raises(ValueError, match="moment='mean' needs"):
        moment_strength(x, tm, cov, tm, tc, moment="mean")
    with pytest.raises(ValueError, match="moment='second' needs"):
        moment_strength(x, tm, tc, tm, tc, moment="second")
    with pytest.raises(ValueError, match="samples"):
        moment_strength(x[:1], mean, cov, tm, tc)


def test_distributional_estimators_are_exact_on_quantile_samples():
    """Points at the (i − ½)/N quantiles of F_t make the CvM residual vanish at t and the KS
    distance equal 1/(2N) + |t' − t|·max|F* − F| at t': both minimisers are t (to the 1e-13
    accuracy of the quantile inversion)."""
    t, n = 0.35, 400

    def f_t(v):
        return (1 - t) * special.ndtr((v - 1.0) / math.sqrt(2.0)) + t * special.ndtr(v)

    q = np.array([brentq(lambda v, p=p: f_t(v) - p, -20, 20, xtol=1e-15)
                  for p in (np.arange(n) + 0.5) / n])
    x = q.reshape(4, n // 4)
    for distance in ("cvm", "ks"):
        est = distributional_strength(x, **P_THETA, distance=distance, bootstrap=2)
        assert est.weight == pytest.approx(t, abs=1e-9), distance
    with pytest.raises(ValueError, match="distance"):
        distributional_strength(x, **P_THETA, distance="w1")


def test_projection_direction():
    np.testing.assert_allclose(projection_direction([3.0, 4.0], np.eye(2), [0.0, 0.0],
                                                    np.eye(2)), [0.6, 0.8])
    u = projection_direction([0.0, 0.0], np.diag([1.0, 5.0]), [0.0, 0.0], np.eye(2))
    np.testing.assert_allclose(np.abs(u), [0.0, 1.0], atol=1e-15)
    with pytest.raises(ValueError, match="not identifiable"):
        projection_direction([1.0], [[2.0]], [1.0], [[2.0]])
