"""The sample-level engine: shapes, determinism, compilation, equivariance, exact couplings."""

import itertools
import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations import DATA_POLICIES, LoopSpec, run, trace_count
from tests.helpers import TEST_SEED, assert_equal_to_rounding

COV2 = np.array([[1.5, 0.4], [0.4, 0.8]])


@pytest.mark.parametrize(
    "data, model, estimator",
    list(itertools.product(DATA_POLICIES, ("gaussian", "gaussian_mean"), ("mle", "unbiased"))),
)
def test_shapes_and_finiteness(data, model, estimator):
    spec = LoopSpec(dim=2, n_real=6, synthetic_ratio=0.5, data=data, model=model,
                    estimator=estimator, generations=4, replicates=3, truth=([1.0, -1.0], COV2))
    traj = run(spec, seed=TEST_SEED)
    assert traj.means.shape == (3, 5, 2) and traj.covs.shape == (3, 5, 2, 2)
    assert np.all(np.isfinite(traj.means)) and np.all(np.isfinite(traj.covs))
    assert np.allclose(traj.covs, np.swapaxes(traj.covs, -1, -2))
    if model == "gaussian_mean":
        assert np.allclose(traj.covs, COV2)
    for name in ("w2_to_target", "kl_to_target", "kl_from_target", "mean_error2",
                 "trace_ratio", "logdet_ratio"):
        assert traj.metric(name).shape == (3, 5)
        assert np.all(np.isfinite(traj.metric(name)))


def test_same_seed_same_result_and_batching_invariance():
    spec = LoopSpec(dim=2, n_real=8, data="accumulate_subsample", generations=5, replicates=7)
    a = run(spec, seed=3)
    b = run(spec, seed=3, batch_size=3)
    c = run(spec, seed=4)
    # Batches of 7 and 3 replicates are two compiled programs of the sample-level engine, and
    # run() promises batch-size invariance bit for bit for the sufficient engine only (the
    # samples engine "can round differently", simulations/run.py): equal to rounding, 16 ε for
    # each of the T + 1 = 6 fits, whose rounding the loop carries into the next generations.
    for name in ("means", "covs"):
        assert_equal_to_rounding(getattr(b, name), getattr(a, name), ulps=16 * 6, err_msg=name)
    assert not np.array_equal(a.means, c.means)
    # bitwise: the same compiled program on the same seed (determinism)
    again = run(spec, seed=3)
    np.testing.assert_array_equal(again.means, a.means)
    np.testing.assert_array_equal(again.covs, a.covs)


@pytest.mark.slow
def test_replicate_prefix_is_stable():
    """Replicate r's stream depends on (seed, r) only: more replicates extend, never change."""
    small = run(LoopSpec(n_real=5, generations=3, replicates=4), seed=1)
    big = run(LoopSpec(n_real=5, generations=3, replicates=9), seed=1)
    # the same streams, but batches of 4 and 9 replicates are two compiled programs of the
    # sample-level engine (see the test above): equal to rounding, 16 ε for each of T + 1 = 4 fits
    assert_equal_to_rounding(small.means, big.means[:4], ulps=16 * 4)


def test_one_trace_per_shape():
    spec = LoopSpec(dim=3, n_real=11, data="mix", generations=6, replicates=5,
                    correction_strength=0.5)
    run(spec, seed=0)
    before = trace_count()
    # values that are not shapes never retrace
    run(spec.replace(temperature=0.7), seed=1)
    run(spec.replace(correction_strength=3.0, truth=(np.ones(3), 2 * np.eye(3))), seed=2)
    run(spec.replace(synthetic_ratio=1.05), seed=3)  # ⌊1.05·11⌋ = 11 = ⌊1.0·11⌋: same shape
    assert trace_count() == before
    run(spec.replace(generations=7), seed=0)  # a new shape traces once
    assert trace_count() == before + 1


def test_float32_runs_in_float32():
    spec = LoopSpec(dim=2, n_real=20, data="mix", generations=5, replicates=50, dtype="float32")
    traj = run(spec, seed=0)
    assert traj.means.dtype == np.float32 and traj.covs.dtype == np.float32
    assert np.all(np.isfinite(traj.metric("w2_to_target")))


def test_estimators_differ_exactly_by_n_over_n_minus_1_at_generation_0():
    base = LoopSpec(dim=2, n_real=9, data="replace", generations=2, replicates=4)
    mle = run(base.replace(estimator="mle"), seed=5)
    unb = run(base.replace(estimator="unbiased"), seed=5)
    np.testing.assert_allclose(unb.covs[:, 0], mle.covs[:, 0] * 9 / 8, rtol=1e-12)
    # bitwise: the estimator is a traced ddof, so both runs are the same compiled program
    np.testing.assert_array_equal(unb.means[:, 0], mle.means[:, 0])


EQUIVARIANCE_CASES = [
    ("replace", "gaussian", "unbiased", 0.0),
    ("mix", "gaussian", "mle", 0.5),
    ("fresh", "gaussian_mean", "mle", 0.0),
    ("accumulate", "gaussian", "unbiased", math.inf),
    ("accumulate_subsample", "gaussian", "mle", 0.0),
]


@pytest.mark.parametrize("data, model, estimator, gamma", EQUIVARIANCE_CASES)
@settings(max_examples=8)
@given(
    shift=st.lists(st.floats(-5, 5), min_size=2, max_size=2),
    scale=st.floats(0.2, 5.0),
)
def test_affine_equivariance_with_common_random_numbers(data, model, estimator, gamma, shift,
                                                       scale):
    """Truth a + s·X gives fits a + s·μ_t and s²·Σ_t, path by path (same keys)."""
    base = LoopSpec(dim=2, n_real=7, synthetic_ratio=0.6, data=data, model=model,
                    estimator=estimator, correction_strength=gamma, generations=4,
                    replicates=3, truth=(np.zeros(2), COV2))
    moved = base.replace(truth=(np.asarray(shift), scale**2 * COV2))
    a, b = run(base, seed=11), run(moved, seed=11)
    np.testing.assert_allclose(b.means, np.asarray(shift) + scale * a.means, rtol=1e-9,
                               atol=1e-9 * (1 + scale))
    np.testing.assert_allclose(b.covs, scale**2 * a.covs, rtol=1e-8, atol=1e-12)


@pytest.mark.slow
def test_infinite_correction_refits_the_target_every_generation():
    """γ = ∞ draws every synthetic point from p_θ*: each replace fit is a fresh fit on the
    target, so the law of the fit is the same at every generation (no drift, no collapse)."""
    spec = LoopSpec(dim=1, n_real=10, data="replace", estimator="unbiased",
                    correction_strength=math.inf, generations=30, replicates=20_000,
                    truth=(2.0, 3.0))
    traj = run(spec, seed=TEST_SEED)
    from tests.helpers import assert_mean_close

    for t in (0, 1, 30):
        assert_mean_close(traj.metric("variance")[:, t], 3.0, f"variance t={t}")
        assert_mean_close(traj.metric("mean_error2")[:, t], 3.0 / 10, f"mean error t={t}")


def test_zero_synthetic_ratio_mix_keeps_the_real_fit():
    traj = run(LoopSpec(dim=2, n_real=12, synthetic_ratio=0.0, data="mix", generations=5,
                        replicates=3), seed=0)
    np.testing.assert_allclose(traj.means, np.repeat(traj.means[:, :1], 6, axis=1))
    np.testing.assert_allclose(traj.covs, np.repeat(traj.covs[:, :1], 6, axis=1))


def test_run_validates_arguments():
    spec = LoopSpec(replicates=2, generations=1)
    with pytest.raises(ValueError, match="engine"):
        run(spec, engine="warp")
    with pytest.raises(TypeError, match="seed"):
        run(spec, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        run(spec, seed=-1)
    with pytest.raises(ValueError, match="batch_size"):
        run(spec, batch_size=0)
    with pytest.raises(TypeError, match="spec"):
        run({"dim": 1})


def test_collapsed_covariance_gives_flags_not_nan():
    """A long MLE replace loop with n = 2 collapses numerically; metrics stay non-NaN."""
    traj = run(LoopSpec(dim=2, n_real=3, data="replace", generations=3000, replicates=4),
               seed=0)
    for name in ("w2_to_target", "kl_to_target", "kl_from_target", "logdet_ratio"):
        assert not np.any(np.isnan(traj.metric(name))), name
    assert jax.numpy.all(traj.metric("trace_ratio")[:, -1] < 1e-10)


@pytest.mark.parametrize("size, n", [(6, 3), (5, 5), (7, 1)])
def test_subsample_rows_is_a_uniform_subset(size, n):
    """Floyd's algorithm (simulations.gaussian_loop.subsample_rows): n distinct rows of the
    first `size`, every one of the C(size, n) subsets equally likely. 20 000 draws, Pearson's χ²
    against the uniform law; false failure 1e-6 per case."""
    from scipy import stats

    from simulations.gaussian_loop import subsample_rows

    keys = jax.random.split(jax.random.key(TEST_SEED), 20_000)
    rows = np.asarray(jax.jit(jax.vmap(lambda k: subsample_rows(k, np.int32(size), n)))(keys))
    assert rows.min() >= 0 and rows.max() < size
    assert all(len(set(r)) == n for r in rows[:2000])
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(size), n))}
    counts = np.bincount([subsets[tuple(sorted(r))] for r in rows], minlength=len(subsets))
    if len(subsets) == 1:
        assert counts[0] == len(rows)
        return
    assert stats.chisquare(counts).pvalue >= 1e-6, counts
