"""The fresh-data moment recursion (theory.fresh) against direct simulation of the pooled loop,
iteration of the recursion, and the replace loop as a special case."""

import math

import numpy as np
import pytest

from tests.helpers import TEST_SEED
from theory.fresh import fresh_fixed_point, fresh_moments, fresh_recursion_matrix
from theory.replace import replace_expected_cov, replace_mean_error2

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison

MU0 = np.array([-1.0, 2.0])
SIGMA0 = np.array([[0.7, 0.3], [0.3, 1.9]])


def _check_mean(samples, exact, label):
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    assert abs(samples.mean() - exact) <= Z * se, (label, samples.mean(), exact, se)


def _fit(x, estimator):
    mean = x.mean(axis=1)
    centred = x - mean[:, None, :]
    div = x.shape[1] - (1 if estimator == "unbiased" else 0)
    return mean, np.einsum("rni,rnj->rij", centred, centred) / div


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize("tau", [0.8, 1.2])
def test_fresh_matches_direct_simulation(estimator, tau):
    n_r, n_s, n_init, generations, reps = 5, 7, 9, 4, 30_000
    rng = np.random.default_rng((500 + int(10 * tau) + (estimator == "mle"), TEST_SEED))
    chol0 = np.linalg.cholesky(SIGMA0)
    mean, cov = _fit(MU0 + rng.standard_normal((reps, n_init, 2)) @ chol0.T, estimator)
    c0 = float(np.trace(SIGMA0))
    m_t, c_t = fresh_moments(
        np.arange(generations + 1),
        n_r,
        n_s,
        c0,
        estimator=estimator,
        temperature=tau,
        n_initial=n_init,
    )
    for t in range(generations + 1):
        if t > 0:
            real = MU0 + rng.standard_normal((reps, n_r, 2)) @ chol0.T
            chol = np.linalg.cholesky(tau * cov)
            synth = mean[:, None, :] + np.einsum(
                "rij,rnj->rni", chol, rng.standard_normal((reps, n_s, 2))
            )
            mean, cov = _fit(np.concatenate([real, synth], axis=1), estimator)
        err = mean - MU0
        _check_mean(np.sum(err**2, axis=1), m_t[t], f"M t={t}")
        _check_mean(np.trace(cov, axis1=1, axis2=2), c_t[t], f"C t={t}")
        # matrix versions: E(μ−μ0)(μ−μ0)ᵀ = (M_t/c0)Σ0 and EΣ_t = (C_t/c0)Σ0
        for i, j in [(0, 0), (0, 1), (1, 1)]:
            _check_mean(err[:, i] * err[:, j], m_t[t] / c0 * SIGMA0[i, j], f"outer{i}{j}")
            _check_mean(cov[:, i, j], c_t[t] / c0 * SIGMA0[i, j], f"cov{i}{j}")


def _iterate(t, n_r, n_s, c0, estimator, tau, n_init):
    """Plain iteration of the recursion as written in the reference notes (§2)."""
    big_n = n_r + n_s
    div = big_n - 1 if estimator == "unbiased" else big_n
    div0 = n_init - 1 if estimator == "unbiased" else n_init
    m, c = c0 / n_init, c0 * (n_init - 1) / div0
    for _ in range(t):
        m, c = (
            (n_r * c0 + n_s**2 * m + n_s * tau * c) / big_n**2,
            (
                (n_r - 1 + n_s / big_n) * c0
                + tau * (n_s - 1 + n_r / big_n) * c
                + (n_r * n_s / big_n) * m
            )
            / div,
        )
    return m, c


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize(("n_r", "n_s", "tau"), [(10, 30, 0.9), (100, 900, 1.0), (3, 2, 1.5)])
def test_fixed_point_matches_iteration(estimator, n_r, n_s, tau):
    c0 = 2.0
    for t in [0, 1, 7, 40]:
        got = fresh_moments(t, n_r, n_s, c0, estimator=estimator, temperature=tau, n_initial=50)
        ref = _iterate(t, n_r, n_s, c0, estimator, tau, 50)
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    m_star, c_star = fresh_fixed_point(n_r, n_s, c0, estimator=estimator, temperature=tau)
    far = _iterate(5000, n_r, n_s, c0, estimator, tau, 50)
    np.testing.assert_allclose((m_star, c_star), far, rtol=1e-10)
    # independent of n_initial (MAD, Eq. 3)
    for n_init in [2, 7, 1000]:
        got = fresh_moments(
            5000, n_r, n_s, c0, estimator=estimator, temperature=tau, n_initial=n_init
        )
        np.testing.assert_allclose(got, (m_star, c_star), rtol=1e-10)
    # fixed point of the map: x* = A x* + b
    a, b = fresh_recursion_matrix(n_r, n_s, c0, estimator=estimator, temperature=tau)
    np.testing.assert_allclose(a @ np.array([m_star, c_star]) + b, [m_star, c_star], rtol=1e-13)


def test_mad_fresh_data_example():
    # reference notes §2 (MC there: M = 0.0901, C = 1.5904 at t = 40): d = 2 (c0 = 2),
    # n_r = 10, n_s = 30, λ = 0.9, unbiased. The mean beats real-only fits (M = c0/n_r = 0.2)
    # while the covariance shrinks to about 0.80 Σ0 (the notes' rounded statement).
    m_star, c_star = fresh_fixed_point(10, 30, 2.0, estimator="unbiased", temperature=0.9)
    assert m_star < 0.5 * 2.0 / 10
    assert c_star / 2.0 == pytest.approx(0.80, abs=0.005)


def test_special_cases_real_only_and_replace():
    # n_s = 0: independent fits on n_r real points
    m, c = fresh_moments(3, 12, 0, 2.0, estimator="mle")
    assert m == pytest.approx(2.0 / 12) and c == pytest.approx(2.0 * 11 / 12)
    # n_r = 0: the replace loop with n = n_s points
    t = np.arange(0, 12)
    for estimator in ["mle", "unbiased"]:
        m, c = fresh_moments(t, 0, 8, 2.0, estimator=estimator, temperature=0.7, n_initial=8)
        np.testing.assert_allclose(
            m, replace_mean_error2(t, 8, 2.0, estimator=estimator, temperature=0.7), rtol=1e-12
        )
        np.testing.assert_allclose(
            c, replace_expected_cov(t, 8, 2.0, estimator=estimator, temperature=0.7), rtol=1e-12
        )


def test_no_fixed_point_raises():
    with pytest.raises(ValueError, match="no fixed point"):
        fresh_fixed_point(0, 10, 1.0, estimator="unbiased")  # replace, τ = 1: ρ = 1
    with pytest.raises(ValueError, match="no fixed point"):
        fresh_fixed_point(1, 50, 1.0, estimator="mle", temperature=3.0)


def test_shapes_and_types():
    m, c = fresh_moments(4, 5, 5, 1.0, estimator="mle")
    assert isinstance(m, float) and isinstance(c, float)
    m, c = fresh_moments(np.array([[0, 1], [2, 3]]), 5, 5, 1.0, estimator="mle")
    assert m.shape == c.shape == (2, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fresh_moments(1, 5, 5, 1.0, estimator="x"), "estimator"),
        (lambda: fresh_moments(1, -1, 5, 1.0, estimator="mle"), "n_real"),
        (lambda: fresh_moments(1, 5, 1.5, 1.0, estimator="mle"), "n_synthetic"),
        (lambda: fresh_moments(1, 1, 0, 1.0, estimator="mle"), "n_real \\+ n_synthetic"),
        (lambda: fresh_moments(1, 1, 3, 1.0, estimator="mle"), "n_initial"),
        (lambda: fresh_moments(1, 5, 5, 1.0, estimator="mle", n_initial=1), "n_initial"),
        (lambda: fresh_moments(-2, 5, 5, 1.0, estimator="mle"), "t must be"),
        (lambda: fresh_moments(1, 5, 5, 0.0, estimator="mle"), "trace0"),
        (lambda: fresh_fixed_point(5, 5, 1.0, estimator="mle", temperature=np.nan), "temperature"),
    ],
)
def test_fresh_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
