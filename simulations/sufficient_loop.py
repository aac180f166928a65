"""The sufficient-statistics engine: the Gaussian loop drawn through its sufficient statistics.

A maximum-likelihood Gaussian fit depends on its data only through the count N, the sample mean
x̄ and the scatter S = Σ (x − x̄)(x − x̄)ᵀ, and for N i.i.d. points from N(μ, C) these are
independent with exact laws (Anderson 2003, *An Introduction to Multivariate Statistical
Analysis*, Theorem 3.3.2):

    x̄ ~ N(μ, C/N),        S ~ Wishart_d(N − 1, C).

So a generation never needs its points: this engine draws (x̄, S) of each Gaussian batch directly
and pools batches with the exact update of :mod:`simulations._stats` (Chan et al. 1979), which is
what the pooled MLE of the sample-level engine (:mod:`simulations.gaussian_loop`) computes from
the points. The cost of a generation is O(d³), whatever n and λ.

Wishart draws use the Bartlett decomposition (Bartlett 1933; Anderson 2003, Corollary 7.2.1):
with C = F Fᵀ (F the Cholesky factor), W = F A Aᵀ Fᵀ where A is lower triangular with
A_ii² ~ χ²(ν − i + 1) and A_ij ~ N(0, 1) (i > j), all independent. For ν < d (a singular
Wishart: fewer points than dimensions) the same construction holds with the columns j > ν of A
and the diagonal entries i > ν set to zero: it is the LQ decomposition of the d × ν Gaussian
matrix X with X Xᵀ = W (column j of A is the part of row j of X orthogonal to the previous rows).

How each data policy combines the parts (one generation, m = ⌊λn⌋ synthetic points):

* the synthetic batch: m points from N(μ_{t−1}, τ Σ_{t−1}). With the ideal corrector π_γ
  (Gillman et al. 2024, Def. 4.1) each point comes from the target θ* = N(μ*, Σ*) with probability
  γ/(1+γ): the number of target points is m₂ ~ Binomial(m, γ/(1+γ)) (random split) or
  m₂ = m − round(m/(1+γ)) (deterministic split), and given the counts the model part and the
  target part are two independent Gaussian batches. With K = ∞ curation (Ferbach et al. 2024,
  Lemma 2.1) and a linear or quadratic reward the model part is drawn from the exact tilt of
  N(μ_{t−1}, τΣ_{t−1}), again a Gaussian;
* ``"replace"``: the synthetic batch alone; ``"mix"``: pooled with the fixed real set, whose
  statistics are drawn once (generation 0) and kept; ``"fresh"``: pooled with n new real points;
  ``"accumulate"``: pooled into the running pool of everything drawn so far.

The fit divides the pooled scatter by N (``"mle"``) or N − 1 (``"unbiased"``); with
``model="gaussian_mean"`` the covariance is the truth's and no scatter is drawn.

Exact in law wherever the fit is a function of Gaussian sufficient statistics. It refuses
(``ValueError``, see :func:`check_sufficient`): a non-Gaussian p_data (the real set's (x̄, S) no
longer has the Normal–Wishart law), finite K-choice curation (the kept points are not Gaussian),
a point-wise corrector (``LoopSpec.corrector`` other than ``"ideal"``: it moves the individual
synthetic points, so the corrected batch is not Gaussian), ``model="gmm"``, and
``"accumulate_subsample"`` (a subsample without replacement of the pool depends on the
individual points, not on the pool's statistics).

Counts n and m are traced values, not shapes: one compilation serves every n_real, λ, τ, γ,
estimator and Gaussian truth of a given (d, T, policy, model) — one trace per shape.
Numerics: float64 by default, float32 supported. The Binomial counts (:func:`binomial`:
inversion or Hörmann's BTRS) and the χ² draws (:func:`gamma_variates`: Marsaglia–Tsang) are
exact rejection samplers whose value in a replicate depends on that replicate's key alone, so
results do not depend on batching or on the number of devices. Random numbers are
``jax.random``'s own, drawn through :mod:`simulations.threefry` (the same bits, computed by
vectorized straight-line code instead of JAX's rolled CPU loop).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simulations import threefry
from simulations._stats import Stats
from theory import linalg
from theory.rewards import reward_tilt

_TRACES = {"step": 0}


def trace_count() -> int:
    """How many times the sufficient engine's scan body has been traced (compile-count tests)."""
    return _TRACES["step"]


class Params(NamedTuple):
    mean: Array  # fitted mean μ_t, (d,) (a tuple of d scalars in the unrolled algebra)
    cov: Array  # fitted covariance Σ_t, (d, d) (a tuple of d rows in the unrolled algebra)


class State(NamedTuple):
    params: Params  # the current fit θ_t
    real: Stats  # the real set of generation 0 ("mix"; () for the other policies)
    pool: Stats  # everything drawn so far ("accumulate"; () for the other policies)


class Info(NamedTuple):
    mean: Array  # fitted mean of this generation (as in Params)
    cov: Array  # fitted covariance of this generation, as the algebra packs it (_Dense.pack)


class Static(NamedTuple):
    """Shape-determining configuration: one compilation per distinct value."""

    dim: int
    generations: int
    data: str
    model: str
    dtype: str
    corrected: bool
    correction_split: str = "random"
    reward_kind: str | None = None  # K = ∞ curation with this reward kind; None: no curation
    unrolled: bool | None = None  # the step's algebra (None: unrolled when dim ≤ 2; _algebra)


class Hyper(NamedTuple):
    """Traced hyperparameters (values only; their change never recompiles)."""

    n_real: Array  # () n, number of real points (a float count)
    n_syn: Array  # () m, synthetic points per generation
    temperature: Array  # () τ
    ddof: Array  # () 0 for "mle", 1 for "unbiased"
    correction_prob: Array  # () γ/(1+γ) (random split)
    correction_model_points: Array  # () round(m/(1+γ)) model points (deterministic split)
    target_mean: Array  # (d,) μ* (p_data's mean)
    target_cov: Array  # (d, d) Σ*
    target_factor: Array  # (d, d) F* with F* F*ᵀ = Σ*
    reward_params: tuple  # arrays of the reward (K = ∞ curation), () if none


def check_sufficient(spec) -> None:
    """Raise ``ValueError`` unless the sufficient engine is exact in law for ``spec``.

    Refused: ``model="gmm"`` (a mixture fit is not a function of one Gaussian batch's mean and
    scatter), a point-wise corrector (``spec.practical_corrector``: it transforms the
    individual synthetic points, so the corrected batch is not Gaussian; only the ideal π_γ
    is), ``"accumulate_subsample"``, a non-Gaussian p_data and finite K-choice curation.
    """
    if spec.model not in ("gaussian", "gaussian_mean"):
        raise ValueError(
            f"engine='sufficient' runs model 'gaussian' or 'gaussian_mean', not "
            f"{spec.model!r}: a mixture fitted by EM depends on the individual points, not on "
            "one Gaussian batch's (mean, scatter); use engine='samples' (or 'auto')")
    if spec.practical_corrector is not None:
        raise ValueError(
            f"engine='sufficient' is exact for the ideal corrector pi_gamma only, not "
            f"corrector={spec.practical_corrector.name!r}: a point-wise corrector transforms "
            "the individual synthetic points, so the corrected batch is no longer Gaussian and "
            "its (mean, scatter) has no Normal-Wishart law; use engine='samples'")
    if spec.data == "accumulate_subsample":
        raise ValueError(
            "engine='sufficient' cannot run data='accumulate_subsample': a subsample drawn "
            "without replacement from the pool depends on the individual pooled points, not "
            "only on the pool's sufficient statistics; use engine='samples'")
    if spec.truth.kind != "gaussian":
        raise ValueError(
            f"engine='sufficient' needs a Gaussian p_data (truth kind 'gaussian'), got "
            f"{spec.truth.kind!r}: the real set's (mean, scatter) has the Normal-Wishart law "
            "only for Gaussian data; use engine='samples'")
    if spec.curated and spec.curation_k != math.inf:
        raise ValueError(
            f"engine='sufficient' cannot run finite K-choice curation (curation_k="
            f"{spec.curation_k}): the kept points are not Gaussian, so their statistics have "
            "no Normal-Wishart law; use engine='samples' (curation_k=inf is supported)")


def static_of(spec) -> Static:
    check_sufficient(spec)
    return Static(
        dim=spec.dim,
        generations=spec.generations,
        data=spec.data,
        model=spec.model,
        dtype=spec.dtype,
        corrected=spec.correction_strength > 0,
        correction_split=spec.correction_split,
        reward_kind=spec.reward.kind if spec.curated else None,
    )


def hyper_of(spec) -> Hyper:
    dt = jnp.dtype(spec.dtype)
    gamma = spec.correction_strength
    inf = gamma == math.inf
    m = spec.num_synthetic
    prob = 1.0 if inf else gamma / (1.0 + gamma)
    model_points = 0.0 if inf else float(min(m, round(m / (1.0 + gamma))))
    cov = jnp.asarray(spec.truth_cov, jnp.float64)
    scalar = np.dtype(dt).type  # host scalars: the compiled runner takes them as they are
    return Hyper(
        n_real=scalar(spec.n_real),
        n_syn=scalar(m),
        temperature=scalar(spec.temperature),
        ddof=scalar(1.0 if spec.estimator == "unbiased" else 0.0),
        correction_prob=scalar(prob),
        correction_model_points=scalar(model_points),
        target_mean=jnp.asarray(spec.truth_mean, dt),
        target_cov=cov.astype(dt),
        target_factor=_COV_FACTOR(cov).astype(dt),
        reward_params=spec.reward.params(dt) if spec.curated else (),
    )


# ------------------------------------------------------------------------------ primitives
def cov_factor(cov: Array) -> Array:
    """A lower-triangular F with F Fᵀ = Σ for a positive semi-definite Σ, shape (d, d).

    d ≤ 2: the closed-form Cholesky factor, clipped so that a singular (collapsed) Σ gives a
    singular F, never NaN: F₁₁ = √a, F₂₁ = b/F₁₁ (0 when a = 0), F₂₂ = √max(c − F₂₁², 0).
    d ≥ 3: the Cholesky factor (:func:`theory.linalg.cholesky`, no LAPACK call) of
    Σ/s + 16 d ε I (s the largest diagonal entry, ε the dtype's machine epsilon), times √s:
    the relative shift 16 d ε is at the rounding level of Σ itself and keeps a numerically
    singular Σ factorizable. A covariance whose entries have lost precision to underflow
    (s < tiny/ε, about 1e-292 in float64, 1e-31 in float32: a collapsed
    loop) gives F = 0.
    """
    d = cov.shape[-1]
    if d == 1:
        return jnp.sqrt(jnp.clip(cov, 0.0, None))
    if d == 2:
        a, b, c = cov[0, 0], 0.5 * (cov[0, 1] + cov[1, 0]), cov[1, 1]
        f11 = jnp.sqrt(jnp.clip(a, 0.0, None))
        f21 = jnp.where(f11 > 0, b / jnp.where(f11 > 0, f11, 1.0), 0.0)
        f22 = jnp.sqrt(jnp.clip(c - f21 * f21, 0.0, None))
        zero = jnp.zeros_like(a)
        return jnp.stack([jnp.stack([f11, zero]), jnp.stack([f21, f22])])
    info = jnp.finfo(cov.dtype)
    scale = jnp.max(jnp.diagonal(cov))
    usable = scale >= info.tiny / info.eps
    safe = jnp.where(usable, scale, 1.0)
    sym = 0.5 * (cov + cov.T) / safe + 16.0 * d * info.eps * jnp.eye(d, dtype=cov.dtype)
    chol = linalg.cholesky(jnp.where(usable, sym, jnp.eye(d, dtype=cov.dtype)))
    return jnp.where(usable, chol * jnp.sqrt(safe), 0.0)


_COV_FACTOR = jax.jit(cov_factor)  # one compiled call per run instead of a dozen small ones


# Streams. Generation t's key is k_t = fold_in(key, t). A block of generations starting at t₀
# (a multiple of _BLOCK) draws its batches' uniforms from fold_in(fold_in(k_t₀, _NOISE_STREAM), b)
# for batch b, one (L, ·) array per batch, generation l of the block in row l (the generator's
# counters run along the rows, so a shorter block gets the first rows of a longer one); its
# χ² rejection fallback uses fold_in(k_t₀, _MORE_STREAM); generation t's corrector split
# (Binomial) uses fold_in(k_t, _COUNT_STREAM). The constants are far beyond the few counters a
# key's own draws use (fold_in(key, c) is the generator's block c of the key). The batches
# come in the order model part, fresh real set, target part, and a batch's numbers do not
# depend on how many batches follow, so a corrected loop at γ = 0 reproduces the uncorrected
# loop exactly.
_COUNT_STREAM = 0x9E3779B9
_MORE_STREAM = 0x7F4A7C15
_NOISE_STREAM = 0x5BD1E995

_PROPOSALS = 1  # Marsaglia–Tsang proposals drawn up front per χ² value (then a fallback loop)


def _work_dtype():
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


# Taylor coefficients of sin and cos at 0 in the variable f = 4θ/(2π) (quarter turns):
# sin(πf/2) = Σ_k (−1)^k (π/2)^{2k+1} f^{2k+1}/(2k+1)!, cos(πf/2) likewise with even powers.
# On |f| ≤ 1/2 (|θ| ≤ π/4) the first omitted terms are below (π/4)^19/19! ≈ 1e-19 and
# (π/4)^20/20! ≈ 3e-21, far below the float64 rounding of the result.
_SIN_COEFFS = tuple((-1) ** k * (math.pi / 2) ** (2 * k + 1) / math.factorial(2 * k + 1)
                    for k in range(9))
_COS_COEFFS = tuple((-1) ** k * (math.pi / 2) ** (2 * k) / math.factorial(2 * k)
                    for k in range(10))


def _horner(coeffs, x2):
    acc = jnp.full_like(x2, coeffs[-1])
    for c in coeffs[-2::-1]:
        acc = acc * x2 + c
    return acc


def sincos_turns(u: Array) -> tuple[Array, Array]:
    """(cos 2πu, sin 2πu) for u in [0, 1], with polynomials that XLA vectorizes (its own
    float64 sine and cosine run one value at a time on a CPU, ten times slower).

    Quarter-turn reduction: q = round(4u), f = 4u − q in [−1/2, 1/2] (exact: 4u is a power-of-
    two scaling and f a difference of nearby floats), so 2πu = qπ/2 + πf/2 with |πf/2| ≤ π/4;
    sin and cos of πf/2 by their Taylor polynomials (:data:`_SIN_COEFFS`, :data:`_COS_COEFFS`,
    truncation below 1e-19), then rotated by q quarter turns. Within 2.5e-16 of the exact
    values (tested against mpmath at 30 digits)."""
    v = 4.0 * u
    q = jnp.round(v)
    f = v - q
    f2 = f * f
    s = f * _horner(_SIN_COEFFS, f2)
    c = _horner(_COS_COEFFS, f2)
    quadrant = q.astype(jnp.int32) % 4
    swap = (quadrant % 2) == 1  # a quarter turn: (cos, sin) → (−sin, cos)
    cos = jnp.where(swap, s, c) * jnp.where((quadrant == 1) | (quadrant == 2), -1.0, 1.0)
    sin = jnp.where(swap, c, s) * jnp.where(quadrant >= 2, -1.0, 1.0)
    return cos, sin


def box_muller(u1: Array, u2: Array) -> tuple[Array, Array]:
    """Two independent N(0, 1) arrays from two independent U[0, 1) arrays (Box & Muller 1958):
    r = √(−2 log(1 − u₁)), (r cos 2πu₂, r sin 2πu₂) (:func:`sincos_turns`)."""
    r = jnp.sqrt(-2.0 * jnp.log1p(-u1))
    cos, sin = sincos_turns(u2)
    return r * cos, r * sin


class Noise(NamedTuple):
    """The random numbers of a generation's B Gaussian batches, drawn by one generator call
    (their count, not the number of points, sets the cost; one call keeps the compiled
    program small)."""

    z_mean: Array  # (B, d) N(0, 1) for the sample means
    z_off: Array  # (B, d(d−1)/2) N(0, 1) below the Bartlett diagonals
    x: Array  # (K, B, d) N(0, 1) Marsaglia–Tsang proposals
    u: Array  # (K, B, d) U(0, 1) acceptance uniforms


def noise_columns(d: int, scatter: bool) -> int:
    """Uniforms per batch: the Box–Muller pairs of d + d(d−1)/2 + K·d normals, and K·d
    acceptance uniforms (K = :data:`_PROPOSALS`; only d normals without ``scatter``)."""
    n_off = d * (d - 1) // 2 if scatter else 0
    k = _PROPOSALS if scatter else 0
    return 2 * (-(-(d + n_off + k * d) // 2)) + k * d


def noise_from_uniforms(w: Array, d: int, scatter: bool) -> Noise:
    """:class:`Noise` of batches from their uniforms ``w`` (..., :func:`noise_columns`), with
    the leading axes of ``w``; x and u get the proposal axis K first."""
    n_off = d * (d - 1) // 2 if scatter else 0
    k = _PROPOSALS if scatter else 0
    n_norm = d + n_off + k * d
    pairs = -(-n_norm // 2)
    cos, sin = box_muller(w[..., :pairs], w[..., pairs:2 * pairs])
    z = jax.lax.optimization_barrier(jnp.concatenate([cos, sin], axis=-1)[..., :n_norm])
    lead = w.shape[:-1]
    return Noise(
        z_mean=z[..., :d],
        z_off=z[..., d:d + n_off],
        x=jnp.moveaxis(z[..., d + n_off:].reshape(lead + (k, d)), -2, 0),
        u=jnp.moveaxis(w[..., 2 * pairs:].reshape(lead + (k, d)), -2, 0),
    )


def draw_noise(key, batches: int, d: int, scatter: bool) -> Noise:
    """:class:`Noise` for ``batches`` batches, in the working dtype (float64 under x64)."""
    w = threefry.uniform(key, (batches, noise_columns(d, scatter)), _work_dtype())
    return noise_from_uniforms(w, d, scatter)


def _first_accepted(ok: Array, *values: Array) -> tuple[Array, ...]:
    """Each of ``values`` (K, ...) at the first of its K proposals that ``ok`` (K, ...)
    accepts (the last proposal's where none is: the caller's fallback then replaces it).
    A chain of selects from the last proposal to the first: K is static, and on a CPU a
    gather at argmax(ok) costs more than the proposals themselves."""
    out = [v[-1] for v in values]
    for j in range(ok.shape[0] - 2, -1, -1):
        out = [jnp.where(ok[j], v[j], o) for v, o in zip(values, out, strict=True)]
    return tuple(out)


def gamma_from_noise(x, u, key, shape_a: Array, ids=None, boost: bool = True,
                     active=None) -> Array:
    """Gamma(a) draws (unit scale) for a traced array ``a`` > 0, exact (rejection sampling).

    Marsaglia & Tsang (2000), "A simple method for generating gamma variables": for a' ≥ 1,
    d = a' − 1/3, c = 1/√(9d), propose v = (1 + c x)³ with x ~ N(0, 1) and accept d·v when
    v > 0 and u < h(x) = exp(x²/2 + d(1 − v + log v)) (the squeeze u < 1 − 0.0331 x⁴ is a
    shortcut inside that region), u ~ U(0, 1). Each value takes the first accepted of a
    sequence of i.i.d. proposals: the K given in ``x``, ``u`` (shape (K, *a.shape)), then, for
    the few values whose K proposals were all rejected (rejection rate below 5 % per proposal,
    below 1e-4 for a ≥ 100), a ``while_loop`` that serves one such value per iteration until
    every value is accepted. The j-th extra proposal of value e is drawn from
    ``fold_in(fold_in(key, ids[e]), j)`` (``ids``: distinct integers naming the values,
    default their flat positions), so each value's proposal sequence is i.i.d. and depends on
    ``key`` and its id alone, never on the order in which the loop serves the values or on
    the other values (the law is exact; under ``vmap`` each lane runs its own loop).

    a < 1 is boosted, Gamma(a) = Gamma(a + 1)·U^{1/a}, with U = u/h(x) of the accepted
    proposal: given acceptance, u is uniform on (0, h(x)), so u/h(x) is U(0, 1) and
    independent of x (the acceptance uniform is recycled, no further number is drawn).
    ``boost=False`` skips that step (and its log and two exponentials per value) for a
    caller whose shapes are all ≥ 1; ``active`` (a's shape, default all) marks the values
    wanted: the others are returned unspecified and never enter the fallback loop.
    Computed in float64 whenever x64 is enabled (the acceptance test cancels for large a),
    returned in a's dtype.
    """
    out_dtype = shape_a.dtype
    wt = _work_dtype()
    a = shape_a.astype(wt)
    boosted = (a < 1.0) if boost else jnp.zeros(a.shape, bool)
    a1 = jnp.where(boosted, a + 1.0, a)
    d = a1 - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)

    def accept(x, u, d, c):
        v = (1.0 + c * x) ** 3
        pos = v > 0
        logv = jnp.log(jnp.where(pos, v, 1.0))
        log_h = jnp.minimum(0.5 * x * x + d * (1.0 - v + logv), 0.0)
        ok = pos & ((u < 1.0 - 0.0331 * x**4) | (jnp.log(u) < log_h))
        return (ok, d * v) + ((u * jnp.exp(-log_h),) if boost else ())

    out = jax.lax.optimization_barrier(accept(x.astype(wt), u.astype(wt), d, c))
    ok, kept = out[0], [v.reshape(-1) for v in _first_accepted(*out)]
    done = jnp.any(ok, axis=0)
    if active is not None:
        done = done | ~active
    done = done.reshape(-1)
    d_flat, c_flat = d.reshape(-1), c.reshape(-1)
    ids = (jnp.arange(done.size, dtype=jnp.uint32) if ids is None
           else jnp.asarray(ids).astype(jnp.uint32).reshape(-1))

    def cond(carry):
        return ~jnp.all(carry[1])

    def body(carry):
        kept, done, tries = carry
        e = jnp.argmin(done)  # the first value not yet accepted
        k = threefry.fold_in(threefry.fold_in(key, ids[e]), tries[e])
        w = threefry.uniform(k, (3,), wt)
        acc, *new = accept(box_muller(w[0], w[1])[0], w[2], d_flat[e], c_flat[e])
        kept = [v.at[e].set(jnp.where(acc, nv, v[e])) for v, nv in zip(kept, new, strict=True)]
        return kept, done.at[e].set(acc), tries.at[e].add(jnp.uint32(1))

    init = (kept, done, jnp.zeros(done.shape, jnp.uint32))
    kept, _, _ = jax.lax.while_loop(cond, body, init)
    value = kept[0].reshape(a.shape)
    if not boost:
        return value.astype(out_dtype)
    spare = kept[1].reshape(a.shape)
    exponent = 1.0 / jnp.where(boosted, a, 1.0)
    # U^{1/a} as exp(log(U)/a): XLA's float64 pow runs one value at a time on a CPU (5 ns
    # against 1 ns); the relative rounding, |log U|/a ulps, matters only where U^{1/a} is tiny
    boost_factor = jnp.where(boosted, jnp.exp(exponent * jnp.log(jnp.clip(spare, 0.0, 1.0))),
                             1.0)
    return (value * boost_factor).astype(out_dtype)


def gamma_variates(key, shape_a: Array) -> Array:
    """Gamma(a) draws for a traced array ``a`` > 0 (:func:`gamma_from_noise` with its own
    random numbers)."""
    wt = _work_dtype()
    k = _PROPOSALS
    w = threefry.uniform(key, (3 * k,) + shape_a.shape, wt)
    x = box_muller(w[:k], w[k:2 * k])[0]
    return gamma_from_noise(x, w[2 * k:], threefry.fold_in(key, _MORE_STREAM), shape_a)


_BTRS_PROPOSALS = 4
_LOG_FACT_SMALL = tuple(math.lgamma(k + 1.0) for k in range(10))


def log_factorial(k: Array) -> Array:
    """log k! for whole numbers k ≥ 0: a table below 10, else Stirling's series to the k⁻⁹
    term, (k + ½) log k − k + ½ log 2π + 1/(12k) − 1/(360k³) + 1/(1260k⁵) − 1/(1680k⁷)
    + 1/(1188k⁹), whose truncation error is below 691/(360360 k¹¹) ≤ 2e-14 (the float64
    rounding of log k! ≥ 15 itself)."""
    small = jnp.asarray(_LOG_FACT_SMALL, k.dtype)[jnp.clip(k, 0, 9).astype(jnp.int32)]
    kk = jnp.maximum(k, 10.0)
    r = 1.0 / kk
    r2 = r * r
    series = r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680
                                                                        - r2 / 1188))))
    big = (kk + 0.5) * jnp.log(kk) - kk + 0.5 * math.log(2.0 * math.pi) + series
    return jnp.where(k < 10, small, big)


def binomial(key, count: Array, prob: Array) -> Array:
    """One Binomial(count, prob) draw for traced scalars (count a whole number ≥ 0, prob in
    [0, 1]), exact, and a function of ``key`` alone (under ``vmap`` a lane's value never depends
    on the other lanes: each lane keeps its *first* accepted proposal).

    With q = min(p, 1 − p), the draw is made for q and flipped (count − X) when p > 1/2:

    * count·q ≤ 10: inversion by sequential search, X = min{k : F(k) ≥ U} with F summed from
      p(0) = (1 − q)^count and the pmf ratios p(k)/p(k−1) = (count − k + 1) q/(k (1 − q))
      (X + 1 steps, about count·q + 1 on average);
    * otherwise Hörmann's (1993) BTRS transformed rejection, "The generation of binomial random
      variates", J. Stat. Comput. Simul. 46: u = U − 1/2, v = V, k = ⌊(2a/u_s + b) u + c⌋ with
      u_s = 1/2 − |u|, accepted at once when u_s ≥ 0.07 and v ≤ v_r, else when
      log(v α/(a/u_s² + b)) ≤ h − log k! − log (count − k)! + (k − m) log(q/(1 − q)),
      h = log m! + log (count − m)!, m = ⌊(count + 1) q⌋ (:func:`log_factorial`); four
      proposals up front, then a ``while_loop`` until one is accepted.

    The two methods are the branches of a ``lax.cond``: with count and prob shared by a batch
    of replicates (one loop's hyperparameters) only one of them runs.
    """
    wt = _work_dtype()
    n = jnp.asarray(count, wt)
    p = jnp.asarray(prob, wt)
    flip = p > 0.5
    q = jnp.clip(jnp.where(flip, 1.0 - p, p), 0.0, 0.5)
    trivial = (q <= 0.0) | (n <= 0.0)
    small = (n * q <= 10.0) | trivial
    qs = jnp.where(trivial, 0.5, q)

    def inversion(key):
        u0 = threefry.uniform(key, (), wt)
        ratio_q = qs / (1.0 - qs)

        def cond(c):
            k, _, cdf_k = c
            return (cdf_k < u0) & (k < n)

        def body(c):
            k, pmf_k, cdf_k = c
            pmf_next = pmf_k * (n - k) / (k + 1.0) * ratio_q
            return k + 1.0, pmf_next, cdf_k + pmf_next

        pmf0 = jnp.exp(n * jnp.log1p(-qs))
        return jax.lax.while_loop(cond, body, (jnp.zeros((), wt), pmf0, pmf0))[0]

    def btrs_branch(key):
        spq = jnp.sqrt(n * qs * (1.0 - qs))
        b = 1.15 + 2.53 * spq
        a = -0.0873 + 0.0248 * b + 0.01 * qs
        c = n * qs + 0.5
        v_r = 0.92 - 4.2 / b
        alpha = (2.83 + 5.1 / b) * spq
        lpq = jnp.log(qs / (1.0 - qs))
        mode = jnp.floor((n + 1.0) * qs)
        h = log_factorial(mode) + log_factorial(n - mode)

        def btrs(uu, vv):
            u = uu - 0.5
            us = 0.5 - jnp.abs(u)
            k = jnp.floor((2.0 * a / jnp.maximum(us, 1e-300) + b) * u + c)
            inside = (k >= 0) & (k <= n)
            quick = (us >= 0.07) & (vv <= v_r)
            kk = jnp.clip(k, 0.0, n)
            lhs = jnp.log(vv * alpha / (a / jnp.maximum(us * us, 1e-300) + b))
            rhs = h - log_factorial(kk) - log_factorial(n - kk) + (kk - mode) * lpq
            return inside & (quick | (lhs <= rhs)), kk

        w = threefry.uniform(key, (2, _BTRS_PROPOSALS), wt)
        ok, ks_b = btrs(w[0], w[1])
        (value,) = _first_accepted(ok, ks_b)
        more = threefry.fold_in(key, _MORE_STREAM)

        def body(carry):
            value, done, i = carry
            uv = threefry.uniform(threefry.fold_in(more, i), (2,), wt)
            acc, k = btrs(uv[0], uv[1])
            return jnp.where(acc & ~done, k, value), done | acc, i + 1

        init = (value, jnp.any(ok), jnp.zeros((), jnp.uint32))
        return jax.lax.while_loop(lambda c: ~c[1], body, init)[0]

    value = jax.lax.cond(small, inversion, btrs_branch, key)
    value = jnp.where(trivial, 0.0, value)
    value = jnp.where(flip, n - value, value)
    return value.astype(jnp.asarray(count).dtype)


def bartlett_factors(noise: Noise, key, df: Array, d: int, dtype, ids=None) -> Array:
    """Lower-triangular A, (..., d, d), with A Aᵀ ~ Wishart_d(df, I), df (...) traced
    integers ≥ 0 (``noise`` with the same leading axes: z_off (..., d(d−1)/2), x and u
    (K, ..., d)); ``ids`` (..., d): names of the χ² values for :func:`gamma_from_noise`.

    A_ii = √χ²(df − i) (0-based i; 0 when df ≤ i), A_ij ~ N(0, 1) for i > j with j < df,
    other entries 0 (the singular case df < d included; module docstring). χ²(ν) is
    2 Gamma(ν/2) for ν ≥ 2 (:func:`gamma_from_noise`, no boost) and x² for ν = 1, x the
    value's first Marsaglia–Tsang normal (which then proposes nothing).
    """
    nu = df[..., None] - jnp.arange(d, dtype=dtype)  # (..., d)
    gamma = nu > 1  # χ²(ν) = 2 Gamma(ν/2) with ν/2 ≥ 1 (ν is a whole number): no boost
    g = gamma_from_noise(noise.x, noise.u, key, jnp.where(gamma, 0.5 * nu, 1.0), ids,
                         boost=False, active=gamma)
    x0 = noise.x[0].astype(g.dtype)  # χ²(1) = x² for the first proposal's normal
    chi2 = jnp.where(gamma, 2.0 * g, jnp.where(nu == 1, x0 * x0, 0.0))
    diag = jnp.sqrt(chi2).astype(dtype)
    a = jnp.eye(d, dtype=dtype) * diag[..., None, :]
    if d > 1:
        rows, cols = np.tril_indices(d, -1)
        z = jnp.where(jnp.asarray(cols, dtype) < df[..., None], noise.z_off.astype(dtype), 0.0)
        a = a.at[..., rows, cols].set(z)
    return a


def wishart(key, df, factor: Array) -> Array:
    """One Wishart_d(df, F Fᵀ) draw, F A Aᵀ Fᵀ with A from :func:`bartlett_factors`."""
    d = factor.shape[-1]
    noise = draw_noise(key, 1, d, True)
    df = jnp.reshape(jnp.asarray(df, factor.dtype), (1,))
    fa = factor @ bartlett_factors(noise, threefry.fold_in(key, _MORE_STREAM), df, d,
                                   factor.dtype)[0]
    return fa @ fa.T


class _Dense:
    """The step's algebra with vectors (d,) and matrices (d, d) as arrays (d > 2)."""

    def __init__(self, d: int):
        self.d = d

    def vec(self, x: Array):
        return x

    def mat(self, x: Array):
        return x

    def arrays(self, mean, cov) -> tuple[Array, Array]:
        """(mean, cov) as arrays (..., d) and (..., d, d)."""
        return mean, cov

    def matvec(self, f, z):
        return f @ z

    def scatter(self, f, a):
        """F A (F A)ᵀ."""
        fa = f @ a
        return fa @ fa.T

    def outer(self, u, w):
        """u uᵀ w for a scalar w."""
        return jnp.outer(u, u) * w

    def factor(self, cov):
        return cov_factor(cov)

    def symmetrize(self, s):
        return 0.5 * (s + s.T)

    def pack(self, sym):
        """A symmetric matrix as the step outputs it (:meth:`unpack` inverts)."""
        return sym

    def unpack(self, packed):
        return packed


class _Unrolled(_Dense):
    """The step's algebra with a vector as a tuple of d scalars and a matrix as a tuple of d
    rows (d ≤ 2). Under ``vmap`` each scalar is one array over the replicates, so every
    operation is an elementwise pass that XLA fuses with the others into a few vectorized
    kernels per generation; with (R, d, d) arrays the same step compiles to batched 2 × 2
    products, transposes and loops over minor axes of length 2 (the whole run 10 % slower at
    R = 1000, T = 100, d = 2). Factors (F, A) are lower triangular, and products skip their
    zero entries."""

    def vec(self, x):
        return tuple(x[i] for i in range(self.d))

    def mat(self, x):
        return tuple(tuple(x[i, j] for j in range(self.d)) for i in range(self.d))

    def arrays(self, mean, cov):
        return (jnp.stack(mean, axis=-1),
                jnp.stack([jnp.stack(row, axis=-1) for row in cov], axis=-2))

    def _sym(self, lower):
        """The symmetric matrix from its entries (i, j), j ≤ i (a function of i, j)."""
        low = {(i, j): lower(i, j) for i in range(self.d) for j in range(i + 1)}
        return tuple(tuple(low[max(i, j), min(i, j)] for j in range(self.d))
                     for i in range(self.d))

    def matvec(self, f, z):
        return tuple(_sum(f[i][j] * z[j] for j in range(i + 1)) for i in range(self.d))

    def scatter(self, f, a):
        d = self.d
        g = [[_sum(f[i][k] * a[k][j] for k in range(j, i + 1)) if j <= i else None
              for j in range(d)] for i in range(d)]
        return self._sym(lambda i, j: _sum(g[i][k] * g[j][k] for k in range(j + 1)))

    def outer(self, u, w):
        return self._sym(lambda i, j: u[i] * u[j] * w)

    def factor(self, cov):
        """Cholesky's recursion with :func:`cov_factor`'s clipping (the same values for
        d ≤ 2): F_jj = √max(C_jj − Σ_{k<j} F_jk², 0), F_ij = (C_ij − Σ_{k<j} F_ik F_jk)/F_jj
        for i > j (0 when F_jj = 0), C_ij the symmetrized entry."""
        d = self.d
        f = [[jnp.zeros_like(cov[0][0]) for _ in range(d)] for _ in range(d)]
        for j in range(d):
            f[j][j] = jnp.sqrt(jnp.clip(cov[j][j] - _sum(f[j][k] ** 2 for k in range(j)),
                                        0.0, None))
            ok = f[j][j] > 0
            for i in range(j + 1, d):
                c = 0.5 * (cov[i][j] + cov[j][i]) - _sum(f[i][k] * f[j][k] for k in range(j))
                f[i][j] = jnp.where(ok, c / jnp.where(ok, f[j][j], 1.0), 0.0)
        return tuple(tuple(row) for row in f)

    def symmetrize(self, s):
        return self._sym(lambda i, j: s[i][j])

    def pack(self, sym):
        """The d(d+1)/2 entries on and below the diagonal (one output each per generation)."""
        return tuple(sym[i][j] for i in range(self.d) for j in range(i + 1))

    def unpack(self, packed):
        low = iter(packed)
        return self._sym(lambda i, j: next(low))


_UNROLLED_MAX_DIM = 2


def _sum(terms):
    """Σ of an iterable of arrays, left to right, 0 for none (no leading 0 + …)."""
    terms = list(terms)
    out = terms[0] if terms else 0.0
    for t in terms[1:]:
        out = out + t
    return out


def _algebra(static) -> _Dense:
    unrolled = static.unrolled
    if unrolled is None:
        unrolled = static.dim <= _UNROLLED_MAX_DIM
    return (_Unrolled if unrolled else _Dense)(static.dim)


def _tree_add(*trees):
    return jax.tree.map(lambda *xs: _sum(xs), *trees)


def _tree_scale(tree, c):
    return jax.tree.map(lambda x: x * c, tree)


def gaussian_batch(alg: _Dense, count, z, a, mean, factor, scatter: bool) -> Stats:
    """Statistics of one Gaussian batch drawn without its points: ``count`` i.i.d. points of
    N(μ, F Fᵀ) (``mean`` μ, ``factor`` F lower triangular, in ``alg``'s representation).

    x̄ = μ + F z/√N with z ~ N(0, I) (``z``), and S = F A Aᵀ Fᵀ with A ~
    :func:`bartlett_factors`(N − 1) (``a``), independent. The count is traced and may be 0
    (x̄ is then a finite placeholder and S = 0; :func:`merge` gives it no weight).
    ``scatter=False`` skips S (known-covariance model; S = 0)."""
    root_n = jnp.sqrt(jnp.maximum(count, 1.0))
    xbar = jax.tree.map(lambda m, v: m + v / root_n, mean, alg.matvec(factor, z))
    if scatter:
        s = alg.scatter(factor, a)
    else:
        s = alg.mat(jnp.zeros((alg.d, alg.d), root_n.dtype))
    return Stats(count, xbar, s)


def merge(alg: _Dense, a: Stats, b: Stats) -> Stats:
    """Exact statistics of the union of two samples (Chan et al. 1979), either possibly empty.

    N = N_a + N_b, δ = x̄_b − x̄_a, x̄ = x̄_a + δ N_b/N, S = S_a + S_b + δδᵀ N_a N_b/N; an empty
    side contributes nothing (its placeholder mean gets weight 0).
    """
    n = a.count + b.count
    safe = jnp.where(n > 0, n, 1.0)
    delta = jax.tree.map(jnp.subtract, b.mean, a.mean)
    mean = _tree_add(a.mean, _tree_scale(delta, b.count / safe))
    scatter = _tree_add(a.scatter, b.scatter, alg.outer(delta, a.count * b.count / safe))
    return Stats(n, mean, scatter)


# ------------------------------------------------------------------------------ the loop
class Draws(NamedTuple):
    """The random part of one generation's B Gaussian batches, which never depends on the
    state of the loop (only on the replicate's key, the generation and the hyperparameters)."""

    counts: Array  # (B,) points per batch
    z_mean: Array  # (B, d) N(0, 1) of the sample means
    bartlett: Array  # (B, d, d) Bartlett factors A_b for Wishart(N_b − 1, I); (B, 0, 0) if unused


_MAX_BATCHES = 3  # model part, fresh real set, target part
_BLOCK = 16  # generations whose random numbers are made together (replicate_trajectory)


def make_loop(static: Static, hyper: Hyper):
    """Build ``(init, draws, enter, step)`` for one replicate of the loop described by
    ``static``.

    ``draws(key, ts) -> Draws`` makes every random number of the generations ``ts`` (a block:
    their batch counts, mean noise and Bartlett factors, with a leading axis over ``ts``);
    ``enter(state, ts, draws) -> state`` prepares the state for the block (the real set of
    ``"mix"``); ``step(state, t, draws_t) -> (state, Info)`` turns generation t's into its
    statistics through the current fit and refits. The split is exact because the batch counts
    and the standard-normal / χ² parts of the Normal–Wishart draws depend on the keys alone;
    only the location μ and the factor F of each batch depend on the state.
    """
    full_cov = static.model == "gaussian"
    data = static.data
    d = static.dim
    alg = _algebra(static)
    target_mean, target_cov = alg.vec(hyper.target_mean), alg.mat(hyper.target_cov)
    target_factor = alg.mat(hyper.target_factor)

    def fit(stats: Stats) -> Params:
        if not full_cov:
            return Params(stats.mean, target_cov)
        den = stats.count - hyper.ddof
        cov = jax.tree.map(lambda s: s / den, stats.scatter)
        return Params(stats.mean, alg.symmetrize(cov))

    def model_law(params: Params):
        """(mean, factor) of the law the model part is drawn from: N(μ, τΣ) or its tilt."""
        if static.reward_kind is not None:
            mean, cov = alg.arrays(params.mean, params.cov if full_cov else target_cov)
            t_mean, t_cov = reward_tilt(static.reward_kind, hyper.reward_params, mean,
                                        hyper.temperature * cov)
            return alg.vec(t_mean), alg.factor(alg.mat(t_cov))
        root_tau = jnp.sqrt(hyper.temperature)
        factor = alg.factor(params.cov) if full_cov else target_factor
        return params.mean, _tree_scale(factor, root_tau)

    def model_count(key):
        """Number of synthetic points drawn from the model (the rest come from θ*)."""
        m = hyper.n_syn
        if static.correction_split == "deterministic":
            return hyper.correction_model_points
        return m - binomial(key, m, hyper.correction_prob)

    dt = hyper.target_mean.dtype
    empty = Stats(jnp.zeros((), dt), alg.vec(jnp.zeros((d,), dt)), alg.mat(jnp.zeros((d, d), dt)))

    def init(key) -> State:
        """The state before generation 0 (no data yet); generation 0 is the first ``step``."""
        del key  # the real set is generation 0's draw (recorded by enter, used by step)
        return State(Params(target_mean, target_cov), empty if data == "mix" else (),
                     empty if data == "accumulate" else ())

    def counts_of(key, t):
        """Points per batch, in the order model part, [a fresh real set], [the target part];
        generation 0: batch 0 is the real set, the others are empty."""
        first = t == 0
        none = jnp.zeros((), dt)
        counts = [jnp.where(first, hyper.n_real, hyper.n_syn)]
        if data == "fresh":
            counts.append(jnp.where(first, none, hyper.n_real))
        if static.corrected:
            m_model = model_count(threefry.fold_in(key, _COUNT_STREAM))
            counts[0] = jnp.where(first, hyper.n_real, m_model)
            counts.append(jnp.where(first, none, hyper.n_syn - m_model))
        return jnp.stack(counts)

    def draws(key, ts) -> Draws:
        """The random numbers of generations ``ts`` (a block, (L,)), with a leading L axis.

        Streams as described above :data:`_COUNT_STREAM`: one uniform array per batch for the
        whole block, row l for generation ts[l]; the χ² values of the block share one
        rejection fallback, value (l, b, i) (generation, batch, diagonal entry) named
        (l·3 + b)·d + i, so a batch's values never depend on how many batches follow it (at
        most 3) nor on the block's length.
        """
        first = threefry.fold_in(key, ts[0])  # the block's first generation key
        if static.corrected:  # the Binomial split of each generation, from its own key
            counts = jax.vmap(counts_of)(jax.vmap(lambda t: threefry.fold_in(key, t))(ts), ts)
        else:
            counts = jax.vmap(lambda t: counts_of(None, t))(ts)  # (L, B), no randomness
        b = counts.shape[1]
        block = threefry.fold_in(first, _NOISE_STREAM)
        cols = noise_columns(d, full_cov)
        w = jnp.stack([threefry.uniform_rows(threefry.fold_in(block, j), ts.shape[0], cols,
                                             _work_dtype()) for j in range(b)], axis=1)
        noise = noise_from_uniforms(w, d, full_cov)  # (L, B, ·); x, u (K, L, B, d)
        if full_cov:
            more = threefry.fold_in(first, _MORE_STREAM)
            ids = ((jnp.arange(ts.shape[0])[:, None, None] * _MAX_BATCHES
                    + jnp.arange(b)[None, :, None]) * d + jnp.arange(d))
            a = bartlett_factors(noise, more, jnp.maximum(counts - 1.0, 0.0), d, dt, ids)
        else:
            a = jnp.zeros(counts.shape + (0, 0), dt)
        return Draws(counts, noise.z_mean.astype(dt), a)

    def step(state: State, t, rnd: Draws):
        _TRACES["step"] += 1
        first = t == 0
        mean, factor = model_law(state.params)
        laws = [(jax.tree.map(lambda a, b: jnp.where(first, a, b), target_mean, mean),
                 jax.tree.map(lambda a, b: jnp.where(first, a, b), target_factor, factor))]
        if data == "fresh":
            laws.append((target_mean, target_factor))
        if static.corrected:
            laws.append((target_mean, target_factor))
        batches = [gaussian_batch(alg, rnd.counts[j], alg.vec(rnd.z_mean[j]),
                                  alg.mat(rnd.bartlett[j]) if full_cov else None, mu, f,
                                  full_cov) for j, (mu, f) in enumerate(laws)]
        # an empty batch merged into a non-empty one leaves it unchanged, bit for bit
        synth = batches[0]
        if static.corrected:
            synth = merge(alg, synth, batches[-1])
        pool = state.pool  # () unless the policy keeps it
        if data == "replace":
            stats = synth
        elif data == "mix":  # generation 0: the real set alone (it is this generation's synth)
            real = jax.tree.map(lambda e, r: jnp.where(first, e, r), empty, state.real)
            stats = merge(alg, real, synth)
        elif data == "fresh":
            stats = merge(alg, synth, batches[1])
        elif data == "accumulate":
            pool = merge(alg, pool, synth)
            stats = pool
        else:  # pragma: no cover - check_sufficient refuses the rest
            raise ValueError(f"engine='sufficient' cannot run data={data!r}")
        params = fit(stats)
        return State(params, state.real, pool), Info(params.mean, alg.pack(params.cov))

    def enter(state: State, ts, rnd: Draws) -> State:
        """The state at the start of the block ``ts``: with ``"mix"``, the first block records
        the real set, generation 0's batch 0 (N(μ*, Σ*), n points), which every later step
        reads (kept out of ``step`` so that the scan carries it unchanged)."""
        if data != "mix":
            return state
        real = gaussian_batch(alg, rnd.counts[0, 0], alg.vec(rnd.z_mean[0, 0]),
                              alg.mat(rnd.bartlett[0, 0]) if full_cov else None, target_mean,
                              target_factor, full_cov)
        real = jax.tree.map(lambda a, b: jnp.where(ts[0] == 0, a, b), real, state.real)
        return state._replace(real=real)

    return init, draws, enter, step


def block_length(generations: int) -> int:
    """Generations per block: :data:`_BLOCK`, or T + 1 when that is smaller (one block)."""
    return min(_BLOCK, generations + 1)


def generation_blocks(generations: int) -> int:
    """Number of blocks of :func:`block_length` generations covering generations 0 … T."""
    return -(-(generations + 1) // block_length(generations))


def replicate_trajectory(static: Static, hyper: Hyper, key):
    """Fitted (means, covs) of one replicate, ``(T+1, d)`` and ``(T+1, d, d)``.

    Keys: generation t (t = 0 … T, 0 being the fit on the real data) has the key
    ``fold_in(key, t)``, as in the sample-level engine; a block's random numbers come from
    its first generation's key (the streams above :data:`_COUNT_STREAM`). Generation 0 runs
    through ``step`` as well: its draws are the first block's first row, from which ``enter``
    also records the real set of ``"mix"``.

    Generations run in blocks t ∈ [j·L, (j + 1)·L), L = :data:`_BLOCK` (or T + 1 when T < L:
    one block): a block first makes the random numbers of all its generations
    (:func:`make_loop`'s ``draws``; the χ² rejection fallback then runs once per block, rarely
    and on single values), then scans ``step`` over them. Blocks start at multiples of
    :data:`_BLOCK` whatever T, a block's uniforms are laid out generation by generation and a
    value's fallback proposals depend only on its block's first key and its own name, so
    generation t's numbers do not depend on T (a single short block gets the first
    generations' numbers of a full one); the last block may run
    past T, and those fits are discarded. Memory per replicate is O(L) beyond the output,
    whatever T.
    """
    init, draws, enter, step = make_loop(static, hyper)
    length = block_length(static.generations)
    ts = jnp.arange(generation_blocks(static.generations) * length).reshape(-1, length)

    def block(carry, tb):
        rnd = draws(key, tb)
        return jax.lax.scan(lambda c, x: step(c, *x), enter(carry, tb, rnd), (tb, rnd))

    _, info = jax.lax.scan(block, init(key), ts)
    alg = _algebra(static)
    mean, cov = alg.arrays(info.mean, alg.unpack(info.cov))
    keep, d = static.generations + 1, static.dim
    return mean.reshape((-1, d))[:keep], cov.reshape((-1, d, d))[:keep]


def batch_trajectories(static: Static, keys, hyper: Hyper):
    """``vmap`` of :func:`replicate_trajectory` over replicate keys (leading axis)."""
    return jax.vmap(lambda k: replicate_trajectory(static, hyper, k))(keys)


@lru_cache(maxsize=128)
def compiled_runner(static: Static):
    """A jitted function ``(replicate_keys, hyper) -> (means, covs)`` for this shape."""
    return jax.jit(lambda keys, hyper: batch_trajectories(static, keys, hyper))


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
