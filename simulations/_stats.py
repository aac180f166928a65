"""Sufficient statistics of Gaussian samples and their exact pooling.

``Stats(count, mean, scatter)`` with ``scatter = Σ (x − mean)(x − mean)ᵀ``. Pooling two sets is
Chan et al.'s (1979) parallel update, exact and numerically stable:

    N = N_a + N_b,  δ = m_b − m_a,  m = m_a + δ N_b / N,
    S = S_a + S_b + δ δᵀ N_a N_b / N,

so a pooled maximum-likelihood fit never needs the points themselves.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array


class Stats(NamedTuple):
    count: Array  # () float
    mean: Array  # (d,)
    scatter: Array  # (d, d)


def batch_stats(x: Array) -> Stats:
    """Statistics of the rows of ``x`` (shape ``(N, d)``, N ≥ 1)."""
    mean = jnp.mean(x, axis=0)
    centred = x - mean
    return Stats(jnp.asarray(x.shape[0], x.dtype), mean, centred.T @ centred)


def merge(a: Stats, b: Stats) -> Stats:
    """Exact statistics of the union of two samples (both non-empty)."""
    n = a.count + b.count
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.count / n)
    scatter = a.scatter + b.scatter + jnp.outer(delta, delta) * (a.count * b.count / n)
    return Stats(n, mean, scatter)


def covariance(stats: Stats, ddof: int) -> Array:
    """Fitted covariance ``scatter / (N − ddof)``, symmetrised."""
    cov = stats.scatter / (stats.count - ddof)
    return 0.5 * (cov + cov.T)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
