"""The engine against the closed forms, at configurations drawn at random (fixed seed).

Each configuration runs R replicates and compares replicate means with exact expectations;
every comparison uses z = Z_TEST (false-failure probability 1e-6 per comparison). Tails are
kept light by construction (t ≤ n/3 for replace, where the fourth moments of the compared
quantities are finite and moderate); heavy-tailed quantities are compared through log-moments.

The float32 subset reruns one configuration of each test in single precision. Its comparisons
add a rounding bound to z·SE (:func:`_rounding`): each fit sums N points of scale s, with
relative error at most (N + d)·ε (the naive summation bound; XLA's pairwise reductions do
better), the errors of t + 1 successive fits add to first order, and a squared error or a
log-determinant doubles or d-folds the relative error of its factors. Against the Monte Carlo
SE (≈ 1e-3 relative) the bound is small, so the float32 tests are as sharp as the float64 ones.
"""

import numpy as np
import pytest

from simulations import LoopSpec, run
from tests.helpers import TEST_SEED, assert_mean_close
from theory import (
    accumulate_cov_factor,
    accumulate_mean_error2,
    accumulate_subsample_mean_error2_known_cov,
    fresh_moments,
    mix_mean_error2_known_cov,
    replace_logdet_mean,
    replace_mean_error2,
)

R = 20_000


def _random_truth(rng, d):
    a = rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T / d + 0.5 * np.eye(d)


def _configs(policy, count=2):
    rng = np.random.default_rng([TEST_SEED, len(policy)])
    out = []
    for _ in range(count):
        d = int(rng.integers(1, 4))
        n = int(rng.integers(d + 6, 40))
        out.append(dict(
            d=d, n=n, t=int(rng.integers(1, max(2, n // 3))),
            estimator=str(rng.choice(["mle", "unbiased"])),
            tau=float(rng.uniform(0.7, 1.2)), lam=float(rng.choice([0.5, 1.0, 2.0])),
            truth=_random_truth(rng, d), seed=int(rng.integers(2**31)),
        ))
    return out


def _ids(configs):
    return [f"d{c['d']}-n{c['n']}-t{c['t']}-{c['estimator']}-{c.get('dtype', 'float64')}"
            for c in configs]


def _with_float32(configs):
    """The configurations, plus the first one again in float32."""
    return configs + [{**configs[0], "dtype": "float32"}]


def _params(configs, slow=()):
    """The configurations as pytest parameters; those at the indices in ``slow`` go to the slow
    tier (each compiles a program of its own for several seconds on a 2-core CPU)."""
    return [pytest.param(c, id=i, marks=pytest.mark.slow if k in slow else ())
            for k, (c, i) in enumerate(zip(configs, _ids(configs), strict=True))]


def _rounding(c, points, scale, factor=2):
    """Bound on the rounding bias: factor·(t + 1)·(N + d)·ε·scale (module docstring)."""
    eps = float(np.finfo(c.get("dtype", "float64")).eps)
    return factor * (c["t"] + 1) * (points + c["d"]) * eps * scale


def _scale2(c):
    """Scale of a squared mean error's factors: ‖μ*‖² + tr Σ*."""
    return float(np.sum(np.square(c["truth"][0])) + np.trace(c["truth"][1]))


REPLACE = _with_float32(_configs("replace"))


@pytest.mark.parametrize("c", REPLACE, ids=_ids(REPLACE))
def test_replace_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], data="replace", estimator=c["estimator"],
                    temperature=c["tau"], generations=c["t"], replicates=R, truth=c["truth"],
                    dtype=c.get("dtype", "float64"))
    traj = run(spec, seed=c["seed"])
    kw = dict(estimator=c["estimator"], temperature=c["tau"])
    tr0 = float(np.trace(c["truth"][1]))
    t = c["t"]
    assert_mean_close(traj.metric("mean_error2")[:, t],
                      replace_mean_error2(t, c["n"], tr0, **kw), "mean error",
                      rounding=_rounding(c, c["n"], _scale2(c)))
    assert_mean_close(traj.metric("logdet_ratio")[:, t],
                      replace_logdet_mean(t, c["n"], c["d"], **kw), "E log det",
                      rounding=_rounding(c, c["n"], 1.0, factor=2 * c["d"]))


FRESH = _with_float32(_configs("fresh"))


@pytest.mark.parametrize("c", FRESH, ids=_ids(FRESH))
def test_fresh_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], data="fresh",
                    estimator=c["estimator"], temperature=c["tau"], generations=c["t"],
                    replicates=R, truth=c["truth"], dtype=c.get("dtype", "float64"))
    traj = run(spec, seed=c["seed"])
    tr0 = float(np.trace(c["truth"][1]))
    m_t, c_t = fresh_moments(c["t"], c["n"], spec.num_synthetic, tr0,
                             estimator=c["estimator"], temperature=c["tau"])
    big = c["n"] + spec.num_synthetic
    assert_mean_close(traj.metric("mean_error2")[:, -1], float(np.ravel(m_t)[-1]), "M_t",
                      rounding=_rounding(c, big, _scale2(c)))
    assert_mean_close(traj.metric("trace_ratio")[:, -1] * tr0, float(np.ravel(c_t)[-1]), "C_t",
                      rounding=_rounding(c, big, _scale2(c)))


ACCUMULATE = _with_float32(_configs("accumulate"))


@pytest.mark.parametrize("c", _params(ACCUMULATE, slow=[1]))
def test_accumulate_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], data="accumulate",
                    estimator=c["estimator"], temperature=c["tau"], generations=c["t"],
                    replicates=R, truth=c["truth"], dtype=c.get("dtype", "float64"))
    traj = run(spec, seed=c["seed"])
    kw = dict(n_synthetic=spec.num_synthetic, estimator=c["estimator"], temperature=c["tau"])
    tr0 = float(np.trace(c["truth"][1]))
    t = c["t"]
    pool = spec.pool_size
    assert_mean_close(traj.metric("trace_ratio")[:, t],
                      float(np.ravel(accumulate_cov_factor(t, c["n"], **kw))[-1]), "trace",
                      rounding=_rounding(c, pool, _scale2(c) / tr0))
    assert_mean_close(traj.metric("mean_error2")[:, t],
                      float(np.ravel(accumulate_mean_error2(t, c["n"], tr0, **kw))[-1]),
                      "mean error", rounding=_rounding(c, pool, _scale2(c)))


KNOWN = _with_float32(_configs("known_cov"))


@pytest.mark.parametrize("c", _params(KNOWN, slow=[0, 1]))
def test_known_covariance_mix_and_subsample_match_theory(c):
    tr0 = float(np.trace(c["truth"][1]))
    base = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], model="gaussian_mean",
                    temperature=c["tau"], generations=c["t"], replicates=R, truth=c["truth"],
                    dtype=c.get("dtype", "float64"))
    mix = run(base.replace(data="mix"), seed=c["seed"])
    big = c["n"] + base.num_synthetic
    assert_mean_close(mix.metric("mean_error2")[:, -1],
                      mix_mean_error2_known_cov(c["t"], c["n"], tr0,
                                                n_synthetic=base.num_synthetic,
                                                temperature=c["tau"]), "mix",
                      rounding=_rounding(c, big, _scale2(c)))
    sub = run(base.replace(data="accumulate_subsample"), seed=c["seed"])
    exact = accumulate_subsample_mean_error2_known_cov(c["t"], c["n"], tr0,
                                                       n_synthetic=base.num_synthetic,
                                                       temperature=c["tau"])
    assert_mean_close(sub.metric("mean_error2")[:, -1], exact[-1], "subsample",
                      rounding=_rounding(c, base.pool_size, _scale2(c)))
