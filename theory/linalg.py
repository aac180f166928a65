"""Small dense linear algebra in plain ``jax.numpy``, with no LAPACK custom call.

Every function takes matrices of a small static size d (covariances of a d-dimensional
Gaussian: d = 1 … a few tens) batched over any leading axes, and is written as a fixed,
unrolled sequence of elementwise operations over the batch (the matrix entries are carried as
separate arrays of the batch's shape, as a hand-written 3×3 routine would). Under ``jit`` and
``vmap`` XLA fuses each step into one vectorized loop over the batch.

Why not ``jnp.linalg``: on a CPU, jaxlib 0.10 runs a batched LAPACK call (``potrf``, ``trsm``,
``getrf``, ``syevd``) by splitting its batch into chunks that it schedules on XLA's intra-op
thread pool and then waits for (``ParallelBatchMap``). When the thunk executor starts two such
calls from pool threads at once (two independent decompositions in one program, each after a
parallel kernel), both threads block waiting for chunks that no free thread can run, and the
process deadlocks at 0 % CPU: on a 2-core machine a ``jit`` of ``gaussian_kl`` on (2000, 41)
3×3 covariances hung in about one run in ten. The optimization barrier that used to order the
two calls does not help, because XLA:CPU removes barriers before scheduling. The toolkit
therefore makes no LAPACK call inside a jitted program: every decomposition it needs is here.

Accuracy: the Cholesky factorization, the triangular solves and Gaussian elimination with
partial pivoting are the textbook algorithms LAPACK itself runs for small matrices (Golub &
Van Loan, *Matrix Computations*, 4th ed., Alg. 4.2.1, 3.1.1–3.1.2, 3.4.1), backward stable, and
agree with LAPACK to a few ulps. The symmetric eigensolver is the cyclic Jacobi method (Golub &
Van Loan Alg. 8.5.3), iterated until the off-diagonal mass is below machine precision: it is
backward stable and, for the positive definite matrices it meets here, at least as accurate as
LAPACK's ``syevd`` (Demmel & Veselić 1992). Its derivative is the standard first-order
perturbation formula (``custom_jvp``), so it can be differentiated like ``jnp.linalg.eigh``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = [
    "cho_solve",
    "cholesky",
    "cholesky_logdet",
    "eigh",
    "eigvalsh",
    "slogdet",
    "solve",
    "solve_lower",
]


# --------------------------------------------------------------------------- entries
def _entries(a):
    """A ``(..., d, d)`` array as a list of rows, each a list of ``(...)`` arrays."""
    d = a.shape[-1]
    return [[a[..., i, j] for j in range(d)] for i in range(d)]


def _matrix(rows):
    """Inverse of :func:`_entries`."""
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def _check_square(a, name):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} must be a batch of square matrices (..., d, d), got shape "
                         f"{a.shape}")


# --------------------------------------------------------------------------- Cholesky
def cholesky(a):
    """Lower Cholesky factor L (L Lᵀ = A) of symmetric positive definite ``(..., d, d)``.

    Column by column: L_jj = √(a_jj − Σ_{k<j} L_jk²), L_ij = (a_ij − Σ_{k<j} L_ik L_jk)/L_jj
    (Golub & Van Loan Alg. 4.2.1), reading only the lower triangle of A. As
    ``jnp.linalg.cholesky``, a matrix that is not numerically positive definite (a pivot ≤ 0
    or NaN) gives a factor of NaNs.
    """
    a = jnp.asarray(a)
    _check_square(a, "a")
    d = a.shape[-1]
    e = _entries(a)
    low = [[None] * d for _ in range(d)]
    ok = True
    for j in range(d):
        s = e[j][j]
        for k in range(j):
            s = s - low[j][k] * low[j][k]
        ok = ok & (s > 0)
        ljj = jnp.sqrt(jnp.where(s > 0, s, 1.0))
        low[j][j] = ljj
        for i in range(j + 1, d):
            s = e[i][j]
            for k in range(j):
                s = s - low[i][k] * low[j][k]
            low[i][j] = s / ljj
    zero = jnp.zeros_like(e[0][0])
    rows = [[low[i][j] if j <= i else zero for j in range(d)] for i in range(d)]
    out = _matrix(rows)
    return jnp.where(jnp.asarray(ok)[..., None, None], out, jnp.nan)


def cholesky_logdet(low):
    """log det A = 2 Σ log L_jj from a Cholesky factor L of A."""
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(low, axis1=-2, axis2=-1)), axis=-1)


def solve_lower(low, b):
    """L⁻¹ b by forward substitution (Golub & Van Loan Alg. 3.1.1), L lower triangular.

    ``low`` is ``(..., d, d)`` and ``b`` is ``(..., d, k)``; leading axes broadcast. Only the
    lower triangle of ``low`` is read.
    """
    low, b = jnp.asarray(low), jnp.asarray(b)
    _check_square(low, "low")
    d = low.shape[-1]
    if b.ndim < 2 or b.shape[-2] != d:
        raise ValueError(f"b must have shape (..., {d}, k), got {b.shape}")
    e = _entries(low)
    x = []
    for i in range(d):
        s = b[..., i, :]
        for k in range(i):
            s = s - e[i][k][..., None] * x[k]
        x.append(s / e[i][i][..., None])
    return jnp.stack(x, axis=-2)


def _solve_upper_transposed(low, y):
    """L⁻ᵀ y by back substitution, from the lower factor L."""
    d = low.shape[-1]
    e = _entries(low)
    x = [None] * d
    for i in reversed(range(d)):
        s = y[..., i, :]
        for k in range(i + 1, d):
            s = s - e[k][i][..., None] * x[k]
        x[i] = s / e[i][i][..., None]
    return jnp.stack(x, axis=-2)


def cho_solve(low, b):
    """A⁻¹ b = L⁻ᵀ L⁻¹ b from the Cholesky factor L of A; ``b`` is ``(..., d, k)``."""
    return _solve_upper_transposed(jnp.asarray(low), solve_lower(low, b))


# --------------------------------------------------------------------------- LU
def _lu(a):
    """Gaussian elimination with partial pivoting (Golub & Van Loan Alg. 3.4.1), unrolled.

    Returns the rows of U, the multipliers (L below the diagonal, as rows), the permutation
    (for each step j, the pivot row chosen, as an index array) and the sign of the
    permutation. Row swaps are selects: for step j and every candidate row i ≥ j,
    ``row_j ← where(p == i, row_i, row_j)`` and ``row_i ← where(p == i, row_j, row_i)``.
    """
    d = a.shape[-1]
    u = _entries(a)
    mult = [[None] * d for _ in range(d)]
    pivots = []
    sign = jnp.ones_like(u[0][0])
    for j in range(d):
        best = jnp.abs(u[j][j])
        p = jnp.full(best.shape, j, dtype=jnp.int32)
        for i in range(j + 1, d):
            bigger = jnp.abs(u[i][j]) > best
            best = jnp.where(bigger, jnp.abs(u[i][j]), best)
            p = jnp.where(bigger, i, p)
        pivots.append(p)
        for i in range(j + 1, d):
            swap = p == i
            sign = jnp.where(swap, -sign, sign)
            row_j, row_i = u[j], u[i]
            u[j] = [jnp.where(swap, x, y) for x, y in zip(row_i, row_j, strict=True)]
            u[i] = [jnp.where(swap, y, x) for x, y in zip(row_i, row_j, strict=True)]
            # the multipliers computed so far travel with their rows
            for k in range(j):
                mj, mi = mult[j][k], mult[i][k]
                mult[j][k] = jnp.where(swap, mi, mj)
                mult[i][k] = jnp.where(swap, mj, mi)
        piv = u[j][j]
        safe = jnp.where(piv != 0, piv, 1.0)
        for i in range(j + 1, d):
            m = u[i][j] / safe
            m = jnp.where(piv != 0, m, 0.0)
            mult[i][j] = m
            u[i] = [u[i][k] - m * u[j][k] if k > j else (jnp.zeros_like(m) if k == j
                                                          else u[i][k])
                    for k in range(d)]
    return u, mult, pivots, sign


def slogdet(a):
    """(sign, log |det A|) of general square ``(..., d, d)`` matrices, as ``jnp.linalg.slogdet``.

    From the LU factorization with partial pivoting: det A = sign(P) Π U_jj. A singular matrix
    gives sign 0 and log |det| = −∞.
    """
    a = jnp.asarray(a)
    _check_square(a, "a")
    u, _, _, sign = _lu(a)
    d = a.shape[-1]
    diag = jnp.stack([u[j][j] for j in range(d)], axis=-1)
    sign = sign * jnp.prod(jnp.sign(diag), axis=-1)
    return sign, jnp.sum(jnp.log(jnp.abs(diag)), axis=-1)


def solve(a, b):
    """A⁻¹ b for general square ``(..., d, d)`` A and ``b`` of shape ``(..., d, k)``.

    Gaussian elimination with partial pivoting, then forward and back substitution; leading
    axes broadcast. As ``jnp.linalg.solve``, a singular A gives non-finite values.
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    _check_square(a, "a")
    d = a.shape[-1]
    if b.ndim < 2 or b.shape[-2] != d:
        raise ValueError(f"b must have shape (..., {d}, k), got {b.shape}")
    u, mult, pivots, _ = _lu(a)
    lead = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    rows = [jnp.broadcast_to(b[..., i, :], lead + b.shape[-1:]) for i in range(d)]
    # apply the row swaps and the elimination to b, in the order they were made
    for j in range(d):
        p = pivots[j][..., None]
        for i in range(j + 1, d):
            swap = p == i
            rows[j], rows[i] = (jnp.where(swap, rows[i], rows[j]),
                                jnp.where(swap, rows[j], rows[i]))
    y = []
    for i in range(d):
        s = rows[i]
        for k in range(i):
            s = s - mult[i][k][..., None] * y[k]
        y.append(s)
    x = [None] * d
    for i in reversed(range(d)):
        s = y[i]
        for k in range(i + 1, d):
            s = s - u[i][k][..., None] * x[k]
        x[i] = s / u[i][i][..., None]
    return jnp.stack(x, axis=-2)


# --------------------------------------------------------------------------- Jacobi eigh
_MAX_SWEEPS = 60


def _jacobi(a, vectors: bool = True):
    """Cyclic Jacobi on symmetric ``(..., d, d)`` (d ≥ 2, entries scaled to ≤ 1 in size).

    Each sweep applies, for every pair p < q in row order, the rotation J(p, q, θ) that zeroes
    a_pq (Golub & Van Loan Alg. 8.5.1–8.5.3): with τ = (a_qq − a_pp)/(2a_pq),
    t = sign(τ)/(|τ| + √(1 + τ²)) (0 when τ² overflows: the rotation is then below rounding),
    c = 1/√(1 + t²), s = tc,
    a_pp ← a_pp − t a_pq, a_qq ← a_qq + t a_pq, a_pq ← 0, and for k ∉ {p, q}
    a_kp ← c a_kp − s a_kq, a_kq ← s a_kp + c a_kq; V ← V J likewise. Sweeps repeat until
    the off-diagonal Frobenius norm is at most ε‖A‖_F (ε the dtype's machine epsilon; the
    convergence is quadratic, a handful of sweeps for d ≤ 10) or NaN. ``vectors=False``
    skips the accumulation of V (returned as None).
    """
    d = a.shape[-1]
    dtype = a.dtype
    eps = jnp.finfo(dtype).eps
    e = _entries(a)
    upper = tuple(e[i][j] for i in range(d) for j in range(i, d))
    one, zero = jnp.ones_like(e[0][0]), jnp.zeros_like(e[0][0])
    vecs = tuple(one if i == j else zero for i in range(d) for j in range(d)) if vectors else ()
    norm2 = sum(x * x for x in upper) + sum(e[i][j] * e[i][j] for i in range(d)
                                           for j in range(i + 1, d))
    tol2 = norm2 * eps * eps

    def idx(i, j):  # position of entry (min, max) in the packed upper triangle
        i, j = min(i, j), max(i, j)
        return i * d - i * (i - 1) // 2 + (j - i)

    def off2(up):
        return sum(up[idx(i, j)] ** 2 for i in range(d) for j in range(i + 1, d))

    def sweep(carry):
        up, v, n = carry
        up, v = list(up), list(v)
        for p in range(d):
            for q in range(p + 1, d):
                apq = up[idx(p, q)]
                app, aqq = up[idx(p, p)], up[idx(q, q)]
                nonzero = apq != 0
                tau = (aqq - app) / (2.0 * jnp.where(nonzero, apq, 1.0))
                t = jnp.where(tau >= 0, 1.0, -1.0) / (jnp.abs(tau) + jnp.sqrt(1.0 + tau * tau))
                t = jnp.where(nonzero, t, 0.0)
                c = jax.lax.rsqrt(1.0 + t * t)
                s = t * c
                for k in range(d):
                    if k in (p, q):
                        continue
                    akp, akq = up[idx(k, p)], up[idx(k, q)]
                    up[idx(k, p)] = c * akp - s * akq
                    up[idx(k, q)] = s * akp + c * akq
                up[idx(p, p)] = app - t * apq
                up[idx(q, q)] = aqq + t * apq
                up[idx(p, q)] = jnp.zeros_like(apq)
                for k in range(d if vectors else 0):
                    vkp, vkq = v[k * d + p], v[k * d + q]
                    v[k * d + p] = c * vkp - s * vkq
                    v[k * d + q] = s * vkp + c * vkq
        return tuple(up), tuple(v), n + 1

    def more(carry):
        up, _, n = carry
        return jnp.any(off2(up) > tol2) & (n < _MAX_SWEEPS)

    up, v, _ = jax.lax.while_loop(more, sweep, (upper, vecs, jnp.int32(0)))
    w = jnp.stack([up[idx(i, i)] for i in range(d)], axis=-1)
    if not vectors:
        return jnp.sort(w, axis=-1), None
    vmat = jnp.stack([jnp.stack([v[i * d + j] for j in range(d)], axis=-1) for i in range(d)],
                     axis=-2)
    order = jnp.argsort(w, axis=-1)
    w = jnp.take_along_axis(w, order, axis=-1)
    vmat = jnp.take_along_axis(vmat, order[..., None, :], axis=-1)
    return w, vmat.astype(dtype)


def _prepare(a):
    a = jnp.asarray(a)
    _check_square(a, "a")
    a = 0.5 * (a + jnp.swapaxes(a, -1, -2))
    scale = jnp.max(jnp.abs(a), axis=(-2, -1))
    return a, jnp.where(scale > 0, scale, 1.0)


def eigvalsh(a):
    """Eigenvalues (ascending) of symmetric ``(..., d, d)`` matrices: :func:`eigh` without the
    eigenvectors (about half the work)."""
    a, scale = _prepare(a)
    if a.shape[-1] == 1:
        return a[..., 0, :]
    return _jacobi(a / scale[..., None, None], vectors=False)[0] * scale[..., None]


@jax.custom_jvp
def eigh(a):
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices.

    ``a`` is ``(..., d, d)``; only its symmetric part ½(A + Aᵀ) is used. d = 1 is trivial;
    d ≥ 2 runs cyclic Jacobi (:func:`_jacobi`) on A/s, s = max |a_ij| (so that nothing
    underflows or overflows for covariances such as 1e-200·I), and scales the eigenvalues
    back. A NaN entry gives NaN eigenvalues.

    Differentiable: dλ_i = v_iᵀ dA v_i and dV = V (F ∘ (Vᵀ dA V)) with F_ij = 1/(λ_j − λ_i)
    off the diagonal (undefined at repeated eigenvalues, as for ``jnp.linalg.eigh``).
    """
    a, scale = _prepare(a)
    if a.shape[-1] == 1:
        return a[..., 0, :], jnp.ones_like(a)
    w, v = _jacobi(a / scale[..., None, None])
    return w * scale[..., None], v


@eigh.defjvp
def _eigh_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = eigh(a)
    da = 0.5 * (da + jnp.swapaxes(da, -1, -2))
    vt = jnp.swapaxes(v, -1, -2)
    rot = vt @ da @ v
    dw = jnp.diagonal(rot, axis1=-2, axis2=-1)
    gap = w[..., None, :] - w[..., :, None]
    d = w.shape[-1]
    off = ~jnp.eye(d, dtype=bool)
    f = jnp.where(off, 1.0 / jnp.where(off, gap, 1.0), 0.0)
    dv = v @ (f * rot)
    return (w, v), (dw, dv)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
