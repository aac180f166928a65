"""The logistic location loop (simulations.logistic_loop): the fit solves the score equation,
λ = 0 refits the real data, one generation at large n is logistic_location_map, shapes, dtypes
and one trace per shape."""

import jax
import numpy as np
import pytest
from scipy import optimize

from simulations import logistic_loop as lg
from tests.conftest import TEST_SEED
from theory import correction as cr
from theory.laws import GaussianLaw, GaussianMixtureLaw

MIX = GaussianMixtureLaw([0.3, 0.7], [-2.0, 1.0], [0.5, 1.5])  # the claims' MIX_1D
Z = 5.3  # two-sided threshold for a 1e-7 false-failure probability per comparison


def _score(points, theta):
    return np.sum(np.tanh(0.5 * (np.asarray(points) - theta)))


def test_fit_solves_the_score_equation():
    rng = np.random.default_rng(TEST_SEED)
    for n in (5, 50, 400):
        x = rng.standard_normal(n) * 3.0 + 2.0
        th, res, last = lg.fit_logistic(jax.numpy.asarray(x), jax.numpy.asarray(-10.0), 40)
        ref = optimize.brentq(lambda t, x=x: _score(x, t), -50, 50, xtol=1e-14)
        assert abs(_score(x, float(th))) / n <= 1e-10
        assert float(res) <= 1e-10 and float(last) <= 1e-8
        assert abs(float(th) - ref) <= 1e-10


def test_loop_fits_solve_the_score_equation_and_start_at_the_real_mle():
    out = lg.run_logistic(TEST_SEED, n=60, synthetic_ratio=0.5, correction_strength=1.0,
                          generations=8, replicates=16, data_law=MIX)
    assert np.max(out.residual) <= 1e-10
    assert out.n_synthetic == 30


def test_zero_lambda_refits_the_real_data_every_generation():
    out = lg.run_logistic(TEST_SEED, n=40, synthetic_ratio=0.0, correction_strength=2.0,
                          generations=5, replicates=8, data_law=MIX)
    # the real-data MLE computed independently from the same real sample
    keys = [jax.random.fold_in(jax.random.fold_in(jax.random.key(TEST_SEED), r), 0)
            for r in range(8)]
    for r, k in enumerate(keys):
        x = np.asarray(MIX.sample(k, 40))[:, 0]
        ref = optimize.brentq(lambda t, x=x: _score(x, t), -50, 50, xtol=1e-14)
        np.testing.assert_allclose(out.theta[r], ref, rtol=0, atol=1e-10)


def test_one_generation_at_large_n_is_the_infinite_sample_map():
    """E θ₁ from θ₀ = θ* + 2 with n = 20000 (m = 10000): the O(1/N) bias is ~1e-4, far below
    Z·SE (SE ≈ 0.0012 with 200 replicates)."""
    ts = cr.logistic_location(MIX).theta_star
    for gamma in (0.0, 3.0):
        th0 = ts + 2.0
        out = lg.run_logistic(TEST_SEED, n=20_000, synthetic_ratio=0.5, correction_strength=gamma,
                              generations=1, replicates=200, data_law=MIX, theta0=th0)
        ref = cr.logistic_location_map(th0, MIX, 0.5, gamma)
        x = out.theta[:, 1]
        se = x.std(ddof=1) / np.sqrt(x.size)
        assert abs(x.mean() - ref) <= Z * se, (gamma, x.mean(), ref, se)
        assert np.all(out.theta[:, 0] == th0)


def test_weights_follow_the_corrector_convention():
    """γ = ∞ draws every synthetic point from p_θ*; the model weight 1/(1+γ) drives the
    slope: θ₁ − θ* from θ₀ = θ* + 3 at N(0,1) data (θ* = 0) shrinks as γ grows."""
    law = GaussianLaw([0.0], [[1.0]])
    means = []
    for gamma in (0.0, 1.0, float("inf")):
        out = lg.run_logistic(TEST_SEED, n=200, synthetic_ratio=1.0, correction_strength=gamma,
                              generations=1, replicates=200, data_law=law, theta0=3.0)
        means.append(out.theta[:, 1].mean())
    # the map's values 2.0, 1.0, 0.0 (to 0.1) are many SE (≈ 0.01) apart
    ref = [cr.logistic_location_map(3.0, law, 1.0, g) for g in (0.0, 1.0, float("inf"))]
    assert ref[0] - ref[1] > 0.3 and ref[1] - ref[2] > 0.3
    assert means[0] > means[1] > means[2]


def test_shapes_dtypes_and_one_trace_per_shape():
    kw = dict(n=30, synthetic_ratio=0.4, generations=4, replicates=6, data_law=MIX)
    out = lg.run_logistic(1, correction_strength=0.5, **kw)
    before = lg.trace_count()
    out2 = lg.run_logistic(jax.random.key(2), correction_strength=3.0, target=0.3, **kw)
    assert lg.trace_count() == before  # γ, target and key are traced values
    for o in (out, out2):
        assert o.theta.shape == o.residual.shape == o.last_step.shape == (6, 5)
        assert o.theta.dtype == np.float64
    lg.run_logistic(1, correction_strength=0.5, **{**kw, "generations": 5})
    assert lg.trace_count() == before + 1
    steps = lg.one_step(3, [0.0, 1.0], n=30, synthetic_ratio=0.4, correction_strength=1.0,
                        replicates=5, data_law=MIX)
    assert steps.shape == (5, 2) and steps.dtype == np.float64
    same = lg.run_logistic(3, n=30, synthetic_ratio=0.4, correction_strength=1.0,
                           generations=1, replicates=5, data_law=MIX, theta0=1.0)
    np.testing.assert_array_equal(steps[:, 1], same.theta[:, 1])


def test_theta0_is_reported_and_draws_do_not_depend_on_it():
    kw = dict(n=30, synthetic_ratio=0.4, correction_strength=1.0, generations=0, replicates=4,
              data_law=MIX)
    out = lg.run_logistic(0, theta0=1.5, **kw)
    assert np.all(out.theta[:, 0] == 1.5) and np.all(np.isnan(out.residual[:, 0]))


@pytest.mark.parametrize("bad", [dict(n=0), dict(synthetic_ratio=-1.0), dict(generations=-1),
                                 dict(data="fresh"), dict(correction_strength=-1.0)])
def test_rejects_bad_arguments(bad):
    kw = dict(n=10, synthetic_ratio=0.5, correction_strength=1.0, generations=2, replicates=2,
              data_law=MIX)
    with pytest.raises(ValueError):
        lg.run_logistic(0, **{**kw, **bad})
