"""The mixture engine: EM recovery (z-tests), equivariance, exact monotonicity, degenerate
cases, float32, and the loop's shapes and policies."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import theory  # noqa: F401  (float64)
from simulations.gmm_loop import (
    EM_GROUP,
    MixtureParams,
    compiled_runner,
    em_fit,
    hyper_of,
    kmeanspp_init,
    mixture_mean_loglik,
    run_gmm,
    static_of,
)
from simulations.sharding import replicate_keys
from simulations.spec import LoopSpec
from tests.helpers import TEST_SEED, Z_TEST
from theory.laws import GaussianMixtureLaw
from theory.mixtures import match_components, permute_components

W3 = np.array([0.2, 0.3, 0.5])
MU3 = np.array([[-6.0, 0.0], [6.0, 0.0], [0.0, 7.0]])
COV3 = np.array([[[1.0, 0.3], [0.3, 0.8]], [[0.6, 0.0], [0.0, 1.2]], np.eye(2)])
TRUTH3 = GaussianMixtureLaw(W3, MU3, COV3)


@jax.jit
def _fit_from_seed(key, x):
    params0 = kmeanspp_init(key, x, 3, 1e-6)
    return em_fit(x, params0, iterations=200, tol=1e-10, floor=1e-6)


@pytest.fixture(scope="module")
def recovered():
    """R = 200 independent data sets of n = 5000 from TRUTH3, each fitted by EM."""
    r, n = 200, 5000
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(TEST_SEED), i))(jnp.arange(r))
    xs = jax.vmap(lambda k: TRUTH3.sample(k, n))(keys)
    params, info = jax.vmap(_fit_from_seed)(jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys),
                                            xs)
    perm = match_components(np.asarray(params.means), MU3)
    w, mu, cv = permute_components(perm, params.weights, params.means, params.covs)
    return n, w, mu, cv, info


def test_em_recovers_means_and_weights_unbiased(recovered):
    """Each parameter's replicate mean equals the truth within Z_TEST·SE (1e-6 per
    comparison): with components ~12σ apart the MLE is the per-component sample mean and
    proportion up to an overlap bias below 1e-20."""
    n, w, mu, cv, info = recovered
    assert np.all(np.asarray(info.iterations) < 200)  # converged within the budget
    for est, true in ((w, W3), (mu, MU3), (cv, COV3)):
        err = est - true
        mean, se = err.mean(0), err.std(0, ddof=1) / np.sqrt(err.shape[0])
        assert np.all(np.abs(mean) <= Z_TEST * se), (mean, se)


def test_em_replicate_variance_matches_asymptotic_se(recovered):
    """Var(ŵ_j) = w_j(1 − w_j)/n and Var(μ̂_j,k) = Σ_j,kk/(n w_j) (separated components).
    The replicate variance over R has (R − 1)s²/σ² ~ χ²_{R−1} (normal estimates); the
    two-sided 1e-6 χ² interval is the tolerance."""
    n, w, mu, _, _ = recovered
    r = w.shape[0]
    lo, hi = stats.chi2.ppf([0.5e-6, 1 - 0.5e-6], r - 1) / (r - 1)
    ratio_w = w.var(0, ddof=1) / (W3 * (1 - W3) / n)
    ratio_mu = mu.var(0, ddof=1) / (np.diagonal(COV3, axis1=1, axis2=2) / (n * W3[:, None]))
    for ratio in (ratio_w, ratio_mu.ravel()):
        assert np.all((lo <= ratio) & (ratio <= hi)), (ratio, lo, hi)


def _data(seed=3, n=600):
    return TRUTH3.sample(jax.random.key(seed), n)


@pytest.mark.slow
def test_em_is_equivariant_under_component_permutation():
    x = _data()
    p0 = kmeanspp_init(jax.random.key(5), x, 3, 1e-6)
    perm = np.array([2, 0, 1])
    p0_perm = MixtureParams(*(a[perm] for a in p0))
    fit = _em(x, p0, 50, -jnp.inf)[0]
    fit_perm = _em(x, p0_perm, 50, -jnp.inf)[0]
    for a, b in zip(fit, fit_perm, strict=True):
        np.testing.assert_allclose(np.asarray(a)[perm], b, rtol=1e-10, atol=1e-12)


@jax.jit
def _em(x, p0, iterations, tol, floor=1e-6):
    return em_fit(x, p0, iterations=iterations, tol=tol, floor=floor)


@pytest.mark.parametrize("floor", [1e-6, 0.9])
def test_em_never_decreases_the_likelihood(floor):
    """EM (with the eigenvalue floor, itself an exact constrained M-step) is monotone:
    ℓ(θ_{k+1}) ≥ ℓ(θ_k) up to float64 rounding of a mean of 600 log-densities (1e-12)."""
    x = _data()
    p0 = kmeanspp_init(jax.random.key(7), x, 3, floor)
    lls = [float(mixture_mean_loglik(x, p0))]
    params = p0
    for _ in range(25):
        params, info = _em(x, params, 1, -jnp.inf, floor)
        lls.append(float(info.loglik))
    diffs = np.diff(lls)
    assert np.all(diffs >= -1e-12), diffs
    assert lls[-1] > lls[0]
    # EMInfo.start_loglik is the likelihood at the starting fit itself (before any M-step)
    _, info = _em(x, p0, 5, -jnp.inf, floor)
    assert abs(float(info.start_loglik) - lls[0]) <= 1e-12
    assert abs(diffs[0]) > 1e-6  # so a likelihood taken after the first M-step would fail


def test_weights_only_em_is_monotone_and_keeps_components():
    x = _data()
    p0 = kmeanspp_init(jax.random.key(7), x, 3, 1e-6)
    fit = jax.jit(lambda x, p: em_fit(x, p, iterations=30, tol=-jnp.inf, floor=1e-6,
                                      covariance="weights"))
    params, info = fit(x, p0)
    # exact: covariance="weights" carries means and covariances through unchanged
    np.testing.assert_array_equal(params.means, p0.means)
    np.testing.assert_array_equal(params.covs, p0.covs)
    assert float(info.loglik) >= float(mixture_mean_loglik(x, p0)) - 1e-12


def test_degenerate_component_is_floored_and_empty_component_is_kept():
    """Three identical points for one component (zero scatter) and a component far from all
    data (zero responsibility): no NaN, the floor applies, the empty component keeps its
    parameters and the count records both."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(np.concatenate([rng.normal(size=(50, 2)), np.full((3, 2), 8.0)]))
    p0 = MixtureParams(jnp.full(3, 1 / 3), jnp.array([[0.0, 0.0], [8.0, 8.0], [1e3, 1e3]]),
                       jnp.broadcast_to(jnp.eye(2) * 0.5, (3, 2, 2)))
    params, info = _em(x, p0, 20, -jnp.inf, 1e-4)
    assert all(np.all(np.isfinite(np.asarray(a))) for a in params)
    assert int(info.floored) == 2
    np.testing.assert_allclose(np.linalg.eigvalsh(np.asarray(params.covs[1])), 1e-4,
                               rtol=1e-9)
    np.testing.assert_array_equal(params.means[2], p0.means[2])
    assert float(params.weights[2]) < 1e-100


SMALL = dict(dim=2, n_real=30, model="gmm", components=3, data="replace", generations=15,
             replicates=12, truth=TRUTH3, covariance_floor=1e-3, em_iterations=30)


@pytest.fixture(scope="module")
def small_run():
    return run_gmm(LoopSpec(**SMALL), seed=TEST_SEED)


def test_loop_shapes_finite_and_deterministic(small_run):
    tr = small_run
    assert tr.weights.shape == (12, 16, 3)
    assert tr.means.shape == (12, 16, 3, 2) and tr.covs.shape == (12, 16, 3, 2, 2)
    assert tr.floored.shape == tr.em_iterations.shape == tr.loglik.shape == (12, 16)
    assert all(np.all(np.isfinite(a)) for a in (tr.weights, tr.means, tr.covs, tr.loglik))
    np.testing.assert_allclose(tr.weights.sum(-1), 1.0, rtol=1e-12)
    eig = np.linalg.eigvalsh(tr.covs)
    assert eig.min() >= 1e-3 * (1 - 1e-9)  # the floor holds everywhere
    again = run_gmm(LoopSpec(**SMALL), seed=TEST_SEED)
    # bitwise: the same compiled program on the same inputs (determinism)
    np.testing.assert_array_equal(again.means, tr.means)


def test_warm_started_em_never_lowers_the_likelihood_in_the_loop(small_run):
    """Every generation's EM ends at a likelihood (of that generation's data) no lower than
    its starting fit's: the warm start θ_{t−1} at t ≥ 1, the seeding at t = 0. The loop
    collapses (floored and empty components), so this covers the degenerate M-steps too;
    1e-12 is float64 rounding of a mean of 30 log-densities."""
    tr = small_run
    assert tr.loglik_start.shape == tr.loglik.shape
    assert np.all(np.isfinite(tr.loglik_start))
    assert np.all(tr.loglik - tr.loglik_start >= -1e-12), (tr.loglik - tr.loglik_start).min()
    assert np.any(tr.loglik - tr.loglik_start > 1e-3)  # EM moved


def test_results_do_not_depend_on_batch_size(small_run):
    """Replicate r is computed the same way whatever the batch it runs in (groups of
    EM_GROUP replicates; the last batch padded with discarded keys), and whatever replicates
    share its group: the compiled runner on keys shifted by half a group gives the same
    values for the replicates both calls hold."""
    assert EM_GROUP < 12
    tr = run_gmm(LoopSpec(**SMALL), seed=TEST_SEED, batch_size=EM_GROUP)
    fields = ("weights", "means", "covs", "em_iterations", "loglik", "loglik_start")
    for name in fields:
        # bitwise: replicates run in fixed groups of EM_GROUP, by design, so every batch size runs
        # the same group program on the same keys
        np.testing.assert_array_equal(getattr(tr, name), getattr(small_run, name), name)
    spec = LoopSpec(**SMALL)
    runner = compiled_runner(static_of(spec))
    shift = EM_GROUP // 2
    params, em = runner(replicate_keys(TEST_SEED, EM_GROUP, shift), hyper_of(spec))
    got = {"weights": params.weights, "means": params.means, "covs": params.covs,
           "em_iterations": em.iterations, "loglik": em.loglik, "loglik_start": em.start_loglik}
    for name in fields:
        np.testing.assert_array_equal(np.asarray(got[name]),
                                      getattr(small_run, name)[shift:shift + EM_GROUP], name)


def test_small_replace_loop_records_collapse(small_run):
    """n = 30 points for 3 components under replace: over 15 generations some component
    loses its points or its covariance hits the floor in at least one replicate."""
    assert small_run.floored.sum() > 0
    l2 = small_run.metric("l2sq_to_initial")
    assert np.all(l2[:, 0] == 0.0) and np.all(l2 >= 0)


@pytest.mark.slow
def test_float32_loop_runs():
    spec = LoopSpec(**{**SMALL, "dtype": "float32", "generations": 3, "replicates": 4})
    tr = run_gmm(spec, seed=TEST_SEED)
    assert tr.means.dtype == np.float32
    assert all(np.all(np.isfinite(a)) for a in (tr.weights, tr.means, tr.covs))


@pytest.mark.parametrize("bad, match", [
    (dict(estimator="unbiased"), "estimator"),
    (dict(components=40), "components"),
])
def test_refuses_what_it_cannot_run(bad, match):
    with pytest.raises(ValueError, match=match):
        run_gmm(LoopSpec(**{**SMALL, **bad}), seed=0)
    with pytest.raises(ValueError, match="model"):
        run_gmm(LoopSpec(dim=2), seed=0)
