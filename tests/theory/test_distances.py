"""Gaussian distances against independent routes (scipy.linalg.sqrtm, numpy formulas, sampling)."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from theory import gaussian_kl, gaussian_logdet, gaussian_w2, gaussian_w2_squared, sqrtm_psd


def _random_spd(rng, d, scale=1.0):
    a = rng.normal(size=(d, d))
    return scale * (a @ a.T + 0.3 * np.eye(d))


def _w2sq_scipy(m1, c1, m2, c2):
    r2 = scipy.linalg.sqrtm(c2)
    cross = scipy.linalg.sqrtm(r2 @ c1 @ r2)
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * np.real(cross)))


def _kl_numpy(m1, c1, m2, c2):
    d = len(m1)
    inv2 = np.linalg.inv(c2)
    dm = m2 - m1
    return 0.5 * (np.trace(inv2 @ c1) + dm @ inv2 @ dm - d
                  + np.linalg.slogdet(c2)[1] - np.linalg.slogdet(c1)[1])


@pytest.mark.parametrize("d", [1, 2, 5])
def test_w2_and_kl_match_independent_formulas(d):
    rng = np.random.default_rng(d)
    for _ in range(5):
        m1, m2 = rng.normal(size=d), rng.normal(size=d)
        c1, c2 = _random_spd(rng, d), _random_spd(rng, d, 2.0)
        assert float(gaussian_w2_squared(m1, c1, m2, c2)) == pytest.approx(
            _w2sq_scipy(m1, c1, m2, c2), rel=1e-9, abs=1e-12)
        assert float(gaussian_kl(m1, c1, m2, c2)) == pytest.approx(
            _kl_numpy(m1, c1, m2, c2), rel=1e-9)
        assert float(gaussian_logdet(c1)) == pytest.approx(np.linalg.slogdet(c1)[1], rel=1e-12)


def test_one_dimensional_closed_forms():
    # W2² = (m1 − m2)² + (s1 − s2)²;  KL = log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − 1/2
    m1, s1, m2, s2 = 0.3, 1.7, -1.2, 0.6
    c1, c2 = np.array([[s1**2]]), np.array([[s2**2]])
    assert float(gaussian_w2(np.array([m1]), c1, np.array([m2]), c2)) == pytest.approx(
        np.hypot(m1 - m2, s1 - s2), rel=1e-12)
    kl = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    assert float(gaussian_kl(np.array([m1]), c1, np.array([m2]), c2)) == pytest.approx(kl)


def test_kl_matches_monte_carlo_log_ratio():
    """KL(p‖q) = E_p[log p − log q]: 4·10⁵ draws, |diff| ≤ 5.3 SE (false failure ~1e-7)."""
    rng = np.random.default_rng(0)
    d = 3
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _random_spd(rng, d), _random_spd(rng, d)
    x = rng.multivariate_normal(m1, c1, size=400_000)
    from scipy.stats import multivariate_normal as mvn

    ratio = mvn(m1, c1).logpdf(x) - mvn(m2, c2).logpdf(x)
    se = ratio.std() / np.sqrt(len(x))
    assert abs(ratio.mean() - float(gaussian_kl(m1, c1, m2, c2))) <= 5.3 * se


def test_batched_broadcasting():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(4, 3, 2))
    covs = np.stack([[_random_spd(rng, 2) for _ in range(3)] for _ in range(4)])
    out = np.asarray(gaussian_w2_squared(means, covs, np.zeros(2), np.eye(2)))
    assert out.shape == (4, 3)
    assert out[2, 1] == pytest.approx(
        _w2sq_scipy(means[2, 1], covs[2, 1], np.zeros(2), np.eye(2)), rel=1e-9)


def test_degenerate_laws_give_inf_not_nan():
    z = np.zeros((2, 2))
    assert float(gaussian_kl(np.zeros(2), z, np.zeros(2), np.eye(2))) == np.inf
    assert float(gaussian_kl(np.zeros(2), np.eye(2), np.zeros(2), z)) == np.inf
    assert float(gaussian_logdet(z)) == -np.inf
    # W2 to a point mass: ‖m‖² + tr Σ
    assert float(gaussian_w2_squared(np.ones(2), np.eye(2), np.zeros(2), z)) == pytest.approx(4.0)


@given(st.integers(1, 4), st.integers(0, 10_000))
def test_metric_properties(d, seed):
    rng = np.random.default_rng(seed)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _random_spd(rng, d), _random_spd(rng, d)
    w12 = float(gaussian_w2(m1, c1, m2, c2))
    assert w12 == pytest.approx(float(gaussian_w2(m2, c2, m1, c1)), rel=1e-8, abs=1e-10)
    assert float(gaussian_w2(m1, c1, m1, c1)) == pytest.approx(0.0, abs=1e-6)
    assert float(gaussian_kl(m1, c1, m1, c1)) == pytest.approx(0.0, abs=1e-10)
    assert float(gaussian_kl(m1, c1, m2, c2)) >= 0
    root = np.asarray(sqrtm_psd(c1))
    np.testing.assert_allclose(root @ root, c1, rtol=1e-9, atol=1e-10)


def test_closed_form_small_eigh_matches_lapack():
    from theory.distances import symmetric_eigh

    rng = np.random.default_rng(3)
    for d in (1, 2):
        mats = np.stack([_random_spd(rng, d) for _ in range(50)])
        mats[0] = np.diag(np.arange(1.0, d + 1.0)[::-1])  # already diagonal, descending
        w, u = (np.asarray(x) for x in symmetric_eigh(mats))
        np.testing.assert_allclose(w, np.linalg.eigvalsh(mats), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(u @ (w[..., None] * np.swapaxes(u, -1, -2)), mats,
                                   rtol=1e-12, atol=1e-13)
    # nearly singular 2×2: the small eigenvalue keeps its relative accuracy
    eps = 1e-12
    a = np.array([[1.0, 1.0], [1.0, 1.0 + eps]])
    small = float(symmetric_eigh(a)[0][0])
    assert small == pytest.approx(eps / (2 + eps), rel=1e-3)


@pytest.mark.parametrize("dtype, tiny", [(np.float64, 1e-200), (np.float32, 1e-20)])
def test_small_eigh_does_not_underflow(dtype, tiny):
    """Covariances far below sqrt(tiny) keep both eigenvalues (a collapsing loop must not turn
    rank-deficient through rounding)."""
    import jax.numpy as jnp

    from theory.distances import symmetric_eigh

    a = jnp.asarray(tiny * np.array([[1.0, 0.3], [0.3, 2.0]]), dtype=dtype)
    w = np.asarray(symmetric_eigh(a)[0], dtype=np.float64)
    expected = tiny * np.linalg.eigvalsh(np.array([[1.0, 0.3], [0.3, 2.0]]))
    np.testing.assert_allclose(w, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    w_iso = np.asarray(symmetric_eigh(jnp.asarray(tiny * np.eye(2), dtype=dtype))[0])
    assert np.all(w_iso > 0)
