"""Practical point-wise correctors of Gillman et al. 2024 (App. C, §5, §6) as pure JAX functions.

Gillman et al. (ICML 2024) correct each synthetic point toward the best model in the class p_θ*
before refitting. The ideal corrector draws from π_γ p_θ = (p_θ + γ p_θ*)/(1 + γ) (Def. 4.1);
a practical corrector is a map Π of the synthetic sample, *valid* with projection strength γ
when the empirical law of Π(X^n) tends to π_γ p_θ uniformly (Def. C.2, eq. 51; Def. C.4).

Every corrector here is a frozen (hashable) object with two pure functions

    init(key, real_x) -> cstate                 # once per replicate, from the n real points
    apply(key, x, target_mean, target_sqrt, strength, cstate) -> x_corrected

``x`` is the (m, d) synthetic sample of the current model, p_θ* = N(μ*, Σ*) is given by
``target_mean`` μ* (d,) and a square root ``target_sqrt`` S (d, d) with SᵀS = Σ* (draws are
μ* + zS, z ~ N(0, I), the engine's convention; the symmetric root works), ``strength`` is γ ∈
[0, ∞] (a traced scalar: one compilation serves every γ) and t = γ/(1 + γ). Both functions can
be jitted and vmapped (static configuration lives on the object). A concrete γ < 0 or NaN
raises ValueError; a traced invalid γ makes the output NaN (never a valid-looking number).

Registry :data:`CORRECTORS` (defaults; :func:`get_corrector` builds other configurations):

``"ideal"``
    π_γ itself: each point replaced, with probability t, by a draw from p_θ* (the engine's
    built-in corrector). γ = 0 is the identity, γ = ∞ replaces every point.
``"histogram"``
    Example C.6 sampled exactly: m i.i.d. draws from ((histogram of x) + γ p_θ*)/(1 + γ) — with
    probability 1/(1 + γ) = 1 − t a point from the histogram (a bin chosen with probability
    its share of x, then uniform inside it), else from p_θ* — assigned to the points by a
    uniform random permutation σ (Π(x_i) = y_σ(i)). The bins: ``bins`` per axis over the
    bounding box of x (NumPy's ``histogram2d`` grid of the authors' code: an axis of zero range
    becomes [v − ½, v + ½]). At γ = 0 this is *not* the identity: it resamples the histogram
    (the output lies in the bins' union and its bin counts are Multinomial(m, counts/m)).
``"histogram_authors"``
    The authors' Gaussian-toy code (``gaussian_toy_example.py``, commit 756c50c): rejection
    sampling with proposal φ = p_θ*, target f = (1 − t)h + tφ (h the histogram density) and
    envelope M = [(1 − t) max h + tφ(μ*)]/φ(μ*). M is not a bound on f/φ in general, so the
    accepted points follow ∝ min(f, Mφ) (:func:`theory.projection_strength.
    clipped_histogram_mixture_cdf`), not f. Proposals come in rounds of
    ``proposal_factor``·m; if ``max_rounds`` rounds do not fill the m slots the rest are NaN.
``"ot"``
    The earlier version of the authors' toy corrector (commit 7a8b5e2): m draws y from p_θ*,
    the assignment σ minimising Σ_i ‖x_i − y_σ(i)‖ (Euclidean), then
    x_i ← t·y_σ(i) + (1 − t)·x_i. Exact assignment: d = 1 by sorting (the monotone coupling,
    optimal for any convex cost of x − y and the unique optimum for strictly convex ones; with
    the cost |x − y| other optimal assignments exist, e.g. the one scipy returns), d ≥ 2 by
    the Hungarian method (shortest augmenting paths, :func:`assignment`) in ``lax`` loops. The
    corrected mean is exactly (1 − t)x̄ + tȳ whatever σ is.
``"centroid"``
    The MNIST corrector (§6, App. D): k-means (k-means++ seeding, ``iterations`` Lloyd steps,
    deterministic given the key) on the real data in ``init``; ``apply`` replaces each point,
    with probability t, by its nearest centroid. Choice: the MNIST experiment snaps every
    point, which is γ = ∞ here (t = 1); a finite γ snaps a random share t, so γ = 0 is the
    identity.

:func:`effective_strength` estimates the γ_eff of a corrector (the γ of the closest π_γ p_θ,
:mod:`theory.projection_strength`) and :func:`sup_distance_over_n` /
:func:`conditional_pit` check Def. C.2 for the histogram correctors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from theory import linalg
from theory.distances import sqrtm_psd
from theory.projection_strength import (
    StrengthEstimate,
    clipped_histogram_mixture_cdf,
    clipped_mixture_cdf,
    distributional_strength,
    histogram_mixture_cdf,
    mixture_cdf,
    moment_strength,
)

__all__ = [
    "CORRECTORS",
    "AuthorsHistogramCorrector",
    "CentroidCorrector",
    "Corrector",
    "HistogramCorrector",
    "IdealCorrector",
    "OTCorrector",
    "SupDistance",
    "assignment",
    "conditional_pit",
    "corrected_samples",
    "cube_root_bins",
    "effective_strength",
    "effective_strength_estimate",
    "get_corrector",
    "histogram_cells",
    "histogram_grid",
    "kmeans",
    "kmeans_plus_plus",
    "lloyd",
    "sup_distance_over_n",
]


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _check_config_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_key(key):
    if not (hasattr(key, "dtype") and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)):
        raise TypeError("key must be a typed PRNG key from jax.random.key(seed)")
    if key.shape != ():
        raise ValueError(f"key must be a single key (shape ()), got shape {key.shape}")


def _check_points(name: str, x) -> Array:
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (m, d) with m >= 1 and d >= 1, got {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating array, got dtype {x.dtype}")
    return x


def _check_strength(strength) -> None:
    """Concrete γ: must be a real scalar in [0, ∞]. Traced γ is checked in the output (NaN)."""
    if isinstance(strength, jax.core.Tracer):
        if jnp.shape(strength) != ():
            raise ValueError(f"strength must be a scalar, got shape {jnp.shape(strength)}")
        return
    if isinstance(strength, bool | np.bool_):
        raise TypeError(f"strength (correction_strength γ) must be a real number in [0, inf], "
                        f"got {strength!r}")
    arr = np.asarray(strength)
    if arr.shape != () or arr.dtype.kind not in "iuf":
        raise TypeError(f"strength (correction_strength γ) must be a real number in [0, inf], "
                        f"got {strength!r}")
    g = float(arr)
    if math.isnan(g) or g < 0.0:
        raise ValueError(f"strength (correction_strength γ) must be in [0, inf], got {g}")


def _weight(strength, dtype):
    """t = γ/(1 + γ) (1 at γ = ∞; NaN for γ < 0 or NaN), Gillman et al. 2024 eq. 4."""
    g = jnp.asarray(strength, dtype)
    t = jnp.where(jnp.isinf(g), jnp.ones_like(g), g / (1.0 + g))
    return jnp.where(g >= 0, t, jnp.nan)


# --------------------------------------------------------------------------------------------
# the corrector interface
# --------------------------------------------------------------------------------------------


class Corrector:
    """Base class: ``init(key, real_x) -> cstate`` and ``apply(key, x, μ*, S, γ, cstate)``.

    Subclasses are frozen dataclasses (hashable: usable as static arguments of ``jit``) that
    implement ``_init`` and ``_apply(key, x, μ*, S, t, cstate)`` with t = γ/(1+γ).
    """

    name = "corrector"

    def init(self, key, real_x):
        """Per-replicate state from the real data ``real_x`` (n, d); () if none is needed."""
        _check_key(key)
        real_x = _check_points("real_x", real_x)
        return self._init(key, real_x)

    def _init(self, key, real_x):
        return ()

    def apply(self, key, x, target_mean, target_sqrt, strength, cstate=()):
        """Corrected copy of the synthetic points ``x`` (m, d), same shape and dtype.

        Args:
            key: typed PRNG key.
            x: (m, d) synthetic points drawn from the current model p_θ.
            target_mean: μ* (d,).
            target_sqrt: S (d, d) with SᵀS = Σ* (p_θ* = N(μ*, Σ*)).
            strength: γ ∈ [0, ∞] (may be traced).
            cstate: the output of :meth:`init` for this replicate.
        """
        _check_key(key)
        x = _check_points("x", x)
        m, d = x.shape
        dt = x.dtype
        mu = jnp.asarray(target_mean, dt)
        root = jnp.asarray(target_sqrt, dt)
        if mu.shape != (d,):
            raise ValueError(f"target_mean must have shape ({d},), got {mu.shape}")
        if root.shape != (d, d):
            raise ValueError(f"target_sqrt must have shape ({d}, {d}), got {root.shape}")
        _check_strength(strength)
        t = _weight(strength, dt)
        out = self._apply(key, x, mu, root, t, cstate)
        return jnp.where(jnp.isnan(t), jnp.nan, out).astype(dt)

    def _apply(self, key, x, mu, root, t, cstate):  # pragma: no cover - abstract
        raise NotImplementedError


def _target_draws(key, mu, root, shape):
    return mu + jax.random.normal(key, shape, mu.dtype) @ root


@dataclass(frozen=True)
class IdealCorrector(Corrector):
    """π_γ p_θ point by point: with probability t replace x_i by a draw from p_θ* (Def. 4.1)."""

    name = "ideal"

    def _apply(self, key, x, mu, root, t, cstate):
        k_z, k_u = jax.random.split(key)
        m = x.shape[0]
        y = _target_draws(k_z, mu, root, x.shape)
        to_target = jax.random.uniform(k_u, (m,), x.dtype) < t
        return jnp.where(to_target[:, None], y, x)


# --------------------------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------------------------


def histogram_grid(x, bins: int):
    """Left edges ``lo`` (d,) and widths ``w`` (d,) of ``bins`` equal bins per axis.

    NumPy's ``histogram``/``histogram2d`` grid: the bounding box [min, max] of the points on
    each axis, widened to [v − ½, v + ½] when the axis has zero range.
    """
    lo, hi = jnp.min(x, axis=0), jnp.max(x, axis=0)
    same = hi == lo
    lo = jnp.where(same, lo - 0.5, lo)
    hi = jnp.where(same, hi + 0.5, hi)
    return lo, (hi - lo) / bins


def histogram_cells(x, lo, width, bins: int):
    """Bin index (per axis) of each point of the grid of :func:`histogram_grid`, clipped to
    [0, bins − 1] (the maximum of an axis falls in the last bin, as in NumPy)."""
    idx = jnp.floor((x - lo) / width).astype(jnp.int32)
    return jnp.clip(idx, 0, bins - 1)


@dataclass(frozen=True)
class HistogramCorrector(Corrector):
    """Example C.6 with exact mixture sampling (valid: the output law is known exactly).

    Output y_σ(i) with σ a uniform permutation and y_1..y_m i.i.d. from (1 − t)H + t p_θ*,
    H the histogram law of x (``bins`` per axis over the bounding box, uniform within a bin).
    The y are i.i.d., so the permutation does not change the joint law; it is kept to follow
    Example C.6 literally. All choices come from one block of uniforms U: the point whose bin
    is used is ⌊U·m⌋ (each index has probability 1/m up to 2^-p, p = 52 mantissa bits in
    float64 and 23 in float32), σ sorts another column (ties have probability < m²·2^-p).
    """

    bins: int = 10
    name = "histogram"

    def __post_init__(self):
        _check_config_int("bins", self.bins, 1)

    def _apply(self, key, x, mu, root, t, cstate):
        m, d = x.shape
        k_u, k_z = jax.random.split(key)
        # independent uniform columns: point index, membership, permutation keys, offsets
        u = jax.random.uniform(k_u, (m, d + 3), x.dtype)
        lo, width = histogram_grid(x, self.bins)
        cells = histogram_cells(x, lo, width, self.bins)
        # a bin with probability count/m: the bin of a uniformly chosen point
        j = jnp.minimum(jnp.floor(u[:, 0] * m).astype(jnp.int32), m - 1)
        from_hist = lo + (cells[j] + u[:, 3:]) * width
        from_target = _target_draws(k_z, mu, root, x.shape)
        y = jnp.where((u[:, 1] < t)[:, None], from_target, from_hist)
        return y[jnp.argsort(u[:, 2])]


_MAX_CELLS = 2**24


@dataclass(frozen=True)
class AuthorsHistogramCorrector(Corrector):
    """The authors' rejection sampler (clipped envelope): accepted points follow ∝ min(f, Mφ).

    f = (1 − t)h + tφ with h the histogram density of x (``bins`` per axis, 0 outside the
    bounding box), φ the density of p_θ* and M = [(1 − t) max h + tφ(μ*)]/φ(μ*). A proposal
    y = μ* + zS is accepted when f(y)/(Mφ(y)) > U, with U = Φ(z') ~ Uniform(0, 1) from one
    more independent normal z' (one normal draw per round); with
    φ(y)/φ(μ*) = exp(−‖z‖²/2) = g this ratio is [(1 − t)h(y)/φ(μ*) + tg]/
    ([(1 − t) max h/φ(μ*) + t]·g). The first m accepted proposals are returned; slots left
    empty after ``max_rounds`` rounds of ``proposal_factor``·m proposals are NaN. The target
    square root S must be non-singular. The histogram is a dense table of bins**d cells
    (at most 2**24).
    """

    bins: int = 10
    proposal_factor: int = 4
    max_rounds: int = 1000
    name = "histogram_authors"

    def __post_init__(self):
        _check_config_int("bins", self.bins, 1)
        _check_config_int("proposal_factor", self.proposal_factor, 1)
        _check_config_int("max_rounds", self.max_rounds, 1)

    def _apply(self, key, x, mu, root, t, cstate):
        m, d = x.shape
        dt = x.dtype
        bins = self.bins
        if bins**d > _MAX_CELLS:
            raise ValueError(f"histogram_authors needs bins**d <= {_MAX_CELLS} cells, got "
                             f"bins={bins}, d={d}")
        lo, width = histogram_grid(x, bins)
        hi = lo + bins * width
        stride = jnp.asarray([bins**k for k in range(d)], jnp.int32)
        table = jnp.zeros((bins**d,), dt).at[histogram_cells(x, lo, width, bins) @ stride].add(1.0)
        volume = jnp.prod(width)
        phi0 = 1.0 / ((2.0 * jnp.pi) ** (d / 2) * jnp.exp(linalg.slogdet(root)[1]))
        h_scale = 1.0 / (m * volume * phi0)  # h/φ(μ*) = count · h_scale
        envelope = (1.0 - t) * jnp.max(table) * h_scale + t  # M = [(1−t) max h + tφ0]/φ0
        proposals = self.proposal_factor * m

        def body(state):
            buf, filled, rnd = state
            # round r: normals from fold_in(key, r); the extra column gives U = Φ(Z) ~ U(0, 1)
            w = jax.random.normal(jax.random.fold_in(key, rnd), (proposals, d + 1), dt)
            z = w[:, :d]
            y = mu + z @ root
            inside = jnp.all((y >= lo) & (y <= hi), axis=-1)
            count = table[histogram_cells(y, lo, width, bins) @ stride]
            h_rel = jnp.where(inside, count * h_scale, 0.0)
            g = jnp.exp(-0.5 * jnp.sum(z * z, axis=-1))
            ratio = ((1.0 - t) * h_rel + t * g) / (envelope * g)
            acc = ratio > jax.scipy.special.ndtr(w[:, d])
            pos = filled + jnp.cumsum(acc, dtype=jnp.int32) - 1
            slot = jnp.where(acc & (pos < m), pos, m)
            buf = buf.at[slot].set(y, mode="drop")
            filled = jnp.minimum(m, filled + jnp.sum(acc, dtype=jnp.int32))
            return buf, filled, rnd + 1

        def cond(state):
            _, filled, rnd = state
            return (filled < m) & (rnd < self.max_rounds) & ~jnp.isnan(t)

        start = (jnp.full((m, d), jnp.nan, dt), jnp.asarray(0, jnp.int32),
                 jnp.asarray(0, jnp.int32))
        buf, _, _ = jax.lax.while_loop(cond, body, start)
        return buf


# --------------------------------------------------------------------------------------------
# optimal transport
# --------------------------------------------------------------------------------------------


def assignment(cost) -> Array:
    """Exact minimum-cost assignment: ``col[i]`` for row i minimises Σ_i cost[i, col[i]].

    The Hungarian method in its shortest-augmenting-path form (Kuhn 1955; Munkres 1957;
    Jonker & Volgenant 1987): rows are added one at a time; for each, a Dijkstra-like search
    over columns with reduced costs c[i, j] − u_i − v_j ≥ 0 finds the cheapest augmenting path
    while the dual potentials (u, v) stay feasible, then the path is flipped. O(n³) arithmetic
    in O(n²) ``lax.while_loop`` steps of vector work; exact in real arithmetic (no ε-scaling
    or rounding of costs), jit- and vmap-compatible.

    Args:
        cost: (n, n) finite real matrix.

    Returns:
        (n,) int32 permutation.
    """
    cost = jnp.asarray(cost)
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1] or cost.shape[0] < 1:
        raise ValueError(f"cost must be a non-empty square matrix, got shape {cost.shape}")
    n = cost.shape[0]
    dt = cost.dtype if jnp.issubdtype(cost.dtype, jnp.floating) else jnp.float64
    big = jnp.asarray(jnp.inf, dt)
    a = jnp.zeros((n + 1, n + 1), dt).at[1:, 1:].set(cost.astype(dt))
    cols = jnp.arange(n + 1, dtype=jnp.int32)
    i32 = jnp.int32

    def add_row(i, carry):
        u, v, p, way = carry
        p = p.at[0].set(i)

        def search(s):
            u, v, way, minv, used, j0 = s
            used = used.at[j0].set(True)
            i0 = p[j0]
            cur = a[i0] - u[i0] - v
            free = (~used) & (cols > 0)
            better = free & (cur < minv)
            minv = jnp.where(better, cur, minv)
            way = jnp.where(better, j0, way)
            masked = jnp.where(free, minv, big)
            j1 = jnp.argmin(masked).astype(i32)
            delta = masked[j1]
            u = u.at[p].add(jnp.where(used, delta, 0.0))
            v = jnp.where(used, v - delta, v)
            minv = jnp.where(free, minv - delta, minv)
            return u, v, way, minv, used, j1

        start = (u, v, way, jnp.full((n + 1,), big), jnp.zeros((n + 1,), bool),
                 jnp.asarray(0, i32))
        s = search(start)
        u, v, way, _, _, j0 = jax.lax.while_loop(lambda s: p[s[5]] != 0, search, s)

        def flip(s):
            p, j0 = s
            j1 = way[j0]
            return p.at[j0].set(p[j1]), j1

        p, _ = jax.lax.while_loop(lambda s: s[1] != 0, flip, (p, j0))
        return u, v, p, way

    zeros_f = jnp.zeros((n + 1,), dt)
    zeros_i = jnp.zeros((n + 1,), i32)
    _, _, p, _ = jax.lax.fori_loop(1, n + 1, add_row, (zeros_f, zeros_f, zeros_i, zeros_i))
    col_of_row = jnp.zeros((n + 1,), i32).at[p[1:]].set(cols[1:])
    return col_of_row[1:] - 1


def _monotone_match(x, y):
    """d = 1: y sorted and given to x in rank order (the monotone coupling)."""
    order = jnp.argsort(x[:, 0])
    return jnp.zeros_like(y).at[order].set(jnp.sort(y, axis=0))


@dataclass(frozen=True)
class OTCorrector(Corrector):
    """Displacement toward target samples: x_i ← t·y_σ(i) + (1 − t)·x_i, σ optimal for Σ‖x − y‖."""

    name = "ot"

    def _apply(self, key, x, mu, root, t, cstate):
        y = _target_draws(key, mu, root, x.shape)
        if x.shape[1] == 1:
            matched = _monotone_match(x, y)
        else:
            diff = x[:, None, :] - y[None, :, :]
            cost = jnp.sqrt(jnp.sum(diff * diff, axis=-1))
            matched = y[assignment(cost)]
        return t * matched + (1.0 - t) * x


# --------------------------------------------------------------------------------------------
# k-means centroids
# --------------------------------------------------------------------------------------------


def _sq_dist(x, c):
    diff = x[:, None, :] - c[None, :, :]
    return jnp.sum(diff * diff, axis=-1)


def kmeans_plus_plus(key, points, num_centroids: int) -> Array:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): (num_centroids, d) data points.

    The first centre is a uniform point; each next one is a point drawn with probability
    ∝ D(x)², the squared distance to the nearest chosen centre (uniform if every D(x) = 0), so
    a chosen point is never chosen again while others remain at positive distance.
    """
    _check_key(key)
    points = _check_points("points", points)
    k = _check_config_int("num_centroids", num_centroids, 1)
    n, d = points.shape
    if k > n:
        raise ValueError(f"num_centroids must be <= the number of points ({n}), got {k}")
    k_first, k_rest = jax.random.split(key)
    first = points[jax.random.randint(k_first, (), 0, n)]
    centres = jnp.zeros((k, d), points.dtype).at[0].set(first)
    d2 = jnp.sum((points - first) ** 2, axis=-1)

    def seed(i, carry):
        centres, d2 = carry
        total = jnp.sum(d2)
        logits = jnp.where(total > 0, jnp.log(d2), jnp.zeros_like(d2))
        c = points[jax.random.categorical(jax.random.fold_in(k_rest, i), logits)]
        return centres.at[i].set(c), jnp.minimum(d2, jnp.sum((points - c) ** 2, axis=-1))

    centres, _ = jax.lax.fori_loop(1, k, seed, (centres, d2))
    return centres


def lloyd(points, centres, iterations: int) -> Array:
    """``iterations`` Lloyd steps: assign each point to its nearest centre (lowest index on
    ties), move each centre to the mean of its points; an empty cluster keeps its centre."""
    points = _check_points("points", points)
    centres = _check_points("centres", centres)
    iterations = _check_config_int("iterations", iterations, 0)
    k = centres.shape[0]

    def step(_, centres):
        onehot = jax.nn.one_hot(jnp.argmin(_sq_dist(points, centres), axis=1), k,
                                dtype=points.dtype)
        counts = jnp.sum(onehot, axis=0)
        sums = onehot.T @ points
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], centres)

    return jax.lax.fori_loop(0, iterations, step, centres)


def kmeans(key, points, num_centroids: int, iterations: int) -> Array:
    """k-means centroids (num_centroids, d): :func:`kmeans_plus_plus` then :func:`lloyd`.

    Deterministic given ``key``; jit/vmap compatible (``num_centroids`` and ``iterations`` are
    static).
    """
    return lloyd(points, kmeans_plus_plus(key, points, num_centroids), iterations)


@dataclass(frozen=True)
class CentroidCorrector(Corrector):
    """Nearest-centroid snap (MNIST, §6): with probability t, x_i ← its nearest k-means centroid.

    ``init`` runs :func:`kmeans` on the real data (``num_centroids`` ≤ n real points);
    γ = ∞ snaps every point, as in the MNIST experiment (K = 16 there).
    """

    num_centroids: int = 16
    iterations: int = 25
    name = "centroid"

    def __post_init__(self):
        _check_config_int("num_centroids", self.num_centroids, 1)
        _check_config_int("iterations", self.iterations, 0)

    def _init(self, key, real_x):
        return kmeans(key, real_x, self.num_centroids, self.iterations)

    def _apply(self, key, x, mu, root, t, cstate):
        centres = jnp.asarray(cstate, x.dtype)
        if centres.shape != (self.num_centroids, x.shape[1]):
            raise ValueError(f"cstate must be the ({self.num_centroids}, {x.shape[1]}) centroids "
                             f"from init, got shape {centres.shape}")
        nearest = centres[jnp.argmin(_sq_dist(x, centres), axis=1)]
        snap = jax.random.uniform(key, (x.shape[0],), x.dtype) < t
        return jnp.where(snap[:, None], nearest, x)


CORRECTORS: dict[str, Corrector] = {
    "ideal": IdealCorrector(),
    "histogram": HistogramCorrector(),
    "histogram_authors": AuthorsHistogramCorrector(),
    "ot": OTCorrector(),
    "centroid": CentroidCorrector(),
}


def get_corrector(corrector, **config) -> Corrector:
    """A corrector from its registry name (with optional configuration) or an instance.

    >>> get_corrector("histogram", bins=5)
    HistogramCorrector(bins=5)
    """
    if isinstance(corrector, Corrector):
        if config:
            raise ValueError("configuration keywords apply to a corrector name, not an instance")
        return corrector
    if not isinstance(corrector, str) or corrector not in CORRECTORS:
        raise ValueError(f"corrector must be one of {tuple(CORRECTORS)} or a Corrector, got "
                         f"{corrector!r}")
    return type(CORRECTORS[corrector])(**config)


# --------------------------------------------------------------------------------------------
# effective strength
# --------------------------------------------------------------------------------------------


def _gaussian_args(mean, cov, target_mean, target_cov):
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    d = mean.shape[0]
    out = []
    for name, val, shape in (("mean", mean, (d,)), ("cov", cov, (d, d)),
                             ("target_mean", target_mean, (d,)),
                             ("target_cov", target_cov, (d, d))):
        arr = np.asarray(val, dtype=np.float64)
        if arr.size != math.prod(shape) or mean.ndim != 1:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        arr = arr.reshape(shape)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        out.append(arr)
    for name in ("cov", "target_cov"):
        c = out[1] if name == "cov" else out[3]
        if not np.allclose(c, c.T, rtol=1e-12, atol=0.0) or np.linalg.eigvalsh(c)[0] < 0:
            raise ValueError(f"{name} must be symmetric positive semi-definite")
    return out


@lru_cache(maxsize=64)
def _sampler(corrector: Corrector, m: int, n_real: int, d: int, dtype: str):
    dt = jnp.dtype(dtype)

    def one(key, mean, root, target_mean, target_root, gamma):
        k_draw, k_init, k_apply = jax.random.split(key, 3)
        z = jax.random.normal(k_draw, (n_real + m, d), dt)
        real = target_mean + z[:n_real] @ target_root
        cstate = corrector.init(k_init, real)
        x = mean + z[n_real:] @ root
        return corrector.apply(k_apply, x, target_mean, target_root, gamma, cstate)

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None, None)))


def corrected_samples(corrector, gamma, m: int, replicates: int, seed: int, *, mean=(1.0,),
                      cov=((2.0,),), target_mean=(0.0,), target_cov=((1.0,),), n_real: int = 100,
                      dtype: str = "float64") -> np.ndarray:
    """Corrected points of R independent applications, shape (replicates, m, d).

    Replicate r (key ``fold_in(key(seed), r)``): n_real real points from p_θ* (the target is the
    Gaussian p_data's moments), ``init`` on them, m points from p_θ = N(mean, cov), ``apply``
    with strength γ.
    """
    corrector = get_corrector(corrector)
    _check_strength(gamma)
    m = _check_config_int("m", m, 1)
    replicates = _check_config_int("replicates", replicates, 1)
    n_real = _check_config_int("n_real", n_real, 1)
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    mean, cov, target_mean, target_cov = _gaussian_args(mean, cov, target_mean, target_cov)
    dt = jnp.dtype(dtype)
    base = jax.random.key(int(seed))
    keys = jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.arange(replicates))
    fn = _sampler(corrector, m, n_real, mean.shape[0], dtype)
    out = fn(keys, jnp.asarray(mean, dt), sqrtm_psd(jnp.asarray(cov)).astype(dt),
             jnp.asarray(target_mean, dt), sqrtm_psd(jnp.asarray(target_cov)).astype(dt),
             jnp.asarray(float(gamma), dt))
    return np.asarray(out)


_METHODS = ("mean", "second", "cvm", "ks")


def effective_strength_estimate(corrector, gamma, m: int, replicates: int, seed: int, *,
                                method: str = "mean", mean=(1.0,), cov=((2.0,),),
                                target_mean=(0.0,), target_cov=((1.0,),), n_real: int = 100,
                                bootstrap: int = 200) -> StrengthEstimate:
    """γ_eff of a corrector as a full :class:`~theory.projection_strength.StrengthEstimate`.

    ``method``: ``"mean"`` / ``"second"`` (moment estimators, between-replicate standard error,
    :func:`theory.projection_strength.moment_strength`) or ``"cvm"`` / ``"ks"`` (minimum
    distance in 1-D with a replicate bootstrap, :func:`theory.projection_strength.
    distributional_strength`). Default setting: p_θ = N(1, 2), p_θ* = N(0, 1) (mean and
    variance both informative), n_real = 100 real points for the corrector's ``init``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    x = corrected_samples(corrector, gamma, m, replicates, seed, mean=mean, cov=cov,
                          target_mean=target_mean, target_cov=target_cov, n_real=n_real)
    if method in ("mean", "second"):
        return moment_strength(x, mean, cov, target_mean, target_cov, moment=method)
    return distributional_strength(x, mean, cov, target_mean, target_cov, distance=method,
                                   bootstrap=bootstrap, seed=int(seed))


def effective_strength(corrector, gamma, m: int, replicates: int, seed: int,
                       **kwargs) -> tuple[float, float]:
    """(γ_eff, standard error) of a corrector at strength γ with m points per application.

    See :func:`effective_strength_estimate` for the keywords (method, the Gaussians, n_real,
    bootstrap). The ideal corrector gives γ_eff = γ within error.
    """
    est = effective_strength_estimate(corrector, gamma, m, replicates, seed, **kwargs)
    return est.gamma, est.gamma_se


# --------------------------------------------------------------------------------------------
# Definition C.2 for the histogram correctors (1-D)
# --------------------------------------------------------------------------------------------


def cube_root_bins(n: int) -> int:
    """⌈n^{1/3}⌉ computed in integers: bins grow slowly, points per bin ~ n^{2/3} → ∞."""
    b = max(1, round(n ** (1.0 / 3.0)))
    while b**3 < n:
        b += 1
    while b > 1 and (b - 1) ** 3 >= n:
        b -= 1
    return b


class SupDistance(NamedTuple):
    n: np.ndarray  # (K,) sample sizes
    bins: np.ndarray  # (K,) bins used at each n
    mean: np.ndarray  # (K,) Monte Carlo mean of sup_v |Φ_{Π(X^n)}(v) − Φ_{π_γ p_θ}(v)|
    se: np.ndarray  # (K,) its standard error over the replicates
    clipped_mean: np.ndarray  # (K,) the same distance to the authors' clipped limit law
    clipped_se: np.ndarray  # (K,) its standard error (both NaN for corrector="histogram")


def _histogram_corrector(corrector: str, bins: int) -> Corrector:
    if corrector not in ("histogram", "histogram_authors"):
        raise ValueError(f"corrector must be 'histogram' or 'histogram_authors', got "
                         f"{corrector!r}")
    return get_corrector(corrector, bins=bins)


def _check_1d(mean, sd, target_mean, target_sd):
    for name, val in (("mean", mean), ("target_mean", target_mean)):
        if isinstance(val, bool) or not isinstance(val, numbers.Real) or not math.isfinite(val):
            raise ValueError(f"{name} must be a finite real number, got {val!r}")
    for name, val in (("sd", sd), ("target_sd", target_sd)):
        if (isinstance(val, bool) or not isinstance(val, numbers.Real) or not math.isfinite(val)
                or val <= 0):
            raise ValueError(f"{name} must be a finite real number > 0, got {val!r}")
    return float(mean), float(sd), float(target_mean), float(target_sd)


@lru_cache(maxsize=64)
def _diagnostic_runner(corrector: Corrector, n: int):
    """jit: per replicate, sup-distances to π_γ p_θ and to the clipped limit law, and the PITs
    of the outputs under the two conditional laws (lax.map over replicates: memory O(n·bins));
    the clipped quantities are NaN for the valid corrector."""
    bins = corrector.bins
    authors = isinstance(corrector, AuthorsHistogramCorrector)

    def one(key, mean, sd, target_mean, target_sd, gamma):
        k_x, k_c = jax.random.split(key)
        x = mean + sd * jax.random.normal(k_x, (n, 1), mean.dtype)
        y = corrector.apply(k_c, x, target_mean[None], target_sd[None, None], gamma)[:, 0]
        ys = jnp.sort(y)
        i = jnp.arange(1, n + 1, dtype=ys.dtype)

        def ks(f):
            return jnp.maximum(jnp.max(i / n - f), jnp.max(f - (i - 1) / n))

        d_pi = ks(mixture_cdf(ys, mean, sd, target_mean, target_sd, gamma))
        lo, width = histogram_grid(x, bins)
        cells = histogram_cells(x, lo, width, bins)[:, 0]
        counts = jnp.zeros((bins,), x.dtype).at[cells].add(1.0)
        pit_mix = histogram_mixture_cdf(y, lo[0], width[0], counts / n, target_mean, target_sd,
                                        gamma)
        if not authors:  # the clipped laws only concern the authors' sampler
            return d_pi, jnp.nan, pit_mix, jnp.full_like(pit_mix, jnp.nan)
        d_clip = ks(clipped_mixture_cdf(ys, mean, sd, target_mean, target_sd, gamma))
        pit_clip = clipped_histogram_mixture_cdf(y, lo[0], width[0], counts / (n * width[0]),
                                                 target_mean, target_sd, gamma)
        return d_pi, d_clip, pit_mix, pit_clip

    def run(keys, *args):
        return jax.lax.map(lambda k: one(k, *args), keys)

    return jax.jit(run)


def _diagnostics(corrector, n, gamma, bins, replicates, key, mean, sd, target_mean, target_sd):
    b = cube_root_bins(n) if bins is None else _check_config_int("bins", bins, 1)
    fn = _diagnostic_runner(_histogram_corrector(corrector, b), n)
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(replicates))
    out = fn(keys, *(jnp.asarray(v, jnp.float64) for v in
                     (mean, sd, target_mean, target_sd, float(gamma))))
    return b, [np.asarray(a) for a in out]


def sup_distance_over_n(n_values, gamma, *, corrector: str = "histogram", bins=None,
                        replicates: int = 200, seed: int = 0, mean: float = 1.0,
                        sd: float = math.sqrt(2.0), target_mean: float = 0.0,
                        target_sd: float = 1.0) -> SupDistance:
    """Def. C.2 in 1-D: E sup_v |Φ_{Π(X^n)}(v) − Φ_{π_γ p_θ}(v)| for each n, with its error.

    X^n ~ N(mean, sd²)^n, Π the histogram corrector (valid, Example C.6) or the authors'
    clipped rejection sampler, p_θ* = N(target_mean, target_sd²). ``bins``: an int, or None for
    ⌈n^{1/3}⌉ (:func:`cube_root_bins`; the histogram then tends to p_θ). For the valid corrector
    the distance tends to 0 (the paper's uniform law of large numbers, eq. 53); for the authors'
    it tends to the distance L of the clipped limit law G to π_γ p_θ
    (:func:`theory.projection_strength.clipped_mixture_limit`), positive when the envelope is
    violated. ``clipped_mean`` is the same statistic against G
    (:func:`theory.projection_strength.clipped_mixture_cdf`): for the authors' corrector it
    tends to 0, and since |sup|Φ − F_γ| − L| ≤ sup|Φ − G| (triangle inequality) a small
    ``clipped_mean`` proves the distance to π_γ p_θ stays near L > 0. The sups are exact
    (Kolmogorov–Smirnov statistics against continuous CDFs); ``se`` and ``clipped_se`` are
    standard errors of the means over ``replicates`` independent samples (key
    ``fold_in(fold_in(key(seed), n), r)``: the samples at one n do not depend on the other n
    requested, and are those of :func:`conditional_pit` with the same seed and replicates).
    """
    mean, sd, target_mean, target_sd = _check_1d(mean, sd, target_mean, target_sd)
    _check_strength(gamma)
    replicates = _check_config_int("replicates", replicates, 2)
    ns = [_check_config_int("n", n, 1) for n in np.atleast_1d(np.asarray(n_values)).tolist()]
    if not ns:
        raise ValueError("n_values must be non-empty")
    base = jax.random.key(int(seed))
    used_bins, rows = [], []
    for n in ns:
        b, out = _diagnostics(corrector, n, gamma, bins, replicates, jax.random.fold_in(base, n),
                              mean, sd, target_mean, target_sd)
        dist = out[:2]
        used_bins.append(b)
        rows.append([f(a) for a in dist for f in
                     (np.mean, lambda a: a.std(ddof=1) / math.sqrt(replicates))])
    cols = np.asarray(rows).T
    return SupDistance(np.asarray(ns), np.asarray(used_bins), *cols)


def conditional_pit(n: int, gamma, *, corrector: str = "histogram", law: str | None = None,
                    bins=None, replicates: int = 50, seed: int = 0, mean: float = 1.0,
                    sd: float = math.sqrt(2.0), target_mean: float = 0.0,
                    target_sd: float = 1.0) -> np.ndarray:
    """G(Π(X^n)_i | X^n), the probability integral transform under a conditional law (1-D).

    Given the synthetic sample X^n, the valid histogram corrector's outputs are i.i.d. from
    (1 − t)H + tF* (``law="mixture"``, :func:`theory.projection_strength.
    histogram_mixture_cdf`) and the authors' accepted points i.i.d. from ∝ min(f, Mφ)
    (``law="clipped"``, :func:`theory.projection_strength.clipped_histogram_mixture_cdf`);
    ``law=None`` picks the corrector's own law (``"clipped"`` is only computed for the
    authors' corrector: NaN otherwise). When the law is right the returned values,
    shape (replicates, n), are i.i.d. Uniform(0, 1) (conditionally on each X^n, hence overall).
    """
    if law is None:
        law = "clipped" if corrector == "histogram_authors" else "mixture"
    if law not in ("mixture", "clipped"):
        raise ValueError(f"law must be 'mixture', 'clipped' or None, got {law!r}")
    mean, sd, target_mean, target_sd = _check_1d(mean, sd, target_mean, target_sd)
    _check_strength(gamma)
    n = _check_config_int("n", n, 1)
    replicates = _check_config_int("replicates", replicates, 1)
    _, out = _diagnostics(corrector, n, gamma, bins, replicates,
                          jax.random.fold_in(jax.random.key(int(seed)), n), mean, sd,
                          target_mean, target_sd)
    return out[2] if law == "mixture" else out[3]


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
