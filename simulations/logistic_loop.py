"""The finite-sample self-consuming loop of the 1-D logistic location model.

Model: p_θ(x) = f(x − θ), f(u) = σ(u)(1 − σ(u)) the standard logistic density. Its score is
∂_θ log p_θ(x) = tanh((x − θ)/2), so the maximum-likelihood fit θ̂ of points z_1 … z_N solves

    S(θ) = Σ_k tanh((z_k − θ)/2) = 0,      −S'(θ) = ½ Σ_k sech²((z_k − θ)/2) > 0,

which has a unique root (S is strictly decreasing). The fit is computed by Newton's method
θ ← θ + S(θ)/(−S'(θ)), each step clipped to ±``max_step`` (1 by default: on a single point
Newton's iteration for tanh(u/2) = 0 converges from |u| ≤ 2.18 and diverges beyond, so a
clipped step walks into the basin and the unclipped steps then converge quadratically), for a
fixed number ``newton_iters`` of iterations warm-started at the previous generation's θ
(generation 0: at the real sample's median). The convergence check is reported, not assumed:
``residual`` is |S(θ̂)|/N after the last iteration and ``last_step`` the size of the last Newton
step.

The loop (Gillman et al. 2024, "Self-Correcting Self-Consuming Loops for Generative Model
Training", ICML, §4, Def. 4.1 and eq. 10–11; γ = 0 is Bertrand et al. 2024, "On the Stability
of Iterative Retraining of Generative Models on their own Data", ICLR, the mixed loop of their
Theorem 2): n real points x_1 … x_n are drawn once from p_data (any 1-D law of
:mod:`theory.laws`, e.g. a two-component Gaussian mixture, misspecified for the logistic class)
and kept. Generation 0 is θ₀ = the real-data MLE (or ``theta0`` when given). Generation t ≥ 1
draws m = ⌊λn⌋ synthetic points from the ideal-corrected model π_γ p_θ = (p_θ + γ p_θ*)/(1+γ)
at θ = θ_{t−1}: point j is y_j = θ_{t−1} + u_j with u_j standard logistic, replaced with
probability γ/(1+γ) by θ* + u_j (the same u_j: common random numbers across γ, the convention
of the Gaussian engine's random split, :mod:`simulations.gaussian_loop`), and refits θ_t by
maximum likelihood on the n real points and the m synthetic ones. θ* is the MLE target of
p_data, argmax_θ E_{p_data} log f(x − θ) (:func:`theory.correction.logistic_location`), the
analogue of the Gaussian engine's target (p_data's mean and covariance, the Gaussian MLE target).
As n → ∞ with m/N = λ/(1+λ) one generation is the infinite-sample map π_γG_λ^∞
(:func:`theory.correction.logistic_location_map`).

Random streams (those of the Gaussian engine): replicate r uses ``fold_in(key, r)``, its real
sample ``fold_in(·, 0)`` and its generation t ``fold_in(·, t)``, split into the logistic
uniforms and the membership uniforms; the draws never depend on θ, so runs from different
``theta0`` (or at different γ) share their random numbers. Under x64 everything is float64.
One compilation per shape (n, m, T, R, law kind, Newton iterations, data policy, whether θ₀ is
given); γ, θ*, θ₀ and the law's parameters are traced values.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from simulations import threefry
from theory.laws import sample_law

_TRACES = {"step": 0}


def trace_count() -> int:
    """How many times the loop's generation step has been traced (for compile-count tests)."""
    return _TRACES["step"]


class LogisticRun(NamedTuple):
    """Output of :func:`run_logistic`; arrays have shape ``(replicates, generations + 1)``."""

    theta: np.ndarray  # θ_t, float64
    residual: np.ndarray  # |S(θ_t)|/N after the last Newton iteration (NaN at t=0 when θ₀ given)
    last_step: np.ndarray  # |last Newton step| (NaN at t = 0 when θ₀ is given)
    theta_star: float  # the corrector's target θ*
    n_synthetic: int  # m = ⌊λn⌋


def _score_terms(points, theta):
    t = jnp.tanh(0.5 * (points - theta))
    return jnp.sum(t), 0.5 * jnp.sum(1.0 - t * t)


def fit_logistic(points, theta_init, iters: int, max_step: float = 1.0):
    """Maximum-likelihood θ of the logistic location model on ``points`` (1-D array) by
    ``iters`` clipped Newton steps from ``theta_init``; returns (θ̂, |S(θ̂)|/N, |last step|).
    Traceable; ``iters`` is static."""
    def body(_, carry):
        th, _ = carry
        s, h = _score_terms(points, th)
        step = jnp.clip(s / h, -max_step, max_step)
        return th + step, jnp.abs(step)

    th, last = jax.lax.fori_loop(0, iters, body, (theta_init, jnp.zeros_like(theta_init)))
    s, _ = _score_terms(points, th)
    return th, jnp.abs(s) / points.shape[0], last


def _logistic_noise(key, size, dtype):
    """Standard logistic draws logit(v), v uniform on (0, 1) (0 mapped to the smallest
    positive float)."""
    v = threefry.uniform(key, (size,), dtype)
    v = jnp.maximum(v, jnp.finfo(dtype).tiny)
    return jnp.log(v) - jnp.log1p(-v)


class _Static(NamedTuple):
    n: int
    m: int
    generations: int
    replicates: int
    law_kind: str
    iters: int
    max_step: float
    data: str  # "mix" (the real set kept) or "replace" (synthetic points only)
    given_theta0: bool


def _replicate(static: _Static, key, law_params, prob, target, theta0):
    n, m = static.n, static.m
    dt = target.dtype
    real = sample_law(static.law_kind, law_params, jax.random.fold_in(key, 0), n)[:, 0]
    if static.given_theta0:
        th0 = theta0
        res0 = jnp.asarray(jnp.nan, dt)
        step0 = jnp.asarray(jnp.nan, dt)
    else:
        th0, res0, step0 = fit_logistic(real, jnp.median(real), static.iters, static.max_step)

    def body(theta, t):
        _TRACES["step"] += 1
        k_u, k_member = jax.random.split(jax.random.fold_in(key, t))
        u = _logistic_noise(k_u, m, dt)
        to_target = threefry.uniform(k_member, (m,), dt) < prob
        syn = jnp.where(to_target, target + u, theta + u)
        points = jnp.concatenate([real, syn]) if static.data == "mix" else syn
        th, res, step = fit_logistic(points, theta, static.iters, static.max_step)
        return th, (th, res, step)

    _, (ths, res, steps) = jax.lax.scan(body, th0, jnp.arange(1, static.generations + 1))
    cat = lambda a, b: jnp.concatenate([a[None], b])  # noqa: E731
    return cat(th0, ths), cat(res0, res), cat(step0, steps)


@lru_cache(maxsize=64)
def _compiled(static: _Static):
    def run_batch(keys, law_params, prob, target, theta0):
        return jax.vmap(lambda k, th0: _replicate(static, k, law_params, prob, target, th0),
                        in_axes=(0, None if jnp.ndim(theta0) == 0 else 0))(keys, theta0)

    return jax.jit(run_batch)


def _as_key(key_or_seed):
    if isinstance(key_or_seed, numbers.Integral) and not isinstance(key_or_seed, bool):
        return jax.random.key(int(key_or_seed))
    if isinstance(key_or_seed, jax.Array) and jnp.issubdtype(key_or_seed.dtype,
                                                              jax.dtypes.prng_key):
        if key_or_seed.shape:
            raise ValueError("key_or_seed must be a single typed key, not a batch")
        return key_or_seed
    raise TypeError(f"key_or_seed must be an int seed or a typed jax.random.key, got "
                    f"{key_or_seed!r}")


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def run_logistic(key_or_seed, *, n, synthetic_ratio, correction_strength, generations,
                 replicates, data_law, theta0=None, target=None, data="mix", newton_iters=10,
                 max_step=1.0) -> LogisticRun:
    """Run ``replicates`` independent replicates of the logistic location loop (module
    docstring) for ``generations`` generations.

    Args:
        key_or_seed: an int seed or a typed ``jax.random.key``.
        n: real sample size; m = ⌊λn⌋ synthetic points per generation.
        synthetic_ratio: λ ≥ 0 (λ = 0: every generation refits the real data).
        correction_strength: γ ∈ [0, ∞]; each synthetic point comes from p_θ* with probability
            γ/(1+γ) (1 for γ = ∞).
        generations: T ≥ 0.
        replicates: R ≥ 1.
        data_law: a 1-D law of :mod:`theory.laws` (p_data).
        theta0: θ₀ (a float, or an array of R values): the loop starts there instead of at the
            real-data MLE; the real sample is drawn all the same (the same one as without).
        target: the corrector's target; default θ* of ``data_law``
            (:func:`theory.correction.logistic_location`).
        data: ``"mix"`` (the real set is kept, Gillman et al.'s loop) or ``"replace"`` (the
            refit uses the m synthetic points alone; a negative control).
        newton_iters: Newton iterations per fit (fixed; the residual is reported).
        max_step: the clip of a Newton step.

    Returns:
        :class:`LogisticRun` with float64 arrays of shape ``(R, T + 1)`` under x64.
    """
    from theory import correction as cr

    key = _as_key(key_or_seed)
    n = _positive_int("n", n)
    generations = _positive_int("generations", generations, 0)
    replicates = _positive_int("replicates", replicates)
    lam = cr._check_lambda(synthetic_ratio)
    g = cr._check_gamma(correction_strength)
    if data not in ("mix", "replace"):
        raise ValueError(f"data must be 'mix' or 'replace', got {data!r}")
    if getattr(data_law, "dim", None) != 1:
        raise ValueError("data_law must be a 1-D law of theory.laws")
    m = int(math.floor(lam * n + 1e-9))
    if data == "replace" and m == 0 and generations > 0:
        raise ValueError("data='replace' needs m = ⌊λn⌋ >= 1")
    ts = cr.logistic_location(data_law).theta_star if target is None else float(target)
    dt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    prob = cr.target_weight(g)
    given = theta0 is not None
    th0 = jnp.asarray(0.0 if theta0 is None else theta0, dt)
    if th0.ndim not in (0, 1) or (th0.ndim == 1 and th0.shape[0] != replicates):
        raise ValueError(f"theta0 must be a scalar or have shape ({replicates},)")
    if not bool(jnp.all(jnp.isfinite(th0))):
        raise ValueError("theta0 must be finite")
    static = _Static(n, m, generations, replicates, data_law.kind,
                     _positive_int("newton_iters", newton_iters), float(max_step), data, given)
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(
        jnp.arange(replicates, dtype=jnp.uint32))
    th, res, step = _compiled(static)(keys, data_law.params(dt), jnp.asarray(prob, dt),
                                      jnp.asarray(ts, dt), th0)
    return LogisticRun(np.asarray(th), np.asarray(res), np.asarray(step), float(ts), m)


@lru_cache(maxsize=64)
def _compiled_grid(static: _Static):
    def one(keys, law_params, prob, target, thetas):
        def at(theta):
            return jax.vmap(lambda k: _replicate(static, k, law_params, prob, target, theta)[0][1])(
                keys)

        return jax.vmap(at, out_axes=1)(thetas)

    return jax.jit(one)


def one_step(key_or_seed, thetas, *, n, synthetic_ratio, correction_strength, replicates,
             data_law, target=None, newton_iters=10) -> np.ndarray:
    """π_γG_λⁿ(θ) for every θ in ``thetas``, shape ``(R, len(thetas))``: generation 1 of
    :func:`run_logistic` from θ₀ = θ, with the same real sample and synthetic draws for every θ
    in a replicate (common random numbers): column j equals ``run_logistic(key_or_seed, ...,
    generations=1, theta0=thetas[j]).theta[:, 1]``. One compiled call for the whole grid."""
    from theory import correction as cr

    key = _as_key(key_or_seed)
    n = _positive_int("n", n)
    replicates = _positive_int("replicates", replicates)
    lam = cr._check_lambda(synthetic_ratio)
    g = cr._check_gamma(correction_strength)
    thetas = np.asarray(thetas, dtype=np.float64).ravel()
    if thetas.size == 0 or not np.all(np.isfinite(thetas)):
        raise ValueError("thetas must be a non-empty array of finite values")
    m = int(math.floor(lam * n + 1e-9))
    ts = cr.logistic_location(data_law).theta_star if target is None else float(target)
    dt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    static = _Static(n, m, 1, replicates, data_law.kind,
                     _positive_int("newton_iters", newton_iters), 1.0, "mix", True)
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(
        jnp.arange(replicates, dtype=jnp.uint32))
    out = _compiled_grid(static)(keys, data_law.params(dt), jnp.asarray(cr.target_weight(g), dt),
                                 jnp.asarray(ts, dt), jnp.asarray(thetas, dt))
    return np.asarray(out)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
