"""The population engine: the deterministic infinite-sample (n → ∞) loop of the Gaussian class.

At n = ∞ a maximum-likelihood Gaussian fit of a law q is moment matching, θ = (E_q x, Cov_q x),
and the law a generation fits on is the mixture of the data the policy keeps, each part
weighted by its share of the points (Gillman et al. 2024, Def. A.1 and the map π_γ G_λ^∞ of
eq. (4); reference notes §4.1–4.2). With λ the synthetic points per real point:

* synthetic law q_t: N(μ_t, τΣ_t) (temperature τ, Alemohammad et al. 2024); with the ideal
  corrector the mixture (1/(1+γ)) N(μ_t, τΣ_t) + (γ/(1+γ)) N(μ*, Σ*) (Gillman et al. 2024,
  Def. 4.1; the random and the deterministic splits have the same limit); with K = ∞
  curation the exact tilt of N(μ_t, τΣ_t) by e^r (Ferbach et al. 2024, Lemma 2.1;
  :func:`theory.rewards.reward_tilt`, linear and quadratic rewards); with finite K and a linear
  reward r = aᵀx + b the moments of the kept draw, μ + Ca m_K(s)/s and
  C − (1 − v_K(s)) C a aᵀ C/s², C = τΣ_t, s² = aᵀCa (reference notes ferbach2024 §5.1;
  m_K, v_K from :func:`theory.curation_gaussian.selection_moments`, called from the scan
  through :func:`jax.pure_callback`);
* ``"replace"``: θ_{t+1} = moments of q_t;
* ``"mix"`` and ``"fresh"``: moments of (p_data + λ q_t)/(1+λ) (fresh real data at n = ∞ has
  exactly p_data's moments, so the two policies coincide);
* ``"accumulate"``: moments of the pool (p_data + λ Σ_{s<t+1} q_s)/(1 + (t+1)λ);
* ``"accumulate_subsample"``: the same as ``"accumulate"``: a uniform subsample of n of the
  pool's n(1 + tλ) points has, as n → ∞, the pool's empirical law;
* ``model="gaussian_mean"``: only the mean is fitted, Σ_t = Σ*.

Only p_data's mean and covariance enter (any :mod:`theory.laws` law). The ``"mle"`` and
``"unbiased"`` estimators coincide at n = ∞. Generation 0 is θ* itself (the n = ∞ fit on real
data) unless another start θ_0 is given to :func:`population_trajectory`.

λ is ``synthetic_ratio`` (the n → ∞ limit of ⌊λn⌋/n), or ``n_synthetic/n_real`` when the spec
sets ``n_synthetic``; ``"replace"`` ignores it.

The result of ``run(spec, engine="population")`` has **one** replicate (R = 1, the map is
deterministic; ``spec.replicates`` is ignored): broadcasting R identical copies would only cost
memory, and a standard error over identical copies would be a misleading 0.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from theory.rewards import reward_tilt

_TRACES = {"step": 0}


def trace_count() -> int:
    """How many times the population engine's scan body has been traced."""
    return _TRACES["step"]


class Params(NamedTuple):
    mean: Array  # (d,)
    cov: Array  # (d, d)


class State(NamedTuple):
    params: Params  # θ_t
    pool_weight: Array  # () 1 + tλ, the pool's size in units of n ("accumulate")
    pool: Params  # the pool's mean and covariance ("accumulate")


class Info(NamedTuple):
    mean: Array  # (d,)
    cov: Array  # (d, d)


class Static(NamedTuple):
    dim: int
    generations: int
    data: str
    model: str
    dtype: str
    curation: str  # "none", "tilt" (K = ∞) or "select" (finite K, linear reward)
    reward_kind: str | None = None
    curation_k: int | float = 1


class Hyper(NamedTuple):
    synthetic_ratio: Array  # () λ
    temperature: Array  # () τ
    correction_weight: Array  # () γ/(1+γ)
    target_mean: Array  # (d,) μ*
    target_cov: Array  # (d, d) Σ*
    init_mean: Array  # (d,) μ_0
    init_cov: Array  # (d, d) Σ_0
    reward_params: tuple


def check_population(spec) -> None:
    """Raise ``ValueError`` when the population map of ``spec`` is not available in closed form.

    Refused: ``model="gmm"`` (the infinite-sample EM map has no closed form here), a point-wise
    corrector (``spec.practical_corrector``: its n → ∞ law depends on the corrector, the map
    here is the ideal π_γ's) and finite K-choice curation with a non-linear reward.
    """
    if spec.model not in ("gaussian", "gaussian_mean"):
        raise ValueError(
            f"engine='population' runs model 'gaussian' or 'gaussian_mean', not "
            f"{spec.model!r}; use engine='samples' (or 'auto')")
    if spec.practical_corrector is not None:
        raise ValueError(
            f"engine='population' is the n -> inf map of the ideal corrector pi_gamma only, not "
            f"corrector={spec.practical_corrector.name!r} (a point-wise corrector's limit law "
            "is not the mixture (p_theta + gamma p_theta*)/(1+gamma)); use engine='samples'")
    if spec.curated and spec.curation_k != math.inf:
        if spec.reward.kind != "linear":
            raise ValueError(
                f"engine='population' with finite curation_k={spec.curation_k} needs a linear "
                f"reward (the kept draw's moments m_K, v_K are known for r = a^T x + b only), "
                f"got reward kind {spec.reward.kind!r}; use curation_k=inf or engine='samples'")
        try:
            from theory.curation_gaussian import selection_moments  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installed theory
            raise ValueError(
                "engine='population' with finite curation_k needs "
                f"theory.curation_gaussian.selection_moments ({exc})") from None


def _ratio(spec) -> float:
    if spec.data == "replace":
        return 0.0
    if spec.n_synthetic is not None:
        return spec.n_synthetic / spec.n_real
    return spec.synthetic_ratio


def static_of(spec) -> Static:
    check_population(spec)
    if not spec.curated:
        curation = "none"
    elif spec.curation_k == math.inf:
        curation = "tilt"
    else:
        curation = "select"
    return Static(
        dim=spec.dim,
        generations=spec.generations,
        data=spec.data,
        model=spec.model,
        dtype=spec.dtype,
        curation=curation,
        reward_kind=spec.reward.kind if spec.curated else None,
        curation_k=spec.curation_k if curation == "select" else 1,
    )


def hyper_of(spec, init=None) -> Hyper:
    """Traced values of ``spec``; ``init = (mean, cov)`` starts the loop at θ_0 ≠ θ*."""
    dt = jnp.dtype(spec.dtype)
    gamma = spec.correction_strength
    weight = 1.0 if gamma == math.inf else gamma / (1.0 + gamma)
    mean, cov = spec.truth_mean, spec.truth_cov
    if init is None:
        m0, c0 = mean, cov
    else:
        m0, c0 = _check_init(init, spec.dim)
        if spec.model == "gaussian_mean":
            c0 = cov
    return Hyper(
        synthetic_ratio=jnp.asarray(_ratio(spec), dt),
        temperature=jnp.asarray(spec.temperature, dt),
        correction_weight=jnp.asarray(weight, dt),
        target_mean=jnp.asarray(mean, dt),
        target_cov=jnp.asarray(cov, dt),
        init_mean=jnp.asarray(m0, dt),
        init_cov=jnp.asarray(c0, dt),
        reward_params=spec.reward.params(dt) if spec.curated else (),
    )


def _check_init(init, d):
    try:
        mean, cov = init
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        cov = np.asarray(cov, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("init must be a pair (mean, covariance) of numeric arrays") from None
    if cov.ndim == 0 and d == 1:
        cov = cov.reshape(1, 1)
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"init must have shapes ({d},) and ({d}, {d}), got {mean.shape} and "
                         f"{cov.shape}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        raise ValueError("init must be finite")
    if np.max(np.abs(cov - cov.T)) > 1e-10 * max(float(np.max(np.abs(cov))), 1e-300) \
            or np.linalg.eigvalsh(0.5 * (cov + cov.T))[0] < 0:
        raise ValueError("init covariance must be symmetric positive semi-definite")
    return mean, 0.5 * (cov + cov.T)


def mixture_moments(w_a, a: Params, w_b, b: Params) -> Params:
    """Mean and covariance of (w_a q_a + w_b q_b)/(w_a + w_b) from the parts' moments:
    μ = Σ w_j μ_j / W, Σ = Σ_j w_j (Σ_j + (μ_j − μ)(μ_j − μ)ᵀ)/W (reference notes §4.1)."""
    total = w_a + w_b
    mean = (w_a * a.mean + w_b * b.mean) / total
    da, db = a.mean - mean, b.mean - mean
    cov = (w_a * (a.cov + jnp.outer(da, da)) + w_b * (b.cov + jnp.outer(db, db))) / total
    return Params(mean, 0.5 * (cov + cov.T))


def _selection(s, k, dtype):
    """(m_K(s), v_K(s)) through a host callback to theory.curation_gaussian."""
    from theory.curation_gaussian import selection_moments

    def host(sv):
        m, v = selection_moments(float(sv), k)
        return np.asarray([m, v], dtype=dtype)

    out = jax.pure_callback(host, jax.ShapeDtypeStruct((2,), dtype), s,
                            vmap_method="sequential")
    return out[0], out[1]


def make_loop(static: Static, hyper: Hyper):
    """Build ``(init, step)`` of the population map; ``step`` ignores its key (deterministic)."""
    full_cov = static.model == "gaussian"
    target = Params(hyper.target_mean, hyper.target_cov)

    def synthetic_law(params: Params) -> Params:
        cov = hyper.temperature * (params.cov if full_cov else hyper.target_cov)
        if static.curation == "tilt":
            return Params(*reward_tilt(static.reward_kind, hyper.reward_params, params.mean, cov))
        if static.curation == "select":
            a = hyper.reward_params[0]
            ca = cov @ a
            s2 = a @ ca
            s = jnp.sqrt(s2)
            m_k, v_k = _selection(s, static.curation_k, cov.dtype)
            safe = jnp.where(s > 0, s, 1.0)
            mean = params.mean + ca * jnp.where(s > 0, m_k / safe, 0.0)
            new = cov - jnp.where(s > 0, (1.0 - v_k) / (safe * safe), 0.0) * jnp.outer(ca, ca)
            return Params(mean, 0.5 * (new + new.T))
        model = Params(params.mean, cov)
        w = hyper.correction_weight
        return mixture_moments(1.0 - w, model, w, target)

    def fit(law: Params) -> Params:
        return law if full_cov else Params(law.mean, hyper.target_cov)

    def init(key) -> State:
        del key  # deterministic
        one = jnp.ones((), hyper.target_mean.dtype)
        return State(Params(hyper.init_mean, hyper.init_cov), one, target)

    def step(key, state: State):
        del key  # deterministic
        _TRACES["step"] += 1
        q = synthetic_law(state.params)
        lam = hyper.synthetic_ratio
        pool_weight, pool = state.pool_weight, state.pool
        if static.data == "replace":
            law = q
        elif static.data in ("mix", "fresh"):
            law = mixture_moments(jnp.ones_like(lam), target, lam, q)
        else:  # accumulate, accumulate_subsample
            pool = mixture_moments(pool_weight, pool, lam, q)
            pool_weight = pool_weight + lam
            law = pool
        params = fit(law)
        return State(params, pool_weight, pool), Info(params.mean, params.cov)

    return init, step


def trajectory(static: Static, hyper: Hyper):
    """(means (T+1, d), covs (T+1, d, d)) of the population map, by ``lax.scan``."""
    init, step = make_loop(static, hyper)
    state = init(None)
    ts = jnp.arange(1, static.generations + 1)
    _, info = jax.lax.scan(lambda s, t: step(t, s), state, ts)
    means = jnp.concatenate([state.params.mean[None], info.mean], axis=0)
    covs = jnp.concatenate([state.params.cov[None], info.cov], axis=0)
    return means, covs


@lru_cache(maxsize=128)
def compiled_runner(static: Static):
    """Jitted ``hyper -> (means (1, T+1, d), covs (1, T+1, d, d))`` (one replicate)."""
    return jax.jit(lambda hyper: jax.tree.map(lambda x: x[None], trajectory(static, hyper)))


@lru_cache(maxsize=128)
def compiled_grid_runner(static: Static):
    """Jitted ``hypers -> (means (C, T+1, d), covs)``: ``vmap`` over a leading cell axis."""
    return jax.jit(jax.vmap(lambda hyper: trajectory(static, hyper)))


def population_trajectory(spec, init=None):
    """(means (T+1, d), covs (T+1, d, d)) as NumPy arrays, optionally from θ_0 = ``init``."""
    static = static_of(spec)
    means, covs = compiled_runner(static)(hyper_of(spec, init))
    return np.asarray(means[0]), np.asarray(covs[0])


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
