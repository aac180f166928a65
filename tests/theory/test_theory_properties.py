"""Hypothesis property tests for the theory closed forms (deterministic CI profile)."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.accumulate import (
    accumulate_cov_factor,
    accumulate_mean_error2,
    accumulate_mean_error2_bound,
)
from theory.collapse_probability import (
    bertrand_markov_bound,
    collapse_probability,
    fractional_markov_bound,
    suresh_bound,
)
from theory.fresh import fresh_moments, fresh_recursion_matrix
from theory.replace import (
    log_chi2_sum_cdf,
    log_chi2_sum_sf,
    replace_expected_sigma,
    replace_log_variance_cdf,
    replace_variance_moment,
    replace_w2sq_1d,
)
from theory.universality import augment_risk_ratio, discard_risk_ratio, subsample_risk_ratio

CI = settings(derandomize=True, database=None, deadline=None, max_examples=50)

estimators = st.sampled_from(["mle", "unbiased"])
temperatures = st.floats(min_value=0.2, max_value=3.0)
sizes = st.integers(min_value=2, max_value=500)
generations = st.integers(min_value=0, max_value=200)


@CI
@given(
    dofs=st.lists(st.floats(min_value=0.5, max_value=300.0), min_size=1, max_size=4),
    shift=st.floats(min_value=-5.0, max_value=5.0),
    xs=st.lists(st.floats(min_value=-40.0, max_value=40.0), min_size=2, max_size=6),
)
def test_log_chi2_cdf_is_a_distribution_function(dofs, shift, xs):
    x = np.sort(np.asarray(xs))
    cdf = log_chi2_sum_cdf(x, dofs, shift)
    sf = log_chi2_sum_sf(x, dofs, shift)
    assert np.all((cdf >= 0) & (cdf <= 1))
    assert np.all(np.diff(cdf) >= -1e-13)
    np.testing.assert_allclose(cdf + sf, 1.0, atol=1e-12)


@CI
@given(n=sizes, t=generations)
def test_unbiased_variance_is_a_martingale(n, t):
    assert math.isclose(
        replace_variance_moment(t, n, 1.0, estimator="unbiased"), 1.0, rel_tol=1e-12
    )


@CI
@given(n=sizes, t=generations, estimator=estimators, tau=temperatures)
def test_jensen_and_log_convexity_of_moments(n, t, estimator, tau):
    kw = {"estimator": estimator, "temperature": tau}
    e_sigma = replace_expected_sigma(t, n, **kw)
    m1 = replace_variance_moment(t, n, 1.0, **kw)
    assert e_sigma**2 <= m1 * (1 + 1e-12)
    r = np.array([0.25, 0.5, 0.75])
    m = replace_variance_moment(t, n, r, **kw)
    assert m[1] ** 2 <= m[0] * m[2] * (1 + 1e-12)


@CI
@given(
    n=st.integers(min_value=2, max_value=60),
    t=st.integers(min_value=0, max_value=30),
    estimator=estimators,
    tau=temperatures,
)
def test_log_variance_cdf_is_monotone(n, t, estimator, tau):
    kw = {"estimator": estimator, "temperature": tau}
    x = np.array([-10.0, -1.0, 0.0, 1.0])
    cdf = replace_log_variance_cdf(x + t * math.log(tau), t, n, **kw)
    assert np.all(np.diff(cdf) >= 0)


@CI
@given(n=sizes, t=generations, estimator=estimators)
def test_w2_is_nonnegative_and_mle_is_bounded(n, t, estimator):
    w = replace_w2sq_1d(t, n, estimator=estimator)
    assert w >= 0
    if estimator == "mle":
        assert w <= 2.0


@CI
@given(
    n=st.integers(min_value=2, max_value=100),
    estimator=estimators,
    tau=st.floats(min_value=0.2, max_value=1.0),
    t=st.integers(min_value=0, max_value=500),
)
def test_accumulate_bounded_below_one_and_by_pi2_over_6(n, estimator, tau, t):
    f = accumulate_cov_factor(t, n, estimator=estimator, temperature=tau)
    assert 0 < f <= 1.0
    e = accumulate_mean_error2(t, n, 1.0, estimator=estimator, temperature=tau)
    assert e <= accumulate_mean_error2_bound(n, 1.0) * (1 + 1e-12)


@CI
@given(
    n_r=st.integers(min_value=1, max_value=50),
    n_s=st.integers(min_value=1, max_value=50),
    estimator=estimators,
    tau=st.floats(min_value=0.2, max_value=1.0),
)
def test_fresh_moments_approach_the_fixed_point(n_r, n_s, estimator, tau):
    a, b = fresh_recursion_matrix(n_r, n_s, 1.0, estimator=estimator, temperature=tau)
    assert np.max(np.abs(np.linalg.eigvals(a))) < 1.0  # n_r ≥ 1 and τ ≤ 1: always contracting
    x_star = np.linalg.solve(np.eye(2) - a, b)
    m, c = fresh_moments(
        20_000, n_r, n_s, 1.0, estimator=estimator, temperature=tau, n_initial=max(2, n_r)
    )
    np.testing.assert_allclose([m, c], x_star, rtol=1e-8)


@CI
@given(g=st.integers(min_value=1, max_value=10**6))
def test_workflow_ordering(g):
    a, s, d = augment_risk_ratio(g), subsample_risk_ratio(g), discard_risk_ratio(g)
    assert a <= s * (1 + 1e-14) <= d * (1 + 1e-14)
    assert augment_risk_ratio(g + 1) > a and subsample_risk_ratio(g + 1) > s


@CI
@given(
    k=st.integers(min_value=1, max_value=3000),
    n=st.integers(min_value=2, max_value=300),
    eps=st.floats(min_value=0.01, max_value=5.0),
)
def test_collapse_probability_below_every_bound(k, n, eps):
    p = collapse_probability(k, n, eps)
    assert 0.0 <= p <= 1.0
    for bound in (
        suresh_bound(k, n, eps),
        bertrand_markov_bound(k, n, eps),
        fractional_markov_bound(k, n, eps),
    ):
        assert p <= bound * (1 + 1e-10)
    assert collapse_probability(k, n, eps * 1.1) <= p
