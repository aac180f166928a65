"""theory.linalg against NumPy's LAPACK: the same values to a few ulps of the conditioning."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import linalg

DIMS = (1, 2, 3, 4, 6)


def _spd(rng, batch, d, jitter=0.1):
    a = rng.normal(size=batch + (d, d))
    return a @ np.swapaxes(a, -1, -2) / d + jitter * np.eye(d)


def _close(x, y, cond, dtype=np.float64):
    """|x − y| ≤ 64 ε κ max|y|: a backward-stable method on a matrix of condition number κ."""
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(np.asarray(x, np.float64), y, rtol=0,
                               atol=64 * eps * cond * max(np.abs(y).max(), 1e-300))


@pytest.mark.parametrize("d", DIMS)
def test_cholesky_and_solves_match_lapack(d):
    rng = np.random.default_rng(d)
    a = _spd(rng, (40,), d)
    cond = np.linalg.cond(a).max()
    low = jax.jit(linalg.cholesky)(a)
    _close(low, np.linalg.cholesky(a), cond)
    b = rng.normal(size=(40, d, 3))
    _close(linalg.solve_lower(low, b), np.linalg.solve(np.linalg.cholesky(a), b), cond)
    _close(linalg.cho_solve(low, b), np.linalg.solve(a, b), cond**2)
    _close(linalg.cholesky_logdet(low), np.linalg.slogdet(a)[1], cond)


@pytest.mark.parametrize("d", DIMS)
def test_general_solve_and_slogdet_match_lapack(d):
    rng = np.random.default_rng(10 + d)
    a = rng.normal(size=(60, d, d))
    cond = np.linalg.cond(a).max()
    b = rng.normal(size=(60, d, 2))
    _close(jax.jit(linalg.solve)(a, b), np.linalg.solve(a, b), cond)
    sign, logdet = jax.jit(linalg.slogdet)(a)
    ref_sign, ref_logdet = np.linalg.slogdet(a)
    np.testing.assert_array_equal(np.asarray(sign), ref_sign)
    _close(logdet, ref_logdet, cond)
    # leading axes broadcast: one matrix, several right-hand sides
    _close(linalg.solve(a[0], b), np.linalg.solve(a[0], b), cond)


@pytest.mark.parametrize("d, dtype", [(1, np.float64), (3, np.float64), (3, np.float32),
                                      (4, np.float64), (6, np.float64)])
def test_eigh_matches_lapack(d, dtype):
    rng = np.random.default_rng(20 + d)
    a = _spd(rng, (30,), d).astype(dtype)
    w, v = jax.jit(linalg.eigh)(a)
    assert w.dtype == dtype and v.dtype == dtype
    ref = np.linalg.eigvalsh(a.astype(np.float64))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(np.asarray(w, np.float64), ref, rtol=0,
                               atol=16 * d * eps * ref[:, -1:].max())
    w64, v64 = np.asarray(w, np.float64), np.asarray(v, np.float64)
    recon = v64 @ (w64[..., None] * np.swapaxes(v64, -1, -2))
    np.testing.assert_allclose(recon, a, rtol=0, atol=16 * d * eps * np.abs(a).max())
    np.testing.assert_allclose(np.swapaxes(v64, -1, -2) @ v64, np.broadcast_to(np.eye(d), a.shape),
                               rtol=0, atol=16 * d * eps)
    np.testing.assert_allclose(np.asarray(linalg.eigvalsh(a), np.float64), w64, rtol=0,
                               atol=16 * d * eps * ref[:, -1:].max())


def test_degenerate_inputs():
    """Not positive definite → NaN factor (as jnp.linalg.cholesky); singular → slogdet (0, −∞);
    repeated, tiny (1e-200 I) and zero matrices; NaN in, NaN out (and the Jacobi loop ends)."""
    assert np.isnan(np.asarray(linalg.cholesky(-np.eye(3)))).all()
    assert np.isnan(np.asarray(linalg.cholesky(np.diag([1.0, 0.0, 1.0])))).all()
    sign, logdet = linalg.slogdet(np.ones((3, 3)))
    assert float(sign) == 0.0 and float(logdet) == -np.inf
    for scale in (1e-200, 1.0, 1e200):
        w, v = linalg.eigh(scale * np.eye(4))
        np.testing.assert_array_equal(np.asarray(w), np.full(4, scale))
        np.testing.assert_array_equal(np.asarray(v), np.eye(4))
    np.testing.assert_array_equal(np.asarray(linalg.eigh(np.zeros((3, 3)))[0]), np.zeros(3))
    assert np.isnan(np.asarray(linalg.eigh(np.full((3, 3), np.nan))[0])).all()
    rank1 = np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(linalg.eigvalsh(rank1)), [0.0, 0.0, 14.0], atol=1e-14)


def test_eigh_derivative_matches_jnp():
    rng = np.random.default_rng(3)
    a = _spd(rng, (5,), 3)

    def loss(eig):
        def f(m):
            w, v = eig(m)
            return jnp.sum(w**2) + jnp.sum(v[..., 0] ** 2 * jnp.arange(3.0))
        return f

    np.testing.assert_allclose(np.asarray(jax.grad(loss(linalg.eigh))(a)),
                               np.asarray(jax.grad(loss(jnp.linalg.eigh))(a)), atol=1e-10)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="square"):
        linalg.cholesky(np.ones((2, 3)))
    with pytest.raises(ValueError, match="b must have shape"):
        linalg.solve(np.eye(3), np.ones((2, 1)))


@given(st.integers(3, 4), st.integers(0, 2**31 - 1), st.floats(-150, 150))
def test_eigh_reconstructs_any_symmetric_matrix(d, seed, log_scale):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) * 10.0 ** (log_scale / 10)
    a = a + a.T
    w, v = (np.asarray(x) for x in linalg.eigh(a))
    assert np.all(np.diff(w) >= 0)
    scale = np.abs(a).max()
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, a, rtol=0, atol=64 * 2.2e-16 * d * scale)
