"""Distances between Gaussian laws, in closed form, batched in JAX.

Every function broadcasts over leading axes: means have shape ``(..., d)`` and covariances
``(..., d, d)``. They are pure ``jax.numpy`` and can be ``jit``-ed and ``vmap``-ed.

Degenerate covariances (a collapsed loop) are handled without NaN: eigenvalues are clipped at
zero before square roots, the log-determinant of a singular matrix is ``-inf`` and the KL
divergence from or to a singular law is ``+inf``.

References:
    Dowson & Landau (1982), "The Fréchet distance between multivariate normal distributions";
    Olkin & Pukelsheim (1982) for W₂; Kullback (1959) for the Gaussian KL divergence.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from theory import linalg


def _sym(a):
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


def symmetric_eigh(a):
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric ``(..., d, d)`` matrices.

    Closed forms for d = 1 and d = 2; the cyclic Jacobi method of :func:`theory.linalg.eigh`
    for d ≥ 3 (no LAPACK call inside a jitted program: see :mod:`theory.linalg`). For
    d = 2 with A = [[a, b], [b, c]] the entries are first scaled by s = max(|a|, |b|, |c|) (so
    that nothing underflows for tiny covariances such as 1e-200·I), then
    λ = (a + c)/2 ± √(((a − c)/2)² + b²), the smaller one computed as det/λ_max (which
    avoids the cancellation of λ_max − 2·rad when det is exact), and the top eigenvector is
    (cos θ, sin θ) with θ = ½ atan2(2b, a − c). The gradient is not defined at repeated
    eigenvalues (as for any eigendecomposition).
    """
    a = _sym(jnp.asarray(a))
    d = a.shape[-1]
    if d == 1:
        return a[..., 0, :], jnp.ones_like(a)
    if d == 2:
        p0, q0, r0 = a[..., 0, 0], a[..., 0, 1], a[..., 1, 1]
        scale = jnp.maximum(jnp.maximum(jnp.abs(p0), jnp.abs(r0)), jnp.abs(q0))
        scale = jnp.where(scale > 0, scale, 1.0)
        p, q, r = p0 / scale, q0 / scale, r0 / scale
        mid = 0.5 * (p + r)
        rad = jnp.hypot(0.5 * (p - r), q)
        top = mid + rad
        det = p * r - q * q
        safe_top = jnp.where(top > 0, top, 1.0)
        low = jnp.where(top > 0, det / safe_top, mid - rad)
        low = jnp.minimum(low, top)
        theta = 0.5 * jnp.arctan2(2.0 * q, p - r)
        c, s = jnp.cos(theta), jnp.sin(theta)
        w = jnp.stack([low, top], axis=-1) * scale[..., None]
        u = jnp.stack([jnp.stack([-s, c], -1), jnp.stack([c, s], -1)], axis=-1)
        return w, u
    return _jacobi_memo(a, vectors=True)


def symmetric_eigvalsh(a):
    """Eigenvalues (ascending) of symmetric ``(..., d, d)`` matrices: the closed forms of
    :func:`symmetric_eigh` for d ≤ 2, :func:`theory.linalg.eigvalsh` (Jacobi without the
    eigenvectors) for d ≥ 3."""
    a = jnp.asarray(a)
    if a.shape[-1] <= 2:
        return symmetric_eigh(a)[0]
    return _jacobi_memo(a, vectors=False)


_MEMO_MAX_ENTRIES = 4096  # matrices up to this many numbers are memoized when concrete


def _jacobi_memo(a, vectors: bool):
    """:func:`theory.linalg.eigh` (or ``eigvalsh``) of ``a``, d ≥ 3; called on concrete values
    (outside ``jit``) the result is remembered by the matrix's bytes.

    Called eagerly, the Jacobi ``while_loop`` is traced and compiled anew at every call (its
    body is a fresh closure), about a second on a CPU: ``simulations.run`` takes the truth's
    square root this way at every call. The remembered result is the very array the first call
    returned, so nothing changes but the time; traced calls are not affected."""
    if isinstance(a, jax.core.Tracer) or a.size > _MEMO_MAX_ENTRIES:
        return linalg.eigh(a) if vectors else linalg.eigvalsh(a)
    host = np.asarray(a)
    return _jacobi_cached(host.tobytes(), host.shape, host.dtype.str, vectors,
                          bool(jax.config.jax_enable_x64))


@functools.lru_cache(maxsize=512)
def _jacobi_cached(data: bytes, shape: tuple, dtype: str, vectors: bool, x64: bool):
    a = jnp.asarray(np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape))
    return linalg.eigh(a) if vectors else linalg.eigvalsh(a)


def sqrtm_psd(cov):
    """Symmetric square root of a positive semi-definite matrix, ``(..., d, d)``.

    Computed by an eigendecomposition ``Σ = U diag(w) Uᵀ`` with ``w`` clipped at 0:
    ``Σ^{1/2} = U diag(√w) Uᵀ``.
    """
    w, u = symmetric_eigh(cov)
    w = jnp.clip(w, 0.0, None)
    return (u * jnp.sqrt(w)[..., None, :]) @ jnp.swapaxes(u, -1, -2)


def gaussian_logdet(cov):
    """``log det Σ`` through the eigenvalues; ``-inf`` when Σ is singular (never NaN)."""
    w = symmetric_eigvalsh(cov)
    return jnp.sum(jnp.log(jnp.clip(w, 0.0, None)), axis=-1)


def gaussian_w2_squared(mean1, cov1, mean2, cov2):
    """Squared 2-Wasserstein distance between N(m₁, Σ₁) and N(m₂, Σ₂).

    .. math::
        W_2^2 = \\|m_1 - m_2\\|^2 + \\operatorname{tr}\\Sigma_1 + \\operatorname{tr}\\Sigma_2
                - 2 \\operatorname{tr}\\big(\\Sigma_2^{1/2} \\Sigma_1 \\Sigma_2^{1/2}\\big)^{1/2}

    (Dowson & Landau 1982). The trace of the matrix square root is the sum of the square roots
    of the (clipped) eigenvalues of ``Σ₂^{1/2} Σ₁ Σ₂^{1/2}``. Result clipped at 0.
    """
    mean1, mean2 = jnp.asarray(mean1), jnp.asarray(mean2)
    cov1, cov2 = jnp.asarray(cov1), jnp.asarray(cov2)
    r2 = sqrtm_psd(cov2)
    cross = symmetric_eigvalsh(r2 @ cov1 @ r2)
    tr_cross = jnp.sum(jnp.sqrt(jnp.clip(cross, 0.0, None)), axis=-1)
    diff = mean1 - mean2
    tr1 = jnp.trace(cov1, axis1=-2, axis2=-1)
    tr2 = jnp.trace(cov2, axis1=-2, axis2=-1)
    w2sq = jnp.sum(diff * diff, axis=-1) + tr1 + tr2 - 2.0 * tr_cross
    return jnp.clip(w2sq, 0.0, None)


def gaussian_w2(mean1, cov1, mean2, cov2):
    """2-Wasserstein distance between two Gaussians (square root of :func:`gaussian_w2_squared`)."""
    return jnp.sqrt(gaussian_w2_squared(mean1, cov1, mean2, cov2))


def gaussian_kl(mean1, cov1, mean2, cov2):
    """Kullback–Leibler divergence KL(N(m₁, Σ₁) ‖ N(m₂, Σ₂)).

    .. math::
        \\mathrm{KL} = \\tfrac12\\Big[\\operatorname{tr}(\\Sigma_2^{-1}\\Sigma_1)
            + (m_2 - m_1)^\\top \\Sigma_2^{-1} (m_2 - m_1) - d
            + \\log\\det\\Sigma_2 - \\log\\det\\Sigma_1\\Big]

    Computed in the eigenbasis of Σ₂. ``+inf`` when Σ₁ or Σ₂ is singular.
    """
    mean1, mean2 = jnp.asarray(mean1), jnp.asarray(mean2)
    cov1, cov2 = jnp.asarray(cov1), jnp.asarray(cov2)
    d = mean1.shape[-1]
    w2, u2 = symmetric_eigh(cov2)
    w2c = jnp.clip(w2, 0.0, None)
    inv_w2 = jnp.where(w2c > 0, 1.0 / jnp.where(w2c > 0, w2c, 1.0), jnp.inf)
    ut = jnp.swapaxes(u2, -1, -2)
    c1_rot = ut @ cov1 @ u2
    diag1 = jnp.diagonal(c1_rot, axis1=-2, axis2=-1)
    tr_term = jnp.sum(diag1 * inv_w2, axis=-1)
    dm = jnp.squeeze(ut @ (mean2 - mean1)[..., None], -1)
    quad = jnp.sum(dm * dm * inv_w2, axis=-1)
    logdet2 = jnp.sum(jnp.log(w2c), axis=-1)
    logdet1 = gaussian_logdet(cov1)
    kl = 0.5 * (tr_term + quad - d + logdet2 - logdet1)
    kl = jnp.where(jnp.isfinite(logdet1) & jnp.isfinite(logdet2), kl, jnp.inf)
    return jnp.clip(kl, 0.0, None)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
