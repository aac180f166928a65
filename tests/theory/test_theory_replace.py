"""Closed forms of the replace loop (theory.replace) against direct Monte Carlo of the loop,
scipy/mpmath oracles and the papers' special cases.

Monte Carlo tests draw the actual points of every generation (numpy, fixed seeds) and refit;
they never sample from the derived χ² laws. Comparisons pass when |MC − exact| ≤ Z·SE.
"""

import math

import numpy as np
import pytest
from scipy import stats

from tests.helpers import TEST_SEED
from theory._special import alpha_n
from theory.replace import (
    log_chi2_sum_cdf,
    replace_expected_cov,
    replace_expected_det,
    replace_expected_sigma,
    replace_log_variance_cdf,
    replace_log_variance_mean,
    replace_log_variance_sf,
    replace_log_variance_var,
    replace_logdet_cdf,
    replace_logdet_mean,
    replace_logdet_sf,
    replace_logdet_var,
    replace_mean_error2,
    replace_variance_cdf,
    replace_variance_moment,
    replace_variance_sf,
    replace_variance_var,
    replace_w2sq_1d,
)

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison

MU0 = np.array([1.0, -2.0])
SIGMA0 = np.array([[2.0, 0.6], [0.6, 0.5]])


def _fit(x, estimator):
    """Mean and covariance of points x: (R, N, d); divisor N (mle) or N − 1 (unbiased)."""
    mean = x.mean(axis=1)
    centred = x - mean[:, None, :]
    div = x.shape[1] - (1 if estimator == "unbiased" else 0)
    return mean, np.einsum("rni,rnj->rij", centred, centred) / div


def _simulate_replace(seed, reps, n, generations, estimator, tau, mu0=MU0, sigma0=SIGMA0):
    """Direct simulation of the replace loop; returns lists (over t) of means and covariances."""
    rng = np.random.default_rng((seed, TEST_SEED))
    d = mu0.shape[0]
    chol0 = np.linalg.cholesky(sigma0)
    x = mu0 + rng.standard_normal((reps, n, d)) @ chol0.T
    mean, cov = _fit(x, estimator)
    means, covs = [mean], [cov]
    for _ in range(generations):
        chol = np.linalg.cholesky(tau * cov)
        x = mean[:, None, :] + np.einsum("rij,rnj->rni", chol, rng.standard_normal((reps, n, d)))
        mean, cov = _fit(x, estimator)
        means.append(mean)
        covs.append(cov)
    return means, covs


def _check_mean(samples, exact, label):
    samples = np.asarray(samples, dtype=np.float64)
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(samples.mean() - exact) <= Z * se, (label, samples.mean(), exact, se)


def _check_var(samples, exact, label):
    samples = np.asarray(samples, dtype=np.float64)
    dev2 = (samples - samples.mean()) ** 2
    se = dev2.std(ddof=1) / math.sqrt(samples.size)
    assert abs(dev2.mean() * samples.size / (samples.size - 1) - exact) <= Z * se, (
        label,
        dev2.mean(),
        exact,
        se,
    )


def _check_cdf(samples, points, exact_cdf, label):
    emp = (np.asarray(samples)[None, :] <= np.asarray(points)[:, None]).mean(axis=1)
    se = np.sqrt(exact_cdf * (1 - exact_cdf) / len(samples))
    assert np.all(np.abs(emp - exact_cdf) <= Z * se + 1e-12), (label, emp, exact_cdf)


# ------------------------------------------------------------------ d = 2, direct simulation
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize("tau", [1.0, 0.7, 1.3])
def test_replace_moments_match_direct_simulation_2d(estimator, tau):
    n, generations, reps = 8, 4, 40_000
    means, covs = _simulate_replace(101 + int(10 * tau), reps, n, generations, estimator, tau)
    trace0 = float(np.trace(SIGMA0))
    logdet0 = math.log(np.linalg.det(SIGMA0))
    for t in range(generations + 1):
        exact_cov = replace_expected_cov(t, n, SIGMA0, estimator=estimator, temperature=tau)
        for i, j in [(0, 0), (0, 1), (1, 1)]:
            _check_mean(covs[t][:, i, j], exact_cov[i, j], f"cov{i}{j} t={t}")
        err2 = np.sum((means[t] - MU0) ** 2, axis=1)
        _check_mean(
            err2,
            replace_mean_error2(t, n, trace0, estimator=estimator, temperature=tau),
            f"mean error t={t}",
        )
        logdet = np.linalg.slogdet(covs[t])[1] - logdet0
        _check_mean(
            logdet,
            replace_logdet_mean(t, n, 2, estimator=estimator, temperature=tau),
            f"logdet mean t={t}",
        )
        _check_var(
            logdet, replace_logdet_var(t, n, 2, estimator=estimator, temperature=tau), "logdet var"
        )
        if t <= 2:  # the mean of det Σ_t is heavy-tailed; keep to small t
            _check_mean(
                np.exp(logdet),
                replace_expected_det(t, n, 2, estimator=estimator, temperature=tau),
                f"det t={t}",
            )
    # the exact law of log det at the last generation against the empirical CDF
    t = generations
    logdet = np.linalg.slogdet(covs[t])[1] - logdet0
    points = np.quantile(logdet, [0.02, 0.3, 0.6, 0.95])
    exact = replace_logdet_cdf(points, t, n, 2, estimator=estimator, temperature=tau)
    _check_cdf(logdet, points, exact, "logdet cdf")
    # and a projection u'Σ_t u / u'Σ0 u follows the 1-D law
    u = np.array([0.6, -0.8])
    ratio = np.einsum("i,rij,j->r", u, covs[t], u) / (u @ SIGMA0 @ u)
    points = np.quantile(ratio, [0.05, 0.5, 0.9])
    exact = replace_variance_cdf(points, t, n, estimator=estimator, temperature=tau)
    _check_cdf(ratio, points, exact, "projected variance cdf")


# ------------------------------------------------------------------ 1-D, direct simulation
@pytest.mark.parametrize(
    ("estimator", "tau"), [("unbiased", 1.0), ("mle", 1.0), ("mle", 1.2), ("unbiased", 0.8)]
)
def test_replace_1d_laws_match_direct_simulation(estimator, tau):
    n, t, reps = 6, 3, 100_000
    sigma0 = 1.7
    means, covs = _simulate_replace(
        7 + int(10 * tau),
        reps,
        n,
        t,
        estimator,
        tau,
        mu0=np.array([0.4]),
        sigma0=np.array([[sigma0**2]]),
    )
    ratio = covs[t][:, 0, 0] / sigma0**2
    kw = {"estimator": estimator, "temperature": tau}
    for r in [-1.0, 0.5, 1.0, 2.0]:
        _check_mean(ratio**r, replace_variance_moment(t, n, r, **kw), f"moment r={r}")
    _check_mean(np.sqrt(ratio), replace_expected_sigma(t, n, **kw), "E sigma")
    _check_var(ratio, replace_variance_var(t, n, **kw), "Var sigma^2")
    _check_mean(np.log(ratio), replace_log_variance_mean(t, n, **kw), "E log")
    _check_var(np.log(ratio), replace_log_variance_var(t, n, **kw), "Var log")
    w2sq = ((means[t][:, 0] - 0.4) ** 2 + (np.sqrt(covs[t][:, 0, 0]) - sigma0) ** 2) / sigma0**2
    _check_mean(w2sq, replace_w2sq_1d(t, n, **kw), "W2^2")
    points = np.quantile(ratio, [0.001, 0.05, 0.4, 0.75, 0.99])
    _check_cdf(ratio, points, replace_variance_cdf(points, t, n, **kw), "variance cdf")
    _check_cdf(
        np.log(ratio),
        np.log(points),
        replace_log_variance_cdf(np.log(points), t, n, **kw),
        "log variance cdf",
    )


# ------------------------------------------------------------------ exact oracles
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_one_fit_law_is_scaled_chi2(estimator):
    n = 7
    div = n if estimator == "mle" else n - 1
    y = stats.chi2.ppf([1e-40, 1e-5, 0.3, 0.9], n - 1) / div
    y = np.append(y, stats.chi2.isf([1e-8, 1e-40], n - 1) / div)
    cdf = replace_variance_cdf(y, 0, n, estimator=estimator)
    sf = replace_variance_sf(y, 0, n, estimator=estimator)
    np.testing.assert_allclose(cdf, stats.chi2.cdf(y * div, n - 1), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(sf, stats.chi2.sf(y * div, n - 1), rtol=1e-9, atol=1e-13)
    assert replace_variance_cdf(-1.0, 0, n, estimator=estimator) == 0.0
    assert replace_variance_sf(0.0, 0, n, estimator=estimator) == 1.0


@pytest.mark.parametrize(("estimator", "tau"), [("mle", 1.0), ("unbiased", 0.6)])
def test_bartlett_d2_duplication_identity(estimator, tau):
    """χ²_{n−1}χ²_{n−2} =d (χ²_{2(n−2)}/2)² (Legendre duplication): t = 0 has a one-χ² law and
    general t reduces to t+1 iid log χ²_{2(n−2)}; an exact oracle for the Bartlett law."""
    n = 9
    div = n if estimator == "mle" else n - 1
    x = np.array([-2.0, -0.7, 0.0, 0.4])
    got = replace_logdet_cdf(x, 0, n, 2, estimator=estimator, temperature=tau)
    exact = stats.chi2.cdf(2.0 * div * np.exp(x / 2.0), 2 * (n - 2))
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-13)
    t = 6
    x = replace_logdet_mean(t, n, 2, estimator=estimator, temperature=tau) + np.array(
        [-8.0, -1.0, 0.5, 4.0]
    )
    got = replace_logdet_cdf(x, t, n, 2, estimator=estimator, temperature=tau)
    y = (x + 2 * (t + 1) * math.log(div) - 2 * t * math.log(tau)) / 2.0
    other = log_chi2_sum_cdf(y, [2.0 * (n - 2)], -math.log(2.0), counts=t + 1)
    np.testing.assert_allclose(got, other, rtol=1e-9, atol=1e-13)
    sf = replace_logdet_sf(x, t, n, 2, estimator=estimator, temperature=tau)
    np.testing.assert_allclose(got + sf, 1.0, atol=1e-13)


def test_logdet_in_one_dimension_is_the_log_variance():
    x = np.array([-3.0, -1.0, 0.2])
    kw = {"estimator": "unbiased", "temperature": 0.9}
    np.testing.assert_allclose(
        replace_logdet_cdf(x, 5, 12, 1, **kw),
        replace_log_variance_cdf(x, 5, 12, **kw),
        rtol=1e-14,
    )
    assert replace_logdet_mean(5, 12, 1, **kw) == pytest.approx(
        replace_log_variance_mean(5, 12, **kw), rel=1e-14
    )
    assert replace_logdet_var(5, 12, 1, **kw) == pytest.approx(
        replace_log_variance_var(5, 12, **kw), rel=1e-14
    )


# ------------------------------------------------------------------ papers' special cases
def test_unbiased_special_cases_shumailov_and_mad():
    n = 20
    t = np.arange(0, 40)
    # Shumailov Thm 3.1 exact forms (their t = toolkit t + 1)
    np.testing.assert_allclose(
        replace_variance_moment(t, n, 1.0, estimator="unbiased"), 1.0, rtol=1e-14
    )
    np.testing.assert_allclose(
        replace_expected_sigma(t, n, estimator="unbiased"), alpha_n(n) ** (t + 1), rtol=1e-12
    )
    np.testing.assert_allclose(
        replace_mean_error2(t, n, 3.0, estimator="unbiased"), 3.0 * (t + 1) / n, rtol=1e-13
    )
    np.testing.assert_allclose(
        replace_w2sq_1d(t, n, estimator="unbiased"),
        (t + 1) / n + 2 - 2 * alpha_n(n) ** (t + 1),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        replace_variance_var(t, n, estimator="unbiased"),
        (1 + 2 / (n - 1)) ** (t + 1) - 1,
        rtol=1e-12,
    )
    # MAD with sampling bias λ = τ (their generation t = toolkit t + 1)
    lam = 0.8
    np.testing.assert_allclose(
        replace_mean_error2(t, n, 2.0, estimator="unbiased", temperature=lam),
        2.0 / n * (1 - lam ** (t + 1)) / (1 - lam),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        replace_expected_cov(t, n, 1.5, estimator="unbiased", temperature=lam),
        1.5 * lam**t,
        rtol=1e-12,
    )
    d = 3
    kappa = np.prod([(n - i) / (n - 1) for i in range(1, d + 1)])
    np.testing.assert_allclose(
        replace_expected_det(t, n, d, estimator="unbiased", temperature=lam),
        kappa * (lam**d * kappa) ** t,
        rtol=1e-12,
    )


def test_mle_special_cases_kazdan():
    n, c = 10, 0.9
    t = np.arange(0, 50)
    np.testing.assert_allclose(
        replace_expected_cov(t, n, 1.0, estimator="mle"), c ** (t + 1), rtol=1e-12
    )
    np.testing.assert_allclose(
        replace_mean_error2(t, n, 3.0, estimator="mle"), 3.0 * (1 - c ** (t + 1)), rtol=1e-12
    )
    np.testing.assert_allclose(
        replace_w2sq_1d(t, n, estimator="mle"),
        2 - 2 * (alpha_n(n) * math.sqrt(c)) ** (t + 1),
        rtol=1e-10,
    )
    assert np.all(replace_w2sq_1d(np.arange(0, 2000, 50), n, estimator="mle") <= 2.0)
    np.testing.assert_allclose(
        replace_expected_det(t, n, 2, estimator="mle"), (0.9 * 0.8) ** (t + 1), rtol=1e-12
    )


def test_expected_cov_shapes():
    out = replace_expected_cov([0, 1, 2], 5, SIGMA0, estimator="unbiased", temperature=0.5)
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out[2], 0.25 * SIGMA0)
    assert isinstance(replace_expected_cov(3, 5, 2.0, estimator="mle"), float)


def test_log_variance_moments_match_the_exact_law():
    """E and Var of log σ² recomputed from the exact CDF/SF by quadrature (independent of ψ, ψ'):
    E[X − m] = ∫_m^∞ P(X > x)dx − ∫_{−∞}^m P(X ≤ x)dx, E[(X − m)²] = ∫ 2|x − m| P(tail) dx."""
    kw = {"estimator": "mle", "temperature": 1.1}
    t, n = 4, 8
    m = replace_log_variance_mean(t, n, **kw)
    s = math.sqrt(replace_log_variance_var(t, n, **kw))
    nodes, weights = np.polynomial.legendre.leggauss(60)
    # right of m: [m, m + 10s]; left of m: [m − 16s, m] (the left tail of log χ² is heavier)
    right = m + 5 * s * (nodes + 1)
    left = m - 8 * s * (nodes + 1)
    sf = replace_log_variance_sf(right, t, n, **kw)
    cdf = replace_log_variance_cdf(left, t, n, **kw)
    mean_shift = 5 * s * weights @ sf - 8 * s * weights @ cdf
    second = 5 * s * weights @ (2 * (right - m) * sf) + 8 * s * weights @ (2 * (m - left) * cdf)
    assert abs(mean_shift) < 1e-8
    assert second == pytest.approx(s * s, rel=1e-8)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: replace_expected_cov(1, 5, SIGMA0, estimator="biased"), "estimator"),
        (lambda: replace_expected_cov(1, 5, np.ones((2, 3)), estimator="mle"), "cov0"),
        (lambda: replace_expected_cov(1, 5, np.nan, estimator="mle"), "cov0"),
        (lambda: replace_mean_error2(-1, 5, 1.0, estimator="mle"), "t must be"),
        (lambda: replace_mean_error2(1.5, 5, 1.0, estimator="mle"), "t must be"),
        (lambda: replace_mean_error2(1, 1, 1.0, estimator="mle"), "n must be"),
        (lambda: replace_mean_error2(1, 5, -1.0, estimator="mle"), "trace0"),
        (lambda: replace_mean_error2(1, 5, 1.0, estimator="mle", temperature=0.0), "temperature"),
        (
            lambda: replace_mean_error2(1, 5, 1.0, estimator="mle", temperature=np.inf),
            "temperature",
        ),
        (lambda: replace_variance_moment(1, 5, -2.0, estimator="mle"), "r must be"),
        (lambda: replace_variance_moment(1, 5, np.nan, estimator="mle"), "r must be"),
        (lambda: replace_log_variance_cdf(0.0, [1, 2], 5, estimator="mle"), "t must be"),
        (lambda: replace_variance_cdf(np.nan, 1, 5, estimator="mle"), "x must be"),
        (lambda: replace_logdet_mean(1, 3, 3, estimator="mle"), "n must be > d"),
        (lambda: replace_expected_det(1, 5, 0, estimator="mle"), "d must be"),
        (lambda: replace_w2sq_1d(1, 5, estimator=None), "estimator"),
    ],
)
def test_replace_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_estimator_is_required():
    with pytest.raises(TypeError):
        replace_mean_error2(1, 5, 1.0)  # no silent default estimator
