"""The Gaussian-mixture engine: self-consuming loops of mixtures fitted by EM (``model="gmm"``).

One replicate is an ``(init, step)`` pair, ``vmap``-ed over replicates and ``lax.scan``-ed over
generations with keys ``fold_in(key(seed), r)`` then ``fold_in(·, t)`` (as in
:mod:`simulations.gaussian_loop`). Generation 0 fits ``components`` = m components to the n
real points; generation t ≥ 1 draws synthetic points from the previous fit (a categorical
component c ~ w, then μ_c + √τ L_c z with L_c L_cᵀ = Σ_c; optionally through the ideal
corrector π_γ or K-choice curation) and refits on the data that the policy keeps.

EM (Dempster, Laird & Rubin 1977) with point weights v_i ∈ {0, 1}:

* E-step: r_ij = w_j N(x_i; μ_j, Σ_j) / Σ_k w_k N(x_i; μ_k, Σ_k);
* M-step: N_j = Σ_i v_i r_ij, w_j = N_j / Σ_i v_i, μ_j = Σ_i v_i r_ij x_i / N_j,
  Σ_j = Σ_i v_i r_ij (x_i − μ_j)(x_i − μ_j)ᵀ / N_j (``"diag"``: its diagonal; ``"weights"``:
  μ_j, Σ_j stay at their generation-0 fit and only w is refitted).

Budget and stopping: at most ``em_iterations`` M-steps per generation (a ``lax.while_loop``
with a counter); EM stops earlier when the mean log-likelihood of the training data gains less
than ``em_tol`` in one iteration. Generation 0 starts from a k-means++ seeding (Arthur &
Vassilvitskii 2007; centres drawn by D² sampling from the replicate's key, covariances the
data's covariance, equal weights); generation t ≥ 1 is warm-started from the fit of generation
t − 1, the "local argmax" of the theory (Bertrand et al. 2024; Gillman et al. 2024, eq. (5)).

Restarts and re-initialisation (:class:`~simulations.spec.LoopSpec` fields, defaults = the
single warm-started start above, bit for bit): ``kmeans_iterations`` = L Lloyd iterations
refine each seeding, the start then being the M-step of the hard k-means labels
(:func:`lloyd_start`); ``em_restarts`` = S seedings (start 0 with the single-start key, start
s ≥ 1 with ``fold_in(key, s)``) are run through EM side by side (a ``vmap`` over starts) and the
fit of largest mean log-likelihood is kept (:func:`multistart_fit`); ``em_init="reinit"``
initialises every generation that way from its own training data (the seeding key of
generation t ≥ 1 is ``fold_in(key_t, REINIT_TAG)``), as refitting scikit-learn's
``GaussianMixture`` every generation does, instead of warm-starting.

Covariance floor (``covariance_floor`` = c): eigenvalues of a fitted covariance below c are
raised to c (Σ = U diag(max(λ, c)) Uᵀ). That is the exact maximiser of the M-step objective
−log det Σ − tr(Σ⁻¹S) over {Σ ⪰ cI}, so floored EM is still a (generalised) EM algorithm and
never decreases the likelihood. A component whose responsibility mass N_j falls below
:data:`EMPTY_MASS` points is "empty": it keeps its previous mean and covariance (any value
maximises its zero contribution) and weight N_j / N. Each generation records in ``floored``
how many components of its final M-step were floored or empty, so degenerate fits never
produce NaN and are visible in the trajectory.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simulations.curation import select
from simulations.gaussian_loop import subsample_mask
from simulations.mixture_trajectory import MixtureTrajectory
from simulations.sharding import replicate_keys
from simulations.spec import LoopSpec, check_seed
from theory import linalg
from theory.distances import symmetric_eigh
from theory.laws import sample_law
from theory.rewards import reward_tilt, reward_value

__all__ = [
    "EMPTY_MASS",
    "EM_GROUP",
    "EMInfo",
    "GMM_POLICIES",
    "MixtureParams",
    "em_fit",
    "kmeanspp_init",
    "lloyd_start",
    "multistart_fit",
    "mixture_mean_loglik",
    "run_gmm",
    "sample_mixture",
]

GMM_POLICIES = ("replace", "mix", "fresh", "accumulate", "accumulate_subsample")
EMPTY_MASS = 1e-6  # responsibility mass (in points) below which a component is "empty"
_LOG_2PI = math.log(2.0 * math.pi)
_TRACES = {"step": 0}
_BATCH_BYTES = 256 * 2**20
EM_GROUP = 8  # replicates vmap-ed together; see compiled_runner
REINIT_TAG = 0x5EED  # fold_in tag of the seeding key of a re-initialised generation t ≥ 1


def trace_count() -> int:
    """How many times the mixture loop's scan body has been traced (compile-count tests)."""
    return _TRACES["step"]


class MixtureParams(NamedTuple):
    weights: Array  # (m,)
    means: Array  # (m, d)
    covs: Array  # (m, d, d)


class EMInfo(NamedTuple):
    iterations: Array  # () int32, M-steps taken
    loglik: Array  # () mean log-likelihood of the training data at the returned fit
    floored: Array  # () int32, components floored or empty in the last M-step
    start_loglik: Array  # () mean log-likelihood of the training data at the starting fit


# --------------------------------------------------------------------------- EM pieces
# The EM pieces take the data transposed, ``xt`` of shape (d, N), and return responsibilities
# of shape (m, N): with the point axis last (the minor axis in memory) XLA fuses each step into
# a few vectorised loops over N; the (N, m, d) layout was about three times slower on CPU.
def _component_logpdf(xt, params: MixtureParams):
    """log w_j + log N(x_i; μ_j, Σ_j), shape (m, N), from ``xt`` of shape (d, N)."""
    d = xt.shape[0]
    chol = linalg.cholesky(params.covs)  # (m, d, d)
    eye = jnp.broadcast_to(jnp.eye(d, dtype=xt.dtype), chol.shape)
    inv = linalg.solve_lower(chol, eye)  # L⁻¹
    logdet = linalg.cholesky_logdet(chol)
    diff = xt[None] - params.means[:, :, None]  # (m, d, N)
    sol = jnp.sum(inv[:, :, :, None] * diff[:, None, :, :], axis=2)  # L⁻¹(x − μ), (m, d, N)
    quad = jnp.sum(sol * sol, axis=1)  # (m, N)
    return (jnp.log(params.weights) - 0.5 * (logdet + d * _LOG_2PI))[:, None] - 0.5 * quad


def _e_step(xt, v, params: MixtureParams):
    """(mean log-likelihood Σ v_i log p(x_i) / Σ v_i, weighted responsibilities v_i r_ij (m, N))."""
    logp = _component_logpdf(xt, params)
    top = jnp.max(logp, axis=0)
    top = jnp.where(jnp.isfinite(top), top, 0.0)
    ex = jnp.exp(logp - top[None])
    total = jnp.sum(ex, axis=0)  # (N,)
    ll = top + jnp.log(total)
    resp = ex * (v / total)[None]
    return jnp.sum(v * ll) / jnp.sum(v), resp


def mixture_mean_loglik(x, params: MixtureParams, v=None):
    """Mean log-likelihood (1/N) Σ_i v_i log Σ_j w_j N(x_i; μ_j, Σ_j), N = Σ v_i."""
    x = jnp.asarray(x)
    v = jnp.ones(x.shape[0], x.dtype) if v is None else jnp.asarray(v, x.dtype)
    return _e_step(x.T, v, params)[0]


def _floor_covs(covs, floor):
    """Eigenvalue floor max(λ, c); returns (covs, floored flags (m,))."""
    w, u = symmetric_eigh(covs)
    low = w[..., 0] < floor
    fixed = (u * jnp.maximum(w, floor)[..., None, :]) @ jnp.swapaxes(u, -1, -2)
    fixed = 0.5 * (fixed + jnp.swapaxes(fixed, -1, -2))
    return jnp.where(low[..., None, None], fixed, covs), low


def _m_step(xt, v, resp, params: MixtureParams, covariance: str, floor, update=True):
    """One M-step (floor and empty-component rule) from ``xt`` (d, N) and ``resp`` (m, N);
    returns (params, floored count).

    ``update`` (a traced bool) refits means and covariances; when false only the weights are
    refitted (the ``"weights"`` variant after generation 0).
    """
    mass = jnp.sum(resp, axis=1)  # (m,)
    weights = mass / jnp.sum(v)
    empty = mass < EMPTY_MASS
    safe = jnp.where(empty, 1.0, mass)
    means = jnp.sum(resp[:, None, :] * xt[None], axis=-1) / safe[:, None]  # (m, d)
    diff = xt[None] - means[:, :, None]  # (m, d, N)
    if covariance == "diag":
        var = jnp.sum(resp[:, None, :] * diff * diff, axis=-1) / safe[:, None]  # (m, d)
        scatter = jnp.eye(xt.shape[0], dtype=xt.dtype) * var[..., None, :]
    else:
        scatter = jnp.sum(resp[:, None, None, :] * diff[:, :, None, :] * diff[:, None, :, :],
                          axis=-1) / safe[:, None, None]
        scatter = 0.5 * (scatter + jnp.swapaxes(scatter, -1, -2))
    covs, low = _floor_covs(scatter, floor)
    keep = empty | ~jnp.asarray(update)
    means = jnp.where(keep[:, None], params.means, means)
    covs = jnp.where(keep[:, None, None], params.covs, covs)
    flagged = empty | (low & jnp.asarray(update))
    return MixtureParams(weights, means, covs), jnp.sum(flagged.astype(jnp.int32)).astype(
        jnp.int32)


def em_fit(x, params0: MixtureParams, *, iterations, tol, floor, covariance: str = "full",
           v=None, update=None):
    """EM from ``params0`` on the rows of ``x`` (``v``: optional 0/1 point weights).

    Pure and traceable (``iterations``, ``tol`` and ``floor`` may be traced). Stops after
    ``iterations`` M-steps or when the mean log-likelihood gains less than ``tol``. Returns
    ``(params, EMInfo)``. ``covariance="weights"`` refits the weights only; ``update`` (a
    traced bool, default ``covariance != "weights"``) overrides that choice.
    """
    x = jnp.asarray(x)
    dt = x.dtype
    v = jnp.ones(x.shape[0], dt) if v is None else jnp.asarray(v, dt)
    if covariance not in ("full", "diag", "weights"):
        raise ValueError(f"covariance must be 'full', 'diag' or 'weights', got {covariance!r}")
    if update is None:
        update = covariance != "weights"

    def cond(c):
        _, _, it, done, _, _ = c
        return (~done) & (it < iterations)

    def body(c):
        params, prev, it, _, fl, start = c
        ll, resp = _e_step(xt, v, params)
        converged = (it > 0) & (ll - prev < tol)
        new, new_fl = _m_step(xt, v, resp, params, covariance, floor, update)
        params = jax.tree_util.tree_map(lambda a, b: jnp.where(converged, a, b), params, new)
        return (params, ll, it + jnp.where(converged, 0, 1), converged,
                jnp.where(converged, fl, new_fl), jnp.where(it == 0, ll, start))

    xt = x.T  # (d, N): see the layout note above _component_logpdf
    params0 = MixtureParams(*(jnp.asarray(a, dt) for a in params0))
    init = (params0, jnp.asarray(-jnp.inf, dt), jnp.asarray(0, jnp.int32),
            jnp.asarray(False), jnp.asarray(0, jnp.int32), jnp.asarray(jnp.nan, dt))
    params, _, it, _, fl, start = jax.lax.while_loop(cond, body, init)
    ll = _e_step(xt, v, params)[0]
    start = jnp.where(it == 0, ll, start)  # no M-step (iterations = 0): the start is the fit
    return params, EMInfo(it, ll, fl, start)


def kmeanspp_init(key, x, components: int, floor, v=None) -> MixtureParams:
    """Greedy k-means++ seeding (D² sampling, Arthur & Vassilvitskii 2007) as initial mixture.

    The first centre is a uniform draw among the rows with v_i > 0; for each next centre
    L = 2 + ⌊ln m⌋ candidates are drawn with probability ∝ v_i · min_j ‖x_i − c_j‖² and the one
    that most reduces the potential Σ v_i min_j ‖x_i − c_j‖² is kept (the greedy variant of
    scikit-learn, which avoids most two-centres-in-one-cluster seedings). Weights 1/m; every
    covariance is the data's covariance (floored). Deterministic given ``key``.
    """
    x = jnp.asarray(x)
    dt = x.dtype
    v = jnp.ones(x.shape[0], dt) if v is None else jnp.asarray(v, dt)
    trials = 2 + int(math.log(components)) if components > 1 else 1
    u = jax.random.uniform(key, (components, trials), dt)

    def draw(prob, uj):  # inverse-CDF draws of rows with probability ∝ prob
        cdf = jnp.cumsum(prob)
        idx = jnp.searchsorted(cdf, uj * cdf[-1], side="right")
        return jnp.clip(idx, 0, x.shape[0] - 1)

    first = draw(v, u[0, 0])
    centres = jnp.zeros((components, x.shape[1]), dt).at[0].set(x[first])
    d2 = jnp.sum((x - x[first]) ** 2, axis=-1)
    for j in range(1, components):
        prob = v * d2
        prob = jnp.where(jnp.sum(prob) > 0, prob, v)  # all points coincide: uniform
        cand = draw(prob, u[j])  # (L,)
        new_d2 = jnp.minimum(d2, jnp.sum((x[None] - x[cand][:, None]) ** 2, axis=-1))
        best = cand[jnp.argmin(new_d2 @ v)]
        centres = centres.at[j].set(x[best])
        d2 = jnp.minimum(d2, jnp.sum((x - x[best]) ** 2, axis=-1))
    total = jnp.sum(v)
    mean = (v @ x) / total
    cov = ((x - mean) * v[:, None]).T @ (x - mean) / total
    cov, _ = _floor_covs(0.5 * (cov + cov.T), floor)
    covs = jnp.broadcast_to(cov, (components,) + cov.shape)
    return MixtureParams(jnp.full((components,), 1.0 / components, dt), centres, covs)


def lloyd_start(x, params0: MixtureParams, iterations: int, floor, v=None) -> MixtureParams:
    """``iterations`` Lloyd (k-means) iterations from the centres ``params0.means``, then the
    M-step of the final hard labels as a starting mixture.

    A Lloyd iteration assigns each row of ``x`` to its nearest centre (ties: the lowest index)
    and moves each centre to the v-weighted mean of its rows (a centre without rows stays).
    The start has weights (N_j + ε)/Σ_k(N_k + ε) (N_j = Σ v_i over cluster j, ε the dtype's
    10·eps as in scikit-learn, so that no component starts at weight 0), means the centres and
    covariances the clusters' floored scatter matrices; a cluster without rows keeps the
    covariance of ``params0`` (the data's covariance after :func:`kmeanspp_init`).
    ``iterations = 0`` returns ``params0`` unchanged.
    """
    if iterations == 0:
        return params0
    x = jnp.asarray(x)
    dt = x.dtype
    v = jnp.ones(x.shape[0], dt) if v is None else jnp.asarray(v, dt)
    m = params0.means.shape[0]

    def labels(centres):
        d2 = jnp.sum((x[:, None, :] - centres[None]) ** 2, axis=-1)  # (N, m)
        return jax.nn.one_hot(jnp.argmin(d2, axis=1), m, dtype=dt) * v[:, None]

    def centroids(hot, centres):
        counts = jnp.sum(hot, axis=0)
        mean = (hot.T @ x) / jnp.where(counts > 0, counts, 1.0)[:, None]
        return jnp.where((counts > 0)[:, None], mean, centres), counts

    centres = jax.lax.fori_loop(0, iterations,
                                lambda _, c: centroids(labels(c), c)[0], params0.means)
    hot = labels(centres)
    means, counts = centroids(hot, centres)
    diff = x[None] - means[:, None, :]  # (m, N, d)
    scatter = jnp.einsum("nm,mni,mnj->mij", hot, diff, diff) / jnp.where(
        counts > 0, counts, 1.0)[:, None, None]
    covs, _ = _floor_covs(0.5 * (scatter + jnp.swapaxes(scatter, -1, -2)), floor)
    covs = jnp.where((counts > 0)[:, None, None], covs, params0.covs)
    eps = 10 * jnp.finfo(dt).eps
    weights = (counts + eps) / jnp.sum(counts + eps)
    return MixtureParams(weights, means, covs)


def multistart_fit(key, x, components: int, *, restarts: int, lloyd: int, iterations, tol,
                   floor, covariance: str = "full", v=None, seed_x=None, seed_v=None):
    """EM from ``restarts`` k-means++ seedings (each refined by ``lloyd`` Lloyd iterations),
    keeping the fit of largest mean log-likelihood (ties: the lowest start).

    Start 0 is seeded with ``key`` itself and start s ≥ 1 with ``fold_in(key, s)``; the starts
    run side by side (``vmap``), so the cost is that of the slowest start. The seeding uses
    ``seed_x``/``seed_v`` when given (the same points without padding rows), EM ``x``/``v``.
    Returns ``(params, EMInfo)`` of the kept start. ``restarts = 1`` is
    ``em_fit(x, lloyd_start(seed_x, kmeanspp_init(key, seed_x, …), …), …)``.
    """
    seed_x = x if seed_x is None else seed_x
    seed_v = v if seed_x is x and seed_v is None else seed_v

    def one(k):
        params0 = kmeanspp_init(k, seed_x, components, floor, seed_v)
        params0 = lloyd_start(seed_x, params0, lloyd, floor, seed_v)
        return em_fit(x, params0, iterations=iterations, tol=tol, floor=floor,
                      covariance=covariance, v=v)

    if restarts == 1:
        return one(key)
    keys = jnp.concatenate([key[None], jax.vmap(lambda s: jax.random.fold_in(key, s))(
        jnp.arange(1, restarts))])
    params, info = jax.vmap(one)(keys)
    ll = jnp.where(jnp.isnan(info.loglik), -jnp.inf, info.loglik)
    best = jnp.argmax(ll)  # the first maximum
    return jax.tree_util.tree_map(lambda a: a[best], (params, info))


def sample_mixture(key, params: MixtureParams, size: int, temperature=1.0):
    """``size`` draws: component c ~ Categorical(w), then μ_c + √τ L_c z, L_c L_cᵀ = Σ_c."""
    k_c, k_z = jax.random.split(key)
    comp = jax.random.categorical(k_c, jnp.log(params.weights), shape=(size,))
    chol = linalg.cholesky(params.covs)
    z = jax.random.normal(k_z, (size, params.means.shape[-1]), params.means.dtype)
    return params.means[comp] + jnp.sqrt(temperature) * jnp.einsum("sij,sj->si", chol[comp], z)


# --------------------------------------------------------------------------- the loop
class GMMStatic(NamedTuple):
    """Shape-determining configuration (one compilation per distinct value)."""

    dim: int
    n_real: int
    n_syn: int
    generations: int
    data: str
    components: int
    covariance: str
    dtype: str
    truth_kind: str
    corrected: bool
    correction_split: str
    curation_k: int | float
    reward_kind: str | None
    reward: object
    em_restarts: int = 1
    kmeans_iterations: int = 0
    em_init: str = "warm"


class GMMHyper(NamedTuple):
    """Traced hyperparameters (their values never trigger a recompilation)."""

    temperature: Array  # ()
    em_iterations: Array  # () int32
    em_tol: Array  # ()
    floor: Array  # ()
    correction_prob: Array  # ()
    correction_model_points: Array  # ()
    truth_params: tuple
    reward_params: tuple


class GMMState(NamedTuple):
    params: MixtureParams  # the current fit θ_t
    real: Array  # (n, d) the fixed real set ("mix"), else (0, d)
    buffer: Array  # (P, d) the pool ("accumulate", "accumulate_subsample"), else (0, d)
    size: Array  # () int32, filled rows of ``buffer``


class GMMStepInfo(NamedTuple):
    params: MixtureParams
    em: EMInfo


def check_gmm(spec: LoopSpec) -> None:
    """``ValueError`` when the mixture engine cannot run ``spec`` (and why)."""
    if spec.model != "gmm":
        raise ValueError(f"the mixture engine runs model='gmm', not {spec.model!r}")
    if spec.data not in GMM_POLICIES:  # pragma: no cover - every policy is supported
        raise ValueError(f"data must be one of {GMM_POLICIES} for model='gmm', got {spec.data!r}")
    if spec.estimator != "mle":
        raise ValueError("estimator must be 'mle' for model='gmm' (EM computes the maximum "
                         f"likelihood fit), got {spec.estimator!r}")
    first, later = spec.fit_sizes()
    if first < spec.components:
        raise ValueError(f"n_real must be >= components ({spec.components}) for the "
                         f"k-means++ seeding of generation 0, got {spec.n_real}")
    if spec.generations > 0 and later < 1:
        raise ValueError("every generation needs at least one point to fit")
    if spec.em_init == "reinit" and spec.generations > 0 and later < spec.components:
        raise ValueError(f"em_init='reinit' seeds every generation by k-means++: each fit "
                         f"needs >= components ({spec.components}) points, the smallest has "
                         f"{later}")
    if spec.curation_k == math.inf and spec.reward.kind not in ("linear", "quadratic"):
        raise ValueError("curation_k=inf needs a linear or quadratic reward")  # pragma: no cover


def static_of(spec: LoopSpec) -> GMMStatic:
    check_gmm(spec)
    reward = spec.reward
    return GMMStatic(
        dim=spec.dim, n_real=spec.n_real, n_syn=spec.num_synthetic,
        generations=spec.generations, data=spec.data, components=spec.components,
        covariance=spec.gmm_covariance, dtype=spec.dtype, truth_kind=spec.truth.kind,
        corrected=spec.correction_strength > 0, correction_split=spec.correction_split,
        curation_k=spec.curation_k,
        reward_kind=None if (reward is None or not spec.curated) else reward.kind,
        reward=reward if (spec.curated and reward.kind == "callable") else None,
        em_restarts=spec.em_restarts, kmeans_iterations=spec.kmeans_iterations,
        em_init=spec.em_init,
    )


def hyper_of(spec: LoopSpec) -> GMMHyper:
    dt = jnp.dtype(spec.dtype)
    gamma = spec.correction_strength
    inf = gamma == math.inf
    prob = 1.0 if inf else gamma / (1.0 + gamma)
    model_points = 0.0 if inf else float(round(spec.num_synthetic / (1.0 + gamma)))
    rparams = spec.reward.params(dt) if (spec.curated and spec.reward is not None) else ()
    return GMMHyper(
        temperature=jnp.asarray(spec.temperature, dt),
        em_iterations=jnp.asarray(spec.em_iterations, jnp.int32),
        em_tol=jnp.asarray(spec.em_tol, dt),
        floor=jnp.asarray(spec.covariance_floor, dt),
        correction_prob=jnp.asarray(prob, dt),
        correction_model_points=jnp.asarray(model_points, dt),
        truth_params=spec.truth.params(dt),
        reward_params=rparams,
    )


def make_loop(static: GMMStatic, hyper: GMMHyper):
    """``(init, step)`` for one replicate of the mixture loop described by ``static``.

    ``init() -> state`` is an empty state; ``step(key, state, generation) -> (state, info)``
    prepares the generation's data (generation 0: n real points and a k-means++ seeding;
    later: the policy's data and a warm start) and runs EM once. The generation index is
    passed unbatched so that ``lax.cond`` picks the preparation without running both
    branches, and EM is traced once for every generation. With ``em_restarts`` > 1,
    ``kmeans_iterations`` > 0 or ``em_init="reinit"`` each branch runs its own EM (generation 0:
    :func:`multistart_fit` on the real points; later: the warm EM or, re-initialised,
    :func:`multistart_fit` on the generation's data); the default configuration keeps the
    single shared EM call, so its numbers are unchanged bit for bit.
    """
    d, n, m_syn, m = static.dim, static.n_real, static.n_syn, static.components
    dt = jnp.dtype(static.dtype)
    pooled = static.data in ("accumulate", "accumulate_subsample")
    pool_rows = n + static.generations * m_syn if pooled else 0
    later_rows = {"replace": m_syn, "mix": n + m_syn, "fresh": n + m_syn,
                  "accumulate": pool_rows, "accumulate_subsample": n}[static.data]
    rows = max(n, later_rows)

    def draw_truth(key, size):
        return sample_law(static.truth_kind, hyper.truth_params, key, size)

    def draw_synthetic(key, params: MixtureParams, size):
        k_x, k_member, k_truth, k_pick = jax.random.split(key, 4)
        if static.curation_k == math.inf:
            # the exact tilt of the mixture, component-wise (theory.mixtures.mixture_tilt)
            mu, cv = reward_tilt(static.reward_kind, hyper.reward_params, params.means,
                                 params.covs)
            logz = _log_mgf(static.reward_kind, hyper.reward_params, params.means, params.covs)
            w = jax.nn.softmax(jnp.log(params.weights) + logz)
            return sample_mixture(k_x, MixtureParams(w, mu, cv), size, hyper.temperature)
        if static.curation_k != 1:
            k = int(static.curation_k)
            cand = sample_mixture(k_x, params, size * k, hyper.temperature).reshape(size, k, d)
            r = reward_value(static.reward_kind, hyper.reward_params, cand, static.reward)
            return select(k_pick, cand, r)
        x = sample_mixture(k_x, params, size, hyper.temperature)
        if static.corrected:
            if static.correction_split == "deterministic":
                to_target = jnp.arange(size, dtype=dt) >= hyper.correction_model_points
            else:
                to_target = jax.random.uniform(k_member, (size,), dt) < hyper.correction_prob
            x = jnp.where(to_target[:, None], draw_truth(k_truth, size), x)
        return x

    def pad(x, v=None):
        v = jnp.ones(x.shape[0], dt) if v is None else v
        extra = rows - x.shape[0]
        if extra:
            x = jnp.concatenate([x, jnp.zeros((extra, d), dt)], axis=0)
            v = jnp.concatenate([v, jnp.zeros(extra, dt)], axis=0)
        return x, v

    def init() -> GMMState:
        params = MixtureParams(jnp.full((m,), 1.0 / m, dt), jnp.zeros((m, d), dt),
                               jnp.broadcast_to(jnp.eye(d, dtype=dt), (m, d, d)))
        real = jnp.zeros((n if static.data == "mix" else 0, d), dt)
        return GMMState(params, real, jnp.zeros((pool_rows, d), dt),
                        jnp.asarray(n, jnp.int32))

    def prepare_first(key, state: GMMState):
        k_x, k_seed = jax.random.split(key)
        x = draw_truth(k_x, n)
        params0 = kmeanspp_init(k_seed, x, m, hyper.floor)
        real = x if static.data == "mix" else state.real
        buffer = state.buffer.at[:n].set(x) if pool_rows else state.buffer
        return (*pad(x), params0), GMMState(params0, real, buffer, state.size)

    def prepare_later(key, state: GMMState):
        k_syn, k_real, k_sub = jax.random.split(key, 3)
        buffer, size = state.buffer, state.size
        x_syn = draw_synthetic(k_syn, state.params, m_syn) if m_syn else jnp.zeros((0, d), dt)
        v = None
        if static.data == "replace":
            x = x_syn
        elif static.data == "mix":
            x = jnp.concatenate([state.real, x_syn], axis=0)
        elif static.data == "fresh":
            x = jnp.concatenate([draw_truth(k_real, n), x_syn], axis=0)
        else:
            if m_syn:
                buffer = jax.lax.dynamic_update_slice(buffer, x_syn, (size, jnp.int32(0)))
                size = size + m_syn
            if static.data == "accumulate":
                x = buffer
                v = (jnp.arange(pool_rows) < size).astype(dt)
            else:
                mask = subsample_mask(k_sub, size, pool_rows, n, dt)
                x = buffer[jnp.nonzero(mask > 0, size=n)[0]]
        return (*pad(x, v), state.params), GMMState(state.params, state.real, buffer, size)

    restarts, lloyd = static.em_restarts, static.kmeans_iterations
    cov = "full" if static.covariance == "weights" else static.covariance

    def seeded_fit(key, x, v, seed_x=None):
        return multistart_fit(key, x, m, restarts=restarts, lloyd=lloyd,
                              iterations=hyper.em_iterations, tol=hyper.em_tol,
                              floor=hyper.floor, covariance=cov, v=v, seed_x=seed_x,
                              seed_v=None if seed_x is not None else v)

    def fit_first(key, state: GMMState):
        # the data and seeding key of prepare_first; the starts are seeded on the n points
        k_x, k_seed = jax.random.split(key)
        x = draw_truth(k_x, n)
        params, info = seeded_fit(k_seed, *pad(x), seed_x=x)
        real = x if static.data == "mix" else state.real
        buffer = state.buffer.at[:n].set(x) if pool_rows else state.buffer
        return (params, info), GMMState(params, real, buffer, state.size)

    def fit_later(key, state: GMMState):
        (x, v, params0), state = prepare_later(key, state)
        if static.em_init == "reinit":
            params, info = seeded_fit(jax.random.fold_in(key, REINIT_TAG), x, v)
        else:
            params, info = em_fit(x, params0, iterations=hyper.em_iterations,
                                  tol=hyper.em_tol, floor=hyper.floor, covariance=cov, v=v,
                                  update=static.covariance != "weights")
        return (params, info), state._replace(params=params)

    def step_seeded(key, state: GMMState, generation):
        # restarts, Lloyd iterations or re-initialisation: each branch runs its own EM
        _TRACES["step"] += 1
        if static.generations == 0:
            (params, info), state = fit_first(key, state)
        else:
            (params, info), state = jax.lax.cond(generation == 0, fit_first, fit_later,
                                                 key, state)
        return state, GMMStepInfo(params, info)

    if (restarts, lloyd, static.em_init) != (1, 0, "warm"):
        return init, step_seeded

    def step(key, state: GMMState, generation):
        _TRACES["step"] += 1
        if static.generations == 0:
            (x, v, params0), state = prepare_first(key, state)
        else:
            (x, v, params0), state = jax.lax.cond(generation == 0, prepare_first,
                                                  prepare_later, key, state)
        update = (generation == 0) | (static.covariance != "weights")
        cov = "full" if static.covariance == "weights" else static.covariance
        params, info = em_fit(x, params0, iterations=hyper.em_iterations, tol=hyper.em_tol,
                              floor=hyper.floor, covariance=cov, v=v, update=update)
        return state._replace(params=params), GMMStepInfo(params, info)

    return init, step


def _log_mgf(kind, params, means, covs):
    """log E_{N(μ_j, Σ_j)}[e^r] for linear / quadratic rewards (see theory.mixtures)."""
    if kind == "linear":
        a, b = params
        return means @ a + b + 0.5 * jnp.einsum("i,...ij,j->...", a, covs, a)
    c, a = params
    eye = jnp.eye(covs.shape[-1], dtype=covs.dtype)
    mat = eye + covs @ a
    diff = means - c
    solved = linalg.solve(mat, diff[..., None])[..., 0]
    return -0.5 * linalg.slogdet(mat)[1] - 0.5 * jnp.einsum("...i,ij,...j->...", diff, a,
                                                                 solved)


def replicate_trajectory(static: GMMStatic, hyper: GMMHyper, key):
    """Fits and EM diagnostics of one replicate, each with a leading axis T + 1.

    Generation t uses the key ``fold_in(key, t)``.
    """
    init, step = make_loop(static, hyper)

    def body(carry, t):
        return step(jax.random.fold_in(key, t), carry, t)

    _, out = jax.lax.scan(body, init(), jnp.arange(static.generations + 1))
    return out.params, out.em


@lru_cache(maxsize=64)
def compiled_runner(static: GMMStatic):
    """A jitted ``(replicate_keys, hyper) -> (params, em)`` for this shape.

    The keys (a multiple of :data:`EM_GROUP` of them) are run as ``lax.map`` over groups of
    :data:`EM_GROUP` replicates, ``vmap``-ed within a group. EM under ``vmap`` iterates until
    the slowest replicate of the batch has converged, so small groups waste fewer iterations
    on replicates that have already converged (R = 256, T = 100, n = 1000, m = 5: 36 s against
    66 s for one ``vmap`` over all replicates on a 2-core CPU), and every replicate is
    computed the same way whatever the batch size.
    """

    def one(k, hyper):
        return replicate_trajectory(static, hyper, k)

    def run_batch(keys, hyper):
        groups = keys.reshape(-1, EM_GROUP)
        out = jax.lax.map(lambda g: jax.vmap(one, in_axes=(0, None))(g, hyper), groups)
        return jax.tree_util.tree_map(lambda a: a.reshape((-1,) + a.shape[2:]), out)

    return jax.jit(run_batch)


def _per_replicate_bytes(spec: LoopSpec) -> int:
    d, n, ms, m, t = spec.dim, spec.n_real, spec.num_synthetic, spec.components, spec.generations
    rows = spec.pool_size if spec.data == "accumulate" else n + ms
    pool = spec.pool_size * d if spec.data.startswith("accumulate") else 0
    out = (t + 1) * m * (1 + d + d * d)
    work = 6 * rows * m * d + pool
    return 8 * (out + work)


def run_gmm(spec: LoopSpec, seed: int = 0, *, batch_size: int | None = None,
            progress: bool = False) -> MixtureTrajectory:
    """Run ``spec.replicates`` replicates of a Gaussian-mixture loop (``model="gmm"``).

    Args:
        spec: a :class:`LoopSpec` with ``model="gmm"`` (``components``, ``gmm_covariance``,
            ``em_iterations``, ``em_tol``, ``covariance_floor``).
        seed: integer seed; replicate r uses ``fold_in(key(seed), r)``, its generation t
            ``fold_in(·, t)`` (results do not depend on ``batch_size``).
        batch_size: replicates per compiled batch (memory bound), rounded up to a multiple of
            :data:`EM_GROUP` (each batch runs groups of EM_GROUP replicates in turn).
        progress: one line per batch on stderr.

    Returns:
        A :class:`MixtureTrajectory`: ``weights`` (R, T+1, m), ``means`` (R, T+1, m, d),
        ``covs`` (R, T+1, m, d, d), ``floored``, ``em_iterations``, ``loglik`` and
        ``loglik_start`` (R, T+1).

    Raises:
        ValueError: a spec the engine cannot run (``model`` not ``"gmm"``, ``estimator`` not
            ``"mle"``, fewer real points than components).
    """
    if not isinstance(spec, LoopSpec):
        raise TypeError(f"spec must be a LoopSpec, got {type(spec).__name__}")
    check_seed(seed)
    static, hyper = static_of(spec), hyper_of(spec)
    if batch_size is None:
        batch_size = max(1, min(spec.replicates, _BATCH_BYTES // _per_replicate_bytes(spec)))
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    elif batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batch_size = min(int(batch_size), spec.replicates)
    batch_size = -(-batch_size // EM_GROUP) * EM_GROUP  # whole groups (extra keys discarded)
    runner = compiled_runner(static)
    start = time.perf_counter()
    parts = []
    for lo in range(0, spec.replicates, batch_size):
        keys = replicate_keys(int(seed), batch_size, lo)
        params, em = runner(keys, hyper)
        take = min(batch_size, spec.replicates - lo)
        parts.append(jax.tree_util.tree_map(lambda a, k=take: np.asarray(a[:k]), (params, em)))
        if progress:
            print(f"  replicates {lo + take}/{spec.replicates}", file=sys.stderr, flush=True)

    def cat(*arrays):
        return np.concatenate(arrays, axis=0)

    params, em = jax.tree_util.tree_map(cat, *parts)
    return MixtureTrajectory(
        spec=spec, seed=int(seed), weights=params.weights, means=params.means,
        covs=params.covs, floored=em.floored, em_iterations=em.iterations, loglik=em.loglik,
        loglik_start=em.start_loglik,
        seconds=time.perf_counter() - start)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
