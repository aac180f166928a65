"""Point-wise correctors inside the samples engine (``LoopSpec.corrector``).

Exact identities use tolerances from float64 rounding. The Monte Carlo comparisons are
two-sided z-tests at false-failure probability 1e-6 each (|z| ≤ Z); seeds are fixed.
"""

import math

import numpy as np
import pytest
from scipy import stats

import theory  # noqa: F401  (float64)
from simulations import LoopSpec, run
from simulations.correctors import CentroidCorrector, HistogramCorrector, IdealCorrector
from tests.helpers import assert_equal_to_rounding

Z = float(stats.norm.isf(1e-6 / 2))
TRUTH = ([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]])
# One loop shape for the engine tests below (γ is traced: each corrector compiles once).
N_REAL, N_SYN, REPS = 20, 10, 4000
SHAPE = dict(dim=2, n_real=N_REAL, synthetic_ratio=N_SYN / N_REAL, data="mix", generations=2,
             replicates=REPS, truth=TRUTH)


def test_spec_accepts_names_dicts_and_instances():
    base = dict(dim=2, n_real=20, correction_strength=1.0, truth=TRUTH)
    assert LoopSpec(**base).corrector == "ideal"
    assert LoopSpec(**base, corrector=IdealCorrector()).corrector == "ideal"
    assert LoopSpec(**base, corrector="histogram").corrector == HistogramCorrector()
    spec = LoopSpec(**base, corrector={"name": "histogram", "bins": 7})
    assert spec.corrector == HistogramCorrector(bins=7)
    assert spec.practical_corrector == HistogramCorrector(bins=7)
    assert spec.to_dict()["corrector"] == {"name": "histogram", "bins": 7}
    again = LoopSpec(**{**spec.to_dict(), "truth": spec.truth, "reward": None})
    assert again == spec and hash(again) == hash(spec)


@pytest.mark.parametrize("changes, match", [
    ({"corrector": "magic"}, "corrector must be one of"),
    ({"corrector": {"bins": 3}}, "needs a 'name'"),
    ({"corrector": {"name": "histogram", "colour": 3}}, "bad configuration"),
    ({"corrector": {"name": "histogram", "bins": 0}}, "bins"),
    ({"corrector": "histogram", "correction_split": "deterministic"}, "ideal corrector only"),
    ({"corrector": "histogram", "model": "gmm", "components": 2}, "Gaussian models only"),
    ({"corrector": "histogram", "correction_strength": 0.0, "curation_k": 2,
      "reward": {"kind": "linear", "direction": [1.0, 0.0]}}, "curation"),
    ({"corrector": {"name": "centroid", "num_centroids": 21}}, "num_centroids=21"),
])
def test_spec_rejects_bad_correctors(changes, match):
    base = dict(dim=2, n_real=20, correction_strength=1.0)
    with pytest.raises(ValueError, match=match):
        LoopSpec(**{**base, **changes})


def test_corrector_type_error():
    with pytest.raises(TypeError, match="corrector"):
        LoopSpec(corrector=3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ot", "centroid"])
def test_identity_at_gamma_zero(name):
    """OT displacement (x ← 0·y + x) and the centroid snap (probability 0) are the identity at
    γ = 0, and the synthetic draws use the same key as the uncorrected loop: equal paths."""
    spec = LoopSpec(**SHAPE, corrector={"name": name, **(
        {"num_centroids": 4} if name == "centroid" else {})})
    plain = run(spec.replace(corrector="ideal"), seed=3)
    corrected = run(spec, seed=3)
    np.testing.assert_allclose(corrected.means, plain.means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(corrected.covs, plain.covs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["histogram",
                                  pytest.param("histogram_authors", marks=pytest.mark.slow), "ot"])
def test_full_strength_corrector_refits_on_target_draws(name):
    """At γ = ∞ these correctors return m fresh draws of p_θ* in some order (histogram: every
    point from the target; the authors' sampler: f = φ and M = 1 accept every proposal; OT: a
    permutation of the target draws). A mix generation t ≥ 1 then fits the fixed real points
    and m i.i.d. target draws — N = n + m i.i.d. N(μ*, Σ*) points — so, exactly,
    E‖μ_t − μ*‖² = tr Σ*/N and E tr Σ_t = (N − 1) tr Σ*/N (MLE)."""
    n, m, reps = N_REAL, N_SYN, REPS
    spec = LoopSpec(**SHAPE, correction_strength=math.inf, corrector=name)
    traj = run(spec, seed=11)
    big = n + m
    tr = float(np.trace(np.asarray(TRUTH[1])))
    err2 = np.asarray(traj.metric("mean_error2"))[:, -1]
    trace = np.trace(np.asarray(traj.covs)[:, -1], axis1=-2, axis2=-1)
    for values, predicted in ((err2, tr / big), (trace, (big - 1) * tr / big)):
        se = values.std(ddof=1) / math.sqrt(reps)
        assert abs(values.mean() - predicted) <= Z * se, (name, values.mean(), predicted, se)


def test_centroid_state_comes_from_each_replicates_real_points():
    """γ = ∞ snaps every synthetic point to one of the replicate's k-means centroids: with
    one centroid, the synthetic points all equal the real mean, so a mix generation's mean is
    the real mean exactly and its scatter is the real scatter (MLE over N points)."""
    n, m = 16, 8
    spec = LoopSpec(dim=2, n_real=n, synthetic_ratio=m / n, data="mix",
                    correction_strength=math.inf, generations=3, replicates=6, truth=TRUTH,
                    corrector=CentroidCorrector(num_centroids=1, iterations=3))
    traj = run(spec, seed=5)
    means, covs = np.asarray(traj.means), np.asarray(traj.covs)
    np.testing.assert_allclose(means[:, 1:], np.repeat(means[:, :1], 3, axis=1), rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(covs[:, 1:], np.repeat(covs[:, :1] * n / (n + m), 3, axis=1),
                               rtol=1e-12, atol=1e-14)


def test_histogram_is_applied_even_at_gamma_zero():
    """The histogram resampler is not the identity at γ = 0 (it resamples the histogram), so
    the corrected path leaves the uncorrected one after generation 0 (same real points)."""
    spec = LoopSpec(**SHAPE, corrector="histogram")
    plain = run(spec.replace(corrector="ideal"), seed=3)
    corrected = run(spec, seed=3)
    # the corrector is static, so these are two compiled programs: generation 0 (the fit of
    # the same n real points) agrees to the rounding of one sum of n points, a few ulps
    assert_equal_to_rounding(corrected.means[:, 0], plain.means[:, 0], ulps=16)
    assert np.all(np.abs(corrected.means[:, 1:] - plain.means[:, 1:]) > 0)
