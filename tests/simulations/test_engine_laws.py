"""The engine with a non-Gaussian p_data (a misspecified Gaussian class) and the corrector's
deterministic split.

z-tests use z = Z_TEST (false-failure 1e-6 each); seeds are fixed.
"""

import numpy as np
import pytest

from simulations import LoopSpec, run
from tests.helpers import TEST_SEED, Z_TEST, assert_equal_to_rounding, assert_mean_close
from theory.laws import GaussianMixtureLaw, StudentTLaw

T5 = StudentTLaw(5.0, [1.0, -1.0], [[1.0, 0.3], [0.3, 0.5]])
MIX = GaussianMixtureLaw([0.4, 0.6], [[-2.0, 0.0], [1.5, 1.0]],
                         [np.eye(2), [[0.5, 0.1], [0.1, 0.3]]])


@pytest.mark.parametrize("law", [pytest.param(T5, marks=pytest.mark.slow), MIX],
                         ids=lambda v: v.kind)
def test_generation_zero_fit_has_the_moments_of_p_data(law):
    """μ₀ is the mean of n i.i.d. draws: E μ₀ = mean; the MLE Σ₀ has E Σ₀ = (n−1)/n · cov."""
    n, reps = 40, 20_000
    spec = LoopSpec(dim=2, n_real=n, data="mix", generations=0, replicates=reps, truth=law)
    traj = run(spec, seed=TEST_SEED)
    mean, cov = law.moments
    for i in range(2):
        assert_mean_close(traj.means[:, 0, i], mean[i], f"mean {i}")
        assert_mean_close(traj.covs[:, 0, i, i], (n - 1) / n * cov[i, i], f"var {i}")
    np.testing.assert_allclose(spec.truth_cov, cov)
    # the metrics measure the distance to θ* = (mean, cov), not to p_data itself
    w2 = traj.metric("w2_to_target")
    assert w2.shape == (reps, 1) and np.all(np.isfinite(w2))


@pytest.mark.slow
def test_population_map_for_a_misspecified_p_data():
    """One mix step with large n: μ₁ ≈ (n μ_real + m μ̂_syn)/(n + m); with γ = ∞ every synthetic
    point comes from N(θ*), so E μ₁ = mean and E Σ₁ = (N−1)/N cov (N = n + m), whatever the
    shape of p_data (reference notes §4.2: only p_data's first two moments enter)."""
    n, reps = 30, 20_000
    spec = LoopSpec(dim=2, n_real=n, synthetic_ratio=1.0, data="mix", generations=1,
                    replicates=reps, truth=T5, correction_strength=float("inf"))
    traj = run(spec, seed=TEST_SEED)
    mean, cov = T5.moments
    big_n = 2 * n
    assert_mean_close(traj.means[:, 1, 0], mean[0], "mean")
    assert_mean_close(traj.covs[:, 1, 1, 1], (big_n - 1) / big_n * cov[1, 1], "var")


def test_deterministic_split_counts():
    """γ = ∞: both splits send every synthetic point to the target, with the same draws, so
    the runs are equal to rounding; an unknown split name is refused.

    The split is static: the two runs are different compiled programs (a uniform draw and a
    comparison with γ/(1+γ) against an index comparison), fused differently, and they have
    differed by an ulp on some machines. At γ = ∞ no generation feeds the next (every
    synthetic point is a target draw), so they differ by the rounding of one fit of
    N = 40 points: a few ulps per sum. 16 ε of the largest entry allows that and is 10¹³
    times below the O(1/N) shift of one point sent to the model instead of the target."""
    base = LoopSpec(dim=1, n_real=20, synthetic_ratio=1.0, data="mix", generations=3,
                    replicates=8, correction_strength=float("inf"))
    a = run(base, seed=5)
    b = run(base.replace(correction_split="deterministic"), seed=5)
    assert_equal_to_rounding(b.means, a.means, ulps=16, err_msg="means")
    assert_equal_to_rounding(b.covs, a.covs, ulps=16, err_msg="covs")
    with pytest.raises(ValueError, match="correction_split"):
        base.replace(correction_split="half")


def test_deterministic_split_mean_step():
    """Mean-only 1-D, truth N(0, 1), n = 20, m = 20, γ = 1 (m₁ = 10 model, m₂ = 10 target):
    given μ₀, μ₁ = (20 x̄ + Σ_{10} N(μ₀, 1) + Σ_{10} N(0, 1))/40 with x̄ = μ₀ (the real mean
    is μ₀), so μ₁ − (30/40) μ₀ ~ N(0, 20/40²) exactly."""
    spec = LoopSpec(dim=1, n_real=20, synthetic_ratio=1.0, data="mix", model="gaussian_mean",
                    generations=1, replicates=40_000, correction_strength=1.0,
                    correction_split="deterministic")
    traj = run(spec, seed=TEST_SEED)
    resid = traj.means[:, 1, 0] - 0.75 * traj.means[:, 0, 0]
    assert_mean_close(resid, 0.0, "residual mean")
    var = resid.var(ddof=1)
    se = np.sqrt(2.0 / (resid.size - 1)) * (20 / 40**2)  # SE of a normal sample variance
    assert abs(var - 20 / 40**2) <= Z_TEST * se
