"""Rewards r(x) for K-choice curation (Ferbach et al. 2024), with their Gaussian closed forms.

A reward is a frozen, hashable dataclass, callable on points ``x`` of shape ``(..., d)``
(returning shape ``(...)``), traceable by JAX. An engine traces its parameters: ``kind`` and
``params(dtype)`` describe it and :func:`reward_value` ``(kind, params, x)`` evaluates it, so a
change of parameter values never recompiles.

Named rewards:

``LinearReward(direction, offset=0)``
    r(x) = aᵀx + b. Exact K = ∞ tilt of N(μ, Σ): N(μ + Σa, Σ) (Ferbach et al. 2024,
    reference notes §5.1). Unbounded: no r_*.
``QuadraticReward(center, matrix)``
    r(x) = −½ (x − c)ᵀ A (x − c), A symmetric positive semi-definite; r ≤ r_* = 0. Exact tilt
    Σ' = (Σ⁻¹ + A)⁻¹, μ' = Σ'(Σ⁻¹μ + Ac) (notes §5.2).
``FlatTopReward(centers, radius, slope=1)``
    r(x) = −slope · max(0, min_i ‖x − c_i‖ − radius): r_* = 0 on the union of balls, so a
    continuous p₀ puts an atom P₀(r = r_*) > 0 on the top level set (Theorem 2.1; notes §4.1).
``ClassifierReward(weights, means, covs, component, scale=1)``
    r(x) = scale · P(component | x), the Bayes posterior of one component of a Gaussian
    mixture (the CIFAR-10 reward γ q₀(x) of Ferbach et al. §4, with γ = ``scale``).
``CallableReward(fn)``
    any JAX-traceable ``fn(x) -> scalar`` for ``x`` of shape ``(d,)``; plain callables given
    to a :class:`~simulations.LoopSpec` are wrapped in it.

Closed forms (linear and quadratic only): :meth:`tilt` (the K = ∞ curated Gaussian, also with
a temperature: tilt N(μ, τΣ)) and :meth:`expected` (E_{N(μ,Σ)}[r]).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from theory import linalg

__all__ = [
    "CallableReward",
    "ClassifierReward",
    "FlatTopReward",
    "LinearReward",
    "QuadraticReward",
    "REWARD_KINDS",
    "as_reward",
    "reward_expected",
    "reward_from_dict",
    "reward_tilt",
    "reward_value",
]

REWARD_KINDS = ("linear", "quadratic", "flat_top", "classifier", "callable")


def _vec(name, v):
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric: {exc}") from None
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a vector of shape (d,), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _real(name, v, *, positive=False, nonneg=False):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if positive and x <= 0:
        raise ValueError(f"{name} must be > 0, got {x}")
    if nonneg and x < 0:
        raise ValueError(f"{name} must be >= 0, got {x}")
    return x


def _t1(a):
    return tuple(float(v) for v in np.asarray(a).reshape(-1))


def _t2(a):
    return tuple(tuple(float(v) for v in row) for row in np.asarray(a))


class _Reward:
    kind: str

    def params(self, dtype="float64") -> tuple:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float64)
        return reward_value(self.kind, self.params(x.dtype), x, self)

    @property
    def has_closed_form(self) -> bool:
        """Whether the K = ∞ tilt and E[r] of a Gaussian are available in closed form."""
        return self.kind in ("linear", "quadratic")

    def tilt(self, mean, cov):
        """The K = ∞ curated law of N(mean, cov): N(mean, cov) e^r / E[e^r], as (mean', cov')."""
        return reward_tilt(self.kind, self.params(jnp.asarray(mean).dtype), mean, cov)

    def expected(self, mean, cov):
        """E_{N(mean, cov)}[r(x)] in closed form (batched over leading axes)."""
        return reward_expected(self.kind, self.params(jnp.asarray(mean).dtype), mean, cov)


@dataclass(frozen=True)
class LinearReward(_Reward):
    """r(x) = aᵀx + b."""

    direction: tuple
    offset: float = 0.0
    kind = "linear"

    def __init__(self, direction, offset=0.0):
        object.__setattr__(self, "direction", _t1(_vec("reward direction", direction)))
        object.__setattr__(self, "offset", _real("reward offset", offset))

    @property
    def dim(self) -> int:
        return len(self.direction)

    def params(self, dtype="float64"):
        return (jnp.asarray(self.direction, dtype), jnp.asarray(self.offset, dtype))

    def to_dict(self):
        return {"kind": self.kind, "direction": list(self.direction), "offset": self.offset}


@dataclass(frozen=True)
class QuadraticReward(_Reward):
    """r(x) = −½ (x − c)ᵀ A (x − c) with A symmetric PSD (a scalar A means A·I)."""

    center: tuple
    matrix: tuple
    kind = "quadratic"

    def __init__(self, center, matrix=1.0):
        c = _vec("reward center", center)
        d = c.size
        try:
            a = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"reward matrix must be numeric: {exc}") from None
        if a.ndim == 0:
            a = float(a) * np.eye(d)
        if a.shape != (d, d):
            raise ValueError(f"reward matrix must have shape ({d}, {d}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError("reward matrix must be finite")
        scale = max(float(np.max(np.abs(a))), np.finfo(np.float64).tiny)
        if np.max(np.abs(a - a.T)) > 1e-10 * scale:
            raise ValueError("reward matrix must be symmetric")
        a = 0.5 * (a + a.T)
        if np.linalg.eigvalsh(a)[0] < -1e-12 * scale:
            raise ValueError("reward matrix must be positive semi-definite (bounded reward)")
        object.__setattr__(self, "center", _t1(c))
        object.__setattr__(self, "matrix", _t2(a))

    @property
    def dim(self) -> int:
        return len(self.center)

    def params(self, dtype="float64"):
        return (jnp.asarray(self.center, dtype), jnp.asarray(np.asarray(self.matrix), dtype))

    def to_dict(self):
        return {"kind": self.kind, "center": list(self.center),
                "matrix": [list(r) for r in self.matrix]}


@dataclass(frozen=True)
class FlatTopReward(_Reward):
    """r(x) = −slope · max(0, min_i ‖x − c_i‖ − radius); ``centers`` of shape (m, d)."""

    centers: tuple
    radius: float
    slope: float = 1.0
    kind = "flat_top"

    def __init__(self, centers, radius, slope=1.0):
        try:
            c = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"reward centers must be numeric: {exc}") from None
        if c.ndim == 1:
            c = c[None, :]
        if c.ndim != 2 or c.shape[0] < 1 or not np.all(np.isfinite(c)):
            raise ValueError(f"reward centers must be a finite (m, d) array, got shape {c.shape}")
        object.__setattr__(self, "centers", _t2(c))
        object.__setattr__(self, "radius", _real("reward radius", radius, nonneg=True))
        object.__setattr__(self, "slope", _real("reward slope", slope, positive=True))

    @property
    def dim(self) -> int:
        return len(self.centers[0])

    def params(self, dtype="float64"):
        return (jnp.asarray(np.asarray(self.centers), dtype), jnp.asarray(self.radius, dtype),
                jnp.asarray(self.slope, dtype))

    def to_dict(self):
        return {"kind": self.kind, "centers": [list(r) for r in self.centers],
                "radius": self.radius, "slope": self.slope}


@dataclass(frozen=True)
class ClassifierReward(_Reward):
    """r(x) = scale · P(component | x) under the mixture Σ_j w_j N(μ_j, Σ_j)."""

    weights: tuple
    means: tuple
    covs: tuple
    component: int
    scale: float = 1.0
    kind = "classifier"

    def __init__(self, weights, means, covs, component, scale=1.0):
        from theory.laws import GaussianMixtureLaw

        law = GaussianMixtureLaw(weights, means, covs)  # validates the mixture
        if isinstance(component, bool) or not isinstance(component, numbers.Integral):
            raise TypeError(f"reward component must be an integer, got {component!r}")
        if not 0 <= int(component) < law.components:
            raise ValueError(
                f"reward component must be in [0, {law.components - 1}], got {component}")
        object.__setattr__(self, "weights", law.weights)
        object.__setattr__(self, "means", law.means)
        object.__setattr__(self, "covs", law.covs)
        object.__setattr__(self, "component", int(component))
        object.__setattr__(self, "scale", _real("reward scale", scale))

    @property
    def dim(self) -> int:
        return len(self.means[0])

    def params(self, dtype="float64"):
        w, mu, cv = (np.asarray(a) for a in (self.weights, self.means, self.covs))
        chol = np.linalg.cholesky(cv)
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        onehot = np.zeros(w.size)
        onehot[self.component] = 1.0
        return tuple(jnp.asarray(v, dtype) for v in
                     (logw - 0.5 * logdet, mu, chol, onehot, self.scale))

    def to_dict(self):
        return {"kind": self.kind, "weights": list(self.weights),
                "means": [list(r) for r in self.means],
                "covs": [[list(r) for r in c] for c in self.covs],
                "component": self.component, "scale": self.scale}


@dataclass(frozen=True, eq=False)
class CallableReward(_Reward):
    """Any JAX-traceable ``fn(x) -> scalar`` on ``x`` of shape ``(d,)`` (hashed by identity)."""

    fn: Callable
    kind = "callable"

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"reward must be callable, got {type(fn).__name__}")
        object.__setattr__(self, "fn", fn)

    dim = None

    def params(self, dtype="float64"):
        return ()

    def to_dict(self):
        return {"kind": self.kind, "fn": getattr(self.fn, "__qualname__", repr(self.fn))}


def mahalanobis2(x, mean, chol):
    """‖L⁻¹(x − μ)‖² for x of shape (..., d), Cholesky factor L (d, d) of the covariance."""
    d = mean.shape[-1]
    flat = (x - mean).reshape((-1, d)).T
    sol = linalg.solve_lower(chol, flat)
    return jnp.sum(sol**2, axis=0).reshape(x.shape[:-1])


def _apply_points(fn, x):
    """Apply ``fn`` on (d,) to x of shape (..., d)."""
    lead = x.shape[:-1]
    flat = x.reshape((-1, x.shape[-1]))
    out = jnp.asarray(jax.vmap(fn)(flat))
    if out.shape != flat.shape[:1]:
        raise ValueError(
            f"reward must map a point of shape ({x.shape[-1]},) to a scalar; got output shape "
            f"{out.shape[1:]} per point")
    return jnp.reshape(out, lead)


def reward_value(kind: str, params: tuple, x, reward=None):
    """r(x) for ``x`` of shape (..., d), traceable in ``params`` (``reward`` is needed only
    for ``kind == "callable"``)."""
    x = jnp.asarray(x)
    if kind == "linear":
        a, b = params
        return x @ a + b
    if kind == "quadratic":
        c, a = params
        diff = x - c
        return -0.5 * jnp.einsum("...i,ij,...j->...", diff, a, diff)
    if kind == "flat_top":
        centers, radius, slope = params
        dist = jnp.sqrt(jnp.sum((x[..., None, :] - centers) ** 2, axis=-1))
        return -slope * jnp.maximum(0.0, jnp.min(dist, axis=-1) - radius)
    if kind == "classifier":
        logw_c, means, chol, onehot, scale = params
        q = jax.vmap(lambda m, c: mahalanobis2(x, m, c), out_axes=-1)(means, chol)  # (..., m)
        logits = logw_c - 0.5 * q
        post = jax.nn.softmax(logits, axis=-1)
        return scale * (post @ onehot)
    if kind == "callable":
        if reward is None:
            raise ValueError("a callable reward needs the reward object")
        return _apply_points(reward.fn, x).astype(x.dtype)
    raise ValueError(f"reward kind must be one of {REWARD_KINDS}, got {kind!r}")


def reward_tilt(kind: str, params: tuple, mean, cov):
    """Exponential tilt of N(mean, cov) by e^{r}: (mean', cov') (K = ∞ curation, Lemma 2.1).

    Linear: (μ + Σa, Σ). Quadratic: Σ' = (I + ΣA)⁻¹Σ, μ' = (I + ΣA)⁻¹(μ + ΣAc), which equals
    (Σ⁻¹ + A)⁻¹ and Σ'(Σ⁻¹μ + Ac) without inverting Σ (stable when Σ is nearly singular).
    Batched over leading axes.
    """
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    if kind == "linear":
        a, _ = params
        return mean + cov @ a, cov
    if kind == "quadratic":
        c, a = params
        eye = jnp.eye(cov.shape[-1], dtype=cov.dtype)
        m = eye + cov @ a
        new_cov = linalg.solve(m, cov)
        new_cov = 0.5 * (new_cov + jnp.swapaxes(new_cov, -1, -2))
        rhs = mean + (cov @ (a @ c))
        new_mean = linalg.solve(m, rhs[..., None])[..., 0]
        return new_mean, new_cov
    raise ValueError(
        f"the K = inf tilt has a Gaussian closed form only for linear and quadratic rewards, "
        f"not {kind!r}")


def reward_expected(kind: str, params: tuple, mean, cov):
    """E_{N(mean, cov)}[r]: aᵀμ + b (linear); −½[(μ − c)ᵀA(μ − c) + tr(AΣ)] (quadratic)."""
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    if kind == "linear":
        a, b = params
        return mean @ a + b
    if kind == "quadratic":
        c, a = params
        diff = mean - c
        quad = jnp.einsum("...i,ij,...j->...", diff, a, diff)
        return -0.5 * (quad + jnp.einsum("ij,...ji->...", a, cov))
    raise ValueError(f"E[r] has a closed form only for linear and quadratic rewards, not {kind!r}")


def reward_from_dict(data: dict):
    """Build a named reward from a dict/TOML table with a ``kind`` key."""
    if not isinstance(data, dict):
        raise TypeError(f"a reward must be given as a table/dict, got {type(data).__name__}")
    data = dict(data)
    kind = data.pop("kind", None)
    builders = {"linear": LinearReward, "quadratic": QuadraticReward,
                "flat_top": FlatTopReward, "classifier": ClassifierReward}
    if kind not in builders:
        raise ValueError(f"reward kind must be one of {tuple(builders)}, got {kind!r}")
    try:
        return builders[kind](**data)
    except TypeError as exc:
        raise TypeError(f"reward ({kind}): {exc}") from None


def as_reward(reward, dim: int):
    """Normalize and check a reward for points of dimension ``dim``.

    Named rewards must match ``dim``; a dict is built with :func:`reward_from_dict`; a plain
    callable is wrapped in :class:`CallableReward` and probed on a point of shape ``(dim,)``:
    it must return one finite real number (otherwise ``ValueError``: the reward is not a
    function of x). Errors name the field ``reward``.
    """
    try:
        return _as_reward(reward, dim)
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("reward") else f"reward: {msg}") from None
    except TypeError as exc:
        msg = str(exc)
        raise TypeError(msg if msg.startswith("reward") else f"reward: {msg}") from None


def _as_reward(reward, dim: int):
    if isinstance(reward, dict):
        reward = reward_from_dict(reward)
    if not isinstance(reward, _Reward):
        if not callable(reward):
            raise TypeError(f"reward must be a named reward or a callable, got {reward!r}")
        reward = CallableReward(reward)
    if reward.dim is not None and reward.dim != dim:
        raise ValueError(f"reward has dimension {reward.dim}, but dim={dim}")
    probe = jnp.zeros((2, dim), jnp.float64).at[1].set(1.0)
    try:
        values = reward(probe)
    except Exception as exc:  # any failure means it is not a function of x of shape (d,)
        raise ValueError(
            f"reward must map a point of shape ({dim},) to a real number; calling it failed: "
            f"{type(exc).__name__}: {exc}") from None
    values = np.asarray(values)
    if values.shape != (2,):
        raise ValueError(
            f"reward must map a point of shape ({dim},) to a scalar; got output shape "
            f"{values.shape[1:] if values.ndim else ()} per point")
    if not np.all(np.isfinite(values)):
        raise ValueError("reward values must be finite (got a non-finite value at a probe point)")
    return reward


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
