"""Fuzz tests: any input to LoopSpec either builds a spec or raises ValueError/TypeError naming
a field; valid small specs run and return finite, correctly shaped results.

The validation fuzz draws 2,000 examples in CI (hypothesis "ci" profile, derandomized); the
run fuzz draws few examples by default (each new shape compiles) and many under ``-m slow``.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations import LoopSpec, run
from theory.rewards import LinearReward

FIELDS = {
    "dim": st.one_of(st.integers(-2, 4), st.just(10**6), st.floats(), st.text(max_size=2)),
    "n_real": st.one_of(st.integers(-3, 50), st.just(10**12), st.floats(allow_nan=True),
                        st.none()),
    "synthetic_ratio": st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                 st.integers(-2, 5), st.text(max_size=2)),
    "data": st.one_of(st.sampled_from(["replace", "mix", "fresh", "accumulate",
                                       "accumulate_subsample", "bogus", ""]), st.integers()),
    "model": st.sampled_from(["gaussian", "gaussian_mean", "gmm", "neural", None]),
    "estimator": st.sampled_from(["mle", "unbiased", "MLE", 3]),
    "temperature": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(True)),
    "correction_strength": st.floats(allow_nan=True, allow_infinity=True),
    "correction_split": st.sampled_from(["random", "deterministic", "half"]),
    "curation_k": st.one_of(st.integers(-1, 5), st.floats(allow_nan=True, allow_infinity=True)),
    "reward": st.one_of(st.none(), st.just(LinearReward([1.0])),
                        st.just(LinearReward([1.0, 2.0])), st.just("r")),
    "generations": st.one_of(st.integers(-1, 20), st.just(10**9)),
    "replicates": st.one_of(st.integers(-1, 4), st.floats()),
    "truth": st.one_of(
        st.none(),
        st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                  st.floats(allow_nan=True, allow_infinity=True)),
        st.tuples(st.lists(st.floats(-5, 5), min_size=1, max_size=3),
                  st.lists(st.lists(st.floats(-3, 3), min_size=1, max_size=3), min_size=1,
                           max_size=3)),
        st.just("gaussian"),
        st.just({"kind": "student_t", "df": 1.5, "loc": [0.0], "scale": [[1.0]]}),
    ),
    "n_synthetic": st.one_of(st.none(), st.integers(-1, 30), st.floats()),
    "dtype": st.sampled_from(["float64", "float32", "float16", 64]),
    "components": st.integers(0, 3),
    "covariance_floor": st.floats(allow_nan=True, allow_infinity=True),
}


@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_spec_validation_never_raises_anything_else(kwargs):
    try:
        spec = LoopSpec(**kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        names = set(kwargs) | {"n_synthetic", "synthetic_ratio", "n_real"}
        assert any(name in msg for name in names), (kwargs, msg)
        return
    # a valid spec is normalized and consistent
    assert spec.num_synthetic >= 0 and spec.truth.dim == spec.dim
    assert np.all(np.isfinite(spec.truth_cov)) and np.all(np.linalg.eigvalsh(spec.truth_cov) > 0)
    assert spec.to_dict()["dim"] == spec.dim


SMALL = st.fixed_dictionaries({
    "dim": st.sampled_from([1, 2]),
    "n_real": st.sampled_from([2, 5]),
    "synthetic_ratio": st.sampled_from([0.0, 1.0]),
    "data": st.sampled_from(["replace", "mix", "fresh", "accumulate", "accumulate_subsample"]),
    "model": st.sampled_from(["gaussian", "gaussian_mean"]),
    "estimator": st.sampled_from(["mle", "unbiased"]),
    "temperature": st.floats(1e-3, 1e3),
    "correction_strength": st.sampled_from([0.0, 0.3, math.inf]),
    "scale": st.floats(1e-6, 1e6),
    "dtype": st.sampled_from(["float64", "float32"]),
})


def _run_small(p):
    d = p.pop("dim")
    scale = p.pop("scale")
    try:
        spec = LoopSpec(dim=d, generations=3, replicates=2,
                        truth=(np.full(d, scale), scale**2 * np.eye(d)), **p)
    except ValueError as exc:  # e.g. n = 2 with synthetic_ratio 0 under "replace": documented
        assert "must" in str(exc)
        return
    traj = run(spec, seed=0)
    assert traj.means.shape == (2, 4, d) and traj.covs.shape == (2, 4, d, d)
    assert np.all(np.isfinite(traj.means)) and np.all(np.isfinite(traj.covs))
    w2 = traj.metric("w2_to_target")
    assert not np.any(np.isnan(w2))


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(SMALL)
def test_small_specs_run_finite(p):
    _run_small(p)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(SMALL)
def test_small_specs_run_finite_many(p):
    _run_small(p)
