"""Real-data laws p_data: Gaussian, Gaussian mixture and multivariate Student-t.

The Gaussian model class is fitted by maximum likelihood, so its best in-class fit θ* of any
p_data with finite second moments is p_data's mean and covariance (moment matching; Gillman et
al. 2024, Def. A.1 and reference notes §4.2). A non-Gaussian p_data makes the model class
misspecified, ε = W₁(p_θ*, p_data) > 0, which is what Gillman et al.'s bounds are about.

Each law is a frozen, hashable dataclass with

* ``dim``, ``mean``, ``cov`` (numpy float64): the first two moments, i.e. θ* for the Gaussian
  class;
* ``kind`` (a string) and ``params(dtype)``: a tuple of arrays describing the law, so that an
  engine can trace the parameters (one compilation per ``kind`` and shape) and draw with
  :func:`sample_law` ``(kind, params, key, size) -> (size, d)``;
* ``logpdf(x)`` for ``x`` of shape ``(..., d)`` (JAX), and ``to_dict()`` / :func:`law_from_dict`.

Laws:

``GaussianLaw(mean, cov)``
    N(μ, Σ).
``GaussianMixtureLaw(weights, means, covs)``
    Σ_j w_j N(μ_j, Σ_j); mean Σ w_j μ_j, covariance Σ_j w_j (Σ_j + μ_j μ_jᵀ) − μμᵀ.
``StudentTLaw(df, loc, scale)``
    multivariate t_ν(loc, S): x = loc + S^{1/2} z / √(w/ν), z ~ N(0, I), w ~ χ²_ν; covariance
    ν/(ν − 2) S, so ν > 2 is required (θ* needs finite second moments).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from theory import linalg

__all__ = [
    "GaussianLaw",
    "GaussianMixtureLaw",
    "LAW_KINDS",
    "StudentTLaw",
    "as_law",
    "law_from_dict",
    "sample_law",
]

LAW_KINDS = ("gaussian", "gaussian_mixture", "student_t")


def _tuple1(a):
    return tuple(float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1))


def _tuple2(a):
    a = np.asarray(a, dtype=np.float64)
    return tuple(tuple(float(v) for v in row) for row in a)


def _check_mean(name, mean, dim=None):
    try:
        m = np.asarray(mean, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric vector: {exc}") from None
    if m.ndim == 0:
        m = m.reshape(1)
    if m.ndim != 1 or (dim is not None and m.shape != (dim,)):
        want = f"({dim},)" if dim is not None else "(d,)"
        raise ValueError(f"{name} must have shape {want}, got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite")
    return m


def _check_cov(name, cov, dim):
    try:
        c = np.asarray(cov, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric matrix: {exc}") from None
    if c.ndim == 0 and dim == 1:
        c = c.reshape(1, 1)
    if c.shape != (dim, dim):
        raise ValueError(f"{name} must have shape ({dim}, {dim}), got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} must be finite")
    scale = max(float(np.max(np.abs(c))), np.finfo(np.float64).tiny)
    if np.max(np.abs(c - c.T)) > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric")
    c = 0.5 * (c + c.T)
    eig = np.linalg.eigvalsh(c)
    if eig[0] <= 0 or eig[0] <= 1e-14 * eig[-1]:
        raise ValueError(f"{name} must be positive definite (smallest eigenvalue {eig[0]:.3g})")
    return c


def _sqrt_np(c):
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _gauss_logpdf(x, mean, cov):
    d = mean.shape[-1]
    chol = linalg.cholesky(cov)
    flat = (x - mean).reshape((-1, d)).T
    q = jnp.sum(linalg.solve_lower(chol, flat) ** 2, axis=0)
    logdet = linalg.cholesky_logdet(chol)
    return -0.5 * (q.reshape(x.shape[:-1]) + logdet + d * math.log(2 * math.pi))


@dataclass(frozen=True)
class GaussianLaw:
    """N(mean, cov). Accepts scalars for ``dim == 1``."""

    mean: tuple
    cov: tuple
    kind = "gaussian"

    def __init__(self, mean, cov):
        m = _check_mean("truth mean", mean)
        c = _check_cov("truth covariance", cov, m.shape[0])
        object.__setattr__(self, "mean", _tuple1(m))
        object.__setattr__(self, "cov", _tuple2(c))

    @property
    def dim(self) -> int:
        return len(self.mean)

    @property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, covariance) as float64 arrays: θ* of the Gaussian class."""
        return np.asarray(self.mean), np.asarray(self.cov)

    def params(self, dtype="float64") -> tuple:
        m, c = self.moments
        return (jnp.asarray(m, dtype), jnp.asarray(_sqrt_np(c), dtype))

    def logpdf(self, x):
        m, c = self.moments
        return _gauss_logpdf(jnp.asarray(x), jnp.asarray(m), jnp.asarray(c))

    def sample(self, key, size: int, dtype="float64"):
        return sample_law(self.kind, self.params(dtype), key, size)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mean": list(self.mean), "cov": [list(r) for r in self.cov]}


@dataclass(frozen=True)
class GaussianMixtureLaw:
    """Σ_j w_j N(μ_j, Σ_j): ``weights`` (m,), ``means`` (m, d), ``covs`` (m, d, d)."""

    weights: tuple
    means: tuple
    covs: tuple
    kind = "gaussian_mixture"

    def __init__(self, weights, means, covs):
        try:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            mu = np.asarray(means, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"mixture weights/means must be numeric: {exc}") from None
        if w.size < 1 or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("mixture weights must be finite and non-negative")
        if not abs(w.sum() - 1.0) <= 1e-9:
            raise ValueError(f"mixture weights must sum to 1, got {w.sum()!r}")
        if mu.ndim == 1 and w.size > 1:
            mu = mu[:, None]  # 1-D mixture given as a list of scalars
        if mu.ndim != 2 or mu.shape[0] != w.size:
            raise ValueError(f"mixture means must have shape ({w.size}, d), got {mu.shape}")
        d = mu.shape[1]
        cv = np.array(covs, dtype=np.float64)  # a copy: written into below
        if cv.ndim == 1 and d == 1 and cv.size == w.size:
            cv = cv[:, None, None]
        if cv.shape != (w.size, d, d):
            raise ValueError(f"mixture covs must have shape ({w.size}, {d}, {d}), got {cv.shape}")
        for j in range(w.size):
            _check_mean(f"mixture mean {j}", mu[j], d)
            cv[j] = _check_cov(f"mixture covariance {j}", cv[j], d)
        object.__setattr__(self, "weights", _tuple1(w / w.sum()))
        object.__setattr__(self, "means", _tuple2(mu))
        object.__setattr__(self, "covs", tuple(_tuple2(c) for c in cv))

    @property
    def dim(self) -> int:
        return len(self.means[0])

    @property
    def components(self) -> int:
        return len(self.weights)

    @property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        w, mu, cv = (np.asarray(a) for a in (self.weights, self.means, self.covs))
        mean = w @ mu
        second = np.einsum("j,jab->ab", w, cv + np.einsum("ja,jb->jab", mu, mu))
        cov = second - np.outer(mean, mean)
        return mean, 0.5 * (cov + cov.T)

    def params(self, dtype="float64") -> tuple:
        w, mu, cv = (np.asarray(a) for a in (self.weights, self.means, self.covs))
        roots = np.stack([_sqrt_np(c) for c in cv])
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        return (jnp.asarray(logw, dtype), jnp.asarray(mu, dtype), jnp.asarray(roots, dtype))

    def logpdf(self, x):
        x = jnp.asarray(x)
        w, mu, cv = (jnp.asarray(np.asarray(a)) for a in (self.weights, self.means, self.covs))
        comp = jax.vmap(lambda m, c: _gauss_logpdf(x, m, c), out_axes=-1)(mu, cv)
        return jax.scipy.special.logsumexp(comp + jnp.log(w), axis=-1)

    def sample(self, key, size: int, dtype="float64"):
        return sample_law(self.kind, self.params(dtype), key, size)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "weights": list(self.weights),
            "means": [list(r) for r in self.means],
            "covs": [[list(r) for r in c] for c in self.covs],
        }


@dataclass(frozen=True)
class StudentTLaw:
    """Multivariate Student-t with ``df`` ν > 2, location ``loc`` and scale matrix ``scale``."""

    df: float
    loc: tuple
    scale: tuple
    kind = "student_t"

    def __init__(self, df, loc, scale):
        if isinstance(df, bool) or not isinstance(df, numbers.Real):
            raise TypeError(f"Student-t df must be a real number, got {df!r}")
        if not (math.isfinite(float(df)) and float(df) > 2.0):
            raise ValueError(
                f"Student-t df must be finite and > 2 (finite covariance, so that θ* exists), "
                f"got {df!r}"
            )
        m = _check_mean("Student-t loc", loc)
        c = _check_cov("Student-t scale", scale, m.shape[0])
        object.__setattr__(self, "df", float(df))
        object.__setattr__(self, "loc", _tuple1(m))
        object.__setattr__(self, "scale", _tuple2(c))

    @property
    def dim(self) -> int:
        return len(self.loc)

    @property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        nu = self.df
        return np.asarray(self.loc), nu / (nu - 2.0) * np.asarray(self.scale)

    def params(self, dtype="float64") -> tuple:
        return (
            jnp.asarray(self.df, dtype),
            jnp.asarray(np.asarray(self.loc), dtype),
            jnp.asarray(_sqrt_np(np.asarray(self.scale)), dtype),
        )

    def logpdf(self, x):
        x = jnp.asarray(x)
        nu, d = self.df, self.dim
        loc, s = jnp.asarray(np.asarray(self.loc)), jnp.asarray(np.asarray(self.scale))
        chol = linalg.cholesky(s)
        flat = (x - loc).reshape((-1, d)).T
        q = jnp.sum(linalg.solve_lower(chol, flat) ** 2, axis=0)
        q = q.reshape(x.shape[:-1])
        logdet = linalg.cholesky_logdet(chol)
        return (
            jax.scipy.special.gammaln((nu + d) / 2)
            - jax.scipy.special.gammaln(nu / 2)
            - 0.5 * d * math.log(nu * math.pi)
            - 0.5 * logdet
            - 0.5 * (nu + d) * jnp.log1p(q / nu)
        )

    def sample(self, key, size: int, dtype="float64"):
        return sample_law(self.kind, self.params(dtype), key, size)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "df": self.df, "loc": list(self.loc),
                "scale": [list(r) for r in self.scale]}


def sample_law(kind: str, params: tuple, key, size: int):
    """``size`` i.i.d. draws, shape ``(size, d)``, from the law described by (kind, params).

    Pure and traceable in ``params`` (arrays from ``law.params(dtype)``); ``kind`` and
    ``size`` are static. The output dtype is the params' dtype.
    """
    if kind == "gaussian":
        mean, root = params
        z = jax.random.normal(key, (size, mean.shape[0]), mean.dtype)
        return mean + z @ root
    if kind == "gaussian_mixture":
        logw, means, roots = params
        k_comp, k_z = jax.random.split(key)
        comp = jax.random.categorical(k_comp, logw, shape=(size,))
        z = jax.random.normal(k_z, (size, means.shape[1]), means.dtype)
        return means[comp] + jnp.einsum("si,sij->sj", z, roots[comp])
    if kind == "student_t":
        df, loc, root = params
        k_z, k_w = jax.random.split(key)
        z = jax.random.normal(k_z, (size, loc.shape[0]), loc.dtype)
        w = 2.0 * jax.random.gamma(k_w, df / 2.0, (size,), loc.dtype)  # χ²_ν
        return loc + (z @ root) * jnp.sqrt(df / w)[:, None]
    raise ValueError(f"law kind must be one of {LAW_KINDS}, got {kind!r}")


Law = GaussianLaw | GaussianMixtureLaw | StudentTLaw


def law_from_dict(data: dict):
    """Inverse of ``law.to_dict()`` (``kind`` defaults to ``"gaussian"``)."""
    if not isinstance(data, dict):
        raise TypeError(f"a law must be given as a table/dict, got {type(data).__name__}")
    data = dict(data)
    kind = data.pop("kind", "gaussian")
    builders = {"gaussian": GaussianLaw, "gaussian_mixture": GaussianMixtureLaw,
                "student_t": StudentTLaw}
    if kind not in builders:
        raise ValueError(f"truth kind must be one of {LAW_KINDS}, got {kind!r}")
    try:
        return builders[kind](**data)
    except TypeError as exc:
        raise TypeError(f"truth ({kind}): {exc}") from None


def as_law(truth, dim: int):
    """Normalize a ``truth`` argument: ``None`` → N(0, I_dim); ``(mean, cov)`` → GaussianLaw;
    a dict → :func:`law_from_dict`; a law object is checked for its dimension. Errors name the
    field ``truth``."""
    try:
        return _as_law(truth, dim)
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("truth") else f"truth: {msg}") from None
    except TypeError as exc:
        msg = str(exc)
        raise TypeError(msg if msg.startswith("truth") else f"truth: {msg}") from None


def _as_law(truth, dim: int):
    if truth is None:
        law = GaussianLaw(np.zeros(dim), np.eye(dim))
    elif isinstance(truth, (GaussianLaw, GaussianMixtureLaw, StudentTLaw)):
        law = truth
    elif isinstance(truth, dict):
        law = law_from_dict(truth)
    elif isinstance(truth, (tuple, list)) and len(truth) == 2:
        mean, cov = truth
        m = _check_mean("truth mean", mean, dim)
        law = GaussianLaw(m, _check_cov("truth covariance", cov, dim))
    else:
        raise TypeError(
            "truth must be None, a (mean, covariance) pair, a dict with a 'kind', or a law "
            f"(GaussianLaw, GaussianMixtureLaw, StudentTLaw); got {type(truth).__name__}"
        )
    if law.dim != dim:
        raise ValueError(f"truth has dimension {law.dim}, but dim={dim}")
    return law


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
