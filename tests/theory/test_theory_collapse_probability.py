"""Exact collapse probability P(σ_k > ε) (theory.collapse_probability) against simulation and
scipy, and the published bounds checked to hold over a grid."""

import math

import numpy as np
import pytest
from scipy import special, stats

from tests.helpers import TEST_SEED
from theory._special import alpha_n
from theory.collapse_probability import (
    bertrand_markov_bound,
    collapse_probability,
    fractional_markov_bound,
    suresh_bound,
)
from theory.replace import replace_variance_sf

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison


def test_collapse_probability_matches_direct_simulation():
    # Suresh et al.'s experiment shape: 1-D N(0, 1), unbiased (ddof = 1) refits of n points
    rng = np.random.default_rng((8, TEST_SEED))
    n, reps, k_max = 10, 50_000, 30
    mean, sd = np.zeros(reps), np.ones(reps)
    sigma = {}
    for k in range(1, k_max + 1):
        x = mean[:, None] + sd[:, None] * rng.standard_normal((reps, n))
        mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
        sigma[k] = sd
    for k in [1, 5, 15, 30]:
        for eps in [0.5, 0.8, 1.2]:
            p = collapse_probability(k, n, eps)
            emp = float(np.mean(sigma[k] > eps))
            se = math.sqrt(p * (1 - p) / reps)
            assert abs(emp - p) <= Z * se + 1e-12, (k, eps, emp, p)


@pytest.mark.parametrize("n", [2, 5, 50])
def test_one_fit_is_a_chi2_tail_far_out(n):
    eps = np.array([0.05, 0.5, 1.0, 1.5, 3.0, 6.0])
    got = collapse_probability(1, n, eps)
    exact = stats.chi2.sf((n - 1) * eps**2, n - 1)
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-14)


def test_equals_the_replace_survival_function():
    k, n = np.array([1, 7, 40]), 12
    for kk in k:
        assert collapse_probability(kk, n, 0.3) == pytest.approx(
            replace_variance_sf(0.09, kk - 1, n, estimator="unbiased"), rel=1e-13
        )
    out = collapse_probability(k[:, None], n, np.array([0.2, 0.9]))
    assert out.shape == (3, 2)
    assert np.all(np.diff(out, axis=1) < 0)  # decreasing in ε
    assert np.all(np.diff(out, axis=0) < 0)  # decreasing in k for ε < 1


@pytest.mark.parametrize("n", [3, 10, 100])
def test_far_tail_matches_bahadur_rao(n):
    """P(σ_k > 1) = P(Σ_j Y_j > 0), Y = log(χ²_{n−1}/(n−1)), for k with P ~ e^{−150}, e^{−600}.

    Bahadur–Rao: P(S_k ≥ 0) = e^{−k I}/(θ* s* √(2πk)) (1 + O(1/k)), with
    Λ(θ) = log E e^{θY}, Λ'(θ*) = 0, I = −Λ(θ*), s*² = Λ''(θ*)."""
    from scipy import optimize

    a = (n - 1) / 2
    theta = optimize.brentq(lambda th: special.digamma(a + th) - math.log(a), 1e-12, 10.0)
    rate = -(special.gammaln(a + theta) - special.gammaln(a) - theta * math.log(a))
    s_star = math.sqrt(special.polygamma(1, a + theta))
    errors = []
    for target in [150.0, 600.0]:  # e^{-150} and e^{-600}: far below double epsilon
        k = int(target / rate)
        approx_log = -k * rate - math.log(theta * s_star * math.sqrt(2 * math.pi * k))
        got = collapse_probability(k, n, 1.0)
        assert 0 < got < 1e-60
        errors.append((math.log(got) - approx_log, target))
    # the O(1/k) remainder: bounded by 1/(kI), and quartered when k is multiplied by 4
    # (Richardson), which only an exact tail can do
    for err, target in errors:
        assert abs(err) <= 1.0 / target
    assert abs(4 * errors[1][0] - errors[0][0]) <= 2e-4


@pytest.mark.parametrize("n", [2, 3, 5, 10, 50, 200])
def test_bounds_hold_on_a_grid(n):
    k = np.array([1, 2, 5, 10, 20, 50, 100, 200, 500])[:, None]
    eps = np.array([0.1, 0.5, 0.9, 1.5])[None, :]
    exact = collapse_probability(k, n, eps)
    for bound in [
        suresh_bound(k, n, eps),
        bertrand_markov_bound(k, n, eps),
        fractional_markov_bound(k, n, eps),
        fractional_markov_bound(k, n, eps, r=0.1),
        fractional_markov_bound(k, n, eps, r=2.0),
    ]:
        assert np.all(exact <= bound * (1 + 1e-12))
    # Bertrand's Markov bound is at least as sharp as Suresh's Theorem 3: α(n) ≤ e^{−1/(4n−1)}
    assert np.all(bertrand_markov_bound(k, n, eps) <= suresh_bound(k, n, eps) * (1 + 1e-14))


def test_bound_formulas():
    n, k, eps = 10, np.array([1, 3, 30]), 0.4
    np.testing.assert_allclose(suresh_bound(k, n, eps), np.exp(-k / 39) / eps, rtol=1e-15)
    np.testing.assert_allclose(bertrand_markov_bound(k, n, eps), alpha_n(n) ** k / eps, rtol=1e-13)
    r = 0.35
    m_r = special.gamma((n - 1) / 2 + r) / (special.gamma((n - 1) / 2) * ((n - 1) / 2) ** r)
    np.testing.assert_allclose(
        fractional_markov_bound(k, n, eps), m_r**k / eps ** (2 * r), rtol=1e-13
    )
    # m_r by Monte Carlo: E[(χ²_{n−1}/(n−1))^r]
    rng = np.random.default_rng((3, TEST_SEED))
    y = (rng.chisquare(n - 1, 400_000) / (n - 1)) ** r
    assert abs(y.mean() - m_r) <= Z * y.std(ddof=1) / math.sqrt(y.size)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: collapse_probability(0, 10, 0.5), "k must be"),
        (lambda: collapse_probability(1, 1, 0.5), "n must be"),
        (lambda: collapse_probability(1, 10, 0.0), "eps_ratio"),
        (lambda: collapse_probability(1, 10, np.nan), "eps_ratio"),
        (lambda: suresh_bound(2.5, 10, 0.5), "k must be"),
        (lambda: bertrand_markov_bound(1, 10, -1.0), "eps_ratio"),
        (lambda: fractional_markov_bound(1, 10, 0.5, r=0.0), "r must be"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
