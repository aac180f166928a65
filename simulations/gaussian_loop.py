"""The sample-level engine for Gaussian loops: one replicate as ``(init, step)``.

A replicate is written once and ``vmap``-ed over replicates; generations run under
``lax.scan`` over keys ``fold_in(replicate_key, t)``. ``step(key, state) -> (state, info)`` is a
pure function; hyperparameters that only change values (temperature, estimator, correction
strength, the truth) are traced arguments closed over by the factory, so one compilation
serves every value of them and only the *shape* of a spec (d, n, m, T, R, policy, model,
corrected or not) triggers a new trace.

Generation 0 fits the n real points drawn from p_data (any law of :mod:`theory.laws`; the
"fresh" policy draws new ones each generation). Each generation t ≥ 1 of a replicate:

1. draws ``m`` synthetic points ``x = μ_{t−1} + √τ Σ_{t−1}^{1/2} z`` with z ~ N(0, I) (a plain
   draw, with none of what follows, pools the points' statistics computed from z's, without
   forming the points: the same fit up to rounding, at the cost of the normals alone); with
   the ideal corrector π_γ (Gillman et al. 2024, Def. 4.1) each point is replaced, with
   probability γ/(1+γ) (or, with the deterministic split, the last m − round(m/(1+γ))
   points), by ``μ* + Σ*^{1/2} z`` (the same z: common random numbers across γ); with K-choice
   curation (Ferbach et al. 2024) each point is the one kept among K such draws, chosen with
   probability softmax(r) (:mod:`simulations.curation`), or for K = ∞ a draw from the exact
   tilt; with a point-wise corrector (``spec.corrector``, :mod:`simulations.correctors`) the
   whole sample x is replaced by Π(x) (its state, e.g. k-means centroids, comes from the
   replicate's real points at generation 0);
2. pools them with the data that the policy keeps (DESIGN.md §2) through exact sufficient
   statistics (:mod:`simulations._stats`), or subsamples the pool without replacement;
3. refits: μ_t is the pooled mean, Σ_t the pooled scatter divided by N (``"mle"``) or N − 1
   (``"unbiased"``); with ``model="gaussian_mean"`` Σ_t stays the truth's covariance.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from simulations import threefry
from simulations._stats import Stats, batch_stats, covariance, merge
from simulations.curation import curated_gaussian_draws
from theory.distances import sqrtm_psd
from theory.laws import sample_law

_TRACES = {"step": 0}


def trace_count() -> int:
    """How many times a loop's scan body has been traced (for compile-count tests)."""
    return _TRACES["step"]


class GaussianParams(NamedTuple):
    mean: Array  # (d,)
    cov: Array  # (d, d)


class LoopState(NamedTuple):
    params: GaussianParams  # the current fit θ_t
    real: Stats  # fixed real set ("mix"); unused otherwise
    pool: Stats  # everything drawn so far ("accumulate"); unused otherwise
    buffer: Array  # (P, d) the pool's points ("accumulate_subsample"), else (0, d)
    size: Array  # () int, number of filled rows of ``buffer``
    cstate: object = ()  # a point-wise corrector's per-replicate state (its ``init``), else ()


class StepInfo(NamedTuple):
    mean: Array  # (d,) fitted mean of this generation
    cov: Array  # (d, d) fitted covariance of this generation


class Hyper(NamedTuple):
    """Traced hyperparameters (values only; their change never recompiles)."""

    temperature: Array  # ()
    ddof: Array  # () 0 for "mle", 1 for "unbiased"
    correction_prob: Array  # () γ/(1+γ) (random split)
    correction_model_points: Array  # () round(m/(1+γ)) (deterministic split)
    correction_strength: Array  # () γ (point-wise correctors)
    truth_params: tuple  # arrays of the p_data law (theory.laws ``params``)
    target_mean: Array  # (d,) θ* mean (p_data's mean)
    target_cov: Array  # (d, d) θ* covariance (p_data's covariance)
    target_sqrt: Array  # (d, d) symmetric square root of target_cov
    reward_params: tuple  # arrays of the reward (theory.rewards ``params``), () if none


class Static(NamedTuple):
    """Shape-determining configuration (one compilation per distinct value)."""

    dim: int
    n_real: int
    n_syn: int
    generations: int
    data: str
    model: str
    corrected: bool
    dtype: str
    truth_kind: str = "gaussian"
    correction_split: str = "random"
    curation_k: int | float = 1
    reward_kind: str | None = None
    reward: object = None  # the reward object for callable rewards (hashed by identity)
    corrector: object = None  # a point-wise corrector (simulations.correctors); None: ideal


def static_of(spec) -> Static:
    if spec.model not in ("gaussian", "gaussian_mean"):
        raise ValueError(f"the Gaussian samples engine runs model 'gaussian' or 'gaussian_mean', "
                         f"not {spec.model!r}")
    reward = spec.reward
    return Static(
        dim=spec.dim,
        n_real=spec.n_real,
        n_syn=spec.num_synthetic,
        generations=spec.generations,
        data=spec.data,
        model=spec.model,
        # a point-wise corrector runs at every γ (γ is traced): one compilation serves all γ
        corrected=spec.correction_strength > 0 or spec.practical_corrector is not None,
        dtype=spec.dtype,
        truth_kind=spec.truth.kind,
        correction_split=spec.correction_split,
        curation_k=spec.curation_k,
        reward_kind=None if (reward is None or not spec.curated) else reward.kind,
        reward=reward if (spec.curated and reward.kind == "callable") else None,
        corrector=spec.practical_corrector,
    )


def hyper_of(spec) -> Hyper:
    dt = jnp.dtype(spec.dtype)
    gamma = spec.correction_strength
    inf = gamma == float("inf")
    prob = 1.0 if inf else gamma / (1.0 + gamma)
    model_points = 0.0 if inf else float(round(spec.num_synthetic / (1.0 + gamma)))
    mean = jnp.asarray(spec.truth_mean, dt)
    cov = jnp.asarray(spec.truth_cov, dt)
    root = sqrtm_psd(jnp.asarray(spec.truth_cov)).astype(dt)
    rparams = spec.reward.params(dt) if (spec.curated and spec.reward is not None) else ()
    return Hyper(
        temperature=jnp.asarray(spec.temperature, dt),
        ddof=jnp.asarray(1.0 if spec.estimator == "unbiased" else 0.0, dt),
        correction_prob=jnp.asarray(prob, dt),
        correction_model_points=jnp.asarray(model_points, dt),
        correction_strength=jnp.asarray(gamma, dt),
        truth_params=spec.truth.params(dt),
        target_mean=mean,
        target_cov=cov,
        target_sqrt=root,
        reward_params=rparams,
    )


def subsample_mask(key, size, rows: int, n: int, dtype):
    """0/1 mask of ``n`` rows drawn uniformly without replacement among the first ``size``.

    Selection sampling (Knuth, TAOCP vol. 2, Algorithm 3.4.2 S): row i is taken with
    probability (n − taken so far)/(size − i). Exact, O(rows), no sort.
    """
    u = jax.random.uniform(key, (rows,), dtype)
    size_f = size.astype(dtype)

    def body(taken, x):
        ui, i = x
        take = (i < size_f) & (ui * (size_f - i) < (n - taken))
        return taken + take.astype(dtype), take

    _, mask = jax.lax.scan(body, jnp.zeros((), dtype), (u, jnp.arange(rows, dtype=dtype)))
    return mask.astype(dtype)


def subsample_rows(key, size, n: int):
    """``n`` distinct row indices drawn uniformly without replacement among the first ``size``.

    Floyd's algorithm (Bentley and Floyd, CACM 30(9), 1987): for j = size − n, …, size − 1
    draw t uniform on {0, …, j}; keep t if it is new, else keep j. Every n-subset has
    probability 1/C(size, n) (induction on j), so the statistics of the kept rows have the exact
    law of a uniform subsample. Work O(n²) in n sequential steps whatever the pool's capacity,
    where selection sampling (:func:`subsample_mask`) walks every row of the buffer, filled or
    not. ``size`` is a traced int32 ≥ n.
    """
    j = size - n + jnp.arange(n, dtype=jnp.int32)
    t = jax.random.randint(key, (n,), 0, j + 1, dtype=jnp.int32)

    def body(i, chosen):
        seen = jnp.any(chosen == t[i])
        return chosen.at[i].set(jnp.where(seen, j[i], t[i]))

    return jax.lax.fori_loop(0, n, body, jnp.full((n,), -1, jnp.int32))


def masked_stats(x, mask, count: int) -> Stats:
    """Statistics of the rows of ``x`` where ``mask`` is 1 (``count`` of them)."""
    mean = (mask @ x) / count
    centred = x - mean
    return Stats(jnp.asarray(count, x.dtype), mean, (centred * mask[:, None]).T @ centred)


def make_loop(static: Static, hyper: Hyper):
    """Build ``(init, step)`` for one replicate of the loop described by ``static``."""
    d, n, m = static.dim, static.n_real, static.n_syn
    dt = jnp.dtype(static.dtype)
    full_cov = static.model == "gaussian"

    def fit(stats: Stats) -> GaussianParams:
        cov = covariance(stats, hyper.ddof) if full_cov else hyper.target_cov
        return GaussianParams(stats.mean, cov)

    def draw_truth(key, size):
        return sample_law(static.truth_kind, hyper.truth_params, key, size)

    def draw_synthetic(key, params: GaussianParams, size, cstate=()):
        root = sqrtm_psd(params.cov) if full_cov else hyper.target_sqrt
        if static.curation_k != 1:
            root = jnp.sqrt(hyper.temperature) * root
            return curated_gaussian_draws(key, params.mean, root, size, static.curation_k,
                                          static.reward_kind, hyper.reward_params,
                                          static.reward)
        k_z, k_member = jax.random.split(key)
        z = threefry.normal(k_z, (d, size), dt).T  # drawn as (d, size): see plain_stats
        x = params.mean + jnp.sqrt(hyper.temperature) * (z @ root)
        if static.corrector is not None:  # a point-wise corrector Π(x) (Gillman et al. App. C)
            return static.corrector.apply(k_member, x, hyper.target_mean, hyper.target_sqrt,
                                          hyper.correction_strength, cstate)
        if static.corrected:
            if static.correction_split == "deterministic":
                to_target = jnp.arange(size, dtype=dt) >= hyper.correction_model_points
            else:
                to_target = threefry.uniform(k_member, (size,), dt) < hyper.correction_prob
            corrected = hyper.target_mean + z @ hyper.target_sqrt
            x = jnp.where(to_target[:, None], corrected, x)
        return x

    def plain_stats(key, params: GaussianParams, size) -> Stats:
        """Statistics of ``size`` plain draws x_i = μ + A z_i, A = √τ Σ^{1/2} (no curation,
        no corrector), from those of z: x̄ = μ + A z̄ and S_x = A S_z Aᵀ with
        S_z = Σ z_i z_iᵀ − N z̄ z̄ᵀ (no cancellation: z is standard normal). The same z as
        :func:`draw_synthetic`'s, so the same fit up to rounding; the points are never
        formed, and with z drawn as (d, N) the sums fuse with the generator into one pass."""
        root = sqrtm_psd(params.cov) if full_cov else hyper.target_sqrt
        b = jnp.sqrt(hyper.temperature) * root  # x_i = μ + z_i b (row vectors), b = Aᵀ
        k_z, _ = jax.random.split(key)
        z = threefry.normal(k_z, (d, size), dt)
        zbar = jnp.mean(z, axis=1)
        s_z = jnp.sum(z[:, None, :] * z[None, :, :], axis=-1) - size * jnp.outer(zbar, zbar)
        scatter = b.T @ s_z @ b
        return Stats(jnp.asarray(size, dt), params.mean + zbar @ b,
                     0.5 * (scatter + scatter.T))

    plain = (static.curation_k == 1 and static.corrector is None and not static.corrected
             and static.data != "accumulate_subsample")
    pool_rows = n + static.generations * m if static.data == "accumulate_subsample" else 0

    def init(key) -> LoopState:
        x = draw_truth(key, n)
        stats = batch_stats(x)
        buffer = jnp.zeros((pool_rows, d), dt)
        if pool_rows:
            buffer = buffer.at[:n].set(x)
        cstate = () if static.corrector is None else static.corrector.init(
            jax.random.fold_in(key, 1), x)
        return LoopState(fit(stats), stats, stats, buffer, jnp.asarray(n, jnp.int32), cstate)

    def step(key, state: LoopState):
        _TRACES["step"] += 1
        k_syn, k_real, k_sub = jax.random.split(key, 3)
        real, pool, buffer, size = state.real, state.pool, state.buffer, state.size
        if m and plain:
            x_syn, synth = None, plain_stats(k_syn, state.params, m)
        else:
            x_syn = draw_synthetic(k_syn, state.params, m, state.cstate) if m else None
            synth = batch_stats(x_syn) if (m and static.data != "accumulate_subsample") else None
        if static.data == "replace":
            stats = synth
        elif static.data == "mix":
            stats = merge(real, synth) if m else real
        elif static.data == "fresh":
            fresh = batch_stats(draw_truth(k_real, n))
            stats = merge(fresh, synth) if m else fresh
        elif static.data == "accumulate":
            pool = merge(pool, synth) if m else pool
            stats = pool
        elif static.data == "accumulate_subsample":
            if m:
                buffer = jax.lax.dynamic_update_slice(buffer, x_syn, (size, jnp.int32(0)))
                size = size + m
            stats = batch_stats(buffer[subsample_rows(k_sub, size, n)])
        else:  # pragma: no cover - LoopSpec validates the policy
            raise ValueError(f"unknown data policy {static.data!r}")
        params = fit(stats)
        return (LoopState(params, real, pool, buffer, size, state.cstate),
                StepInfo(params.mean, params.cov))

    return init, step


def replicate_trajectory(static: Static, hyper: Hyper, key):
    """Fitted (means, covs) of one replicate, shapes ``(T+1, d)`` and ``(T+1, d, d)``."""
    init, step = make_loop(static, hyper)
    state = init(jax.random.fold_in(key, 0))

    def body(carry, t):
        return step(jax.random.fold_in(key, t), carry)

    ts = jnp.arange(1, static.generations + 1)
    _, info = jax.lax.scan(body, state, ts)
    means = jnp.concatenate([state.params.mean[None], info.mean], axis=0)
    covs = jnp.concatenate([state.params.cov[None], info.cov], axis=0)
    return means, covs


@lru_cache(maxsize=128)
def compiled_runner(static: Static):
    """A jitted function ``(replicate_keys, hyper) -> (means, covs)`` for this shape."""

    def run_batch(keys, hyper):
        return jax.vmap(lambda k: replicate_trajectory(static, hyper, k))(keys)

    return jax.jit(run_batch)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
