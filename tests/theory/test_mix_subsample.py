"""Known-covariance mix and accumulate-subsample closed forms against direct numpy loops."""

import numpy as np
import pytest

from tests.helpers import TEST_SEED, assert_mean_close
from theory import (
    accumulate_subsample_mean_error2_known_cov,
    mix_mean_error2_known_cov,
    subsample_risk_ratio,
)


def test_mix_known_cov_against_numpy_loop():
    rng = np.random.default_rng([TEST_SEED, 101])
    n, m, tau, T, R = 12, 7, 0.8, 6, 200_000
    real = rng.normal(size=(R, n))
    rbar = real.mean(1)
    mu = rbar.copy()
    for _ in range(T):
        s = mu[:, None] + np.sqrt(tau) * rng.normal(size=(R, m))
        mu = (n * rbar + s.sum(1)) / (n + m)
    assert_mean_close(mu**2, mix_mean_error2_known_cov(T, n, 1.0, n_synthetic=m,
                                                       temperature=tau), "mix")


def test_subsample_known_cov_against_numpy_loop():
    """A direct loop keeping the pool and drawing subsets with argsort of uniforms."""
    rng = np.random.default_rng([TEST_SEED, 102])
    n, m, tau, T, R = 6, 4, 1.3, 5, 100_000
    pool = rng.normal(size=(R, n))
    e = pool.mean(1)
    errs = [e]
    for _ in range(T):
        batch = e[:, None] + np.sqrt(tau) * rng.normal(size=(R, m))
        pool = np.concatenate([pool, batch], axis=1)
        idx = np.argsort(rng.random(pool.shape), axis=1)[:, :n]
        e = np.take_along_axis(pool, idx, axis=1).mean(1)
        errs.append(e)
    exact = accumulate_subsample_mean_error2_known_cov(T, n, 1.0, n_synthetic=m, temperature=tau)
    for t in (1, T):
        assert_mean_close(errs[t] ** 2, exact[t], f"t={t}")


def test_subsample_tends_to_gaussian_process_limit():
    big = 10**7
    scaled = accumulate_subsample_mean_error2_known_cov(19, big, 1.0) * big
    for g in (1, 2, 10, 20):
        assert scaled[g - 1] == pytest.approx(subsample_risk_ratio(g), rel=1e-5)


def test_trace_scaling_and_validation():
    a = accumulate_subsample_mean_error2_known_cov(4, 5, 1.0)
    np.testing.assert_allclose(accumulate_subsample_mean_error2_known_cov(4, 5, 3.0), 3 * a)
    assert mix_mean_error2_known_cov(0, 9, 2.0, n_synthetic=3) == pytest.approx(2.0 / 9)
    with pytest.raises(ValueError, match="n_synthetic"):
        mix_mean_error2_known_cov(3, 9, 1.0, n_synthetic=0)
    with pytest.raises(ValueError, match="temperature"):
        accumulate_subsample_mean_error2_known_cov(3, 9, 1.0, temperature=-1.0)
    with pytest.raises(ValueError, match="t must"):
        mix_mean_error2_known_cov(-1, 9, 1.0, n_synthetic=2)
