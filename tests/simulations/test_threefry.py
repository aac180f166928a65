"""simulations.threefry reproduces jax.random bit for bit (and the Random123 answers).

Bits, keys and uniforms are compared bit for bit although they come from different programs:
they are integer operations and the exact float operations u = 1.mantissa − 1 (no rounding
that a compiler could change). Normals go through erf⁻¹ and are compared to rounding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulations import threefry

# Random123's known-answer vectors for threefry2x32 with 20 rounds (kat_vectors):
# counter (x0, x1), key (k0, k1) -> (y0, y1)
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_threefry2x32_known_answers(counter, key, expected):
    u = jnp.uint32
    y = threefry.threefry2x32(u(key[0]), u(key[1]), u(counter[0]), u(counter[1]))
    assert tuple(int(v) for v in y) == expected


KEYS = jax.random.split(jax.random.key(20240501), 5)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 4), (16, 9), (2, 3, 5)])
def test_uniform_equals_jax_random(shape, dtype):
    """Same bits as jax.random.uniform, under jit and vmap, for odd and even sizes."""
    ours = jax.jit(jax.vmap(lambda k: threefry.uniform(k, shape, dtype)))(KEYS)
    ref = jax.vmap(lambda k: jax.random.uniform(k, shape, dtype))(KEYS)
    assert ours.dtype == ref.dtype == jnp.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


@given(data=st.integers(0, 2**32 - 1))
def test_fold_in_equals_jax_random(data):
    ours = jax.random.key_data(threefry.fold_in(KEYS, data))
    ref = jax.random.key_data(jax.vmap(lambda k: jax.random.fold_in(k, data))(KEYS))
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


@pytest.mark.parametrize("rows,cols,chunks", [(16, 8, 2), (11, 3, 2), (5, 7, 3), (1, 4, 2),
                                              (16, 8, 1)])
def test_uniform_rows_equals_uniform(rows, cols, chunks):
    """The chunked draw returns the same array, whatever the chunking (rows not a multiple of
    the chunk count included)."""
    ours = jax.jit(jax.vmap(lambda k: threefry.uniform_rows(k, rows, cols, jnp.float64,
                                                            chunks)))(KEYS)
    ref = jax.vmap(lambda k: jax.random.uniform(k, (rows, cols), jnp.float64))(KEYS)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


def test_other_generators_fall_back_to_jax_random():
    """A key of another generator (rbg) gets jax.random's own numbers."""
    key = jax.random.key(3, impl="rbg")
    np.testing.assert_array_equal(np.asarray(threefry.uniform(key, (4, 3))),
                                  np.asarray(jax.random.uniform(key, (4, 3))))
    np.testing.assert_array_equal(np.asarray(threefry.uniform_rows(key, 4, 3)),
                                  np.asarray(jax.random.uniform(key, (4, 3))))
    np.testing.assert_array_equal(np.asarray(threefry.normal(key, (5,))),
                                  np.asarray(jax.random.normal(key, (5,))))
    np.testing.assert_array_equal(jax.random.key_data(threefry.fold_in(key, 9)),
                                  jax.random.key_data(jax.random.fold_in(key, 9)))


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("shape", [(), (5,), (2, 1000), (3, 7)])
def test_normal_equals_jax_random(shape, dtype):
    """The same uniforms (bit for bit, above) through the same √2·erf⁻¹(v): equal to rounding.
    The two are different compiled programs, and XLA's erf⁻¹ is a polynomial whose last bit
    may depend on the fusion around it (FMA contraction): 4 ε relative, as for the same
    normals in test_correctors.py's OT test. v = lo + (1 − lo)u itself is exact in both
    ((1 − lo) rounds to 2, so (1 − lo)u is exact), so the difference is erf⁻¹'s rounding only."""
    ours = jax.jit(jax.vmap(lambda k: threefry.normal(k, shape, dtype)))(KEYS)
    ref = jax.vmap(lambda k: jax.random.normal(k, shape, dtype))(KEYS)
    assert ours.dtype == ref.dtype == jnp.dtype(dtype)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref),
                               rtol=4 * np.finfo(dtype).eps, atol=0)
