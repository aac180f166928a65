"""JAX's default random numbers, bit for bit, as straight-line code that XLA vectorizes.

``jax.random`` draws with the Threefry-2x32 counter-based generator (Salmon, Moraes, Dror and
Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3", SC'11): a 20-round hash of a 64-bit
counter under a 64-bit key. On a CPU, JAX lowers the hash as a rolled loop of five 4-round
iterations (to keep compile times short), which stores and reloads the whole state between
iterations and costs about 5 ns per 64-bit draw on this project's reference machine; the same
hash written out as 20 rounds of elementwise ``jnp`` operations is fused by XLA into one
vectorized kernel and costs about 2 ns (``selfconsuming bench`` runs both).

The functions below reproduce ``jax.random.fold_in`` and ``jax.random.uniform`` exactly (the
same bits, float64 and float32), and ``jax.random.normal`` to the last bit of erf⁻¹ (its
polynomial, fused into a different program, may round one ulp differently), so the engines that
use them draw the same streams as ``jax.random`` would. They apply to the default generator with
JAX's default ``jax_threefry_partitionable=True`` layout; for another generator
(``jax.random.key(..., impl="rbg")``, say) or the legacy layout they call ``jax.random`` itself.

Threefry-2x32 with 20 rounds (Salmon et al. 2011; the Random123 reference ``threefry2x32_R(20)``):
with key (k₀, k₁), k₂ = k₀ ⊕ k₁ ⊕ 0x1BD11BDA and counter (x₀, x₁), x₀ += k₀, x₁ += k₁, then five
groups of four rounds ``x₀ += x₁; x₁ = rotl(x₁, r); x₁ ^= x₀`` with rotations (13, 15, 26, 6)
and (17, 29, 16, 24) alternately, each group followed by the key injection
x₀ += k_{(s+1) mod 3}, x₁ += k_{(s+2) mod 3} + s + 1 (s = 0 … 4).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x: Array, r: int) -> Array:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0: Array, k1: Array, x0: Array, x1: Array) -> tuple[Array, Array]:
    """The Threefry-2x32 hash (20 rounds) of counters (x₀, x₁) under key (k₀, k₁), all uint32
    and broadcast together; the module docstring gives the rounds."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for s in range(5):
        for r in _ROTATIONS[s % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(s + 1) % 3]
        x1 = x1 + ks[(s + 2) % 3] + np.uint32(s + 1)
    return x0, x1


def _native(key) -> bool:
    """Whether ``key`` is a typed key of JAX's default generator (decided at trace time)."""
    return (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
            and str(jax.random.key_impl(key)) == "threefry2x32")


def _words(key) -> tuple[Array, Array]:
    data = jax.random.key_data(key)
    return data[..., 0], data[..., 1]


def fold_in(key, data) -> Array:
    """``jax.random.fold_in(key, data)``, bit for bit: the key's hash of the counter (0, data).
    ``key`` a typed key (any batch shape), ``data`` a uint32-representable integer scalar."""
    if not _native(key):
        return jax.random.fold_in(key, data)
    k0, k1 = _words(key)
    y0, y1 = threefry2x32(k0, k1, jnp.zeros((), jnp.uint32), jnp.asarray(data, jnp.uint32))
    return jax.random.wrap_key_data(jnp.stack([y0, y1], axis=-1), impl="threefry2x32")


def _uniform_bits(k0, k1, counter: Array, dtype) -> Array:
    y0, y1 = threefry2x32(k0, k1, jnp.zeros_like(counter), counter)
    if dtype == jnp.float64:
        bits = (y0.astype(jnp.uint64) << np.uint64(32)) | y1.astype(jnp.uint64)
        bits = (bits >> np.uint64(64 - 52)) | np.uint64(0x3FF0000000000000)
    else:
        bits = ((y0 ^ y1) >> np.uint32(32 - 23)) | np.uint32(0x3F800000)
    return jax.lax.bitcast_convert_type(bits, dtype) - jnp.asarray(1.0, dtype)


def _supported(key, dtype, size: int) -> bool:
    return (_native(key) and not key.shape and dtype in (jnp.float32, jnp.float64)
            and jax.config.jax_threefry_partitionable and size < 2**32)


def uniform(key, shape: tuple[int, ...], dtype=jnp.float64) -> Array:
    """``jax.random.uniform(key, shape, dtype)`` on [0, 1), bit for bit, for a single typed key.

    Value i (row-major) comes from the hash (y₀, y₁) of the counter (0, i): a 64-bit float takes
    the top 52 bits of y₀·2³² + y₁ as its mantissa, a 32-bit float the top 23 bits of y₀ ⊕ y₁
    (so u = 1.mantissa − 1, a multiple of 2⁻⁵² or 2⁻²³)."""
    dtype = jnp.dtype(jax.dtypes.canonicalize_dtype(dtype))
    size = math.prod(shape)
    if not _supported(key, dtype, size):
        return jax.random.uniform(key, shape, dtype)
    k0, k1 = _words(key)
    return _uniform_bits(k0, k1, jnp.arange(size, dtype=jnp.uint32).reshape(shape), dtype)


def uniform_rows(key, rows: int, cols: int, dtype=jnp.float64, chunks: int = 2) -> Array:
    """``uniform(key, (rows, cols), dtype)``, the same values, computed by a ``lax.map`` over
    ``chunks`` slices of ⌈rows/chunks⌉ rows (the last rows past ``rows`` are dropped).

    XLA fuses a cheap elementwise producer such as the hash into each of its consumers,
    recomputing it once per consumer and, in a concatenation, without vectorizing it; a loop's
    output is stored once instead. For arrays read by several consumers (Box–Muller's cosine
    and sine of each pair, say) this halves the work."""
    dtype = jnp.dtype(jax.dtypes.canonicalize_dtype(dtype))
    per = -(-rows // chunks)
    if not _supported(key, dtype, per * chunks * cols) or chunks < 2:
        return uniform(key, (rows, cols), dtype)
    k0, k1 = _words(key)
    local = jnp.arange(per * cols, dtype=jnp.uint32).reshape(per, cols)

    def chunk(c):
        return _uniform_bits(k0, k1, local + c * np.uint32(per * cols), dtype)

    out = jax.lax.map(chunk, jnp.arange(chunks, dtype=jnp.uint32))
    return out.reshape(per * chunks, cols)[:rows]


def normal(key, shape: tuple[int, ...], dtype=jnp.float64) -> Array:
    """``jax.random.normal(key, shape, dtype)`` for a single typed key (the same uniforms; erf⁻¹
    to an ulp, see the module docstring): √2 · erf⁻¹(v) with v uniform on (−1, 1),
    v = lo + (1 − lo)·u for :func:`uniform`'s u and lo the float just above −1 (clipped at lo)."""
    dtype = jnp.dtype(jax.dtypes.canonicalize_dtype(dtype))
    if not _supported(key, dtype, math.prod(shape)):
        return jax.random.normal(key, shape, dtype)
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    hi = np.array(1.0, dtype)
    v = jnp.maximum(lo, uniform(key, shape, dtype) * (hi - lo) + lo)
    return np.array(np.sqrt(2), dtype) * jax.lax.erf_inv(v)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
