"""EM restarts (``em_restarts``), Lloyd iterations (``kmeans_iterations``) and re-initialised
EM (``em_init="reinit"``) of the mixture engine: validation, the default path unchanged bit for
bit, restarts never lowering the likelihood, and the re-initialised loop."""

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import theory  # noqa: F401  (float64)
from simulations import gmm_loop
from simulations.gmm_loop import (
    em_fit,
    kmeanspp_init,
    lloyd_start,
    multistart_fit,
    run_gmm,
)
from simulations.spec import LoopSpec
from tests.helpers import TEST_SEED
from tests.simulations.test_gmm import SMALL
from theory.laws import GaussianMixtureLaw
from theory.rewards import LinearReward

# Small loops covering every preparation path of the default engine (replace, mix, fresh,
# accumulate, accumulate_subsample; full, diag, weights; curation K = 3 and K = inf; the ideal
# corrector). Their arrays at seed 11 were saved by the engine of commit 1adfaee, before the
# fields em_restarts, kmeans_iterations and em_init existed (data/gmm_default_path.npz).
_BASE = dict(SMALL, generations=4, replicates=9)
BASELINE_SPECS = {
    "replace_full": _BASE,
    "mix_diag": dict(_BASE, data="mix", synthetic_ratio=0.5, gmm_covariance="diag"),
    "fresh_corrected": dict(_BASE, data="fresh", correction_strength=1.0),
    "accumulate": dict(_BASE, data="accumulate", synthetic_ratio=0.5),
    "subsample": dict(_BASE, data="accumulate_subsample", synthetic_ratio=0.5),
    "weights_curated": dict(_BASE, data="mix", gmm_covariance="weights", curation_k=3,
                            reward=LinearReward(np.array([0.3, -0.2]), 0.0)),
    "tilt": dict(_BASE, curation_k=math.inf, reward=LinearReward(np.array([0.3, -0.2]), 0.0)),
}
_FIELDS = ("weights", "means", "covs", "floored", "em_iterations", "loglik", "loglik_start")
_BASELINE = Path(__file__).parent / "data" / "gmm_default_path.npz"

# Six classes on a line, 5 sd apart: a single k-means++ seeding (equal weights, the data's
# covariance) often leaves EM with two components on one class.
SIX = GaussianMixtureLaw(np.full(6, 1 / 6), np.stack([np.arange(6) * 5.0, np.zeros(6)], 1),
                         np.tile(np.eye(2), (6, 1, 1)))


def test_defaults_and_validation():
    spec = LoopSpec(model="gmm", components=2, dim=2)
    assert (spec.em_restarts, spec.kmeans_iterations, spec.em_init) == (1, 0, "warm")
    assert spec.to_dict()["em_init"] == "warm"
    for bad, err in ((dict(em_restarts=0), ValueError), (dict(em_restarts=1.5), TypeError),
                     (dict(em_restarts=True), TypeError), (dict(kmeans_iterations=-1), ValueError),
                     (dict(em_init="cold"), ValueError), (dict(em_init=None), ValueError)):
        with pytest.raises(err, match=next(iter(bad))):
            LoopSpec(model="gmm", components=2, dim=2, **bad)
    for field, value in (("em_restarts", 2), ("kmeans_iterations", 3), ("em_init", "reinit")):
        with pytest.raises(ValueError, match="needs model='gmm'"):
            LoopSpec(dim=2, **{field: value})
    with pytest.raises(ValueError, match="weights"):
        LoopSpec(model="gmm", components=2, dim=2, gmm_covariance="weights", em_init="reinit")
    with pytest.raises(ValueError, match="reinit"):
        run_gmm(LoopSpec(**{**SMALL, "em_init": "reinit", "n_synthetic": 2}), seed=0)


# three paths in the default tier (plain, curated weights-only, subsample); the others compile
# programs of their own and run in the slow tier
_DEFAULT_TIER = ("replace_full", "subsample", "weights_curated")


@pytest.mark.parametrize("name", [n if n in _DEFAULT_TIER else
                                  pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(BASELINE_SPECS)])
def test_default_path_is_unchanged(name):
    """The defaults (em_restarts = 1, kmeans_iterations = 0, em_init = "warm") give the arrays
    that the engine gave before these fields existed (same keys, same program): bit for bit on
    the machine that saved them (checked when the fields were added); here to 1e-10 relative,
    so that another CPU's rounding in XLA's kernels does not fail the test, while any change
    of keys or of the program (differences of order one) still does."""
    ref = np.load(_BASELINE)
    tr = run_gmm(LoopSpec(**BASELINE_SPECS[name]), seed=11)
    for f in _FIELDS:
        got, want = np.asarray(getattr(tr, f)), ref[f"{name}.{f}"]
        if f in ("floored", "em_iterations"):  # counts and flags: equal
            np.testing.assert_array_equal(got, want, f"{name}.{f}")
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name}.{f}")


@jax.jit
def _fits(keys, xs):
    def fit(key, x, restarts, lloyd):
        return multistart_fit(key, x, 6, restarts=restarts, lloyd=lloyd, iterations=300,
                              tol=1e-10, floor=1e-6)

    out = {}
    for restarts, lloyd in ((1, 0), (6, 0), (1, 10), (6, 10)):
        out[restarts, lloyd] = jax.vmap(lambda k, x, r=restarts, l=lloyd: fit(k, x, r, l))(
            keys, xs)
    single = jax.vmap(lambda k, x: em_fit(x, kmeanspp_init(k, x, 6, 1e-6), iterations=300,
                                          tol=1e-10, floor=1e-6))(keys, xs)
    return out, single


def test_restarts_never_lower_the_likelihood():
    """On 40 data sets of the six-class line: restarts = 1 is the single-start EM of before
    (bit for bit), the best of 6 starts (start 0 being that single start) never has a lower
    mean log-likelihood (1e-12: rounding of start 0 computed inside a vmap over starts),
    raises it on some data sets, and with Lloyd iterations too."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(TEST_SEED), i))(jnp.arange(40))
    xs = jax.vmap(lambda k: SIX.sample(jax.random.fold_in(k, 1), 240))(keys)
    out, single = _fits(keys, xs)
    np.testing.assert_array_equal(np.asarray(out[1, 0][1].loglik), np.asarray(single[1].loglik))
    for lloyd in (0, 10):
        one, best = np.asarray(out[1, lloyd][1].loglik), np.asarray(out[6, lloyd][1].loglik)
        assert np.all(best - one >= -1e-12), (best - one).min()
        if lloyd == 0:
            assert np.sum(best - one > 1e-3) >= 5, np.sum(best - one > 1e-3)
        # the kept start's EM did not lower its own start's likelihood
        info = out[6, lloyd][1]
        assert np.all(np.asarray(info.loglik - info.start_loglik) >= -1e-12)


def test_lloyd_start_is_kmeans_fixed_point():
    """After enough Lloyd iterations on well-separated blobs the start's means are the blob
    averages, its weights the blob fractions and its covariances the blobs' scatter."""
    law = GaussianMixtureLaw(np.array([0.25, 0.75]), np.array([[-10.0, 0.0], [10.0, 0.0]]),
                             np.tile(np.eye(2), (2, 1, 1)))
    x = law.sample(jax.random.key(TEST_SEED), 400)
    start = lloyd_start(x, kmeanspp_init(jax.random.key(3), x, 2, 1e-6), 20, 1e-6)
    xn = np.asarray(x)
    for j in range(2):
        blob = xn[(xn[:, 0] > 0) == (float(start.means[j, 0]) > 0)]
        np.testing.assert_allclose(start.means[j], blob.mean(0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(start.covs[j], np.cov(blob.T, bias=True), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(start.weights[j], len(blob) / len(xn), rtol=1e-12)
    p0 = kmeanspp_init(jax.random.key(3), x, 2, 1e-6)
    assert lloyd_start(x, p0, 0, 1e-6) is p0


REINIT = dict(SMALL, generations=6, replicates=8, em_init="reinit", em_restarts=2,
              kmeans_iterations=5)


def test_reinit_loop_runs_and_is_traced_once():
    """The re-initialised loop (restarts and Lloyd iterations) gives finite fits, every
    generation's EM ends no lower than its kept start, its generation 0 is the warm loop's
    with the same restarts (same seeding keys), its later generations differ, and the step
    is traced once per shape (a changed traced value, em_tol, compiles nothing new)."""
    before = gmm_loop.trace_count()
    tr = run_gmm(LoopSpec(**REINIT), seed=TEST_SEED)
    assert gmm_loop.trace_count() == before + 1
    again = run_gmm(LoopSpec(**{**REINIT, "em_tol": 1e-7}), seed=TEST_SEED)
    assert gmm_loop.trace_count() == before + 1
    assert again.means.shape == tr.means.shape
    assert all(np.all(np.isfinite(a)) for a in (tr.weights, tr.means, tr.covs, tr.loglik))
    assert np.all(tr.loglik - tr.loglik_start >= -1e-12)
    warm = run_gmm(LoopSpec(**{**REINIT, "em_init": "warm"}), seed=TEST_SEED)
    np.testing.assert_allclose(tr.loglik[:, 0], warm.loglik[:, 0], rtol=0, atol=1e-12)
    assert not np.allclose(tr.loglik[:, 1:], warm.loglik[:, 1:])
