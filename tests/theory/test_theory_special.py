"""Special functions and validators of theory._special, against scipy and mpmath oracles."""

import math

import mpmath
import numpy as np
import pytest
from scipy import special

from tests.helpers import TEST_SEED
from theory._special import (
    alpha_n,
    check_estimator,
    check_int_array,
    check_positive_float,
    check_positive_int,
    check_real_array,
    digamma_minus_log,
    fit_divisor,
    log_alpha_n,
    log_gamma_ratio,
    log_gamma_ratio_centered,
)


def _mp_alpha(n):
    mpmath.mp.dps = 50
    n = mpmath.mpf(n)
    return mpmath.sqrt(2 / (n - 1)) * mpmath.gamma(n / 2) / mpmath.gamma((n - 1) / 2)


@pytest.mark.parametrize("n", [2, 3, 4, 10, 57, 1000, 10**5, 10**7])
def test_alpha_n_matches_mpmath(n):
    assert alpha_n(n) == pytest.approx(float(_mp_alpha(n)), rel=1e-14, abs=0)


def test_log_alpha_n_keeps_relative_accuracy_at_huge_n():
    # log α(n) ≈ −1/(4(n−1)); its relative accuracy decides α(n)^k for k ~ n.
    for n in [10**4, 10**7, 10**9]:
        mpmath.mp.dps = 60
        exact = float(mpmath.log(_mp_alpha(n)))
        assert log_alpha_n(n) == pytest.approx(exact, rel=1e-9)


def test_alpha_n_small_n_closed_forms():
    # α(2) = √(2/π), α(3) = √π/2
    assert alpha_n(2) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-15)
    assert alpha_n(3) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-15)
    arr = alpha_n(np.array([2, 3]))
    assert arr.shape == (2,)
    assert np.all(np.diff(alpha_n(np.arange(2, 200))) > 0)


def test_alpha_n_matches_monte_carlo():
    # E√χ²_{n−1}/√(n−1), z = 5.3 (two-sided false-failure probability ~1e-7)
    rng = np.random.default_rng((11, TEST_SEED))
    n = 5
    x = np.sqrt(rng.chisquare(n - 1, size=400_000) / (n - 1))
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - alpha_n(n)) <= 5.3 * se


_GRID = [
    (a, delta)
    for a in [0.05, 0.5, 1.0, 4.5, 11.99, 12.0, 40.0, 5e3, 5e6]
    for delta in [1e-8, 0.35, -0.3, 2.5, 1e-3j, 0.7j, 13j, 400j, 1.5 + 2j, -0.2 + 30j]
    if (a + delta).real > 0
]


@pytest.mark.parametrize(("a", "delta"), _GRID)
def test_log_gamma_ratio_matches_mpmath(a, delta):
    mpmath.mp.dps = 50
    exact = mpmath.loggamma(mpmath.mpf(a) + mpmath.mpc(delta)) - mpmath.loggamma(mpmath.mpf(a))
    centred = exact - mpmath.mpc(delta) * mpmath.log(mpmath.mpf(a))
    got = complex(log_gamma_ratio(a, delta))
    got_c = complex(log_gamma_ratio_centered(a, delta))
    # real parts exactly, imaginary parts modulo 2π (branches differ by 2πi)
    tol = 2e-15 * max(1.0, abs(complex(exact)))
    assert abs(got.real - float(exact.real)) <= tol
    assert abs(np.exp(1j * (got.imag - float(exact.imag))) - 1) <= tol
    # centred increments have absolute error ~1e-16·|δ| even for huge a
    tol_c = 1e-14 * max(1.0, abs(delta))
    assert abs(got_c.real - float(centred.real)) <= tol_c
    assert abs(np.exp(1j * (got_c.imag - float(centred.imag))) - 1) <= tol_c


def test_log_gamma_ratio_near_the_pole():
    mpmath.mp.dps = 50
    for a, d in [(0.5, -0.499), (4.5, -4.49), (50.0, -49.5), (11.9, -11.8)]:
        exact = float(mpmath.loggamma(a + d) - mpmath.loggamma(a))
        assert float(log_gamma_ratio(a, d).real) == pytest.approx(exact, rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("a", [0.01, 0.3, 2.0, 11.9, 12.0, 13.0, 100.0, 1e4, 1e8])
def test_digamma_minus_log(a):
    mpmath.mp.dps = 50
    exact = float(mpmath.digamma(a) - mpmath.log(a))
    assert float(digamma_minus_log(a)) == pytest.approx(exact, rel=1e-13)
    if a < 1e3:
        assert float(digamma_minus_log(a)) == pytest.approx(
            special.digamma(a) - math.log(a), rel=1e-12
        )


def test_fit_divisor():
    assert fit_divisor(10, "mle") == 10.0
    assert fit_divisor(10, "unbiased") == 9.0
    np.testing.assert_array_equal(fit_divisor(np.array([2, 5]), "unbiased"), [1.0, 4.0])
    with pytest.raises(ValueError, match="n_points"):
        fit_divisor(1, "unbiased")
    with pytest.raises(ValueError, match="estimator"):
        fit_divisor(5, "ddof1")


def test_validators_name_the_argument():
    assert check_estimator("mle") == "mle"
    with pytest.raises(ValueError, match="estimator"):
        check_estimator(None)
    assert check_positive_int("n", 3.0) == 3
    for bad in [2.5, float("nan"), float("inf"), True, "3", 0]:
        with pytest.raises(ValueError, match="n must be an integer >= 1"):
            check_positive_int("n", bad)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        check_positive_int("n", 1, minimum=2)
    assert check_positive_float("temperature", 2) == 2.0
    for bad in [0.0, -1.0, float("nan"), float("inf"), None]:
        with pytest.raises(ValueError, match="temperature"):
            check_positive_float("temperature", bad)
    assert check_positive_float("x", 0.0, allow_zero=True) == 0.0
    np.testing.assert_array_equal(check_int_array("t", [0, 3]), [0, 3])
    for bad in [[-1], [0.5], [np.nan], [], [True]]:
        with pytest.raises(ValueError, match="t must be"):
            check_int_array("t", bad)
    with pytest.raises(ValueError, match="x must be finite"):
        check_real_array("x", [1.0, np.inf])
    assert check_real_array("x", [-np.inf], allow_inf=True)[0] == -np.inf
    with pytest.raises(ValueError, match="x must be non-NaN"):
        check_real_array("x", [np.nan], allow_inf=True)
