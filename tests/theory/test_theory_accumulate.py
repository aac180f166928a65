"""Closed forms of the accumulate loop (theory.accumulate) against direct simulation of the
pooled loop, exact products/limits and sympy."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy import special

from tests.helpers import TEST_SEED
from theory.accumulate import (
    accumulate_cov_factor,
    accumulate_cov_factor_limit,
    accumulate_cov_limit,
    accumulate_mean_error2,
    accumulate_mean_error2_bound,
    accumulate_mean_error2_known_cov,
)

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison

MU0 = np.array([0.5, 1.0])
SIGMA0 = np.array([[1.5, -0.4], [-0.4, 0.8]])


def _check_mean(samples, exact, label):
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(samples.mean() - exact) <= Z * se, (label, samples.mean(), exact, se)


def _simulate_accumulate(seed, reps, n, m, generations, estimator, tau, known_cov=False):
    """Keep every point ever drawn and refit on the whole pool (no sufficient statistics)."""
    rng = np.random.default_rng((seed, TEST_SEED))
    d = MU0.shape[0]
    chol0 = np.linalg.cholesky(SIGMA0)

    def fit(pool):
        mean = pool.mean(axis=1)
        if known_cov:
            return mean, SIGMA0
        centred = pool - mean[:, None, :]
        div = pool.shape[1] - (1 if estimator == "unbiased" else 0)
        return mean, np.einsum("rni,rnj->rij", centred, centred) / div

    pool = MU0 + rng.standard_normal((reps, n, d)) @ chol0.T
    mean, cov = fit(pool)
    out_means, out_covs = [mean], [cov]
    for _ in range(generations):
        noise = rng.standard_normal((reps, m, d))
        if known_cov:
            new = mean[:, None, :] + noise @ (math.sqrt(tau) * chol0).T
        else:
            new = mean[:, None, :] + np.einsum("rij,rnj->rni", np.linalg.cholesky(tau * cov), noise)
        pool = np.concatenate([pool, new], axis=1)
        mean, cov = fit(pool)
        out_means.append(mean)
        out_covs.append(cov)
    return out_means, out_covs


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize(("m", "tau"), [(None, 1.0), (4, 0.8), (4, 1.25), (9, 1.0)])
def test_accumulate_matches_direct_simulation(estimator, m, tau):
    n, generations, reps = 6, 5, 20_000
    m_eff = n if m is None else m
    means, covs = _simulate_accumulate(
        300 + m_eff + int(100 * tau), reps, n, m_eff, generations, estimator, tau
    )
    trace0 = float(np.trace(SIGMA0))
    factors = accumulate_cov_factor(
        np.arange(generations + 1), n, n_synthetic=m, estimator=estimator, temperature=tau
    )
    errs = accumulate_mean_error2(
        np.arange(generations + 1),
        n,
        trace0,
        n_synthetic=m,
        estimator=estimator,
        temperature=tau,
    )
    for t in range(generations + 1):
        for i, j in [(0, 0), (0, 1), (1, 1)]:
            _check_mean(covs[t][:, i, j], factors[t] * SIGMA0[i, j], f"cov{i}{j} t={t}")
        _check_mean(np.sum((means[t] - MU0) ** 2, axis=1), errs[t], f"mean error t={t}")


@pytest.mark.parametrize(("m", "tau"), [(None, 1.0), (3, 1.4)])
def test_accumulate_known_cov_matches_direct_simulation(m, tau):
    n, generations, reps = 5, 6, 40_000
    m_eff = n if m is None else m
    means, _ = _simulate_accumulate(
        77 + m_eff, reps, n, m_eff, generations, "mle", tau, known_cov=True
    )
    trace0 = float(np.trace(SIGMA0))
    for t in range(generations + 1):
        exact = accumulate_mean_error2_known_cov(t, n, trace0, n_synthetic=m, temperature=tau)
        _check_mean(np.sum((means[t] - MU0) ** 2, axis=1), exact, f"t={t}")


def test_known_cov_closed_form_equals_the_sum():
    n, m, tau, trace0 = 7, 3, 0.6, 2.0
    t = np.arange(0, 30)
    direct = np.array(
        [
            trace0 / n + sum(m * tau * trace0 / (n + k * m) ** 2 for k in range(1, tt + 1))
            for tt in t
        ]
    )
    got = accumulate_mean_error2_known_cov(t, n, trace0, n_synthetic=m, temperature=tau)
    np.testing.assert_allclose(got, direct, rtol=1e-13)
    # m = n, τ = 1: (trΣ0/n) Σ_{k=1}^{t+1} 1/k² (Dey–Donoho augment ratio)
    got = accumulate_mean_error2_known_cov(t, n, trace0)
    h2 = np.cumsum(1.0 / np.arange(1, 32) ** 2)[: t.size]
    np.testing.assert_allclose(got, trace0 / n * h2, rtol=1e-13)


def test_mle_and_unbiased_products_kazdan():
    n = 8
    t = np.arange(0, 25)
    mle = [np.prod([1 - 1 / (n * k * k) for k in range(1, tt + 2)]) for tt in t]
    np.testing.assert_allclose(accumulate_cov_factor(t, n, estimator="mle"), mle, rtol=1e-13)
    unb = [np.prod([1 - 1 / (k * (k * n - 1)) for k in range(2, tt + 2)]) for tt in t]
    np.testing.assert_allclose(accumulate_cov_factor(t, n, estimator="unbiased"), unb, rtol=1e-13)
    mean_err = [
        3.0
        / n
        * sum(np.prod([1 - 1 / (n * j * j) for j in range(1, k)]) / k**2 for k in range(1, tt + 2))
        for tt in t
    ]
    np.testing.assert_allclose(
        accumulate_mean_error2(t, n, 3.0, estimator="mle"), mean_err, rtol=1e-13
    )


def test_sympy_factor_reduces_to_the_papers_products():
    n, t, tau, m = sp.symbols("n t tau m", positive=True)

    def factor(ddof):
        n_prev, n_t = n + (t - 1) * m, n + t * m
        return (n_prev - ddof + tau * (m - 1 + n_prev / n_t)) / (n_t - ddof)

    mle = factor(0).subs({m: n, tau: 1})
    assert sp.simplify(mle - (1 - 1 / (n * (t + 1) ** 2))) == 0
    unb = factor(1).subs({m: n, tau: 1})
    k = t + 1
    assert sp.simplify(unb - (1 - 1 / (k * (k * n - 1)))) == 0
    # the known-covariance sum for m = n is (1/n) Σ 1/k² → π²/(6n)
    kk = sp.symbols("k", integer=True, positive=True)
    assert sp.simplify(sp.summation(1 / kk**2, (kk, 1, sp.oo)) - sp.pi**2 / 6) == 0


@pytest.mark.parametrize("n", [2, 3, 8, 10, 100])
@pytest.mark.parametrize("m", [None, 1, 3, 17])
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_limits_against_the_product_at_large_t(n, m, estimator):
    """E Σ_T/Σ0 at T = 2·10⁵ times the exact first-order tail ∏_{k>T} ≈ exp(−Σ m/(N_k D_k))
    (digamma/trigamma sums; the remainder is O(1/(m T)²)) equals the Gamma-function limit."""
    big_t = 200_000
    m_eff = n if m is None else m
    factor = accumulate_cov_factor(big_t, n, n_synthetic=m, estimator=estimator)
    p = n / m_eff
    if estimator == "mle":  # Σ_{k>T} m/(n+km)² = ψ'(T+1+p)/m
        tail = special.polygamma(1, big_t + 1 + p) / m_eff
    else:  # Σ_{k>T} m/((n+km)(n+km−1)) = ψ(T+1+p) − ψ(T+1+q)
        q = (n - 1) / m_eff
        tail = special.digamma(big_t + 1 + p) - special.digamma(big_t + 1 + q)
    extrapolated = factor * math.exp(-tail)
    limit = accumulate_cov_factor_limit(n, n_synthetic=m, estimator=estimator)
    assert extrapolated == pytest.approx(limit, rel=1e-10)
    if estimator == "mle" and m in (None, n):
        assert accumulate_cov_limit(n) == pytest.approx(limit, rel=1e-13)
        assert accumulate_cov_limit(n) == pytest.approx(
            math.sin(math.pi / math.sqrt(n)) / (math.pi / math.sqrt(n)), rel=1e-15
        )


def test_mean_error_bound_holds_and_is_approached():
    t = np.array([0, 1, 10, 1000, 100_000])
    for n in [2, 5, 30]:
        bound = accumulate_mean_error2_bound(n, 2.0)
        assert bound == pytest.approx(math.pi**2 / 6 * 2.0 / n)
        for estimator in ["mle", "unbiased"]:
            for tau in [0.5, 1.0]:
                errs = accumulate_mean_error2(t, n, 2.0, estimator=estimator, temperature=tau)
                assert np.all(np.diff(errs) > 0)
                assert np.all(errs <= bound)
        # known covariance, m = n, τ = 1 approaches the bound from below
        known = accumulate_mean_error2_known_cov(10**6, n, 2.0)
        assert known == pytest.approx(bound, rel=2e-6)


def test_no_collapse_and_temperature_regimes():
    n = 10
    t = np.array([10, 1000, 100_000])
    unb = accumulate_cov_factor(t, n, estimator="unbiased")
    assert np.all(unb > accumulate_cov_factor_limit(n, estimator="unbiased") - 1e-15)
    cool = accumulate_cov_factor(t, n, estimator="unbiased", temperature=0.9)
    hot = accumulate_cov_factor(t, n, estimator="unbiased", temperature=1.1)
    assert np.all(np.diff(cool) < 0) and cool[-1] < 0.5
    assert np.all(np.diff(hot) > 0) and hot[-1] > 2.0


def test_scan_order_and_shapes():
    t = np.array([[5, 0], [3, 300_000]])
    out = accumulate_cov_factor(t, 6, estimator="mle")
    assert out.shape == (2, 2)
    assert out[0, 1] == pytest.approx(5 / 6)
    assert out[0, 0] == pytest.approx(accumulate_cov_factor(5, 6, estimator="mle"))
    assert isinstance(accumulate_mean_error2(3, 6, 1.0, estimator="mle"), float)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: accumulate_cov_factor(1, 5, estimator="x"), "estimator"),
        (lambda: accumulate_cov_factor(1, 1, estimator="mle"), "n must be"),
        (lambda: accumulate_cov_factor(-1, 5, estimator="mle"), "t must be"),
        (lambda: accumulate_cov_factor(1, 5, n_synthetic=0, estimator="mle"), "n_synthetic"),
        (lambda: accumulate_cov_factor(1, 5, estimator="mle", temperature=-1), "temperature"),
        (lambda: accumulate_mean_error2(1, 5, np.nan, estimator="mle"), "trace0"),
        (lambda: accumulate_mean_error2_bound(0, 1.0), "n must be"),
        (lambda: accumulate_cov_limit(0), "n must be"),
        (lambda: accumulate_cov_factor_limit(5, n_synthetic=2.5, estimator="mle"), "n_synthetic"),
        (lambda: accumulate_mean_error2_known_cov(1, 5, 1.0, temperature=np.nan), "temperature"),
    ],
)
def test_accumulate_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
