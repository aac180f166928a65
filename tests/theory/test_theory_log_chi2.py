"""The exact law of a sum of log-χ² variables (theory.replace.log_chi2_sum_cdf / _sf).

Independent routes: scipy's χ² and Gamma CDFs (one factor; Gauss's multiplication formula
turns special sums into one Gamma variable), mpmath's incomplete gamma at 80 digits, numerical
convolution of two log-χ² densities by quadrature, and Monte Carlo.
"""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, special, stats

from tests.helpers import TEST_SEED
from theory.replace import log_chi2_sum_cdf, log_chi2_sum_sf

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison


# ------------------------------------------------------------------ one factor: scipy.stats
@pytest.mark.parametrize("nu", [1.0, 2.0, 9.0, 37.5, 1e4])
def test_one_factor_matches_scipy_chi2_including_far_tails(nu):
    shift = -0.7
    lower = stats.chi2.ppf([1e-60, 1e-20, 1e-6, 0.02], nu)
    middle = stats.chi2.ppf([0.2, 0.5, 0.8], nu)
    upper = stats.chi2.isf([0.02, 1e-6, 1e-20, 1e-60], nu)
    y = np.concatenate([lower, middle, upper])
    x = np.log(y) + shift
    cdf = log_chi2_sum_cdf(x, [nu], shift)
    sf = log_chi2_sum_sf(x, [nu], shift)
    exact_cdf = stats.chi2.cdf(np.exp(x - shift), nu)
    exact_sf = stats.chi2.sf(np.exp(x - shift), nu)
    np.testing.assert_allclose(cdf, exact_cdf, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sf, exact_sf, rtol=0, atol=1e-12)
    # relative accuracy on the small side of each tail
    np.testing.assert_allclose(cdf[:4], exact_cdf[:4], rtol=1e-9)
    np.testing.assert_allclose(sf[-4:], exact_sf[-4:], rtol=1e-9)


def test_one_factor_huge_dof_against_mpmath():
    # scipy's Gamma CDF loses digits at shape 5e6 in the lower tail; mpmath at 80 digits does not
    nu = 1e7
    mpmath.mp.dps = 80
    sd = math.sqrt(2.0 / nu)
    x = math.log(nu) + sd * np.array([-11.0, -4.0, -0.3, 0.8, 4.0, 11.0])
    cdf = log_chi2_sum_cdf(x, [nu])
    sf = log_chi2_sum_sf(x, [nu])
    for xi, ci, si in zip(x, cdf, sf, strict=True):
        q = mpmath.gammainc(nu / 2, mpmath.exp(mpmath.mpf(xi)) / 2, mpmath.inf, regularized=True)
        assert si == pytest.approx(float(q), rel=1e-8, abs=1e-13)
        assert ci == pytest.approx(float(1 - q), rel=1e-8, abs=1e-13)


# ------------------------------------------------------------------ two factors: quadrature
def _log_density(y, nu, s):
    """log density of Y = log χ²_ν + s (scipy.special only, for speed inside quad)."""
    w = np.exp(y - s)
    return (nu / 2) * np.log(w / 2) - w / 2 - special.gammaln(nu / 2)


def _convolution(x, nus, shifts, tail):
    """P(Y1 + Y2 ≤ x) ("cdf") or P(Y1 + Y2 > x) ("sf") with Y_j = log χ²_{ν_j} + s_j.

    ∫ f_{Y1}(y) F_{Y2}(x − y) dy by adaptive quadrature, on the window where the integrand is
    within e^{-60} of its maximum (scaled by the maximum, so tails keep relative accuracy).
    """
    (nu1, nu2), (s1, s2) = nus, shifts
    reg = special.gammainc if tail == "cdf" else special.gammaincc

    def log_integrand(y):
        return _log_density(y, nu1, s1) + np.log(reg(nu2 / 2, np.exp(x - y - s2) / 2))

    grid = np.linspace(s1 - 80.0, s1 + 12.0, 20001)
    with np.errstate(divide="ignore"):
        vals = log_integrand(grid)
    top = np.max(vals)
    keep = grid[vals > top - 60.0]
    y_star = grid[np.argmax(vals)]
    res, _ = integrate.quad(
        lambda y: math.exp(log_integrand(y) - top),
        keep[0] - 0.5,
        keep[-1] + 0.5,
        points=[y_star],
        epsabs=0.0,
        epsrel=1e-12,
        limit=500,
    )
    return res * math.exp(top)


@pytest.mark.parametrize(
    ("nus", "shifts"),
    [((3.0, 7.5), (0.3, -1.2)), ((9.0, 9.0), (0.0, 0.0)), ((1.0, 40.0), (0.0, 2.0))],
)
def test_two_factors_match_quadrature_convolution(nus, shifts):
    mean = sum(_digamma(nu / 2) + math.log(2.0) for nu in nus) + sum(shifts)
    sd = math.sqrt(sum(_trigamma(nu / 2) for nu in nus))
    x = mean + sd * np.array([-3.0, -1.0, 0.0, 0.7, 2.0, 4.0])
    cdf = log_chi2_sum_cdf(x, list(nus), list(shifts))
    sf = log_chi2_sum_sf(x, list(nus), list(shifts))
    for xi, ci, si in zip(x, cdf, sf, strict=True):
        # required accuracy is ~1e-8 absolute; the inversion achieves ~1e-14
        assert ci == pytest.approx(_convolution(xi, nus, shifts, "cdf"), abs=1e-10)
        assert si == pytest.approx(_convolution(xi, nus, shifts, "sf"), abs=1e-10)


def _trigamma(a):
    return float(special.polygamma(1, a))


def _digamma(a):
    return float(special.digamma(a))


def test_two_equal_factors_far_upper_tail_relative():
    # P(σ² > ε²) after two fits in the far tail: relative accuracy, by convolution
    nu = 9.0
    for x in [3.0, 4.5, 6.0]:
        got = log_chi2_sum_sf(x, [nu, nu], -math.log(nu))
        ref = _convolution(x, (nu, nu), (-math.log(nu), -math.log(nu)), "sf")
        assert ref < 1e-3
        assert got == pytest.approx(ref, rel=1e-8)


# ------------------------------------------------------ many factors: Gauss multiplication
@pytest.mark.parametrize(("a", "k"), [(4.5, 2000), (5000.0, 2000), (0.5, 2), (1.0, 50)])
def test_gauss_multiplication_formula(a, k):
    """∏_{j<k} Gamma(a + j/k) =d (Gamma(ka)/k)^k (Gauss), so with dofs 2a + 2j/k:
    Σ_j log χ²_{ν_j} =d k log 2 + k log(G/k), G ~ Gamma(ka): an exact one-variable oracle."""
    dofs = 2.0 * a + 2.0 * np.arange(k) / k
    mean = k * math.log(2.0) + k * (math.log(k * a) - math.log(k))
    sd = k / math.sqrt(k * a)
    x = mean + sd * np.array([-6.0, -0.4, 1.0, 7.0])
    y = k * np.exp(x / k - math.log(2.0))
    cdf = log_chi2_sum_cdf(x[:2], dofs)
    sf = log_chi2_sum_sf(x[2:], dofs)
    mpmath.mp.dps = 80
    exact_cdf = [
        float(1 - mpmath.gammainc(k * a, mpmath.mpf(yi), mpmath.inf, regularized=True))
        for yi in y[:2]
    ]
    exact_sf = stats.gamma.sf(y[2:], k * a)
    np.testing.assert_allclose(cdf, exact_cdf, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(sf, exact_sf, rtol=1e-8, atol=1e-12)


def test_counts_and_duplication_identity():
    """χ²_ν χ²_{ν+1} =d (χ²_{2ν}/2)² (Legendre duplication), so K pairs of log χ²_ν, log χ²_{ν+1}
    have the law of 2 Σ_{k≤K} log(χ²_{2ν,k}/2): two different parameterisations of one law."""
    nu, big_k = 1e4, 1000
    mean = big_k * sum(math.log(2.0) + _digamma(v / 2) for v in (nu, nu + 1.0))
    sd = math.sqrt(big_k * (_trigamma(nu / 2) + _trigamma((nu + 1) / 2)))
    x = mean + sd * np.array([-9.0, -3.0, -0.5, 0.5, 3.0, 9.0])
    left = log_chi2_sum_cdf(x, [nu, nu + 1.0], counts=big_k)
    right = log_chi2_sum_cdf(x / 2.0, [2.0 * nu], -math.log(2.0), counts=[big_k])
    np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-12)
    left_sf = log_chi2_sum_sf(x[-1], [nu, nu + 1.0], counts=big_k)
    right_sf = log_chi2_sum_sf(x[-1] / 2.0, [2.0 * nu], -math.log(2.0), counts=[big_k])
    assert left_sf == pytest.approx(right_sf, rel=1e-9)
    assert np.all(np.diff(left) > 0)


# ------------------------------------------------------ many identical factors: Monte Carlo
@pytest.mark.parametrize(("nu", "count"), [(9.0, 2000), (1e4, 2000), (1.0, 300)])
def test_many_identical_factors_against_monte_carlo(nu, count):
    rng = np.random.default_rng((20240 + int(nu), TEST_SEED))
    reps = 4000
    s = np.log(rng.chisquare(nu, size=(reps, count))).sum(axis=1)
    qs = np.quantile(s, [0.01, 0.2, 0.5, 0.8, 0.99])
    cdf = log_chi2_sum_cdf(qs, [nu], counts=count)
    emp = (s[None, :] <= qs[:, None]).mean(axis=1)
    # exact CDF at the empirical quantile vs the empirical CDF: binomial SE
    se = np.sqrt(cdf * (1 - cdf) / reps)
    assert np.all(np.abs(emp - cdf) <= Z * se + 1.0 / reps)


# ------------------------------------------------------------------ basic properties
def test_cdf_plus_sf_is_one_and_limits():
    x = np.array([-np.inf, -50.0, -2.0, 0.0, 1.0, 3.0, 50.0, np.inf])
    cdf = log_chi2_sum_cdf(x, [2.0, 5.0, 5.0], [0.1, -0.2, 0.0])
    sf = log_chi2_sum_sf(x, [2.0, 5.0, 5.0], [0.1, -0.2, 0.0])
    np.testing.assert_allclose(cdf + sf, 1.0, atol=1e-14)
    assert cdf[0] == 0.0 and sf[0] == 1.0 and cdf[-1] == 1.0 and sf[-1] == 0.0
    assert np.all(np.diff(cdf) >= 0)
    assert isinstance(log_chi2_sum_cdf(0.0, [3.0]), float)
    assert log_chi2_sum_cdf(np.zeros((2, 3)), [3.0]).shape == (2, 3)


def test_log_chi2_sum_validation():
    with pytest.raises(ValueError, match="dofs"):
        log_chi2_sum_cdf(0.0, [0.0, 3.0])
    with pytest.raises(ValueError, match="dofs"):
        log_chi2_sum_cdf(0.0, [])
    with pytest.raises(ValueError, match="dofs"):
        log_chi2_sum_cdf(0.0, [np.nan])
    with pytest.raises(ValueError, match="x must be non-NaN"):
        log_chi2_sum_cdf(np.nan, [3.0])
    with pytest.raises(ValueError, match="scale_logs"):
        log_chi2_sum_sf(0.0, [3.0, 4.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="scale_logs"):
        log_chi2_sum_sf(0.0, [3.0], np.inf)
    with pytest.raises(ValueError, match="counts"):
        log_chi2_sum_sf(0.0, [3.0], counts=0)
