"""The engine against the closed forms, at configurations drawn at random (fixed seed).

Each configuration runs R replicates and compares replicate means with exact expectations;
every comparison uses z = Z_TEST (false-failure probability 1e-6 per comparison). Tails are
kept light by construction (t ≤ n/3 for replace, where the fourth moments of the compared
quantities are finite and moderate); heavy-tailed quantities are compared through log-moments.
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
    return [f"d{c['d']}-n{c['n']}-t{c['t']}-{c['estimator']}" for c in configs]


REPLACE = _configs("replace")


@pytest.mark.parametrize("c", REPLACE, ids=_ids(REPLACE))
def test_replace_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], data="replace", estimator=c["estimator"],
                    temperature=c["tau"], generations=c["t"], replicates=R, truth=c["truth"])
    traj = run(spec, seed=c["seed"])
    kw = dict(estimator=c["estimator"], temperature=c["tau"])
    tr0 = float(np.trace(c["truth"][1]))
    t = c["t"]
    assert_mean_close(traj.metric("mean_error2")[:, t],
                      replace_mean_error2(t, c["n"], tr0, **kw), "mean error")
    assert_mean_close(traj.metric("logdet_ratio")[:, t],
                      replace_logdet_mean(t, c["n"], c["d"], **kw), "E log det")


FRESH = _configs("fresh")


@pytest.mark.parametrize("c", FRESH, ids=_ids(FRESH))
def test_fresh_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], data="fresh",
                    estimator=c["estimator"], temperature=c["tau"], generations=c["t"],
                    replicates=R, truth=c["truth"])
    traj = run(spec, seed=c["seed"])
    tr0 = float(np.trace(c["truth"][1]))
    m_t, c_t = fresh_moments(c["t"], c["n"], spec.num_synthetic, tr0,
                             estimator=c["estimator"], temperature=c["tau"])
    assert_mean_close(traj.metric("mean_error2")[:, -1], float(np.ravel(m_t)[-1]), "M_t")
    assert_mean_close(traj.metric("trace_ratio")[:, -1] * tr0, float(np.ravel(c_t)[-1]), "C_t")


ACCUMULATE = _configs("accumulate")


@pytest.mark.parametrize("c", ACCUMULATE, ids=_ids(ACCUMULATE))
def test_accumulate_matches_theory(c):
    spec = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], data="accumulate",
                    estimator=c["estimator"], temperature=c["tau"], generations=c["t"],
                    replicates=R, truth=c["truth"])
    traj = run(spec, seed=c["seed"])
    kw = dict(n_synthetic=spec.num_synthetic, estimator=c["estimator"], temperature=c["tau"])
    tr0 = float(np.trace(c["truth"][1]))
    t = c["t"]
    assert_mean_close(traj.metric("trace_ratio")[:, t],
                      float(np.ravel(accumulate_cov_factor(t, c["n"], **kw))[-1]), "trace")
    assert_mean_close(traj.metric("mean_error2")[:, t],
                      float(np.ravel(accumulate_mean_error2(t, c["n"], tr0, **kw))[-1]),
                      "mean error")


KNOWN = _configs("known_cov")


@pytest.mark.parametrize("c", KNOWN, ids=_ids(KNOWN))
def test_known_covariance_mix_and_subsample_match_theory(c):
    tr0 = float(np.trace(c["truth"][1]))
    base = LoopSpec(dim=c["d"], n_real=c["n"], synthetic_ratio=c["lam"], model="gaussian_mean",
                    temperature=c["tau"], generations=c["t"], replicates=R, truth=c["truth"])
    mix = run(base.replace(data="mix"), seed=c["seed"])
    assert_mean_close(mix.metric("mean_error2")[:, -1],
                      mix_mean_error2_known_cov(c["t"], c["n"], tr0,
                                                n_synthetic=base.num_synthetic,
                                                temperature=c["tau"]), "mix")
    sub = run(base.replace(data="accumulate_subsample"), seed=c["seed"])
    exact = accumulate_subsample_mean_error2_known_cov(c["t"], c["n"], tr0,
                                                       n_synthetic=base.num_synthetic,
                                                       temperature=c["tau"])
    assert_mean_close(sub.metric("mean_error2")[:, -1], exact[-1], "subsample")
