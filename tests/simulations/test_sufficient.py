"""The sufficient-statistics engine: exact samplers, agreement in law with the sample-level
engine at drawn configurations, closed forms, refusals, compilation and dtypes.

Statistical checks use fixed seeds and state their false-failure probability: KS and χ² tests
are Bonferroni-corrected so that each test function fails by chance with probability ≤ 1e-6;
z-tests use Z_TEST (1e-6 per comparison).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from simulations import LoopSpec, run
from simulations import sufficient_loop as sl
from tests.helpers import TEST_SEED, assert_mean_close
from theory import replace_logdet_mean, replace_logdet_var
from theory.laws import StudentTLaw
from theory.rewards import LinearReward, QuadraticReward

ALPHA = 1e-6  # false-failure probability of each test function (Bonferroni over its checks)


def _random_truth(rng, d):
    a = rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T / d + 0.5 * np.eye(d)


# ------------------------------------------------------------------------------ samplers
GAMMA_SHAPES = jnp.asarray([0.5, 1.0, 3.5, 50.0, 5e5])
# one compiled sampler per law, shared by the law tests and the lane-independence test
_GAMMA = jax.jit(jax.vmap(lambda k: sl.gamma_variates(k, GAMMA_SHAPES)))
_BINOMIAL = jax.jit(jax.vmap(sl.binomial, in_axes=(0, 0, None)))


def test_gamma_sampler_matches_scipy():
    """KS test per shape a against scipy's Gamma(a), 10 000 draws each; Bonferroni over the
    five shapes (false-failure probability 1e-6 in all)."""
    x = np.asarray(_GAMMA(jax.random.split(jax.random.key(TEST_SEED), 10_000)))
    for i, a in enumerate(np.asarray(GAMMA_SHAPES)):
        p = stats.kstest(x[:, i], stats.gamma(a).cdf).pvalue
        assert p > ALPHA / GAMMA_SHAPES.size, f"Gamma({a}): KS p = {p:.3g} (seed {TEST_SEED})"


def test_sincos_turns_matches_a_high_precision_reference():
    """cos 2πu and sin 2πu by quarter-turn reduction and Taylor polynomials, against mpmath at
    30 digits: within 2.5e-16 (about one float64 ulp of 1) on 20 000 uniforms and at and
    beside the eighth turns, where the reduction switches."""
    import mpmath

    rng = np.random.default_rng(TEST_SEED)
    eighths = np.arange(9) / 8
    u = np.concatenate([rng.random(20_000), eighths, np.nextafter(eighths[1:], 0.0),
                        np.nextafter(eighths[:-1], 1.0)])
    cos, sin = map(np.asarray, jax.jit(sl.sincos_turns)(jnp.asarray(u)))
    with mpmath.workdps(30):
        turn = 2 * mpmath.pi
        ref_cos = np.array([float(mpmath.cos(turn * mpmath.mpf(v))) for v in u])
        ref_sin = np.array([float(mpmath.sin(turn * mpmath.mpf(v))) for v in u])
    assert np.max(np.abs(cos - ref_cos)) <= 2.5e-16
    assert np.max(np.abs(sin - ref_sin)) <= 2.5e-16


_FALLBACK = jax.jit(sl.gamma_from_noise)


def test_gamma_rejection_fallback_alone_gives_the_law_and_names_values_by_id():
    """Every up-front proposal rejected (x = −10³ makes v = (1 + c x)³ < 0), so each value comes
    from the one-value-per-iteration fallback loop: KS against Gamma(a) per shape, 4 000
    values each (Bonferroni over the three shapes, 1e-6 in all). A value depends on its id
    and the key alone: the values named by the odd ids, drawn on their own, equal the same
    ids' values inside the full array, bit for bit."""
    size, shapes = 4_000, (0.5, 3.5, 50.0)
    a = jnp.repeat(jnp.asarray(shapes), size)
    x = jnp.full((1, a.size), -1e3)
    u = jnp.full((1, a.size), 0.5)
    key = jax.random.key(TEST_SEED)
    ids = jnp.arange(a.size)
    g = np.asarray(_FALLBACK(x, u, key, a, ids))
    for i, shape in enumerate(shapes):
        p = stats.kstest(g[i * size:(i + 1) * size], stats.gamma(shape).cdf).pvalue
        assert p > ALPHA / len(shapes), f"Gamma({shape}) by fallback: KS p = {p:.3g}"
    odd = slice(1, None, 2)
    alone = np.asarray(_FALLBACK(x[:, odd], u[:, odd], key, a[odd], ids[odd]))
    # bitwise: a value depends on its id and key alone, elementwise, whatever the array's length
    # (the samplers' guarantee, on which batch-size invariance of the engine rests)
    np.testing.assert_array_equal(alone, g[odd])


def test_binomial_sampler_matches_scipy_and_degenerate_cases():
    """χ² goodness of fit against scipy's pmf (tails pooled so every cell expects ≥ 20),
    10 000 draws per case; Bonferroni over the six cases (1e-6 in all). Both samplers run:
    inversion (count·q ≤ 10) and BTRS."""
    cases = [(7.0, 0.5), (40.0, 0.2), (30.0, 0.9), (1000.0, 0.5), (200.0, 0.03), (5000.0, 0.7)]
    size = 10_000
    keys = jax.random.split(jax.random.key(TEST_SEED), size)
    for n, p in cases:
        x = np.asarray(_BINOMIAL(keys, jnp.full((size,), n), p)).astype(int)
        k = np.arange(int(n) + 1)
        expected = stats.binom.pmf(k, int(n), p) * x.size
        observed = np.bincount(x, minlength=k.size)
        keep = expected >= 20  # pool the sparse tails into one cell
        obs = np.append(observed[keep], observed[~keep].sum())
        exp = np.append(expected[keep], expected[~keep].sum())
        if exp[-1] < 5:
            obs, exp = obs[:-1], exp[:-1] * obs[:-1].sum() / exp[:-1].sum()
        pval = stats.chisquare(obs, exp).pvalue
        assert pval > ALPHA / len(cases), f"Binomial({n}, {p}): chi2 p = {pval:.3g}"
    small = keys[:size]
    for n, p, value in ((0.0, 0.3, 0), (9.0, 0.0, 0), (9.0, 1.0, 9)):
        assert np.all(np.asarray(_BINOMIAL(small, jnp.full((size,), n), p)) == value)


def test_samplers_depend_on_their_own_key_only():
    """Under vmap a lane's draw never depends on the other lanes (batch composition): the same
    key gives the same value whatever keys share its batch (for the Binomial also whatever
    counts the other lanes have: BTRS and inversion lanes mixed)."""
    size = 10_000
    keys = jax.random.split(jax.random.key(TEST_SEED), size)
    other = jax.random.split(jax.random.key(TEST_SEED + 1), size)
    mixed = jax.random.wrap_key_data(jnp.concatenate(
        [jax.random.key_data(keys[:8]), jax.random.key_data(other[8:])]))
    n = jnp.asarray([500.0, 12.0] * (size // 2))
    for f in (lambda k: _BINOMIAL(k, n, 0.4), _GAMMA):
        # bitwise: the same compiled program on the same shapes; only the other lanes' keys differ
        np.testing.assert_array_equal(np.asarray(f(mixed))[:8], np.asarray(f(keys))[:8])


def test_wishart_law_including_singular():
    """W ~ Wishart_3(df, Σ), df ∈ {1, 2, 7} (df < 3 singular): E W = df Σ (z per entry),
    vᵀWv/vᵀΣv ~ χ²(df) (KS) and rank min(df, 3).

    Per df: 6 z-tests at Z (1e-6 each) and two KS tests at 1e-6/6 (six over the three df)."""
    from tests.helpers import Z_TEST

    rng = np.random.default_rng([TEST_SEED, 3])
    _, cov = _random_truth(rng, 3)
    factor = sl.cov_factor(jnp.asarray(cov))
    draw = jax.jit(jax.vmap(lambda k, df: sl.wishart(k, df, factor), in_axes=(0, None)))
    for df in (1, 2, 7):
        keys = jax.random.split(jax.random.key(TEST_SEED + df), 10_000)
        w = np.asarray(draw(keys, float(df)))
        np.testing.assert_allclose(w, np.swapaxes(w, 1, 2), rtol=0,
                                   atol=1e-12 * np.abs(w).max())
        for i, j in zip(*np.triu_indices(3), strict=True):
            vals = w[:, i, j]
            se = vals.std(ddof=1) / math.sqrt(vals.size)
            assert abs(vals.mean() - df * cov[i, j]) <= Z_TEST * se, (df, i, j)
        for v in (np.array([1.0, 0.0, 0.0]), rng.normal(size=3)):
            q = np.einsum("i,kij,j->k", v, w, v) / (v @ cov @ v)
            assert stats.kstest(q, stats.chi2(df).cdf).pvalue > ALPHA / 6, df
        eig = np.linalg.eigvalsh(w)
        rank = np.sum(eig > 1e-10 * eig[:, -1:], axis=1)
        assert np.all(rank == min(df, 3)), df


def test_cov_factor_handles_collapse():
    for d in (1, 2, 4):
        rng = np.random.default_rng(d)
        a = rng.normal(size=(d, 1))
        for cov in (np.zeros((d, d)), a @ a.T, 1e-200 * np.eye(d), np.eye(d)):
            f = np.asarray(sl.cov_factor(jnp.asarray(cov)))
            assert np.all(np.isfinite(f))
            scale = max(np.abs(cov).max(), 1e-300)
            # F Fᵀ = Σ up to the relative shift 16 d ε of the d ≥ 3 Cholesky
            assert np.abs(f @ f.T - cov).max() <= 64 * d * np.finfo(float).eps * scale


def test_unrolled_factor_is_cov_factor_for_small_d():
    """The unrolled algebra's Cholesky recursion equals cov_factor's closed form bit for bit
    for d ≤ 2 (positive definite, singular, zero and underflowed covariances)."""
    rng = np.random.default_rng([TEST_SEED, 11])
    for d in (1, 2):
        alg = sl._Unrolled(d)
        a = rng.normal(size=(d, d))
        v = rng.normal(size=(d, 1))
        for cov in (a @ a.T + 0.1 * np.eye(d), v @ v.T, np.zeros((d, d)), 1e-310 * np.eye(d)):
            cov = jnp.asarray(cov)
            f = alg.arrays(alg.vec(cov[0]), alg.factor(alg.mat(cov)))[1]
            # bitwise: both run eagerly, one primitive per dispatch (nothing fused or
            # contracted), and perform the same correctly rounded operations (×, −, ÷, √,
            # clip) in the same order
            np.testing.assert_array_equal(np.asarray(f), np.asarray(sl.cov_factor(cov)))


UNROLLED_CASES = {
    "mix d=2": dict(dim=2, data="mix", n_real=30, synthetic_ratio=1.5),
    "replace d=1 unbiased": dict(dim=1, data="replace", n_real=5, estimator="unbiased"),
    "fresh d=2 corrected": dict(dim=2, data="fresh", n_real=12, correction_strength=0.8,
                                temperature=0.7),
    "accumulate d=3 deterministic split": dict(dim=3, data="accumulate", n_real=9,
                                               correction_strength=2.0,
                                               correction_split="deterministic"),
    "mix d=2 curated K=inf": dict(dim=2, data="mix", n_real=40, curation_k=math.inf,
                                  reward=QuadraticReward([1.0, -0.5], 0.3)),
    "mix d=2 known covariance": dict(dim=2, data="mix", n_real=15, model="gaussian_mean"),
    "replace d=2 collapsing": dict(dim=2, data="replace", n_real=3, generations=150),
}


@pytest.mark.parametrize("name", list(UNROLLED_CASES))
def test_unrolled_step_equals_dense_step(name):
    """The two algebras of the step, unrolled (a vector or matrix as a tuple of
    per-replicate scalars: the default for d ≤ 2) and dense (arrays), compute the same fits
    from the same draws: equal to rounding (products summed in other orders; d = 3 also
    runs the unrolled Cholesky recursion against LAPACK's) over the first 13 fits, and
    finite in a loop collapsing to rank one. There (n = 3) each refit on two degrees of
    freedom multiplies a relative rounding difference by about ten (1e-16 at generation 1,
    1e-8 at generation 12: the fits are ill-conditioned, not one path wrong), so only its
    first 5 fits are compared."""
    from simulations.sharding import replicate_keys

    kw = dict(generations=12, replicates=32) | UNROLLED_CASES[name]
    if kw["dim"] != 2:
        kw["truth"] = (np.zeros(kw["dim"]), np.eye(kw["dim"]))
    spec = LoopSpec(**kw)
    static, hyper = sl.static_of(spec), sl.hyper_of(spec)
    keys = replicate_keys(TEST_SEED, spec.replicates)
    out = [sl.compiled_runner(static._replace(unrolled=u))(keys, hyper) for u in (True, False)]
    for fast, dense in zip(*out, strict=True):
        fast, dense = np.asarray(fast), np.asarray(dense)
        assert np.all(np.isfinite(fast)), name
        keep = 5 if spec.n_real == 3 else 13
        fast, dense = fast[:, :keep], dense[:, :keep]
        # a collapsing loop's fits shrink geometrically: compare each fit at its own scale
        flat = np.abs(dense).reshape(dense.shape[:2] + (-1,))
        scale = flat.max(axis=2).reshape(dense.shape[:2] + (1,) * (dense.ndim - 2))
        assert np.all(np.abs(fast - dense) <= 1e-9 * scale), name


# ------------------------------------------------------------------------------ agreement
def _group(rng, structure, cells):
    """Cells of one compiled shape: the structure is fixed, τ, γ, estimator, truth drawn."""
    out = []
    for _ in range(cells):
        d = structure["dim"]
        gamma = float(rng.choice([0.0, 0.4, 2.0, math.inf])) if structure.get("correct") else 0.0
        kw = {k: v for k, v in structure.items() if k != "correct"}
        if structure.get("reward") == "quadratic":
            kw["reward"] = QuadraticReward(rng.normal(size=d), rng.uniform(0.2, 1.0))
            gamma = 0.0
        out.append(LoopSpec(temperature=float(rng.uniform(0.6, 1.4)), correction_strength=gamma,
                            estimator=str(rng.choice(["mle", "unbiased"])),
                            truth=_random_truth(rng, d), **kw))
    return out


# The fast group's shape (d = 2, mix, T = 3, corrected, R = REPLICATES) is shared with the
# interface tests below and with tests/simulations/test_population.py and test_sweep.py, so that
# its programs compile once per test session.
REPLICATES = 2000
SHARED = dict(dim=2, n_real=8, synthetic_ratio=0.5, data="mix", generations=3)
FAST_GROUPS = {"mix-d2-random-split": dict(SHARED, correct=True)}
SLOW_GROUPS = {
    "accumulate-d3": dict(dim=3, n_real=5, synthetic_ratio=1.0, data="accumulate",
                          generations=2, correct=True),
    "replace-d1": dict(dim=1, n_real=4, data="replace", generations=4, correct=True),
    "fresh-d2-deterministic": dict(dim=2, n_real=4, synthetic_ratio=0.5, data="fresh",
                                   correction_split="deterministic", generations=3,
                                   correct=True),
    "mix-d2-tilt": dict(dim=2, n_real=6, synthetic_ratio=1.0, data="mix", curation_k=math.inf,
                        reward="quadratic", generations=3),
    "mix-mean-only-d2": dict(dim=2, n_real=3, synthetic_ratio=0.7, data="mix",
                             model="gaussian_mean", generations=3, correct=True),
    "replace-d4-small-n": dict(dim=4, n_real=3, n_synthetic=6, data="replace",
                               generations=2, correct=True, model="gaussian_mean"),
}


def _agreement(name, structure, cells=5, replicates=REPLICATES):
    """KS two-sample tests, samples vs sufficient engine, on tr Σ_t and each mean coordinate
    at t = 1 and t = T for every drawn cell; Bonferroni: each p-value > 1e-6 / #tests, so the
    test function fails by chance with probability ≤ 1e-6. The cells of a group share one
    compiled program per engine (``run`` with traced hyperparameters)."""
    rng = np.random.default_rng([TEST_SEED, len(name), sum(map(ord, name))])
    specs = [s.replace(replicates=replicates) for s in _group(rng, structure, cells)]
    seeds = rng.integers(0, 2**31, size=(2, cells))
    d, t_last = specs[0].dim, specs[0].generations
    tests = cells * len({1, t_last}) * (1 + d)
    for c, spec in enumerate(specs):
        a = run(spec, seed=int(seeds[0, c]), engine="samples")
        b = run(spec, seed=int(seeds[1, c]), engine="sufficient")
        for t in sorted({1, t_last}):
            pairs = [(np.trace(a.covs[:, t], axis1=-2, axis2=-1),
                      np.trace(b.covs[:, t], axis1=-2, axis2=-1), "trace")]
            pairs += [(a.means[:, t, i], b.means[:, t, i], f"mean[{i}]") for i in range(d)]
            for x, y, label in pairs:
                if np.ptp(x) == 0 and np.ptp(y) == 0:  # known-covariance model: constant trace
                    np.testing.assert_allclose(x, y, rtol=1e-12)
                    continue
                p = stats.ks_2samp(x, y).pvalue
                assert p > ALPHA / tests, (
                    f"{name} cell {c} ({spec.data}, τ={spec.temperature:.3g}, "
                    f"γ={spec.correction_strength}, {spec.estimator}) t={t} {label}: "
                    f"KS p = {p:.3g} (seed {TEST_SEED})")


@pytest.mark.parametrize("name", list(FAST_GROUPS))
def test_agrees_in_law_with_samples_engine(name):
    _agreement(name, FAST_GROUPS[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_GROUPS))
def test_agrees_in_law_with_samples_engine_more_shapes(name):
    _agreement(name, SLOW_GROUPS[name])


@pytest.mark.slow
@pytest.mark.parametrize("draw", range(6))
def test_agrees_in_law_at_drawn_structures(draw):
    """The structure itself drawn: d, n, m, T, policy, model, estimator, split."""
    rng = np.random.default_rng([TEST_SEED, 99, draw])
    d = int(rng.integers(1, 4))
    structure = dict(dim=d, n_real=int(rng.integers(2, 12)) + d,
                     synthetic_ratio=float(rng.choice([0.3, 0.5, 1.0, 2.0])),
                     data=str(rng.choice(["replace", "mix", "fresh", "accumulate"])),
                     model=str(rng.choice(["gaussian", "gaussian_mean"])),
                     correction_split=str(rng.choice(["random", "deterministic"])),
                     generations=int(rng.integers(1, 5)), correct=bool(rng.integers(2)))
    _agreement(f"drawn-{draw}", structure, cells=3)


# ------------------------------------------------------------------------------ closed forms
@pytest.mark.slow
def test_replace_log_determinant_matches_the_exact_law():
    """E and Var of log det Σ_t/Σ* (Bartlett: sums of log χ²) at t = T, d = 3, n = 9.

    The sufficient engine draws the χ² factors itself: this checks them through the product
    over generations. Two z-tests at Z (1e-6 each); the variance through its CLT SE (fourth
    central moment of the sample)."""
    from tests.helpers import Z_TEST

    t, n, d, tau = 6, 9, 3, 0.9
    rng = np.random.default_rng([TEST_SEED, 7])
    spec = LoopSpec(dim=d, n_real=n, data="replace", estimator="unbiased", temperature=tau,
                    generations=t, replicates=40_000, truth=_random_truth(rng, d))
    logdet = run(spec, seed=TEST_SEED, engine="sufficient").metric("logdet_ratio")[:, t]
    kw = dict(estimator="unbiased", temperature=tau)
    assert_mean_close(logdet, float(replace_logdet_mean(t, n, d, **kw)), "E log det")
    var = float(replace_logdet_var(t, n, d, **kw))
    centred = logdet - logdet.mean()
    m4 = np.mean(centred**4)
    se_var = math.sqrt((m4 - var**2) / logdet.size)
    assert abs(centred.var(ddof=1) - var) <= Z_TEST * se_var


# ------------------------------------------------------------------------------ interface
def test_refuses_what_it_cannot_do_exactly():
    base = LoopSpec(dim=2, n_real=6, generations=2, replicates=3)
    with pytest.raises(ValueError, match="accumulate_subsample.*individual"):
        run(base.replace(data="accumulate_subsample"), engine="sufficient")
    student = StudentTLaw(5.0, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="Gaussian p_data"):
        run(base.replace(truth=student), engine="sufficient")
    with pytest.raises(ValueError, match="finite K-choice curation"):
        run(base.replace(curation_k=4, reward=LinearReward([1.0, 0.0])), engine="sufficient")
    with pytest.raises(ValueError, match="ideal corrector.*'histogram'.*no longer Gaussian"):
        run(base.replace(correction_strength=1.0, corrector="histogram"), engine="sufficient")
    with pytest.raises(ValueError, match="cannot run model='gmm'"):
        run(base.replace(model="gmm", components=2), engine="sufficient")
    with pytest.raises(ValueError, match="model 'gaussian' or 'gaussian_mean'"):
        sl.check_sufficient(base.replace(model="gmm", components=2))


def test_generation_t_does_not_depend_on_the_horizon():
    """Generation t's numbers depend on (seed, replicate, t) alone, whatever T: blocks of 16
    generations, a single shorter block when T < 15, padding past T, and the χ² rejection
    fallback (small n, so several χ² shapes are small and proposals are rejected) all leave
    the first generations bit-identical for T = 3, 16 and 40."""
    base = LoopSpec(dim=3, n_real=6, synthetic_ratio=1.5, data="fresh", correction_strength=1.0,
                    generations=3, replicates=64)
    runs = {t: run(base.replace(generations=t), seed=TEST_SEED, engine="sufficient")
            for t in (3, 16, 40)}
    for short, long in ((3, 16), (16, 40)):
        # bitwise: generation t depends on (seed, replicate, t) alone, by design (fixed blocks of
        # 16 generations, padding past T), so the same block program computes it for every T
        np.testing.assert_array_equal(runs[long].means[:, :short + 1], runs[short].means)
        np.testing.assert_array_equal(runs[long].covs[:, :short + 1], runs[short].covs)


def test_one_trace_per_shape_and_n_is_not_a_shape():
    """Counts are traced values: n = 8 and n = 10⁶ (and λ, γ, τ, estimator, truth) share one
    compiled program, so the cost does not grow with n; a new T traces once."""
    spec = LoopSpec(**SHARED, replicates=REPLICATES, correction_strength=0.5)
    run(spec, seed=0, engine="sufficient")
    before = sl.trace_count()
    run(spec.replace(temperature=0.7, estimator="unbiased"), seed=1, engine="sufficient")
    run(spec.replace(correction_strength=3.0, truth=(np.ones(2), 2 * np.eye(2))), seed=2,
        engine="sufficient")
    big = run(spec.replace(n_real=10**6, synthetic_ratio=2.5), seed=3, engine="sufficient")
    assert sl.trace_count() == before
    # the generation-0 fit on 10⁶ real points: x̄_i ~ N(0, 1/n); the largest |x̄_i| of the 2R
    # coordinates exceeds z/√n with probability ≤ 1e-6 (Bonferroni over the coordinates)
    z = stats.norm.isf(0.5e-6 / big.means[:, 0].size)
    assert np.abs(big.means[:, 0]).max() <= z / math.sqrt(10**6)
    small = LoopSpec(dim=1, n_real=5, data="mix", model="gaussian_mean", generations=2,
                     replicates=4)
    run(small, seed=0, engine="sufficient")
    before = sl.trace_count()
    run(small.replace(generations=3), seed=0, engine="sufficient")
    assert sl.trace_count() == before + 1


@pytest.mark.slow
@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_float32_runs_in_float32(gamma):
    spec = LoopSpec(dim=2, n_real=20, data="mix", generations=4, replicates=64,
                    correction_strength=gamma, dtype="float32")
    assert sl.hyper_of(spec).n_syn.dtype == jnp.float32
    traj = run(spec, seed=0, engine="sufficient")
    assert traj.means.dtype == np.float32 and traj.covs.dtype == np.float32
    assert np.all(np.isfinite(traj.metric("w2_to_target")))


@pytest.mark.slow
def test_collapse_gives_no_nan():
    """A long MLE replace loop with n = 4, d = 3 collapses to underflow (the d ≥ 3 Cholesky
    path; d ≤ 2 is the closed form of test_cov_factor_handles_collapse): no NaN anywhere."""
    traj = run(LoopSpec(dim=3, n_real=4, data="replace", generations=1500, replicates=4),
               seed=0, engine="sufficient")
    assert not np.any(np.isnan(traj.means)) and not np.any(np.isnan(traj.covs))
    for name in ("w2_to_target", "kl_to_target", "logdet_ratio", "trace_ratio"):
        assert not np.any(np.isnan(traj.metric(name))), name
    assert np.all(traj.metric("trace_ratio")[:, -1] < 1e-6)
